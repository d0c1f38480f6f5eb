//! Driver for the Intel 8257x PCI Express gigabit Ethernet controllers (e1000e:
//! 82571, 82572, 82573, 82574L, 82583V), written from the 82574 family datasheet.
//!
//! The registers are BAR0 (memory). [`matches`] says whether a PCI function is one
//! of ours ([`PCI_IDS`]); [`start`] brings it up and returns an
//! [`ingot_e1000::Nic`] that reports itself as `e1000e`.
//!
//! Why this crate depends on `ingot-e1000` instead of having its own rings: the
//! 8257x still takes the 8254x legacy receive and transmit descriptors (the
//! extended and advanced formats are opt-in) at the same register offsets, so
//! the rings, transmit, receive and failure handling are the same code. What the
//! 8257x needs on top is described by its [`Family`]: bus mastering is quiesced
//! (CTRL.GIO_MASTER_DISABLE, wait for STATUS.GIO_MASTER_ENABLE to clear) before
//! the global reset, the driver waits for the NVM auto-read (EECD.AUTO_RD), sets
//! CTRL_EXT.DRV_LOAD so manageability firmware knows a driver owns the port, writes
//! TXDCTL bit 22 as the datasheet requires, and reads the NVM through the later
//! EERD layout (DONE bit 1, address in bits 15:2).
//!
//! Not covered: the ICH/PCH-integrated parts (ICH8..10, 82577..82579, I217..I219),
//! whose NVM lives in the chipset's SPI flash and whose PHYs need workarounds.
#![no_std]
#![forbid(unsafe_code)]

use ingot_e1000::{EERD_LATER, Family, INTEL, start_family};
use ingot_hal::{Clock, DmaAllocator, Mmio};
use ingot_net::NetError;

pub use ingot_e1000::Nic;

/// The driver parameters of every 8257x.
pub const FAMILY: Family = Family { driver: "e1000e", eerd: Some(EERD_LATER), pcie: true };

/// One member of the family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    /// PCI device ID.
    pub device: u16,
    /// Part name.
    pub name: &'static str,
}

const fn id(device: u16, name: &'static str) -> Variant {
    Variant { device, name }
}

/// The 8257x device IDs (vendor Intel). QEMU's `e1000e` is the 82574L (0x10D3).
pub const PCI_IDS: &[Variant] = &[
    id(0x105E, "82571EB copper"),
    id(0x105F, "82571EB fiber"),
    id(0x1060, "82571EB SerDes"),
    id(0x10A4, "82571EB quad copper"),
    id(0x10A5, "82571EB quad fiber"),
    id(0x10BC, "82571PT quad copper"),
    id(0x10D9, "82571EB dual SerDes"),
    id(0x10DA, "82571EB quad SerDes"),
    id(0x107D, "82572EI copper"),
    id(0x107E, "82572EI fiber"),
    id(0x107F, "82572EI SerDes"),
    id(0x10B9, "82572EI"),
    id(0x108B, "82573V"),
    id(0x108C, "82573E"),
    id(0x109A, "82573L"),
    id(0x10D3, "82574L"),
    id(0x10F6, "82574LA"),
    id(0x150C, "82583V"),
];

/// The member of the family a PCI function is, if it is one.
pub fn matches(vendor: u16, device: u16) -> Option<Variant> {
    if vendor != INTEL {
        return None;
    }
    PCI_IDS.iter().copied().find(|v| v.device == device)
}

/// Starts the controller whose BAR0 is `registers`: quiesce, global reset, NVM
/// auto-read, DRV_LOAD, station address (RAL0/RAH0, else the NVM), both rings.
pub fn start<M: Mmio, D: DmaAllocator, C: Clock>(
    registers: M,
    dma: &mut D,
    clock: C,
) -> Result<Nic<M, D::Buffer, C>, NetError> {
    start_family(registers, dma, clock, FAMILY)
}

#[cfg(test)]
mod tests;
