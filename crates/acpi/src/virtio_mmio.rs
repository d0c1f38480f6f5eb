//! virtio-mmio devices as QEMU's microvm describes them in its DSDT: one
//! `Device` per populated transport, with `Name (_HID, "LNRO0005")` and a `_CRS`
//! resource template holding a `Memory32Fixed` window and an `Interrupt`.
//!
//! As for `_S5_` ([`crate::s5`]), no AML interpreter: a bounded byte search for the
//! `_HID` string (StringPrefix, `LNRO0005`, NUL), then, within the next
//! [`CRS_DISTANCE`] bytes, `Name (_CRS, Buffer)` whose bytes are walked as a resource
//! template (ACPI §6.4: small and large descriptors, up to the end tag). A device whose
//! resources are computed by a method, or anything unexpected, is not reported.

use ingot_bootinfo::PhysicalMemory;

use crate::list::BoundedList;
use crate::sdt::{HEADER_LENGTH, Table};

/// Most devices kept (QEMU's microvm has 24 transports).
pub const MAX_VIRTIO_MMIO: usize = 32;
/// How far after the `_HID` string the `_CRS` name may start.
const CRS_DISTANCE: u32 = 64;
/// Bytes searched per read.
const CHUNK: u32 = 256;

const HID: &[u8; 10] = b"\x0DLNRO0005\x00";
const CRS_NAME: &[u8; 6] = b"\x08_CRS\x11";
const BYTE_PREFIX: u8 = 0x0A;
const WORD_PREFIX: u8 = 0x0B;
const MEMORY32_FIXED: u8 = 0x86;
const EXTENDED_INTERRUPT: u8 = 0x89;
const END_TAG: u8 = 0x79;

/// One virtio-mmio device from the DSDT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VirtioMmioDevice {
    /// Physical address of the register window.
    pub base: u64,
    /// Bytes in the window.
    pub size: u64,
    /// Its interrupt (GSI), if the template lists one.
    pub irq: Option<u32>,
}

/// Searches the validated DSDT for virtio-mmio devices (see the module docs).
pub(crate) fn find_virtio_mmio<M: PhysicalMemory + ?Sized>(
    dsdt: &Table<'_, M>,
) -> BoundedList<VirtioMmioDevice, MAX_VIRTIO_MMIO> {
    let mut found = BoundedList::new();
    let length = dsdt.length();
    let mut buffer = [0u8; CHUNK as usize];
    let mut start = HEADER_LENGTH;
    while start < length {
        let count = (length - start).min(CHUNK);
        let chunk = &mut buffer[..count as usize];
        if !dsdt.read(start, chunk) {
            break;
        }
        for (index, window) in chunk.windows(HID.len()).enumerate() {
            if window == HID
                && let Some(device) = resources(dsdt, start + index as u32 + HID.len() as u32)
            {
                found.push(device);
            }
        }
        if start + count >= length {
            break;
        }
        // Overlap so a string split across two chunks is still seen once.
        start += count - (HID.len() as u32 - 1);
    }
    found
}

/// The `_CRS` buffer after a `_HID` string ending at `after_hid`, decoded.
fn resources<M: PhysicalMemory + ?Sized>(
    dsdt: &Table<'_, M>,
    after_hid: u32,
) -> Option<VirtioMmioDevice> {
    let mut name = [0u8; CRS_NAME.len()];
    let crs = (after_hid..after_hid + CRS_DISTANCE)
        .find(|&at| dsdt.read(at, &mut name) && name == *CRS_NAME)?;
    // PkgLength: bits 7-6 of the lead byte count the bytes that follow it.
    let package = crs + CRS_NAME.len() as u32;
    let lead = dsdt.u8(package)?;
    let size_at = package + 1 + u32::from(lead >> 6);
    let (buffer_len, mut at) = match dsdt.u8(size_at)? {
        BYTE_PREFIX => (u32::from(dsdt.u8(size_at + 1)?), size_at + 2),
        WORD_PREFIX => (u32::from(dsdt.u16(size_at + 1)?), size_at + 3),
        _ => return None,
    };
    let end = at.checked_add(buffer_len)?.min(dsdt.length());
    let (mut window, mut irq) = (None, None);
    while at < end {
        let tag = dsdt.u8(at)?;
        if tag == END_TAG {
            break;
        }
        if tag & 0x80 == 0 {
            at += 1 + u32::from(tag & 0x07); // small descriptor
            continue;
        }
        let len = u32::from(dsdt.u16(at + 1)?);
        let body = at + 3;
        if body + len > end {
            return None;
        }
        match tag {
            MEMORY32_FIXED if len >= 9 && window.is_none() => {
                let base = u64::from(dsdt.u32(body + 1)?);
                let size = u64::from(dsdt.u32(body + 5)?);
                window = Some((base, size));
            }
            EXTENDED_INTERRUPT if len >= 6 && irq.is_none() && dsdt.u8(body + 1)? >= 1 => {
                irq = Some(dsdt.u32(body + 2)?);
            }
            _ => {}
        }
        at = body + len;
    }
    let (base, size) = window.filter(|&(_, size)| size > 0)?;
    Some(VirtioMmioDevice { base, size, irq })
}
