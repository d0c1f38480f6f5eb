//! Unit tests for [`PageTableBuilder`], using a vector-backed fake memory.

use super::{PageFlags, PageSize, PageTableBuilder, TableMemory, is_canonical};
use crate::error::MemError;
use crate::layout::{HUGE_PAGE_SIZE, LARGE_PAGE_SIZE, PAGE_SIZE, PROGRAM_BASE};

const GIB: u64 = HUGE_PAGE_SIZE;
const PS_BIT: u64 = 1 << 7;

/// Tables live in a vector; table `i` has physical address `BASE + i * 4096`.
pub(super) struct FakeMemory {
    tables: Vec<[u64; 512]>,
    /// Maximum number of tables, to test allocation failure.
    limit: usize,
}

impl FakeMemory {
    const BASE: u64 = 0x7700_0000;

    pub(super) fn new() -> Self {
        Self { tables: Vec::new(), limit: usize::MAX }
    }

    fn slot(table: u64) -> usize {
        assert_eq!(table % PAGE_SIZE, 0, "unaligned table address");
        ((table - Self::BASE) / PAGE_SIZE) as usize
    }
}

impl TableMemory for FakeMemory {
    fn allocate_table(&mut self) -> Result<u64, MemError> {
        if self.tables.len() >= self.limit {
            return Err(MemError::OutOfMemory);
        }
        self.tables.push([0; 512]);
        Ok(Self::BASE + (self.tables.len() as u64 - 1) * PAGE_SIZE)
    }

    fn read_entry(&self, table: u64, index: usize) -> u64 {
        self.tables[Self::slot(table)][index]
    }

    fn write_entry(&mut self, table: u64, index: usize, entry: u64) {
        self.tables[Self::slot(table)][index] = entry;
    }
}

fn rw() -> PageFlags {
    PageFlags::WRITABLE
}

#[test]
fn page_size_bytes() {
    assert_eq!(PageSize::Size4K.bytes(), 4096);
    assert_eq!(PageSize::Size2M.bytes(), 2 * 1024 * 1024);
    assert_eq!(PageSize::Size1G.bytes(), 1024 * 1024 * 1024);
}

#[test]
fn canonical_addresses() {
    assert!(is_canonical(0));
    assert!(is_canonical(0x0000_7FFF_FFFF_FFFF));
    assert!(!is_canonical(0x0000_8000_0000_0000));
    assert!(!is_canonical(0xFFFF_7FFF_FFFF_FFFF));
    assert!(is_canonical(0xFFFF_8000_0000_0000));
    assert!(is_canonical(PROGRAM_BASE));
    assert!(is_canonical(u64::MAX));
    assert!(!is_canonical(0x0001_0000_0000_0000));
}

#[test]
fn new_allocates_only_the_root() {
    let mut mem = FakeMemory::new();
    let b = PageTableBuilder::new(&mut mem, false).unwrap();
    assert_eq!(b.tables_allocated(), 1);
    assert_eq!(b.root(), FakeMemory::BASE);
    assert_eq!(b.translate(0), None);
    assert_eq!(b.translate(PROGRAM_BASE), None);
}

#[test]
fn new_propagates_allocation_failure() {
    let mut mem = FakeMemory::new();
    mem.limit = 0;
    assert!(matches!(PageTableBuilder::new(&mut mem, false), Err(MemError::OutOfMemory)));
}

#[test]
fn identity_map_4g_with_2m_pages_uses_six_tables() {
    let mut mem = FakeMemory::new();
    let mut b = PageTableBuilder::new(&mut mem, false).unwrap();
    b.map(0, 0, 4 * GIB, rw()).unwrap();
    assert_eq!(b.tables_allocated(), 6);
    for addr in [0, 0x1234, 0x20_0000, 0xF234_5678, 4 * GIB - 1] {
        assert_eq!(b.translate(addr), Some((addr, PageSize::Size2M)));
    }
    assert_eq!(b.translate(4 * GIB), None);
}

#[test]
fn identity_map_4g_with_1g_pages_uses_two_tables() {
    let mut mem = FakeMemory::new();
    let mut b = PageTableBuilder::new(&mut mem, true).unwrap();
    b.map(0, 0, 4 * GIB, rw()).unwrap();
    assert_eq!(b.tables_allocated(), 2);
    for addr in [0, 0xFFF, 0x4000_0000, 0xC000_1234, 4 * GIB - 8] {
        assert_eq!(b.translate(addr), Some((addr, PageSize::Size1G)));
    }
}

#[test]
fn translate_round_trips_with_offsets() {
    let mut mem = FakeMemory::new();
    let mut b = PageTableBuilder::new(&mut mem, true).unwrap();
    b.map(0x40_0000, 0x1_0000_0000, 0x20_0000, rw()).unwrap();
    b.map(0x7000, 0x9_9000, 0x1000, rw()).unwrap();
    b.map(0xFFFF_FFFF_C000_0000, 0x8000_0000, GIB, rw()).unwrap();
    assert_eq!(b.translate(0x40_0000), Some((0x1_0000_0000, PageSize::Size2M)));
    assert_eq!(b.translate(0x4A_BCDE), Some((0x1_000A_BCDE, PageSize::Size2M)));
    assert_eq!(b.translate(0x7ABC), Some((0x9_9ABC, PageSize::Size4K)));
    assert_eq!(b.translate(0x8000), None);
    assert_eq!(b.translate(0x6FFF), None);
    assert_eq!(b.translate(u64::MAX), Some((0xBFFF_FFFF, PageSize::Size1G)));
    assert_eq!(b.translate(0xFFFF_FFFF_C000_0010), Some((0x8000_0010, PageSize::Size1G)));
    assert_eq!(b.translate(0x0000_8000_0000_0000), None);
}

#[test]
fn unaligned_program_window_mixes_4k_and_2m_pages() {
    let mut mem = FakeMemory::new();
    let mut b = PageTableBuilder::new(&mut mem, true).unwrap();
    // 16 pages up to a 2 MiB boundary, two 2 MiB pages, then 3 pages.
    let virt = PROGRAM_BASE + 0x1F_0000;
    let phys = 0x40_0000 + 0x1F_0000;
    let len = 0x1_0000 + 2 * LARGE_PAGE_SIZE + 0x3000;
    b.map(virt, phys, len, rw()).unwrap();
    let size_at = |off: u64| b.translate(virt + off).map(|(_, s)| s);
    for off in (0..0x1_0000).step_by(0x1000) {
        assert_eq!(b.translate(virt + off), Some((phys + off, PageSize::Size4K)));
    }
    assert_eq!(size_at(0x1_0000), Some(PageSize::Size2M));
    assert_eq!(size_at(0x1_0000 + LARGE_PAGE_SIZE + 0x5123), Some(PageSize::Size2M));
    let tail = 0x1_0000 + 2 * LARGE_PAGE_SIZE;
    assert_eq!(size_at(tail), Some(PageSize::Size4K));
    assert_eq!(size_at(tail + 0x2FFF), Some(PageSize::Size4K));
    assert_eq!(size_at(tail + 0x3000), None);
    assert_eq!(b.translate(virt - 1), None);
    assert_eq!(b.translate(virt + tail + 0x2ABC), Some((phys + tail + 0x2ABC, PageSize::Size4K)));
    // PML4 + PDPT + PD + 2 page tables (head and tail).
    assert_eq!(b.tables_allocated(), 5);
}

#[test]
fn differently_aligned_addresses_force_4k_pages() {
    let mut mem = FakeMemory::new();
    let mut b = PageTableBuilder::new(&mut mem, true).unwrap();
    b.map(PROGRAM_BASE, 0x1000, 2 * LARGE_PAGE_SIZE, rw()).unwrap();
    assert_eq!(b.translate(PROGRAM_BASE), Some((0x1000, PageSize::Size4K)));
    assert_eq!(
        b.translate(PROGRAM_BASE + LARGE_PAGE_SIZE + 0x10),
        Some((0x1000 + LARGE_PAGE_SIZE + 0x10, PageSize::Size4K))
    );
    assert_eq!(b.tables_allocated(), 5);
}

#[test]
fn entry_encoding_of_leaves_and_intermediates() {
    let mut mem = FakeMemory::new();
    let flags = PageFlags::WRITABLE
        | PageFlags::NO_EXECUTE
        | PageFlags::CACHE_DISABLE
        | PageFlags::WRITE_THROUGH
        | PageFlags::GLOBAL;
    let root = {
        let mut b = PageTableBuilder::new(&mut mem, false).unwrap();
        b.map(0x20_0000, 0xFEE0_0000, LARGE_PAGE_SIZE, flags).unwrap();
        b.map(0x1000, 0xB8000, 0x1000, PageFlags::NO_EXECUTE).unwrap();
        assert_eq!(
            b.lookup(0x1000),
            Some((0xB8000, PageSize::Size4K, PageFlags::PRESENT | PageFlags::NO_EXECUTE))
        );
        b.root()
    };
    let table_flags = PageFlags::PRESENT.bits() | PageFlags::WRITABLE.bits();
    let pml4e = mem.read_entry(root, 0);
    assert_eq!(pml4e & !super::ADDR_MASK, table_flags);
    let pdpt = pml4e & super::ADDR_MASK;
    let pdpte = mem.read_entry(pdpt, 0);
    assert_eq!(pdpte & !super::ADDR_MASK, table_flags);
    let pd = pdpte & super::ADDR_MASK;
    assert_eq!(mem.read_entry(pd, 1), 0xFEE0_0000 | flags.bits() | 1 | PS_BIT);
    let pde = mem.read_entry(pd, 0);
    assert_eq!(pde & !super::ADDR_MASK, table_flags);
    assert_eq!(mem.read_entry(pde & super::ADDR_MASK, 1), 0xB8000 | 1 | (1 << 63));
}

#[test]
fn undefined_flag_bits_are_dropped() {
    let mut mem = FakeMemory::new();
    let mut b = PageTableBuilder::new(&mut mem, false).unwrap();
    let junk = PageFlags::from_bits_retain(PS_BIT | (1 << 40) | PageFlags::WRITABLE.bits());
    b.map(0x1000, 0x5000, 0x1000, junk).unwrap();
    assert_eq!(b.translate(0x1000), Some((0x5000, PageSize::Size4K)));
    assert_eq!(b.lookup(0x1000).unwrap().2, PageFlags::PRESENT | PageFlags::WRITABLE);
}

#[test]
fn idempotent_remap_is_ok_and_allocates_nothing() {
    let mut mem = FakeMemory::new();
    let mut b = PageTableBuilder::new(&mut mem, false).unwrap();
    b.map(0, 0, 8 * LARGE_PAGE_SIZE + 0x5000, rw()).unwrap();
    let tables = b.tables_allocated();
    b.map(0, 0, 8 * LARGE_PAGE_SIZE + 0x5000, rw()).unwrap();
    // A 4 KiB piece inside an existing 2 MiB page.
    b.map(0x30_1000, 0x30_1000, 0x2000, rw()).unwrap();
    // PRESENT given explicitly is the same mapping.
    b.map(0x40_0000, 0x40_0000, 0x1000, rw() | PageFlags::PRESENT).unwrap();
    assert_eq!(b.tables_allocated(), tables);
    assert_eq!(b.translate(0x30_1234), Some((0x30_1234, PageSize::Size2M)));
}

#[test]
fn large_page_over_existing_small_pages() {
    let mut mem = FakeMemory::new();
    let mut b = PageTableBuilder::new(&mut mem, false).unwrap();
    // First half of a 2 MiB area as 4 KiB pages (length forces 4K).
    b.map(PROGRAM_BASE, 0x20_0000, 0x10_0000, rw()).unwrap();
    let tables = b.tables_allocated();
    // Mapping the whole area consistently fills the second half with 4K pages.
    b.map(PROGRAM_BASE, 0x20_0000, LARGE_PAGE_SIZE, rw()).unwrap();
    assert_eq!(b.tables_allocated(), tables);
    assert_eq!(b.translate(PROGRAM_BASE + 0x8_0000), Some((0x28_0000, PageSize::Size4K)));
    assert_eq!(b.translate(PROGRAM_BASE + 0x1F_F000), Some((0x3F_F000, PageSize::Size4K)));
    // And again: everything identical now.
    b.map(PROGRAM_BASE, 0x20_0000, LARGE_PAGE_SIZE, rw()).unwrap();
}

#[test]
fn huge_page_over_existing_large_pages() {
    let mut mem = FakeMemory::new();
    let mut b = PageTableBuilder::new(&mut mem, true).unwrap();
    b.map(GIB, GIB, LARGE_PAGE_SIZE, rw()).unwrap();
    b.map(GIB, GIB, GIB, rw()).unwrap();
    assert_eq!(b.translate(GIB), Some((GIB, PageSize::Size2M)));
    assert_eq!(b.translate(GIB + 0x2345_6789), Some((GIB + 0x2345_6789, PageSize::Size2M)));
    assert_eq!(b.tables_allocated(), 3);
}

#[test]
fn conflicting_maps_return_already_mapped() {
    let mut mem = FakeMemory::new();
    let mut b = PageTableBuilder::new(&mut mem, false).unwrap();
    b.map(0x1000, 0x1000, 0x1000, rw()).unwrap();
    b.map(0x40_0000, 0x40_0000, LARGE_PAGE_SIZE, rw()).unwrap();
    // Different physical address.
    assert_eq!(b.map(0x1000, 0x2000, 0x1000, rw()), Err(MemError::AlreadyMapped));
    // Different flags.
    assert_eq!(b.map(0x1000, 0x1000, 0x1000, PageFlags::empty()), Err(MemError::AlreadyMapped));
    // Inside a large page but pointing elsewhere (would need a split).
    assert_eq!(b.map(0x40_1000, 0x9000, 0x1000, rw()), Err(MemError::AlreadyMapped));
    // Same target, different flags inside a large page (would need a split).
    let nx = rw() | PageFlags::NO_EXECUTE;
    assert_eq!(b.map(0x40_1000, 0x40_1000, 0x1000, nx), Err(MemError::AlreadyMapped));
    assert_eq!(b.translate(0x1000), Some((0x1000, PageSize::Size4K)));
    assert_eq!(b.translate(0x40_1000), Some((0x40_1000, PageSize::Size2M)));
}

#[test]
fn conflict_found_before_anything_is_written() {
    let mut mem = FakeMemory::new();
    let mut b = PageTableBuilder::new(&mut mem, false).unwrap();
    b.map(0x60_0000, 0x123_4000, 0x1000, rw()).unwrap();
    let tables = b.tables_allocated();
    // Large range whose last 2 MiB page collides with the small page above.
    let result = b.map(0, 0, 0x80_0000, rw());
    assert_eq!(result, Err(MemError::AlreadyMapped));
    assert_eq!(b.translate(0), None);
    assert_eq!(b.translate(0x20_0000), None);
    assert_eq!(b.tables_allocated(), tables);
    // A range in a fresh PML4 slot, colliding at its end, allocates nothing.
    b.map(0x80_0000_0000 + 0x40_0000, 0, 0x1000, rw()).unwrap();
    let tables = b.tables_allocated();
    assert_eq!(b.map(0x80_0000_0000, 0x1000_0000, 0x80_0000, rw()), Err(MemError::AlreadyMapped));
    assert_eq!(b.tables_allocated(), tables);
    assert_eq!(b.translate(0x80_0000_0000), None);
}

#[test]
fn accessed_and_dirty_bits_do_not_break_idempotence() {
    let mut mem = FakeMemory::new();
    let root = {
        let mut b = PageTableBuilder::new(&mut mem, false).unwrap();
        b.map(0, 0, LARGE_PAGE_SIZE, rw()).unwrap();
        b.root()
    };
    let pdpt = mem.read_entry(root, 0) & super::ADDR_MASK;
    let pd = mem.read_entry(pdpt, 0) & super::ADDR_MASK;
    let leaf = mem.read_entry(pd, 0);
    mem.write_entry(pd, 0, leaf | (1 << 5) | (1 << 6));
    let mut b = PageTableBuilder::with_root(&mut mem, root, false);
    b.map(0, 0, LARGE_PAGE_SIZE, rw()).unwrap();
    b.map(0x1000, 0x1000, 0x1000, rw()).unwrap();
    assert_eq!(b.tables_allocated(), 0);
}

#[test]
fn with_root_continues_existing_tables() {
    let mut mem = FakeMemory::new();
    let root = {
        let mut b = PageTableBuilder::new(&mut mem, false).unwrap();
        b.map(0, 0, 0x1000, rw()).unwrap();
        b.root()
    };
    // CR3-style low bits are ignored.
    let mut b = PageTableBuilder::with_root(&mut mem, root | 0x18, false);
    assert_eq!(b.root(), root);
    assert_eq!(b.translate(0), Some((0, PageSize::Size4K)));
    b.map(0x1000, 0x1000, 0x1000, rw()).unwrap();
    assert_eq!(b.tables_allocated(), 0);
    b.map(PROGRAM_BASE, 0x1000, 0x1000, rw()).unwrap();
    assert_eq!(b.tables_allocated(), 3);
}

#[test]
fn existing_1g_page_is_respected_even_without_allow_1g() {
    let mut mem = FakeMemory::new();
    let root = {
        let mut b = PageTableBuilder::new(&mut mem, true).unwrap();
        b.map(0, 0, GIB, rw()).unwrap();
        b.root()
    };
    let mut b = PageTableBuilder::with_root(&mut mem, root, false);
    b.map(0x20_0000, 0x20_0000, LARGE_PAGE_SIZE, rw()).unwrap();
    assert_eq!(b.map(0x20_0000, 0, LARGE_PAGE_SIZE, rw()), Err(MemError::AlreadyMapped));
    assert_eq!(b.translate(0x3456_7890), Some((0x3456_7890, PageSize::Size1G)));
}

#[test]
fn misaligned_inputs_rejected() {
    let mut mem = FakeMemory::new();
    let mut b = PageTableBuilder::new(&mut mem, false).unwrap();
    assert_eq!(b.map(0x1001, 0, 0x1000, rw()), Err(MemError::Misaligned));
    assert_eq!(b.map(0x1000, 0x800, 0x1000, rw()), Err(MemError::Misaligned));
    assert_eq!(b.map(0x1000, 0, 0x1800, rw()), Err(MemError::Misaligned));
    assert_eq!(b.map(0x1000, 0, 0, rw()), Err(MemError::Misaligned));
    assert_eq!(b.tables_allocated(), 1);
}

#[test]
fn non_canonical_inputs_rejected() {
    let mut mem = FakeMemory::new();
    let mut b = PageTableBuilder::new(&mut mem, false).unwrap();
    let err = Err(MemError::NonCanonical);
    assert_eq!(b.map(0x0000_8000_0000_0000, 0, 0x1000, rw()), err);
    assert_eq!(b.map(0xFFFF_7FFF_FFFF_F000, 0, 0x1000, rw()), err);
    // Ends beyond the lower half.
    assert_eq!(b.map(0x0000_7FFF_FFFF_F000, 0, 0x2000, rw()), err);
    // Wraps around the top of the address space.
    assert_eq!(b.map(0xFFFF_FFFF_FFFF_F000, 0, 0x2000, rw()), err);
    // Spans the whole hole from the lower to the upper half.
    assert_eq!(b.map(0x0000_7FFF_FFFF_F000, 0, 0xFFFF_0000_0000_2000, rw()), err);
    assert_eq!(b.tables_allocated(), 1);
    // The very last page and the last page below the hole are fine.
    b.map(0xFFFF_FFFF_FFFF_F000, 0x1000, 0x1000, rw()).unwrap();
    b.map(0x0000_7FFF_FFFF_F000, 0x2000, 0x1000, rw()).unwrap();
    assert_eq!(b.translate(u64::MAX), Some((0x1FFF, PageSize::Size4K)));
    assert_eq!(b.translate(0x0000_7FFF_FFFF_FFFF), Some((0x2FFF, PageSize::Size4K)));
}

#[test]
fn physical_addresses_beyond_52_bits_rejected() {
    let mut mem = FakeMemory::new();
    let mut b = PageTableBuilder::new(&mut mem, false).unwrap();
    let top = 1u64 << 52;
    assert_eq!(b.map(0, top, 0x1000, rw()), Err(MemError::InvalidRange));
    assert_eq!(b.map(0, top - 0x1000, 0x2000, rw()), Err(MemError::InvalidRange));
    assert_eq!(b.map(0, u64::MAX - 0xFFF, 0x1000, rw()), Err(MemError::InvalidRange));
    b.map(0, top - 0x1000, 0x1000, rw()).unwrap();
    assert_eq!(b.translate(0x10), Some((top - 0x1000 + 0x10, PageSize::Size4K)));
}

#[test]
fn table_allocation_failure_propagates_and_retry_completes() {
    let mut mem = FakeMemory::new();
    mem.limit = 3;
    let mut b = PageTableBuilder::new(&mut mem, false).unwrap();
    // Needs PML4 + PDPT + PD + PT: the page table cannot be allocated.
    assert_eq!(b.map(0, 0, 0x1000, rw()), Err(MemError::OutOfMemory));
    assert_eq!(b.translate(0), None);
    assert_eq!(b.tables_allocated(), 3);
    // A 2 MiB page needs no further table.
    b.map(LARGE_PAGE_SIZE, 0, LARGE_PAGE_SIZE, rw()).unwrap();
    assert_eq!(b.translate(LARGE_PAGE_SIZE), Some((0, PageSize::Size2M)));
}

mod random;
mod unmap;

#[test]
fn runs_of_pages_fill_every_entry_and_stop_at_present_ones() {
    let mut mem = FakeMemory::new();
    let mut b = PageTableBuilder::new(&mut mem, false).unwrap();
    // Pages already mapped in the middle of the later run: one identical, one 4 KiB table.
    b.map(
        0x1_0000_0000 + 5 * LARGE_PAGE_SIZE,
        0x40_0000_0000 + 5 * LARGE_PAGE_SIZE,
        LARGE_PAGE_SIZE,
        rw(),
    )
    .unwrap();
    b.map(0x1_0000_0000 + 9 * LARGE_PAGE_SIZE, 0x40_0000_0000 + 9 * LARGE_PAGE_SIZE, 0x1000, rw())
        .unwrap();
    b.map(0x1_0000_0000, 0x40_0000_0000, 2 * GIB + 3 * LARGE_PAGE_SIZE, rw()).unwrap();
    for page in 0..(2 * 512 + 3) {
        let virt = 0x1_0000_0000 + page * LARGE_PAGE_SIZE + 0x1234;
        let size = if page == 9 { PageSize::Size4K } else { PageSize::Size2M };
        assert_eq!(
            b.translate(virt),
            Some((virt - 0x1_0000_0000 + 0x40_0000_0000, size)),
            "{page}"
        );
    }
    assert_eq!(
        b.translate(0x1_0000_0000 + 9 * LARGE_PAGE_SIZE + 0x1F_F000).map(|t| t.1),
        Some(PageSize::Size4K)
    );
    assert_eq!(b.translate(0x1_0000_0000 + 2 * GIB + 3 * LARGE_PAGE_SIZE), None);
}

#[test]
fn conflict_in_the_middle_of_a_run_changes_nothing() {
    let mut mem = FakeMemory::new();
    let mut b = PageTableBuilder::new(&mut mem, false).unwrap();
    b.map(300 * LARGE_PAGE_SIZE, 0x9000_0000, LARGE_PAGE_SIZE, rw()).unwrap();
    let tables = b.tables_allocated();
    assert_eq!(b.map(0, 0, GIB, rw()), Err(MemError::AlreadyMapped));
    assert_eq!(b.tables_allocated(), tables);
    assert_eq!(b.translate(0), None);
    assert_eq!(b.translate(299 * LARGE_PAGE_SIZE), None);
    assert_eq!(b.translate(301 * LARGE_PAGE_SIZE), None);
}
