//! The HPET description table (signature `HPET`): where the High Precision Event
//! Timer's registers are and what the firmware says about it.

use ingot_bootinfo::PhysicalMemory;

use crate::gas::GenericAddress;
use crate::sdt::Table;

/// The parsed HPET table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hpet {
    /// The event timer block id: a copy of the low 32 bits of the capabilities register.
    pub event_timer_block_id: u32,
    /// Where the registers are (normally system memory).
    pub base: GenericAddress,
    /// The HPET's sequence number (0 for the first one).
    pub number: u8,
    /// The minimum main-counter tick count that periodic mode can be programmed with
    /// without losing interrupts.
    pub minimum_tick: u16,
    /// Page protection and OEM attribute bits.
    pub page_protection: u8,
}

impl Hpet {
    /// Physical address of the registers, if they are in system memory.
    pub fn base_address(&self) -> Option<u64> {
        (self.base.address_space == GenericAddress::SPACE_SYSTEM_MEMORY && self.base.address != 0)
            .then_some(self.base.address)
    }

    /// How many comparators (timers) the block has.
    pub fn comparator_count(&self) -> u8 {
        ((self.event_timer_block_id >> 8) & 0x1F) as u8 + 1
    }

    /// Whether the main counter is 64 bits wide.
    pub fn counter_is_64_bit(&self) -> bool {
        self.event_timer_block_id & (1 << 13) != 0
    }

    /// Whether the HPET can replace the PIT and RTC interrupts (legacy replacement).
    pub fn legacy_replacement_capable(&self) -> bool {
        self.event_timer_block_id & (1 << 15) != 0
    }

    /// The PCI vendor id of the HPET's maker.
    pub fn vendor_id(&self) -> u16 {
        (self.event_timer_block_id >> 16) as u16
    }

    /// Parses a validated HPET table; `None` if it is too short for its fields.
    pub(crate) fn parse<M: PhysicalMemory + ?Sized>(table: &Table<'_, M>) -> Option<Self> {
        Some(Self {
            event_timer_block_id: table.u32(36)?,
            base: GenericAddress::read(table, 40)?,
            number: table.u8(52)?,
            minimum_tick: table.u16(53)?,
            page_protection: table.u8(55)?,
        })
    }
}
