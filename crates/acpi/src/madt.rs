//! The MADT (signature `APIC`): the local APIC address, the usable cores, the I/O
//! APICs, how legacy IRQs map to global system interrupts, and the local APIC NMI
//! wiring.
//!
//! Entries are walked by their own length byte; an entry shorter than 2 bytes or
//! running past the table stops the walk (everything before it is kept), and a known
//! entry type too short for its fields is skipped. Both are noted in
//! [`Madt::malformed_at`].

use ingot_bootinfo::PhysicalMemory;

use crate::list::BoundedList;
use crate::sdt::Table;

/// Most usable cores kept; further ones are counted in `processors.dropped()`.
pub const MAX_PROCESSORS: usize = 256;
/// Most I/O APICs kept.
pub const MAX_IO_APICS: usize = 16;
/// Most interrupt source overrides kept.
pub const MAX_INTERRUPT_OVERRIDES: usize = 32;
/// Most local APIC NMI entries kept.
pub const MAX_LOCAL_APIC_NMIS: usize = 32;

/// MADT flag: the machine also has dual 8259 PICs (PC-AT compatible).
const PCAT_COMPAT: u32 = 1;
/// Processor flag: the core is enabled.
const ENABLED: u32 = 1 << 0;
/// Processor flag: the core is disabled but can be brought online at runtime.
const ONLINE_CAPABLE: u32 = 1 << 1;
/// Offset of the first entry (header, local APIC address, flags).
const ENTRIES_OFFSET: u32 = 44;

/// One usable core: enabled, or online-capable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Processor {
    /// The ACPI processor UID (matches processor objects in the DSDT).
    pub uid: u32,
    /// The local APIC id (8-bit values from xAPIC entries, 32-bit from x2APIC entries).
    pub apic_id: u32,
    /// The firmware enabled the core; if `false` it is only online-capable.
    pub enabled: bool,
    /// The entry was a processor local x2APIC entry (type 9).
    pub x2apic: bool,
}

/// One I/O APIC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IoApic {
    /// Its I/O APIC id.
    pub id: u8,
    /// Physical address of its registers.
    pub address: u32,
    /// The first global system interrupt it handles.
    pub gsi_base: u32,
}

/// A legacy (ISA) IRQ that is not identity-mapped to the same GSI, or has other
/// polarity/trigger mode than ISA's default (active high, edge).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InterruptOverride {
    /// The bus (0 = ISA).
    pub bus: u8,
    /// The bus-relative IRQ.
    pub source_irq: u8,
    /// The global system interrupt it arrives at.
    pub gsi: u32,
    /// MPS INTI flags: bits 0-1 polarity, bits 2-3 trigger mode.
    pub flags: u16,
}

impl InterruptOverride {
    /// The interrupt is active low (polarity bits `11`).
    pub fn active_low(&self) -> bool {
        self.flags & 0b11 == 0b11
    }

    /// The interrupt is level triggered (trigger bits `11`).
    pub fn level_triggered(&self) -> bool {
        (self.flags >> 2) & 0b11 == 0b11
    }
}

/// Which local APIC LINT pin is wired to NMI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LocalApicNmi {
    /// The ACPI processor UID it applies to; `None` means all processors.
    pub processor_uid: Option<u32>,
    /// MPS INTI flags (polarity, trigger mode).
    pub flags: u16,
    /// The LINT pin: 0 or 1.
    pub lint: u8,
}

/// The parsed MADT.
#[derive(Debug, Clone, Default)]
pub struct Madt {
    /// Physical address of the local APIC registers (the 64-bit override entry, type
    /// 5, replaces the 32-bit header field).
    pub local_apic_address: u64,
    /// The MADT flags (bit 0: PC-AT compatible dual 8259 PICs present).
    pub flags: u32,
    /// Usable cores (enabled or online-capable), without duplicate APIC ids, at most
    /// [`MAX_PROCESSORS`]; the excess is counted in `processors.dropped()`.
    pub processors: BoundedList<Processor, MAX_PROCESSORS>,
    /// Processor entries neither enabled nor online-capable, or with the invalid APIC
    /// id (0xFF / 0xFFFFFFFF); not listed in `processors`.
    pub unusable_processors: usize,
    /// The I/O APICs.
    pub io_apics: BoundedList<IoApic, MAX_IO_APICS>,
    /// The interrupt source overrides.
    pub interrupt_overrides: BoundedList<InterruptOverride, MAX_INTERRUPT_OVERRIDES>,
    /// The local APIC NMI entries (types 4 and 0xA).
    pub local_apic_nmis: BoundedList<LocalApicNmi, MAX_LOCAL_APIC_NMIS>,
    /// Offset of the first damaged entry, if any.
    pub malformed_at: Option<u32>,
}

impl Madt {
    /// Whether legacy 8259 PICs are present (and must be masked when using APICs).
    pub fn has_legacy_pics(&self) -> bool {
        self.flags & PCAT_COMPAT != 0
    }

    /// Whether any list overflowed its capacity.
    pub fn any_dropped(&self) -> bool {
        self.processors.dropped() > 0
            || self.io_apics.dropped() > 0
            || self.interrupt_overrides.dropped() > 0
            || self.local_apic_nmis.dropped() > 0
    }

    /// The legacy IRQ's global system interrupt: its override, or the IRQ number.
    pub fn gsi_for_isa_irq(&self, irq: u8) -> u32 {
        self.interrupt_overrides
            .iter()
            .find(|entry| entry.bus == 0 && entry.source_irq == irq)
            .map_or(u32::from(irq), |entry| entry.gsi)
    }

    /// Where a legacy interrupt line arrives: its GSI and how it signals
    /// (active low, level-triggered). An ISA IRQ (`pci` false) defaults to edge and
    /// active high, a PCI INTx line routed to IRQ `irq` (`pci` true) to level and active
    /// low; an interrupt source override replaces the GSI, and its polarity and trigger
    /// bits where they do not say "conforms to the bus" (00).
    pub fn legacy_route(&self, irq: u8, pci: bool) -> (u32, bool, bool) {
        let found =
            self.interrupt_overrides.iter().find(|entry| entry.bus == 0 && entry.source_irq == irq);
        match found {
            None => (u32::from(irq), pci, pci),
            Some(entry) => {
                let active_low = if entry.flags & 0b11 == 0 { pci } else { entry.active_low() };
                let level =
                    if (entry.flags >> 2) & 0b11 == 0 { pci } else { entry.level_triggered() };
                (entry.gsi, active_low, level)
            }
        }
    }

    /// Parses a validated MADT; `None` if even the fixed fields are missing.
    pub(crate) fn parse<M: PhysicalMemory + ?Sized>(table: &Table<'_, M>) -> Option<Self> {
        let mut madt = Self {
            local_apic_address: u64::from(table.u32(36)?),
            flags: table.u32(40)?,
            ..Self::default()
        };
        let length = table.length();
        let mut offset = ENTRIES_OFFSET;
        while offset < length {
            let entry_length = match (table.u8(offset), table.u8(offset + 1)) {
                (Some(_), Some(entry_length)) => u32::from(entry_length),
                _ => 0,
            };
            if entry_length < 2 || entry_length > length - offset {
                madt.malformed_at.get_or_insert(offset);
                break;
            }
            if madt.parse_entry(table, offset, entry_length).is_none() {
                madt.malformed_at.get_or_insert(offset);
            }
            offset += entry_length;
        }
        Some(madt)
    }

    /// Parses the entry at `offset`; `None` if it is too short for its type.
    fn parse_entry<M: PhysicalMemory + ?Sized>(
        &mut self,
        table: &Table<'_, M>,
        offset: u32,
        entry_length: u32,
    ) -> Option<()> {
        // Reads past the entry's own length are rejected even when inside the table.
        let field = |at: u32, size: u32| (at + size <= entry_length).then_some(offset + at);
        match table.u8(offset)? {
            0 => {
                let uid = table.u8(field(2, 1)?)?;
                let apic_id = table.u8(field(3, 1)?)?;
                let flags = table.u32(field(4, 4)?)?;
                let valid = apic_id != 0xFF;
                self.add_processor(u32::from(uid), u32::from(apic_id), flags, false, valid);
            }
            1 => {
                let id = table.u8(field(2, 1)?)?;
                let address = table.u32(field(4, 4)?)?;
                let gsi_base = table.u32(field(8, 4)?)?;
                self.io_apics.push(IoApic { id, address, gsi_base });
            }
            2 => {
                let bus = table.u8(field(2, 1)?)?;
                let source_irq = table.u8(field(3, 1)?)?;
                let gsi = table.u32(field(4, 4)?)?;
                let flags = table.u16(field(8, 2)?)?;
                self.interrupt_overrides.push(InterruptOverride { bus, source_irq, gsi, flags });
            }
            4 => {
                let uid = table.u8(field(2, 1)?)?;
                let flags = table.u16(field(3, 2)?)?;
                let lint = table.u8(field(5, 1)?)?;
                let processor_uid = (uid != 0xFF).then_some(u32::from(uid));
                self.local_apic_nmis.push(LocalApicNmi { processor_uid, flags, lint });
            }
            5 => self.local_apic_address = table.u64(field(4, 8)?)?,
            9 => {
                let apic_id = table.u32(field(4, 4)?)?;
                let flags = table.u32(field(8, 4)?)?;
                let uid = table.u32(field(12, 4)?)?;
                self.add_processor(uid, apic_id, flags, true, apic_id != u32::MAX);
            }
            0xA => {
                let flags = table.u16(field(2, 2)?)?;
                let uid = table.u32(field(4, 4)?)?;
                let lint = table.u8(field(8, 1)?)?;
                let processor_uid = (uid != u32::MAX).then_some(uid);
                self.local_apic_nmis.push(LocalApicNmi { processor_uid, flags, lint });
            }
            _ => {}
        }
        Some(())
    }

    fn add_processor(&mut self, uid: u32, apic_id: u32, flags: u32, x2apic: bool, valid: bool) {
        let enabled = flags & ENABLED != 0;
        if !valid || !(enabled || flags & ONLINE_CAPABLE != 0) {
            self.unusable_processors += 1;
            return;
        }
        // Some firmware lists a core both as xAPIC and as x2APIC: keep the first.
        if self.processors.iter().any(|known| known.apic_id == apic_id) {
            return;
        }
        self.processors.push(Processor { uid, apic_id, enabled, x2apic });
    }
}
