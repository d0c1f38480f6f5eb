//! PCI configuration space access ([`ingot_hal::PciConfig`]): mechanism #1 over the
//! 0xCF8/0xCFC ports, and PCIe ECAM (enhanced configuration access) over MMIO for
//! the regions ACPI MCFG describes.

use ingot_hal::PciAddress;
use ingot_mem::MemError;
use ingot_pci::Root;

use crate::address_space::AddressSpace;
use crate::frames::PhysicalFrames;

const ADDRESS_PORT: u16 = 0xCF8;
const DATA_PORT: u16 = 0xCFC;

/// Serialises the address/data port pair.
static MECHANISM_1_LOCK: spin::Mutex<()> = spin::Mutex::new(());

/// Configuration mechanism #1: segment 0, 256 bytes per function.
#[derive(Debug)]
pub struct Mechanism1 {
    _private: (),
}

impl Mechanism1 {
    /// Mechanism #1, if the port pair answers like a PCI host bridge (the address
    /// register reads back what was written).
    pub fn probe() -> Option<Self> {
        let _guard = MECHANISM_1_LOCK.lock();
        // SAFETY: 0xCF8 is the PCI configuration address register on every PC; writing
        // it only selects a register, reading it back changes nothing.
        let works = unsafe {
            ingot_arch::port::write_u32(ADDRESS_PORT, 0x8000_0000);
            ingot_arch::port::read_u32(ADDRESS_PORT) == 0x8000_0000
        };
        works.then_some(Self { _private: () })
    }

    /// The one root mechanism #1 reaches.
    pub fn roots() -> [Root; 1] {
        [Root { segment: 0, first_bus: 0, last_bus: 255 }]
    }

    fn select(address: PciAddress, offset: u16) -> Option<u32> {
        (address.segment == 0 && offset < 256 && address.device < 32 && address.function < 8).then(
            || {
                0x8000_0000
                    | (u32::from(address.bus) << 16)
                    | (u32::from(address.device) << 11)
                    | (u32::from(address.function) << 8)
                    | u32::from(offset & 0xFC)
            },
        )
    }
}

impl ingot_hal::PciConfig for Mechanism1 {
    fn read_u32(&self, address: PciAddress, offset: u16) -> u32 {
        let Some(select) = Self::select(address, offset) else { return u32::MAX };
        let _guard = MECHANISM_1_LOCK.lock();
        // SAFETY: selecting and reading a configuration register has no side effects on
        // memory; the lock keeps the address/data pair together.
        unsafe {
            ingot_arch::port::write_u32(ADDRESS_PORT, select);
            ingot_arch::port::read_u32(DATA_PORT)
        }
    }

    fn write_u32(&self, address: PciAddress, offset: u16, value: u32) {
        let Some(select) = Self::select(address, offset) else { return };
        let _guard = MECHANISM_1_LOCK.lock();
        // SAFETY: configuration writes come only from enumeration (BAR sizing, restored
        // at once) and from drivers enabling their own function.
        unsafe {
            ingot_arch::port::write_u32(ADDRESS_PORT, select);
            ingot_arch::port::write_u32(DATA_PORT, value);
        }
    }
}

/// One ECAM window: a segment's configuration space for buses `first_bus..=last_bus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EcamRegion {
    /// Physical address of bus 0's configuration space (MCFG's base address).
    pub base: u64,
    /// Segment group.
    pub segment: u16,
    /// First bus decoded.
    pub first_bus: u8,
    /// Last bus decoded.
    pub last_bus: u8,
}

/// Most ECAM regions kept.
pub const MAX_ECAM_REGIONS: usize = 8;

/// PCIe ECAM over the regions ACPI MCFG lists.
#[derive(Debug)]
pub struct Ecam {
    regions: [Option<EcamRegion>; MAX_ECAM_REGIONS],
}

impl Ecam {
    /// Maps every region (4 KiB per function) and returns the accessor. Regions past
    /// [`MAX_ECAM_REGIONS`] are ignored; a region that cannot be mapped is an error.
    pub fn new(
        space: &mut AddressSpace,
        frames: &mut PhysicalFrames,
        regions: &[EcamRegion],
    ) -> Result<Self, MemError> {
        let mut kept = [None; MAX_ECAM_REGIONS];
        for (slot, region) in kept.iter_mut().zip(regions) {
            if region.last_bus < region.first_bus {
                return Err(MemError::InvalidRange);
            }
            let start = region.base + (u64::from(region.first_bus) << 20);
            let len = (u64::from(region.last_bus - region.first_bus) + 1) << 20;
            space.map_mmio(frames, start, len)?;
            *slot = Some(*region);
        }
        Ok(Self { regions: kept })
    }

    /// The roots to enumerate: one per region.
    pub fn roots(&self) -> impl Iterator<Item = Root> + '_ {
        self.regions.iter().flatten().map(|r| Root {
            segment: r.segment,
            first_bus: r.first_bus,
            last_bus: r.last_bus,
        })
    }

    fn pointer(&self, address: PciAddress, offset: u16) -> Option<*mut u32> {
        if offset >= 4096 || address.device >= 32 || address.function >= 8 {
            return None;
        }
        let region = self.regions.iter().flatten().find(|r| {
            r.segment == address.segment && (r.first_bus..=r.last_bus).contains(&address.bus)
        })?;
        let offset = (u64::from(address.bus) << 20)
            | (u64::from(address.device) << 15)
            | (u64::from(address.function) << 12)
            | u64::from(offset & 0xFFC);
        Some((region.base + offset) as *mut u32)
    }
}

impl ingot_hal::PciConfig for Ecam {
    fn read_u32(&self, address: PciAddress, offset: u16) -> u32 {
        match self.pointer(address, offset) {
            // SAFETY: the pointer lies in a region `new` mapped, aligned to 4; a
            // configuration read has no side effects on memory.
            Some(pointer) => unsafe { pointer.read_volatile() },
            None => u32::MAX,
        }
    }

    fn write_u32(&self, address: PciAddress, offset: u16, value: u32) {
        if let Some(pointer) = self.pointer(address, offset) {
            // SAFETY: as in `read_u32`; writes come from enumeration and drivers
            // configuring their own function.
            unsafe { pointer.write_volatile(value) }
        }
    }
}

/// Whichever configuration access the machine has: ECAM when MCFG regions were
/// given, mechanism #1 otherwise.
#[derive(Debug)]
pub enum ConfigAccess {
    /// Ports 0xCF8/0xCFC.
    Ports(Mechanism1),
    /// PCIe ECAM.
    Ecam(Ecam),
}

impl ingot_hal::PciConfig for ConfigAccess {
    fn read_u32(&self, address: PciAddress, offset: u16) -> u32 {
        match self {
            Self::Ports(ports) => ports.read_u32(address, offset),
            Self::Ecam(ecam) => ecam.read_u32(address, offset),
        }
    }
    fn write_u32(&self, address: PciAddress, offset: u16, value: u32) {
        match self {
            Self::Ports(ports) => ports.write_u32(address, offset, value),
            Self::Ecam(ecam) => ecam.write_u32(address, offset, value),
        }
    }
}
