//! Spreads work over every core through the shared work queue and checks it.
//!
//! 1. 10,000 tasks each add `f(i)` to a shared sum and count the core they ran on; the
//!    program compares the sum with one it computes itself and reports how many
//!    distinct cores ran tasks.
//! 2. Nested groups: parent tasks submit child tasks into their own groups and wait
//!    for them from inside a task.
//! 3. BareMetal-style per-core assignment to every other core, waiting on "busy".
//!
//! Returns 0 when every check holds, a non-zero code naming the failed check otherwise.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use core::sync::atomic::{AtomicU64, Ordering};

use ingot_sdk::cores::{self, Group};
use ingot_sdk::println;

ingot_sdk::entry!(main);

const TASKS: u64 = 10_000;
const PARENTS: u64 = 16;
const CHILDREN: u64 = 32;
const MAX_CORES: usize = 256;

static SUM: AtomicU64 = AtomicU64::new(0);
static NESTED_SUM: AtomicU64 = AtomicU64::new(0);
static ASSIGNED: AtomicU64 = AtomicU64::new(0);
static RAN_ON: [AtomicU64; MAX_CORES] = [const { AtomicU64::new(0) }; MAX_CORES];

fn value(i: u64) -> u64 {
    i.wrapping_mul(i) % 1_000_003 + 7
}

extern "sysv64" fn add_value(i: u64) {
    SUM.fetch_add(value(i), Ordering::Relaxed);
    let core = cores::core_id() as usize;
    if let Some(count) = RAN_ON.get(core) {
        count.fetch_add(1, Ordering::Relaxed);
    }
    // A few microseconds of work, so that tasks overlap and every core gets some.
    let _ = cores::delay_us(5);
}

extern "sysv64" fn child(i: u64) {
    NESTED_SUM.fetch_add(value(i), Ordering::Relaxed);
}

extern "sysv64" fn parent(p: u64) {
    let Ok(group) = Group::new() else { return };
    for c in 0..CHILDREN {
        let _ = group.submit_or_help(child, p * CHILDREN + c);
    }
    let _ = group.wait();
    let _ = group.release();
}

extern "sysv64" fn mark_assigned(core: u64) {
    if cores::core_id() == core {
        ASSIGNED.fetch_add(1, Ordering::Relaxed);
    }
}

fn spread_tasks(count: u64) -> Result<(), u64> {
    let group = Group::new().map_err(|_| 10u64)?;
    for i in 0..TASKS {
        group.submit_or_help(add_value, i).map_err(|_| 11u64)?;
    }
    group.wait().map_err(|_| 12u64)?;
    group.release().map_err(|_| 13u64)?;
    let expected: u64 = (0..TASKS).map(value).sum();
    let sum = SUM.load(Ordering::Relaxed);
    let ran: u64 = RAN_ON.iter().map(|c| c.load(Ordering::Relaxed)).sum();
    let used = RAN_ON.iter().filter(|c| c.load(Ordering::Relaxed) > 0).count();
    println!("smp: tasks={ran} sum-ok={} cores-used={used} cores={count}", sum == expected);
    for core in 0..count {
        if let Ok(stats) = cores::core_stats(core) {
            println!("smp: core {core} tasks-run={}", stats.tasks_run);
        }
    }
    if sum != expected || ran != TASKS { Err(1) } else { Ok(()) }
}

fn nested_groups() -> Result<(), u64> {
    let outer = Group::new().map_err(|_| 20u64)?;
    for p in 0..PARENTS {
        outer.submit_or_help(parent, p).map_err(|_| 21u64)?;
    }
    outer.wait().map_err(|_| 22u64)?;
    outer.release().map_err(|_| 23u64)?;
    let expected: u64 = (0..PARENTS * CHILDREN).map(value).sum();
    let ok = NESTED_SUM.load(Ordering::Relaxed) == expected;
    println!("smp: nested groups parents={PARENTS} children={CHILDREN} ok={ok}");
    if ok { Ok(()) } else { Err(2) }
}

fn assign_each_core(count: u64) -> Result<(), u64> {
    for core in 1..count {
        cores::run_on_core(core, mark_assigned, core).map_err(|_| 30u64)?;
    }
    let start = cores::time_ns();
    while cores::cores_busy() || ASSIGNED.load(Ordering::Relaxed) < count - 1 {
        if cores::time_ns() - start > 5_000_000_000 {
            return Err(31);
        }
    }
    let refused = cores::run_on_core(cores::core_id(), mark_assigned, 0).is_err();
    println!(
        "smp: run-on-core ran={} of {} own-core-refused={refused}",
        ASSIGNED.load(Ordering::Relaxed),
        count - 1
    );
    if refused { Ok(()) } else { Err(3) }
}

fn main() -> u64 {
    let count = cores::core_count();
    println!("smp: {count} cores");
    let result =
        spread_tasks(count).and_then(|()| nested_groups()).and_then(|()| assign_each_core(count));
    match result {
        Ok(()) => 0,
        Err(code) => {
            println!("smp: check {code} failed");
            code
        }
    }
}
