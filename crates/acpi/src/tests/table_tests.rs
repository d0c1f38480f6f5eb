//! HPET, MCFG, FADT and the `_S5_` search.

use super::builder::TableBuilder;
use super::machine::{
    DSDT, FADT, HPET, MCFG, RSDP, S5_PACKAGE, dsdt_with, standard_fadt, standard_machine,
};
use crate::{Acpi, EcamRegion, GenericAddress, ProblemKind, ResetRegister, SleepType};

fn with_region(address: u64, table: Vec<u8>) -> Acpi {
    let mut memory = standard_machine();
    *memory.region_mut(address) = table;
    Acpi::parse(&memory, RSDP).unwrap()
}

#[test]
fn hpet_values() {
    let hpet = Acpi::parse(&standard_machine(), RSDP).unwrap().hpet.unwrap();
    assert_eq!(hpet.base_address(), Some(0xFED0_0000));
    assert_eq!(hpet.base.bit_width, 64);
    assert_eq!(hpet.number, 0);
    assert_eq!(hpet.minimum_tick, 0x80);
    assert_eq!(hpet.comparator_count(), 3);
    assert!(hpet.counter_is_64_bit());
    assert!(hpet.legacy_replacement_capable());
    assert_eq!(hpet.vendor_id(), 0x8086);
}

#[test]
fn hpet_outside_memory_space_has_no_base_address() {
    let table = TableBuilder::new(b"HPET", 1).u32(0).gas(1, 64, 0, 0x500).u8(2).u16(1).u8(0);
    let hpet = with_region(HPET, table.build()).hpet.unwrap();
    assert_eq!(hpet.base_address(), None);
    assert_eq!(hpet.number, 2);
}

#[test]
fn short_hpet_is_malformed() {
    let acpi = with_region(HPET, TableBuilder::new(b"HPET", 1).u32(0).gas(0, 64, 0, 1).build());
    assert!(acpi.hpet.is_none());
    assert_eq!(acpi.problems.as_slice()[0].kind, ProblemKind::Malformed);
}

#[test]
fn mcfg_regions() {
    let mcfg = Acpi::parse(&standard_machine(), RSDP).unwrap().mcfg.unwrap();
    assert_eq!(
        mcfg.regions.as_slice(),
        [
            EcamRegion { base_address: 0xB000_0000, segment_group: 0, start_bus: 0, end_bus: 255 },
            EcamRegion { base_address: 0xC000_0000, segment_group: 1, start_bus: 0, end_bus: 0x3F },
        ]
    );
    assert!(!mcfg.malformed);
}

#[test]
fn mcfg_with_reversed_buses_and_ragged_end_is_malformed() {
    let table = TableBuilder::new(b"MCFG", 1)
        .u64(0)
        .u64(0xE000_0000)
        .u16(0)
        .u8(9)
        .u8(3)
        .u32(0)
        .u64(0xF000_0000)
        .u16(0)
        .u8(0)
        .u8(7)
        .u32(0)
        .bytes(&[1, 2, 3])
        .build();
    let acpi = with_region(MCFG, table);
    let mcfg = acpi.mcfg.unwrap();
    assert_eq!(mcfg.regions.len(), 1);
    assert_eq!(mcfg.regions.as_slice()[0].base_address, 0xF000_0000);
    assert!(mcfg.malformed);
    assert_eq!(acpi.problems.as_slice()[0].kind, ProblemKind::Malformed);
}

#[test]
fn fadt_registers() {
    let fadt = Acpi::parse(&standard_machine(), RSDP).unwrap().fadt.unwrap();
    assert_eq!(fadt.revision, 3);
    assert_eq!(fadt.dsdt_address, DSDT);
    assert_eq!(fadt.pm1a_control, Some(0x604));
    assert_eq!(fadt.pm1b_control, None);
    assert_eq!(fadt.pm1a_event, Some(0x600));
    assert_eq!(fadt.pm_timer, Some(0x608));
    assert!(fadt.pm_timer_is_32_bit());
    assert_eq!(fadt.sci_interrupt, 9);
    assert_eq!((fadt.smi_command, fadt.acpi_enable, fadt.acpi_disable), (0xB2, 0xF1, 0xF0));
    assert_eq!(fadt.century, Some(0x32));
    assert_eq!(fadt.iapc_boot_arch, Some(2));
    assert!(fadt.has_8042());
    assert!(!fadt.has_legacy_devices());
    assert!(!fadt.hardware_reduced());
    let register = GenericAddress {
        address_space: GenericAddress::SPACE_SYSTEM_IO,
        bit_width: 8,
        bit_offset: 0,
        access_size: 1,
        address: 0xCF9,
    };
    assert_eq!(fadt.reset, Some(ResetRegister { register, value: 6 }));
    assert_eq!(fadt.reset.unwrap().register.io_port(), Some(0xCF9));
}

#[test]
fn fadt_without_reset_support_has_no_reset_register() {
    let mut table = standard_fadt();
    table[113] &= !(1 << 2); // clear flag bit 10
    super::builder::reseal(&mut table);
    let fadt = with_region(FADT, table).fadt.unwrap();
    assert_eq!(fadt.reset, None);
    assert!(fadt.pm_timer_is_32_bit());
}

#[test]
fn extended_blocks_take_precedence() {
    let table = TableBuilder::new(b"FACP", 4)
        .pad_to(244)
        .set(40, &0x1234u32.to_le_bytes())
        .set(64, &0x404u32.to_le_bytes())
        .set(68, &0x504u32.to_le_bytes())
        .set(140, &(DSDT).to_le_bytes())
        .set(172, &[1, 16, 0, 2])
        .set(176, &0xB004u64.to_le_bytes())
        // X_PM1b in system memory: not a port, so the 32-bit field is used.
        .set(184, &[0, 16, 0, 2])
        .set(188, &0xFE00_0000u64.to_le_bytes())
        .build();
    let acpi = with_region(FADT, table);
    let fadt = acpi.fadt.unwrap();
    assert_eq!(fadt.dsdt_address, DSDT);
    assert_eq!(fadt.pm1a_control, Some(0xB004));
    assert_eq!(fadt.pm1b_control, Some(0x504));
    assert_eq!(fadt.century, None);
    assert_eq!(acpi.s5, Some(SleepType { a: 5, b: 5 }));
}

#[test]
fn acpi_1_fadt_assumes_legacy_devices() {
    let table = TableBuilder::new(b"FACP", 1)
        .pad_to(116)
        .set(40, &(DSDT as u32).to_le_bytes())
        .set(64, &0xB004u32.to_le_bytes())
        .set(112, &(1u32 << 10).to_le_bytes())
        .build();
    let fadt = with_region(FADT, table).fadt.unwrap();
    assert_eq!(fadt.iapc_boot_arch, None);
    assert!(fadt.has_8042() && fadt.has_legacy_devices());
    // RESET_REG_SUP is set but the table is too short to hold the register.
    assert_eq!(fadt.reset, None);
    assert_eq!(fadt.pm1a_control, Some(0xB004));
    assert_eq!(fadt.dsdt_address, DSDT);
}

#[test]
fn fadt_shorter_than_acpi_1_is_malformed() {
    let acpi = with_region(FADT, TableBuilder::new(b"FACP", 1).pad_to(100).build());
    assert!(acpi.fadt.is_none() && acpi.dsdt.is_none());
    assert_eq!(acpi.problems.as_slice()[0].kind, ProblemKind::Malformed);
}

#[test]
fn s5_found_after_a_decoy() {
    let acpi = Acpi::parse(&standard_machine(), RSDP).unwrap();
    assert_eq!(acpi.s5, Some(SleepType { a: 5, b: 5 }));
}

#[test]
fn s5_with_root_prefix_other_encodings_and_chunk_straddle() {
    // \_S5_ with a two-byte PkgLength, ZeroOp and WordPrefix elements.
    let aml = [0x08, b'\\', b'_', b'S', b'5', b'_', 0x12, 0x40, 0x00, 2, 0x00, 0x0B, 7, 0];
    // Many placements, so that `_S5_` straddles the 256-byte search chunks.
    for prefix in 200..260 {
        let acpi = with_region(DSDT, dsdt_with(prefix, &aml));
        assert_eq!(acpi.s5, Some(SleepType { a: 0, b: 7 }), "prefix {prefix}");
    }
}

#[test]
fn s5_search_fails_cleanly() {
    let cases: [&[u8]; 6] = [
        &[0xA3; 16],                                                // no _S5_
        &[0x08, b'_', b'S', b'5', b'_', 0x13, 8, 4, 0, 0, 0, 0],    // not a package
        &[0x08, b'_', b'S', b'5', b'_', 0x12, 3, 1, 0x0A, 5],       // one element
        &[0x08, b'_', b'S', b'5', b'_', 0x12, 8, 4, 0x0A, 9, 0, 0], // value > 7
        &[0x08, b'_', b'S', b'5', b'_', 0x12, 8, 4, 0x14, 0, 0, 0], // method call
        &S5_PACKAGE[..9],                                           // cut off by table end
    ];
    for aml in cases {
        let mut table = TableBuilder::new(b"DSDT", 2).bytes(&[0xA3; 4]).bytes(aml).build();
        if aml.len() == 9 {
            // Keep the cut-off package as the very end of the table.
            table = TableBuilder::new(b"DSDT", 2).bytes(aml).build();
        }
        let acpi = with_region(DSDT, table);
        assert!(acpi.dsdt.is_some());
        assert_eq!(acpi.s5, None, "{aml:02x?}");
        assert!(acpi.problems.is_empty());
    }
}
