//! Memory at boot: frames, the kernel heap, the identity map and the program window.
//!
//! The kernel first checks RAM can hold it at all, then keeps a share for itself (its
//! heap, its page tables, the cores' stacks and the storage drivers' rings and buffers,
//! all taken at boot, plus a reserve for later); all the rest becomes the program's
//! window at `ingot_abi::PROGRAM_BASE`, mapped once the drivers have their memory.

use alloc::boxed::Box;
use ingot_bootinfo::{BootInfo, Module, PhysicalMemory};
use ingot_platform::address_space::AddressSpace;
use ingot_platform::frames::{FixedImage, PhysicalFrames};
use ingot_platform::physical::IdentityMemory;
use ingot_platform::program_memory::ProgramMemory;

use ingot_mem::{MemError, RegionKind};
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
    /// RAM set aside for a fixed-address boot program, until the window takes it.
    pub fixed_image: Option<FixedImage>,
}

/// Boxed, so the static is all zeros and lies in `.bss`: an `Option` of the
/// (5 KiB) value itself would be stored in the image.
static KERNEL_MEMORY: Mutex<Option<Box<KernelMemory>>> = Mutex::new(None);

/// Runs `f` with the kernel's memory (`None` before [`init`] finished).
pub fn with_kernel_memory<R>(f: impl FnOnce(&mut KernelMemory) -> R) -> Option<R> {
    KERNEL_MEMORY.lock().as_deref_mut().map(f)
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
/// 64 MiB), for what it allocates once the program runs. The cores' stacks and the
/// storage drivers' rings and buffers are not in it: they are taken at boot, before the
/// window is mapped from what is left, so any number of controllers gets its memory.
fn kernel_reserve_bytes(usable: u64) -> u64 {
    (64 * KIB + usable / 32).min(64 * MIB)
}

/// Free RAM the kernel needs beside its heap before the program window: its first
/// page tables (identity map) and the cores' and drivers' first frames.
const MIN_KERNEL_FRAMES_BYTES: u64 = 128 * KIB;

/// Ends the boot with one fatal line if RAM cannot hold the kernel: the image with its
/// `.bss` must lie in one usable region and the page after it (where Multiboot loaders
/// put their information) must be RAM of any kind — the rule the entry stub
/// (`boot/direct/src/stub.rs`) already enforced from the raw memory map before it used
/// its stack or `.bss`; here it is checked again on the parsed map — and the other
/// usable RAM must hold the heap and the first page tables. (RAM so small that the
/// image's first bytes are missing cannot run any code to say so.)
pub fn check_room(boot: &BootInfo) {
    let (image_start, image_end) = ingot_platform::frames::kernel_image();
    let after_image = image_end.next_multiple_of(4096);
    let covering = boot
        .memory
        .regions_of(RegionKind::Usable)
        .find(|region| region.start <= image_start && image_start < region.end);
    let usable_end = covering.map_or(image_start, |region| region.end);
    let page_after_exists = boot
        .memory
        .regions()
        .iter()
        .any(|region| region.start <= after_image && after_image + 4096 <= region.end);
    if usable_end < image_end || !page_after_exists {
        fatal(format_args!(
            "RAM too small: the kernel needs RAM at {image_start:#x}..{:#x} (its image, .bss \
             and the page after), usable RAM there ends at {usable_end:#x}",
            after_image + 4096
        ));
    }
    let usable = boot.memory.usable_bytes();
    let taken: u64 = (image_end - image_start)
        + boot.modules().iter().map(|module| module.len.next_multiple_of(4096)).sum::<u64>();
    let free = usable.saturating_sub(taken);
    let needed = heap_bytes(usable) + MIN_KERNEL_FRAMES_BYTES;
    if free < needed {
        fatal(format_args!(
            "RAM too small: {}KiB free beside the kernel image and boot modules, the kernel needs {}KiB",
            free / KIB,
            needed / KIB
        ));
    }
}

/// Sets up frames, the kernel heap and the page tables, and activates them. The
/// program window is mapped later, by [`map_program_window`].
pub fn init(boot: &BootInfo) {
    let mut frames = match PhysicalFrames::from_boot_info(boot) {
        Some(Ok(frames)) => frames,
        Some(Err(error)) => fatal(format_args!("memory map unusable: {error}")),
        None => fatal(format_args!("memory initialised twice")),
    };
    let usable = boot.memory.usable_bytes();
    let fixed_image = boot
        .modules()
        .first()
        .and_then(|&module| set_aside_fixed_image(&mut frames, module, usable));
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
    space.activate();
    *KERNEL_MEMORY.lock() =
        Some(Box::new(KernelMemory { trampoline_page, frames, space, fixed_image }));
}

/// A boot module that is a fixed-address executable linked below the program window
/// (plain `musl-gcc -static` links at 0x400000, inside the kernel's identity map) gets
/// the RAM at its own addresses, taken out of free RAM before the kernel allocates
/// anything: so none of the kernel's heap, page tables, stacks or device buffers, nor
/// the window, lies there, and the program runs at the addresses it was linked for
/// with no change to the page tables. Read from the module's first 4 KiB through the
/// boot stub's identity map (the first 4 GiB); the full checks run when it is loaded.
fn set_aside_fixed_image(
    frames: &mut PhysicalFrames,
    module: Module,
    usable: u64,
) -> Option<FixedImage> {
    let mut head = [0u8; 4096];
    let head = &mut head[..module.len.min(4096) as usize];
    if !IdentityMemory.read(module.start, head) {
        return None;
    }
    let (start, end) = ingot_elf::fixed_image_range(head, ingot_abi::PROGRAM_BASE)?;
    let kernel_needs = heap_bytes(usable) + kernel_reserve_bytes(usable) + MIN_KERNEL_FRAMES_BYTES;
    let room = frames.allocator().free_bytes().saturating_sub(kernel_needs);
    let module_end = module.start.saturating_add(module.len);
    let set_aside = if end - start > room {
        Err(format_args!("{}KiB of free RAM is left for it", room / KIB))
    } else if module.start < end && start < module_end {
        Err(format_args!(
            "the boot module itself lies there ({:#x}-{module_end:#x}; a Multiboot loader puts it \
             right after the kernel): boot through PVH (cargo xtask run --pvh)",
            module.start
        ))
    } else {
        frames.set_aside(start, end).map_err(|_| format_args!("that is not all free RAM"))
    };
    match set_aside {
        Ok(image) => {
            println!("ingot: memory {start:#x}-{end:#x} set aside for the fixed-address program");
            Some(image)
        }
        Err(why) => {
            println!(
                "ingot: cannot set aside {start:#x}-{end:#x} for the fixed-address program: {why}"
            );
            None
        }
    }
}

/// Maps all free RAM left after boot (less the kernel's reserve), then the boot
/// module's pages, as the program window; `None` (said on the console) if there is no
/// room for one. Called once the cores and the storage drivers have their memory.
pub fn map_program_window(usable: u64, module: Option<Module>) -> Option<ProgramMemory> {
    let mapped = with_kernel_memory(|memory| {
        let window = ProgramMemory::map_window(
            &mut memory.frames,
            &memory.space,
            kernel_reserve_bytes(usable),
            module,
            memory.fixed_image.take(),
        );
        (window, memory.frames.allocator().free_bytes(), memory.space.identity_end())
    });
    let Some((window, kernel_free, identity_end)) = mapped else {
        println!("ingot: no program window: memory not set up");
        return None;
    };
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
