//! Completion groups: count the tasks of a batch and let a submitter wait for it.

use core::num::NonZeroU32;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Groups that can exist at once.
pub const MAX_GROUPS: usize = 256;
const _: () = assert!(MAX_GROUPS.is_power_of_two(), "GroupId::index masks with it");

/// Names a group (an index into the table, plus one so 0 is never a valid id; that
/// also makes `Option<GroupId>` one number, 0 for none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GroupId(NonZeroU32);

impl GroupId {
    /// The id as a number for the program API (never 0).
    pub fn raw(self) -> u64 {
        u64::from(self.0.get())
    }

    /// The id a program passed back, if it is in range (existence is checked on use).
    pub fn from_raw(raw: u64) -> Option<Self> {
        if raw > MAX_GROUPS as u64 {
            return None;
        }
        NonZeroU32::new(raw as u32).map(Self)
    }

    /// An id as [`Self::raw`] gave it, packed by the queue (0: no group).
    pub(crate) fn from_packed(raw: u32) -> Option<Self> {
        NonZeroU32::new(raw).map(Self)
    }

    /// The table index (the mask only lets the compiler drop its bounds checks: every
    /// id was range-checked when it was made).
    fn index(self) -> usize {
        (self.0.get() as usize - 1) & (MAX_GROUPS - 1)
    }
}

/// Why a group operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupError {
    /// Every group is in use.
    Exhausted,
    /// The id names no live group.
    NoSuchGroup,
    /// Releasing a group that still has unfinished tasks.
    Busy,
}

/// A fixed table of groups, each a count of unfinished tasks.
pub struct Groups {
    in_use: [AtomicBool; MAX_GROUPS],
    pending: [AtomicU64; MAX_GROUPS],
}

impl Groups {
    /// An empty table.
    pub const fn new() -> Self {
        Self {
            in_use: [const { AtomicBool::new(false) }; MAX_GROUPS],
            pending: [const { AtomicU64::new(0) }; MAX_GROUPS],
        }
    }

    /// Creates a group with no tasks.
    pub fn create(&self) -> Result<GroupId, GroupError> {
        for (index, in_use) in self.in_use.iter().enumerate() {
            if in_use.compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
                self.pending[index].store(0, Ordering::Release);
                return Ok(GroupId(NonZeroU32::MIN.saturating_add(index as u32)));
            }
        }
        Err(GroupError::Exhausted)
    }

    #[inline(always)]
    fn live(&self, group: GroupId) -> Result<usize, GroupError> {
        let index = group.index();
        match self.in_use.get(index) {
            Some(in_use) if in_use.load(Ordering::Acquire) => Ok(index),
            _ => Err(GroupError::NoSuchGroup),
        }
    }

    /// Counts one more task in the group.
    #[inline]
    pub fn add(&self, group: GroupId) -> Result<(), GroupError> {
        let index = self.live(group)?;
        self.pending[index].fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// Counts one task of the group as finished; returns the tasks still unfinished
    /// (0: the group just completed, and its waiters are to be woken).
    /// One read-modify-write that cannot fail and retry under contention (unlike a
    /// compare-and-swap loop); a count found at 0, which only a completion without its
    /// task can cause, is put back and refused. The group is not looked up as live:
    /// the task being completed was counted in it by [`Self::add`], and a group is
    /// not released while its count is above 0, so it is live unless the count is 0.
    #[inline(always)]
    pub fn complete(&self, group: GroupId) -> Result<u64, GroupError> {
        let counter = &self.pending[group.index()];
        match counter.fetch_sub(1, Ordering::AcqRel) {
            0 => {
                counter.fetch_add(1, Ordering::AcqRel);
                Err(GroupError::NoSuchGroup)
            }
            before => Ok(before - 1),
        }
    }

    /// Unfinished tasks in the group.
    #[inline(always)]
    pub fn pending(&self, group: GroupId) -> Result<u64, GroupError> {
        Ok(self.pending[self.live(group)?].load(Ordering::Acquire))
    }

    /// Frees the group for reuse; refused while tasks are unfinished.
    pub fn release(&self, group: GroupId) -> Result<(), GroupError> {
        let index = self.live(group)?;
        if self.pending[index].load(Ordering::Acquire) != 0 {
            return Err(GroupError::Busy);
        }
        self.in_use[index].store(false, Ordering::Release);
        Ok(())
    }
}

impl Default for Groups {
    fn default() -> Self {
        Self::new()
    }
}
