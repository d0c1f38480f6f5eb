//! A complete synthetic table set, laid out as firmware would leave it, for the tests.

use super::builder::{FakeMemory, TableBuilder, rsdp, rsdt, xsdt};

pub const RSDP: u64 = 0x7F_E000;
pub const XSDT: u64 = 0x7F_F000;
pub const RSDT: u64 = 0x7F_F100;
pub const MADT: u64 = 0x7F_F200;
pub const HPET: u64 = 0x7F_F400;
pub const MCFG: u64 = 0x7F_F500;
pub const FADT: u64 = 0x7F_F600;
pub const DSDT: u64 = 0x7F_F800;

/// MADT entry: processor local APIC (type 0).
pub fn local_apic(uid: u8, apic_id: u8, flags: u32) -> Vec<u8> {
    let mut entry = vec![0, 8, uid, apic_id];
    entry.extend_from_slice(&flags.to_le_bytes());
    entry
}

/// MADT entry: processor local x2APIC (type 9).
pub fn local_x2apic(x2apic_id: u32, flags: u32, uid: u32) -> Vec<u8> {
    let mut entry = vec![9, 16, 0, 0];
    for field in [x2apic_id, flags, uid] {
        entry.extend_from_slice(&field.to_le_bytes());
    }
    entry
}

/// MADT entry: I/O APIC (type 1).
pub fn io_apic(id: u8, address: u32, gsi_base: u32) -> Vec<u8> {
    let mut entry = vec![1, 12, id, 0];
    entry.extend_from_slice(&address.to_le_bytes());
    entry.extend_from_slice(&gsi_base.to_le_bytes());
    entry
}

/// MADT entry: interrupt source override (type 2).
pub fn interrupt_override(source_irq: u8, gsi: u32, flags: u16) -> Vec<u8> {
    let mut entry = vec![2, 10, 0, source_irq];
    entry.extend_from_slice(&gsi.to_le_bytes());
    entry.extend_from_slice(&flags.to_le_bytes());
    entry
}

/// A MADT with the given entries after the local APIC address and flags.
pub fn madt(local_apic_address: u32, flags: u32, entries: &[Vec<u8>]) -> Vec<u8> {
    let builder = TableBuilder::new(b"APIC", 4).u32(local_apic_address).u32(flags);
    entries.iter().fold(builder, |builder, entry| builder.bytes(entry)).build()
}

/// The standard MADT: mixed xAPIC/x2APIC cores (some unusable, one duplicate), one
/// I/O APIC, two overrides, two NMI entries and an unknown entry type.
pub fn standard_madt() -> Vec<u8> {
    madt(
        0xFEE0_0000,
        1,
        &[
            local_apic(0, 0, 1),
            local_apic(1, 2, 0),
            local_apic(2, 4, 2),
            local_x2apic(0x100, 1, 3),
            local_x2apic(0, 1, 0),
            local_x2apic(0x101, 0, 4),
            io_apic(0x10, 0xFEC0_0000, 0),
            interrupt_override(0, 2, 0),
            interrupt_override(9, 9, 0xF),
            vec![4, 6, 0xFF, 5, 0, 1],
            vec![0xA, 12, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0],
            vec![0x7F, 4, 0xAA, 0xBB],
        ],
    )
}

pub fn standard_hpet() -> Vec<u8> {
    TableBuilder::new(b"HPET", 1)
        .u32(0x8086_A201)
        .gas(0, 64, 0, 0xFED0_0000)
        .u8(0)
        .u16(0x80)
        .u8(0)
        .build()
}

pub fn standard_mcfg() -> Vec<u8> {
    TableBuilder::new(b"MCFG", 1)
        .u64(0)
        .u64(0xB000_0000)
        .u16(0)
        .u8(0)
        .u8(255)
        .u32(0)
        .u64(0xC000_0000)
        .u16(1)
        .u8(0)
        .u8(0x3F)
        .u32(0)
        .build()
}

/// An ACPI 2.0-layout FADT (244 bytes, revision 3).
pub fn standard_fadt() -> Vec<u8> {
    TableBuilder::new(b"FACP", 3)
        .pad_to(244)
        .set(40, &(DSDT as u32).to_le_bytes())
        .set(46, &9u16.to_le_bytes())
        .set(48, &0xB2u32.to_le_bytes())
        .set(52, &[0xF1, 0xF0])
        .set(56, &0x600u32.to_le_bytes())
        .set(64, &0x604u32.to_le_bytes())
        .set(76, &0x608u32.to_le_bytes())
        .set(108, &[0x32])
        .set(109, &0x0002u16.to_le_bytes())
        .set(112, &((1u32 << 10) | (1 << 8)).to_le_bytes())
        .set(116, &[1, 8, 0, 1])
        .set(120, &0xCF9u64.to_le_bytes())
        .set(128, &[0x06])
        .set(140, &DSDT.to_le_bytes())
        .set(172, &[1, 16, 0, 2])
        .set(176, &0x604u64.to_le_bytes())
        .build()
}

/// AML for `Name (_S5, Package (4) { 5, 5, 0, 0 })`.
pub const S5_PACKAGE: [u8; 14] = [0x08, b'_', b'S', b'5', b'_', 0x12, 8, 4, 0x0A, 5, 0x0A, 5, 0, 0];

/// A DSDT whose body is `prefix` filler bytes, a decoy `_S5_` reference, then `aml`.
pub fn dsdt_with(prefix: usize, aml: &[u8]) -> Vec<u8> {
    TableBuilder::new(b"DSDT", 2)
        .bytes(&vec![0xA3; prefix]) // NoopOp filler
        .bytes(&[0x70, b'_', b'S', b'5', b'_', 0x60]) // Store (_S5_, Local0): not a Name
        .bytes(aml)
        .bytes(&[0xA3; 8])
        .build()
}

/// The standard machine: RSDP revision 2 at [`RSDP`], XSDT and RSDT both listing the
/// MADT, HPET, MCFG and FADT, and a DSDT with an `_S5_` package.
pub fn standard_machine() -> FakeMemory {
    let tables = [MADT, HPET, MCFG, FADT];
    let mut memory = FakeMemory::default();
    memory.put(RSDP, &rsdp(2, RSDT as u32, XSDT));
    memory.put(XSDT, &xsdt(&tables));
    memory.put(RSDT, &rsdt(&tables));
    memory.put(MADT, &standard_madt());
    memory.put(HPET, &standard_hpet());
    memory.put(MCFG, &standard_mcfg());
    memory.put(FADT, &standard_fadt());
    memory.put(DSDT, &dsdt_with(40, &S5_PACKAGE));
    memory
}
