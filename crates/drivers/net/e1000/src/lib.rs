//! Driver for the Intel 8254x gigabit Ethernet controllers (e1000: 82540EM, 82545EM,
//! 82544GC and the rest of the family), written from the 8254x Family of Gigabit
//! Ethernet Controllers Software Developer's Manual.
//!
//! The registers are BAR0 (memory). [`matches`] says whether a PCI function is one
//! of ours ([`PCI_IDS`]) and which member it is; [`start`] resets it, reads the
//! station address (RAL0/RAH0 as loaded from the EEPROM, else the EEPROM through
//! EERD) and starts one receive and one transmit ring of legacy descriptors. The
//! driver is polled: transmit points descriptors at the caller's physical segments
//! and returns when the device reports them done; receive hands the oldest frame
//! to a sink and gives its buffer back to the device.
//!
//! The 8257x (crate `ingot-e1000e`) keeps the legacy descriptor format and every
//! register used here, so the rings and the driver proper ([`Nic`]) are public and
//! e1000e reuses them with its own [`Family`] instead of keeping a second copy.
#![no_std]
#![forbid(unsafe_code)]

pub mod legacy;
mod nic;
pub mod regs;

pub use nic::{
    EEPROM_TIMEOUT_MS, EERD_8254X, EERD_LATER, EerdLayout, Family, Nic, RESET_TIMEOUT_MS,
    TRANSMIT_TIMEOUT_MS, start_family,
};

use ingot_hal::{Clock, DmaAllocator, Mmio};
use ingot_net::NetError;

/// Intel's PCI vendor ID.
pub const INTEL: u16 = 0x8086;

/// Which EERD the member has: none, the 82540-style one or the 82541-style one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Eeprom {
    RalOnly,
    Early,
    Later,
}

/// One member of the family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variant {
    /// PCI device ID.
    pub device: u16,
    /// Part name.
    pub name: &'static str,
    eeprom: Eeprom,
}

impl Variant {
    /// The driver parameters for this member.
    pub fn family(&self) -> Family {
        let eerd = match self.eeprom {
            Eeprom::RalOnly => None,
            Eeprom::Early => Some(EERD_8254X),
            Eeprom::Later => Some(EERD_LATER),
        };
        Family { driver: "e1000", eerd, pcie: false }
    }
}

const fn id(device: u16, name: &'static str, eeprom: Eeprom) -> Variant {
    Variant { device, name, eeprom }
}

/// The 8254x device IDs (vendor [`INTEL`]). QEMU's `e1000` is the 82540EM (0x100E),
/// `e1000-82544gc` 0x100C and `e1000-82545em` 0x100F.
pub const PCI_IDS: &[Variant] = &[
    id(0x1000, "82542", Eeprom::RalOnly),
    id(0x1001, "82543GC fiber", Eeprom::RalOnly),
    id(0x1004, "82543GC copper", Eeprom::RalOnly),
    id(0x1008, "82544EI copper", Eeprom::RalOnly),
    id(0x1009, "82544EI fiber", Eeprom::RalOnly),
    id(0x100C, "82544GC copper", Eeprom::RalOnly),
    id(0x100D, "82544GC LOM", Eeprom::RalOnly),
    id(0x100E, "82540EM", Eeprom::Early),
    id(0x100F, "82545EM copper", Eeprom::Early),
    id(0x1010, "82546EB copper", Eeprom::Early),
    id(0x1011, "82545EM fiber", Eeprom::Early),
    id(0x1012, "82546EB fiber", Eeprom::Early),
    id(0x1013, "82541EI", Eeprom::Later),
    id(0x1014, "82541ER LOM", Eeprom::Later),
    id(0x1015, "82540EM LOM", Eeprom::Early),
    id(0x1016, "82540EP LOM", Eeprom::Early),
    id(0x1017, "82540EP", Eeprom::Early),
    id(0x1018, "82541EI mobile", Eeprom::Later),
    id(0x1019, "82547EI", Eeprom::Later),
    id(0x101A, "82547EI mobile", Eeprom::Later),
    id(0x101D, "82546EB quad copper", Eeprom::Early),
    id(0x101E, "82540EP LP", Eeprom::Early),
    id(0x1026, "82545GM copper", Eeprom::Early),
    id(0x1027, "82545GM fiber", Eeprom::Early),
    id(0x1028, "82545GM SerDes", Eeprom::Early),
    id(0x1075, "82547GI", Eeprom::Later),
    id(0x1076, "82541GI", Eeprom::Later),
    id(0x1077, "82541GI mobile", Eeprom::Later),
    id(0x1078, "82541ER", Eeprom::Later),
    id(0x1079, "82546GB copper", Eeprom::Early),
    id(0x107A, "82546GB fiber", Eeprom::Early),
    id(0x107B, "82546GB SerDes", Eeprom::Early),
    id(0x107C, "82541PI", Eeprom::Later),
    id(0x108A, "82546GB PCIe", Eeprom::Early),
    id(0x1099, "82546GB quad copper", Eeprom::Early),
    id(0x10B5, "82546GB quad copper KSP3", Eeprom::Early),
];

/// The member of the family a PCI function is, if it is one.
pub fn matches(vendor: u16, device: u16) -> Option<Variant> {
    if vendor != INTEL {
        return None;
    }
    PCI_IDS.iter().copied().find(|v| v.device == device)
}

/// Starts the controller whose BAR0 is `registers` (see [`start_family`]).
pub fn start<M: Mmio, D: DmaAllocator, C: Clock>(
    registers: M,
    dma: &mut D,
    clock: C,
    variant: Variant,
) -> Result<Nic<M, D::Buffer, C>, NetError> {
    start_family(registers, dma, clock, variant.family())
}

#[cfg(test)]
mod tests;
