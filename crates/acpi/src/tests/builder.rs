//! Test helpers: a sparse fake physical memory and byte-by-byte builders for ACPI
//! tables that fill in lengths and checksums.

use ingot_bootinfo::PhysicalMemory;

/// Physical memory made of separate readable regions; everything else is unreadable.
#[derive(Clone, Default)]
pub struct FakeMemory {
    regions: Vec<(u64, Vec<u8>)>,
}

impl FakeMemory {
    /// Makes `bytes` readable at `address` (a new region).
    pub fn put(&mut self, address: u64, bytes: &[u8]) {
        self.regions.push((address, bytes.to_vec()));
    }

    /// Writes `bytes` into the existing region holding `address`.
    pub fn patch(&mut self, address: u64, bytes: &[u8]) {
        let (base, region) = self
            .regions
            .iter_mut()
            .find(|(base, region)| {
                address >= *base && address + bytes.len() as u64 <= base + region.len() as u64
            })
            .expect("patch inside a region");
        let start = (address - *base) as usize;
        region[start..start + bytes.len()].copy_from_slice(bytes);
    }

    /// The region starting at `address`.
    pub fn region_mut(&mut self, address: u64) -> &mut Vec<u8> {
        &mut self.regions.iter_mut().find(|(base, _)| *base == address).expect("region").1
    }
}

impl PhysicalMemory for FakeMemory {
    fn read(&self, address: u64, buffer: &mut [u8]) -> bool {
        for (base, region) in &self.regions {
            let Some(start) = address.checked_sub(*base) else { continue };
            let Some(end) = start.checked_add(buffer.len() as u64) else { continue };
            if end <= region.len() as u64 {
                buffer.copy_from_slice(&region[start as usize..end as usize]);
                return true;
            }
        }
        false
    }
}

/// Sets byte `at` so that all of `bytes` sums to zero.
pub fn fix_checksum(bytes: &mut [u8], at: usize) {
    bytes[at] = 0;
    let sum = bytes.iter().fold(0u8, |sum, &byte| sum.wrapping_add(byte));
    bytes[at] = sum.wrapping_neg();
}

/// Builds a system description table: header, then fields appended in order.
pub struct TableBuilder {
    bytes: Vec<u8>,
}

impl TableBuilder {
    pub fn new(signature: &[u8; 4], revision: u8) -> Self {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(signature);
        bytes.extend_from_slice(&[0; 4]); // length, set by build()
        bytes.push(revision);
        bytes.push(0); // checksum, set by build()
        bytes.extend_from_slice(b"INGOT "); // OEM id
        bytes.extend_from_slice(b"TESTTBL "); // OEM table id
        bytes.extend_from_slice(&1u32.to_le_bytes()); // OEM revision
        bytes.extend_from_slice(b"TEST"); // creator id
        bytes.extend_from_slice(&1u32.to_le_bytes()); // creator revision
        assert_eq!(bytes.len(), 36);
        Self { bytes }
    }

    pub fn u8(mut self, value: u8) -> Self {
        self.bytes.push(value);
        self
    }

    pub fn u16(mut self, value: u16) -> Self {
        self.bytes.extend_from_slice(&value.to_le_bytes());
        self
    }

    pub fn u32(mut self, value: u32) -> Self {
        self.bytes.extend_from_slice(&value.to_le_bytes());
        self
    }

    pub fn u64(mut self, value: u64) -> Self {
        self.bytes.extend_from_slice(&value.to_le_bytes());
        self
    }

    pub fn bytes(mut self, bytes: &[u8]) -> Self {
        self.bytes.extend_from_slice(bytes);
        self
    }

    /// Appends a Generic Address Structure.
    pub fn gas(self, space: u8, bit_width: u8, access_size: u8, address: u64) -> Self {
        self.u8(space).u8(bit_width).u8(0).u8(access_size).u64(address)
    }

    /// Pads with zeros up to `length` bytes in all.
    pub fn pad_to(mut self, length: usize) -> Self {
        assert!(self.bytes.len() <= length);
        self.bytes.resize(length, 0);
        self
    }

    /// Overwrites bytes at `offset` (after `pad_to`), for tables laid out by offset.
    pub fn set(mut self, offset: usize, bytes: &[u8]) -> Self {
        self.bytes[offset..offset + bytes.len()].copy_from_slice(bytes);
        self
    }

    /// The table with its length and checksum filled in.
    pub fn build(mut self) -> Vec<u8> {
        let length = self.bytes.len() as u32;
        self.bytes[4..8].copy_from_slice(&length.to_le_bytes());
        fix_checksum(&mut self.bytes, 9);
        self.bytes
    }
}

/// Re-computes a built table's checksum after a test changed its bytes.
pub fn reseal(table: &mut [u8]) {
    fix_checksum(table, 9);
}

/// An RSDP: revision 0 (20 bytes) or 2 (36 bytes, with XSDT address).
pub fn rsdp(revision: u8, rsdt: u32, xsdt: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"RSD PTR ");
    bytes.push(0); // checksum
    bytes.extend_from_slice(b"INGOT ");
    bytes.push(revision);
    bytes.extend_from_slice(&rsdt.to_le_bytes());
    if revision >= 2 {
        bytes.extend_from_slice(&36u32.to_le_bytes());
        bytes.extend_from_slice(&xsdt.to_le_bytes());
        bytes.extend_from_slice(&[0; 4]); // extended checksum, reserved
        fix_checksum(&mut bytes[..20], 8);
        fix_checksum(&mut bytes, 32);
    } else {
        fix_checksum(&mut bytes, 8);
    }
    bytes
}

/// An RSDT listing `tables`.
pub fn rsdt(tables: &[u64]) -> Vec<u8> {
    tables.iter().fold(TableBuilder::new(b"RSDT", 1), |t, &a| t.u32(a as u32)).build()
}

/// An XSDT listing `tables`.
pub fn xsdt(tables: &[u64]) -> Vec<u8> {
    tables.iter().fold(TableBuilder::new(b"XSDT", 1), |t, &a| t.u64(a)).build()
}
