//! Running the boot program and what happens when it returns.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use alloc::vec::Vec;
use ingot_arch::percpu::ThisCore;
use ingot_bootinfo::cmdline::{ExitMode, program_words};
use ingot_bootinfo::{Module, PhysicalMemory};
use ingot_platform::physical::IdentityMemory;
use ingot_platform::program_memory::ProgramMemory;
use spin::Once;

use crate::println;

static WINDOW: Once<ProgramMemory> = Once::new();

/// The program window, once a program is loaded (used by [`crate::api`] to check pointers).
pub fn window() -> Option<&'static ProgramMemory> {
    WINDOW.get()
}

/// Status of a program ended by a fault in its own code.
pub const FAULT_STATUS: u64 = 255;

/// Set when the running program was ended by a fault.
static FAULTED: AtomicBool = AtomicBool::new(false);
/// Program tasks the bootstrap core is running inside a kernel call (`group_wait`,
/// `task_run_one`): a fault in one of them cannot end the program cleanly. Only the
/// bootstrap core changes and reads it (its fault handler included), so plain loads
/// and stores suffice.
static NESTED_TASKS: AtomicU32 = AtomicU32::new(0);

/// The tag of the program that is running (0: none). Every work-queue task carries the
/// tag of the program that submitted it, and runs only while that program is the
/// current one: a program started with `program_run` gets a new tag until it returns
/// (its caller's image is parked meanwhile, so the caller's code is not where its
/// tasks point), and when the boot program returns nothing is current.
static CURRENT_PROGRAM: AtomicU32 = AtomicU32::new(0);
/// The tag the next program gets.
static NEXT_PROGRAM: AtomicU32 = AtomicU32::new(1);
/// The tag of the program whose tasks were last dropped, so that is said once.
static DROPPED_PROGRAM: AtomicU32 = AtomicU32::new(0);

/// The running program's tag, for the tasks it submits.
#[inline]
pub fn current_program() -> u32 {
    CURRENT_PROGRAM.load(Ordering::Acquire)
}

/// A new program starts running: gives it a tag of its own and returns the tag of
/// the one it interrupts, for [`resume_program`] when it returns.
pub fn begin_program() -> u32 {
    let tag = NEXT_PROGRAM.fetch_add(1, Ordering::Relaxed);
    CURRENT_PROGRAM.swap(tag, Ordering::AcqRel)
}

/// The program that `begin_program` interrupted (tag `previous`) runs again.
pub fn resume_program(previous: u32) {
    CURRENT_PROGRAM.store(previous, Ordering::Release);
}

/// Runs a work-queue task of program `program` on the calling core, if that program
/// is still the current one. Its entry was checked against the program's memory when
/// it was submitted (`api_cores::task_submit`), and the program's memory only
/// changes under it when another program starts (`program_run`) or it ends, both of
/// which change the current tag; so the tag comparison is what stands in for a second
/// full check here (the call itself still makes sure it lands in program memory).
/// `here` is the calling core (tasks run only on cores with a block: every started
/// core installs its own first, the bootstrap core has one before it enters the
/// program). Called inside [`as_nested_tasks`] (or through [`run_queued_task_alone`]).
#[inline(always)]
pub fn run_queued_task(here: ThisCore, entry: u64, argument: u64, program: u32) {
    if program != current_program() {
        if DROPPED_PROGRAM.swap(program, Ordering::Relaxed) != program {
            println!("ingot: tasks of a program that is no longer running are dropped");
        }
        return;
    }
    let Some(window) = window() else { return };
    if window.run_task(entry, argument, here).is_err() {
        println!("ingot: task entry {entry:#x} is outside the program; not run");
    }
}

/// [`run_queued_task`] of a task run on its own, counted as a nested task itself.
#[inline(always)]
pub fn run_queued_task_alone(here: ThisCore, entry: u64, argument: u64, program: u32) {
    // Not `as_nested_tasks`: through its closure the one-task path measured 23 guest
    // instructions longer (the latency sample in `bench smp`).
    let bootstrap = here.index() == 0;
    if bootstrap {
        NESTED_TASKS.store(NESTED_TASKS.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }
    run_queued_task(here, entry, argument, program);
    if bootstrap {
        NESTED_TASKS.store(NESTED_TASKS.load(Ordering::Relaxed) - 1, Ordering::Relaxed);
    }
}

/// Runs `tasks`, queued tasks run by [`run_queued_task`] and the kernel's bookkeeping
/// between them, counted as nested tasks on the bootstrap core. One count for a batch
/// says what one per task would: the program code that can fault meanwhile on this
/// core is only ever one of the tasks (the kernel's code between them is not the
/// program's).
#[inline(always)]
pub fn as_nested_tasks<R>(here: ThisCore, tasks: impl FnOnce() -> R) -> R {
    let bootstrap = here.index() == 0;
    if bootstrap {
        NESTED_TASKS.store(NESTED_TASKS.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }
    let result = tasks();
    if bootstrap {
        NESTED_TASKS.store(NESTED_TASKS.load(Ordering::Relaxed) - 1, Ordering::Relaxed);
    }
    result
}

/// Runs a per-core assignment (native or BareMetal's `SMP_SET`, see `compat`) on the
/// calling core.
pub fn run_task(entry: u64, argument: u64) {
    let Some(here) = ingot_arch::percpu::this_core() else {
        println!("ingot: task on a core without its block; not run");
        return;
    };
    as_nested_tasks(here, || match window() {
        Some(window) => {
            let ran = match crate::compat::decode_task(entry) {
                Some(address) => crate::compat::run_task(window, address),
                None => window.run_task(entry, argument, here).is_ok(),
            };
            if !ran {
                println!("ingot: task entry {entry:#x} is outside the program; not run");
            }
        }
        None => println!("ingot: task without a program; not run"),
    });
}

/// Whether a fault at `rip` can end the program and leave the kernel running: the
/// faulting code is the program's own, on the bootstrap core that runs it, and no
/// kernel call is in progress below it. Marks the program as faulted if so.
pub fn fault_ends_program(rip: u64) -> bool {
    let in_program = window().is_some_and(|window| window.check_range(rip, 1).is_ok());
    let ends = in_program
        && ingot_arch::program::running()
        && crate::smp::current_core() == 0
        && NESTED_TASKS.load(Ordering::Relaxed) == 0;
    if ends {
        FAULTED.store(true, Ordering::Relaxed);
    }
    ends
}

/// Why a boot module that was named cannot run, checked before any of it is used
/// (after the kernel's identity map is built, so the module can be read wherever RAM is).
pub fn refuse_module(module: Module) -> Option<&'static str> {
    let mut first_bytes = [0u8; 4];
    let count = module.len.min(first_bytes.len() as u64) as usize;
    if !IdentityMemory.read(module.start, &mut first_bytes[..count]) {
        return Some("the boot module lies outside the memory the kernel can read");
    }
    if module.len == 0 {
        return Some("the boot module is empty (0 bytes)");
    }
    None
}

/// Copies the boot module into the window, prepares it (ELF placement, start stack with
/// the words of `init=`, `program` here) and calls it on the bootstrap core.
pub fn run(
    window: ProgramMemory,
    module: Module,
    api_table: u64,
    exit: ExitMode,
    program: Option<&str>,
) -> ! {
    if let Err(error) = window.load_module(module) {
        not_run(exit, format_args!("cannot load it: {error:?} ({} bytes)", module.len));
    }
    let window = WINDOW.call_once(|| window);
    println!("ingot: program loaded bytes={} at {:#x}", module.len, window.base());
    let mut args: Vec<&str> = program.map(|text| program_words(text).collect()).unwrap_or_default();
    if args.is_empty() {
        args.push("init");
    }
    let prepared = match crate::program_load::prepare(window, module.len, &args, api_table) {
        Ok(prepared) => prepared,
        Err(error) => not_run(exit, format_args!("{error}")),
    };
    let start = prepared.start;
    begin_program();
    let status = match window.run(
        api_table,
        prepared.entry,
        (start.argc, start.argv),
        start.pointer,
        prepared.convention,
    ) {
        Ok(status) => status,
        Err(error) => not_run(exit, format_args!("cannot enter it: {error:?}")),
    };
    // Idle cores must not call into a program that has returned, nor run its tasks.
    crate::compat::clear_callbacks();
    resume_program(0);
    // Nor may a disk go on moving data into its memory.
    crate::storage::settle(window);
    crate::storage::report();
    if FAULTED.load(Ordering::Relaxed) {
        println!("ingot: program ended by a fault status={status}");
    } else {
        println!("ingot: program exited status={status}");
    }
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
