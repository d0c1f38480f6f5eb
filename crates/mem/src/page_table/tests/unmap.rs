//! Tests for [`PageTableBuilder::unmap_page`]: splitting large pages for guard pages.

use super::FakeMemory;
use crate::error::MemError;
use crate::layout::{HUGE_PAGE_SIZE, LARGE_PAGE_SIZE, PAGE_SIZE};
use crate::page_table::{PageFlags, PageSize, PageTableBuilder};

const FLAGS: PageFlags = PageFlags::WRITABLE.union(PageFlags::CACHE_DISABLE);

#[test]
fn unmapping_inside_a_1g_page_keeps_every_other_page() {
    let mut memory = FakeMemory::new();
    let mut builder = PageTableBuilder::new(&mut memory, true).unwrap();
    builder.map(HUGE_PAGE_SIZE, HUGE_PAGE_SIZE, HUGE_PAGE_SIZE, FLAGS).unwrap();
    let guard = HUGE_PAGE_SIZE + 5 * LARGE_PAGE_SIZE + 7 * PAGE_SIZE;
    builder.unmap_page(guard).unwrap();

    assert_eq!(builder.lookup(guard), None);
    assert_eq!(builder.lookup(guard + PAGE_SIZE - 1), None);
    let below = builder.lookup(guard - 8).unwrap();
    assert_eq!(below, (guard - 8, PageSize::Size4K, FLAGS | PageFlags::PRESENT));
    let above = builder.lookup(guard + PAGE_SIZE).unwrap();
    assert_eq!(above, (guard + PAGE_SIZE, PageSize::Size4K, FLAGS | PageFlags::PRESENT));
    // Other 2 MiB pieces of the split 1 GiB page stay 2 MiB pages with the same target.
    let far = HUGE_PAGE_SIZE + 300 * LARGE_PAGE_SIZE + 12345;
    assert_eq!(builder.lookup(far), Some((far, PageSize::Size2M, FLAGS | PageFlags::PRESENT)));
    let last = 2 * HUGE_PAGE_SIZE - 1;
    assert_eq!(builder.translate(last), Some((last, PageSize::Size2M)));
}

#[test]
fn unmapping_a_4k_page_of_an_existing_table_allocates_nothing() {
    let mut memory = FakeMemory::new();
    let mut builder = PageTableBuilder::new(&mut memory, false).unwrap();
    builder.map(0x10_0000, 0x50_0000, 16 * PAGE_SIZE, FLAGS).unwrap();
    let tables = builder.tables_allocated();
    builder.unmap_page(0x10_3000).unwrap();
    assert_eq!(builder.tables_allocated(), tables);
    assert_eq!(builder.translate(0x10_3000), None);
    assert_eq!(builder.translate(0x10_2FFF), Some((0x50_2FFF, PageSize::Size4K)));
    assert_eq!(builder.translate(0x10_4000), Some((0x50_4000, PageSize::Size4K)));
}

#[test]
fn unmapping_needs_an_aligned_mapped_page() {
    let mut memory = FakeMemory::new();
    let mut builder = PageTableBuilder::new(&mut memory, false).unwrap();
    builder.map(0, 0, LARGE_PAGE_SIZE, FLAGS).unwrap();
    assert_eq!(builder.unmap_page(0x1001), Err(MemError::Misaligned));
    assert_eq!(builder.unmap_page(0x0000_8000_0000_0000), Err(MemError::NonCanonical));
    assert_eq!(builder.unmap_page(LARGE_PAGE_SIZE), Err(MemError::InvalidRange));
    builder.unmap_page(PAGE_SIZE).unwrap();
    assert_eq!(builder.unmap_page(PAGE_SIZE), Err(MemError::InvalidRange));
    // The rest of the split 2 MiB page is still mapped.
    assert_eq!(builder.translate(0), Some((0, PageSize::Size4K)));
    assert_eq!(builder.translate(2 * PAGE_SIZE), Some((2 * PAGE_SIZE, PageSize::Size4K)));
}
