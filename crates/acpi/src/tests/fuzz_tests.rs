//! Deterministic fuzzing: thousands of corrupted variants of the standard table set
//! must parse to an error or to results that respect every bound, never panic or hang.

use std::collections::HashSet;

use super::builder::{fix_checksum, reseal};
use super::machine::{DSDT, FADT, HPET, MADT, MCFG, RSDP, RSDT, XSDT, standard_machine};
use crate::{Acpi, MAX_PROBLEMS, MAX_PROCESSORS, MAX_TABLE_LENGTH, ProblemKind, find_rsdp};

const TABLES: [u64; 7] = [XSDT, RSDT, MADT, HPET, MCFG, FADT, DSDT];
const VARIANTS: usize = 5000;

/// xorshift64: a fixed sequence, so every run tests the same variants.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }
}

fn corrupt(random: &mut Random, bytes: &mut [u8]) {
    let index = if random.below(3) == 0 {
        random.below(bytes.len().min(12)) // favour signature and length fields
    } else {
        random.below(bytes.len())
    };
    bytes[index] = match random.below(4) {
        0 => 0,
        1 => 0xFF,
        2 => bytes[index] ^ (1 << random.below(8)),
        _ => random.next() as u8,
    };
}

#[test]
fn corrupted_tables_never_panic_and_respect_bounds() {
    let original = standard_machine();
    let mut random = Random(0x1234_5678_9ABC_DEF1);
    let (mut parsed, mut failed, mut malformed, mut bad_checksum) = (0, 0, 0, 0);
    for _ in 0..VARIANTS {
        let mut memory = original.clone();
        for _ in 0..1 + random.below(4) {
            if random.below(8) == 0 {
                let rsdp = memory.region_mut(RSDP);
                corrupt(&mut random, rsdp);
                if random.below(2) == 0 {
                    fix_checksum(&mut rsdp[..20], 8);
                    fix_checksum(rsdp, 32);
                }
                continue;
            }
            let table = memory.region_mut(TABLES[random.below(TABLES.len())]);
            corrupt(&mut random, table);
            // Most variants get a correct checksum, so the parsers see the damage.
            if random.below(4) != 0 {
                reseal(table);
            }
        }
        let _ = find_rsdp(&memory, Some(RSDP));
        let acpi = match Acpi::parse(&memory, RSDP) {
            Ok(acpi) => acpi,
            Err(_) => {
                failed += 1;
                continue;
            }
        };
        parsed += 1;
        check_bounds(&acpi);
        malformed += acpi.problems.iter().filter(|p| p.kind == ProblemKind::Malformed).count();
        bad_checksum += acpi.problems.iter().filter(|p| p.kind == ProblemKind::BadChecksum).count();
    }
    // The variants reach every outcome: fatal errors, damaged bodies, bad checksums.
    assert!(failed > 50, "failed {failed}");
    assert!(parsed > VARIANTS / 2, "parsed {parsed}");
    assert!(malformed > 20, "malformed {malformed}");
    assert!(bad_checksum > 100, "bad checksum {bad_checksum}");
}

fn check_bounds(acpi: &Acpi) {
    assert!(acpi.problems.len() <= MAX_PROBLEMS);
    for table in acpi.tables.iter().chain(core::iter::once(&acpi.root)) {
        assert!((36..=MAX_TABLE_LENGTH).contains(&table.length), "{table:?}");
    }
    if let Some(madt) = &acpi.madt {
        assert!(madt.processors.len() <= MAX_PROCESSORS);
        let ids: HashSet<u32> = madt.processors.iter().map(|p| p.apic_id).collect();
        assert_eq!(ids.len(), madt.processors.len(), "duplicate APIC ids");
    }
    if let Some(s5) = acpi.s5 {
        assert!(s5.a <= 7 && s5.b <= 7);
    }
    if let Some(mcfg) = &acpi.mcfg {
        assert!(mcfg.regions.iter().all(|region| region.start_bus <= region.end_bus));
    }
}
