//! Removing one 4 KiB page from an existing mapping, for guard pages below stacks.
//!
//! Stacks live in memory that the identity map covers with large pages, so unmapping
//! a single page splits the 1 GiB or 2 MiB page around it into 512 pages of the next
//! size down, with the same flags and targets, until a 4 KiB leaf can be cleared. The
//! rest of the range stays mapped exactly as before.

use super::{
    ADDR_MASK, ENTRIES, HUGE_BIT, PageFlags, PageTableBuilder, TABLE_ENTRY_FLAGS, TableMemory,
    index, is_canonical, is_leaf, leaf_addr_mask, level_bytes,
};
use crate::error::MemError;
use crate::layout::{PAGE_SIZE, is_aligned};

impl<M: TableMemory> PageTableBuilder<'_, M> {
    /// Unmaps the 4 KiB page at `virt`, splitting any larger page that covers it.
    /// The caller must flush the TLB entry for `virt` on every core using the tables.
    ///
    /// Errors: [`MemError::Misaligned`] if `virt` is not 4 KiB aligned,
    /// [`MemError::NonCanonical`] if it is not canonical, [`MemError::InvalidRange`]
    /// if nothing maps it (a guard page must cut into a mapping, not sit in a hole).
    /// Only an allocation failure while splitting can leave a split without the
    /// page removed; the mapping is then still complete and correct.
    pub fn unmap_page(&mut self, virt: u64) -> Result<(), MemError> {
        if !is_aligned(virt, PAGE_SIZE) {
            return Err(MemError::Misaligned);
        }
        if !is_canonical(virt) {
            return Err(MemError::NonCanonical);
        }
        let mut table = self.root;
        for level in (2..=4).rev() {
            let slot = index(virt, level);
            let mut entry = self.memory.read_entry(table, slot);
            if entry & PageFlags::PRESENT.bits() == 0 {
                return Err(MemError::InvalidRange);
            }
            if is_leaf(entry, level) {
                entry = self.split(entry, level)?;
                self.memory.write_entry(table, slot, entry);
            }
            table = entry & ADDR_MASK;
        }
        let slot = index(virt, 1);
        if self.memory.read_entry(table, slot) & PageFlags::PRESENT.bits() == 0 {
            return Err(MemError::InvalidRange);
        }
        self.memory.write_entry(table, slot, 0);
        Ok(())
    }

    /// Builds a table of 512 pages one size down that map exactly what the large leaf
    /// `entry` at `level` maps, and returns the table entry that replaces it.
    fn split(&mut self, entry: u64, level: u32) -> Result<u64, MemError> {
        let child = self.allocate_table()?;
        let base = entry & leaf_addr_mask(level);
        let flags = entry & !leaf_addr_mask(level) & !HUGE_BIT;
        // The PAT bit of a large leaf sits at bit 12, inside the address mask of a
        // 4 KiB leaf; the kernel never sets it, so it is simply not carried over.
        let flags = flags & !(1 << 12);
        let child_huge = if level - 1 > 1 { HUGE_BIT } else { 0 };
        let step = level_bytes(level - 1);
        for i in 0..ENTRIES {
            self.memory.write_entry(child, i as usize, (base + i * step) | flags | child_huge);
        }
        Ok(child | TABLE_ENTRY_FLAGS)
    }
}
