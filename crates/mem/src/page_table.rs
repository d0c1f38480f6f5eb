//! Builder for x86-64 4-level page tables.
//!
//! The kernel builds the page tables for itself and for the program before
//! switching to them. The walking and entry-encoding logic lives here, away
//! from any hardware access: tables are reached only through the
//! [`TableMemory`] trait, which the kernel implements over identity-mapped RAM
//! and the tests implement over a plain vector.
//!
//! [`PageTableBuilder::map`] always uses the largest page that fits, never
//! splits an existing large page, and accepts re-mapping what is already
//! mapped identically, so callers can map overlapping windows (e.g. "all RAM"
//! and "the kernel image") without bookkeeping. Only 4-level paging (48-bit
//! virtual addresses) is supported.

use bitflags::bitflags;

use crate::error::MemError;
use crate::layout::{HUGE_PAGE_SIZE, LARGE_PAGE_SIZE, PAGE_SIZE, is_aligned};

bitflags! {
    /// Flags of a page-table entry (the subset the kernel uses).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct PageFlags: u64 {
        /// The entry is valid.
        const PRESENT = 1;
        /// Writes are allowed.
        const WRITABLE = 1 << 1;
        /// Write-through caching.
        const WRITE_THROUGH = 1 << 3;
        /// Caching disabled (for MMIO).
        const CACHE_DISABLE = 1 << 4;
        /// Not flushed from the TLB on CR3 switches (needs CR4.PGE).
        const GLOBAL = 1 << 8;
        /// Instruction fetches are not allowed (needs EFER.NXE).
        const NO_EXECUTE = 1 << 63;
    }
}

/// Size of the page that maps an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageSize {
    /// 4 KiB page (page-table leaf).
    Size4K,
    /// 2 MiB page (page-directory leaf).
    Size2M,
    /// 1 GiB page (PDPT leaf; needs CPUID pdpe1gb).
    Size1G,
}

impl PageSize {
    /// The page size in bytes.
    pub const fn bytes(self) -> u64 {
        match self {
            Self::Size4K => PAGE_SIZE,
            Self::Size2M => LARGE_PAGE_SIZE,
            Self::Size1G => HUGE_PAGE_SIZE,
        }
    }

    /// Table level whose entries map pages of this size (1 = page table).
    const fn level(self) -> u32 {
        match self {
            Self::Size4K => 1,
            Self::Size2M => 2,
            Self::Size1G => 3,
        }
    }

    /// The page size mapped by a leaf at `level` (1..=3).
    const fn at_level(level: u32) -> Self {
        match level {
            1 => Self::Size4K,
            2 => Self::Size2M,
            _ => Self::Size1G,
        }
    }
}

/// Where the builder keeps page tables: physical 4 KiB frames addressed by
/// physical address.
///
/// The kernel implements it over identity-mapped RAM; tests implement it over
/// a HashMap/Vec.
pub trait TableMemory {
    /// Allocates a zeroed 4 KiB frame for a table and returns its physical
    /// address.
    fn allocate_table(&mut self) -> Result<u64, MemError>;
    /// Reads entry `index` (0..512) of the table at physical address `table`.
    fn read_entry(&self, table: u64, index: usize) -> u64;
    /// Writes entry `index` of the table at `table`.
    fn write_entry(&mut self, table: u64, index: usize, entry: u64);
}

/// Physical-address bits of a table pointer or 4 KiB leaf.
const ADDR_MASK: u64 = 0x000F_FFFF_FFFF_F000;
/// Page-size bit: a PD/PDPT entry that maps a page rather than a table.
const HUGE_BIT: u64 = 1 << 7;
/// Bits the CPU sets on use; ignored when comparing leaves.
const ACCESSED_DIRTY: u64 = (1 << 5) | (1 << 6);
/// First physical address x86-64 cannot express.
const PHYS_LIMIT: u64 = 1 << 52;
/// Entries per table.
const ENTRIES: u64 = 512;
/// Intermediate entries: present and writable; leaves decide the rest.
const TABLE_ENTRY_FLAGS: u64 = PageFlags::PRESENT.bits() | PageFlags::WRITABLE.bits();

/// Canonical-address helper: whether bits 63..47 of `virt` are all equal
/// (4-level paging).
pub fn is_canonical(virt: u64) -> bool {
    (((virt << 16) as i64) >> 16) as u64 == virt
}

/// Bytes mapped by one entry at `level` (1 = page table .. 4 = PML4).
const fn level_bytes(level: u32) -> u64 {
    PAGE_SIZE << (9 * (level - 1))
}

/// Index of `virt` in a table at `level`.
const fn index(virt: u64, level: u32) -> usize {
    ((virt >> (12 + 9 * (level - 1))) % ENTRIES) as usize
}

/// Whether a present entry at `level` maps a page (rather than a table).
const fn is_leaf(entry: u64, level: u32) -> bool {
    level == 1 || (level <= 3 && entry & HUGE_BIT != 0)
}

/// Physical-address bits of a leaf at `level`.
const fn leaf_addr_mask(level: u32) -> u64 {
    ADDR_MASK & !(level_bytes(level) - 1)
}

/// Builds and inspects x86-64 4-level page tables stored in a [`TableMemory`].
pub struct PageTableBuilder<'m, M: TableMemory> {
    memory: &'m mut M,
    root: u64,
    allow_1g: bool,
    tables: usize,
}

impl<'m, M: TableMemory> PageTableBuilder<'m, M> {
    /// Allocates a fresh empty PML4. `allow_1g` says whether the CPU supports
    /// 1 GiB pages (CPUID pdpe1gb).
    pub fn new(memory: &'m mut M, allow_1g: bool) -> Result<Self, MemError> {
        let mut builder = Self { memory, root: 0, allow_1g, tables: 0 };
        builder.root = builder.allocate_table()?;
        Ok(builder)
    }

    /// Continues with an existing PML4 at physical address `root` (the low 12
    /// bits, e.g. CR3 flags or a PCID, are ignored).
    pub fn with_root(memory: &'m mut M, root: u64, allow_1g: bool) -> Self {
        Self { memory, root: root & ADDR_MASK, allow_1g, tables: 0 }
    }

    /// Physical address of the PML4 (the value for CR3).
    pub fn root(&self) -> u64 {
        self.root
    }

    /// Maps `[virt, virt+len)` to `[phys, phys+len)` using the largest page
    /// size that alignment of both addresses and remaining length allow at
    /// each step (1 GiB if allowed, 2 MiB, else 4 KiB).
    ///
    /// Errors, checked in this order before anything is written:
    /// * [`MemError::Misaligned`]: `virt`, `phys` or `len` not 4 KiB aligned,
    ///   or `len == 0`.
    /// * [`MemError::NonCanonical`]: the virtual range is not canonical or
    ///   crosses the canonical hole.
    /// * [`MemError::InvalidRange`]: the physical range reaches 2^52.
    ///
    /// Intermediate entries get `PRESENT | WRITABLE` (never `NO_EXECUTE`, never
    /// cache bits); existing intermediate entries are used as they are. Leaf
    /// entries get `flags | PRESENT` (+ the PS bit for 2M/1G); flag bits not
    /// defined by [`PageFlags`] are dropped.
    ///
    /// A page already mapped to exactly the same physical address with the
    /// same flags (accessed/dirty bits aside), also when covered by an
    /// existing larger page or by existing smaller pages, is left alone, so
    /// mapping is idempotent. Where the range is only partly mapped by smaller
    /// pages, the gaps are filled with pages of that smaller size. Existing
    /// large pages are never split.
    ///
    /// [`MemError::AlreadyMapped`] if any page of the range maps something
    /// else (or would need a large page split). Conflicts are found in a
    /// read-only pass first, so on `AlreadyMapped` nothing has been changed.
    /// Only an error from [`TableMemory::allocate_table`] can leave the range
    /// partly mapped; those pages are valid and a retry completes them.
    pub fn map(
        &mut self,
        virt: u64,
        phys: u64,
        len: u64,
        flags: PageFlags,
    ) -> Result<(), MemError> {
        if len == 0 || !is_aligned(virt | phys | len, PAGE_SIZE) {
            return Err(MemError::Misaligned);
        }
        let last = virt.checked_add(len - 1).ok_or(MemError::NonCanonical)?;
        if !is_canonical(virt) || !is_canonical(last) || (virt ^ last) & (1 << 47) != 0 {
            return Err(MemError::NonCanonical);
        }
        match phys.checked_add(len - 1) {
            Some(phys_last) if phys_last < PHYS_LIMIT => {}
            _ => return Err(MemError::InvalidRange),
        }
        let leaf_flags = ((flags & PageFlags::all()) | PageFlags::PRESENT).bits();
        self.map_range(virt, phys, len, leaf_flags, false)?;
        self.map_range(virt, phys, len, leaf_flags, true)
    }

    /// Walks the tables: physical address for `virt` and the size of the
    /// page that maps it, or `None`.
    pub fn translate(&self, virt: u64) -> Option<(u64, PageSize)> {
        self.lookup(virt).map(|(phys, size, _)| (phys, size))
    }

    /// Like [`translate`](Self::translate), but also returns the leaf's flags
    /// (the bits [`PageFlags`] defines).
    pub fn lookup(&self, virt: u64) -> Option<(u64, PageSize, PageFlags)> {
        if !is_canonical(virt) {
            return None;
        }
        let mut table = self.root;
        for level in (1..=4).rev() {
            let entry = self.memory.read_entry(table, index(virt, level));
            if entry & PageFlags::PRESENT.bits() == 0 {
                return None;
            }
            if is_leaf(entry, level) {
                let offset = virt & (level_bytes(level) - 1);
                let phys = (entry & leaf_addr_mask(level)) + offset;
                let flags = PageFlags::from_bits_truncate(entry);
                return Some((phys, PageSize::at_level(level), flags));
            }
            table = entry & ADDR_MASK;
        }
        None
    }

    /// Number of table frames allocated by this builder so far (for
    /// reporting).
    pub fn tables_allocated(&self) -> usize {
        self.tables
    }

    fn allocate_table(&mut self) -> Result<u64, MemError> {
        let table = self.memory.allocate_table()?;
        if table & !ADDR_MASK != 0 {
            return Err(MemError::Misaligned);
        }
        self.tables += 1;
        Ok(table)
    }

    /// One pass over the range, page by page. With `apply == false` it only
    /// checks for conflicts and changes nothing.
    fn map_range(
        &mut self,
        virt: u64,
        phys: u64,
        len: u64,
        leaf_flags: u64,
        apply: bool,
    ) -> Result<(), MemError> {
        let mut offset = 0;
        // The table that took the last page: (table, its level, which span of that
        // level's 512 entries it covers). The next page in the same span starts there
        // instead of walking down from the root again.
        let mut last: Option<(u64, u32, u64)> = None;
        while offset < len {
            let (v, p, rest) = (virt + offset, phys + offset, len - offset);
            let fits = |size: PageSize| is_aligned(v | p, size.bytes()) && rest >= size.bytes();
            let size = if self.allow_1g && fits(PageSize::Size1G) {
                PageSize::Size1G
            } else if fits(PageSize::Size2M) {
                PageSize::Size2M
            } else {
                PageSize::Size4K
            };
            let level = size.level();
            if !apply && let Some(free) = self.unmapped_bytes(v) {
                // Nothing is mapped under this entry, so nothing in it can conflict.
                offset += free;
                last = None;
                continue;
            }
            let span = v / (size.bytes() * ENTRIES);
            if apply
                && let Some((table, at, of)) = last
                && at == level
                && of == span
            {
                let run = self.fill_empty_run(table, level, v, p, rest, leaf_flags);
                if run > 0 {
                    offset += run;
                    continue;
                }
            }
            let req = PageRequest { virt: v, phys: p, level, leaf_flags, apply };
            let table = match last {
                Some((table, at, of)) if at == level && of == span => {
                    self.map_page(table, level, req)?
                }
                _ => self.map_page(self.root, 4, req)?,
            };
            last = table.map(|table| (table, level, span));
            offset += size.bytes();
        }
        Ok(())
    }

    /// When the walk for `virt` meets an entry that is not present, the bytes from
    /// `virt` to the end of what that entry and the absent entries after it in the
    /// same table would map (nothing there is mapped); `None` when a present page
    /// maps `virt`.
    fn unmapped_bytes(&self, virt: u64) -> Option<u64> {
        let mut table = self.root;
        for level in (1..=4).rev() {
            let idx = index(virt, level);
            let entry = self.memory.read_entry(table, idx);
            if entry & PageFlags::PRESENT.bits() == 0 {
                let absent = (idx + 1..ENTRIES as usize)
                    .take_while(|&next| {
                        self.memory.read_entry(table, next) & PageFlags::PRESENT.bits() == 0
                    })
                    .count() as u64;
                let bytes = level_bytes(level);
                return Some((absent + 1) * bytes - (virt & (bytes - 1)));
            }
            if is_leaf(entry, level) {
                return None;
            }
            table = entry & ADDR_MASK;
        }
        None
    }

    /// Writes leaves of `level` into the consecutive empty entries of `table` from
    /// `virt`'s entry on, up to the table's end or `rest` bytes, stopping at the first
    /// present entry (which the caller handles page by page). Returns the bytes
    /// mapped. The same pages [`map_page`](Self::map_page) would write, without
    /// walking to each one: the identity map's thousands of 2 MiB pages at boot.
    fn fill_empty_run(
        &mut self,
        table: u64,
        level: u32,
        virt: u64,
        phys: u64,
        rest: u64,
        leaf_flags: u64,
    ) -> u64 {
        let page = level_bytes(level);
        let huge = if level > 1 { HUGE_BIT } else { 0 };
        let first = index(virt, level);
        let count = (rest / page).min(ENTRIES - first as u64);
        let mut done = 0;
        while done < count {
            let idx = first + done as usize;
            if self.memory.read_entry(table, idx) & PageFlags::PRESENT.bits() != 0 {
                break;
            }
            self.memory.write_entry(table, idx, (phys + done * page) | leaf_flags | huge);
            done += 1;
        }
        done * page
    }

    /// Carries out `req` in the table at `level` (4 = PML4). Returns the table at the
    /// request's own level, when one was reached.
    fn map_page(
        &mut self,
        table: u64,
        level: u32,
        req: PageRequest,
    ) -> Result<Option<u64>, MemError> {
        let idx = index(req.virt, level);
        let entry = self.memory.read_entry(table, idx);
        let huge = if level > 1 { HUGE_BIT } else { 0 };
        let reached = (level == req.level).then_some(table);
        if entry & PageFlags::PRESENT.bits() == 0 {
            if !req.apply {
                // Nothing below this entry can conflict.
                return Ok(reached);
            }
            if level == req.level {
                self.memory.write_entry(table, idx, req.phys | req.leaf_flags | huge);
                return Ok(reached);
            }
            let child = self.allocate_table()?;
            self.memory.write_entry(table, idx, child | TABLE_ENTRY_FLAGS);
            return self.map_page(child, level - 1, req);
        }
        if is_leaf(entry, level) {
            // An existing page of this size or larger covers the request.
            let mask = leaf_addr_mask(level);
            let offset = req.virt & (level_bytes(level) - 1);
            let same_target = (entry & mask) + offset == req.phys;
            let same_flags = entry & !mask & !ACCESSED_DIRTY == req.leaf_flags | huge;
            return if same_target && same_flags {
                Ok(reached)
            } else {
                Err(MemError::AlreadyMapped)
            };
        }
        let child = entry & ADDR_MASK;
        if level > req.level {
            return self.map_page(child, level - 1, req);
        }
        // Smaller pages already live under this entry: check or fill each.
        let step = level_bytes(level - 1);
        for i in 0..ENTRIES {
            let sub = PageRequest {
                virt: req.virt + i * step,
                phys: req.phys + i * step,
                level: level - 1,
                ..req
            };
            self.map_page(child, level - 1, sub)?;
        }
        Ok(reached)
    }
}

/// One page to map during a [`PageTableBuilder::map`] pass.
#[derive(Clone, Copy)]
struct PageRequest {
    virt: u64,
    phys: u64,
    /// Table level the leaf belongs in (1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB).
    level: u32,
    /// Complete leaf flags, PRESENT included, PS excluded.
    leaf_flags: u64,
    /// `false` for the read-only conflict check, `true` to write.
    apply: bool,
}

mod unmap;

#[cfg(test)]
mod tests;
