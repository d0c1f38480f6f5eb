//! One PCI function as enumeration found it.

use alloc::vec::Vec;

use ingot_hal::{PciAddress, PciConfig};

use crate::{Bar, offsets};

/// Command register bits, and the one safe way to write the register.
pub mod command {
    use ingot_hal::{PciAddress, PciConfig};

    /// Respond to I/O space accesses.
    pub const IO_SPACE: u16 = 1 << 0;
    /// Respond to memory space accesses.
    pub const MEMORY_SPACE: u16 = 1 << 1;
    /// May master the bus (DMA).
    pub const BUS_MASTER: u16 = 1 << 2;
    /// Legacy INTx interrupts off.
    pub const INTERRUPT_DISABLE: u16 = 1 << 10;

    /// Writes the command register; the status half is written as zero, which leaves
    /// its write-one-to-clear bits alone.
    pub fn write(config: &impl PciConfig, address: PciAddress, value: u16) {
        config.write_u32(address, super::offsets::COMMAND, u32::from(value));
    }
}

/// Capability IDs this crate names.
pub mod capability_ids {
    /// Message Signalled Interrupts.
    pub const MSI: u8 = 0x05;
    /// Vendor specific (virtio uses it for its register windows).
    pub const VENDOR: u8 = 0x09;
    /// PCI Express.
    pub const PCI_EXPRESS: u8 = 0x10;
    /// MSI-X.
    pub const MSIX: u8 = 0x11;
}

/// One entry of the capability list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capability {
    /// Capability ID.
    pub id: u8,
    /// Offset of the capability in configuration space.
    pub offset: u16,
}

/// The MSI capability, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsiInfo {
    /// Offset of the capability.
    pub offset: u16,
    /// Vectors the function asks for (1..=32).
    pub vectors: u8,
    /// 64-bit message address supported.
    pub address_64: bool,
}

/// The MSI-X capability, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsixInfo {
    /// Offset of the capability.
    pub offset: u16,
    /// Number of table entries.
    pub table_size: u16,
    /// BAR holding the table, and offset in it.
    pub table: (u8, u32),
    /// BAR holding the pending-bit array, and offset in it.
    pub pending: (u8, u32),
}

/// A function found by enumeration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PciFunction {
    /// Where it is.
    pub address: PciAddress,
    /// Vendor ID.
    pub vendor: u16,
    /// Device ID.
    pub device: u16,
    /// Base class.
    pub class: u8,
    /// Subclass.
    pub subclass: u8,
    /// Programming interface.
    pub prog_if: u8,
    /// Revision.
    pub revision: u8,
    /// Header type (0 device, 1 PCI-to-PCI bridge, 2 CardBus), without the multi-function bit.
    pub header_type: u8,
    /// Decoded and sized BARs (6 for devices, 2 for bridges, rest `None`).
    pub bars: [Bar; 6],
    /// The capability list, in list order.
    pub capabilities: Vec<Capability>,
    /// MSI, if present.
    pub msi: Option<MsiInfo>,
    /// MSI-X, if present.
    pub msix: Option<MsixInfo>,
}

impl PciFunction {
    /// Reads everything about the function at `address` (which must exist).
    pub(crate) fn read(config: &impl PciConfig, address: PciAddress) -> Self {
        let id = config.read_u32(address, offsets::ID);
        let class = config.read_u32(address, offsets::CLASS);
        let header_type = config.read_u8(address, offsets::HEADER + 2) & 0x7F;
        let bar_count = match header_type {
            0 => 6,
            1 => 2,
            _ => 0,
        };
        let bars = crate::bar::read_bars(config, address, bar_count);
        let capabilities = read_capabilities(config, address);
        let msi = capabilities.iter().find(|c| c.id == capability_ids::MSI).map(|c| {
            let control = config.read_u16(address, c.offset + 2);
            MsiInfo {
                offset: c.offset,
                vectors: 1 << ((control >> 1) & 7).min(5),
                address_64: control & (1 << 7) != 0,
            }
        });
        let msix = capabilities.iter().find(|c| c.id == capability_ids::MSIX).map(|c| {
            let control = config.read_u16(address, c.offset + 2);
            let table = config.read_u32(address, c.offset + 4);
            let pending = config.read_u32(address, c.offset + 8);
            MsixInfo {
                offset: c.offset,
                table_size: (control & 0x7FF) + 1,
                table: ((table & 7) as u8, table & !7),
                pending: ((pending & 7) as u8, pending & !7),
            }
        });
        Self {
            address,
            vendor: id as u16,
            device: (id >> 16) as u16,
            class: (class >> 24) as u8,
            subclass: (class >> 16) as u8,
            prog_if: (class >> 8) as u8,
            revision: class as u8,
            header_type,
            bars,
            capabilities,
            msi,
            msix,
        }
    }

    /// Sets `bits` in the command register (e.g. memory space and bus master).
    pub fn enable(&self, config: &impl PciConfig, bits: u16) {
        let current = config.read_u16(self.address, offsets::COMMAND);
        command::write(config, self.address, current | bits);
    }

    /// Capabilities with the given ID, in list order.
    pub fn capabilities_with(&self, id: u8) -> impl Iterator<Item = Capability> + '_ {
        self.capabilities.iter().copied().filter(move |c| c.id == id)
    }
}

/// Follows the capability list (at most 48 entries, so a looped list ends).
fn read_capabilities(config: &impl PciConfig, address: PciAddress) -> Vec<Capability> {
    let mut list = Vec::new();
    let status = config.read_u16(address, offsets::COMMAND + 2);
    if status & (1 << 4) == 0 {
        return list;
    }
    let mut pointer = u16::from(config.read_u8(address, offsets::CAPABILITIES)) & 0xFC;
    while pointer >= 0x40 && list.len() < 48 {
        let header = config.read_u16(address, pointer);
        list.push(Capability { id: header as u8, offset: pointer });
        pointer = (header >> 8) & 0xFC;
    }
    list
}
