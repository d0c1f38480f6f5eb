//! Per-core time spent halted, in clock ticks (the TSC): each core adds its own halts,
//! anyone reads.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::MAX_CORES;

/// Halted ticks per core.
pub struct HaltedTime {
    ticks: [AtomicU64; MAX_CORES],
}

impl HaltedTime {
    /// All zero (usable in a `static`).
    pub const fn new() -> Self {
        Self { ticks: [const { AtomicU64::new(0) }; MAX_CORES] }
    }

    /// `core` was halted for `ticks` more. Only the owning core calls this, so a
    /// load and a store suffice (no locked instruction on the wake-up path).
    pub fn add(&self, core: usize, ticks: u64) {
        if let Some(total) = self.ticks.get(core) {
            total.store(total.load(Ordering::Relaxed).wrapping_add(ticks), Ordering::Relaxed);
        }
    }

    /// Ticks `core` has been halted so far (0 for a core out of range).
    pub fn ticks(&self, core: usize) -> u64 {
        self.ticks.get(core).map_or(0, |total| total.load(Ordering::Relaxed))
    }
}

impl Default for HaltedTime {
    fn default() -> Self {
        Self::new()
    }
}
