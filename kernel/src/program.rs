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

/// Copies the boot module into the window and calls it on the bootstrap core.
pub fn run(window: ProgramMemory, module: Module, api_table: u64, exit: ExitMode) -> ! {
    if let Err(error) = window.load_module(module) {
        println!("ingot: program not loaded: {error:?} ({} bytes)", module.len);
        nothing_to_run(exit);
    }
    let window = WINDOW.call_once(|| window);
    println!("ingot: program loaded bytes={} at {:#x}", module.len, window.base());
    match window.run(api_table) {
        Ok(status) => {
            println!("ingot: program exited status={status}");
            finish(exit, Some(status))
        }
        Err(error) => {
            println!("ingot: program not run: this core has no per-core block ({error:?})");
            nothing_to_run(exit)
        }
    }
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

/// No program was given (or it could not be loaded): with `exit=qemu` end QEMU with
/// status 0, otherwise idle. (The monitor shell will run here once it exists.)
pub fn nothing_to_run(exit: ExitMode) -> ! {
    finish(exit, None)
}

/// Nothing (more) to run: stop the core until an interrupt (none are enabled yet).
pub fn idle() -> ! {
    loop {
        ingot_arch::cpu::wait_for_interrupt();
    }
}
