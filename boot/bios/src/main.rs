//! Ingot's BIOS loader: a 512-byte boot sector and a second stage, in 16-bit assembly.
//!
//! The image builder (`tools/mkimage`) writes the boot sector's first 446 bytes into
//! the protective MBR and stage 2 from LBA 34. The boot sector ([`boot_sector`])
//! reads stage 2 with INT 13h extensions and jumps to it; stage 2 ([`stage2`]) finds
//! Ingot's BMFS partition in the GPT, loads `kernel.bin`, `cmdline` and `boot.app` from it, takes
//! the E820 map and (optionally) a VBE linear framebuffer, enables A20, goes straight
//! from real mode to long mode and calls the kernel's 64-bit loader entry with a PVH
//! `hvm_start_info`, exactly as the UEFI loader does (`docs/architecture.md`).
//!
//! Low memory while it runs: page tables 0x1000–0x3FFF, start info 0x5000, framebuffer
//! info 0x5100, command line 0x5200–0x55FF, E820 records 0x6000–0x6BFF, stack below
//! 0x7C00, boot sector 0x7C00, stage 2 0x7E00–0xBFFF, disk buffer 0xC000–0xDFFF,
//! `kernel.bin` staged at 0x20000–0x6FFFF before the copy to 1 MiB, `boot.app` (the
//! boot program) at 0x70000–0x8FFFF, module list entry at 0x5040. (Loading above
//! 1 MiB from real mode, e.g. through unreal mode, would lift these limits.)
//!
//! Rust only provides the container: the crate is built for `x86_64-unknown-none`,
//! linked by `linker.ld` and turned into a flat binary by `xtask`.
#![no_std]
#![no_main]

mod boot_sector;
mod stage2;
mod vbe;

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
