//! The MCFG table (signature `MCFG`): where PCI Express memory-mapped configuration
//! space (ECAM) lives for each segment group and bus range.

use ingot_bootinfo::PhysicalMemory;

use crate::list::BoundedList;
use crate::sdt::Table;

/// Most ECAM regions kept.
pub const MAX_ECAM_REGIONS: usize = 16;
/// Offset of the first allocation entry (header and 8 reserved bytes).
const ENTRIES_OFFSET: u32 = 44;
/// Bytes per allocation entry.
const ENTRY_LENGTH: u32 = 16;

/// One ECAM region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EcamRegion {
    /// Physical base address of the enhanced configuration space.
    pub base_address: u64,
    /// The PCI segment group.
    pub segment_group: u16,
    /// First bus decoded.
    pub start_bus: u8,
    /// Last bus decoded (inclusive).
    pub end_bus: u8,
}

/// The parsed MCFG.
#[derive(Debug, Clone, Default)]
pub struct Mcfg {
    /// The ECAM regions, at most [`MAX_ECAM_REGIONS`].
    pub regions: BoundedList<EcamRegion, MAX_ECAM_REGIONS>,
    /// The body is not a whole number of entries, or an entry's end bus precedes its
    /// start bus (such entries are skipped).
    pub malformed: bool,
}

impl Mcfg {
    /// Parses a validated MCFG.
    pub(crate) fn parse<M: PhysicalMemory + ?Sized>(table: &Table<'_, M>) -> Option<Self> {
        let body = table.length().checked_sub(ENTRIES_OFFSET)?;
        let mut mcfg = Self { malformed: !body.is_multiple_of(ENTRY_LENGTH), ..Self::default() };
        for index in 0..body / ENTRY_LENGTH {
            let entry = ENTRIES_OFFSET + index * ENTRY_LENGTH;
            let region = EcamRegion {
                base_address: table.u64(entry)?,
                segment_group: table.u16(entry + 8)?,
                start_bus: table.u8(entry + 10)?,
                end_bus: table.u8(entry + 11)?,
            };
            if region.end_bus < region.start_bus {
                mcfg.malformed = true;
                continue;
            }
            mcfg.regions.push(region);
        }
        Some(mcfg)
    }
}
