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
pub mod api_net;
pub mod compat;
mod console;
mod devices;
mod faults;
mod input;
pub mod irq;
mod linux;
pub mod memory;
mod net;
pub mod pci;
mod power;
mod program;
mod program_load;
pub mod program_run;
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
    compat::set_framebuffer(framebuffer);
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
    let boot = match boot {
        Ok(boot) => boot,
        Err(error) => faults::fatal(format_args!("boot information unusable: {error}")),
    };
    // Before the descriptor tables and their stacks in `.bss` are used: on a machine
    // whose RAM ends inside `.bss` they may not exist.
    memory::check_room(&boot);
    faults::install();
    for notice in boot.cmdline_damage().notices() {
        println!("ingot: cmdline: {notice}");
    }
    let options = KernelOptions::parse(boot.cmdline(), |problem| {
        println!("ingot: cmdline: {problem}");
    });
    if let Some(error) = boot.framebuffer_error {
        println!("ingot: loader's framebuffer record refused ({error:?}); serial only");
    }
    if boot.modules_dropped > 0 {
        println!("ingot: {} extra boot modules ignored", boot.modules_dropped);
    }

    USABLE_RAM.store(boot.memory.usable_bytes(), Ordering::Relaxed);
    let named_module = boot.modules().first().copied();
    let acpi = acpi::discover(boot.rsdp);
    let (timer_ranges, timer_range_count) = time::reference_ports(acpi.as_ref());
    let mut timer_ports = console::device_ports(&timer_ranges[..timer_range_count]);
    if let Some(ports) = timer_ports.as_mut() {
        let (hz, source) = time::calibrate(ports, acpi.as_ref());
        println!("ingot: tsc {} MHz ({source})", hz / 1_000_000);
    }
    power::init(acpi.as_ref());
    memory::init(&boot);
    smp::start_apic_timer_measurement();
    // The module is checked through the kernel's identity map, before any of it is used.
    let refusal = named_module.and_then(program::refuse_module);
    let module = named_module.filter(|_| refusal.is_none());
    // PCI enumeration (BAR sizing) and the drivers' start run while this is the
    // only core: QEMU's multi-threaded TCG can crash when another core's local-APIC
    // writes overlap BAR sizing, and nothing here needs the other cores.
    storage::configure(&options);
    irq::configure(&options);
    let ecam = pci::checked_ecam(devices::ecam_regions(&options, acpi.as_ref()), &boot.memory);
    devices::init(&ecam, &devices::virtio_mmio_devices(&options, acpi.as_ref()));
    input::init(
        acpi.as_ref().and_then(|acpi| acpi.fadt.as_ref()).is_none_or(|fadt| fadt.has_8042()),
    );
    let trampoline = memory::with_kernel_memory(|memory| memory.trampoline_page).flatten();
    let cores = match timer_ports.as_mut() {
        Some(ports) => {
            time::refine(ports);
            smp::init(acpi.as_ref(), trampoline)
        }
        None => 1,
    };
    input::enable_interrupts();
    irq::init(acpi.as_ref());
    let layout = memory::map_program_window(boot.memory.usable_bytes(), module);
    println!(
        "ingot: ready cores={cores} mem={}MiB boot={}",
        boot.memory.usable_bytes() >> 20,
        boot.protocol.name()
    );
    match (named_module, refusal, layout) {
        (None, ..) => program::nothing_to_run(options.exit),
        (Some(_), Some(why), _) => program::not_run(options.exit, format_args!("{why}")),
        (Some(module), None, Some(window)) => {
            let program = ingot_bootinfo::cmdline::split_init(boot.cmdline()).1;
            program::run(window, module, api_table, options.exit, program)
        }
        (Some(_), None, None) => {
            program::not_run(options.exit, format_args!("there is no program window"))
        }
    }
}
