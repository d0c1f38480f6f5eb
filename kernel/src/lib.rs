//! The Ingot kernel: the init sequence and the glue between the crates.
//!
//! Design rules this crate keeps (see `docs/architecture.md`):
//! - no `unsafe`: what needs it lives in `ingot-arch` and `ingot-platform`;
//! - nothing a program passes in is trusted: [`api`] checks every pointer through
//!   `ingot_platform::program_memory` before use;
//! - no panic on bad input: a malformed loader structure, a missing device or a bad
//!   call argument is reported on the console and handled.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod api;
mod console;
mod faults;
pub mod memory;
mod pci;
mod program;
mod storage;

use core::sync::atomic::{AtomicU64, Ordering};

use ingot_bootinfo::{BootInfo, ParseError, cmdline::KernelOptions};

#[doc(hidden)]
pub fn console_print(args: core::fmt::Arguments<'_>) {
    console::print(args);
}

static USABLE_RAM: AtomicU64 = AtomicU64::new(0);

/// All usable RAM the firmware reported, in bytes.
pub fn usable_ram_bytes() -> u64 {
    USABLE_RAM.load(Ordering::Relaxed)
}

/// The version printed in the banner.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Initialises the machine and runs the boot program, if any.
///
/// `boot` is what the loader told us (or why it could not be read); `api_table` is
/// the address of the native call table handed to programs.
pub fn start(boot: Result<BootInfo, ParseError>, api_table: u64) -> ! {
    console::init();
    println!("Ingot {VERSION}");
    faults::install();
    let boot = match boot {
        Ok(boot) => boot,
        Err(error) => faults::fatal(format_args!("boot information unusable: {error}")),
    };
    let options = KernelOptions::parse(boot.cmdline(), |problem| {
        println!("ingot: cmdline: {problem}");
    });
    if boot.cmdline_truncated {
        println!("ingot: cmdline: longer than the kernel keeps; the end was cut");
    }
    if boot.modules_dropped > 0 {
        println!("ingot: {} extra boot modules ignored", boot.modules_dropped);
    }

    USABLE_RAM.store(boot.memory.usable_bytes(), Ordering::Relaxed);
    let module = boot.modules().first().copied();
    let layout = memory::init(&boot, module);
    // ECAM regions from ACPI MCFG go here once ACPI is parsed; `pci-ecam=` adds one.
    storage::configure(&options);
    storage::init(&storage::ecam_regions(&options));
    println!(
        "ingot: ready cores=1 mem={}MiB boot={}",
        boot.memory.usable_bytes() >> 20,
        boot.protocol.name()
    );
    match (module, layout) {
        (Some(module), Some(window)) => program::run(window, module, api_table, options.exit),
        _ => program::nothing_to_run(options.exit),
    }
}
