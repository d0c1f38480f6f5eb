//! PCI and PCIe enumeration, written against [`ingot_hal::PciConfig`].
//!
//! [`enumerate`] walks configuration space from each root (a segment and bus range:
//! bus 0 for mechanism #1, every MCFG range for ECAM), follows PCI-to-PCI bridges to
//! their secondary buses, sizes every BAR (64-bit ones included) and reads the
//! capability list (MSI and MSI-X are decoded; [`msi`] programs them). Drivers then find their functions in
//! the list by vendor/device or class. Configuration access itself (port I/O or
//! ECAM MMIO) lives in `ingot-platform`.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

mod bar;
pub mod ecam;
mod function;
pub mod msi;
mod scan;

pub use bar::Bar;
pub use function::{Capability, MsiInfo, MsixInfo, PciFunction, capability_ids, command};
pub use ingot_hal::{PciAddress, PciConfig};
pub use scan::{Root, enumerate};

/// Register offsets in the common configuration header.
pub mod offsets {
    /// Vendor ID (16) and device ID (16).
    pub const ID: u16 = 0x00;
    /// Command (16) and status (16).
    pub const COMMAND: u16 = 0x04;
    /// Revision, prog-IF, subclass, class.
    pub const CLASS: u16 = 0x08;
    /// Cache line, latency, header type, BIST.
    pub const HEADER: u16 = 0x0C;
    /// First BAR.
    pub const BAR0: u16 = 0x10;
    /// Primary, secondary, subordinate bus (type-1 headers).
    pub const BUS_NUMBERS: u16 = 0x18;
    /// Capabilities pointer.
    pub const CAPABILITIES: u16 = 0x34;
}

#[cfg(test)]
mod msi_tests;
#[cfg(test)]
mod tests;
