//! Physical memory through the identity map: reading loader structures, and the
//! frames page tables are built in.

use core::sync::atomic::{AtomicU64, Ordering};

use ingot_mem::{MemError, PAGE_SIZE, TableMemory};

use crate::frames::PhysicalFrames;

/// End of identity-mapped physical memory. The boot stub maps the first 4 GiB; the
/// kernel raises this once its own tables map more.
static IDENTITY_END: AtomicU64 = AtomicU64::new(4 << 30);
/// Start of identity-mapped memory. The boot stub maps page 0 (loaders put their
/// structures there); the kernel's own tables leave it unmapped to catch null pointers.
static IDENTITY_START: AtomicU64 = AtomicU64::new(0);

/// Records that the kernel's tables are active: `[PAGE_SIZE, end)` is identity-mapped.
pub(crate) fn set_identity_end(end: u64) {
    IDENTITY_START.store(PAGE_SIZE, Ordering::Release);
    IDENTITY_END.store(end, Ordering::Release);
}

pub(crate) fn is_identity_mapped(address: u64, len: u64) -> bool {
    address >= IDENTITY_START.load(Ordering::Acquire)
        && address.checked_add(len).is_some_and(|end| end <= IDENTITY_END.load(Ordering::Acquire))
}

/// Reads physical memory through the identity map.
pub struct IdentityMemory;

impl ingot_bootinfo::PhysicalMemory for IdentityMemory {
    fn read(&self, address: u64, buffer: &mut [u8]) -> bool {
        if !is_identity_mapped(address, buffer.len() as u64) {
            return false;
        }
        // SAFETY: the range is identity-mapped (checked above), it is RAM or firmware
        // tables, and the copy is byte-wise so alignment does not matter.
        unsafe {
            core::ptr::copy_nonoverlapping(address as *const u8, buffer.as_mut_ptr(), buffer.len())
        }
        true
    }
}

/// Page-table frames taken from a [`FrameAllocator`] and written through the identity map.
pub struct TableFrames<'a> {
    frames: &'a mut PhysicalFrames,
}

impl<'a> TableFrames<'a> {
    /// Page tables will be allocated from `frames`, below the end of the identity map.
    pub fn new(frames: &'a mut PhysicalFrames) -> Self {
        Self { frames }
    }

    fn entry_pointer(table: u64, index: usize) -> *mut u64 {
        assert!(
            index < 512 && table.is_multiple_of(PAGE_SIZE) && is_identity_mapped(table, PAGE_SIZE)
        );
        (table + index as u64 * 8) as *mut u64
    }
}

impl TableMemory for TableFrames<'_> {
    fn allocate_table(&mut self) -> Result<u64, MemError> {
        let limit = IDENTITY_END.load(Ordering::Acquire);
        let table = self.frames.allocator_mut().allocate_below(1, PAGE_SIZE, limit)?;
        // SAFETY: the frame was just allocated (nobody else uses it) and is identity-mapped.
        unsafe { core::ptr::write_bytes(table as *mut u8, 0, PAGE_SIZE as usize) }
        Ok(table)
    }

    fn read_entry(&self, table: u64, index: usize) -> u64 {
        // SAFETY: `entry_pointer` checks the table is an identity-mapped, aligned frame;
        // tables are only ever created by `allocate_table`.
        unsafe { Self::entry_pointer(table, index).read_volatile() }
    }

    fn write_entry(&mut self, table: u64, index: usize, entry: u64) {
        // SAFETY: as for `read_entry`; the builder owns the tables it writes.
        unsafe { Self::entry_pointer(table, index).write_volatile(entry) }
    }
}

/// The page tables the CPU uses now, read through the identity map and never written,
/// for translating virtual addresses ([`ingot_mem::PageTableBuilder::lookup`]). An
/// entry outside the identity map reads as not present; allocation fails.
pub(crate) struct ActiveTables;

impl TableMemory for ActiveTables {
    fn allocate_table(&mut self) -> Result<u64, MemError> {
        Err(MemError::OutOfMemory)
    }

    fn read_entry(&self, table: u64, index: usize) -> u64 {
        if index >= 512 || !table.is_multiple_of(PAGE_SIZE) || !is_identity_mapped(table, PAGE_SIZE)
        {
            return 0;
        }
        // SAFETY: an aligned entry of an identity-mapped frame (checked); reading a
        // page-table entry has no side effects and tables are never freed.
        unsafe { ((table + index as u64 * 8) as *const u64).read_volatile() }
    }

    fn write_entry(&mut self, _table: u64, _index: usize, _entry: u64) {}
}
