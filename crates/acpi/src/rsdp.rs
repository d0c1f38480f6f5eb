//! The Root System Description Pointer: where the ACPI tables start.
//!
//! A UEFI or PVH loader usually passes its address; a BIOS machine leaves it on a
//! 16-byte boundary in the first KiB of the Extended BIOS Data Area or in the BIOS
//! area 0xE0000..0x100000, where [`find_rsdp`] looks for it.

use ingot_bootinfo::PhysicalMemory;

use crate::error::AcpiError;

const SIGNATURE: &[u8; 8] = b"RSD PTR ";
/// Bytes covered by the ACPI 1.0 checksum.
const V1_LENGTH: usize = 20;
/// Bytes of a revision 2+ RSDP.
const V2_LENGTH: u32 = 36;
/// Longest extended RSDP accepted; the spec defines 36 bytes.
const MAX_LENGTH: u32 = 4096;
/// Where the BIOS data area keeps the EBDA's real-mode segment.
const EBDA_SEGMENT_POINTER: u64 = 0x40E;
/// How much of the EBDA is searched.
const EBDA_SEARCH_LENGTH: u64 = 1024;
/// The BIOS read-only area searched after the EBDA.
const BIOS_AREA: core::ops::Range<u64> = 0xE_0000..0x10_0000;

/// A validated RSDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rsdp {
    /// Physical address of the RSDP.
    pub address: u64,
    /// 0 for ACPI 1.0, 2 or more for ACPI 2.0 and later.
    pub revision: u8,
    /// The OEM id.
    pub oem_id: [u8; 6],
    /// Physical address of the RSDT (0 if absent).
    pub rsdt_address: u32,
    /// Physical address of the XSDT (revision 2+ only, `None` if zero).
    pub xsdt_address: Option<u64>,
}

impl Rsdp {
    /// Reads the RSDP at `address`, checking its signature, its checksum and, for
    /// revision 2+, its length and extended checksum.
    pub fn read<M: PhysicalMemory + ?Sized>(memory: &M, address: u64) -> Result<Self, AcpiError> {
        let mut bytes = [0u8; V2_LENGTH as usize];
        if !memory.read(address, &mut bytes[..SIGNATURE.len()]) {
            return Err(AcpiError::RsdpUnreadable);
        }
        if &bytes[..SIGNATURE.len()] != SIGNATURE {
            return Err(AcpiError::RsdpBadSignature);
        }
        if !memory.read(address, &mut bytes[..V1_LENGTH]) {
            return Err(AcpiError::RsdpUnreadable);
        }
        if sum(&bytes[..V1_LENGTH]) != 0 {
            return Err(AcpiError::RsdpBadChecksum);
        }
        let revision = bytes[15];
        let mut oem_id = [0u8; 6];
        oem_id.copy_from_slice(&bytes[9..15]);
        let rsdt_address = u32::from_le_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
        let mut rsdp = Self { address, revision, oem_id, rsdt_address, xsdt_address: None };
        if revision < 2 {
            return Ok(rsdp);
        }
        if !memory.read(address, &mut bytes) {
            return Err(AcpiError::RsdpUnreadable);
        }
        let length = u32::from_le_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]);
        if !(V2_LENGTH..=MAX_LENGTH).contains(&length) {
            return Err(AcpiError::RsdpBadLength);
        }
        match crate::sdt::checksum(memory, address, length) {
            None => return Err(AcpiError::RsdpUnreadable),
            Some(0) => {}
            Some(_) => return Err(AcpiError::RsdpBadChecksum),
        }
        let mut xsdt = [0u8; 8];
        xsdt.copy_from_slice(&bytes[24..32]);
        rsdp.xsdt_address = Some(u64::from_le_bytes(xsdt)).filter(|&address| address != 0);
        Ok(rsdp)
    }
}

fn sum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |sum, &byte| sum.wrapping_add(byte))
}

/// Finds the RSDP: `hint` (the loader's address) if a valid RSDP is there, else the
/// first valid one on a 16-byte boundary in the first KiB of the EBDA, else in
/// 0xE0000..0x100000. `None` if there is none.
pub fn find_rsdp<M: PhysicalMemory + ?Sized>(memory: &M, hint: Option<u64>) -> Option<u64> {
    if let Some(address) = hint
        && Rsdp::read(memory, address).is_ok()
    {
        return Some(address);
    }
    let mut segment = [0u8; 2];
    if memory.read(EBDA_SEGMENT_POINTER, &mut segment) {
        let ebda = u64::from(u16::from_le_bytes(segment)) << 4;
        if ebda != 0
            && let Some(found) = scan(memory, ebda..ebda + EBDA_SEARCH_LENGTH)
        {
            return Some(found);
        }
    }
    scan(memory, BIOS_AREA)
}

/// Bytes read at once while scanning (a multiple of 16, small enough for a boot stack).
const SCAN_CHUNK: usize = 512;

/// The first valid RSDP on a 16-byte boundary in `range`. The memory is read a chunk at
/// a time and only addresses whose first 8 bytes are the signature are read in full:
/// one call per candidate instead of one per paragraph of the 128 KiB BIOS area.
fn scan<M: PhysicalMemory + ?Sized>(memory: &M, range: core::ops::Range<u64>) -> Option<u64> {
    let mut chunk = [0u8; SCAN_CHUNK];
    let mut start = range.start;
    while start < range.end {
        let len = (range.end - start).min(SCAN_CHUNK as u64) as usize;
        let readable = memory.read(start, &mut chunk[..len]);
        // An unreadable chunk (the range ends where readable memory does) is tried
        // paragraph by paragraph, as `Rsdp::read` checks each.
        let found = (0..len)
            .step_by(16)
            .filter(|&offset| !readable || signature_at(&chunk[..len], offset))
            .map(|offset| start + offset as u64)
            .find(|&address| Rsdp::read(memory, address).is_ok());
        if found.is_some() {
            return found;
        }
        start += len as u64;
    }
    None
}

/// Whether `bytes` holds the signature at `offset` (one 8-byte compare, not `memcmp`).
fn signature_at(bytes: &[u8], offset: usize) -> bool {
    let word = bytes.get(offset..offset + 8).and_then(|word| <[u8; 8]>::try_from(word).ok());
    word.map(u64::from_ne_bytes) == Some(u64::from_ne_bytes(*SIGNATURE))
}
