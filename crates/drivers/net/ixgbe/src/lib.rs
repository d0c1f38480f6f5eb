//! Driver for the Intel 82599 10 Gigabit Ethernet controller family (ixgbe:
//! 82599ES, 82599EB, X520 adapters), written from the 82599 10 GbE Controller
//! Datasheet.
//!
//! The registers are BAR0 (memory, 64-bit). [`matches`] says whether a PCI
//! function is one of ours ([`PCI_IDS`]); [`start`] resets it (master disable,
//! global reset, EEPROM auto-read and DMA initialisation waits), takes the station
//! address from RAL0/RAH0 (the reset loads them from the EEPROM), restarts
//! auto-negotiation and runs queue 0 of each direction with advanced descriptors
//! (one 2 KiB buffer per receive descriptor; transmit data descriptors pointing at
//! the caller's physical segments). The driver is polled, interrupts stay masked.
//!
//! QEMU has no model of this controller: the driver is tested against the model
//! in `ingot-device-models` only, never on real hardware. The X540/X550 (other
//! PHY and NVM handling) are not covered.
#![no_std]
#![forbid(unsafe_code)]

mod nic;
pub mod regs;
pub mod rings;

pub use nic::{Nic, RESET_TIMEOUT_MS, TRANSMIT_TIMEOUT_MS, start};

/// Intel's PCI vendor ID.
pub const INTEL: u16 = 0x8086;

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

/// The 82599 physical-function device IDs (vendor [`INTEL`]).
pub const PCI_IDS: &[Variant] = &[
    id(0x10F7, "82599 KX4"),
    id(0x10F8, "82599 combined backplane"),
    id(0x10F9, "82599 CX4"),
    id(0x10FB, "82599ES SFP+ (X520)"),
    id(0x10FC, "82599 XAUI/BX4"),
    id(0x1507, "82599 KX4 mezzanine"),
    id(0x1514, "82599 KR"),
    id(0x1517, "82599 SFP+ SF2"),
    id(0x151C, "82599 10GBASE-T"),
    id(0x1529, "82599 SFP+ FCoE"),
    id(0x152A, "82599 backplane FCoE"),
    id(0x154D, "82599 SFP+ EM"),
    id(0x1557, "82599EN SFP+ (X520)"),
    id(0x1558, "82599 QSFP+ (X520-QDA1)"),
];

/// The member of the family a PCI function is, if it is one.
pub fn matches(vendor: u16, device: u16) -> Option<Variant> {
    if vendor != INTEL {
        return None;
    }
    PCI_IDS.iter().copied().find(|v| v.device == device)
}

#[cfg(test)]
mod tests;
