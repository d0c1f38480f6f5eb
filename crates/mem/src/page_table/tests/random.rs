//! Property-style test for [`PageTableBuilder`]: random mappings checked
//! against a reference list with a deterministic PRNG.

use super::FakeMemory;
use crate::layout::{HUGE_PAGE_SIZE, LARGE_PAGE_SIZE, PAGE_SIZE, PROGRAM_BASE};
use crate::page_table::{PageFlags, PageSize, PageTableBuilder};
use crate::test_rng::TestRng;

const GIB: u64 = HUGE_PAGE_SIZE;

/// A reference mapping: `[virt, virt + len)` -> `phys`.
#[derive(Clone, Copy)]
struct RefMapping {
    virt: u64,
    phys: u64,
    len: u64,
}

/// Random non-overlapping ranges mapped with random alignments; random
/// addresses are then translated and compared with a reference list.
#[test]
fn random_mappings_match_reference() {
    let mut rng = TestRng::new(0xC0FFEE);
    for round in 0..40 {
        let allow_1g = round % 2 == 0;
        let mut mem = FakeMemory::new();
        let mut b = PageTableBuilder::new(&mut mem, allow_1g).unwrap();
        let mut mappings: Vec<RefMapping> = Vec::new();
        // Each range gets its own 4 GiB slot (lower or upper half) so that
        // they never overlap, while sharing upper-level tables.
        for slot in 0..12u64 {
            let half = if rng.below(2) == 0 { 0 } else { PROGRAM_BASE };
            let slot_base = half + slot * 4 * GIB;
            let granule = [PAGE_SIZE, LARGE_PAGE_SIZE, GIB][rng.below(3) as usize];
            let virt = slot_base + rng.below(2 * GIB / granule) * granule;
            let len = match rng.below(3) {
                0 => (1 + rng.below(40)) * PAGE_SIZE,
                1 => (1 + rng.below(4)) * LARGE_PAGE_SIZE + rng.below(3) * PAGE_SIZE,
                _ => GIB + rng.below(512) * LARGE_PAGE_SIZE,
            };
            // Big ranges with 4 KiB-only alignment would make the test slow.
            let phys_granule = if len >= GIB || rng.below(2) == 0 {
                granule.max(LARGE_PAGE_SIZE)
            } else {
                PAGE_SIZE
            };
            let phys = rng.below((1 << 40) / phys_granule) * phys_granule;
            b.map(virt, phys, len, PageFlags::WRITABLE).unwrap();
            mappings.push(RefMapping { virt, phys, len });
        }
        let expect = |addr: u64| {
            mappings
                .iter()
                .find(|m| addr >= m.virt && addr - m.virt < m.len)
                .map(|m| m.phys + (addr - m.virt))
        };
        for _ in 0..2000 {
            let addr = if rng.below(4) == 0 {
                // Anywhere in the slots, mostly unmapped.
                let half = if rng.below(2) == 0 { 0 } else { PROGRAM_BASE };
                half + rng.below(12 * 4 * GIB)
            } else {
                let m = mappings[rng.below(mappings.len() as u64) as usize];
                // Inside the range, or just around it.
                (m.virt + rng.below(m.len + 2 * PAGE_SIZE)).wrapping_sub(PAGE_SIZE)
            };
            let got = b.translate(addr);
            assert_eq!(got.map(|(p, _)| p), expect(addr), "address {addr:#x}");
            if let Some((_, size)) = got {
                assert!(allow_1g || size != PageSize::Size1G);
            }
        }
        // Re-mapping everything is idempotent and allocates nothing.
        let tables = b.tables_allocated();
        for m in &mappings {
            b.map(m.virt, m.phys, m.len, PageFlags::WRITABLE).unwrap();
        }
        assert_eq!(b.tables_allocated(), tables);
    }
}
