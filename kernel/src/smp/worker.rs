//! The per-core work loop, submitting work, waking sleeping cores, waiting for groups.

use alloc::boxed::Box;
use core::sync::atomic::{AtomicBool, Ordering};

use ingot_arch::apic::Ipi;
use ingot_arch::interrupts::WAKE_VECTOR;
use ingot_smp::{
    CoreSlots, CoreStats, GroupError, GroupId, Groups, MAX_CORES, SubmitError, Task, WaitReason,
    WorkQueue,
};
use spin::Once;

use super::idle;

/// Most tasks that can wait in the queue at once (fewer on small machines: each waiting
/// task takes 32 bytes of kernel heap, 1/32 of the heap at most).
pub const MAX_QUEUE_CAPACITY: usize = 4096;
const MIN_QUEUE_CAPACITY: usize = 64;

/// Everything but the queue and the counters is a constant-initialised static: built
/// at run time, these tables (about 14 KiB) were assembled on the boot stack and
/// overflowed it. The counters, a cache line per core so that cores counting their
/// tasks never share a line, come from the heap once the number of cores is known.
struct Shared {
    queue: Once<WorkQueue>,
    groups: Groups,
    slots: CoreSlots,
    stats: Once<Box<[CoreStats]>>,
}

impl Shared {
    #[inline(always)]
    fn queue(&self) -> &WorkQueue {
        // `get` inlines to one load; `call_once` is an out-of-line call per use.
        match self.queue.get() {
            Some(queue) => queue,
            None => self.create_queue(),
        }
    }

    #[cold]
    fn create_queue(&self) -> &WorkQueue {
        self.queue.call_once(|| WorkQueue::new(queue_capacity()))
    }
}

static SHARED: Shared = Shared {
    queue: Once::new(),
    groups: Groups::new(),
    slots: CoreSlots::new(),
    stats: Once::new(),
};
/// Whether tasks are timed (two clock reads each): from the first `core_stats` call on.
static TIMING: AtomicBool = AtomicBool::new(false);
/// Set once the bootstrap core has recorded every core: until then started cores
/// only wait, so no core runs work before the core table is complete.
static CORES_RELEASED: AtomicBool = AtomicBool::new(false);
/// Per core: set while an application core may be running program code from its loop
/// (a queued task, a per-core assignment, a compatibility callback), from before it
/// looks for work until it goes back to waiting. Written only when that changes, so a
/// stream of tasks costs nothing here. `finish_program_tasks` reads it.
static IN_PROGRAM_CODE: [AtomicBool; MAX_CORES] = [const { AtomicBool::new(false) }; MAX_CORES];

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

/// Spins until core `index` has reported online (it does so right after start-up);
/// false if it has not within a second.
pub fn wait_until_online(index: usize) -> bool {
    let start = crate::time::now_ns();
    while !shared().slots.is_online(index) {
        if crate::time::now_ns() - start > 1_000_000_000 {
            return false;
        }
        core::hint::spin_loop();
    }
    true
}

/// Lets the started cores begin taking work (the core table is complete).
pub fn release_cores() {
    let cores = super::core_count().min(MAX_CORES);
    shared().stats.call_once(|| (0..cores).map(|_| CoreStats::new()).collect());
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
#[inline(always)]
pub fn stats(index: usize) -> Option<&'static CoreStats> {
    shared().stats.get()?.get(index)
}

/// Starts timing tasks for the cores' busy time (a program asked for the counters).
pub fn enable_timing() {
    TIMING.store(true, Ordering::Relaxed);
}

/// The clock now if tasks are timed, else 0.
#[inline(always)]
fn task_clock() -> u64 {
    if TIMING.load(Ordering::Relaxed) { ingot_arch::msr::read_tsc() } else { 0 }
}

/// Counts a finished task of core `core` that started at `task_clock()` `start`.
#[inline(always)]
fn count_task(core: usize, start: u64) {
    if let Some(stats) = stats(core) {
        let ticks = if start != 0 { ingot_arch::msr::read_tsc().wrapping_sub(start) } else { 0 };
        stats.record(ticks);
    }
}

/// Queues a task and wakes one sleeping core for it. With no core asleep this is the
/// queue's push, the group count and one read of the sleepers' count.
#[inline(always)]
pub fn submit(task: Task) -> Result<(), SubmitError> {
    // `init` made the queue before any program could submit.
    let Some(queue) = shared().queue.get() else { return Err(SubmitError::QueueFull) };
    queue.submit(task, &shared().groups)?;
    let cores = super::core_count();
    if cores > 1 {
        wake_for_submit(cores);
    }
    Ok(())
}

/// The submit's wake decision, out of line so the submit itself keeps few registers.
#[inline(never)]
fn wake_for_submit(cores: usize) {
    if let Some(core) = idle::sleepers().claim_any(super::current_core(), cores) {
        wake(core);
    }
}

/// Gives core `index` code to run once and wakes it (an IPI to a core that is not
/// halted stays pending and ends its next halt at once, so it is never lost).
pub fn assign(index: usize, entry: u64, argument: u64) -> Result<(), ingot_smp::SlotError> {
    shared().slots.assign(index, entry, argument)?;
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

/// Before the running program's memory is parked or its tag changes (`program_run`):
/// runs its queued tasks on the calling core and waits until no other core is running
/// program code from its loop, so none of its tasks is dropped or finds its code moved.
/// `Err` at once if a core still holds per-core work (`run_on_core`, `SMP_SET`), which may
/// never end. The queue is seen empty before the cores are looked at: a core that took
/// the last task had announced itself before its take, and once the queue is empty with
/// every other core out of program code, nothing is left that could submit more.
pub fn finish_program_tasks() -> Result<(), ()> {
    let here = super::current_core();
    let cores = super::core_count().min(MAX_CORES);
    let others = || (0..cores).filter(move |&core| core != here);
    loop {
        while run_one() {}
        if others().any(|core| shared().slots.is_busy(core)) {
            return Err(());
        }
        if shared().queue().is_empty()
            && others().all(|core| !IN_PROGRAM_CODE[core].load(Ordering::SeqCst))
        {
            return Ok(());
        }
        core::hint::spin_loop();
    }
}

/// Runs one queued task on the calling core, if there is one. Returns whether it did.
pub fn run_one() -> bool {
    run_next(None)
}

/// Runs queued tasks on the calling core until `max` ran or the queue is empty; how
/// many ran. One kernel call for a batch (a submitter helping while the queue is
/// full), with what stays the same from task to task (the queue, the core, its
/// counters) looked up once.
pub fn run_some(max: u64) -> u64 {
    run_batch(max, || true)
}

/// [`run_some`] that also stops before a task once `keep_going` says so (checked
/// before each task, as a loop of single runs would).
#[inline(always)]
fn run_batch(max: u64, keep_going: impl Fn() -> bool) -> u64 {
    let Some(here) = ingot_arch::percpu::this_core() else {
        // Never after boot (every core installs its block first); `run_task` says so
        // per task and still completes each.
        return (0..max).take_while(|_| keep_going() && run_next(None)).count() as u64;
    };
    // Timing switched on meanwhile applies from the next batch. One loop for each,
    // so the untimed one carries no clock reads or flag.
    crate::program::as_nested_tasks(here, || {
        if TIMING.load(Ordering::Relaxed) {
            run_batch_here::<true>(here, max, keep_going)
        } else {
            run_batch_here::<false>(here, max, keep_going)
        }
    })
}

#[inline(always)]
fn run_batch_here<const TIMED: bool>(
    here: ingot_arch::percpu::ThisCore,
    max: u64,
    keep_going: impl Fn() -> bool,
) -> u64 {
    let queue = shared().queue();
    let core = here.index() as usize;
    let stats = stats(core);
    let mut left = max;
    while left != 0 && keep_going() {
        let Some(task) = queue.take() else { break };
        let start = if TIMED { ingot_arch::msr::read_tsc() } else { 0 };
        crate::program::run_queued_task(here, task.entry, task.argument, task.program);
        if let Some(stats) = stats {
            stats.record(if TIMED { ingot_arch::msr::read_tsc().wrapping_sub(start) } else { 0 });
        }
        complete(task.group);
        left -= 1;
    }
    max - left
}

/// Queued tasks (beyond the one it took) that make a core back from idling wake
/// another to share them. A smaller backlog is drained by this core at once; waking
/// another for it costs an IPI and, on an oversubscribed host, a host thread that
/// competes with the submitter (4 vCPUs on 2 host cores were slower than 2).
const SHARE_BACKLOG: usize = 8;

/// Takes and runs one queued task. `idle_core` is the calling core when it comes back
/// from idling: when it got a task and at least [`SHARE_BACKLOG`] more are queued
/// while other cores sleep and none spins, it first wakes one to share them
/// (submitters leave work to spinning cores, so a burst would otherwise wait for this
/// one). One function for both, so that the take and the run stay inlined in it.
fn run_next(idle_core: Option<usize>) -> bool {
    let shared = shared();
    let Some(task) = shared.queue().take() else { return false };
    if let Some(core) = idle_core
        && let Some(other) = idle::sleepers()
            .claim_to_share(core, super::core_count(), || shared.queue().len() >= SHARE_BACKLOG)
    {
        wake(other);
    }
    run_task(task);
    true
}

fn run_task(task: Task) {
    let here = ingot_arch::percpu::this_core();
    let core = here.map_or(0, |here| here.index() as usize);
    let start = task_clock();
    match here {
        Some(here) => {
            crate::program::run_queued_task_alone(here, task.entry, task.argument, task.program)
        }
        None => crate::println!("ingot: task on a core without its block; not run"),
    }
    count_task(core, start);
    complete(task.group);
}

/// Counts a task of `group` as finished; the group's last wakes the cores halted
/// waiting for it.
#[inline(always)]
fn complete(group: Option<GroupId>) {
    if let Some(group) = group
        && shared().groups.complete(group) == Ok(0)
    {
        wake_group_waiters(group);
    }
}

/// Out of line: the run loop keeps fewer values live across the task call without it.
#[inline(never)]
fn wake_group_waiters(group: GroupId) {
    // `wake` leaves the calling core alone.
    idle::sleepers().claim_group_waiters(group, super::core_count(), wake);
}

/// Waits until every task of `group` has finished, running queued tasks meanwhile (so
/// a task waiting for its own sub-tasks never deadlocks the machine), and halting when
/// there is nothing to run until a task arrives or the group's last task finishes.
pub fn wait(group: GroupId) -> Result<(), GroupError> {
    let core = super::current_core();
    let shared = shared();
    let mut was_idle = false;
    loop {
        if shared.groups.pending(group)? == 0 {
            return Ok(());
        }
        // Back from idling, one task at a time (`run_next` may wake another core to
        // share); otherwise a batch, the group checked before each task.
        let ran = if was_idle {
            run_next(Some(core))
        } else {
            run_batch(
                u64::MAX,
                || matches!(shared.groups.pending(group), Ok(pending) if pending != 0),
            ) != 0
        };
        was_idle = !ran;
        if !ran {
            idle::wait(core, WaitReason::Group(group), || {
                // A group released meanwhile ends the wait too (the loop reports it).
                !matches!(shared.groups.pending(group), Ok(pending) if pending != 0)
                    || !shared.queue().is_empty()
            });
        }
    }
}

/// The loop every application core runs.
pub fn run_forever(index: usize) -> ! {
    while !CORES_RELEASED.load(Ordering::Acquire) {
        core::hint::spin_loop();
    }
    if index >= super::core_count() {
        // Reported in too late to be counted: park, halted, for good.
        loop {
            ingot_arch::interrupts::sleep_until_interrupt();
        }
    }
    let shared = shared();
    let mut was_idle = false;
    let in_program_code = &IN_PROGRAM_CODE[index.min(MAX_CORES - 1)];
    loop {
        // Seen by `finish_program_tasks` before this core can take a task (the store is
        // a full barrier, ahead of the queue's compare-and-swap).
        if !in_program_code.load(Ordering::Relaxed) {
            in_program_code.store(true, Ordering::SeqCst);
        }
        if let Some((entry, argument)) = shared.slots.take(index) {
            let start = task_clock();
            crate::program::run_task(entry, argument);
            count_task(index, start);
            shared.slots.finish(index);
            continue;
        }
        let ran = run_next(was_idle.then_some(index));
        was_idle = !ran;
        if ran {
            continue;
        }
        crate::compat::poll_callbacks();
        in_program_code.store(false, Ordering::Release);
        idle::wait(index, WaitReason::Work, || {
            !shared.queue().is_empty() || shared.slots.is_busy(index)
        });
    }
}
