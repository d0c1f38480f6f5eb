//! Loading the kernel, collecting what it needs and handing the machine over.
//!
//! Hand-over page (4 pages below 4 GiB, `LOADER_DATA`): PVH `hvm_start_info` at 0,
//! the module entry for `\ingot\boot.app` (the boot program, if present) at 0x60,
//! Ingot framebuffer record at 0x80, command line at 0x100 (≤ 1023 bytes + NUL),
//! E820-typed memory map (24-byte records) from 0x1000.

use uefi::boot::{self, AllocateType, MemoryType};
use uefi::cstr16;
use uefi::mem::memory_map::MemoryMap;
use uefi::proto::console::gop::{GraphicsOutput, PixelFormat};
use uefi::proto::media::file::RegularFile;
use uefi::table::cfg::ConfigTableEntry;

use crate::{files, say};

const PAGE: usize = 4096;
const KERNEL_BASE: u64 = 0x10_0000;
const KERNEL_MAX_BYTES: u64 = 64 << 20;
/// The kernel header's bytes before the API table; the image length is at 0x70 and
/// the checksum at 0x74.
const HEADER_BYTES: u64 = 0x88;
const IMAGE_LENGTH_AT: usize = 0x70;
/// The Multiboot header in the kernel header: magic, flags, checksum, then the a.out
/// addresses `header_addr`, `load_addr`, `load_end_addr` (`__data_end`) and
/// `bss_end_addr` (`__image_end`) at +0x0C..+0x1C.
const MULTIBOOT_AT: usize = 0x50;
const MULTIBOOT_MAGIC: u64 = 0x1BAD_B002;
const HANDOVER_PAGES: usize = 4;
const MODULE_AT: usize = 0x60;
const FRAMEBUFFER_AT: usize = 0x80;
const PROGRAM_MAX_BYTES: u64 = 256 << 20;
const CMDLINE_AT: usize = 0x100;
const CMDLINE_MAX: usize = 1023;
const MEMMAP_AT: usize = 0x1000;
const MEMMAP_MAX: usize = (HANDOVER_PAGES * PAGE - MEMMAP_AT) / 24;
const PVH_MAGIC: u32 = 0x336E_C578;
const PROTOCOL_UEFI: u64 = 4;

/// Everything ready except the exit from boot services.
pub struct Prepared {
    entry: u64,
    handover: &'static mut [u8],
    framebuffer: bool,
}

fn put(buffer: &mut [u8], at: usize, bytes: &[u8]) {
    buffer[at..at + bytes.len()].copy_from_slice(bytes);
}

/// Pages at a fixed or bounded address, as a zeroed byte slice.
fn allocate(kind: AllocateType, memory: MemoryType, pages: usize) -> Option<&'static mut [u8]> {
    let base = boot::allocate_pages(kind, memory, pages).ok()?;
    // SAFETY: the firmware just gave us `pages` whole pages at `base`, identity-mapped
    // (UEFI runs with an identity map), owned by no one else, and never freed.
    let slice = unsafe { core::slice::from_raw_parts_mut(base.as_ptr(), pages * PAGE) };
    slice.fill(0);
    Some(slice)
}

/// Loads the kernel and fills the hand-over page; boot services are still available.
pub fn prepare() -> Result<Prepared, &'static str> {
    let handover =
        allocate(AllocateType::MaxAddress(0xFFFF_FFFF), MemoryType::LOADER_DATA, HANDOVER_PAGES)
            .ok_or("no memory below 4 GiB for the boot information")?;
    let entry = {
        let mut root = files::root()?;
        let mut kernel = files::open(&mut root, cstr16!("ingot\\kernel.bin"))
            .ok_or("\\ingot\\kernel.bin not found on the EFI system partition")?;
        let size = files::size(&mut kernel).map_err(|_| "cannot read kernel.bin's size")?;
        if !(HEADER_BYTES..=KERNEL_MAX_BYTES).contains(&size) {
            return Err("kernel.bin is shorter than its header or larger than 64 MiB");
        }
        let memory_bytes = image_memory_bytes(&mut kernel, size)?;
        let size = size as usize;
        let image = allocate(
            AllocateType::Address(KERNEL_BASE),
            MemoryType::LOADER_CODE,
            memory_bytes.div_ceil(PAGE),
        )
        .ok_or("the memory at 1 MiB is not free for the kernel and its .bss")?;
        if files::read(&mut kernel, &mut image[..size]) != Ok(size) {
            return Err("disk read error while reading kernel.bin");
        }
        let entry = u64::from_le_bytes(image[0x78..0x80].try_into().unwrap_or_default());
        if &image[0x80..0x88] != b"INGOTAPI" || entry == 0 {
            return Err("kernel.bin has no Ingot header with a loader entry");
        }
        if !is_whole_image(&image[..size]) {
            return Err("kernel.bin truncated or corrupt");
        }
        if let Some(mut cmdline) = files::open(&mut root, cstr16!("ingot\\cmdline")) {
            let room = &mut handover[CMDLINE_AT..CMDLINE_AT + CMDLINE_MAX];
            let len = files::read(&mut cmdline, room)
                .map_err(|_| "disk read error while reading cmdline")?;
            handover[CMDLINE_AT + len] = 0;
            if len > 0 {
                put(handover, 24, &(handover.as_ptr() as u64 + CMDLINE_AT as u64).to_le_bytes());
            }
        }
        if let Some(mut program) = files::open(&mut root, cstr16!("ingot\\boot.app")) {
            load_program(&mut program, handover)?;
        }
        entry
    };
    let rsdp = uefi::system::with_config_table(|tables| {
        let find = |guid| tables.iter().find(|t: &&ConfigTableEntry| t.guid == guid);
        find(ConfigTableEntry::ACPI2_GUID)
            .or_else(|| find(ConfigTableEntry::ACPI_GUID))
            .map(|t| t.address as u64)
    });
    put(handover, 32, &rsdp.unwrap_or(0).to_le_bytes());
    let framebuffer = write_framebuffer(&mut handover[FRAMEBUFFER_AT..FRAMEBUFFER_AT + 40]);
    Ok(Prepared { entry, handover, framebuffer })
}

/// How many bytes from 1 MiB the kernel occupies once running: up to the end of its
/// `.bss`, the Multiboot header's `bss_end_addr` (`kernel.bin` stops before `.bss`,
/// which the kernel's entry zeroes). Allocating all of it keeps every later
/// allocation, and so every hand-over structure, out of the range the entry zeroes.
fn image_memory_bytes(kernel: &mut RegularFile, file_bytes: u64) -> Result<usize, &'static str> {
    let mut header = [0u8; MULTIBOOT_AT + 0x20];
    let read = files::read(kernel, &mut header);
    kernel.set_position(0).map_err(|_| "disk read error while reading kernel.bin")?;
    if read != Ok(header.len()) {
        return Err("disk read error while reading kernel.bin");
    }
    let field = |at: usize| {
        let at = MULTIBOOT_AT + at;
        u32::from_le_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]]) as u64
    };
    let (magic, load_addr, load_end, bss_end) = (field(0), field(16), field(20), field(24));
    if magic != MULTIBOOT_MAGIC
        || load_addr != KERNEL_BASE
        || KERNEL_BASE + file_bytes > load_end
        || load_end > bss_end
        || bss_end - KERNEL_BASE > KERNEL_MAX_BYTES
    {
        return Err("kernel.bin's Multiboot header does not describe the file and its .bss");
    }
    Ok((bss_end - KERNEL_BASE) as usize)
}

/// Whether `image` is all of `kernel.bin`: its header's length field is its size (a
/// multiple of 4) and its little-endian `u32` words sum to zero (the checksum
/// `cargo xtask build` writes at 0x74).
fn is_whole_image(image: &[u8]) -> bool {
    let length = image
        .get(IMAGE_LENGTH_AT..IMAGE_LENGTH_AT + 4)
        .and_then(|field| field.try_into().ok())
        .map(u32::from_le_bytes);
    let sum = image
        .as_chunks::<4>()
        .0
        .iter()
        .fold(0u32, |sum, word| sum.wrapping_add(u32::from_le_bytes(*word)));
    length == Some(image.len() as u32) && image.len().is_multiple_of(4) && sum == 0
}

/// Reads the boot program into pages below 4 GiB and lists it as the PVH module.
fn load_program(
    program: &mut uefi::proto::media::file::RegularFile,
    handover: &mut [u8],
) -> Result<(), &'static str> {
    let size = files::size(program).map_err(|_| "cannot read boot.app's size")?;
    let base = handover.as_ptr() as u64;
    put(handover, 12, &1u32.to_le_bytes());
    put(handover, 16, &(base + MODULE_AT as u64).to_le_bytes());
    if size == 0 {
        // Passed on as an empty module: the kernel refuses it with its failure status.
        put(handover, MODULE_AT, &base.to_le_bytes());
        return Ok(());
    }
    if size > PROGRAM_MAX_BYTES {
        return Err("boot.app is larger than 256 MiB");
    }
    let size = size as usize;
    let pages = size.div_ceil(PAGE);
    let memory = allocate(AllocateType::MaxAddress(0xFFFF_FFFF), MemoryType::LOADER_DATA, pages)
        .ok_or("no memory below 4 GiB for boot.app")?;
    if files::read(program, &mut memory[..size]) != Ok(size) {
        return Err("disk read error while reading boot.app");
    }
    put(handover, MODULE_AT, &(memory.as_ptr() as u64).to_le_bytes());
    put(handover, MODULE_AT + 8, &(size as u64).to_le_bytes());
    Ok(())
}

/// Describes the GOP's current mode in Ingot's framebuffer record; false if there is
/// no GOP or it has no linear framebuffer.
fn write_framebuffer(record: &mut [u8]) -> bool {
    let Ok(handle) = boot::get_handle_for_protocol::<GraphicsOutput>() else { return false };
    let Ok(mut gop) = boot::open_protocol_exclusive::<GraphicsOutput>(handle) else { return false };
    let mode = gop.current_mode_info();
    let (red, green, blue) = match mode.pixel_format() {
        PixelFormat::Rgb => (0u8, 8u8, 16u8),
        PixelFormat::Bgr => (16, 8, 0),
        PixelFormat::Bitmask => match mode.pixel_bitmask() {
            Some(m) => (
                m.red.trailing_zeros() as u8,
                m.green.trailing_zeros() as u8,
                m.blue.trailing_zeros() as u8,
            ),
            None => return false,
        },
        PixelFormat::BltOnly => return false,
    };
    let (width, height) = mode.resolution();
    let address = gop.frame_buffer().as_mut_ptr() as u64;
    put(record, 0, b"IFB1");
    put(record, 4, &40u32.to_le_bytes());
    put(record, 8, &address.to_le_bytes());
    put(record, 16, &(width as u32).to_le_bytes());
    put(record, 20, &(height as u32).to_le_bytes());
    put(record, 24, &(mode.stride() as u32 * 4).to_le_bytes());
    put(record, 28, &32u32.to_le_bytes());
    put(record, 32, &[red, green, blue, 0]);
    true
}

/// E820 type for a UEFI memory type: what boot services and this loader used is free
/// RAM once the kernel runs (it copies everything it keeps before allocating).
fn e820_type(kind: MemoryType) -> u32 {
    match kind {
        MemoryType::CONVENTIONAL
        | MemoryType::BOOT_SERVICES_CODE
        | MemoryType::BOOT_SERVICES_DATA
        | MemoryType::LOADER_CODE
        | MemoryType::LOADER_DATA => 1,
        MemoryType::ACPI_RECLAIM => 3,
        MemoryType::ACPI_NON_VOLATILE => 4,
        MemoryType::UNUSABLE => 5,
        MemoryType::PERSISTENT_MEMORY => 7,
        _ => 2,
    }
}

/// Exits boot services and jumps to the kernel; returns only an error message.
pub fn start_kernel(prepared: Prepared) -> &'static str {
    say("ingot-uefi: starting the kernel\r\n");
    let Prepared { entry, handover, framebuffer } = prepared;
    // SAFETY: every protocol this loader opened has been closed (their scopes ended in
    // `prepare`), and nothing below calls boot services.
    let map = unsafe { boot::exit_boot_services(None) };
    let mut count = 0usize;
    let mut last: Option<(u64, u64, u32)> = None;
    let flush = |handover: &mut [u8], region: (u64, u64, u32), count: &mut usize| {
        if *count < MEMMAP_MAX {
            let at = MEMMAP_AT + *count * 24;
            put(handover, at, &region.0.to_le_bytes());
            put(handover, at + 8, &region.1.to_le_bytes());
            put(handover, at + 16, &region.2.to_le_bytes());
            *count += 1;
        }
    };
    for descriptor in map.entries() {
        let (start, len, kind) =
            (descriptor.phys_start, descriptor.page_count * PAGE as u64, e820_type(descriptor.ty));
        match last {
            Some((s, l, k)) if k == kind && s + l == start => last = Some((s, l + len, k)),
            Some(region) => {
                flush(handover, region, &mut count);
                last = Some((start, len, kind));
            }
            None => last = Some((start, len, kind)),
        }
    }
    if let Some(region) = last {
        flush(handover, region, &mut count);
    }
    let base = handover.as_ptr() as u64;
    put(handover, 0, &PVH_MAGIC.to_le_bytes());
    put(handover, 4, &1u32.to_le_bytes());
    put(handover, 40, &(base + MEMMAP_AT as u64).to_le_bytes());
    put(handover, 48, &(count as u32).to_le_bytes());
    let framebuffer = if framebuffer { base + FRAMEBUFFER_AT as u64 } else { 0 };
    // SAFETY: boot services are gone and the machine is ours; the kernel image is at
    // 1 MiB (identity-mapped by the firmware's tables, LOADER_CODE so executable) and
    // `entry` is its 64-bit loader entry, which takes exactly these three registers and
    // never returns.
    unsafe {
        core::arch::asm!(
            "cli",
            "jmp {entry}",
            entry = in(reg) entry,
            in("rdi") PROTOCOL_UEFI,
            in("rsi") base,
            in("rdx") framebuffer,
            options(noreturn)
        )
    }
}
