//! Hardware-access traits: the narrow waist between drivers and the machine.
//!
//! Drivers in `crates/drivers/*` are written only against these traits, so the same
//! driver code runs on the real machine (through `ingot-platform`) and on the host
//! against device models in unit tests. The traits are deliberately small; each
//! device class adds only what it needs: port I/O, MMIO registers ([`Mmio`]), PCI
//! configuration space ([`PciConfig`]), the port sets a port handle may use
//! ([`PortSet`]), DMA memory ([`DmaAllocator`], [`DmaBuffer`])
//! and a clock for timeouts ([`Clock`], [`Deadline`]).
#![no_std]
#![forbid(unsafe_code)]

mod clock;
mod dma;
mod mmio;
mod pci;
mod ports;

pub use clock::{Clock, Deadline, TimedOut};
pub use dma::{DmaAllocator, DmaBuffer, DmaError};
pub use mmio::Mmio;
pub use pci::{PciAddress, PciConfig};
pub use ports::{PortRange, PortSet};

/// x86 port I/O: the 64 KiB I/O address space reached with `in`/`out`.
pub trait PortIo {
    /// Reads a byte from `port`.
    fn read_u8(&mut self, port: u16) -> u8;
    /// Writes a byte to `port`.
    fn write_u8(&mut self, port: u16, value: u8);
}

/// 16- and 32-bit port I/O, for devices whose registers are wider than a byte
/// (legacy virtio, ATA data port, PCI configuration mechanism #1).
pub trait PortIoWide: PortIo {
    /// Reads 16 bits from `port`.
    fn read_u16(&mut self, port: u16) -> u16;
    /// Writes 16 bits to `port`.
    fn write_u16(&mut self, port: u16, value: u16);
    /// Reads 32 bits from `port`.
    fn read_u32(&mut self, port: u16) -> u32;
    /// Writes 32 bits to `port`.
    fn write_u32(&mut self, port: u16, value: u32);
}
