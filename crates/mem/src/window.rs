//! The program window's layout: which pieces of free RAM go where, and how many
//! page-table frames mapping them can take at most.
//!
//! The window is one contiguous virtual range from [`PROGRAM_BASE`]: first every
//! 1 GiB-aligned piece of free RAM (when the CPU has 1 GiB pages), then every 2 MiB-
//! aligned piece, then the 4 KiB-granular rest, and last the boot module's own pages.
//! Because the aligned pieces come first, they sit at equally aligned virtual
//! addresses and take large pages; only the tail (the rest and the module) can need
//! page tables of 4 KiB entries. [`table_frames_bound`] counts from that, so the
//! bound holds for a module of any size (it once left the module out, and a 48 MiB
//! program could never be mapped).

use crate::error::MemError;
use crate::layout::{HUGE_PAGE_SIZE, LARGE_PAGE_SIZE, PAGE_SIZE, PROGRAM_BASE};
use crate::page_table::{PageFlags, PageTableBuilder, TableMemory};
use crate::range_set::RangeSet;

/// Bytes one page directory maps (512 × 2 MiB) and one PDPT maps (512 × 1 GiB).
const PD_SPAN: u64 = HUGE_PAGE_SIZE;
const PDPT_SPAN: u64 = 512 * HUGE_PAGE_SIZE;

/// Extra tables for 2 MiB-aligned pieces the table pool itself breaks up (the pool is
/// taken from the free RAM the bound was computed on; one contiguous allocation can
/// turn at most two aligned pieces' edges into up to 4 MiB more tail).
const POOL_SLACK_TABLES: u64 = 4;

/// The module's whole pages: `(start, len)` rounded inward to 4 KiB.
pub fn module_pages(start: u64, len: u64) -> Option<(u64, u64)> {
    let first = start.checked_next_multiple_of(PAGE_SIZE)?;
    let end = start.checked_add(len)? / PAGE_SIZE * PAGE_SIZE;
    (end > first).then(|| (first, end - first))
}

/// Calls `place(start, len)` for each piece of `free`, in window order: 1 GiB-aligned
/// whole huge pages (if `huge`), then 2 MiB-aligned whole large pages, then the rest.
pub fn for_each_piece(
    free: &RangeSet,
    huge: bool,
    mut place: impl FnMut(u64, u64) -> Result<(), MemError>,
) -> Result<(), MemError> {
    let sizes: &[u64] = if huge { &[HUGE_PAGE_SIZE, LARGE_PAGE_SIZE] } else { &[LARGE_PAGE_SIZE] };
    let mut rest = free.clone();
    for &size in sizes {
        let mut taken = RangeSet::new();
        for (start, end) in rest.iter() {
            let aligned_start = start.next_multiple_of(size);
            let aligned_end = end / size * size;
            if aligned_end > aligned_start {
                place(aligned_start, aligned_end - aligned_start)?;
                taken.insert(aligned_start, aligned_end)?;
            }
        }
        for (start, end) in taken.iter() {
            rest.remove(start, end)?;
        }
    }
    for (start, end) in rest.iter() {
        place(start, end - start)?;
    }
    Ok(())
}

/// At most how many page-table frames mapping a window of `free` (laid out by
/// [`for_each_piece`]) plus `module_bytes` of module pages takes, when the pool of
/// tables is itself taken out of `free` first.
pub fn table_frames_bound(free: &RangeSet, huge: bool, module_bytes: u64) -> u64 {
    let mut aligned = 0u64;
    let mut total = 0u64;
    let _ = for_each_piece(free, huge, |start, len| {
        if start.is_multiple_of(LARGE_PAGE_SIZE) && len.is_multiple_of(LARGE_PAGE_SIZE) {
            aligned += len;
        }
        total += len;
        Ok(())
    });
    let window = total + module_bytes;
    let tail = window - aligned;
    let page_tables = tail.div_ceil(LARGE_PAGE_SIZE) + 1;
    let directories = window.div_ceil(PD_SPAN) + 1;
    let pointer_tables = window.div_ceil(PDPT_SPAN) + 1;
    page_tables + directories + pointer_tables + POOL_SLACK_TABLES
}

/// Maps the window into `builder`'s tables: the pieces of `free` in window order,
/// then the module's pages (`(start, len)` from [`module_pages`]). Returns its size.
pub fn map_window<M: TableMemory>(
    builder: &mut PageTableBuilder<'_, M>,
    free: &RangeSet,
    huge: bool,
    module: Option<(u64, u64)>,
) -> Result<u64, MemError> {
    let flags = PageFlags::WRITABLE;
    let mut bytes = 0;
    for_each_piece(free, huge, |start, len| {
        builder.map(PROGRAM_BASE + bytes, start, len, flags)?;
        bytes += len;
        Ok(())
    })?;
    if let Some((start, len)) = module {
        builder.map(PROGRAM_BASE + bytes, start, len, flags)?;
        bytes += len;
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests;
