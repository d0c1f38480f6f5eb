//! The window's table bound against a memory model: a 1 GiB machine whose boot module
//! is a 48 MiB program, mapped with a table pool of exactly the bound's size.

use super::{map_window, module_pages, table_frames_bound};
use crate::error::MemError;
use crate::frame::FrameAllocator;
use crate::layout::{PAGE_SIZE, PROGRAM_BASE};
use crate::page_table::{PageSize, PageTableBuilder, TableMemory};
use crate::range_set::RangeSet;

const MIB: u64 = 1 << 20;

/// Page tables in a vector, at most `limit` of them (the pool the kernel sets aside).
struct TableModel {
    tables: Vec<[u64; 512]>,
    limit: usize,
}

impl TableModel {
    const BASE: u64 = 0x7700_0000_0000;
}

impl TableMemory for TableModel {
    fn allocate_table(&mut self) -> Result<u64, MemError> {
        if self.tables.len() >= self.limit {
            return Err(MemError::OutOfMemory);
        }
        self.tables.push([0; 512]);
        Ok(Self::BASE + (self.tables.len() as u64 - 1) * PAGE_SIZE)
    }

    fn read_entry(&self, table: u64, index: usize) -> u64 {
        self.tables[((table - Self::BASE) / PAGE_SIZE) as usize][index]
    }

    fn write_entry(&mut self, table: u64, index: usize, entry: u64) {
        self.tables[((table - Self::BASE) / PAGE_SIZE) as usize][index] = entry;
    }
}

/// Free RAM of a 1 GiB PC after the kernel took its share, and a 48 MiB module near
/// the top (4 KiB-aligned only, so its pages cannot line up with 2 MiB pages).
fn one_gib_machine() -> (FrameAllocator, (u64, u64)) {
    let module = (0x3B00_3000, 48 * MIB);
    let mut frames = FrameAllocator::new();
    frames.add_free(0x1000, 0x9F000).unwrap();
    frames.add_free(0x16_5000, module.0).unwrap();
    frames.add_free(module.0 + module.1, 0x3FFE_0000).unwrap();
    (frames, module)
}

/// Takes the pool and the window's RAM as the kernel does, then maps the window with
/// no more tables than the pool holds.
fn map_with_pool(
    mut frames: FrameAllocator,
    huge: bool,
    module: Option<(u64, u64)>,
    bound: u64,
) -> Result<(u64, RangeSet, TableModel), MemError> {
    frames.allocate(bound, PAGE_SIZE)?;
    let window = frames.take_all();
    let mut model = TableModel { tables: vec![[0; 512]], limit: bound as usize + 1 };
    let bytes = {
        let mut builder = PageTableBuilder::with_root(&mut model, TableModel::BASE, huge);
        map_window(&mut builder, &window, huge, module)?
    };
    Ok((bytes, window, model))
}

#[test]
fn a_48_mib_module_fits_the_bound_with_and_without_huge_pages() {
    for huge in [true, false] {
        let (frames, (start, len)) = one_gib_machine();
        let module = module_pages(start, len);
        assert_eq!(module, Some((start, len)));
        let bound = table_frames_bound(frames.free_ranges(), huge, len);
        let (bytes, window, mut model) = map_with_pool(frames, huge, module, bound).unwrap();
        assert_eq!(bytes, window.total() + len);
        let builder = PageTableBuilder::with_root(&mut model, TableModel::BASE, huge);
        let module_at = PROGRAM_BASE + window.total();
        assert_eq!(builder.translate(module_at), Some((start, PageSize::Size4K)));
        let last = module_at + len - PAGE_SIZE;
        assert_eq!(builder.translate(last), Some((start + len - PAGE_SIZE, PageSize::Size4K)));
        assert_eq!(builder.translate(module_at + len), None);
    }
}

#[test]
fn a_bound_that_leaves_the_module_out_runs_out_of_tables() {
    let (frames, (start, len)) = one_gib_machine();
    let bound = table_frames_bound(frames.free_ranges(), true, 0);
    let result = map_with_pool(frames, true, module_pages(start, len), bound);
    assert_eq!(result.err(), Some(MemError::OutOfMemory));
}

#[test]
fn fragmented_ram_fits_the_bound() {
    let mut frames = FrameAllocator::new();
    // 100 ranges of 12 KiB with 4 KiB holes, then 64 MiB that starts 4 KiB past 2 MiB.
    for i in 0..100u64 {
        frames.add_free(0x10_0000 + i * 0x4000, 0x10_0000 + i * 0x4000 + 0x3000).unwrap();
    }
    frames.add_free(0x40_1000, 0x440_1000).unwrap();
    let bound = table_frames_bound(frames.free_ranges(), false, 3 * MIB);
    let module = module_pages(0x800_0800, 3 * MIB);
    assert_eq!(module, Some((0x800_1000, 3 * MIB - PAGE_SIZE)));
    let (bytes, window, _) = map_with_pool(frames, false, module, bound).unwrap();
    assert_eq!(bytes, window.total() + 3 * MIB - PAGE_SIZE);
}

#[test]
fn an_empty_or_sub_page_module_has_no_pages() {
    assert_eq!(module_pages(0x1000, 0), None);
    assert_eq!(module_pages(0x1800, 0x900), None);
    assert_eq!(module_pages(u64::MAX - 10, 5), None);
}
