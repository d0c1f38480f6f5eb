//! Unit tests for [`RangeSet`].

use super::{MAX_RANGES, RangeSet};
use crate::error::MemError;
use crate::test_rng::TestRng;

fn set_of(ranges: &[(u64, u64)]) -> RangeSet {
    let mut s = RangeSet::new();
    for &(a, b) in ranges {
        s.insert(a, b).unwrap();
    }
    s
}

fn ranges(s: &RangeSet) -> Vec<(u64, u64)> {
    s.iter().collect()
}

#[test]
fn new_is_empty() {
    let s = RangeSet::new();
    assert!(s.is_empty());
    assert_eq!(s.len(), 0);
    assert_eq!(s.total(), 0);
    assert_eq!(ranges(&s), vec![]);
    assert_eq!(RangeSet::default(), s);
}

#[test]
fn insert_keeps_sorted_order() {
    let s = set_of(&[(50, 60), (10, 20), (30, 40)]);
    assert_eq!(ranges(&s), vec![(10, 20), (30, 40), (50, 60)]);
    assert_eq!(s.len(), 3);
    assert_eq!(s.total(), 30);
}

#[test]
fn insert_merges_adjacent_on_both_sides() {
    let mut s = set_of(&[(10, 20), (30, 40)]);
    s.insert(20, 30).unwrap();
    assert_eq!(ranges(&s), vec![(10, 40)]);
    s.insert(40, 45).unwrap();
    s.insert(5, 10).unwrap();
    assert_eq!(ranges(&s), vec![(5, 45)]);
}

#[test]
fn insert_merges_overlaps_spanning_many() {
    let mut s = set_of(&[(10, 20), (30, 40), (50, 60), (70, 80)]);
    s.insert(15, 55).unwrap();
    assert_eq!(ranges(&s), vec![(10, 60), (70, 80)]);
    s.insert(0, 100).unwrap();
    assert_eq!(ranges(&s), vec![(0, 100)]);
}

#[test]
fn insert_inside_existing_is_noop() {
    let mut s = set_of(&[(10, 100)]);
    s.insert(20, 30).unwrap();
    assert_eq!(ranges(&s), vec![(10, 100)]);
}

#[test]
fn insert_empty_and_inverted() {
    let mut s = set_of(&[(10, 20)]);
    s.insert(5, 5).unwrap();
    assert_eq!(ranges(&s), vec![(10, 20)]);
    assert_eq!(s.insert(9, 3), Err(MemError::InvalidRange));
    assert_eq!(s.remove(9, 3), Err(MemError::InvalidRange));
    s.remove(15, 15).unwrap();
    assert_eq!(ranges(&s), vec![(10, 20)]);
}

#[test]
fn insert_reaching_top_of_address_space() {
    let mut s = RangeSet::new();
    s.insert(u64::MAX - 10, u64::MAX).unwrap();
    s.insert(0, 1).unwrap();
    assert_eq!(ranges(&s), vec![(0, 1), (u64::MAX - 10, u64::MAX)]);
    assert_eq!(s.total(), 11);
}

#[test]
fn capacity_is_enforced_and_failure_leaves_set_unchanged() {
    let mut s = RangeSet::new();
    for i in 0..MAX_RANGES as u64 {
        s.insert(i * 10, i * 10 + 5).unwrap();
    }
    assert!(s.is_full());
    let before = s.clone();
    assert_eq!(s.insert(10_000, 10_001), Err(MemError::CapacityExceeded));
    assert_eq!(s, before);
    // Merging into an existing member still works when full.
    s.insert(5, 10).unwrap();
    assert_eq!(s.len(), MAX_RANGES - 1);
    assert_eq!(ranges(&s)[0], (0, 15));
}

#[test]
fn remove_trims_and_deletes() {
    let mut s = set_of(&[(10, 20), (30, 40), (50, 60)]);
    s.remove(15, 35).unwrap();
    assert_eq!(ranges(&s), vec![(10, 15), (35, 40), (50, 60)]);
    s.remove(35, 40).unwrap();
    assert_eq!(ranges(&s), vec![(10, 15), (50, 60)]);
    s.remove(0, 100).unwrap();
    assert!(s.is_empty());
}

#[test]
fn remove_splits_a_range() {
    let mut s = set_of(&[(0, 100)]);
    s.remove(40, 60).unwrap();
    assert_eq!(ranges(&s), vec![(0, 40), (60, 100)]);
    assert_eq!(s.total(), 80);
}

#[test]
fn remove_of_absent_range_is_noop() {
    let mut s = set_of(&[(10, 20), (30, 40)]);
    s.remove(20, 30).unwrap();
    s.remove(0, 10).unwrap();
    s.remove(40, 1000).unwrap();
    assert_eq!(ranges(&s), vec![(10, 20), (30, 40)]);
}

#[test]
fn remove_split_when_full_fails_cleanly() {
    let mut s = RangeSet::new();
    for i in 0..MAX_RANGES as u64 {
        s.insert(i * 10, i * 10 + 5).unwrap();
    }
    let before = s.clone();
    assert_eq!(s.remove(1, 2), Err(MemError::CapacityExceeded));
    assert_eq!(s, before);
    // Trimming an edge needs no extra room.
    s.remove(0, 2).unwrap();
    assert_eq!(ranges(&s)[0], (2, 5));
    // Removing across two members (trimming both) needs no extra room either.
    s.remove(13, 22).unwrap();
    assert_eq!(&ranges(&s)[1..3], &[(10, 13), (22, 25)]);
}

#[test]
fn contains_and_overlaps() {
    let s = set_of(&[(10, 20), (30, 40)]);
    assert!(s.contains(10, 20));
    assert!(s.contains(12, 18));
    assert!(!s.contains(10, 21));
    assert!(!s.contains(15, 35));
    assert!(!s.contains(20, 30));
    assert!(!s.contains(15, 15));
    assert!(s.overlaps(19, 30));
    assert!(s.overlaps(0, 11));
    assert!(s.overlaps(0, 100));
    assert!(!s.overlaps(20, 30));
    assert!(!s.overlaps(0, 10));
    assert!(!s.overlaps(40, 50));
    assert!(!s.overlaps(15, 15));
    assert!(!RangeSet::new().overlaps(0, u64::MAX));
}

#[test]
fn clear_empties() {
    let mut s = set_of(&[(1, 2), (5, 9)]);
    s.clear();
    assert!(s.is_empty());
}

/// Random inserts and removes over a small universe, checked against a
/// bitmap reference model.
#[test]
fn random_operations_match_bitmap_model() {
    const UNIVERSE: usize = 256;
    let mut rng = TestRng::new(0x5eed_1234);
    for _round in 0..50 {
        let mut s = RangeSet::new();
        let mut model = [false; UNIVERSE];
        for _ in 0..200 {
            let a = rng.below(UNIVERSE as u64);
            let b = rng.below(UNIVERSE as u64);
            let (lo, hi) = (a.min(b), a.max(b));
            let result = if rng.below(3) == 0 {
                let r = s.remove(lo, hi);
                if r.is_ok() {
                    model[lo as usize..hi as usize].fill(false);
                }
                r
            } else {
                let r = s.insert(lo, hi);
                if r.is_ok() {
                    model[lo as usize..hi as usize].fill(true);
                }
                r
            };
            assert!(result.is_ok() || result == Err(MemError::CapacityExceeded));
            // Rebuild the expected maximal ranges from the model.
            let mut expected = Vec::new();
            let mut i = 0;
            while i < UNIVERSE {
                if model[i] {
                    let start = i;
                    while i < UNIVERSE && model[i] {
                        i += 1;
                    }
                    expected.push((start as u64, i as u64));
                } else {
                    i += 1;
                }
            }
            assert_eq!(ranges(&s), expected);
            let x = rng.below(UNIVERSE as u64);
            let y = (x + 1 + rng.below(8)).min(UNIVERSE as u64);
            let span = &model[x as usize..y as usize];
            assert_eq!(s.contains(x, y), span.iter().all(|&b| b));
            assert_eq!(s.overlaps(x, y), span.iter().any(|&b| b));
        }
    }
}
