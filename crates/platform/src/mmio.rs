//! Device register windows ([`ingot_hal::Mmio`]), made from PCI BARs or from the
//! fixed windows a platform describes (virtio-mmio devices of microVMs). Both go
//! through [`AddressSpace::map_mmio`], which maps a range only where the firmware
//! memory map shows a device range (never RAM, the kernel or page 0); every access is
//! bounds-checked.

use ingot_mem::MemError;
use ingot_pci::Bar;

use crate::address_space::AddressSpace;
use crate::frames::PhysicalFrames;

/// A mapped window of device registers inside one memory BAR.
#[derive(Debug, Clone)]
pub struct MmioRegion {
    base: u64,
    len: usize,
}

impl MmioRegion {
    /// Maps `[offset, offset + len)` of memory BAR `bar` (as PCI enumeration sized
    /// it) and returns it as a register window. Refuses I/O BARs, empty BARs and
    /// ranges outside the BAR, and (through [`AddressSpace::map_mmio`]) any window
    /// that is not a device range in the firmware memory map: a BAR describing RAM,
    /// the kernel or page 0 gives `InvalidRange`, so the window never aliases memory.
    pub fn from_bar(
        space: &mut AddressSpace,
        frames: &mut PhysicalFrames,
        bar: &Bar,
        offset: u64,
        len: u64,
    ) -> Result<Self, MemError> {
        let (base, size) = bar.memory().ok_or(MemError::InvalidRange)?;
        let end = offset.checked_add(len).ok_or(MemError::InvalidRange)?;
        if len == 0 || end > size {
            return Err(MemError::InvalidRange);
        }
        let start = base.checked_add(offset).ok_or(MemError::InvalidRange)?;
        space.map_mmio(frames, start, len)?;
        Ok(Self { base: start, len: len as usize })
    }

    /// Maps the device window `[base, base + len)` that the platform described
    /// (not a PCI BAR: a virtio-mmio device named on the command line) and returns it
    /// as a register window. Refuses an empty or wrapping range; everything else is
    /// [`AddressSpace::map_mmio`]'s to accept or refuse.
    pub fn from_device_window(
        space: &mut AddressSpace,
        frames: &mut PhysicalFrames,
        base: u64,
        len: u64,
    ) -> Result<Self, MemError> {
        let len_in_memory = usize::try_from(len).map_err(|_| MemError::InvalidRange)?;
        if len == 0 || base.checked_add(len).is_none() {
            return Err(MemError::InvalidRange);
        }
        space.map_mmio(frames, base, len)?;
        Ok(Self { base, len: len_in_memory })
    }

    /// Physical address of the window.
    pub fn physical(&self) -> u64 {
        self.base
    }

    fn pointer<T>(&self, offset: usize) -> Option<*mut T> {
        let size = core::mem::size_of::<T>();
        (offset.checked_add(size)? <= self.len && offset.is_multiple_of(size))
            .then(|| (self.base + offset as u64) as *mut T)
    }

    fn read<T: Copy>(&self, offset: usize, absent: T) -> T {
        match self.pointer::<T>(offset) {
            // SAFETY: the pointer lies inside a device window that `from_bar` or
            // `from_device_window` had `map_mmio` accept and map (checked bounds and
            // alignment); device registers are read with one volatile access.
            Some(pointer) => unsafe { pointer.read_volatile() },
            None => absent,
        }
    }

    fn write<T: Copy>(&self, offset: usize, value: T) {
        if let Some(pointer) = self.pointer::<T>(offset) {
            // SAFETY: as in `read`; the window belongs to the device the driver owns.
            unsafe { pointer.write_volatile(value) }
        }
    }
}

impl ingot_hal::Mmio for MmioRegion {
    fn len(&self) -> usize {
        self.len
    }
    fn read_u8(&self, offset: usize) -> u8 {
        self.read(offset, u8::MAX)
    }
    fn read_u16(&self, offset: usize) -> u16 {
        self.read(offset, u16::MAX)
    }
    fn read_u32(&self, offset: usize) -> u32 {
        self.read(offset, u32::MAX)
    }
    fn write_u8(&self, offset: usize, value: u8) {
        self.write(offset, value);
    }
    fn write_u16(&self, offset: usize, value: u16) {
        self.write(offset, value);
    }
    fn write_u32(&self, offset: usize, value: u32) {
        self.write(offset, value);
    }
}
