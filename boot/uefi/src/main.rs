//! Ingot's UEFI loader (`EFI/BOOT/BOOTX64.EFI` on the image's EFI system partition).
//!
//! It reads `\ingot\kernel.bin` (the kernel laid out flat from 1 MiB without its
//! `.bss`) from the partition it was loaded from into zeroed pages allocated at exactly
//! 1 MiB up to the end of `.bss` (the Multiboot header's `bss_end_addr`),
//! `\ingot\cmdline` and the boot program `\ingot\boot.app` if present; takes the GOP framebuffer (current mode) and the ACPI
//! RSDP; exits boot services; turns the UEFI memory map into E820-typed records; and
//! jumps to the kernel's 64-bit loader entry (the quad at 1 MiB + 0x78) with RDI = 4
//! (UEFI), RSI = a PVH `hvm_start_info`, RDX = Ingot's framebuffer record — the same
//! hand-over as the BIOS loader (`docs/architecture.md`).
//!
//! The firmware's page tables stay in place until the kernel's entry installs its own
//! 2 MiB-page identity map, so the loader works whether or not the CPU has 1 GiB pages;
//! the hand-over structures are allocated below 4 GiB, and nothing here depends on
//! where the firmware placed PCI devices (a framebuffer above 4 GiB is passed on; the
//! kernel then reports it cannot map it and stays on serial).
#![no_std]
#![no_main]

mod files;
mod handover;

use core::fmt::Write;

use uefi::prelude::*;

/// Prints on the firmware console (OVMF mirrors it to the serial port).
fn say(text: &str) {
    uefi::system::with_stdout(|out| {
        let _ = out.write_str(text);
    });
}

#[entry]
fn main() -> Status {
    say("ingot-uefi: loading \\ingot\\kernel.bin\r\n");
    let error = match handover::prepare() {
        Ok(prepared) => handover::start_kernel(prepared),
        Err(error) => error,
    };
    say("ingot-uefi: ");
    say(error);
    say("\r\n");
    Status::LOAD_ERROR
}

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
