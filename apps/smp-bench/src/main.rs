//! Measures the shared work queue as a program sees it, for `cargo xtask bench smp`.
//!
//! 1. Latency: [`LATENCY_SAMPLES`] times, the bootstrap core reads the TSC, submits one
//!    task that writes the TSC at its start into a static, and waits for it; the
//!    sample is start − submit in TSC cycles. With several cores the submitter waits
//!    by spinning on the flag (not by `Group::wait`, which would run the task itself),
//!    so another core, asleep in `hlt` and woken by the submit's IPI, must take it.
//!    On one core the submitter runs it itself right after submitting (`run_one`).
//!    Samples are [`GAP_US`] apart so the other cores are back asleep each time: this
//!    is the wake-a-sleeping-core path, the one a program meets after any pause.
//! 2. Throughput: [`EMPTY_TASKS`] empty tasks, then [`BUSY_TASKS`] tasks that each
//!    busy-wait 10 µs, submitted into one group with `submit_or_help` and waited for
//!    with `Group::wait` (the bootstrap core works too).
//!
//! Lines (parsed by the host; the Linux peer's `tools/bench-peer/smp_bench.c` prints
//! the same): `smp-bench: latency cores=N samples=S median=C p99=C` and
//! `smp-bench: throughput cores=N kind=empty|10us tasks=T ns=D cycles=C`, then
//! `smp-bench: done`. Returns 0, or a non-zero code naming the step that failed.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use ingot_sdk::cores::{self, Group};
use ingot_sdk::println;

ingot_sdk::entry!(main);

const LATENCY_SAMPLES: usize = 2000;
const GAP_US: u64 = 50;
const EMPTY_TASKS: u64 = 20_000;
const BUSY_TASKS: u64 = 2_000;
const BUSY_US: u64 = 10;
/// Longest wait for one latency task before the run is declared broken.
const WAIT_LIMIT_NS: u64 = 1_000_000_000;

static STARTED_AT: AtomicU64 = AtomicU64::new(0);
static STARTED: AtomicBool = AtomicBool::new(false);
static COMPLETED: AtomicU64 = AtomicU64::new(0);

extern "sysv64" fn record_start(_: u64) {
    STARTED_AT.store(cores::read_tsc(), Ordering::Relaxed);
    STARTED.store(true, Ordering::Release);
}

extern "sysv64" fn empty(_: u64) {
    COMPLETED.fetch_add(1, Ordering::Relaxed);
}

extern "sysv64" fn busy(_: u64) {
    let _ = cores::delay_us(BUSY_US);
    COMPLETED.fetch_add(1, Ordering::Relaxed);
}

/// One latency sample in TSC cycles.
fn latency_sample(alone: bool) -> Result<u64, u64> {
    STARTED.store(false, Ordering::Relaxed);
    let submitted = cores::read_tsc();
    cores::submit(record_start, 0).map_err(|_| 10u64)?;
    if alone {
        if !cores::run_one() {
            return Err(11);
        }
    } else {
        let since = cores::time_ns();
        while !STARTED.load(Ordering::Acquire) {
            if cores::time_ns() - since > WAIT_LIMIT_NS {
                return Err(12);
            }
            core::hint::spin_loop();
        }
    }
    Ok(STARTED_AT.load(Ordering::Relaxed).wrapping_sub(submitted))
}

fn latency(count: u64) -> Result<(), u64> {
    let mut samples = [0u64; LATENCY_SAMPLES];
    for sample in samples.iter_mut() {
        cores::delay_us(GAP_US).map_err(|_| 13u64)?;
        *sample = latency_sample(count == 1)?;
    }
    samples.sort_unstable();
    let median = samples[LATENCY_SAMPLES / 2];
    let p99 = samples[LATENCY_SAMPLES * 99 / 100];
    println!(
        "smp-bench: latency cores={count} samples={LATENCY_SAMPLES} median={median} p99={p99}"
    );
    Ok(())
}

fn throughput(
    count: u64,
    kind: &str,
    task: extern "sysv64" fn(u64),
    tasks: u64,
) -> Result<(), u64> {
    COMPLETED.store(0, Ordering::Relaxed);
    let group = Group::new().map_err(|_| 20u64)?;
    let (start_ns, start_tsc) = (cores::time_ns(), cores::read_tsc());
    for i in 0..tasks {
        group.submit_or_help(task, i).map_err(|_| 21u64)?;
    }
    group.wait().map_err(|_| 22u64)?;
    let (ns, cycles) = (cores::time_ns() - start_ns, cores::read_tsc() - start_tsc);
    group.release().map_err(|_| 23u64)?;
    let done = COMPLETED.load(Ordering::Relaxed);
    if done != tasks {
        println!("smp-bench: {kind}: {done} of {tasks} tasks ran");
        return Err(24);
    }
    println!(
        "smp-bench: throughput cores={count} kind={kind} tasks={tasks} ns={ns} cycles={cycles}"
    );
    Ok(())
}

fn main() -> u64 {
    let count = cores::core_count();
    let result = latency(count)
        .and_then(|()| throughput(count, "empty", empty, EMPTY_TASKS))
        .and_then(|()| throughput(count, "10us", busy, BUSY_TASKS));
    match result {
        Ok(()) => {
            println!("smp-bench: done");
            0
        }
        Err(code) => {
            println!("smp-bench: step {code} failed");
            code
        }
    }
}
