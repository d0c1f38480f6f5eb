//! PCI configuration space access.

use core::fmt;

/// A PCI function's address: segment (PCIe domain), bus, device, function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PciAddress {
    /// PCIe segment group (0 on machines without ECAM or with one segment).
    pub segment: u16,
    /// Bus number.
    pub bus: u8,
    /// Device number, 0..32.
    pub device: u8,
    /// Function number, 0..8.
    pub function: u8,
}

impl PciAddress {
    /// A function on segment 0.
    pub const fn new(bus: u8, device: u8, function: u8) -> Self {
        Self { segment: 0, bus, device, function }
    }
}

impl fmt::Display for PciAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04x}:{:02x}:{:02x}.{}", self.segment, self.bus, self.device, self.function)
    }
}

/// Reads and writes a function's configuration space in aligned 32-bit units.
/// `offset` is a byte offset, a multiple of 4, below 256 (mechanism #1) or 4096
/// (ECAM). A function that does not exist reads as all ones; writes to it are lost.
pub trait PciConfig {
    /// Reads the dword at `offset`.
    fn read_u32(&self, address: PciAddress, offset: u16) -> u32;
    /// Writes the dword at `offset`.
    fn write_u32(&self, address: PciAddress, offset: u16, value: u32);
    /// Reads 16 bits at an even `offset` (from the containing dword).
    fn read_u16(&self, address: PciAddress, offset: u16) -> u16 {
        (self.read_u32(address, offset & !3) >> ((offset & 2) * 8)) as u16
    }
    /// Reads a byte (from the containing dword).
    fn read_u8(&self, address: PciAddress, offset: u16) -> u8 {
        (self.read_u32(address, offset & !3) >> ((offset & 3) * 8)) as u8
    }
    /// Writes 16 bits at an even `offset` by read-modify-write of the dword. Only for
    /// registers whose neighbours have no write-one-to-clear bits (the command
    /// register is written with the status half as zero; see `write_command`).
    fn write_u16(&self, address: PciAddress, offset: u16, value: u16) {
        let shift = (offset & 2) * 8;
        let old = self.read_u32(address, offset & !3);
        let new = (old & !(0xFFFF << shift)) | (u32::from(value) << shift);
        self.write_u32(address, offset & !3, new);
    }
}
