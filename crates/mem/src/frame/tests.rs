//! Unit tests for [`FrameAllocator`].

use super::FrameAllocator;
use crate::error::MemError;
use crate::layout::{LARGE_PAGE_SIZE, PAGE_SIZE};
use crate::range_set::MAX_RANGES;
use crate::test_rng::TestRng;

const MIB: u64 = 1024 * 1024;
const GIB: u64 = 1024 * MIB;

fn allocator(ranges: &[(u64, u64)]) -> FrameAllocator {
    let mut a = FrameAllocator::new();
    for &(s, e) in ranges {
        a.add_free(s, e).unwrap();
    }
    a
}

fn free_list(a: &FrameAllocator) -> Vec<(u64, u64)> {
    a.free_ranges().iter().collect()
}

#[test]
fn add_free_shrinks_inward_and_ignores_slivers() {
    let mut a = FrameAllocator::default();
    a.add_free(0x1001, 0x5fff).unwrap();
    assert_eq!(free_list(&a), vec![(0x2000, 0x5000)]);
    a.add_free(0x9001, 0x9fff).unwrap();
    a.add_free(0xa000, 0xa000).unwrap();
    a.add_free(0xb800, 0xc800).unwrap();
    assert_eq!(free_list(&a), vec![(0x2000, 0x5000)]);
    a.add_free(u64::MAX - 10, u64::MAX).unwrap();
    assert_eq!(a.free_bytes(), 0x3000);
    assert_eq!(a.add_free(5, 4), Err(MemError::InvalidRange));
}

#[test]
fn allocate_lowest_first() {
    let mut a = allocator(&[(0x10_0000, 0x20_0000), (0x1000, 0x3000)]);
    assert_eq!(a.allocate(1, PAGE_SIZE), Ok(0x1000));
    assert_eq!(a.allocate(1, PAGE_SIZE), Ok(0x2000));
    assert_eq!(a.allocate(1, PAGE_SIZE), Ok(0x10_0000));
    assert_eq!(a.allocate(2, PAGE_SIZE), Ok(0x10_1000));
    assert_eq!(a.free_bytes(), 0x10_0000 - 0x3000);
}

#[test]
fn allocate_skips_ranges_too_small() {
    let mut a = allocator(&[(0x1000, 0x3000), (0x8000, 0x10000)]);
    assert_eq!(a.allocate(4, PAGE_SIZE), Ok(0x8000));
    assert_eq!(free_list(&a), vec![(0x1000, 0x3000), (0xC000, 0x10000)]);
}

#[test]
fn allocate_honours_large_alignment_in_fragmented_set() {
    // Fragments: none of the first two contains an aligned 2 MiB block.
    let mut a = allocator(&[(0x1000, 0x5000), (0x20_1000, 0x50_0000), (0x60_0000, 0xA0_0000)]);
    // [0x40_0000, 0x60_0000) is aligned but runs into the hole at 0x50_0000,
    // so the first fit is the start of the third fragment.
    assert_eq!(a.allocate(512, LARGE_PAGE_SIZE), Ok(0x60_0000));
    assert_eq!(
        free_list(&a),
        vec![(0x1000, 0x5000), (0x20_1000, 0x50_0000), (0x80_0000, 0xA0_0000)]
    );
    // A single 2 MiB-aligned frame does fit at 0x40_0000 and splits the fragment.
    assert_eq!(a.allocate(1, LARGE_PAGE_SIZE), Ok(0x40_0000));
    assert_eq!(
        free_list(&a),
        vec![
            (0x1000, 0x5000),
            (0x20_1000, 0x40_0000),
            (0x40_1000, 0x50_0000),
            (0x80_0000, 0xA0_0000)
        ]
    );
}

#[test]
fn aligned_allocation_splits_range() {
    let mut a = allocator(&[(0x1000, 0x80_0000)]);
    assert_eq!(a.allocate(1, LARGE_PAGE_SIZE), Ok(0x20_0000));
    assert_eq!(free_list(&a), vec![(0x1000, 0x20_0000), (0x20_1000, 0x80_0000)]);
}

#[test]
fn allocate_rejects_bad_arguments() {
    let mut a = allocator(&[(0, 16 * MIB)]);
    assert_eq!(a.allocate(0, PAGE_SIZE), Err(MemError::InvalidRange));
    assert_eq!(a.allocate(1, 0), Err(MemError::Misaligned));
    assert_eq!(a.allocate(1, 2048), Err(MemError::Misaligned));
    assert_eq!(a.allocate(1, 3 * PAGE_SIZE), Err(MemError::Misaligned));
    assert_eq!(a.allocate(u64::MAX, PAGE_SIZE), Err(MemError::OutOfMemory));
    assert_eq!(a.allocate(4097, PAGE_SIZE), Err(MemError::OutOfMemory));
    assert_eq!(a.allocate(1, 1 << 63), Ok(0));
    assert_eq!(a.free_bytes(), 16 * MIB - PAGE_SIZE);
}

#[test]
fn out_of_memory_when_exhausted() {
    let mut a = allocator(&[(0x1000, 0x3000)]);
    assert_eq!(a.allocate(2, PAGE_SIZE), Ok(0x1000));
    assert_eq!(a.allocate(1, PAGE_SIZE), Err(MemError::OutOfMemory));
    assert_eq!(FrameAllocator::new().allocate(1, PAGE_SIZE), Err(MemError::OutOfMemory));
}

#[test]
fn allocate_below_respects_limit() {
    let mut a = allocator(&[(0x8000, 0xA000), (0x20_0000, 0x40_0000)]);
    assert_eq!(a.allocate_below(1, PAGE_SIZE, 0x10_0000), Ok(0x8000));
    // Would need to end at 0xB000 > limit 0xA000.
    assert_eq!(a.allocate_below(2, PAGE_SIZE, 0xA000), Err(MemError::OutOfMemory));
    assert_eq!(a.allocate_below(1, PAGE_SIZE, 0xA000), Ok(0x9000));
    assert_eq!(a.allocate_below(1, PAGE_SIZE, 0x10_0000), Err(MemError::OutOfMemory));
    // The limit is inclusive of the end: a block ending exactly at it is fine.
    assert_eq!(a.allocate_below(2, PAGE_SIZE, 0x20_2000), Ok(0x20_0000));
    assert_eq!(a.allocate_below(1, PAGE_SIZE, 0), Err(MemError::OutOfMemory));
}

#[test]
fn allocate_below_4g_with_memory_above() {
    let mut a = allocator(&[(4 * GIB, 8 * GIB), (3 * GIB, 4 * GIB)]);
    let addr = a.allocate_below(16, LARGE_PAGE_SIZE, 4 * GIB).unwrap();
    assert_eq!(addr, 3 * GIB);
    assert!(addr + 16 * PAGE_SIZE <= 4 * GIB);
}

#[test]
fn allocate_high_takes_from_the_top() {
    let mut a = allocator(&[(0x1000, 0x10_0000), (0x20_0000, 0x30_0000)]);
    assert_eq!(a.allocate_high(1, PAGE_SIZE), Ok(0x2F_F000));
    assert_eq!(a.allocate_high(2, PAGE_SIZE), Ok(0x2F_D000));
    assert_eq!(a.allocate_high(1, LARGE_PAGE_SIZE), Ok(0x20_0000));
    assert_eq!(free_list(&a), vec![(0x1000, 0x10_0000), (0x20_1000, 0x2F_D000)]);
    // Too big for the upper range: falls back to the lower one.
    assert_eq!(a.allocate_high(0xFD, PAGE_SIZE), Ok(0x3000));
}

#[test]
fn allocate_high_below_limit() {
    let mut a = allocator(&[(0, 0x10_0000), (0x20_0000, 0x30_0000)]);
    assert_eq!(a.allocate_high_below(1, PAGE_SIZE, 0x10_0000), Ok(0xF_F000));
    assert_eq!(a.allocate_high_below(1, PAGE_SIZE, 0x28_0800), Ok(0x27_F000));
}

#[test]
fn free_then_reallocate_returns_same_frame() {
    let mut a = allocator(&[(0x1000, 0x10_0000)]);
    let f1 = a.allocate(1, PAGE_SIZE).unwrap();
    let f2 = a.allocate(1, PAGE_SIZE).unwrap();
    assert_eq!((f1, f2), (0x1000, 0x2000));
    a.free(f1, 1).unwrap();
    assert_eq!(a.allocate(1, PAGE_SIZE), Ok(f1));
    a.free(f2, 1).unwrap();
    a.free(f1, 1).unwrap();
    assert_eq!(free_list(&a), vec![(0x1000, 0x10_0000)]);
}

#[test]
fn double_free_detected() {
    let mut a = allocator(&[(0x1000, 0x10_0000)]);
    let f = a.allocate(4, PAGE_SIZE).unwrap();
    a.free(f, 4).unwrap();
    assert_eq!(a.free(f, 1), Err(MemError::DoubleFree));
    // Partly free is still a double free.
    let g = a.allocate(2, PAGE_SIZE).unwrap();
    assert_eq!(a.free(g, 3), Err(MemError::DoubleFree));
    assert_eq!(a.free(g, 2), Ok(()));
}

#[test]
fn free_rejects_bad_arguments() {
    let mut a = FrameAllocator::new();
    assert_eq!(a.free(0x1001, 1), Err(MemError::Misaligned));
    assert_eq!(a.free(0x1000, 0), Err(MemError::InvalidRange));
    assert_eq!(a.free(u64::MAX - 0xFFF, 2), Err(MemError::InvalidRange));
    assert_eq!(a.free(0, u64::MAX), Err(MemError::InvalidRange));
    assert!(a.free_ranges().is_empty());
}

#[test]
fn reserve_carves_outward_to_pages() {
    let mut a = allocator(&[(0, 0x10_0000)]);
    a.reserve(0x5800, 0x6800).unwrap();
    assert_eq!(free_list(&a), vec![(0, 0x5000), (0x7000, 0x10_0000)]);
    // Reserving memory that is not free is ignored.
    a.reserve(0x20_0000, 0x30_0000).unwrap();
    a.reserve(0x5000, 0x7000).unwrap();
    assert_eq!(free_list(&a), vec![(0, 0x5000), (0x7000, 0x10_0000)]);
    // Spanning several ranges.
    a.reserve(0x4fff, 0x7001).unwrap();
    assert_eq!(free_list(&a), vec![(0, 0x4000), (0x8000, 0x10_0000)]);
    a.reserve(0xF_F000, u64::MAX).unwrap();
    assert_eq!(free_list(&a), vec![(0, 0x4000), (0x8000, 0xF_F000)]);
    a.reserve(3, 3).unwrap();
    assert_eq!(a.reserve(3, 2), Err(MemError::InvalidRange));
    // Allocations never return reserved memory.
    assert_eq!(a.allocate(5, PAGE_SIZE), Ok(0x8000));
}

#[test]
fn take_all_empties() {
    let mut a = allocator(&[(0x1000, 0x3000), (0x10_0000, 0x20_0000)]);
    let before = a.free_bytes();
    let taken = a.take_all();
    assert_eq!(taken.total(), before);
    assert_eq!(taken.iter().collect::<Vec<_>>(), vec![(0x1000, 0x3000), (0x10_0000, 0x20_0000)]);
    assert_eq!(a.free_bytes(), 0);
    assert!(a.free_ranges().is_empty());
    assert_eq!(a.allocate(1, PAGE_SIZE), Err(MemError::OutOfMemory));
}

#[test]
fn full_free_list_prefers_placements_that_do_not_split() {
    let mut a = FrameAllocator::new();
    for i in 0..MAX_RANGES as u64 {
        a.add_free(i * 0x10_0000 + 0x1000, i * 0x10_0000 + 0x8000).unwrap();
    }
    // Lowest-first placements start at a range start: never split.
    assert_eq!(a.allocate(1, PAGE_SIZE), Ok(0x1000));
    // Refill to full, then ask for an alignment that forces a split everywhere.
    a.free(0x1000, 1).unwrap();
    assert!(a.free_ranges().is_full());
    assert_eq!(a.allocate(1, 0x4000), Err(MemError::CapacityExceeded));
    // Highest-first allocations take range ends and never split.
    assert_eq!(a.allocate_high(1, PAGE_SIZE), Ok((MAX_RANGES as u64 - 1) * 0x10_0000 + 0x7000));
}

/// Random allocate/free sequences, checked against a per-frame model.
#[test]
fn random_allocations_never_overlap() {
    const FRAMES: u64 = 512;
    let mut rng = TestRng::new(4242);
    let mut a = allocator(&[(0, FRAMES * PAGE_SIZE)]);
    let mut used = [false; FRAMES as usize];
    let mut live: Vec<(u64, u64)> = Vec::new();
    for _ in 0..2000 {
        if live.is_empty() || rng.below(3) != 0 {
            let frames = 1 + rng.below(8);
            let align = PAGE_SIZE << rng.below(4);
            let result = match rng.below(3) {
                0 => a.allocate(frames, align),
                1 => a.allocate_high(frames, align),
                _ => a.allocate_below(frames, align, rng.below(FRAMES + 1) * PAGE_SIZE),
            };
            if let Ok(addr) = result {
                assert_eq!(addr % align, 0);
                let first = (addr / PAGE_SIZE) as usize;
                for slot in &mut used[first..first + frames as usize] {
                    assert!(!*slot, "frame handed out twice");
                    *slot = true;
                }
                live.push((addr, frames));
            }
        } else {
            let (addr, frames) = live.swap_remove(rng.below(live.len() as u64) as usize);
            a.free(addr, frames).unwrap();
            let first = (addr / PAGE_SIZE) as usize;
            used[first..first + frames as usize].fill(false);
        }
        let used_frames = used.iter().filter(|&&u| u).count() as u64;
        assert_eq!(a.free_bytes(), (FRAMES - used_frames) * PAGE_SIZE);
    }
}
