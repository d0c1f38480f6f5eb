//! The walk from RSDP to the tables: root table choice and damaged tables.

use super::builder::{FakeMemory, TableBuilder, reseal, rsdp, rsdt, xsdt};
use super::machine::{DSDT, HPET, MADT, MCFG, RSDP, RSDT, XSDT, standard_hpet, standard_machine};
use crate::{Acpi, AcpiError, MAX_TABLE_LENGTH, ProblemKind, TableProblem};

fn signatures(acpi: &Acpi) -> Vec<&str> {
    acpi.tables.iter().map(|table| table.signature_str()).collect()
}

fn problem(signature: Option<&[u8; 4]>, address: u64, kind: ProblemKind) -> TableProblem {
    TableProblem { signature: signature.copied(), address, kind }
}

#[test]
fn standard_machine_parses_every_table() {
    let acpi = Acpi::parse(&standard_machine(), RSDP).unwrap();
    assert_eq!(acpi.root.signature_str(), "XSDT");
    assert_eq!(acpi.root.address, XSDT);
    assert_eq!(signatures(&acpi), ["APIC", "HPET", "MCFG", "FACP", "DSDT"]);
    assert!(acpi.madt.is_some() && acpi.hpet.is_some() && acpi.mcfg.is_some());
    assert!(acpi.fadt.is_some());
    assert_eq!(acpi.dsdt.unwrap().address, DSDT);
    assert!(acpi.problems.is_empty(), "{:?}", acpi.problems.as_slice());
    assert_eq!(acpi.find_table(b"HPET").unwrap().address, HPET);
    assert_eq!(acpi.find_table(b"SSDT"), None);
}

#[test]
fn xsdt_is_preferred_over_rsdt() {
    let mut memory = standard_machine();
    // The RSDT lists only the HPET: if it were walked, the MADT would be missing.
    *memory.region_mut(RSDT) = rsdt(&[HPET]);
    let acpi = Acpi::parse(&memory, RSDP).unwrap();
    assert_eq!(acpi.root.signature_str(), "XSDT");
    assert!(acpi.madt.is_some());
}

#[test]
fn rsdt_is_used_for_revision_0() {
    let mut memory = standard_machine();
    *memory.region_mut(RSDP) = rsdp(0, RSDT as u32, 0);
    *memory.region_mut(RSDT) = rsdt(&[HPET]);
    let acpi = Acpi::parse(&memory, RSDP).unwrap();
    assert_eq!(acpi.root.signature_str(), "RSDT");
    assert_eq!(signatures(&acpi), ["HPET"]);
    assert!(acpi.madt.is_none() && acpi.fadt.is_none() && acpi.s5.is_none());
}

#[test]
fn broken_xsdt_falls_back_to_rsdt_and_is_reported() {
    let mut memory = standard_machine();
    memory.region_mut(XSDT)[40] ^= 0xFF;
    let acpi = Acpi::parse(&memory, RSDP).unwrap();
    assert_eq!(acpi.root.signature_str(), "RSDT");
    assert_eq!(signatures(&acpi), ["APIC", "HPET", "MCFG", "FACP", "DSDT"]);
    assert_eq!(acpi.problems.as_slice(), [problem(Some(b"XSDT"), XSDT, ProblemKind::BadChecksum)]);
}

#[test]
fn unreadable_root_table_is_an_error() {
    let mut memory = FakeMemory::default();
    memory.put(RSDP, &rsdp(0, 0x4000_0000, 0));
    let error = Acpi::parse(&memory, RSDP).unwrap_err();
    assert_eq!(error, AcpiError::RootTable(problem(None, 0x4000_0000, ProblemKind::Unreadable)));
    assert_eq!(error.to_string(), "root table unusable: table at 0x40000000: unreadable");

    memory.put(0x5000, &TableBuilder::new(b"FACP", 1).build());
    *memory.region_mut(RSDP) = rsdp(0, 0x5000, 0);
    let error = Acpi::parse(&memory, RSDP).unwrap_err();
    assert_eq!(
        error,
        AcpiError::RootTable(problem(Some(b"FACP"), 0x5000, ProblemKind::WrongSignature))
    );

    *memory.region_mut(RSDP) = rsdp(2, 0, 0);
    assert_eq!(Acpi::parse(&memory, RSDP).unwrap_err(), AcpiError::NoRootTable);
}

#[test]
fn table_with_bad_checksum_is_skipped_and_reported() {
    let mut memory = standard_machine();
    memory.region_mut(HPET)[50] ^= 0x01;
    let acpi = Acpi::parse(&memory, RSDP).unwrap();
    assert!(acpi.hpet.is_none());
    assert!(acpi.madt.is_some());
    assert_eq!(acpi.problems.as_slice(), [problem(Some(b"HPET"), HPET, ProblemKind::BadChecksum)]);
    assert_eq!(acpi.problems.as_slice()[0].to_string(), "HPET at 0x7ff400: bad checksum");
}

#[test]
fn truncated_table_is_reported_unreadable() {
    let mut memory = standard_machine();
    // The MADT claims its full length but memory ends 10 bytes early.
    memory.region_mut(MADT).truncate(150);
    let acpi = Acpi::parse(&memory, RSDP).unwrap();
    assert!(acpi.madt.is_none());
    assert_eq!(acpi.problems.as_slice(), [problem(Some(b"APIC"), MADT, ProblemKind::Unreadable)]);
}

#[test]
fn huge_and_tiny_lengths_are_rejected() {
    let mut memory = standard_machine();
    memory.region_mut(MCFG)[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    memory.region_mut(HPET)[4..8].copy_from_slice(&(MAX_TABLE_LENGTH + 1).to_le_bytes());
    memory.region_mut(MADT)[4..8].copy_from_slice(&35u32.to_le_bytes());
    let acpi = Acpi::parse(&memory, RSDP).unwrap();
    assert!(acpi.madt.is_none() && acpi.hpet.is_none() && acpi.mcfg.is_none());
    assert_eq!(
        acpi.problems.as_slice(),
        [
            problem(Some(b"APIC"), MADT, ProblemKind::BadLength),
            problem(Some(b"HPET"), HPET, ProblemKind::BadLength),
            problem(Some(b"MCFG"), MCFG, ProblemKind::BadLength),
        ]
    );
}

#[test]
fn huge_root_table_length_is_an_error() {
    let mut memory = standard_machine();
    *memory.region_mut(RSDP) = rsdp(0, RSDT as u32, 0);
    memory.region_mut(RSDT)[4..8].copy_from_slice(&0x8000_0000u32.to_le_bytes());
    let error = Acpi::parse(&memory, RSDP).unwrap_err();
    assert_eq!(error, AcpiError::RootTable(problem(Some(b"RSDT"), RSDT, ProblemKind::BadLength)));
}

#[test]
fn unreadable_and_null_entries_are_reported() {
    let mut memory = standard_machine();
    *memory.region_mut(XSDT) = xsdt(&[0xDEAD_0000, 0, u64::MAX - 8, MADT]);
    let acpi = Acpi::parse(&memory, RSDP).unwrap();
    assert!(acpi.madt.is_some());
    assert_eq!(
        acpi.problems.as_slice(),
        [
            problem(None, 0xDEAD_0000, ProblemKind::Unreadable),
            problem(Some(b"XSDT"), XSDT, ProblemKind::Malformed),
            problem(None, u64::MAX - 8, ProblemKind::Unreadable),
        ]
    );
}

#[test]
fn ragged_root_table_uses_whole_entries() {
    let mut memory = standard_machine();
    let mut table = xsdt(&[HPET, MADT]);
    table.extend_from_slice(&[1, 2, 3]);
    let length = table.len() as u32;
    table[4..8].copy_from_slice(&length.to_le_bytes());
    reseal(&mut table);
    *memory.region_mut(XSDT) = table;
    let acpi = Acpi::parse(&memory, RSDP).unwrap();
    assert_eq!(signatures(&acpi), ["HPET", "APIC"]);
    assert_eq!(acpi.problems.as_slice(), [problem(Some(b"XSDT"), XSDT, ProblemKind::Malformed)]);
}

#[test]
fn duplicate_table_keeps_the_first() {
    let mut memory = standard_machine();
    let mut second = standard_hpet();
    second[44] = 0x55; // a different base address
    reseal(&mut second);
    memory.put(0x90_0000, &second);
    *memory.region_mut(XSDT) = xsdt(&[HPET, 0x90_0000]);
    let acpi = Acpi::parse(&memory, RSDP).unwrap();
    assert_eq!(acpi.hpet.unwrap().base.address, 0xFED0_0000);
    assert_eq!(signatures(&acpi), ["HPET", "HPET"]);
    assert_eq!(
        acpi.problems.as_slice(),
        [problem(Some(b"HPET"), 0x90_0000, ProblemKind::Duplicate)]
    );
}

#[test]
fn dsdt_with_wrong_signature_is_skipped() {
    let mut memory = standard_machine();
    *memory.region_mut(DSDT) = TableBuilder::new(b"SSDT", 2).u32(0).build();
    let acpi = Acpi::parse(&memory, RSDP).unwrap();
    assert!(acpi.dsdt.is_none() && acpi.s5.is_none());
    assert!(acpi.fadt.is_some());
    assert_eq!(
        acpi.problems.as_slice(),
        [problem(Some(b"SSDT"), DSDT, ProblemKind::WrongSignature)]
    );
}

#[test]
fn problem_list_is_bounded() {
    let mut memory = standard_machine();
    let entries: Vec<u64> = (0..40).map(|index| 0x100_0000 + index * 0x1000).collect();
    *memory.region_mut(XSDT) = xsdt(&entries);
    let acpi = Acpi::parse(&memory, RSDP).unwrap();
    assert_eq!(acpi.problems.len(), crate::MAX_PROBLEMS);
    assert_eq!(acpi.problems.dropped(), 40 - crate::MAX_PROBLEMS);
}
