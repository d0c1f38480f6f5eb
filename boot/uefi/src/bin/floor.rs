//! The UEFI benchmark floor: an EFI application that prints `ingot: ready` on the
//! firmware console at once and halts, so `cargo xtask bench boot` can measure what
//! OVMF itself takes to start `BOOTX64.EFI` under the same QEMU flags.
#![no_std]
#![no_main]

use core::fmt::Write;

use uefi::prelude::*;

#[entry]
fn main() -> Status {
    uefi::system::with_stdout(|out| {
        let _ = out.write_str("\r\ningot: ready\r\n");
    });
    loop {
        core::hint::spin_loop();
    }
}

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
