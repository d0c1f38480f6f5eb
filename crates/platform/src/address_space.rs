//! The kernel's page tables: identity map of all physical memory, built at boot.

use ingot_mem::{
    LARGE_PAGE_SIZE, MemError, MemoryMap, PAGE_SIZE, PageFlags, PageTableBuilder, RegionKind,
};

use crate::frames::PhysicalFrames;
use crate::physical::{TableFrames, set_identity_end};

/// Everything below 4 GiB is identity-mapped: RAM, firmware and the 32-bit MMIO hole.
const LOW_IDENTITY_END: u64 = 4 << 30;

/// Page tables that identity-map physical memory from 4 KiB (page 0 stays unmapped so
/// null pointers fault): all of the low 4 GiB and all RAM above it. Only [`AddressSpace::build`]
/// creates one, so loading it can never unmap the kernel.
pub struct AddressSpace {
    root: u64,
    identity_end: u64,
    huge_pages: bool,
    /// The firmware map the tables were built from: device windows are checked
    /// against it.
    memory: MemoryMap,
}

impl AddressSpace {
    /// Builds tables identity-mapping `[4 KiB, 4 GiB)` (low RAM, firmware and all the
    /// low MMIO: APICs, HPET, PCI windows) plus every non-reserved region of `memory`
    /// above 4 GiB (RAM and ACPI tables), rounded out to 2 MiB. Reserved ranges above
    /// 4 GiB (such as the HyperTransport hole QEMU reports below 1 TiB) are not mapped;
    /// device windows up there are mapped when a driver claims them.
    pub fn build(
        frames: &mut PhysicalFrames,
        memory: &MemoryMap,
        huge_pages: bool,
    ) -> Result<Self, MemError> {
        let mut tables = TableFrames::new(frames);
        let mut builder = PageTableBuilder::new(&mut tables, huge_pages)?;
        let flags = PageFlags::WRITABLE;
        builder.map(PAGE_SIZE, PAGE_SIZE, LARGE_PAGE_SIZE - PAGE_SIZE, flags)?;
        builder.map(LARGE_PAGE_SIZE, LARGE_PAGE_SIZE, LOW_IDENTITY_END - LARGE_PAGE_SIZE, flags)?;
        let mut identity_end = LOW_IDENTITY_END;
        for region in memory.regions() {
            if region.kind == RegionKind::Reserved || region.end <= LOW_IDENTITY_END {
                continue;
            }
            let start = region.start.max(LOW_IDENTITY_END) / LARGE_PAGE_SIZE * LARGE_PAGE_SIZE;
            let end = region.end.next_multiple_of(LARGE_PAGE_SIZE);
            builder.map(start, start, end - start, flags)?;
            identity_end = identity_end.max(end);
        }
        Ok(Self { root: builder.root(), identity_end, huge_pages, memory: memory.clone() })
    }

    /// Physical address of the PML4.
    pub fn root(&self) -> u64 {
        self.root
    }

    /// End of the highest identity-mapped region.
    pub fn identity_end(&self) -> u64 {
        self.identity_end
    }

    /// Whether 1 GiB pages are used.
    pub fn huge_pages(&self) -> bool {
        self.huge_pages
    }

    /// Makes the device register window `[start, start + len)` (rounded out to pages)
    /// accessible at its own address, and guarantees that it is not memory: the
    /// whole range must lie in `Reserved` regions or holes of the firmware map
    /// ([`MemoryMap::is_device_window`]: never RAM, ACPI tables, page 0) and outside
    /// the kernel image, else `InvalidRange`. Below 4 GiB the boot-time identity map
    /// already covers it; above, it is mapped uncached (64-bit BARs). Ranges already
    /// mapped the same way are left alone; a conflicting mapping gives `AlreadyMapped`.
    pub fn map_mmio(
        &mut self,
        frames: &mut PhysicalFrames,
        start: u64,
        len: u64,
    ) -> Result<(), MemError> {
        let end = start.checked_add(len).ok_or(MemError::InvalidRange)?;
        let first = start / PAGE_SIZE * PAGE_SIZE;
        let last = end.checked_next_multiple_of(PAGE_SIZE).ok_or(MemError::InvalidRange)?;
        let (image_start, image_end) = crate::frames::kernel_image();
        let in_image = first < image_end && image_start < last;
        if len == 0 || in_image || !self.memory.is_device_window(first, last) {
            return Err(MemError::InvalidRange);
        }
        if first < LOW_IDENTITY_END && last <= LOW_IDENTITY_END {
            return Ok(()); // already mapped at boot (caching left to the firmware's MTRRs)
        }
        let mut tables = TableFrames::new(frames);
        let mut builder = PageTableBuilder::with_root(&mut tables, self.root, self.huge_pages);
        let flags = PageFlags::WRITABLE | PageFlags::CACHE_DISABLE | PageFlags::WRITE_THROUGH;
        builder.map(first, first, last - first, flags)
    }

    /// Turns the identity-mapped page at `page` into a guard page below a stack:
    /// unmaps it (splitting the large page around it), flushes it from this core's TLB
    /// and records it for the fault handler ([`crate::guard_pages`]). The page must
    /// be a frame the caller owns and gives up for this (it is never accessed again);
    /// cores started later load the tables as they are now.
    pub fn unmap_guard_page(
        &mut self,
        frames: &mut PhysicalFrames,
        page: u64,
    ) -> Result<(), MemError> {
        if page == 0 || page >= self.identity_end {
            return Err(MemError::InvalidRange);
        }
        let mut tables = TableFrames::new(frames);
        let mut builder = PageTableBuilder::with_root(&mut tables, self.root, self.huge_pages);
        builder.unmap_page(page)?;
        ingot_arch::cpu::invalidate_page(page);
        crate::guard_pages::record(page);
        Ok(())
    }

    /// Switches this core to these tables.
    pub fn activate(&self) {
        // SAFETY: `build` identity-mapped all physical memory the kernel can be using
        // (its image, stacks, heap and tables are all RAM below `identity_end`), so
        // every address in use stays valid after the switch.
        unsafe { ingot_arch::cpu::load_cr3(self.root) }
        set_identity_end(self.identity_end);
    }
}
