//! Floods the shared work queue: [`TASKS`] tasks over [`GROUPS`] completion groups,
//! submitted in turn from the bootstrap core (which helps while the queue is full),
//! and from inside tasks: every [`NESTED_EVERY`]th task submits the next one of its
//! group itself. Then every group is waited for, and the program checks that each
//! task ran exactly once, that each group saw all its tasks, and how many cores ran
//! tasks.
//!
//! Prints `smp-stress: tasks=T once=T groups=G completed=G cores-used=U cores=N`;
//! returns 0 when all of it holds, a non-zero code naming the failed step otherwise.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use core::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use ingot_sdk::cores::{self, Group};
use ingot_sdk::println;

ingot_sdk::entry!(main);

const TASKS: usize = 100_000;
const GROUPS: usize = 8;
/// Every this many tasks (in submission order within a group), the task before it
/// submits it from inside a task instead of the bootstrap core.
const NESTED_EVERY: usize = 16;
const MAX_CORES: usize = 256;

static RUNS: [AtomicU8; TASKS] = [const { AtomicU8::new(0) }; TASKS];
static GROUP_RUNS: [AtomicU64; GROUPS] = [const { AtomicU64::new(0) }; GROUPS];
static GROUP_IDS: [AtomicU64; GROUPS] = [const { AtomicU64::new(0) }; GROUPS];
static RAN_ON: [AtomicU64; MAX_CORES] = [const { AtomicU64::new(0) }; MAX_CORES];
static NESTED_FAILURES: AtomicU64 = AtomicU64::new(0);

fn is_nested(task: usize) -> bool {
    (task / GROUPS) % NESTED_EVERY == NESTED_EVERY - 1
}

fn group_of(task: usize) -> Group {
    Group::from_raw(GROUP_IDS[task % GROUPS].load(Ordering::Acquire))
}

extern "sysv64" fn run(argument: u64) {
    let task = argument as usize;
    if let Some(runs) = RUNS.get(task) {
        runs.fetch_add(1, Ordering::Relaxed);
        GROUP_RUNS[task % GROUPS].fetch_add(1, Ordering::Relaxed);
    }
    if let Some(count) = RAN_ON.get(cores::core_id() as usize) {
        count.fetch_add(1, Ordering::Relaxed);
    }
    let next = task + GROUPS;
    if next < TASKS && is_nested(next) && group_of(next).submit_or_help(run, next as u64).is_err() {
        NESTED_FAILURES.fetch_add(1, Ordering::Relaxed);
    }
}

fn flood() -> Result<(), u64> {
    let mut groups = [Group::from_raw(0); GROUPS];
    for (slot, id) in groups.iter_mut().zip(&GROUP_IDS) {
        *slot = Group::new().map_err(|_| 10u64)?;
        id.store(slot.raw(), Ordering::Release);
    }
    for task in (0..TASKS).filter(|&task| !is_nested(task)) {
        groups[task % GROUPS].submit_or_help(run, task as u64).map_err(|_| 11u64)?;
    }
    let mut completed = 0;
    for group in groups {
        group.wait().map_err(|_| 12u64)?;
        group.release().map_err(|_| 13u64)?;
        completed += 1;
    }
    let once = RUNS.iter().filter(|runs| runs.load(Ordering::Relaxed) == 1).count();
    let ran: u64 = RAN_ON.iter().map(|count| count.load(Ordering::Relaxed)).sum();
    let full_groups = GROUP_RUNS
        .iter()
        .filter(|runs| runs.load(Ordering::Relaxed) == (TASKS / GROUPS) as u64)
        .count();
    let used = RAN_ON.iter().filter(|count| count.load(Ordering::Relaxed) > 0).count();
    println!(
        "smp-stress: tasks={ran} once={once} groups={GROUPS} completed={completed} \
         full-groups={full_groups} cores-used={used} cores={}",
        cores::core_count()
    );
    let failures = NESTED_FAILURES.load(Ordering::Relaxed);
    if failures != 0 {
        println!("smp-stress: {failures} nested submits failed");
        return Err(14);
    }
    if once != TASKS || ran != TASKS as u64 || full_groups != GROUPS { Err(1) } else { Ok(()) }
}

fn main() -> u64 {
    match flood() {
        Ok(()) => 0,
        Err(code) => {
            println!("smp-stress: check {code} failed");
            code
        }
    }
}
