//! Per-core slots: BareMetal's "run this code on core N" (its `SMP_SET`, `SMP_BUSY`).
//!
//! Each core has one slot holding at most one assignment. Unlike the reference, the
//! slot records the argument too, a core that does not exist is refused by its index
//! (not by a table that other data can overwrite), and "busy" means assigned or
//! running, cleared when the code returns.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::MAX_CORES;

/// Marks a slot being filled (never a valid code address: not canonical).
const CLAIMING: u64 = u64::MAX;

/// Why an assignment was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotError {
    /// No such core is running.
    NoSuchCore,
    /// The core already has an assignment or is running one.
    Busy,
    /// The code address is zero.
    NullEntry,
}

/// One assignment slot per core.
pub struct CoreSlots {
    online: [AtomicBool; MAX_CORES],
    entry: [AtomicU64; MAX_CORES],
    argument: [AtomicU64; MAX_CORES],
    running: [AtomicBool; MAX_CORES],
}

impl CoreSlots {
    /// No core online yet.
    pub const fn new() -> Self {
        Self {
            online: [const { AtomicBool::new(false) }; MAX_CORES],
            entry: [const { AtomicU64::new(0) }; MAX_CORES],
            argument: [const { AtomicU64::new(0) }; MAX_CORES],
            running: [const { AtomicBool::new(false) }; MAX_CORES],
        }
    }

    /// Marks `core` as running its loop.
    pub fn set_online(&self, core: usize) {
        if let Some(online) = self.online.get(core) {
            online.store(true, Ordering::Release);
        }
    }

    /// Whether `core` is online.
    pub fn is_online(&self, core: usize) -> bool {
        self.online.get(core).is_some_and(|online| online.load(Ordering::Acquire))
    }

    /// Gives `core` code to run once. The caller then wakes the core.
    pub fn assign(&self, core: usize, entry: u64, argument: u64) -> Result<(), SlotError> {
        if entry == 0 || entry == CLAIMING {
            return Err(SlotError::NullEntry);
        }
        if !self.is_online(core) {
            return Err(SlotError::NoSuchCore);
        }
        if self.running[core].load(Ordering::Acquire) {
            return Err(SlotError::Busy);
        }
        // Claim the slot first so a losing racer never touches the argument, then
        // publish the argument before the entry (`take` reads the entry first).
        self.entry[core]
            .compare_exchange(0, CLAIMING, Ordering::AcqRel, Ordering::Relaxed)
            .map_err(|_| SlotError::Busy)?;
        self.argument[core].store(argument, Ordering::Relaxed);
        self.entry[core].store(entry, Ordering::Release);
        Ok(())
    }

    /// Takes `core`'s assignment (called by that core), marking it running.
    pub fn take(&self, core: usize) -> Option<(u64, u64)> {
        let entry_slot = self.entry.get(core)?;
        let entry = entry_slot.load(Ordering::Acquire);
        if entry == 0 || entry == CLAIMING {
            return None;
        }
        // Running is set before the entry is taken, so the core never looks idle in
        // between; a `withdraw` that got there first wins and nothing runs.
        self.running[core].store(true, Ordering::Release);
        let argument = self.argument[core].load(Ordering::Relaxed);
        if entry_slot.compare_exchange(entry, 0, Ordering::AcqRel, Ordering::Relaxed).is_err() {
            self.running[core].store(false, Ordering::Release);
            return None;
        }
        Some((entry, argument))
    }

    /// Takes back `core`'s assignment if it has not started; returns whether it did.
    pub fn withdraw(&self, core: usize) -> bool {
        let Some(entry_slot) = self.entry.get(core) else { return false };
        let entry = entry_slot.load(Ordering::Acquire);
        entry != 0
            && entry != CLAIMING
            && entry_slot.compare_exchange(entry, 0, Ordering::AcqRel, Ordering::Relaxed).is_ok()
    }

    /// Marks `core`'s assignment finished.
    pub fn finish(&self, core: usize) {
        if let Some(running) = self.running.get(core) {
            running.store(false, Ordering::Release);
        }
    }

    /// Whether `core` has an assignment waiting or running.
    pub fn is_busy(&self, core: usize) -> bool {
        core < MAX_CORES
            && (self.entry[core].load(Ordering::Acquire) != 0
                || self.running[core].load(Ordering::Acquire))
    }

    /// Whether any core other than `core` is busy (BareMetal's `SMP_BUSY`).
    pub fn any_busy_except(&self, core: usize) -> bool {
        (0..MAX_CORES).any(|other| other != core && self.is_busy(other))
    }
}

impl Default for CoreSlots {
    fn default() -> Self {
        Self::new()
    }
}
