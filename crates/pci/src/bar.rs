//! Base address registers: decoding and sizing.

use ingot_hal::{PciAddress, PciConfig};

use crate::{command, offsets};

/// One decoded BAR, as enumeration sized it.
///
/// Only [`crate::enumerate`] creates BARs (there is no public constructor and the
/// fields are private), so a driver cannot make up a window and hand it to the
/// platform. That alone does not make a BAR trustworthy, because enumeration can be
/// run over a [`PciConfig`] that invents configuration space: the platform therefore
/// still checks every BAR window against the firmware memory map before mapping it
/// (`ingot_platform::mmio::MmioRegion::from_bar`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bar {
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Kind {
    /// Not implemented (or the upper half of a 64-bit BAR).
    #[default]
    None,
    /// A memory window.
    Memory { base: u64, size: u64, wide: bool, prefetchable: bool },
    /// An I/O port window.
    Io { base: u16, size: u16 },
}

impl Bar {
    /// An unimplemented BAR (or the upper half of a 64-bit one).
    pub const NONE: Self = Self { kind: Kind::None };

    pub(crate) const fn new_memory(base: u64, size: u64, wide: bool, prefetchable: bool) -> Self {
        Self { kind: Kind::Memory { base, size, wide, prefetchable } }
    }

    pub(crate) const fn new_io(base: u16, size: u16) -> Self {
        Self { kind: Kind::Io { base, size } }
    }

    /// Memory base and size, if this is a memory BAR.
    pub fn memory(&self) -> Option<(u64, u64)> {
        match self.kind {
            Kind::Memory { base, size, .. } if base != 0 && size != 0 => Some((base, size)),
            _ => None,
        }
    }

    /// First I/O port and count, if this is an I/O BAR.
    pub fn io(&self) -> Option<(u16, u16)> {
        match self.kind {
            Kind::Io { base, size } if base != 0 && size != 0 => Some((base, size)),
            _ => None,
        }
    }

    /// Whether this is a 64-bit memory BAR (it then occupies this slot and the next).
    pub fn is_64_bit(&self) -> bool {
        matches!(self.kind, Kind::Memory { wide: true, .. })
    }

    /// Whether this is a prefetchable memory BAR.
    pub fn is_prefetchable(&self) -> bool {
        matches!(self.kind, Kind::Memory { prefetchable: true, .. })
    }

    /// Whether nothing is implemented here.
    pub fn is_none(&self) -> bool {
        self.kind == Kind::None
    }
}

/// Reads and sizes the `count` BARs of a function. Decoding is switched off while a
/// BAR holds all ones, then everything is restored.
pub(crate) fn read_bars(config: &impl PciConfig, address: PciAddress, count: usize) -> [Bar; 6] {
    let mut bars = [Bar::NONE; 6];
    let saved_command = config.read_u16(address, offsets::COMMAND);
    command::write(config, address, saved_command & !(command::IO_SPACE | command::MEMORY_SPACE));
    let mut index = 0;
    while index < count {
        let offset = offsets::BAR0 + 4 * index as u16;
        let low = config.read_u32(address, offset);
        let mask_low = probe(config, address, offset, low);
        if low & 1 == 1 {
            let size = (!(mask_low & 0xFFFF_FFFC)).wrapping_add(1) & 0xFFFF;
            if mask_low & 0xFFFF_FFFC != 0 {
                bars[index] = Bar::new_io((low & 0xFFFC) as u16, size as u16);
            }
            index += 1;
            continue;
        }
        let wide = (low >> 1) & 3 == 2 && index + 1 < count;
        let prefetchable = low & 8 != 0;
        let (base, mask) = if wide {
            let high_offset = offset + 4;
            let high = config.read_u32(address, high_offset);
            let mask_high = probe(config, address, high_offset, high);
            (
                (u64::from(high) << 32) | u64::from(low & 0xFFFF_FFF0),
                (u64::from(mask_high) << 32) | u64::from(mask_low & 0xFFFF_FFF0),
            )
        } else {
            (
                u64::from(low & 0xFFFF_FFF0),
                u64::from(mask_low & 0xFFFF_FFF0) | 0xFFFF_FFFF_0000_0000,
            )
        };
        if mask & 0xFFFF_FFFF != 0 || (wide && mask != 0) {
            let size = (!mask).wrapping_add(1);
            bars[index] = Bar::new_memory(base, size, wide, prefetchable);
        }
        index += if wide { 2 } else { 1 };
    }
    command::write(config, address, saved_command);
    bars
}

/// Writes all ones to a BAR, reads the mask back, restores the value.
fn probe(config: &impl PciConfig, address: PciAddress, offset: u16, value: u32) -> u32 {
    config.write_u32(address, offset, 0xFFFF_FFFF);
    let mask = config.read_u32(address, offset);
    config.write_u32(address, offset, value);
    mask
}
