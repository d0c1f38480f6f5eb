//! Idle waiting, the one place a core waits for something: spin briefly with `pause`
//! (work often arrives within microseconds during a batch), then halt until an IPI or
//! the watchdog timer. The work loop and `group_wait` use it; a future "wait for
//! events" call reuses it with its own [`WaitReason`].
//!
//! Halting rather than spinning matters most on an oversubscribed host: a vCPU that
//! spins keeps the host core from the vCPU that holds the work (under QEMU's TCG,
//! `pause` does not give the host thread away; only `hlt` does). So of the cores
//! idle in the work loop only one spins at a time, for a bounded time measured on the
//! TSC; it alone takes a stream of small tasks without IPIs, and the others halt
//! until a submit finds no core spinning or a core back from idling finds a backlog
//! worth sharing (see `worker.rs`).

use ingot_smp::{Sleepers, WaitReason};

/// How long an idle core spins before it halts (at least [`ROUNDS_PER_CLOCK_READ`]
/// rounds): a stream of submits arrives well within it. Longer spins (20 µs was
/// measured) gained nothing in wall clock, and when the host runs the spinning vCPU
/// on the same host core as the submitter every spinning microsecond is one the
/// submitter does not run.
const SPIN_US: u64 = 2;
/// `pause` rounds between two clock reads while spinning (under TCG every `rdtsc`
/// takes a lock that all vCPUs share).
const ROUNDS_PER_CLOCK_READ: u32 = 16;
/// Longest a halted core stays halted without a wake-up. The handshake in
/// `ingot_smp::Sleepers` loses no wake-up, so this only bounds the damage should an
/// IPI itself be lost; it is long so that an idle core has no tick to speak of (one
/// wake-up a second costs the host nothing measurable; every 10 ms, as before, was a
/// hundred).
const WATCHDOG_MS: u32 = 1000;

static SLEEPERS: Sleepers = Sleepers::new();

/// The sleeping cores' table, for wakers to claim cores from.
pub fn sleepers() -> &'static Sleepers {
    &SLEEPERS
}

/// Returns once `ready()` holds, or after an IPI or the watchdog woke the halted core
/// (the caller re-checks and calls again if it still has to wait).
pub fn wait(core: usize, reason: WaitReason, ready: impl Fn() -> bool) {
    if spin(reason, &ready) {
        return;
    }
    SLEEPERS.announce(core, reason);
    if !ready() {
        super::arm_timer(WATCHDOG_MS);
        crate::irq::halt(core);
        super::arm_timer(0);
    }
    SLEEPERS.withdraw(core);
}

/// Spins up to [`SPIN_US`] for `ready()`; whether it came. A core that takes queued
/// work counts as spinning meanwhile, so that submitters leave new work to it rather
/// than waking a halted core with an IPI; a core idle in the work loop spins only if
/// no other core does (one spinner takes new work as well as several), else it goes
/// straight to halting.
fn spin(reason: WaitReason, ready: &impl Fn() -> bool) -> bool {
    let counted = match reason {
        WaitReason::Work => {
            if !SLEEPERS.try_start_spinning() {
                return false;
            }
            true
        }
        reason => {
            if reason.takes_queued_work() {
                SLEEPERS.start_spinning();
            }
            reason.takes_queued_work()
        }
    };
    let budget = crate::time::tsc_hz() / 1_000_000 * SPIN_US;
    let start = ingot_arch::msr::read_tsc();
    let came = 'spin: loop {
        for _ in 0..ROUNDS_PER_CLOCK_READ {
            if ready() {
                break 'spin true;
            }
            core::hint::spin_loop();
        }
        if ingot_arch::msr::read_tsc().wrapping_sub(start) >= budget {
            break false;
        }
    };
    if counted {
        SLEEPERS.stop_spinning();
    }
    came
}
