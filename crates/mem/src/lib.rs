//! Physical memory bookkeeping for Ingot.
//!
//! This crate holds the pure, allocation-free logic the kernel uses to reason
//! about memory before (and while) it hands RAM to the program:
//!
//! * [`MemoryMap`] normalises the firmware memory map (e820 / PVH / Multiboot).
//! * [`RangeSet`] is the fixed-capacity set of address ranges everything else
//!   is built on.
//! * [`FrameAllocator`] hands out physical 4 KiB frames from a [`RangeSet`].
//! * [`PageTableBuilder`] builds x86-64 4-level page tables through the
//!   [`TableMemory`] trait, so it can be tested on the host with fake memory.
//! * [`map_window`] lays out the program window and [`table_frames_bound`] sizes
//!   the page-table pool it needs.
//!
//! Nothing here touches hardware or uses `unsafe`, which is why it lives in its
//! own crate with host unit tests.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

mod error;
mod frame;
mod layout;
mod page_table;
mod physical_pieces;
mod range_set;
mod region;
#[cfg(test)]
mod test_rng;
mod window;

pub use error::MemError;
pub use frame::FrameAllocator;
pub use layout::{
    HUGE_PAGE_SIZE, LARGE_PAGE_SIZE, PAGE_SIZE, PROGRAM_BASE, align_down, align_up, is_aligned,
};
pub use page_table::{PageFlags, PageSize, PageTableBuilder, TableMemory, is_canonical};
pub use physical_pieces::{PhysicalPiece, PiecesError, physical_pieces};
pub use range_set::{MAX_RANGES, RangeSet};
pub use region::{MAX_REGIONS, MemoryMap, Region, RegionKind};
pub use window::{for_each_piece, map_window, module_pages, table_frames_bound};
