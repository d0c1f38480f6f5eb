//! Per-core counters: tasks run and time spent running them.

use core::sync::atomic::{AtomicU64, Ordering};

/// Counters of one core, updated by that core, read by anyone.
#[derive(Default)]
pub struct CoreStats {
    tasks_run: AtomicU64,
    busy_ns: AtomicU64,
}

/// A copy of a core's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Tasks (queue tasks and slot assignments) run to completion.
    pub tasks_run: u64,
    /// Nanoseconds spent running them.
    pub busy_ns: u64,
}

impl CoreStats {
    /// Zero counters (usable in a `static`).
    pub const fn new() -> Self {
        Self { tasks_run: AtomicU64::new(0), busy_ns: AtomicU64::new(0) }
    }

    /// Records one finished task that ran for `ns` nanoseconds.
    pub fn record(&self, ns: u64) {
        self.tasks_run.fetch_add(1, Ordering::Relaxed);
        self.busy_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            tasks_run: self.tasks_run.load(Ordering::Relaxed),
            busy_ns: self.busy_ns.load(Ordering::Relaxed),
        }
    }
}
