//! Unit tests for [`MemoryMap`] and [`RegionKind`].

use super::{MAX_REGIONS, MemoryMap, Region, RegionKind};
use crate::error::MemError;
use crate::test_rng::TestRng;

use RegionKind::{AcpiNvs, AcpiReclaimable, Bad, Reserved, Usable};

fn r(start: u64, end: u64, kind: RegionKind) -> Region {
    Region { start, end, kind }
}

fn map_of(entries: &[(u64, u64, RegionKind)]) -> MemoryMap {
    let mut m = MemoryMap::new();
    for &(start, len, kind) in entries {
        m.add(start, len, kind).unwrap();
    }
    m
}

#[test]
fn from_e820_numbers() {
    assert_eq!(RegionKind::from_e820(1), Usable);
    assert_eq!(RegionKind::from_e820(2), Reserved);
    assert_eq!(RegionKind::from_e820(3), AcpiReclaimable);
    assert_eq!(RegionKind::from_e820(4), AcpiNvs);
    assert_eq!(RegionKind::from_e820(5), Bad);
    assert_eq!(RegionKind::from_e820(0), Reserved);
    assert_eq!(RegionKind::from_e820(12), Reserved);
    assert_eq!(RegionKind::from_e820(u32::MAX), Reserved);
}

#[test]
fn empty_map() {
    let m = MemoryMap::default();
    assert!(m.regions().is_empty());
    assert_eq!(m.usable_bytes(), 0);
    assert_eq!(m.highest_address(), 0);
    assert_eq!(m.highest_usable(), 0);
}

#[test]
fn sorts_unsorted_entries() {
    let m = map_of(&[
        (0x10_0000, 0x100_0000, Usable),
        (0xF_0000, 0x1_0000, Reserved),
        (0, 0x9_F000, Usable),
    ]);
    assert_eq!(
        m.regions(),
        &[
            r(0, 0x9_F000, Usable),
            r(0xF_0000, 0x10_0000, Reserved),
            r(0x10_0000, 0x110_0000, Usable)
        ]
    );
    assert_eq!(m.usable_bytes(), 0x9_F000 + 0x100_0000);
    assert_eq!(m.highest_address(), 0x110_0000);
    assert_eq!(m.highest_usable(), 0x110_0000);
}

#[test]
fn merges_adjacent_same_kind_but_not_different_kinds() {
    let m = map_of(&[(0, 0x1000, Usable), (0x2000, 0x1000, Usable), (0x1000, 0x1000, Usable)]);
    assert_eq!(m.regions(), &[r(0, 0x3000, Usable)]);
    let m = map_of(&[(0, 0x1000, Usable), (0x1000, 0x1000, AcpiReclaimable)]);
    assert_eq!(m.regions(), &[r(0, 0x1000, Usable), r(0x1000, 0x2000, AcpiReclaimable)]);
}

#[test]
fn reserved_inside_usable_splits_it() {
    let m = map_of(&[(0, 0x10_0000, Usable), (0x4_0000, 0x1000, Reserved)]);
    assert_eq!(
        m.regions(),
        &[r(0, 0x4_0000, Usable), r(0x4_0000, 0x4_1000, Reserved), r(0x4_1000, 0x10_0000, Usable)]
    );
    assert_eq!(m.usable_bytes(), 0x10_0000 - 0x1000);
}

#[test]
fn usable_added_over_reserved_does_not_win() {
    // Same as above but in the opposite order: the result must not depend on it.
    let m = map_of(&[(0x4_0000, 0x1000, Reserved), (0, 0x10_0000, Usable)]);
    assert_eq!(
        m.regions(),
        &[r(0, 0x4_0000, Usable), r(0x4_0000, 0x4_1000, Reserved), r(0x4_1000, 0x10_0000, Usable)]
    );
}

#[test]
fn partial_overlaps_at_edges() {
    let m = map_of(&[(0x1000, 0x3000, Usable), (0, 0x2000, Reserved), (0x3000, 0x2000, Bad)]);
    assert_eq!(
        m.regions(),
        &[r(0, 0x2000, Reserved), r(0x2000, 0x3000, Usable), r(0x3000, 0x5000, Bad)]
    );
    assert_eq!(m.highest_usable(), 0x3000);
    assert_eq!(m.highest_address(), 0x5000);
}

#[test]
fn stricter_kind_wins_among_non_usable() {
    let m = map_of(&[(0, 0x3000, AcpiReclaimable), (0x1000, 0x1000, AcpiNvs)]);
    assert_eq!(
        m.regions(),
        &[
            r(0, 0x1000, AcpiReclaimable),
            r(0x1000, 0x2000, AcpiNvs),
            r(0x2000, 0x3000, AcpiReclaimable)
        ]
    );
    let m = map_of(&[(0, 0x2000, Bad), (0, 0x4000, Reserved)]);
    assert_eq!(m.regions(), &[r(0, 0x2000, Bad), r(0x2000, 0x4000, Reserved)]);
}

#[test]
fn entry_spanning_several_regions_fills_gaps() {
    let m = map_of(&[(0x1000, 0x1000, Reserved), (0x3000, 0x1000, Reserved), (0, 0x6000, Usable)]);
    assert_eq!(
        m.regions(),
        &[
            r(0, 0x1000, Usable),
            r(0x1000, 0x2000, Reserved),
            r(0x2000, 0x3000, Usable),
            r(0x3000, 0x4000, Reserved),
            r(0x4000, 0x6000, Usable),
        ]
    );
    // A reserved entry over everything swallows it all into one region.
    let mut m = m;
    m.add(0, 0x6000, Reserved).unwrap();
    assert_eq!(m.regions(), &[r(0, 0x6000, Reserved)]);
    assert_eq!(m.highest_usable(), 0);
}

#[test]
fn duplicate_entries_are_harmless() {
    let m = map_of(&[(0x1000, 0x1000, Usable), (0x1000, 0x1000, Usable)]);
    assert_eq!(m.regions(), &[r(0x1000, 0x2000, Usable)]);
}

#[test]
fn zero_length_ignored_and_overflow_rejected() {
    let mut m = MemoryMap::new();
    m.add(0x1000, 0, Usable).unwrap();
    assert!(m.regions().is_empty());
    assert_eq!(m.add(u64::MAX - 0xFFF, 0x1001, Usable), Err(MemError::InvalidRange));
    m.add(u64::MAX - 0xFFF, 0xFFF, Reserved).unwrap();
    assert_eq!(m.highest_address(), u64::MAX);
}

#[test]
fn highest_usable_ignores_higher_reserved() {
    let m = map_of(&[(0, 0x8000_0000, Usable), (0xFEC0_0000, 0x10_0000, Reserved)]);
    assert_eq!(m.highest_usable(), 0x8000_0000);
    assert_eq!(m.highest_address(), 0xFED0_0000);
}

#[test]
fn capacity_exceeded_leaves_map_unchanged() {
    let mut m = MemoryMap::new();
    for i in 0..MAX_REGIONS as u64 {
        m.add(i * 0x2000, 0x1000, Usable).unwrap();
    }
    let before: Vec<Region> = m.regions().to_vec();
    assert_eq!(m.add(0x1000_0000, 0x1000, Usable), Err(MemError::CapacityExceeded));
    // Splitting a region also needs room.
    assert_eq!(m.add(0x400, 0x100, Reserved), Err(MemError::CapacityExceeded));
    assert_eq!(m.regions(), before.as_slice());
    // Filling a gap merges two regions and frees a slot.
    m.add(0x1000, 0x1000, Usable).unwrap();
    assert_eq!(m.regions().len(), MAX_REGIONS - 1);
}

/// Random entries over a small page-granular universe, checked against a
/// per-page reference model using the same precedence rule.
#[test]
fn random_entries_match_per_page_model() {
    const PAGES: usize = 64;
    const KINDS: [RegionKind; 5] = [Usable, Reserved, AcpiReclaimable, AcpiNvs, Bad];
    let mut rng = TestRng::new(77);
    for _round in 0..200 {
        let mut m = MemoryMap::new();
        let mut model: [Option<RegionKind>; PAGES] = [None; PAGES];
        for _ in 0..rng.below(12) {
            let start = rng.below(PAGES as u64);
            let len = rng.below(PAGES as u64 - start + 1);
            // Usable is made more likely so it gets overlapped often.
            let kind = if rng.below(2) == 0 { Usable } else { KINDS[rng.below(5) as usize] };
            m.add(start * 0x1000, len * 0x1000, kind).unwrap();
            for slot in &mut model[start as usize..(start + len) as usize] {
                *slot = Some(match *slot {
                    Some(old) if old.restrictiveness() >= kind.restrictiveness() => old,
                    _ => kind,
                });
            }
        }
        let mut expected: Vec<Region> = Vec::new();
        for (i, slot) in model.iter().enumerate() {
            if let Some(kind) = *slot {
                let start = i as u64 * 0x1000;
                match expected.last_mut() {
                    Some(last) if last.end == start && last.kind == kind => last.end += 0x1000,
                    _ => expected.push(r(start, start + 0x1000, kind)),
                }
            }
        }
        assert_eq!(m.regions(), expected.as_slice());
    }
}

#[test]
fn device_windows_only_in_reserved_ranges_or_holes() {
    let map = map_of(&[
        (0, 0x9_F000, Usable),
        (0xF_0000, 0x1_0000, Reserved),
        (0x10_0000, 0x7FF0_0000, Usable),
        (0x7FF0_0000, 0x10_0000, AcpiReclaimable),
        (0xB000_0000, 0x1000_0000, Reserved),
        (0x1_0000_0000, 0x4000_0000, Usable),
    ]);
    // A hole (the 32-bit PCI window), a reserved range, and a hole above all RAM.
    assert!(map.is_device_window(0xFEB0_0000, 0xFEB0_1000));
    assert!(map.is_device_window(0xB000_0000, 0xB010_0000));
    assert!(map.is_device_window(0x8_0000_0000, 0x8_0000_4000));
    // From a reserved range into the hole next to it.
    assert!(map.is_device_window(0xBFFF_F000, 0xC000_1000));
    // RAM, the kernel at 1 MiB, ACPI tables, page 0, and ranges that only touch RAM.
    assert!(!map.is_device_window(0x10_0000, 0x10_1000));
    assert!(!map.is_device_window(0x1_2000_0000, 0x1_2000_1000));
    assert!(!map.is_device_window(0x7FF0_0000, 0x7FF0_1000));
    assert!(!map.is_device_window(0, 0x1000));
    assert!(!map.is_device_window(0x7FFF_F000, 0x8000_1000));
    assert!(!map.is_device_window(0xFFFF_F000, 0x1_0000_1000));
    // Empty and inverted ranges.
    assert!(!map.is_device_window(0xFEB0_0000, 0xFEB0_0000));
    assert!(!map.is_device_window(0xFEB0_1000, 0xFEB0_0000));
}
