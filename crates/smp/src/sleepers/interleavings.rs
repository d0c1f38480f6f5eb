//! Every interleaving, step by step, of one submitter and two idle cores going through
//! the spin, announce, re-check, halt and withdraw of the kernel's idle wait: in none
//! may a core stay halted while the task it waits for is queued, and the task runs
//! exactly once. As in the kernel, only one of the idle cores may spin: the other,
//! refused, goes straight to the announce. Each step is one call into [`Sleepers`] or [`WorkQueue`]; schedules
//! are replayed from a fresh state, so the real code runs in every order.

use super::{Sleepers, WaitReason};
use crate::{Groups, Task, WorkQueue};

/// Steps of an idle core: spin start (or, refused, straight to the announce), one
/// check, spin end, announce, re-check, halt, withdraw and take.
const CORE_STEPS: usize = 7;
/// Steps of the submitter: push, then claim a core to wake.
const SUBMIT_STEPS: usize = 2;
const CORES: usize = 3; // core 0 submits, 1 and 2 idle

#[derive(Default, Clone, Copy)]
struct Core {
    step: usize,
    spun: bool,
    found: bool,
    halted: bool,
    ipi: bool,
    ran: usize,
}

struct World {
    queue: WorkQueue,
    groups: Groups,
    sleepers: Sleepers,
    cores: [Core; CORES],
    submit_step: usize,
}

impl World {
    fn new() -> Self {
        Self {
            queue: WorkQueue::new(4),
            groups: Groups::new(),
            sleepers: Sleepers::new(),
            cores: [Core::default(); CORES],
            submit_step: 0,
        }
    }

    fn done(&self, thread: usize) -> bool {
        match thread {
            0 => self.submit_step == SUBMIT_STEPS,
            core => self.cores[core].step == CORE_STEPS,
        }
    }

    /// Whether `thread` can take a step (a halted core waits for its IPI).
    fn runnable(&self, thread: usize) -> bool {
        !self.done(thread) && (thread == 0 || !self.cores[thread].halted || self.cores[thread].ipi)
    }

    fn step(&mut self, thread: usize) {
        if thread == 0 {
            match self.submit_step {
                0 => self
                    .queue
                    .submit(Task { entry: 1, argument: 0, group: None, program: 0 }, &self.groups)
                    .unwrap(),
                _ => {
                    if let Some(core) = self.sleepers.claim_any(0, CORES) {
                        self.cores[core].ipi = true;
                    }
                }
            }
            self.submit_step += 1;
            return;
        }
        let mut core = self.cores[thread];
        match core.step {
            0 => {
                core.spun = self.sleepers.try_start_spinning();
                if !core.spun {
                    core.step = 3; // straight to the announce
                    self.cores[thread] = core;
                    return;
                }
            }
            1 => core.found = !self.queue.is_empty(),
            2 => {
                self.sleepers.stop_spinning();
                if core.found {
                    core.step = CORE_STEPS - 1; // straight to the take
                    self.cores[thread] = core;
                    return;
                }
            }
            3 => self.sleepers.announce(thread, WaitReason::Work),
            4 => core.halted = self.queue.is_empty(),
            5 => {
                if core.halted {
                    core.halted = false;
                    core.ipi = false;
                }
            }
            _ => {
                if !core.found {
                    self.sleepers.withdraw(thread);
                }
                if self.queue.take().is_some() {
                    core.ran += 1;
                }
            }
        }
        core.step += 1;
        self.cores[thread] = core;
    }
}

/// Replays `schedule` (thread numbers) from a fresh world; `None` if a step in it was
/// not runnable.
fn replay(schedule: &[usize]) -> Option<World> {
    let mut world = World::new();
    for &thread in schedule {
        if !world.runnable(thread) {
            return None;
        }
        world.step(thread);
    }
    Some(world)
}

#[test]
fn no_interleaving_leaves_a_core_halted_beside_queued_work() {
    let mut schedule = Vec::new();
    let mut explored = 0u64;
    explore(&mut schedule, &mut explored);
    assert!(explored > 10_000, "only {explored} schedules explored");
}

fn explore(schedule: &mut Vec<usize>, explored: &mut u64) {
    let world = replay(schedule).expect("schedules are built from runnable steps");
    let runnable: Vec<usize> = (0..CORES).filter(|&t| world.runnable(t)).collect();
    if runnable.is_empty() {
        *explored += 1;
        check_end(&world, schedule);
        return;
    }
    for thread in runnable {
        schedule.push(thread);
        explore(schedule, explored);
        schedule.pop();
    }
}

fn check_end(world: &World, schedule: &[usize]) {
    let stuck: Vec<usize> = (1..CORES).filter(|&core| !world.done(core)).collect();
    let ran: usize = world.cores.iter().map(|core| core.ran).sum();
    // A core still halted is fine only if the task was taken by the other core.
    assert!(
        stuck.is_empty() || ran == 1,
        "lost wake-up: cores {stuck:?} halted with the task queued; schedule {schedule:?}"
    );
    if stuck.is_empty() {
        assert_eq!(ran, 1, "task ran {ran} times; schedule {schedule:?}");
        assert_eq!(world.sleepers.count.0.load(core::sync::atomic::Ordering::Relaxed), 0);
    }
}
