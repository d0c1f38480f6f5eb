//! The sleep handshake: claims and withdrawals keep the count exact, and a stress run
//! of submit, take, group wait and halting (threads as cores, a condition variable as
//! `hlt` plus IPI, no watchdog) in which a lost wake-up shows as a halt that outlasts
//! its limit while its work is waiting.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use super::{Sleepers, WaitReason};
use crate::{Groups, Task, WorkQueue};

#[test]
fn nobody_asleep_means_no_claim() {
    let sleepers = Sleepers::new();
    assert_eq!(sleepers.claim_any(0, 4), None);
    let mut woken = Vec::new();
    let groups = Groups::new();
    let group = groups.create().unwrap();
    sleepers.claim_group_waiters(group, 4, |core| woken.push(core));
    assert!(woken.is_empty());
}

#[test]
fn claims_skip_the_caller_and_keep_the_count_exact() {
    let sleepers = Sleepers::new();
    sleepers.announce(0, WaitReason::Work);
    assert_eq!(sleepers.claim_any(0, 4), None, "a core never claims itself");
    sleepers.announce(2, WaitReason::Work);
    assert_eq!(sleepers.claim_any(0, 4), Some(2));
    assert!(!sleepers.is_asleep(2));
    sleepers.withdraw(2); // woken after the claim: must not count it twice
    sleepers.withdraw(0);
    assert_eq!(sleepers.count.0.load(Ordering::Relaxed), 0);
    assert_eq!(sleepers.claim_any(1, 4), None);
}

#[test]
fn a_spinning_core_takes_new_work_so_nobody_is_woken() {
    let sleepers = Sleepers::new();
    sleepers.announce(2, WaitReason::Work);
    sleepers.start_spinning();
    assert_eq!(sleepers.claim_any(0, 4), None, "core 1 spins and will take the task");
    assert!(sleepers.is_asleep(2));
    assert_eq!(sleepers.claim_to_share(1, 4, || true), None, "another core spins");
    sleepers.stop_spinning();
    assert_eq!(sleepers.claim_to_share(1, 4, || false), None, "nothing more is queued");
    assert_eq!(sleepers.claim_to_share(1, 4, || true), Some(2));
    assert_eq!(sleepers.claim_any(0, 4), None, "core 2 was claimed already");
    sleepers.announce(3, WaitReason::Work);
    assert_eq!(sleepers.claim_any(0, 4), Some(3), "nobody spins: the submitter wakes");
    assert_eq!(sleepers.count.0.load(Ordering::Relaxed), 0);
}

#[test]
fn only_one_core_spins_for_work_at_a_time() {
    let sleepers = Sleepers::new();
    assert!(sleepers.try_start_spinning());
    assert!(!sleepers.try_start_spinning(), "core 1 spins already");
    sleepers.announce(2, WaitReason::Work);
    assert_eq!(sleepers.claim_any(0, 4), None, "the one spinner takes the task");
    sleepers.stop_spinning();
    assert_eq!(sleepers.claim_any(0, 4), Some(2), "nobody spins: the submitter wakes");
    assert!(sleepers.try_start_spinning(), "the spinner stopped: another may spin");
    sleepers.stop_spinning();
    assert_eq!(sleepers.spinning.0.load(Ordering::Relaxed), 0);
    assert_eq!(sleepers.count.0.load(Ordering::Relaxed), 0);
}

#[test]
fn claims_rotate_over_sleepers() {
    let sleepers = Sleepers::new();
    let mut claimed = Vec::new();
    for _ in 0..3 {
        for core in 1..4 {
            sleepers.announce(core, WaitReason::Work);
        }
        claimed.push(sleepers.claim_any(0, 4).unwrap());
        for core in 1..4 {
            sleepers.withdraw(core);
        }
    }
    claimed.sort_unstable();
    claimed.dedup();
    assert!(claimed.len() > 1, "the same core was claimed every time: {claimed:?}");
    assert_eq!(sleepers.count.0.load(Ordering::Relaxed), 0);
}

#[test]
fn group_completion_wakes_only_that_groups_waiters() {
    let groups = Groups::new();
    let (first, second) = (groups.create().unwrap(), groups.create().unwrap());
    let sleepers = Sleepers::new();
    sleepers.announce(1, WaitReason::Group(first));
    sleepers.announce(2, WaitReason::Group(second));
    sleepers.announce(3, WaitReason::Work);
    sleepers.announce(5, WaitReason::Group(first));
    let mut woken = Vec::new();
    sleepers.claim_group_waiters(first, 8, |core| woken.push(core));
    assert_eq!(woken, [1, 5]);
    assert!(sleepers.is_asleep(2) && sleepers.is_asleep(3));
    // A group waiter also takes plain work.
    let any = sleepers.claim_any(0, 8).unwrap();
    assert!(any == 2 || any == 3);
}

/// A core's `hlt` and the IPI that ends it: an IPI sent before the halt is kept
/// pending (as the local APIC does while interrupts are off) and ends the next halt.
#[derive(Default)]
struct Halt {
    pending: Mutex<bool>,
    wake: Condvar,
}

impl Halt {
    fn ipi(&self) {
        *self.pending.lock().unwrap() = true;
        self.wake.notify_one();
    }

    /// Halts until an IPI; false if `limit` passed without one.
    fn halt(&self, limit: Duration) -> bool {
        let pending = self.pending.lock().unwrap();
        let (mut pending, timeout) =
            self.wake.wait_timeout_while(pending, limit, |pending| !*pending).unwrap();
        *pending = false;
        !timeout.timed_out()
    }
}

struct Machine {
    queue: WorkQueue,
    groups: Groups,
    sleepers: Sleepers,
    halts: Vec<Halt>,
    runs: Vec<AtomicU32>,
    lost_wakeups: AtomicU32,
    stop: AtomicBool,
}

const CORES: usize = 4;
const TASKS: usize = 20_000;
/// A halt this long with its work waiting means a wake-up was lost (the kernel's
/// watchdog timer would have hidden it; the model has none).
const HALT_LIMIT: Duration = Duration::from_secs(2);
/// Checks before announcing, as the kernel's idle wait makes.
const SPIN_ROUNDS: usize = 16;
/// Backlog that makes a core back from idling wake another (the kernel's `SHARE_BACKLOG`).
const SHARE_BACKLOG: usize = 8;

impl Machine {
    fn submit(&self, me: usize, task: Task) {
        while self.queue.submit(task, &self.groups).is_err() {
            self.run_one(me);
        }
        if let Some(core) = self.sleepers.claim_any(me, CORES) {
            self.halts[core].ipi();
        }
    }

    fn run_one(&self, me: usize) -> bool {
        let Some(task) = self.queue.take() else { return false };
        self.run_task(me, task);
        true
    }

    fn run_task(&self, me: usize, task: Task) {
        self.runs[task.entry as usize].fetch_add(1, Ordering::Relaxed);
        if let Some(group) = task.group
            && self.groups.complete(group) == Ok(0)
        {
            self.sleepers.claim_group_waiters(group, CORES, |core| {
                if core != me {
                    self.halts[core].ipi()
                }
            });
        }
    }

    /// The kernel's idle step: spin (counted, so submitters leave the work to this
    /// core; a core waiting for work only if no other spins), announce, re-check,
    /// halt, withdraw. Returns whether the spin found its work. A halt that ends by
    /// time-out with its work waiting is a lost wake-up: counted, and the run stops.
    fn idle(&self, me: usize, reason: WaitReason, ready: impl Fn() -> bool) -> bool {
        let spins = match reason {
            WaitReason::Work => self.sleepers.try_start_spinning(),
            WaitReason::Group(_) => {
                self.sleepers.start_spinning();
                true
            }
        };
        if spins {
            let mut came = false;
            for _ in 0..SPIN_ROUNDS {
                if ready() {
                    came = true;
                    break;
                }
                std::hint::spin_loop();
            }
            self.sleepers.stop_spinning();
            if came {
                return true;
            }
        }
        self.sleepers.announce(me, reason);
        if !ready() && !self.halts[me].halt(HALT_LIMIT) && ready() {
            self.lost_wakeups.fetch_add(1, Ordering::Relaxed);
            self.stop.store(true, Ordering::Release);
        }
        self.sleepers.withdraw(me);
        false
    }

    /// The kernel's `run_next` back from idling: a core that got a task wakes one
    /// more when a backlog is left to share.
    fn run_one_after_idle(&self, me: usize) -> bool {
        let Some(task) = self.queue.take() else { return false };
        if let Some(core) =
            self.sleepers.claim_to_share(me, CORES, || self.queue.len() >= SHARE_BACKLOG)
        {
            self.halts[core].ipi();
        }
        self.run_task(me, task);
        true
    }

    fn worker(&self, me: usize) {
        let mut was_idle = false;
        while !self.stop.load(Ordering::Acquire) {
            let ran = if was_idle { self.run_one_after_idle(me) } else { self.run_one(me) };
            was_idle = !ran;
            if !ran {
                self.idle(me, WaitReason::Work, || {
                    !self.queue.is_empty() || self.stop.load(Ordering::Acquire)
                });
            }
        }
    }
}

#[test]
fn stress_submit_take_and_sleep_lose_no_wakeup() {
    let machine = Arc::new(Machine {
        queue: WorkQueue::new(64),
        groups: Groups::new(),
        sleepers: Sleepers::new(),
        halts: (0..CORES).map(|_| Halt::default()).collect(),
        runs: (0..TASKS).map(|_| AtomicU32::new(0)).collect(),
        lost_wakeups: AtomicU32::new(0),
        stop: AtomicBool::new(false),
    });
    let workers: Vec<_> = (1..CORES)
        .map(|core| {
            let machine = Arc::clone(&machine);
            thread::spawn(move || machine.worker(core))
        })
        .collect();
    // Core 0 submits in bursts of varying size with pauses, so the workers keep
    // running dry and going to sleep, and waits for each burst's group by halting.
    let mut next = 0;
    let mut burst = 1;
    while next < TASKS && !machine.stop.load(Ordering::Acquire) {
        let group = machine.groups.create().unwrap();
        for entry in next..(next + burst).min(TASKS) {
            machine.submit(
                0,
                Task { entry: entry as u64, argument: 0, group: Some(group), program: 0 },
            );
        }
        next = (next + burst).min(TASKS);
        // Odd bursts: core 0 helps, as `group_wait` does. Even bursts: it only halts, so
        // the workers must be woken for every task and core 0 for the group's end.
        let helps = burst % 2 == 1;
        while machine.groups.pending(group).unwrap() != 0 {
            if machine.stop.load(Ordering::Acquire) {
                break;
            }
            if !(helps && machine.run_one(0)) {
                machine.idle(0, WaitReason::Group(group), || {
                    machine.groups.pending(group).unwrap() == 0
                        || (helps && !machine.queue.is_empty())
                });
            }
        }
        let _ = machine.groups.release(group);
        burst = burst % 97 + 1;
        if burst % 7 == 0 {
            thread::sleep(Duration::from_micros(50));
        }
    }
    machine.stop.store(true, Ordering::Release);
    for halt in &machine.halts {
        halt.ipi();
    }
    for worker in workers {
        worker.join().unwrap();
    }
    assert_eq!(machine.lost_wakeups.load(Ordering::Relaxed), 0, "a wake-up was lost");
    let wrong: Vec<_> = machine
        .runs
        .iter()
        .enumerate()
        .filter(|(_, runs)| runs.load(Ordering::Relaxed) != 1)
        .map(|(entry, runs)| (entry, runs.load(Ordering::Relaxed)))
        .collect();
    assert!(wrong.is_empty(), "tasks not run exactly once (entry, runs): {wrong:?}");
    assert_eq!(machine.sleepers.count.0.load(Ordering::Relaxed), 0);
}
