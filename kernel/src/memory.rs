//! Memory at boot: frames, the kernel heap, the identity map and the program window.
//!
//! The kernel keeps a small share of RAM for itself (its heap and a reserve of frames
//! for page tables and, later, device rings and buffers); all the rest becomes the
//! program's window at `ingot_abi::PROGRAM_BASE`.

use ingot_bootinfo::{BootInfo, Module};
use ingot_platform::address_space::AddressSpace;
use ingot_platform::frames::PhysicalFrames;
use ingot_platform::program_memory::ProgramMemory;

use ingot_mem::MemError;
use spin::Mutex;

use crate::faults::fatal;
use crate::println;

/// What the kernel keeps of memory after boot: its frames and its page tables.
pub struct KernelMemory {
    /// A free frame below 1 MiB kept for the application-processor start-up code.
    pub trampoline_page: Option<u64>,
    /// Free RAM for kernel use (page tables, stacks, device rings and buffers).
    pub frames: PhysicalFrames,
    /// The page tables every core runs on.
    pub space: AddressSpace,
}

static KERNEL_MEMORY: Mutex<Option<KernelMemory>> = Mutex::new(None);

/// Runs `f` with the kernel's memory (`None` before [`init`] finished).
pub fn with_kernel_memory<R>(f: impl FnOnce(&mut KernelMemory) -> R) -> Option<R> {
    KERNEL_MEMORY.lock().as_mut().map(f)
}

/// Identity-maps a device register window (see `AddressSpace::map_mmio`).
pub fn map_mmio(start: u64, len: u64) -> Result<(), MemError> {
    with_kernel_memory(|memory| memory.space.map_mmio(&mut memory.frames, start, len))
        .unwrap_or(Err(MemError::OutOfMemory))
}

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

/// Kernel heap: 64 KiB plus 1/256 of RAM, at most 16 MiB.
pub fn heap_bytes(usable: u64) -> u64 {
    (64 * KIB + usable / 256).min(16 * MIB)
}

/// Frames kept back from the program for the kernel: 64 KiB plus 1/32 of RAM (at most
/// 64 MiB), plus each extra core's stack and tables. Storage drivers take their rings
/// and bounce buffers from here (about 0.5 MiB per controller), so a 128 MiB machine
/// keeps 4 MiB.
fn kernel_reserve_bytes(usable: u64, cores: usize) -> u64 {
    let per_core = ingot_platform::cores::PER_CORE_BYTES * cores.saturating_sub(1) as u64;
    (64 * KIB + usable / 32).min(64 * MIB) + per_core
}

/// Sets up memory and returns the program window (or `None` if there is no room for one).
pub fn init(boot: &BootInfo, module: Option<Module>, cores: usize) -> Option<ProgramMemory> {
    let mut frames = match PhysicalFrames::from_boot_info(boot) {
        Some(Ok(frames)) => frames,
        Some(Err(error)) => fatal(format_args!("memory map unusable: {error}")),
        None => fatal(format_args!("memory initialised twice")),
    };
    let usable = boot.memory.usable_bytes();
    let trampoline_page = frames.allocate_below(1, 4096, 0x10_0000).ok();
    if let Err(error) = ingot_platform::heap::grow(&mut frames, heap_bytes(usable)) {
        fatal(format_args!("no memory for the kernel heap: {error}"));
    }
    let features = ingot_arch::cpu::features();
    let mut space = match AddressSpace::build(&mut frames, &boot.memory, features.huge_pages) {
        Ok(space) => space,
        Err(error) => fatal(format_args!("cannot build page tables: {error}")),
    };
    let boot_guard = ingot_platform::cores::bootstrap_stack_guard();
    if let Err(error) = space.unmap_guard_page(&mut frames, boot_guard) {
        println!("ingot: no guard page below the boot stack: {error}");
    }
    let window =
        ProgramMemory::map_window(&mut frames, &space, kernel_reserve_bytes(usable, cores), module);
    space.activate();
    let kernel_free = frames.allocator().free_bytes();
    let identity_end = space.identity_end();
    *KERNEL_MEMORY.lock() = Some(KernelMemory { trampoline_page, frames, space });
    match window {
        Ok(window) => {
            println!(
                "ingot: memory usable={}KiB window={}KiB kernel-free={}KiB identity-end={:#x}",
                usable / KIB,
                window.bytes() / KIB,
                kernel_free / KIB,
                identity_end
            );
            Some(window)
        }
        Err(error) => {
            println!("ingot: no program window: {error:?}");
            None
        }
    }
}
