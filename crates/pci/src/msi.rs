//! Programming message-signalled interrupts: the MSI capability and the MSI-X
//! capability with its table (PCI Local Bus 3.0 §6.8, PCIe Base §7.7).
//!
//! On x86 a message is a write of `data` (the vector; fixed delivery, edge) to
//! `0xFEE0_0000 | destination << 12` (physical destination mode), which reaches the
//! local APIC of the destination core. Without interrupt remapping the destination is
//! an 8-bit APIC ID, so a larger one is refused. Enabling either kind also sets the
//! command register's INTx-disable bit, so the function no longer raises its line.

use ingot_hal::{Mmio, PciConfig};

use crate::{Bar, PciFunction, command, offsets};

const MSI_ENABLE: u16 = 1 << 0;
const MSI_MULTIPLE_ENABLE: u16 = 0b111 << 4;
const MSI_PER_VECTOR_MASK: u16 = 1 << 8;
const MSIX_ENABLE: u16 = 1 << 15;
const MSIX_FUNCTION_MASK: u16 = 1 << 14;
/// Bytes of one MSI-X table entry: address low, address high, data, vector control.
pub const MSIX_ENTRY_BYTES: usize = 16;
const MSIX_ENTRY_MASKED: u32 = 1 << 0;

/// The x86 interrupt-message address window.
const MESSAGE_ADDRESS_BASE: u64 = 0xFEE0_0000;

/// Why an interrupt message could not be programmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MsiError {
    /// The function has no such capability.
    NotSupported,
    /// The destination APIC ID does not fit a message without interrupt remapping.
    DestinationTooLarge(u32),
    /// A vector below 16 (reserved for exceptions; the APIC refuses them).
    BadVector(u8),
    /// An MSI-X entry index past the table.
    NoSuchEntry(u16),
    /// The MSI-X table lies outside its BAR, or the window given is not the table.
    BadTable,
}

/// One interrupt message: what the function writes where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsiMessage {
    /// Message address.
    pub address: u64,
    /// Message data.
    pub data: u32,
}

impl MsiMessage {
    /// The message delivering `vector` to the core with APIC ID `destination`
    /// (fixed delivery, edge-triggered, physical destination).
    pub fn fixed(destination: u32, vector: u8) -> Result<Self, MsiError> {
        if destination > 0xFF {
            return Err(MsiError::DestinationTooLarge(destination));
        }
        if vector < 16 {
            return Err(MsiError::BadVector(vector));
        }
        Ok(Self {
            address: MESSAGE_ADDRESS_BASE | (u64::from(destination) << 12),
            data: u32::from(vector),
        })
    }
}

/// Programs the function's MSI capability with one message (one vector, per-vector
/// mask cleared where it exists) and enables it.
pub fn enable_msi(
    config: &impl PciConfig,
    function: &PciFunction,
    message: MsiMessage,
) -> Result<(), MsiError> {
    let msi = function.msi.ok_or(MsiError::NotSupported)?;
    let (address, cap) = (function.address, msi.offset);
    let control = config.read_u16(address, cap + 2);
    config.write_u16(address, cap + 2, control & !(MSI_ENABLE | MSI_MULTIPLE_ENABLE));
    config.write_u32(address, cap + 4, message.address as u32);
    let data_offset = if msi.address_64 {
        config.write_u32(address, cap + 8, (message.address >> 32) as u32);
        cap + 0x0C
    } else {
        cap + 0x08
    };
    // The data register is 16 bits; the upper half of its dword is reserved (or, with
    // extended message data, zero as well).
    config.write_u32(address, data_offset, message.data & 0xFFFF);
    if control & MSI_PER_VECTOR_MASK != 0 {
        config.write_u32(address, data_offset + 4, 0);
    }
    disable_intx(config, function);
    config.write_u16(address, cap + 2, (control & !MSI_MULTIPLE_ENABLE) | MSI_ENABLE);
    Ok(())
}

/// Where the MSI-X table lies: its BAR, the offset in it and its length in bytes.
/// The table must fit inside the (sized) memory BAR.
pub fn msix_table_location(function: &PciFunction) -> Result<(Bar, u64, u64), MsiError> {
    let msix = function.msix.ok_or(MsiError::NotSupported)?;
    let bar = *function.bars.get(usize::from(msix.table.0)).ok_or(MsiError::BadTable)?;
    let (_, size) = bar.memory().ok_or(MsiError::BadTable)?;
    let offset = u64::from(msix.table.1);
    let len = u64::from(msix.table_size) * MSIX_ENTRY_BYTES as u64;
    if offset.checked_add(len).is_none_or(|end| end > size) {
        return Err(MsiError::BadTable);
    }
    Ok((bar, offset, len))
}

/// Programs MSI-X table entries (`table` is the table's window, as
/// [`msix_table_location`] describes it) and enables MSI-X. Every entry not listed
/// stays masked. The function is masked as a whole while the table changes, so no
/// half-written entry can fire.
pub fn enable_msix(
    config: &impl PciConfig,
    function: &PciFunction,
    table: &impl Mmio,
    entries: &[(u16, MsiMessage)],
) -> Result<(), MsiError> {
    let msix = function.msix.ok_or(MsiError::NotSupported)?;
    if table.len() < usize::from(msix.table_size) * MSIX_ENTRY_BYTES {
        return Err(MsiError::BadTable);
    }
    if let Some(&(index, _)) = entries.iter().find(|(index, _)| *index >= msix.table_size) {
        return Err(MsiError::NoSuchEntry(index));
    }
    let (address, cap) = (function.address, msix.offset);
    let control = config.read_u16(address, cap + 2);
    config.write_u16(address, cap + 2, control | MSIX_ENABLE | MSIX_FUNCTION_MASK);
    for index in 0..msix.table_size {
        let entry = usize::from(index) * MSIX_ENTRY_BYTES;
        table.write_u32(entry + 12, MSIX_ENTRY_MASKED);
        if let Some((_, message)) = entries.iter().find(|(wanted, _)| *wanted == index) {
            table.write_u32(entry, message.address as u32);
            table.write_u32(entry + 4, (message.address >> 32) as u32);
            table.write_u32(entry + 8, message.data);
            table.write_u32(entry + 12, 0);
        }
    }
    disable_intx(config, function);
    config.write_u16(address, cap + 2, (control | MSIX_ENABLE) & !MSIX_FUNCTION_MASK);
    Ok(())
}

/// Points MSI-X table entry `index` (programmed and unmasked by [`enable_msix`]) at
/// a new `message`: the entry is masked while its address and data change, so no
/// half-written message can go out (one the function raises meanwhile stays pending
/// and is sent, to the new address, when the entry is unmasked).
pub fn aim_msix_entry(table: &impl Mmio, index: u16, message: MsiMessage) {
    let entry = usize::from(index) * MSIX_ENTRY_BYTES;
    if entry + MSIX_ENTRY_BYTES > table.len() {
        return;
    }
    table.write_u32(entry + 12, MSIX_ENTRY_MASKED);
    table.write_u32(entry, message.address as u32);
    table.write_u32(entry + 4, (message.address >> 32) as u32);
    table.write_u32(entry + 8, message.data);
    table.write_u32(entry + 12, 0);
}

/// Turns MSI and MSI-X off again (the function falls back to its INTx line, which
/// stays disabled until [`enable_intx`]).
pub fn disable_messages(config: &impl PciConfig, function: &PciFunction) {
    if let Some(msi) = function.msi {
        let control = config.read_u16(function.address, msi.offset + 2);
        config.write_u16(function.address, msi.offset + 2, control & !MSI_ENABLE);
    }
    if let Some(msix) = function.msix {
        let control = config.read_u16(function.address, msix.offset + 2);
        config.write_u16(function.address, msix.offset + 2, control & !MSIX_ENABLE);
    }
}

/// Lets the function raise its INTx line (clears the command register's INTx-disable).
pub fn enable_intx(config: &impl PciConfig, function: &PciFunction) {
    let current = config.read_u16(function.address, offsets::COMMAND);
    command::write(config, function.address, current & !command::INTERRUPT_DISABLE);
}

fn disable_intx(config: &impl PciConfig, function: &PciFunction) {
    let current = config.read_u16(function.address, offsets::COMMAND);
    command::write(config, function.address, current | command::INTERRUPT_DISABLE);
}

/// The function's INTx line number as firmware wrote it (the interrupt-line
/// register, 0x3C) and its pin (1 = INTA# .. 4 = INTD#; 0 = none). On a PC the line
/// is the ISA IRQ the firmware routed the pin to (`None` when unset: 0xFF or no pin).
pub fn intx_line(config: &impl PciConfig, function: &PciFunction) -> Option<u8> {
    let register = config.read_u16(function.address, 0x3C);
    let (line, pin) = (register as u8, (register >> 8) as u8);
    (pin != 0 && line < 16).then_some(line)
}
