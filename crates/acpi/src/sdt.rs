//! System description tables: the 36-byte header every table starts with, and
//! bounds-checked reads inside one validated table.
//!
//! [`Table::load`] accepts a table only if its header is readable, its length lies in
//! `HEADER_LENGTH..=MAX_TABLE_LENGTH` and all its bytes sum to zero. After that, every
//! field read is checked against the table's length, so a parser can never read past
//! the end of a table, whatever the firmware put in it.

use ingot_bootinfo::PhysicalMemory;

use crate::error::{ProblemKind, TableProblem};

/// Bytes in a system description table header (signature, length, revision, checksum,
/// OEM id, OEM table id, OEM revision, creator id, creator revision).
pub const HEADER_LENGTH: u32 = 36;

/// Longest table accepted (1 MiB). Real tables are far smaller (a large DSDT is a few
/// hundred KiB); the cap bounds the work a corrupt length field can cause.
pub const MAX_TABLE_LENGTH: u32 = 1 << 20;

/// Identity of one validated table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TableInfo {
    /// Four ASCII characters, such as `APIC` for the MADT.
    pub signature: [u8; 4],
    /// Physical address of the header.
    pub address: u64,
    /// Length in bytes including the header.
    pub length: u32,
    /// The table's own revision (its layout version).
    pub revision: u8,
    /// The OEM id from the header.
    pub oem_id: [u8; 6],
}

impl TableInfo {
    /// The signature as text (`"????"` if it is not UTF-8).
    pub fn signature_str(&self) -> &str {
        core::str::from_utf8(&self.signature).unwrap_or("????")
    }
}

/// A validated table in physical memory.
pub(crate) struct Table<'m, M: ?Sized> {
    memory: &'m M,
    pub(crate) info: TableInfo,
}

impl<'m, M: PhysicalMemory + ?Sized> Table<'m, M> {
    /// Reads and validates the table at `address`.
    pub(crate) fn load(memory: &'m M, address: u64) -> Result<Self, TableProblem> {
        let problem = |signature, kind| TableProblem { signature, address, kind };
        let mut header = [0u8; HEADER_LENGTH as usize];
        if !memory.read(address, &mut header) {
            return Err(problem(None, ProblemKind::Unreadable));
        }
        let signature = [header[0], header[1], header[2], header[3]];
        let length = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let end = address.checked_add(u64::from(length));
        if !(HEADER_LENGTH..=MAX_TABLE_LENGTH).contains(&length) || end.is_none() {
            return Err(problem(Some(signature), ProblemKind::BadLength));
        }
        match checksum(memory, address, length) {
            None => return Err(problem(Some(signature), ProblemKind::Unreadable)),
            Some(0) => {}
            Some(_) => return Err(problem(Some(signature), ProblemKind::BadChecksum)),
        }
        let mut oem_id = [0u8; 6];
        oem_id.copy_from_slice(&header[10..16]);
        let info = TableInfo { signature, address, length, revision: header[8], oem_id };
        Ok(Self { memory, info })
    }

    /// Fills `buffer` from `offset` bytes into the table; `false` if that range is not
    /// entirely inside the table or cannot be read.
    pub(crate) fn read(&self, offset: u32, buffer: &mut [u8]) -> bool {
        let end = u64::from(offset).saturating_add(buffer.len() as u64);
        end <= u64::from(self.info.length)
            && self.memory.read(self.info.address + u64::from(offset), buffer)
    }

    fn array<const N: usize>(&self, offset: u32) -> Option<[u8; N]> {
        let mut bytes = [0u8; N];
        self.read(offset, &mut bytes).then_some(bytes)
    }

    /// The byte at `offset`, if inside the table.
    pub(crate) fn u8(&self, offset: u32) -> Option<u8> {
        self.array::<1>(offset).map(|[byte]| byte)
    }

    /// The little-endian `u16` at `offset`, if inside the table.
    pub(crate) fn u16(&self, offset: u32) -> Option<u16> {
        self.array(offset).map(u16::from_le_bytes)
    }

    /// The little-endian `u32` at `offset`, if inside the table.
    pub(crate) fn u32(&self, offset: u32) -> Option<u32> {
        self.array(offset).map(u32::from_le_bytes)
    }

    /// The little-endian `u64` at `offset`, if inside the table.
    pub(crate) fn u64(&self, offset: u32) -> Option<u64> {
        self.array(offset).map(u64::from_le_bytes)
    }

    /// The table's length in bytes.
    pub(crate) fn length(&self) -> u32 {
        self.info.length
    }
}

/// The 8-bit sum of `length` bytes at `address`, read in small chunks; `None` if any
/// of them cannot be read.
pub(crate) fn checksum<M: PhysicalMemory + ?Sized>(
    memory: &M,
    address: u64,
    length: u32,
) -> Option<u8> {
    let mut buffer = [0u8; 256];
    let mut sum = 0u8;
    let mut done = 0u32;
    while done < length {
        let count = (length - done).min(buffer.len() as u32) as usize;
        let chunk = &mut buffer[..count];
        if !memory.read(address.checked_add(u64::from(done))?, chunk) {
            return None;
        }
        sum = chunk.iter().fold(sum, |sum, &byte| sum.wrapping_add(byte));
        done += count as u32;
    }
    Some(sum)
}
