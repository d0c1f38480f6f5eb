//! DMA buffers ([`ingot_hal::DmaBuffer`]) made only from frames of [`PhysicalFrames`].
//!
//! Buffers lie below 4 GiB (every device can reach them, and the boot identity map
//! covers them) and are never returned: drivers allocate their rings and bounce
//! buffers once, at initialisation.

use ingot_hal::DmaError;
use ingot_mem::PAGE_SIZE;

use crate::frames::PhysicalFrames;

/// Highest address (exclusive) of DMA memory.
const DMA_LIMIT: u64 = 1 << 32;

/// Zeroed, physically contiguous, identity-mapped RAM that a device may access.
#[derive(Debug)]
pub struct DmaRegion {
    base: u64,
    len: usize,
}

impl DmaRegion {
    /// Takes `bytes` (rounded up to pages) from `frames`, below 4 GiB, and zeroes them.
    pub fn allocate(frames: &mut PhysicalFrames, bytes: usize) -> Result<Self, DmaError> {
        let pages = (bytes.max(1) as u64).div_ceil(PAGE_SIZE);
        let base = frames
            .allocator_mut()
            .allocate_below(pages, PAGE_SIZE, DMA_LIMIT)
            .map_err(|_| DmaError::OutOfMemory)?;
        let len = (pages * PAGE_SIZE) as usize;
        // SAFETY: the frames were just taken from the allocator of free RAM, below 4 GiB
        // and therefore identity-mapped; nothing else refers to them yet.
        unsafe { core::ptr::write_bytes(base as *mut u8, 0, len) };
        Ok(Self { base, len })
    }

    fn pointer<T>(&self, offset: usize) -> Option<*mut T> {
        let size = core::mem::size_of::<T>();
        (offset.checked_add(size)? <= self.len).then(|| (self.base + offset as u64) as *mut T)
    }

    fn read<T: Copy + Default>(&self, offset: usize) -> T {
        match self.pointer::<T>(offset) {
            // SAFETY: inside this buffer (checked), which is RAM owned by this value;
            // used only for unaligned offsets, which x86 reads fine.
            Some(pointer) => unsafe { pointer.read_unaligned() },
            None => T::default(),
        }
    }

    fn write<T: Copy>(&self, offset: usize, value: T) {
        if let Some(pointer) = self.pointer::<T>(offset) {
            // SAFETY: inside this buffer (checked), RAM owned by this value.
            unsafe { pointer.write_volatile(value) }
        }
    }
}

impl ingot_hal::DmaBuffer for DmaRegion {
    fn physical(&self) -> u64 {
        self.base
    }
    fn len(&self) -> usize {
        self.len
    }
    fn read_bytes(&self, offset: usize, out: &mut [u8]) {
        if offset.checked_add(out.len()).is_some_and(|end| end <= self.len) {
            core::sync::atomic::fence(core::sync::atomic::Ordering::Acquire);
            // SAFETY: the source range lies inside this buffer (checked) and cannot
            // overlap `out`, which is ordinary kernel memory.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    (self.base + offset as u64) as *const u8,
                    out.as_mut_ptr(),
                    out.len(),
                )
            }
        }
    }
    fn write_bytes(&self, offset: usize, data: &[u8]) {
        if offset.checked_add(data.len()).is_some_and(|end| end <= self.len) {
            // SAFETY: the destination range lies inside this buffer (checked).
            unsafe {
                core::ptr::copy_nonoverlapping(
                    data.as_ptr(),
                    (self.base + offset as u64) as *mut u8,
                    data.len(),
                )
            }
            core::sync::atomic::fence(core::sync::atomic::Ordering::Release);
        }
    }
    fn read_u16(&self, offset: usize) -> u16 {
        self.read_volatile(offset)
    }
    fn read_u32(&self, offset: usize) -> u32 {
        self.read_volatile(offset)
    }
    fn read_u64(&self, offset: usize) -> u64 {
        self.read_volatile(offset)
    }
    fn write_u16(&self, offset: usize, value: u16) {
        self.write(offset, value);
    }
    fn write_u32(&self, offset: usize, value: u32) {
        self.write(offset, value);
    }
    fn write_u64(&self, offset: usize, value: u64) {
        self.write(offset, value);
    }
}

impl DmaRegion {
    fn read_volatile<T: Copy + Default>(&self, offset: usize) -> T {
        if !offset.is_multiple_of(core::mem::size_of::<T>()) {
            return self.read(offset);
        }
        match self.pointer::<T>(offset) {
            // SAFETY: inside this buffer (checked) and aligned (checked): a single
            // volatile read, since the device may change the value at any time.
            Some(pointer) => unsafe { pointer.read_volatile() },
            None => T::default(),
        }
    }
}
