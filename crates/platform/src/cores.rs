//! Starting application processors and giving every core its own tables.
//!
//! The bootstrap core copies the AP trampoline (`ingot_arch::trampoline`) to a page
//! below 1 MiB and starts all cores at once: INIT to all of them (and one wait when
//! the CPU needs it), then a start-up IPI to each, back to back; each core takes its
//! own slot of the trampoline's slot table, so none waits for another. Each core gets
//! a stack and a block holding its descriptor tables and per-core data, all taken
//! from [`PhysicalFrames`].

use ingot_arch::apic::{Ipi, LocalApic};
use ingot_arch::descriptors::{CORE_TABLES_BYTES, CoreTables};
use ingot_arch::percpu::CoreBlock;
use ingot_arch::trampoline::SLOT_BYTES;
use ingot_mem::{MemError, PAGE_SIZE};

use crate::address_space::AddressSpace;
use crate::frames::PhysicalFrames;

/// Stack for each application core.
pub const CORE_STACK_BYTES: u64 = 64 * 1024;
/// Memory each started core takes from the frames: the unmapped guard page below its
/// stack, the stack, and its block.
pub const PER_CORE_BYTES: u64 = PAGE_SIZE + CORE_STACK_BYTES + launch_block_pages() * PAGE_SIZE;

unsafe extern "C" {
    /// The page below the bootstrap core's stack in the kernel image (`boot/direct`).
    static boot_stack_guard: u8;
}

/// The page of the kernel image directly below the bootstrap core's stack, to be made a
/// guard page once the kernel's own tables exist ([`AddressSpace::unmap_guard_page`]).
pub fn bootstrap_stack_guard() -> u64 {
    core::ptr::addr_of!(boot_stack_guard) as u64
}

const fn launch_block_pages() -> u64 {
    (core::mem::size_of::<LaunchBlock>() as u64).div_ceil(PAGE_SIZE)
}

/// What an application core finds through its trampoline argument.
#[repr(C)]
struct LaunchBlock {
    core: CoreBlock,
    main: fn(u64) -> !,
    tables: CoreTables,
}

/// Why a core did not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartError {
    /// No memory for its stack and tables.
    Memory(MemError),
    /// It never reported in after two start-up IPIs.
    NoResponse,
    /// The trampoline page is not below 1 MiB.
    BadTrampolinePage,
}

/// Starts application processors through a trampoline page.
pub struct CoreStarter {
    page: u64,
    layout: ingot_arch::trampoline::Layout,
}

fn field(page: u64, offset: usize) -> *mut u64 {
    (page + offset as u64) as *mut u64
}

impl CoreStarter {
    /// Copies and patches the trampoline into `page`, a frame below 1 MiB that the
    /// kernel took from the frames for this purpose alone.
    pub fn new(page: u64) -> Result<Self, StartError> {
        let code = ingot_arch::trampoline::code();
        if page == 0 || page + PAGE_SIZE > 0x10_0000 || !page.is_multiple_of(PAGE_SIZE) {
            return Err(StartError::BadTrampolinePage);
        }
        let layout = ingot_arch::trampoline::layout();
        let write32 = |offset: usize, value: u32| {
            // SAFETY: `page` is a whole free frame below 1 MiB reserved for the
            // trampoline (checked above, given by the caller from the frames), and
            // identity-mapped; the offsets lie inside the copied code.
            unsafe { ((page + offset as u64) as *mut u32).write_unaligned(value) }
        };
        // SAFETY: as above; the trampoline is shorter than a page (asserted by layout).
        unsafe {
            core::ptr::copy_nonoverlapping(code.as_ptr(), page as *mut u8, code.len().min(4096));
        }
        let gdt_offset = layout.gdtr_base - 2 - 32;
        write32(layout.gdtr_base, (page + gdt_offset as u64) as u32);
        write32(layout.far32, (page + layout.protected_entry as u64) as u32);
        write32(layout.far64, (page + layout.long_entry as u64) as u32);
        // SAFETY: as above; CR3 is below 4 GiB because the root table was the first
        // frame allocated while only the low 4 GiB were mapped.
        unsafe { field(page, layout.cr3).write_volatile(ingot_arch::cpu::read_cr3()) }
        Ok(Self { page, layout })
    }

    /// Sends INIT to every core in `apic_ids`, then waits `wait_us` once, so that
    /// starting many cores costs one wait, not one each. The multiprocessor
    /// specification asks for 10 ms; the caller passes 0 where the CPU generation or
    /// the hypervisor does not need it.
    pub fn reset_all(
        &self,
        apic: &LocalApic,
        apic_ids: &[u32],
        wait_us: u64,
        delay_us: &dyn Fn(u64),
    ) {
        for &apic_id in apic_ids {
            apic.send(apic_id, Ipi::Init);
        }
        if wait_us != 0 {
            delay_us(wait_us);
        }
    }

    /// Starts the cores with APIC IDs `apic_ids` (already reset by [`Self::reset_all`])
    /// all at once: gives each a stack (an unmapped guard page below it) and a block
    /// with its own tables, fills one slot of the trampoline's slot table per core,
    /// sends every core its start-up IPI back to back and waits until all have taken a
    /// slot: 10 ms, then a second start-up IPI to all and up to 200 ms more, as the
    /// multiprocessor specification asks (the second is ignored by a core already
    /// running). Slots are taken in arrival order: the core in slot `k` runs
    /// `main(first_index + k)` and learns its own APIC ID. Returns how many cores
    /// arrived; the caller waits for each to report in and uses only those that do.
    /// Fewer cores are prepared if memory runs out (an error only if none is).
    #[allow(clippy::too_many_arguments)] // each is a distinct thing the start needs
    pub fn start_all(
        &self,
        space: &mut AddressSpace,
        frames: &mut PhysicalFrames,
        apic: &LocalApic,
        apic_ids: &[u32],
        first_index: u64,
        main: fn(u64) -> !,
        delay_us: &dyn Fn(u64),
    ) -> Result<u64, StartError> {
        let table = frames.allocate(1, PAGE_SIZE).map_err(StartError::Memory)?;
        let most = apic_ids.len().min(PAGE_SIZE as usize / SLOT_BYTES);
        let mut prepared = 0;
        let mut last_error = None;
        for slot in 0..most {
            match prepare_core(space, frames, first_index + slot as u64, main) {
                Ok((stack_top, block)) => {
                    let entry = (table + (slot * SLOT_BYTES) as u64) as *mut u64;
                    // SAFETY: `table` is a fresh identity-mapped frame holding
                    // `PAGE_SIZE / SLOT_BYTES` slots; no core reads it before the IPIs.
                    unsafe {
                        entry.write_volatile(stack_top);
                        entry.add(1).write_volatile(block);
                    }
                    prepared += 1;
                }
                Err(error) => {
                    last_error = Some(error);
                    break;
                }
            }
        }
        if prepared == 0 {
            let _ = frames.free(table, 1);
            return Err(last_error.unwrap_or(StartError::NoResponse));
        }
        let page = self.page;
        // SAFETY: the parameter fields lie in the trampoline page owned by this
        // starter; no core runs the trampoline before the start-up IPIs below.
        unsafe {
            field(page, self.layout.slots).write_volatile(table);
            field(page, self.layout.slot_count).write_volatile(prepared as u64);
            field(page, self.layout.next_slot).write_volatile(0);
            field(page, self.layout.started).write_volatile(0);
            field(page, self.layout.entry).write_volatile(core_entry as *const () as u64);
        }
        let arrived = || {
            // SAFETY: reading the counter the APs increment; the page stays ours.
            unsafe { field(page, self.layout.started).read_volatile() }
        };
        let targets = &apic_ids[..prepared];
        for wait_us in [10_000, 200_000] {
            for &apic_id in targets {
                apic.send(apic_id, Ipi::Startup { page: (page / PAGE_SIZE) as u8 });
            }
            for _ in 0..wait_us / 10 {
                if arrived() >= prepared as u64 {
                    // Each core read its slot before counting itself: the table is free.
                    let _ = frames.free(table, 1);
                    return Ok(prepared as u64);
                }
                delay_us(10);
            }
        }
        // The table stays: a core that arrives late still reads its slot.
        Ok(arrived().min(prepared as u64))
    }
}

/// Takes the memory core `index` needs (guard page, stack, launch block) and fills
/// its launch block; returns its stack top and the block's address.
fn prepare_core(
    space: &mut AddressSpace,
    frames: &mut PhysicalFrames,
    index: u64,
    main: fn(u64) -> !,
) -> Result<(u64, u64), StartError> {
    let stack_pages = CORE_STACK_BYTES / PAGE_SIZE + 1;
    let guard = frames.allocate(stack_pages, PAGE_SIZE).map_err(StartError::Memory)?;
    let stack = guard + PAGE_SIZE;
    let block_pages = launch_block_pages();
    let block = match frames.allocate(block_pages, PAGE_SIZE) {
        Ok(block) => block,
        Err(error) => {
            let _ = frames.free(guard, stack_pages);
            return Err(StartError::Memory(error));
        }
    };
    // The guard frame is given up for good: once unmapped it is never freed.
    if let Err(error) = space.unmap_guard_page(frames, guard) {
        let _ = frames.free(guard, stack_pages);
        let _ = frames.free(block, block_pages);
        return Err(StartError::Memory(error));
    }
    let launch = block as *mut LaunchBlock;
    // SAFETY: `block` is a fresh allocation of enough whole frames for a LaunchBlock,
    // identity-mapped and page-aligned; the core it is for has not started, so
    // nothing else reads it yet. The APIC ID is filled in by the core itself.
    unsafe {
        core::ptr::addr_of_mut!((*launch).core).write(CoreBlock::new(index, 0));
        core::ptr::addr_of_mut!((*launch).main).write(main);
    }
    Ok((stack + CORE_STACK_BYTES, block))
}

/// Entered on the new core from the trampoline with its launch block.
extern "sysv64" fn core_entry(block: u64) -> ! {
    let launch = block as *mut LaunchBlock;
    // SAFETY: the starter filled this block for this core alone and it lives forever;
    // the tables are loaded once, here, before anything can fault on this core.
    unsafe {
        ingot_arch::descriptors::load_for_core(core::ptr::addr_of_mut!((*launch).tables));
        core::ptr::addr_of_mut!((*launch).core.apic_id).write(u64::from(own_apic_id()));
        ingot_arch::percpu::install(core::ptr::addr_of_mut!((*launch).core));
    }
    // SAFETY: written by the starter before the start-up IPI.
    let (main, index) = unsafe { ((*launch).main, (*launch).core.index) };
    main(index)
}

/// The calling core's APIC ID from CPUID: the x2APIC ID of the topology leaf where
/// there is one, else the initial (8-bit) APIC ID.
fn own_apic_id() -> u32 {
    let cpuid = raw_cpuid::CpuId::new();
    cpuid
        .get_extended_topology_info()
        .and_then(|mut levels| levels.next())
        .map(|level| level.x2apic_id())
        .or_else(|| cpuid.get_feature_info().map(|info| u32::from(info.initial_local_apic_id())))
        .unwrap_or(0)
}

const _: () = assert!(CORE_TABLES_BYTES < 64 * 1024);

/// Gives the bootstrap core its per-core block (index 0).
pub fn install_bootstrap_block(frames: &mut PhysicalFrames, apic_id: u32) -> Result<(), MemError> {
    let block = frames.allocate(1, PAGE_SIZE)?;
    let core = block as *mut CoreBlock;
    // SAFETY: a fresh, identity-mapped frame for this core's block, kept forever.
    unsafe {
        core.write(CoreBlock::new(0, u64::from(apic_id)));
        ingot_arch::percpu::install(core);
    }
    Ok(())
}
