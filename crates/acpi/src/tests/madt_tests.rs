//! MADT parsing: cores, I/O APICs, overrides, NMIs and damaged entries.

use super::builder::{TableBuilder, xsdt};
use super::machine::{MADT, RSDP, XSDT, io_apic, local_apic, local_x2apic, madt, standard_machine};
use crate::{
    Acpi, InterruptOverride, IoApic, LocalApicNmi, MAX_PROCESSORS, Madt, ProblemKind, Processor,
};

fn parse_madt(table: Vec<u8>) -> Acpi {
    let mut memory = standard_machine();
    *memory.region_mut(MADT) = table;
    Acpi::parse(&memory, RSDP).unwrap()
}

fn kinds(acpi: &Acpi) -> Vec<ProblemKind> {
    acpi.problems.iter().map(|problem| problem.kind).collect()
}

#[test]
fn mixed_xapic_and_x2apic_cores() {
    let acpi = Acpi::parse(&standard_machine(), RSDP).unwrap();
    let madt: &Madt = acpi.madt.as_ref().unwrap();
    assert_eq!(madt.local_apic_address, 0xFEE0_0000);
    assert!(madt.has_legacy_pics());
    assert_eq!(
        madt.processors.as_slice(),
        [
            Processor { uid: 0, apic_id: 0, enabled: true, x2apic: false },
            Processor { uid: 2, apic_id: 4, enabled: false, x2apic: false },
            Processor { uid: 3, apic_id: 0x100, enabled: true, x2apic: true },
        ]
    );
    // APIC id 2 (disabled) and x2APIC 0x101 (disabled) are excluded; the x2APIC
    // duplicate of APIC id 0 is dropped silently.
    assert_eq!(madt.unusable_processors, 2);
    assert_eq!(madt.processors.dropped(), 0);
    assert_eq!(madt.malformed_at, None);
}

#[test]
fn io_apics_and_overrides() {
    let acpi = Acpi::parse(&standard_machine(), RSDP).unwrap();
    let madt = acpi.madt.unwrap();
    assert_eq!(madt.io_apics.as_slice(), [IoApic { id: 0x10, address: 0xFEC0_0000, gsi_base: 0 }]);
    assert_eq!(
        madt.interrupt_overrides.as_slice(),
        [
            InterruptOverride { bus: 0, source_irq: 0, gsi: 2, flags: 0 },
            InterruptOverride { bus: 0, source_irq: 9, gsi: 9, flags: 0xF },
        ]
    );
    let sci = madt.interrupt_overrides.as_slice()[1];
    assert!(sci.active_low() && sci.level_triggered());
    let timer = madt.interrupt_overrides.as_slice()[0];
    assert!(!timer.active_low() && !timer.level_triggered());
    assert_eq!(madt.gsi_for_isa_irq(0), 2);
    assert_eq!(madt.gsi_for_isa_irq(1), 1);
    // (GSI, active low, level): the keyboard by ISA defaults, the timer moved to GSI 2
    // with "conforms" flags, IRQ 9 level and active low as its override says, and a
    // PCI line without an override by PCI defaults.
    assert_eq!(madt.legacy_route(1, false), (1, false, false));
    assert_eq!(madt.legacy_route(0, false), (2, false, false));
    assert_eq!(madt.legacy_route(9, false), (9, true, true));
    assert_eq!(madt.legacy_route(11, true), (11, true, true));
    assert_eq!(madt.legacy_route(0, true), (2, true, true), "conforms: the PCI default");
    assert_eq!(
        madt.local_apic_nmis.as_slice(),
        [
            LocalApicNmi { processor_uid: None, flags: 5, lint: 1 },
            LocalApicNmi { processor_uid: Some(3), flags: 0, lint: 1 },
        ]
    );
}

#[test]
fn address_override_entry_replaces_the_header_address() {
    let mut entry = vec![5, 12, 0, 0];
    entry.extend_from_slice(&0x1_2345_6000u64.to_le_bytes());
    let acpi = parse_madt(madt(0xFEE0_0000, 0, &[local_apic(0, 0, 1), entry]));
    let madt = acpi.madt.unwrap();
    assert_eq!(madt.local_apic_address, 0x1_2345_6000);
    assert!(!madt.has_legacy_pics());
}

#[test]
fn zero_length_entry_stops_the_walk_and_is_reported() {
    let acpi = parse_madt(madt(
        0xFEE0_0000,
        1,
        &[local_apic(0, 0, 1), vec![0, 0, 0, 0], local_apic(1, 1, 1)],
    ));
    let madt = acpi.madt.as_ref().unwrap();
    assert_eq!(madt.processors.len(), 1);
    assert_eq!(madt.malformed_at, Some(52));
    assert_eq!(kinds(&acpi), [ProblemKind::Malformed]);
    assert_eq!(acpi.problems.as_slice()[0].address, MADT);
}

#[test]
fn entry_running_past_the_table_is_reported() {
    let acpi = parse_madt(madt(0, 1, &[local_apic(0, 0, 1), vec![1, 200, 0, 0]]));
    let madt = acpi.madt.as_ref().unwrap();
    assert_eq!(madt.processors.len(), 1);
    assert!(madt.io_apics.is_empty());
    assert_eq!(madt.malformed_at, Some(52));
    // A single trailing byte cannot even hold an entry header.
    let acpi = parse_madt(madt_with_tail(&[9]));
    assert_eq!(acpi.madt.as_ref().unwrap().malformed_at, Some(52));
}

fn madt_with_tail(tail: &[u8]) -> Vec<u8> {
    TableBuilder::new(b"APIC", 4).u32(0).u32(0).bytes(&local_apic(0, 0, 1)).bytes(tail).build()
}

#[test]
fn entry_too_short_for_its_type_is_skipped() {
    // A type 9 entry of 8 bytes cannot hold flags and UID: skipped, walk continues.
    let acpi = parse_madt(madt(
        0,
        1,
        &[vec![9, 8, 0, 0, 7, 0, 0, 0], io_apic(1, 0xFEC0_0000, 0), local_x2apic(7, 1, 7)],
    ));
    let madt = acpi.madt.as_ref().unwrap();
    assert_eq!(madt.malformed_at, Some(44));
    assert_eq!(madt.io_apics.len(), 1);
    assert_eq!(
        madt.processors.as_slice(),
        [Processor { uid: 7, apic_id: 7, enabled: true, x2apic: true }]
    );
    assert_eq!(kinds(&acpi), [ProblemKind::Malformed]);
}

#[test]
fn invalid_apic_ids_are_not_cores() {
    let acpi = parse_madt(madt(
        0,
        1,
        &[local_apic(0, 0xFF, 1), local_x2apic(u32::MAX, 1, 1), local_apic(2, 1, 1)],
    ));
    let madt = acpi.madt.unwrap();
    assert_eq!(madt.processors.len(), 1);
    assert_eq!(madt.unusable_processors, 2);
}

#[test]
fn madt_too_short_for_its_fields_is_malformed() {
    let acpi = parse_madt(TableBuilder::new(b"APIC", 4).u32(0xFEE0_0000).build());
    assert!(acpi.madt.is_none());
    assert_eq!(kinds(&acpi), [ProblemKind::Malformed]);
}

#[test]
fn cores_beyond_capacity_are_counted_and_reported() {
    let entries: Vec<Vec<u8>> = (0..300).map(|id| local_x2apic(id, 1, id)).collect();
    // 4.8 KiB: placed apart so that it does not cover the other tables.
    let mut memory = standard_machine();
    memory.put(0x90_0000, &madt(0xFEE0_0000, 0, &entries));
    *memory.region_mut(XSDT) = xsdt(&[0x90_0000]);
    let acpi = Acpi::parse(&memory, RSDP).unwrap();
    let madt = acpi.madt.as_ref().unwrap();
    assert_eq!(madt.processors.len(), MAX_PROCESSORS);
    assert_eq!(madt.processors.dropped(), 300 - MAX_PROCESSORS);
    assert_eq!(madt.processors.as_slice()[255].apic_id, 255);
    assert_eq!(kinds(&acpi), [ProblemKind::CapacityExceeded]);
}

#[test]
fn madt_listed_twice_in_xsdt_is_a_duplicate() {
    let mut memory = standard_machine();
    *memory.region_mut(XSDT) = xsdt(&[MADT, MADT]);
    let acpi = Acpi::parse(&memory, RSDP).unwrap();
    assert_eq!(acpi.madt.as_ref().unwrap().processors.len(), 3);
    assert_eq!(kinds(&acpi), [ProblemKind::Duplicate]);
}
