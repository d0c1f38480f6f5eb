//! The per-core work loop, submitting work, waking sleeping cores, waiting for groups.

use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};

use ingot_arch::apic::Ipi;
use ingot_arch::interrupts::WAKE_VECTOR;
use ingot_smp::{
    CoreSlots, CoreStats, GroupError, GroupId, Groups, MAX_CORES, SubmitError, Task, WorkQueue,
};
use spin::Once;

/// Most tasks that can wait in the queue at once (fewer on small machines: each waiting
/// task takes 32 bytes of kernel heap, 1/32 of the heap at most).
pub const MAX_QUEUE_CAPACITY: usize = 4096;
const MIN_QUEUE_CAPACITY: usize = 64;
/// Longest a sleeping core stays asleep without a wake-up IPI.
const SLEEP_WATCHDOG_MS: u32 = 10;

/// Everything but the queue is a constant-initialised static: built at run time, these
/// tables (about 14 KiB) were assembled on the boot stack and overflowed it.
struct Shared {
    queue: Once<WorkQueue>,
    groups: Groups,
    slots: CoreSlots,
    stats: [CoreStats; MAX_CORES],
    sleeping: [AtomicBool; MAX_CORES],
}

impl Shared {
    fn queue(&self) -> &WorkQueue {
        self.queue.call_once(|| WorkQueue::new(queue_capacity()))
    }
}

static SHARED: Shared = Shared {
    queue: Once::new(),
    groups: Groups::new(),
    slots: CoreSlots::new(),
    stats: [const { CoreStats::new() }; MAX_CORES],
    sleeping: [const { AtomicBool::new(false) }; MAX_CORES],
};
/// Set once the bootstrap core has recorded every core: until then started cores
/// only wait, so no core runs work before the core table is complete.
static CORES_RELEASED: AtomicBool = AtomicBool::new(false);
/// Where the next search for a sleeping core starts.
static NEXT_TO_WAKE: AtomicUsize = AtomicUsize::new(0);

fn shared() -> &'static Shared {
    &SHARED
}

fn queue_capacity() -> usize {
    let heap_bytes = crate::memory::heap_bytes(crate::usable_ram_bytes()) as usize;
    (heap_bytes / 32 / 32).clamp(MIN_QUEUE_CAPACITY, MAX_QUEUE_CAPACITY)
}

/// Creates the shared state (the queue's slots come from the kernel heap).
pub fn init() {
    shared().queue();
}

/// Records that core `index` runs its loop.
pub fn mark_online(index: usize) {
    shared().slots.set_online(index);
}

/// Spins until core `index` has reported online (it does so right after start-up).
pub fn wait_until_online(index: usize) {
    let start = crate::time::now_ns();
    while !shared().slots.is_online(index) && crate::time::now_ns() - start < 1_000_000_000 {
        core::hint::spin_loop();
    }
}

/// Lets the started cores begin taking work.
pub fn release_cores() {
    CORES_RELEASED.store(true, Ordering::Release);
}

/// Completion groups.
pub fn groups() -> &'static Groups {
    &shared().groups
}

/// Per-core assignment slots.
pub fn slots() -> &'static CoreSlots {
    &shared().slots
}

/// Counters of core `index`.
pub fn stats(index: usize) -> Option<&'static CoreStats> {
    shared().stats.get(index)
}

/// Queues a task and wakes one sleeping core for it.
pub fn submit(task: Task) -> Result<(), SubmitError> {
    shared().queue().submit(task, &shared().groups)?;
    wake_one();
    Ok(())
}

/// Gives core `index` code to run once and wakes it.
pub fn assign(index: usize, entry: u64, argument: u64) -> Result<(), ingot_smp::SlotError> {
    shared().slots.assign(index, entry, argument)?;
    fence(Ordering::SeqCst);
    wake(index);
    Ok(())
}

fn wake(index: usize) {
    if let (Some(apic), Some(apic_id)) = (super::local_apic(), super::apic_id_of(index))
        && index != super::current_core()
    {
        apic.send(apic_id, Ipi::Fixed { vector: WAKE_VECTOR });
    }
}

fn wake_one() {
    fence(Ordering::SeqCst);
    let me = super::current_core();
    let count = super::core_count();
    // Start where the last search stopped, so every sleeping core gets its turn instead
    // of the lowest-numbered ones taking all the work.
    let start = NEXT_TO_WAKE.fetch_add(1, Ordering::Relaxed);
    for offset in 0..count {
        let index = (start + offset) % count;
        if index != me && shared().sleeping[index].swap(false, Ordering::AcqRel) {
            wake(index);
            return;
        }
    }
}

/// Runs one queued task on the calling core, if there is one. Returns whether it did.
pub fn run_one() -> bool {
    let Some(task) = shared().queue().take() else { return false };
    run_task(task);
    true
}

fn run_task(task: Task) {
    let start = crate::time::now_ns();
    crate::program::run_task(task.entry, task.argument);
    if let Some(stats) = stats(super::current_core()) {
        stats.record(crate::time::now_ns().saturating_sub(start));
    }
    if let Some(group) = task.group {
        let _ = shared().groups.complete(group);
    }
}

/// Waits until every task of `group` has finished, running queued tasks meanwhile (so
/// a task waiting for its own sub-tasks never deadlocks the machine).
pub fn wait(group: GroupId) -> Result<(), GroupError> {
    loop {
        if shared().groups.pending(group)? == 0 {
            return Ok(());
        }
        if !run_one() {
            core::hint::spin_loop();
        }
    }
}

/// The loop every application core runs.
pub fn run_forever(index: usize) -> ! {
    while !CORES_RELEASED.load(Ordering::Acquire) {
        core::hint::spin_loop();
    }
    let shared = shared();
    loop {
        if let Some((entry, argument)) = shared.slots.take(index) {
            let start = crate::time::now_ns();
            crate::program::run_task(entry, argument);
            shared.stats[index].record(crate::time::now_ns().saturating_sub(start));
            shared.slots.finish(index);
            continue;
        }
        if run_one() {
            continue;
        }
        crate::compat::poll_callbacks();
        shared.sleeping[index].store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if shared.queue().is_empty() && !shared.slots.is_busy(index) {
            // The timer bounds the sleep: should a wake-up IPI ever be lost, queued
            // work waits at most one watchdog period instead of forever.
            super::arm_timer(SLEEP_WATCHDOG_MS);
            ingot_arch::interrupts::sleep_until_interrupt();
            super::arm_timer(0);
        }
        shared.sleeping[index].store(false, Ordering::SeqCst);
    }
}
