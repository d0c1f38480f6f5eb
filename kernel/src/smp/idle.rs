//! Idle waiting, the one place a core waits for something: spin briefly with `pause`
//! (work often arrives within a few hundred cycles during a batch), then halt until
//! an IPI or the watchdog timer. The work loop and `group_wait` use it; a future
//! "wait for events" call reuses it with its own [`WaitReason`].
//!
//! Halting rather than spinning matters most on an oversubscribed host: a vCPU that
//! spins keeps the host core from the vCPU that holds the work.

use ingot_smp::{Sleepers, WaitReason};

/// `pause` rounds before halting: about a microsecond on current CPUs, well under the
/// cost of a halt and its wake-up IPI.
const SPIN_ROUNDS: u32 = 16;
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

/// Spins up to [`SPIN_ROUNDS`] for `ready()`; whether it came. A core that takes queued
/// work counts as spinning meanwhile, so that submitters leave new work to it rather
/// than waking a halted core with an IPI.
fn spin(reason: WaitReason, ready: &impl Fn() -> bool) -> bool {
    let counted = reason.takes_queued_work();
    if counted {
        SLEEPERS.start_spinning();
    }
    let mut came = false;
    for _ in 0..SPIN_ROUNDS {
        if ready() {
            came = true;
            break;
        }
        core::hint::spin_loop();
    }
    if counted {
        SLEEPERS.stop_spinning();
    }
    came
}
