//! Per-core counters: tasks run and time spent running them.
//!
//! Time is kept in the clock's raw ticks (the TSC), so the per-task cost is two clock
//! reads and a subtraction (the kernel reads the clock only once a program asked for
//! the counters); whoever reads the counters converts to nanoseconds.

use core::sync::atomic::{AtomicU64, Ordering};

/// Counters of one core, updated by that core only, read by anyone. A cache line each,
/// so that cores counting their tasks never share one (the kernel keeps them on the
/// heap, one per running core: 256 in the image's zeroed data would not fit the BIOS
/// loader's window).
#[derive(Default)]
#[repr(align(64))]
pub struct CoreStats {
    tasks_run: AtomicU64,
    busy_ticks: AtomicU64,
}

/// A copy of a core's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Tasks (queue tasks and slot assignments) run to completion.
    pub tasks_run: u64,
    /// Clock ticks spent running them.
    pub busy_ticks: u64,
}

impl CoreStats {
    /// Zero counters (usable in a `static`).
    pub const fn new() -> Self {
        Self { tasks_run: AtomicU64::new(0), busy_ticks: AtomicU64::new(0) }
    }

    /// Records one finished task that ran for `ticks`. Only the owning core calls
    /// this, so plain loads and stores suffice (no locked instructions).
    #[inline]
    pub fn record(&self, ticks: u64) {
        let tasks = self.tasks_run.load(Ordering::Relaxed);
        self.tasks_run.store(tasks.wrapping_add(1), Ordering::Relaxed);
        if ticks != 0 {
            let busy = self.busy_ticks.load(Ordering::Relaxed);
            self.busy_ticks.store(busy.wrapping_add(ticks), Ordering::Relaxed);
        }
    }

    /// The counters now.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            tasks_run: self.tasks_run.load(Ordering::Relaxed),
            busy_ticks: self.busy_ticks.load(Ordering::Relaxed),
        }
    }
}
