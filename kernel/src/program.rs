//! Running the boot program and what happens when it returns.

use ingot_bootinfo::{Module, PhysicalMemory, cmdline::ExitMode};
use ingot_platform::physical::IdentityMemory;
use ingot_platform::program_memory::ProgramMemory;
use spin::Once;

use crate::println;

static WINDOW: Once<ProgramMemory> = Once::new();

/// The program window, once a program is loaded (used by [`crate::api`] to check pointers).
pub fn window() -> Option<&'static ProgramMemory> {
    WINDOW.get()
}

/// Runs a program task (queue task or per-core assignment) on the calling core.
pub fn run_task(entry: u64, argument: u64) {
    match window() {
        Some(window) => {
            if window.run_task(entry, argument).is_err() {
                println!("ingot: task entry {entry:#x} is outside the program; not run");
            }
        }
        None => println!("ingot: task without a program; not run"),
    }
}

/// The first bytes of an ELF file.
const ELF_MAGIC: [u8; 4] = [0x7F, b'E', b'L', b'F'];

/// Why a boot module that was named cannot run, checked before any of it is used
/// (after the kernel's identity map is built, so the module can be read wherever RAM is).
pub fn refuse_module(module: Module) -> Option<&'static str> {
    let mut first_bytes = [0u8; ELF_MAGIC.len()];
    let count = module.len.min(first_bytes.len() as u64) as usize;
    if !IdentityMemory.read(module.start, &mut first_bytes[..count]) {
        return Some("the boot module lies outside the memory the kernel can read");
    }
    if module.len == 0 {
        return Some("the boot module is empty (0 bytes)");
    }
    if first_bytes.starts_with(&ELF_MAGIC) {
        return Some("the boot module is an ELF file; ELF programs are not supported yet");
    }
    None
}

/// Copies the boot module into the window and calls it on the bootstrap core.
pub fn run(window: ProgramMemory, module: Module, api_table: u64, exit: ExitMode) -> ! {
    if let Err(error) = window.load_module(module) {
        not_run(exit, format_args!("cannot load it: {error:?} ({} bytes)", module.len));
    }
    let window = WINDOW.call_once(|| window);
    println!("ingot: program loaded bytes={} at {:#x}", module.len, window.base());
    let status = window.run(api_table);
    println!("ingot: program exited status={status}");
    finish(exit, Some(status))
}

/// What happens when there is nothing more to run, per `exit=`.
fn finish(exit: ExitMode, status: Option<u64>) -> ! {
    match exit {
        ExitMode::Qemu => ingot_arch::cpu::qemu_debug_exit(status.unwrap_or(0) as u8),
        ExitMode::Reboot => crate::power::reboot(),
        ExitMode::Shutdown => crate::power::shutdown(),
        ExitMode::Stay => {}
    }
    idle()
}

/// No program was named: with `exit=qemu` end QEMU with status 0 (as if a program
/// returned 0: the boot itself succeeded), otherwise per `exit=`. (The monitor shell
/// is a program like any other: `cargo xtask run` passes it as the boot module.)
pub fn nothing_to_run(exit: ExitMode) -> ! {
    finish(exit, None)
}

/// A program was named but never ran: says why in one line, then with `exit=qemu` ends
/// QEMU with the kernel's failure status (255), never the status of a program that
/// returned; otherwise per `exit=`.
pub fn not_run(exit: ExitMode, why: core::fmt::Arguments<'_>) -> ! {
    println!("ingot: program not run: {why}");
    if exit == ExitMode::Qemu {
        ingot_arch::cpu::qemu_debug_exit(crate::faults::FAILURE_EXIT);
    }
    finish(exit, None)
}

/// Nothing (more) to run: stop the core until an interrupt (none are enabled yet).
pub fn idle() -> ! {
    loop {
        ingot_arch::cpu::wait_for_interrupt();
    }
}
