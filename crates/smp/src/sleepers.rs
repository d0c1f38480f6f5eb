//! Which cores sleep and what for: the handshake that lets an idle core halt without
//! ever missing the wake-up it needs, while a submit with nobody asleep stays one
//! uncontended read-modify-write.
//!
//! A core that found nothing to do [`Sleepers::announce`]s itself (its reason first,
//! then the count), checks once more for what it waits for, halts only if it is still
//! absent, and [`Sleepers::withdraw`]s when it runs again. A waker first publishes the
//! work (queues a task, finishes a group's last task), then reads the count with a
//! read-modify-write and scans the per-core reasons only when it is not zero. The
//! count's read-modify-writes are totally ordered: either the waker's comes later and
//! sees the sleeper (whose reason was stored before its increment), or the sleeper's
//! comes later, synchronises with the waker's, and its re-check sees the work. Every
//! announce is undone exactly once, by whoever clears the reason (the sleeper or a
//! waker that claims it), so the count never drifts.

use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use crate::MAX_CORES;
use crate::groups::GroupId;

/// What a sleeping core waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitReason {
    /// Any queued task or an assignment to the core (the work loop).
    Work,
    /// Group `GroupId` to finish, or a task to help with meanwhile (`group_wait`).
    Group(GroupId),
}

const AWAKE: u32 = 0;
const WORK: u32 = 1;

impl WaitReason {
    fn code(self) -> u32 {
        match self {
            WaitReason::Work => WORK,
            WaitReason::Group(group) => WORK + group.raw() as u32,
        }
    }
}

/// The count on its own cache line, apart from the reasons.
#[repr(align(64))]
struct Count(AtomicUsize);

/// The sleeping cores' table.
pub struct Sleepers {
    /// Announced and not yet withdrawn or claimed. May wrap below zero for a moment
    /// (a claim can land between a reason's store and the increment); any non-zero
    /// value only means "scan".
    count: Count,
    /// Where the next scan for any sleeper starts, so all cores get their turn.
    cursor: AtomicUsize,
    /// Packed, not one cache line each: they are touched only on the way to sleep and
    /// when waking, and 256 padded entries would cost the kernel image 16 KiB of
    /// zeroes that the BIOS loader's 320 KiB window cannot spare.
    reasons: [AtomicU32; MAX_CORES],
}

impl Sleepers {
    /// Nobody asleep (usable in a `static`).
    pub const fn new() -> Self {
        Self {
            count: Count(AtomicUsize::new(0)),
            cursor: AtomicUsize::new(0),
            reasons: [const { AtomicU32::new(AWAKE) }; MAX_CORES],
        }
    }

    /// `core` is about to halt for `reason`. The caller must check for what it waits
    /// for after this call, halt only if it is still missing, then [`Self::withdraw`].
    pub fn announce(&self, core: usize, reason: WaitReason) {
        if let Some(slot) = self.reasons.get(core) {
            slot.store(reason.code(), Ordering::Release);
            self.count.0.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// `core` runs again (woken, timed out, or it found work before halting).
    pub fn withdraw(&self, core: usize) {
        if let Some(slot) = self.reasons.get(core)
            && slot.swap(AWAKE, Ordering::AcqRel) != AWAKE
        {
            self.count.0.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Whether `core` has announced and is not yet withdrawn or claimed.
    pub fn is_asleep(&self, core: usize) -> bool {
        self.reasons.get(core).is_some_and(|slot| slot.load(Ordering::Acquire) != AWAKE)
    }

    /// After queuing work: claims one sleeping core among the first `cores`, other
    /// than `except`, for the caller to wake. `None` (after one read-modify-write and
    /// nothing else) when nobody sleeps.
    pub fn claim_any(&self, except: usize, cores: usize) -> Option<usize> {
        if self.count.0.fetch_add(0, Ordering::AcqRel) == 0 {
            return None;
        }
        let cores = cores.min(MAX_CORES);
        let start = self.cursor.fetch_add(1, Ordering::Relaxed);
        (0..cores)
            .map(|offset| (start + offset) % cores)
            .find(|&core| core != except && self.claim_if(core, |reason| reason != AWAKE))
    }

    /// After a group's last task finished: claims every core among the first `cores`
    /// sleeping until `group` finishes and calls `wake` for each.
    pub fn claim_group_waiters(&self, group: GroupId, cores: usize, mut wake: impl FnMut(usize)) {
        if self.count.0.fetch_add(0, Ordering::AcqRel) == 0 {
            return;
        }
        let code = WaitReason::Group(group).code();
        for core in 0..cores.min(MAX_CORES) {
            if self.claim_if(core, |reason| reason == code) {
                wake(core);
            }
        }
    }

    fn claim_if(&self, core: usize, wanted: impl Fn(u32) -> bool) -> bool {
        let slot = &self.reasons[core];
        let reason = slot.load(Ordering::Acquire);
        if !wanted(reason)
            || slot.compare_exchange(reason, AWAKE, Ordering::AcqRel, Ordering::Relaxed).is_err()
        {
            return false;
        }
        self.count.0.fetch_sub(1, Ordering::AcqRel);
        true
    }
}

impl Default for Sleepers {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests;
