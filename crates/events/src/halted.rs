//! Per-core time spent halted, in clock ticks (the TSC): each core records its own
//! halts, anyone reads, and a reading includes the halt under way (an idle core may
//! stay halted for a long time, so counting a halt only when it ends would show an
//! idle core as never halted).
//!
//! Each core's pair (total, start of the current halt) is written only by that core,
//! under a sequence number that is odd while it changes; a reader retries until it saw
//! the same even number before and after, so it never mixes two states.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::MAX_CORES;

/// One core's counters.
struct Core {
    /// Odd while the owning core updates the other two.
    sequence: AtomicU64,
    /// Ticks of the halts that ended.
    total: AtomicU64,
    /// Tick at which the current halt began; `None` is stored as 0 (not halted).
    since: AtomicU64,
}

/// Halted ticks per core.
pub struct HaltedTime {
    cores: [Core; MAX_CORES],
}

impl HaltedTime {
    /// All zero (usable in a `static`).
    pub const fn new() -> Self {
        Self {
            cores: [const {
                Core {
                    sequence: AtomicU64::new(0),
                    total: AtomicU64::new(0),
                    since: AtomicU64::new(0),
                }
            }; MAX_CORES],
        }
    }

    /// `core` halts from tick `now` on. Only the owning core calls this.
    pub fn begin(&self, core: usize, now: u64) {
        if let Some(state) = self.cores.get(core) {
            Self::update(state, |state| state.since.store(now.max(1), Ordering::SeqCst));
        }
    }

    /// `core`'s halt ended at tick `now`. Only the owning core calls this.
    pub fn end(&self, core: usize, now: u64) {
        if let Some(state) = self.cores.get(core) {
            Self::update(state, |state| {
                let since = state.since.swap(0, Ordering::SeqCst);
                if since != 0 {
                    let total = state.total.load(Ordering::SeqCst);
                    state
                        .total
                        .store(total.wrapping_add(now.saturating_sub(since)), Ordering::SeqCst);
                }
            });
        }
    }

    /// `core` was halted for `ticks` more (a halt measured by the caller).
    pub fn add(&self, core: usize, ticks: u64) {
        if let Some(state) = self.cores.get(core) {
            Self::update(state, |state| {
                let total = state.total.load(Ordering::SeqCst);
                state.total.store(total.wrapping_add(ticks), Ordering::SeqCst);
            });
        }
    }

    /// Ticks `core` has been halted until tick `now`, the halt under way included (0
    /// for a core out of range).
    pub fn ticks_at(&self, core: usize, now: u64) -> u64 {
        let Some(state) = self.cores.get(core) else { return 0 };
        loop {
            let before = state.sequence.load(Ordering::SeqCst);
            let total = state.total.load(Ordering::SeqCst);
            let since = state.since.load(Ordering::SeqCst);
            let after = state.sequence.load(Ordering::SeqCst);
            if before == after && before % 2 == 0 {
                let current = if since == 0 { 0 } else { now.saturating_sub(since) };
                return total.wrapping_add(current);
            }
            core::hint::spin_loop();
        }
    }

    /// Ticks of the halts of `core` that ended (0 for a core out of range).
    pub fn ticks(&self, core: usize) -> u64 {
        self.ticks_at(core, 0)
    }

    fn update(state: &Core, change: impl FnOnce(&Core)) {
        state.sequence.fetch_add(1, Ordering::SeqCst);
        change(state);
        state.sequence.fetch_add(1, Ordering::SeqCst);
    }
}

impl Default for HaltedTime {
    fn default() -> Self {
        Self::new()
    }
}
