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
//!
//! Before announcing, an idle core spins briefly between [`Sleepers::start_spinning`]
//! and [`Sleepers::stop_spinning`]. A waker that sees a spinning core wakes nobody:
//! the spinner will find the work, so a stream of small tasks is not answered with one
//! IPI (and one halt and wake-up) per task. This is safe because the count and the
//! spinners are accessed sequentially consistently and the waker publishes the work
//! before its read-modify-write of the count: if the waker's read of the spinners
//! comes before a spinner's decrement in that one total order, so does the waker's
//! read-modify-write of the count before the spinner's announce, which therefore
//! synchronises with it, and the spinner's re-check sees the work; if it comes after,
//! the waker sees no spinner and takes the announce path above. A core that leaves the spinning state with work in
//! hand calls [`Sleepers::claim_to_share`] so that, when more work is waiting and
//! nobody else spins, one more core is woken to share it.
//!
//! Idle cores waiting for any work spin one at a time ([`Sleepers::try_start_spinning`]):
//! the others announce at once. Skipping the spin is always safe (the announce path
//! alone loses no wake-up), and one spinner is all a stream of submits needs.

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
    /// Whether a core waiting for this takes any queued task it sees (and so may spin
    /// in [`Sleepers::start_spinning`]: wakers count on spinners to take new work).
    pub fn takes_queued_work(self) -> bool {
        match self {
            WaitReason::Work | WaitReason::Group(_) => true,
        }
    }

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
    /// Cores spinning before they announce (see the module docs).
    spinning: Count,
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
            spinning: Count(AtomicUsize::new(0)),
            cursor: AtomicUsize::new(0),
            reasons: [const { AtomicU32::new(AWAKE) }; MAX_CORES],
        }
    }

    /// `core` is about to halt for `reason`. The caller must check for what it waits
    /// for after this call, halt only if it is still missing, then [`Self::withdraw`].
    pub fn announce(&self, core: usize, reason: WaitReason) {
        if let Some(slot) = self.reasons.get(core) {
            slot.store(reason.code(), Ordering::SeqCst);
            self.count.0.fetch_add(1, Ordering::SeqCst);
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

    /// The calling core is idle and spins before it announces; wakers leave the work
    /// to it meanwhile. Always followed by [`Self::stop_spinning`].
    pub fn start_spinning(&self) {
        self.spinning.0.fetch_add(1, Ordering::SeqCst);
    }

    /// Like [`Self::start_spinning`], but only if no other core spins: `false` (and
    /// nothing changed) when one does. One spinner is enough to take new work without
    /// an IPI; on a host with fewer cores than vCPUs every further spinner would only
    /// take host time from the vCPU that submits. A core refused here goes straight to
    /// [`Self::announce`], which is always safe.
    pub fn try_start_spinning(&self) -> bool {
        self.spinning.0.compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst).is_ok()
    }

    /// The calling core stops spinning: it found work (then it calls
    /// [`Self::claim_to_share`]) or it goes on to [`Self::announce`].
    pub fn stop_spinning(&self) {
        self.spinning.0.fetch_sub(1, Ordering::SeqCst);
    }

    /// After queuing work: claims one sleeping core among the first `cores`, other
    /// than `except`, for the caller to wake. `None` (after one read-modify-write and
    /// one load, nothing else) when nobody sleeps or a core spins and will find the
    /// work itself.
    pub fn claim_any(&self, except: usize, cores: usize) -> Option<usize> {
        if self.count.0.fetch_add(0, Ordering::SeqCst) == 0
            || self.spinning.0.load(Ordering::SeqCst) != 0
        {
            return None;
        }
        self.claim_scan(except, cores)
    }

    /// A core that stopped spinning because it found work, while `more_waiting` says
    /// enough more is queued to be worth a second core (the caller's threshold):
    /// claims one sleeping core to share it, unless another core spins (it will take
    /// the rest) or nobody sleeps. Only plain loads when there is
    /// nobody to wake: this is a hint for parallelism; [`Self::claim_any`] alone
    /// guarantees that queued work is never left with every core asleep.
    pub fn claim_to_share(
        &self,
        except: usize,
        cores: usize,
        more_waiting: impl FnOnce() -> bool,
    ) -> Option<usize> {
        if self.count.0.load(Ordering::Relaxed) == 0
            || self.spinning.0.load(Ordering::Relaxed) != 0
            || !more_waiting()
        {
            return None;
        }
        self.claim_scan(except, cores)
    }

    fn claim_scan(&self, except: usize, cores: usize) -> Option<usize> {
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
mod interleavings;
#[cfg(test)]
mod tests;
