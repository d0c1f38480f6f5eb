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

mod acpi;
pub mod api;
pub mod api_cores;
mod console;
mod faults;
pub mod memory;
mod pci;
mod power;
mod program;
mod smp;
mod storage;
mod time;

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
    let framebuffer = boot.as_ref().ok().and_then(|boot| boot.framebuffer);
    let screen = framebuffer.map(|fb| console::attach_framebuffer(&fb));
    println!("Ingot {VERSION}");
    match (framebuffer, screen) {
        (Some(fb), Some(Ok((columns, rows)))) => println!(
            "ingot: screen {}x{} at {:#x}, console {columns}x{rows}",
            fb.width, fb.height, fb.address
        ),
        (Some(fb), Some(Err(error))) => {
            println!("ingot: screen at {:#x} unusable ({error:?}); serial only", fb.address)
        }
        _ => {}
    }
    faults::install();
    let boot = match boot {
        Ok(boot) => boot,
        Err(error) => faults::fatal(format_args!("boot information unusable: {error}")),
    };
    let options = KernelOptions::parse(boot.cmdline(), |problem| {
        println!("ingot: cmdline: {problem}");
    });
    if let Some(error) = boot.framebuffer_error {
        println!("ingot: loader's framebuffer record refused ({error:?}); serial only");
    }
    if boot.cmdline_truncated {
        println!("ingot: cmdline: longer than the kernel keeps; the end was cut");
    }
    if boot.modules_dropped > 0 {
        println!("ingot: {} extra boot modules ignored", boot.modules_dropped);
    }

    USABLE_RAM.store(boot.memory.usable_bytes(), Ordering::Relaxed);
    let module = boot.modules().first().copied();
    let mut timer_ports = console::pit_ports();
    if let Some(ports) = timer_ports.as_mut() {
        let (hz, source) = time::calibrate(ports);
        println!("ingot: tsc {} MHz ({source:?})", hz / 1_000_000);
    }
    let acpi = acpi::discover(boot.rsdp);
    power::init(acpi.as_ref());
    let layout = memory::init(&boot, module, smp::usable_cores(acpi.as_ref()));
    let trampoline = memory::with_kernel_memory(|memory| memory.trampoline_page).flatten();
    let cores = match timer_ports {
        Some(_) => smp::init(acpi.as_ref(), trampoline),
        None => 1,
    };
    storage::configure(&options);
    storage::init(&storage::ecam_regions(&options, acpi.as_ref()));
    println!(
        "ingot: ready cores={cores} mem={}MiB boot={}",
        boot.memory.usable_bytes() >> 20,
        boot.protocol.name()
    );
    match (module, layout) {
        (Some(module), Some(window)) => program::run(window, module, api_table, options.exit),
        _ => program::nothing_to_run(options.exit),
    }
}
