//! The program's wait: halt the calling core until one of a set of events or a
//! deadline, with a one-shot timer for the deadline (the local APIC's TSC-deadline
//! mode when CPUID offers it, else its one-shot count-down) and no periodic tick.
//!
//! The handshake with the handlers is `ingot_events`' (announce, take, halt only if
//! nothing was taken). A source without an interrupt (a driver that has none, a line
//! that could not be routed) cannot wake the core: its bits make the wait end every
//! [`POLL_NS`] so the program polls that device, as it would without the wait.

use core::sync::atomic::{AtomicU64, Ordering};
use ingot_abi::events::{ALL, NO_DEADLINE, TIMER};
use ingot_abi::{Error, Status};
use ingot_arch::interrupts::TIMER_VECTOR;

use spin::Once;

use super::{EVENTS, HALTED};

/// How often a wait for a source without an interrupt ends to let it be polled.
pub const POLL_NS: u64 = 1_000_000;

/// Longest one halt of a driver's blocking wait lasts before the driver polls again.
/// Under QEMU 7.2's NVMe a few completions raised no MSI-X message (in `disk-test`,
/// each such wait then lasted until the command timeout, 18 s in all instead of 2 s;
/// the cause is not found yet); this bounds what a missed interrupt costs.
const DRIVER_HALT_NS: u64 = 1_000_000;

static TSC_DEADLINE: Once<bool> = Once::new();

fn has_tsc_deadline() -> bool {
    *TSC_DEADLINE.call_once(|| {
        raw_cpuid::CpuId::new().get_feature_info().is_some_and(|info| info.has_tsc_deadline())
    })
}

/// Arms the calling core's timer to interrupt at `deadline_ns` (`time::now_ns`).
fn arm(deadline_ns: u64) {
    let Some(apic) = crate::smp::local_apic() else { return };
    if has_tsc_deadline() {
        let ticks = u128::from(deadline_ns) * u128::from(crate::time::tsc_hz()) / 1_000_000_000;
        apic.arm_tsc_deadline(u64::try_from(ticks + 1).unwrap_or(u64::MAX), TIMER_VECTOR);
    } else {
        let per_ms = u128::from(crate::smp::apic_ticks_per_ms());
        let left = u128::from(deadline_ns.saturating_sub(crate::time::now_ns()));
        // A deadline past the counter's range ends the halt early; the loop re-arms.
        let ticks = (left * per_ms / 1_000_000).clamp(1, u128::from(u32::MAX)) as u32;
        apic.start_one_shot(ticks, Some(TIMER_VECTOR));
    }
}

fn disarm() {
    let Some(apic) = crate::smp::local_apic() else { return };
    if has_tsc_deadline() {
        apic.disarm_tsc_deadline();
    } else {
        apic.start_one_shot(0, None);
    }
}

/// Waits on core `core` for `wanted` (event bits without [`TIMER`]) or `deadline_ns`;
/// returns the events taken, [`TIMER`] when the deadline came first, or the polled
/// sources' bits when their poll is due.
pub fn wait(core: usize, wanted: u64, deadline_ns: u64) -> u64 {
    let polled = wanted & !super::interrupt_events();
    let poll_due =
        if polled != 0 { crate::time::now_ns().saturating_add(POLL_NS) } else { NO_DEADLINE };
    loop {
        EVENTS.begin_wait(core, wanted);
        super::unmask_level_lines(wanted);
        let got = EVENTS.take(wanted);
        let now = crate::time::now_ns();
        let result = if got != 0 {
            Some(got)
        } else if now >= deadline_ns {
            Some(TIMER)
        } else if now >= poll_due {
            Some(polled)
        } else {
            None
        };
        if let Some(result) = result {
            EVENTS.end_wait(core);
            return result;
        }
        let wake_at = deadline_ns.min(poll_due);
        if wake_at != NO_DEADLINE {
            arm(wake_at);
        }
        super::halt(core);
        if wake_at != NO_DEADLINE {
            disarm();
        }
        EVENTS.end_wait(core);
    }
}

/// A driver's clock that halts the core between polls once its device interrupts
/// ([`InterruptClock::set_events`] after the vector is programmed; until then, or
/// before the local APIC is up, it spins like the plain kernel clock). The driver
/// polls its completion again after every return, so an interrupt that came before
/// the halt (its event still pending) only ends the halt at once. Copies share the
/// setting (an NVMe controller's namespaces each hold one).
#[derive(Debug, Clone, Copy)]
pub struct InterruptClock {
    events: &'static AtomicU64,
}

impl InterruptClock {
    /// A clock that spins until [`Self::set_events`] (one word leaked per device).
    pub fn new() -> Self {
        Self { events: alloc::boxed::Box::leak(alloc::boxed::Box::new(AtomicU64::new(0))) }
    }

    /// The device's completions raise `events` from now on.
    pub fn set_events(&self, events: u64) {
        self.events.store(events, Ordering::Release);
    }
}

impl Default for InterruptClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ingot_hal::Clock for InterruptClock {
    fn now_ns(&self) -> u64 {
        crate::time::now_ns()
    }

    fn idle(&self, until_ns: u64) {
        pause_for_events(self.events.load(Ordering::Acquire), until_ns);
    }
}

/// Between two polls of a disk lane's completions, which raise `events`, as a
/// driver's clock does (an interrupt that came before the halt left its event
/// pending, so the halt then ends at once and the caller polls again).
pub fn pause_for_disk(events: u64) {
    pause_for_events(events, u64::MAX);
}

/// One pause of a driver-level wait for `events`, on any core: halts until an
/// interrupt, `until_ns` or [`DRIVER_HALT_NS`] from now, when all of `events`
/// interrupt and their interrupt reaches this core (`aim::reaches`, which re-aims
/// a single-queue device's MSI-X entry at the waiting core); otherwise (no events,
/// a source that is polled or stays on the bootstrap core, no local APIC yet)
/// spins once. It returns after any wake-up, whether or not this core took the
/// event: several cores may wait for one disk's event (its lanes), the handler
/// wakes the other waiters with an IPI, and each polls its own lane. Disk
/// interrupts are MSI or MSI-X messages, never level-triggered lines, so unlike
/// [`wait`] it has no line to unmask.
fn pause_for_events(events: u64, until_ns: u64) {
    let core = crate::smp::current_core();
    if events == 0
        || super::interrupt_events() & events != events
        || crate::smp::local_apic().is_none()
        || !super::aim::reaches(events, core)
    {
        core::hint::spin_loop();
        return;
    }
    EVENTS.begin_wait(core, events);
    if EVENTS.take(events) == 0 {
        let now = crate::time::now_ns();
        let wake_at = until_ns.min(now.saturating_add(DRIVER_HALT_NS));
        if now < wake_at {
            arm(wake_at);
            super::halt(core);
            disarm();
        }
    }
    EVENTS.end_wait(core);
}

/// `ApiTable::wait_events`.
pub extern "sysv64" fn wait_events(events: u64, deadline_ns: u64) -> Status {
    let wanted = events & !TIMER;
    if events & !ALL != 0 || (wanted == 0 && deadline_ns == NO_DEADLINE) {
        return Error::InvalidArgument.status();
    }
    let core = crate::smp::current_core();
    if wanted != 0 && core != 0 {
        return Error::InvalidArgument.status();
    }
    wait(core, wanted, deadline_ns) as Status
}

/// `ApiTable::interrupt_events`.
pub extern "sysv64" fn interrupt_events() -> Status {
    (super::interrupt_events() & ALL) as Status
}

/// `ApiTable::core_halted_ns`.
pub extern "sysv64" fn core_halted_ns(core: u64) -> Status {
    match usize::try_from(core) {
        Ok(index) if index < crate::smp::core_count() => {
            crate::time::ticks_to_ns(HALTED.ticks_at(index, ingot_arch::msr::read_tsc())) as Status
        }
        _ => Error::NotFound.status(),
    }
}
