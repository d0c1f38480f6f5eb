//! The S5 (soft-off) sleep type values, dug out of the DSDT's AML.
//!
//! Powering off means writing `SLP_TYPa | SLP_EN` to PM1a control (and `SLP_TYPb` to
//! PM1b), but the SLP_TYP values live in the `\_S5_` package in AML, and a full AML
//! interpreter is far beyond a boot-time parser. This module uses the common
//! heuristic instead: a bounded byte search of the DSDT for `_S5_` preceded by NameOp
//! (optionally with a root prefix), followed by PackageOp, a package length, an element
//! count of at least 2, and two small integer constants. It finds the usual
//! `Name (_S5, Package () { a, b, ... })` but not values computed by methods or
//! defined in an SSDT; any surprise makes it give up with `None`.

use ingot_bootinfo::PhysicalMemory;

use crate::sdt::{HEADER_LENGTH, Table};

const NAME: &[u8; 4] = b"_S5_";
const NAME_OP: u8 = 0x08;
const ROOT_PREFIX: u8 = b'\\';
const PACKAGE_OP: u8 = 0x12;
const ZERO_OP: u8 = 0x00;
const ONE_OP: u8 = 0x01;
const BYTE_PREFIX: u8 = 0x0A;
const WORD_PREFIX: u8 = 0x0B;
const DWORD_PREFIX: u8 = 0x0C;
/// SLP_TYP is a 3-bit field.
const MAX_SLEEP_TYPE: u32 = 7;
/// Bytes searched per read.
const CHUNK: u32 = 256;

/// The values to write into the SLP_TYP fields of PM1a and PM1b control for S5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SleepType {
    /// SLP_TYPa: for the PM1a control block.
    pub a: u8,
    /// SLP_TYPb: for the PM1b control block.
    pub b: u8,
}

/// Searches the validated DSDT for the `_S5_` package (see the module docs).
pub(crate) fn find_s5<M: PhysicalMemory + ?Sized>(dsdt: &Table<'_, M>) -> Option<SleepType> {
    let length = dsdt.length();
    let mut buffer = [0u8; CHUNK as usize];
    let mut start = HEADER_LENGTH;
    while start < length {
        let count = (length - start).min(CHUNK);
        let chunk = &mut buffer[..count as usize];
        if !dsdt.read(start, chunk) {
            return None;
        }
        for (index, window) in chunk.windows(NAME.len()).enumerate() {
            if window == NAME
                && let Some(found) = decode(dsdt, start + index as u32)
            {
                return Some(found);
            }
        }
        if start + count >= length {
            break;
        }
        // Overlap by three bytes so a name split across two chunks is still seen;
        // `count` is a full chunk here, so the search always advances.
        start += count - (NAME.len() as u32 - 1);
    }
    None
}

/// Decodes the package whose name starts at `name`, if it looks like `Name(_S5, ...)`.
fn decode<M: PhysicalMemory + ?Sized>(dsdt: &Table<'_, M>, name: u32) -> Option<SleepType> {
    let before = dsdt.u8(name - 1)?;
    let named = before == NAME_OP || (before == ROOT_PREFIX && dsdt.u8(name - 2)? == NAME_OP);
    if !named || dsdt.u8(name + 4)? != PACKAGE_OP {
        return None;
    }
    // PkgLength: bits 7-6 of the lead byte count the bytes that follow it.
    let package_length = name + 5;
    let lead = dsdt.u8(package_length)?;
    let element_count_at = package_length + 1 + u32::from(lead >> 6);
    if dsdt.u8(element_count_at)? < 2 {
        return None;
    }
    let (a, next) = integer(dsdt, element_count_at + 1)?;
    let (b, _) = integer(dsdt, next)?;
    Some(SleepType { a, b })
}

/// Decodes a small integer constant at `offset`: its value and the offset after it.
fn integer<M: PhysicalMemory + ?Sized>(dsdt: &Table<'_, M>, offset: u32) -> Option<(u8, u32)> {
    let (value, size) = match dsdt.u8(offset)? {
        ZERO_OP => (0, 1),
        ONE_OP => (1, 1),
        BYTE_PREFIX => (u32::from(dsdt.u8(offset + 1)?), 2),
        WORD_PREFIX => (u32::from(dsdt.u16(offset + 1)?), 3),
        DWORD_PREFIX => (dsdt.u32(offset + 1)?, 5),
        _ => return None,
    };
    if value > MAX_SLEEP_TYPE {
        return None;
    }
    Some((value as u8, offset + size))
}
