//! The one allocator of physical frames the kernel uses.

use core::sync::atomic::{AtomicBool, Ordering};

use ingot_bootinfo::BootInfo;
use ingot_mem::{FrameAllocator, MemError, PAGE_SIZE, RegionKind};

unsafe extern "C" {
    static __image_start: u8;
    static __image_end: u8;
}

/// Physical range `[start, end)` occupied by the kernel image, including its
/// zero-initialised data, boot stack and boot page tables.
pub fn kernel_image() -> (u64, u64) {
    (core::ptr::addr_of!(__image_start) as u64, core::ptr::addr_of!(__image_end) as u64)
}

/// RAM set aside at boot, before the kernel allocated anything, for a fixed-address
/// program's image at its own (identity-mapped) addresses
/// ([`PhysicalFrames::set_aside`]). Only that function makes one, and the frames never
/// return to the allocator: neither the kernel nor the program window ever holds them,
/// so the program may use them at their physical addresses while the kernel uses the
/// rest of its identity map as before.
#[derive(Debug)]
pub struct FixedImage {
    start: u64,
    end: u64,
}

impl FixedImage {
    /// The range `[start, end)`.
    pub fn range(&self) -> (u64, u64) {
        (self.start, self.end)
    }
}

/// Free RAM that nothing else uses. Created once from the boot memory map.
pub struct PhysicalFrames {
    allocator: FrameAllocator,
}

static CREATED: AtomicBool = AtomicBool::new(false);

impl PhysicalFrames {
    /// All usable RAM of the memory map except page 0, the kernel image and the boot
    /// modules. Returns `None` on a second call: there is only one owner of free RAM.
    pub fn from_boot_info(info: &BootInfo) -> Option<Result<Self, MemError>> {
        if CREATED.swap(true, Ordering::AcqRel) {
            return None;
        }
        Some(Self::build(info))
    }

    fn build(info: &BootInfo) -> Result<Self, MemError> {
        let mut allocator = FrameAllocator::new();
        for region in info.memory.regions() {
            if region.kind == RegionKind::Usable {
                allocator.add_free(region.start, region.end)?;
            }
        }
        allocator.reserve(0, PAGE_SIZE)?;
        let (image_start, image_end) = kernel_image();
        allocator.reserve(image_start, image_end)?;
        for module in info.modules() {
            allocator.reserve(module.start, module.start.saturating_add(module.len))?;
        }
        Ok(Self { allocator })
    }

    /// Read access to the allocator state (free ranges, free bytes).
    pub fn allocator(&self) -> &FrameAllocator {
        &self.allocator
    }

    /// Mutable access for allocation. The allocator's contents stay free RAM because
    /// nothing can be added to it from outside except frames it gave out.
    pub(crate) fn allocator_mut(&mut self) -> &mut FrameAllocator {
        &mut self.allocator
    }

    /// Allocates contiguous frames (see [`FrameAllocator::allocate`]).
    pub fn allocate(&mut self, frames: u64, align: u64) -> Result<u64, MemError> {
        self.allocator.allocate(frames, align)
    }

    /// Allocates contiguous frames ending at or below `limit` (e.g. 1 MiB for the AP
    /// trampoline).
    pub fn allocate_below(&mut self, frames: u64, align: u64, limit: u64) -> Result<u64, MemError> {
        self.allocator.allocate_below(frames, align, limit)
    }

    /// Takes `[start, end)` (page-aligned) out of free RAM for good, for a fixed-address
    /// program's image ([`FixedImage`]). `InvalidRange` unless the whole range is free
    /// RAM now (usable in the firmware map, not page 0, the kernel image, a boot module
    /// or anything allocated), so call it before the kernel allocates.
    pub fn set_aside(&mut self, start: u64, end: u64) -> Result<FixedImage, MemError> {
        let aligned = start.is_multiple_of(PAGE_SIZE) && end.is_multiple_of(PAGE_SIZE);
        if start >= end || !aligned || !self.allocator.free_ranges().contains(start, end) {
            return Err(MemError::InvalidRange);
        }
        self.allocator.reserve(start, end)?;
        Ok(FixedImage { start, end })
    }

    /// Returns frames this allocator handed out.
    pub fn free(&mut self, address: u64, frames: u64) -> Result<(), MemError> {
        self.allocator.free(address, frames)
    }
}
