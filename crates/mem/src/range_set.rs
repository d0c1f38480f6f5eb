//! A fixed-capacity set of disjoint half-open address ranges.
//!
//! The frame allocator and the memory-map code both need "a set of address
//! ranges" with insert/remove, but the kernel has no heap at the point it
//! needs them. [`RangeSet`] keeps up to [`MAX_RANGES`] ranges in a plain array,
//! always sorted by start address, never overlapping and with touching ranges
//! merged, so every range in the set is maximal. Failed operations leave the
//! set unchanged.

use crate::error::MemError;

/// Maximum number of disjoint ranges a [`RangeSet`] can hold.
pub const MAX_RANGES: usize = 128;

/// A set of disjoint half-open ranges `[start, end)`, sorted, adjacent ranges
/// merged, fixed capacity.
#[derive(Clone)]
pub struct RangeSet {
    ranges: [(u64, u64); MAX_RANGES],
    len: usize,
}

impl RangeSet {
    /// An empty set.
    pub const fn new() -> Self {
        Self { ranges: [(0, 0); MAX_RANGES], len: 0 }
    }

    /// Adds `[start, end)`, merging it with every member it overlaps or
    /// touches.
    ///
    /// `start > end` is [`MemError::InvalidRange`]; `start == end` does
    /// nothing. [`MemError::CapacityExceeded`] if a new separate range would
    /// be needed and the set is full.
    pub fn insert(&mut self, start: u64, end: u64) -> Result<(), MemError> {
        if start > end {
            return Err(MemError::InvalidRange);
        }
        if start == end {
            return Ok(());
        }
        // Members in `first..last` overlap or touch the new range.
        let first = self.as_slice().partition_point(|&(_, e)| e < start);
        let last = first + self.as_slice()[first..].partition_point(|&(s, _)| s <= end);
        if first == last {
            if self.len == MAX_RANGES {
                return Err(MemError::CapacityExceeded);
            }
            self.ranges.copy_within(first..self.len, first + 1);
            self.ranges[first] = (start, end);
            self.len += 1;
            return Ok(());
        }
        let merged = (start.min(self.ranges[first].0), end.max(self.ranges[last - 1].1));
        self.ranges[first] = merged;
        let removed = last - first - 1;
        self.ranges.copy_within(last..self.len, first + 1);
        self.len -= removed;
        Ok(())
    }

    /// Removes `[start, end)` from the set; parts not in the set are ignored.
    ///
    /// Removing the middle of a member splits it in two, which fails with
    /// [`MemError::CapacityExceeded`] (leaving the set unchanged) if the set
    /// is full. `start > end` is [`MemError::InvalidRange`]; `start == end`
    /// does nothing.
    pub fn remove(&mut self, start: u64, end: u64) -> Result<(), MemError> {
        if start > end {
            return Err(MemError::InvalidRange);
        }
        if start == end {
            return Ok(());
        }
        // Members in `first..last` overlap the removed range.
        let first = self.as_slice().partition_point(|&(_, e)| e <= start);
        let last = first + self.as_slice()[first..].partition_point(|&(s, _)| s < end);
        if first == last {
            return Ok(());
        }
        let (lo, _) = self.ranges[first];
        let (_, hi) = self.ranges[last - 1];
        let keep_left = lo < start;
        let keep_right = hi > end;
        // Pieces that survive, in order: at most one on each side.
        let mut pieces = [(0, 0); 2];
        let mut count = 0;
        if keep_left {
            pieces[count] = (lo, start);
            count += 1;
        }
        if keep_right {
            pieces[count] = (end, hi);
            count += 1;
        }
        let new_len = self.len - (last - first) + count;
        if new_len > MAX_RANGES {
            return Err(MemError::CapacityExceeded);
        }
        self.ranges.copy_within(last..self.len, first + count);
        self.ranges[first..first + count].copy_from_slice(&pieces[..count]);
        self.len = new_len;
        Ok(())
    }

    /// Whether the whole of `[start, end)` lies inside one member range.
    ///
    /// Because members are maximal, this is the same as "every address in the
    /// range is in the set". Empty or inverted ranges are never contained.
    pub fn contains(&self, start: u64, end: u64) -> bool {
        if start >= end {
            return false;
        }
        let i = self.as_slice().partition_point(|&(_, e)| e <= start);
        self.as_slice().get(i).is_some_and(|&(s, e)| s <= start && end <= e)
    }

    /// Whether any address of `[start, end)` is in the set. Empty or inverted
    /// ranges overlap nothing.
    pub fn overlaps(&self, start: u64, end: u64) -> bool {
        if start >= end {
            return false;
        }
        let i = self.as_slice().partition_point(|&(_, e)| e <= start);
        self.as_slice().get(i).is_some_and(|&(s, _)| s < end)
    }

    /// The member ranges as `(start, end)` pairs, lowest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (u64, u64)> + ExactSizeIterator + '_ {
        self.as_slice().iter().copied()
    }

    /// The member ranges as a slice of `(start, end)` pairs, lowest first.
    pub fn as_slice(&self) -> &[(u64, u64)] {
        &self.ranges[..self.len]
    }

    /// Number of disjoint ranges in the set.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set holds no addresses at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether no more separate ranges can be added.
    pub fn is_full(&self) -> bool {
        self.len == MAX_RANGES
    }

    /// Sum of the lengths of all member ranges.
    pub fn total(&self) -> u64 {
        self.iter().map(|(s, e)| e - s).sum()
    }

    /// Removes every range.
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

impl Default for RangeSet {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for RangeSet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter().map(|(s, e)| s..e)).finish()
    }
}

impl PartialEq for RangeSet {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for RangeSet {}

#[cfg(test)]
mod tests;
