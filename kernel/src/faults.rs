//! What happens when things go wrong: CPU exceptions, panics and fatal boot errors.
//!
//! Every path prints one line a person (or the test harness) can act on, then ends the
//! run: with `isa-debug-exit` present QEMU exits with status [`FAILURE_EXIT`]'s
//! `(v << 1) | 1` = 255; on real hardware the core halts. Nothing ends in a silent
//! triple fault: the double-fault handler runs on its own stack.

use ingot_arch::exceptions::{EXCEPTION_NAMES, Outcome, TrapFrame};

use crate::console::print_emergency;

/// Value written to `isa-debug-exit` on failure (QEMU exit status 255).
pub const FAILURE_EXIT: u8 = 0x7F;

const DOUBLE_FAULT: u64 = 8;
const PAGE_FAULT: u64 = 14;
const NMI: u64 = 2;

/// Routes CPU exceptions to [`report_exception`] and loads the descriptor tables.
pub fn install() {
    ingot_arch::exceptions::set_handler(report_exception);
    ingot_platform::cpu_tables::load_on_bootstrap_core();
}

fn report_exception(frame: &TrapFrame) -> Outcome {
    if frame.vector == NMI
        && let Some(outcome) = crate::compat::reset_nmi(frame.rip)
    {
        return outcome;
    }
    let name = EXCEPTION_NAMES.get(frame.vector as usize).copied().unwrap_or("unknown");
    let core = ingot_arch::cpu::features().apic_id;
    let fault_address =
        if frame.vector == PAGE_FAULT { Some(ingot_arch::cpu::read_cr2()) } else { None };
    // A stack that overflowed into its guard page faults there; the CPU then cannot
    // push the page fault's frame either, so this usually arrives as a double fault
    // (on its own stack) with CR2 still holding the guard-page address.
    let last_fault = ingot_arch::cpu::read_cr2();
    let overflow = (frame.vector == PAGE_FAULT || frame.vector == DOUBLE_FAULT)
        && ingot_platform::guard_pages::is_guard(last_fault);
    if overflow {
        print_emergency(format_args!(
            "ingot: exception stack overflow core={core} addr={last_fault:#x}\n"
        ));
    }
    print_emergency(format_args!(
        "ingot: exception {name} rip={:#x} err={:#x}",
        frame.rip, frame.error_code
    ));
    if let Some(address) = fault_address {
        print_emergency(format_args!(" cr2={address:#x}"));
    }
    print_emergency(format_args!(" core={core}\n"));
    print_emergency(format_args!(
        "  rax={:016x} rbx={:016x} rcx={:016x} rdx={:016x}\n  rsi={:016x} rdi={:016x} rbp={:016x} rsp={:016x}\n",
        frame.rax, frame.rbx, frame.rcx, frame.rdx, frame.rsi, frame.rdi, frame.rbp, frame.rsp
    ));
    print_emergency(format_args!(
        "  r8={:016x} r9={:016x} r10={:016x} r11={:016x}\n  r12={:016x} r13={:016x} r14={:016x} r15={:016x}\n",
        frame.r8, frame.r9, frame.r10, frame.r11, frame.r12, frame.r13, frame.r14, frame.r15
    ));
    let [cr0, cr3, cr4] = ingot_arch::cpu::control_registers();
    print_emergency(format_args!(
        "  rflags={:x} cs={:x} ss={:x} cr0={cr0:x} cr3={cr3:x} cr4={cr4:x}\n",
        frame.rflags, frame.cs, frame.ss
    ));
    let recoverable = RECOVERABLE.contains(&frame.vector);
    if recoverable && ingot_arch::program::fault_is_recoverable(frame.rip) {
        // A program started with `program_run` faulted: the exception return lands
        // back in the kernel's call, which reports the fault to the caller.
        return Outcome::Resume;
    }
    if recoverable && crate::program::fault_ends_program(frame.rip) {
        print_emergency(format_args!(
            "ingot: program faulted: {name} at rip={:#x}; the program is ended, the kernel goes on\n",
            frame.rip
        ));
        return Outcome::EndProgram(crate::program::FAULT_STATUS);
    }
    stop();
}

/// Exceptions a program's own instruction raises (not NMI, double fault or machine
/// check, which say nothing about the program and leave the core in doubt).
const RECOVERABLE: [u64; 12] = [0, 1, 3, 4, 5, 6, 7, 13, 14, 16, 17, 19];

/// Reports an error the kernel cannot continue after, and ends the run.
pub fn fatal(args: core::fmt::Arguments<'_>) -> ! {
    print_emergency(format_args!("ingot: fatal: {args}\n"));
    stop()
}

fn stop() -> ! {
    ingot_arch::cpu::qemu_debug_exit(FAILURE_EXIT);
    ingot_arch::cpu::halt_forever()
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    print_emergency(format_args!("ingot: panic: {}", info.message()));
    if let Some(location) = info.location() {
        print_emergency(format_args!(" at {}:{}", location.file(), location.line()));
    }
    print_emergency(format_args!("\n"));
    stop()
}
