//! The firmware memory map, normalised into something the kernel can trust.
//!
//! Firmware memory maps (e820, PVH, Multiboot) may be unsorted, contain
//! overlapping entries of different kinds, split one area into many adjacent
//! entries, or contain zero-length entries. [`MemoryMap`] folds entries in one
//! at a time and always keeps a clean view: sorted, disjoint, adjacent
//! same-kind regions merged, no empty regions. Where entries overlap, the more
//! restrictive kind wins (see [`RegionKind::restrictiveness`]), so memory is
//! never treated as usable when any entry says otherwise.

use crate::error::MemError;

/// What a region of physical memory may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionKind {
    /// Ordinary RAM, free for the OS.
    Usable,
    /// Not to be used (firmware, MMIO holes, anything unknown).
    Reserved,
    /// Holds ACPI tables; usable once they have been read.
    AcpiReclaimable,
    /// ACPI non-volatile storage; must be preserved.
    AcpiNvs,
    /// RAM reported as defective.
    Bad,
}

impl RegionKind {
    /// Converts an e820 type number (PVH and Multiboot use the same numbers):
    /// 1 usable, 3 ACPI reclaimable, 4 ACPI NVS, 5 bad, anything else reserved.
    pub fn from_e820(kind: u32) -> Self {
        match kind {
            1 => Self::Usable,
            3 => Self::AcpiReclaimable,
            4 => Self::AcpiNvs,
            5 => Self::Bad,
            _ => Self::Reserved,
        }
    }

    /// How restrictive this kind is; where firmware entries overlap, the
    /// higher value wins. Order, least to most restrictive: `Usable`,
    /// `AcpiReclaimable`, `Reserved`, `AcpiNvs`, `Bad`.
    pub const fn restrictiveness(self) -> u8 {
        match self {
            Self::Usable => 0,
            Self::AcpiReclaimable => 1,
            Self::Reserved => 2,
            Self::AcpiNvs => 3,
            Self::Bad => 4,
        }
    }

    /// The more restrictive of two kinds.
    const fn stricter(self, other: Self) -> Self {
        if other.restrictiveness() > self.restrictiveness() { other } else { self }
    }
}

/// One region of the normalised memory map, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// First byte of the region.
    pub start: u64,
    /// One past the last byte of the region (exclusive).
    pub end: u64,
    /// What the region may be used for.
    pub kind: RegionKind,
}

impl Region {
    /// Length of the region in bytes.
    pub const fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether the region is empty (never true for regions of a [`MemoryMap`]).
    pub const fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// Maximum number of regions a [`MemoryMap`] can hold after normalisation.
pub const MAX_REGIONS: usize = 128;

const EMPTY: Region = Region { start: 0, end: 0, kind: RegionKind::Reserved };

/// Firmware memory map, normalised: sorted, no overlaps (where firmware
/// entries overlap, the more restrictive kind wins: anything non-Usable beats
/// Usable), adjacent same-kind regions merged, empty regions dropped.
#[derive(Clone)]
pub struct MemoryMap {
    regions: [Region; MAX_REGIONS],
    len: usize,
}

/// Builds a normalised region list by appending pieces in address order.
struct Builder {
    out: [Region; MAX_REGIONS],
    len: usize,
}

impl Builder {
    /// Appends `[start, end)`: drops it if empty, merges it into the previous
    /// piece if they touch and have the same kind.
    fn push(&mut self, start: u64, end: u64, kind: RegionKind) -> Result<(), MemError> {
        if start >= end {
            return Ok(());
        }
        if let Some(last) = self.out[..self.len].last_mut()
            && last.end == start
            && last.kind == kind
        {
            last.end = end;
            return Ok(());
        }
        if self.len == MAX_REGIONS {
            return Err(MemError::CapacityExceeded);
        }
        self.out[self.len] = Region { start, end, kind };
        self.len += 1;
        Ok(())
    }
}

impl MemoryMap {
    /// An empty map.
    pub const fn new() -> Self {
        Self { regions: [EMPTY; MAX_REGIONS], len: 0 }
    }

    /// Folds one firmware entry of `len` bytes at `start` into the map.
    ///
    /// `len == 0` is ignored. [`MemError::InvalidRange`] if `start + len`
    /// overflows. [`MemError::CapacityExceeded`] if the normalised map would
    /// need more than [`MAX_REGIONS`] regions; the map is then unchanged.
    pub fn add(&mut self, start: u64, len: u64, kind: RegionKind) -> Result<(), MemError> {
        if len == 0 {
            return Ok(());
        }
        let end = start.checked_add(len).ok_or(MemError::InvalidRange)?;
        let mut b = Builder { out: [EMPTY; MAX_REGIONS], len: 0 };
        // Parts of the new entry not yet emitted start at `cursor`.
        let mut cursor = start;
        for r in self.regions() {
            if r.end <= start {
                b.push(r.start, r.end, r.kind)?;
                continue;
            }
            // Part of the new entry before this region.
            let gap_end = r.start.min(end);
            if cursor < gap_end {
                b.push(cursor, gap_end, kind)?;
                cursor = gap_end;
            }
            if r.start < end {
                // Overlap: this region's outside parts keep their kind.
                let lo = r.start.max(start);
                let hi = r.end.min(end);
                b.push(r.start, lo, r.kind)?;
                b.push(lo, hi, r.kind.stricter(kind))?;
                b.push(hi, r.end, r.kind)?;
                cursor = cursor.max(hi);
            } else {
                b.push(r.start, r.end, r.kind)?;
            }
        }
        if cursor < end {
            b.push(cursor, end, kind)?;
        }
        self.regions = b.out;
        self.len = b.len;
        Ok(())
    }

    /// The normalised regions, lowest address first.
    pub fn regions(&self) -> &[Region] {
        &self.regions[..self.len]
    }

    /// The regions of one kind, lowest address first.
    pub fn regions_of(&self, kind: RegionKind) -> impl Iterator<Item = Region> + '_ {
        self.regions().iter().copied().filter(move |r| r.kind == kind)
    }

    /// Total bytes of `Usable` memory.
    pub fn usable_bytes(&self) -> u64 {
        self.regions_of(RegionKind::Usable).map(|r| r.len()).sum()
    }

    /// End of the highest region of any kind (0 if the map is empty).
    pub fn highest_address(&self) -> u64 {
        self.regions().last().map_or(0, |r| r.end)
    }

    /// End of the highest `Usable` region (0 if there is none).
    pub fn highest_usable(&self) -> u64 {
        self.regions_of(RegionKind::Usable).last().map_or(0, |r| r.end)
    }

    /// Whether `[start, end)` may be mapped as a device window: it is not empty, does
    /// not touch page 0, and lies entirely in `Reserved` regions or in holes of the
    /// map, never in RAM (usable, ACPI tables or NVS, bad). This is what stops a
    /// made-up BAR or MCFG entry from turning kernel or program memory into "MMIO".
    pub fn is_device_window(&self, start: u64, end: u64) -> bool {
        start < end
            && start >= crate::layout::PAGE_SIZE
            && self
                .regions()
                .iter()
                .filter(|region| region.start < end && start < region.end)
                .all(|region| region.kind == RegionKind::Reserved)
    }
}

impl Default for MemoryMap {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for MemoryMap {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.regions()).finish()
    }
}

#[cfg(test)]
mod tests;
