//! Physical frame allocator.
//!
//! The kernel needs a handful of physical frames (page tables, stacks, the AP
//! trampoline, DMA buffers) before it hands the rest of RAM to the program.
//! [`FrameAllocator`] keeps the free memory as a [`RangeSet`] of page-aligned
//! ranges and carves allocations out of it: lowest address first by default,
//! with variants for an upper address limit and for highest-first placement.
//! Frames are identified by their physical address.

use crate::error::MemError;
use crate::layout::{PAGE_SIZE, align_down, align_up, is_aligned};
use crate::range_set::RangeSet;

/// Physical 4 KiB frame allocator over a [`RangeSet`] of free memory.
/// Lowest-address-first.
///
/// Every free range is page aligned at both ends. Failed calls leave the
/// allocator unchanged.
#[derive(Clone, Debug, Default)]
pub struct FrameAllocator {
    free: RangeSet,
}

/// Which end of free memory an allocation is taken from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Placement {
    Lowest,
    Highest,
}

impl FrameAllocator {
    /// An allocator with no free memory.
    pub const fn new() -> Self {
        Self { free: RangeSet::new() }
    }

    /// Adds free memory; shrinks `[start, end)` inward to page boundaries.
    /// Ranges of less than a page are ignored.
    ///
    /// Memory that is already free may be added again (it merges).
    /// [`MemError::InvalidRange`] if `start > end`;
    /// [`MemError::CapacityExceeded`] if the free list is full.
    pub fn add_free(&mut self, start: u64, end: u64) -> Result<(), MemError> {
        if start > end {
            return Err(MemError::InvalidRange);
        }
        let Some(start) = align_up(start, PAGE_SIZE) else {
            return Ok(());
        };
        let end = align_down(end, PAGE_SIZE);
        if start >= end {
            return Ok(());
        }
        self.free.insert(start, end)
    }

    /// Marks memory as not free (grows outward to page boundaries); parts not
    /// currently free are ignored.
    ///
    /// [`MemError::InvalidRange`] if `start > end`;
    /// [`MemError::CapacityExceeded`] if a free range would have to be split
    /// and the free list is full.
    pub fn reserve(&mut self, start: u64, end: u64) -> Result<(), MemError> {
        if start > end {
            return Err(MemError::InvalidRange);
        }
        if start == end {
            return Ok(());
        }
        // Free ranges end at most at the last page boundary, so clamping the
        // rounded-up end to u64::MAX still covers every free byte.
        let end = align_up(end, PAGE_SIZE).unwrap_or(u64::MAX);
        self.free.remove(align_down(start, PAGE_SIZE), end)
    }

    /// Allocates `frames` contiguous frames whose start is a multiple of
    /// `align` (a power of two, >= [`PAGE_SIZE`], else
    /// [`MemError::Misaligned`]); `frames == 0` is
    /// [`MemError::InvalidRange`]. Returns the physical start address.
    ///
    /// [`MemError::OutOfMemory`] if no free range can hold the allocation.
    /// [`MemError::CapacityExceeded`] if the only places it fits would split a
    /// free range while the free list is full.
    pub fn allocate(&mut self, frames: u64, align: u64) -> Result<u64, MemError> {
        self.allocate_where(frames, align, u64::MAX, Placement::Lowest)
    }

    /// Same as [`allocate`](Self::allocate), but the whole allocation must end
    /// at or below `limit` (e.g. under 1 MiB for an AP trampoline, under
    /// 4 GiB for 32-bit DMA).
    pub fn allocate_below(&mut self, frames: u64, align: u64, limit: u64) -> Result<u64, MemError> {
        self.allocate_where(frames, align, limit, Placement::Lowest)
    }

    /// Highest-address-first variant of [`allocate`](Self::allocate) (keeps
    /// low memory for devices that need it).
    pub fn allocate_high(&mut self, frames: u64, align: u64) -> Result<u64, MemError> {
        self.allocate_where(frames, align, u64::MAX, Placement::Highest)
    }

    /// Highest-address-first allocation that ends at or below `limit`.
    pub fn allocate_high_below(
        &mut self,
        frames: u64,
        align: u64,
        limit: u64,
    ) -> Result<u64, MemError> {
        self.allocate_where(frames, align, limit, Placement::Highest)
    }

    /// Returns `frames` frames starting at `addr` to the free memory.
    ///
    /// [`MemError::Misaligned`] if `addr` is not page aligned;
    /// [`MemError::InvalidRange`] if `frames == 0` or the range wraps;
    /// [`MemError::DoubleFree`] if any part is already free;
    /// [`MemError::CapacityExceeded`] if the free list is full.
    pub fn free(&mut self, addr: u64, frames: u64) -> Result<(), MemError> {
        if !is_aligned(addr, PAGE_SIZE) {
            return Err(MemError::Misaligned);
        }
        if frames == 0 {
            return Err(MemError::InvalidRange);
        }
        let end = frames
            .checked_mul(PAGE_SIZE)
            .and_then(|len| addr.checked_add(len))
            .ok_or(MemError::InvalidRange)?;
        if self.free.overlaps(addr, end) {
            return Err(MemError::DoubleFree);
        }
        self.free.insert(addr, end)
    }

    /// Total free bytes.
    pub fn free_bytes(&self) -> u64 {
        self.free.total()
    }

    /// The free ranges (page aligned, sorted, merged).
    pub fn free_ranges(&self) -> &RangeSet {
        &self.free
    }

    /// Removes and returns every free range (used to hand all remaining RAM
    /// to the program).
    pub fn take_all(&mut self) -> RangeSet {
        core::mem::take(&mut self.free)
    }

    fn allocate_where(
        &mut self,
        frames: u64,
        align: u64,
        limit: u64,
        placement: Placement,
    ) -> Result<u64, MemError> {
        if !align.is_power_of_two() || align < PAGE_SIZE {
            return Err(MemError::Misaligned);
        }
        if frames == 0 {
            return Err(MemError::InvalidRange);
        }
        let size = frames.checked_mul(PAGE_SIZE).ok_or(MemError::OutOfMemory)?;
        let full = self.free.is_full();
        let mut blocked_by_capacity = false;
        let mut chosen = None;
        // Visit free ranges in placement order; the first that fits without
        // needing a split the full list cannot hold wins.
        let count = self.free.len();
        for n in 0..count {
            let i = if placement == Placement::Lowest { n } else { count - 1 - n };
            let range = self.free.as_slice()[i];
            let Some(start) = place(range, size, align, limit, placement) else {
                continue;
            };
            let splits = start > range.0 && start + size < range.1;
            if splits && full {
                blocked_by_capacity = true;
                continue;
            }
            chosen = Some(start);
            break;
        }
        match chosen {
            Some(start) => {
                self.free.remove(start, start + size)?;
                Ok(start)
            }
            None if blocked_by_capacity => Err(MemError::CapacityExceeded),
            None => Err(MemError::OutOfMemory),
        }
    }
}

/// Where in the free range `(lo, hi)` an aligned block of `size` bytes ending
/// at or below `limit` goes, if it fits.
fn place(
    (lo, hi): (u64, u64),
    size: u64,
    align: u64,
    limit: u64,
    placement: Placement,
) -> Option<u64> {
    let top = hi.min(limit);
    let last_start = top.checked_sub(size)?;
    let start = match placement {
        Placement::Lowest => align_up(lo, align)?,
        Placement::Highest => align_down(last_start, align),
    };
    (start >= lo && start <= last_start).then_some(start)
}

#[cfg(test)]
mod tests;
