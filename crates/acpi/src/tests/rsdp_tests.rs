//! Finding and validating the RSDP.

use super::builder::{FakeMemory, rsdp};
use super::machine::{RSDP, RSDT, XSDT, standard_machine};
use crate::{AcpiError, Rsdp, find_rsdp};

/// Low memory with the BIOS data area's EBDA pointer set to `ebda_segment`, an EBDA at
/// 0x9FC00 and the BIOS area 0xE0000..0x100000, all zero.
fn bios_memory(ebda_segment: u16) -> FakeMemory {
    let mut memory = FakeMemory::default();
    let mut bda = vec![0u8; 0x100];
    bda[0x0E..0x10].copy_from_slice(&ebda_segment.to_le_bytes());
    memory.put(0x400, &bda);
    memory.put(0x9_FC00, &[0; 0x400]);
    memory.put(0xE_0000, &[0; 0x2_0000]);
    memory
}

#[test]
fn valid_hint_is_used() {
    let memory = standard_machine();
    assert_eq!(find_rsdp(&memory, Some(RSDP)), Some(RSDP));
    let parsed = Rsdp::read(&memory, RSDP).unwrap();
    assert_eq!(parsed.revision, 2);
    assert_eq!(parsed.rsdt_address, RSDT as u32);
    assert_eq!(parsed.xsdt_address, Some(XSDT));
    assert_eq!(&parsed.oem_id, b"INGOT ");
}

#[test]
fn found_in_the_ebda() {
    let mut memory = bios_memory(0x9FC0);
    memory.patch(0x9_FC00 + 0x30, &rsdp(0, 0x1234_5000, 0));
    // A second, valid RSDP in the BIOS area must lose to the EBDA one.
    memory.patch(0xE_0000, &rsdp(0, 0x5555_0000, 0));
    let found = find_rsdp(&memory, None).unwrap();
    assert_eq!(found, 0x9_FC30);
    assert_eq!(Rsdp::read(&memory, found).unwrap().rsdt_address, 0x1234_5000);
    assert_eq!(Rsdp::read(&memory, found).unwrap().xsdt_address, None);
}

#[test]
fn found_in_the_bios_area_when_the_hint_is_wrong() {
    let mut memory = bios_memory(0x9FC0);
    memory.patch(0xF_5A40, &rsdp(2, 0x10, 0x7000_0000));
    // The hint points at zeros: it is ignored.
    assert_eq!(find_rsdp(&memory, Some(0xE_1000)), Some(0xF_5A40));
    // An unreadable hint is ignored as well.
    assert_eq!(find_rsdp(&memory, Some(0xDEAD_0000)), Some(0xF_5A40));
}

#[test]
fn only_16_byte_boundaries_are_searched() {
    let mut memory = bios_memory(0);
    memory.patch(0xE_0008, &rsdp(0, 0x10, 0));
    assert_eq!(find_rsdp(&memory, None), None);
}

#[test]
fn bad_checksum_is_rejected_and_search_continues() {
    let mut memory = bios_memory(0x9FC0);
    let mut broken = rsdp(0, 0x10, 0);
    broken[8] = broken[8].wrapping_add(1);
    memory.patch(0x9_FC00, &broken);
    memory.patch(0xE_0010, &broken);
    memory.patch(0xE_0020, &rsdp(0, 0x20, 0));
    assert_eq!(Rsdp::read(&memory, 0x9_FC00), Err(AcpiError::RsdpBadChecksum));
    assert_eq!(find_rsdp(&memory, Some(0x9_FC00)), Some(0xE_0020));
}

#[test]
fn bad_extended_checksum_is_rejected() {
    let mut memory = FakeMemory::default();
    let mut broken = rsdp(2, 0x10, 0x2000);
    broken[32] = broken[32].wrapping_add(1);
    memory.put(0x1000, &broken);
    assert_eq!(Rsdp::read(&memory, 0x1000), Err(AcpiError::RsdpBadChecksum));
    assert_eq!(find_rsdp(&memory, Some(0x1000)), None);
}

#[test]
fn bad_extended_length_is_rejected() {
    let mut memory = FakeMemory::default();
    let mut broken = rsdp(2, 0x10, 0x2000);
    broken[20..24].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    super::builder::fix_checksum(&mut broken[..20], 8);
    memory.put(0x1000, &broken);
    assert_eq!(Rsdp::read(&memory, 0x1000), Err(AcpiError::RsdpBadLength));
}

#[test]
fn missing_rsdp_is_none_not_a_panic() {
    assert_eq!(find_rsdp(&bios_memory(0x9FC0), None), None);
    assert_eq!(find_rsdp(&FakeMemory::default(), Some(0)), None);
    assert_eq!(Rsdp::read(&FakeMemory::default(), 0x1000), Err(AcpiError::RsdpUnreadable));
    let mut memory = FakeMemory::default();
    memory.put(0x1000, b"NOT PTR nothing to see here");
    assert_eq!(Rsdp::read(&memory, 0x1000), Err(AcpiError::RsdpBadSignature));
}

#[test]
fn found_at_the_last_paragraph_of_a_scanned_chunk_and_in_partly_readable_memory() {
    // 0xE01F0 is the last paragraph of the first 512-byte chunk; its body runs into
    // the next chunk.
    let mut memory = bios_memory(0);
    memory.patch(0xE_01F0, &rsdp(2, 0x10, 0x7000_0000));
    assert_eq!(find_rsdp(&memory, None), Some(0xE_01F0));
    // Only part of the BIOS area is readable, and the chunk holding the RSDP only in
    // part: the scan still finds it.
    let mut partial = FakeMemory::default();
    partial.put(0xE_0000, &[0; 0x300]);
    partial.patch(0xE_0280, &rsdp(0, 0x20, 0));
    assert_eq!(find_rsdp(&partial, None), Some(0xE_0280));
}
