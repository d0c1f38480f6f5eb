//! Cores, the shared work queue, completion groups, per-core assignments and time.

use core::sync::atomic::AtomicU64;

use ingot_abi::{ApiTable, CoreStats, Error, TaskEntry};

use crate::calls::decode;
use crate::start::api;

/// Index of the calling core (0 = bootstrap core).
///
/// # Example
///
/// ```ignore
/// let (me, cores) = (ingot_sdk::cores::core_id(), ingot_sdk::cores::core_count());
/// ingot_sdk::println!("core {me} of {cores}");
/// ```
pub fn core_id() -> u64 {
    (api().core_id)() as u64
}

/// Number of running cores.
///
/// # Example
///
/// ```ignore
/// let (me, cores) = (ingot_sdk::cores::core_id(), ingot_sdk::cores::core_count());
/// ingot_sdk::println!("core {me} of {cores}");
/// ```
pub fn core_count() -> u64 {
    (api().core_count)() as u64
}

/// Monotonic nanoseconds since boot.
///
/// # Example
///
/// ```ignore
/// let start = ingot_sdk::cores::time_ns();
/// ingot_sdk::cores::delay_us(1000)?;
/// let elapsed = ingot_sdk::cores::time_ns() - start;
/// ingot_sdk::println!("1 ms delay took >= 1 ms: {}", elapsed >= 1_000_000);
/// ```
pub fn time_ns() -> u64 {
    (api().time_ns)() as u64
}

/// The calling core's time-stamp counter (`rdtsc`), for cycle-level measurements.
/// Not serialising: it may be read a few instructions early or late.
///
/// # Example
///
/// ```ignore
/// let before = ingot_sdk::cores::read_tsc();
/// let cycles = ingot_sdk::cores::read_tsc() - before;
/// ingot_sdk::println!("two rdtsc {} cycles apart", cycles);
/// ```
pub fn read_tsc() -> u64 {
    // SAFETY: `rdtsc` only reads the time-stamp counter; Ingot runs programs in ring 0,
    // where it is always allowed (CR4.TSD does not matter), and every x86-64 CPU has it.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Busy-waits up to one second.
///
/// # Example
///
/// ```ignore
/// let start = ingot_sdk::cores::time_ns();
/// ingot_sdk::cores::delay_us(1000)?;
/// let elapsed = ingot_sdk::cores::time_ns() - start;
/// ingot_sdk::println!("1 ms delay took >= 1 ms: {}", elapsed >= 1_000_000);
/// ```
pub fn delay_us(microseconds: u64) -> Result<(), Error> {
    decode((api().delay_us)(microseconds)).map(|_| ())
}

/// Queued tasks [`Group::submit_or_help`] runs on a full queue before it tries again.
const HELP_BATCH: u64 = 32;

/// A completion group: submit tasks into it, then wait for all of them.
///
/// # Example
///
/// ```ignore
/// static SUM: AtomicU64 = AtomicU64::new(0);
///
/// extern "sysv64" fn add(value: u64) {
///     SUM.fetch_add(value, Ordering::Relaxed);
/// }
///
/// fn tasks() -> Result<(), Error> {
///     let group = Group::new()?;
///     for value in 1..=10 {
///         group.submit_or_help(add, value)?;
///     }
///     group.wait()?;
///     group.release()?;
///     ingot_sdk::println!("tasks summed {}", SUM.load(Ordering::Relaxed));
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group(u64);

impl Group {
    /// Creates a group.
    ///
    /// # Example
    ///
    /// ```ignore
    /// static SUM: AtomicU64 = AtomicU64::new(0);
    ///
    /// extern "sysv64" fn add(value: u64) {
    ///     SUM.fetch_add(value, Ordering::Relaxed);
    /// }
    ///
    /// fn tasks() -> Result<(), Error> {
    ///     let group = Group::new()?;
    ///     for value in 1..=10 {
    ///         group.submit_or_help(add, value)?;
    ///     }
    ///     group.wait()?;
    ///     group.release()?;
    ///     ingot_sdk::println!("tasks summed {}", SUM.load(Ordering::Relaxed));
    ///     Ok(())
    /// }
    /// ```
    pub fn new() -> Result<Self, Error> {
        decode((api().group_create)()).map(Group)
    }

    /// Queues `entry(argument)` in this group; `Err(WouldBlock)` if the queue is full.
    ///
    /// # Example
    ///
    /// ```ignore
    /// static GROUP: AtomicU64 = AtomicU64::new(0);
    /// static DONE: AtomicU64 = AtomicU64::new(0);
    ///
    /// extern "sysv64" fn child(_: u64) {
    ///     DONE.fetch_add(1, Ordering::Relaxed);
    /// }
    ///
    /// extern "sysv64" fn parent(_: u64) {
    ///     // A task adds work to the group its creator waits for.
    ///     let group = ingot_sdk::cores::Group::from_raw(GROUP.load(Ordering::Relaxed));
    ///     let _ = group.submit(child, 0);
    /// }
    ///
    /// fn cores() -> Result<(), Error> {
    ///     let group = Group::new()?;
    ///     GROUP.store(group.raw(), Ordering::Relaxed);
    ///     group.submit(parent, 0)?;
    ///     group.wait()?;
    ///     group.release()?;
    ///     ingot_sdk::println!("the task's own task ran: {}", DONE.load(Ordering::Relaxed) == 1);
    ///     Ok(())
    /// }
    /// ```
    pub fn submit(&self, entry: TaskEntry, argument: u64) -> Result<(), Error> {
        decode((api().task_submit)(entry, argument, self.0)).map(|_| ())
    }

    /// Queues the task, running queued tasks on this core while the queue is full.
    ///
    /// # Example
    ///
    /// ```ignore
    /// static SUM: AtomicU64 = AtomicU64::new(0);
    ///
    /// extern "sysv64" fn add(value: u64) {
    ///     SUM.fetch_add(value, Ordering::Relaxed);
    /// }
    ///
    /// fn tasks() -> Result<(), Error> {
    ///     let group = Group::new()?;
    ///     for value in 1..=10 {
    ///         group.submit_or_help(add, value)?;
    ///     }
    ///     group.wait()?;
    ///     group.release()?;
    ///     ingot_sdk::println!("tasks summed {}", SUM.load(Ordering::Relaxed));
    ///     Ok(())
    /// }
    /// ```
    pub fn submit_or_help(&self, entry: TaskEntry, argument: u64) -> Result<(), Error> {
        // The status is compared as it comes (0: queued) rather than decoded first: this
        // runs once per task.
        loop {
            match (api().task_submit)(entry, argument, self.0) {
                0 => return Ok(()),
                status if status == Error::WouldBlock.status() => {
                    // Run a batch before trying again: a full queue stays full after
                    // one task, and each refused submit is a kernel call for nothing.
                    run_some(HELP_BATCH);
                }
                status => return decode(status).map(|_| ()),
            }
        }
    }

    /// Waits until every task of the group finished (this core runs queued tasks meanwhile).
    ///
    /// # Example
    ///
    /// ```ignore
    /// static SUM: AtomicU64 = AtomicU64::new(0);
    ///
    /// extern "sysv64" fn add(value: u64) {
    ///     SUM.fetch_add(value, Ordering::Relaxed);
    /// }
    ///
    /// fn tasks() -> Result<(), Error> {
    ///     let group = Group::new()?;
    ///     for value in 1..=10 {
    ///         group.submit_or_help(add, value)?;
    ///     }
    ///     group.wait()?;
    ///     group.release()?;
    ///     ingot_sdk::println!("tasks summed {}", SUM.load(Ordering::Relaxed));
    ///     Ok(())
    /// }
    /// ```
    pub fn wait(&self) -> Result<(), Error> {
        decode((api().group_wait)(self.0)).map(|_| ())
    }

    /// The group's id as the kernel calls it, to share with tasks (e.g. in a static).
    ///
    /// # Example
    ///
    /// ```ignore
    /// static GROUP: AtomicU64 = AtomicU64::new(0);
    /// static DONE: AtomicU64 = AtomicU64::new(0);
    ///
    /// extern "sysv64" fn child(_: u64) {
    ///     DONE.fetch_add(1, Ordering::Relaxed);
    /// }
    ///
    /// extern "sysv64" fn parent(_: u64) {
    ///     // A task adds work to the group its creator waits for.
    ///     let group = ingot_sdk::cores::Group::from_raw(GROUP.load(Ordering::Relaxed));
    ///     let _ = group.submit(child, 0);
    /// }
    ///
    /// fn cores() -> Result<(), Error> {
    ///     let group = Group::new()?;
    ///     GROUP.store(group.raw(), Ordering::Relaxed);
    ///     group.submit(parent, 0)?;
    ///     group.wait()?;
    ///     group.release()?;
    ///     ingot_sdk::println!("the task's own task ran: {}", DONE.load(Ordering::Relaxed) == 1);
    ///     Ok(())
    /// }
    /// ```
    pub fn raw(&self) -> u64 {
        self.0
    }

    /// The group with id `raw` (from [`Group::raw`]); the kernel checks it on use.
    ///
    /// # Example
    ///
    /// ```ignore
    /// static GROUP: AtomicU64 = AtomicU64::new(0);
    /// static DONE: AtomicU64 = AtomicU64::new(0);
    ///
    /// extern "sysv64" fn child(_: u64) {
    ///     DONE.fetch_add(1, Ordering::Relaxed);
    /// }
    ///
    /// extern "sysv64" fn parent(_: u64) {
    ///     // A task adds work to the group its creator waits for.
    ///     let group = ingot_sdk::cores::Group::from_raw(GROUP.load(Ordering::Relaxed));
    ///     let _ = group.submit(child, 0);
    /// }
    ///
    /// fn cores() -> Result<(), Error> {
    ///     let group = Group::new()?;
    ///     GROUP.store(group.raw(), Ordering::Relaxed);
    ///     group.submit(parent, 0)?;
    ///     group.wait()?;
    ///     group.release()?;
    ///     ingot_sdk::println!("the task's own task ran: {}", DONE.load(Ordering::Relaxed) == 1);
    ///     Ok(())
    /// }
    /// ```
    pub fn from_raw(raw: u64) -> Self {
        Group(raw)
    }

    /// Frees the group (all its tasks must have finished).
    ///
    /// # Example
    ///
    /// ```ignore
    /// static SUM: AtomicU64 = AtomicU64::new(0);
    ///
    /// extern "sysv64" fn add(value: u64) {
    ///     SUM.fetch_add(value, Ordering::Relaxed);
    /// }
    ///
    /// fn tasks() -> Result<(), Error> {
    ///     let group = Group::new()?;
    ///     for value in 1..=10 {
    ///         group.submit_or_help(add, value)?;
    ///     }
    ///     group.wait()?;
    ///     group.release()?;
    ///     ingot_sdk::println!("tasks summed {}", SUM.load(Ordering::Relaxed));
    ///     Ok(())
    /// }
    /// ```
    pub fn release(self) -> Result<(), Error> {
        decode((api().group_release)(self.0)).map(|_| ())
    }
}

/// Queues `entry(argument)` without a group.
///
/// # Example
///
/// ```ignore
/// ingot_sdk::cores::submit(add, 5)?;
/// while ingot_sdk::cores::run_one() {}
/// ingot_sdk::cores::submit(add, 6)?;
/// let ran = ingot_sdk::cores::run_some(32);
/// ingot_sdk::println!("ran {ran} here (another core may have taken it)");
/// ```
pub fn submit(entry: TaskEntry, argument: u64) -> Result<(), Error> {
    decode((api().task_submit)(entry, argument, 0)).map(|_| ())
}

/// Runs one queued task on this core; whether there was one.
///
/// # Example
///
/// ```ignore
/// ingot_sdk::cores::submit(add, 5)?;
/// while ingot_sdk::cores::run_one() {}
/// ingot_sdk::cores::submit(add, 6)?;
/// let ran = ingot_sdk::cores::run_some(32);
/// ingot_sdk::println!("ran {ran} here (another core may have taken it)");
/// ```
pub fn run_one() -> bool {
    (api().task_run_one)() == 1
}

/// Runs up to `max` queued tasks on this core, in one kernel call; how many ran (fewer
/// when the queue ran empty). On a kernel older than API 1.5 it calls [`run_one`]
/// in a loop.
///
/// # Example
///
/// ```ignore
/// ingot_sdk::cores::submit(add, 5)?;
/// while ingot_sdk::cores::run_one() {}
/// ingot_sdk::cores::submit(add, 6)?;
/// let ran = ingot_sdk::cores::run_some(32);
/// ingot_sdk::println!("ran {ran} here (another core may have taken it)");
/// ```
pub fn run_some(max: u64) -> u64 {
    let table = api();
    if table.size as usize > core::mem::offset_of!(ApiTable, task_run_some) {
        return (table.task_run_some)(max).max(0) as u64;
    }
    let mut ran = 0;
    while ran < max && run_one() {
        ran += 1;
    }
    ran
}

/// Counters of core `core`.
///
/// # Example
///
/// ```ignore
/// let stats = ingot_sdk::cores::core_stats(0)?;
/// ingot_sdk::println!("core 0 ran {} tasks", stats.tasks_run);
/// ```
pub fn core_stats(core: u64) -> Result<CoreStats, Error> {
    let mut stats = CoreStats::default();
    decode((api().core_stats)(core, &mut stats))?;
    Ok(stats)
}

/// Runs `entry(argument)` once on core `core` (BareMetal's `SMP_SET`).
///
/// # Example
///
/// ```ignore
/// if ingot_sdk::cores::core_count() > 1 {
///     ingot_sdk::cores::run_on_core(1, add, 100)?;
///     while ingot_sdk::cores::cores_busy() {
///         core::hint::spin_loop();
///     }
/// }
/// ```
pub fn run_on_core(core: u64, entry: TaskEntry, argument: u64) -> Result<(), Error> {
    decode((api().run_on_core)(core, entry, argument)).map(|_| ())
}

/// Whether another core has assigned code pending or running (BareMetal's `SMP_BUSY`).
///
/// # Example
///
/// ```ignore
/// if ingot_sdk::cores::core_count() > 1 {
///     ingot_sdk::cores::run_on_core(1, add, 100)?;
///     while ingot_sdk::cores::cores_busy() {
///         core::hint::spin_loop();
///     }
/// }
/// ```
pub fn cores_busy() -> bool {
    (api().cores_busy)() == 1
}

/// Takes the lock word `lock` (0 free, 1 held; BareMetal's `SMP_LOCK`), spinning until
/// it is free. Any core may use it, tasks included.
///
/// # Example
///
/// ```ignore
/// static LOCK: AtomicU64 = AtomicU64::new(0);
/// ingot_sdk::cores::spin_lock(&LOCK)?;
/// // ... only one core at a time here ...
/// ingot_sdk::cores::spin_unlock(&LOCK)?;
/// ```
pub fn spin_lock(lock: &AtomicU64) -> Result<(), Error> {
    decode((api().spin_lock)(lock.as_ptr())).map(|_| ())
}

/// Releases the lock word `lock` taken with [`spin_lock`] (BareMetal's `SMP_UNLOCK`).
///
/// # Example
///
/// ```ignore
/// static LOCK: AtomicU64 = AtomicU64::new(0);
/// ingot_sdk::cores::spin_lock(&LOCK)?;
/// // ... only one core at a time here ...
/// ingot_sdk::cores::spin_unlock(&LOCK)?;
/// ```
pub fn spin_unlock(lock: &AtomicU64) -> Result<(), Error> {
    decode((api().spin_unlock)(lock.as_ptr())).map(|_| ())
}

/// Reboots the machine.
///
/// # Example
///
/// ```ignore
/// match ingot_sdk::args::get(1) {
///     Some("reboot") => ingot_sdk::cores::reboot(),
///     Some("off") => ingot_sdk::cores::shutdown(),
///     _ => {}
/// }
/// ```
pub fn reboot() -> ! {
    (api().reboot)();
    unreachable!("reboot returned")
}

/// Powers the machine off.
///
/// # Example
///
/// ```ignore
/// match ingot_sdk::args::get(1) {
///     Some("reboot") => ingot_sdk::cores::reboot(),
///     Some("off") => ingot_sdk::cores::shutdown(),
///     _ => {}
/// }
/// ```
pub fn shutdown() -> ! {
    (api().shutdown)();
    unreachable!("shutdown returned")
}
