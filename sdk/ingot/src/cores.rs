//! Cores, the shared work queue, completion groups, per-core assignments and time.

use ingot_abi::{CoreStats, Error, TaskEntry};

use crate::calls::decode;
use crate::start::api;

/// Index of the calling core (0 = bootstrap core).
pub fn core_id() -> u64 {
    (api().core_id)() as u64
}

/// Number of running cores.
pub fn core_count() -> u64 {
    (api().core_count)() as u64
}

/// Monotonic nanoseconds since boot.
pub fn time_ns() -> u64 {
    (api().time_ns)() as u64
}

/// The calling core's time-stamp counter (`rdtsc`), for cycle-level measurements.
/// Not serialising: it may be read a few instructions early or late.
pub fn read_tsc() -> u64 {
    // SAFETY: `rdtsc` only reads the time-stamp counter; Ingot runs programs in ring 0,
    // where it is always allowed (CR4.TSD does not matter), and every x86-64 CPU has it.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Busy-waits up to one second.
pub fn delay_us(microseconds: u64) -> Result<(), Error> {
    decode((api().delay_us)(microseconds)).map(|_| ())
}

/// Queued tasks [`Group::submit_or_help`] runs on a full queue before it tries again.
const HELP_BATCH: usize = 32;

/// A completion group: submit tasks into it, then wait for all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group(u64);

impl Group {
    /// Creates a group.
    pub fn new() -> Result<Self, Error> {
        decode((api().group_create)()).map(Group)
    }

    /// Queues `entry(argument)` in this group; `Err(WouldBlock)` if the queue is full.
    pub fn submit(&self, entry: TaskEntry, argument: u64) -> Result<(), Error> {
        decode((api().task_submit)(entry, argument, self.0)).map(|_| ())
    }

    /// Queues the task, running queued tasks on this core while the queue is full.
    pub fn submit_or_help(&self, entry: TaskEntry, argument: u64) -> Result<(), Error> {
        loop {
            match self.submit(entry, argument) {
                Err(Error::WouldBlock) => {
                    // Run a batch before trying again: a full queue stays full after
                    // one task, and each refused submit is a kernel call for nothing.
                    for _ in 0..HELP_BATCH {
                        if !run_one() {
                            break;
                        }
                    }
                }
                other => return other,
            }
        }
    }

    /// Waits until every task of the group finished (this core runs queued tasks meanwhile).
    pub fn wait(&self) -> Result<(), Error> {
        decode((api().group_wait)(self.0)).map(|_| ())
    }

    /// The group's id as the kernel calls it, to share with tasks (e.g. in a static).
    pub fn raw(&self) -> u64 {
        self.0
    }

    /// The group with id `raw` (from [`Group::raw`]); the kernel checks it on use.
    pub fn from_raw(raw: u64) -> Self {
        Group(raw)
    }

    /// Frees the group (all its tasks must have finished).
    pub fn release(self) -> Result<(), Error> {
        decode((api().group_release)(self.0)).map(|_| ())
    }
}

/// Queues `entry(argument)` without a group.
pub fn submit(entry: TaskEntry, argument: u64) -> Result<(), Error> {
    decode((api().task_submit)(entry, argument, 0)).map(|_| ())
}

/// Runs one queued task on this core; whether there was one.
pub fn run_one() -> bool {
    (api().task_run_one)() == 1
}

/// Counters of core `core`.
pub fn core_stats(core: u64) -> Result<CoreStats, Error> {
    let mut stats = CoreStats::default();
    decode((api().core_stats)(core, &mut stats))?;
    Ok(stats)
}

/// Runs `entry(argument)` once on core `core` (BareMetal's `SMP_SET`).
pub fn run_on_core(core: u64, entry: TaskEntry, argument: u64) -> Result<(), Error> {
    decode((api().run_on_core)(core, entry, argument)).map(|_| ())
}

/// Whether another core has assigned code pending or running (BareMetal's `SMP_BUSY`).
pub fn cores_busy() -> bool {
    (api().cores_busy)() == 1
}

/// Reboots the machine.
pub fn reboot() -> ! {
    (api().reboot)();
    unreachable!("reboot returned")
}

/// Powers the machine off.
pub fn shutdown() -> ! {
    (api().shutdown)();
    unreachable!("shutdown returned")
}
