//! The Generic Address Structure (GAS): how ACPI names a register that may live in
//! memory, I/O port space or PCI configuration space.

use ingot_bootinfo::PhysicalMemory;

use crate::sdt::Table;

/// A register location as ACPI describes it (12 bytes in the tables).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GenericAddress {
    /// Which address space `address` is in (see the `SPACE_*` constants).
    pub address_space: u8,
    /// Width of the register in bits.
    pub bit_width: u8,
    /// Bit offset of the register at `address`.
    pub bit_offset: u8,
    /// Access size: 0 undefined, 1 byte, 2 word, 3 dword, 4 qword.
    pub access_size: u8,
    /// The address in that space.
    pub address: u64,
}

impl GenericAddress {
    /// Address space id: system memory.
    pub const SPACE_SYSTEM_MEMORY: u8 = 0;
    /// Address space id: system I/O ports.
    pub const SPACE_SYSTEM_IO: u8 = 1;
    /// Address space id: PCI configuration space.
    pub const SPACE_PCI_CONFIG: u8 = 2;

    /// Bytes a GAS takes in a table.
    pub(crate) const LENGTH: u32 = 12;

    /// Reads the GAS at `offset` in `table`, if it lies entirely inside the table.
    pub(crate) fn read<M: PhysicalMemory + ?Sized>(
        table: &Table<'_, M>,
        offset: u32,
    ) -> Option<Self> {
        let mut bytes = [0u8; Self::LENGTH as usize];
        if !table.read(offset, &mut bytes) {
            return None;
        }
        let mut address = [0u8; 8];
        address.copy_from_slice(&bytes[4..12]);
        Some(Self {
            address_space: bytes[0],
            bit_width: bytes[1],
            bit_offset: bytes[2],
            access_size: bytes[3],
            address: u64::from_le_bytes(address),
        })
    }

    /// The I/O port, if this register is in I/O space at a non-zero port below 64 KiB.
    pub fn io_port(&self) -> Option<u16> {
        if self.address_space != Self::SPACE_SYSTEM_IO || self.address == 0 {
            return None;
        }
        u16::try_from(self.address).ok()
    }
}
