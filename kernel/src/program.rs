//! Running the boot program and what happens when it returns.

use ingot_bootinfo::{Module, cmdline::ExitMode};
use ingot_platform::program_memory::ProgramMemory;
use spin::Once;

use crate::println;

static WINDOW: Once<ProgramMemory> = Once::new();

/// The program window, once a program is loaded (used by [`crate::api`] to check pointers).
pub fn window() -> Option<&'static ProgramMemory> {
    WINDOW.get()
}

/// Copies the boot module into the window and calls it on the bootstrap core.
pub fn run(window: ProgramMemory, module: Module, api_table: u64, exit: ExitMode) -> ! {
    if let Err(error) = window.load_module(module) {
        println!("ingot: program not loaded: {error:?} ({} bytes)", module.len);
        nothing_to_run(exit);
    }
    let window = WINDOW.call_once(|| window);
    println!("ingot: program loaded bytes={} at {:#x}", module.len, window.base());
    let status = window.run(api_table);
    println!("ingot: program exited status={status}");
    if exit == ExitMode::Qemu {
        ingot_arch::cpu::qemu_debug_exit(status as u8);
    }
    idle()
}

/// No program was given (or it could not be loaded): with `exit=qemu` end QEMU with
/// status 0, otherwise idle. (The monitor shell will run here once it exists.)
pub fn nothing_to_run(exit: ExitMode) -> ! {
    if exit == ExitMode::Qemu {
        ingot_arch::cpu::qemu_debug_exit(0);
    }
    idle()
}

/// Nothing (more) to run: stop the core until an interrupt (none are enabled yet).
pub fn idle() -> ! {
    loop {
        ingot_arch::cpu::wait_for_interrupt();
    }
}
