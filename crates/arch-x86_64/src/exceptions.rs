//! Entry stubs for the 32 CPU exception vectors and the saved-register frame.
//!
//! Each stub pushes a uniform frame (a zero error code where the CPU pushes none, then
//! the vector number and all general registers) and calls the handler the kernel
//! registered with [`set_handler`]. The kernel's handler reports and ends the run; if
//! it returns, the stub restores the registers and resumes (`iretq`), in the abort
//! path of `program::call_recoverable` when the fault belongs to a program run that way.

use core::sync::atomic::{AtomicUsize, Ordering};

/// The registers saved on exception entry, lowest address first.
#[repr(C)]
#[derive(Debug, Clone)]
#[allow(missing_docs)] // the fields are the registers they are named after
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    /// Exception vector number (0..32).
    pub vector: u64,
    /// The CPU's error code, or 0 for vectors that push none.
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

/// Architectural names of the exception vectors.
pub const EXCEPTION_NAMES: [&str; 32] = [
    "divide-error",
    "debug",
    "nmi",
    "breakpoint",
    "overflow",
    "bound-range",
    "invalid-opcode",
    "device-not-available",
    "double-fault",
    "coprocessor-segment-overrun",
    "invalid-tss",
    "segment-not-present",
    "stack-segment-fault",
    "general-protection",
    "page-fault",
    "reserved-15",
    "x87-floating-point",
    "alignment-check",
    "machine-check",
    "simd-floating-point",
    "virtualization",
    "control-protection",
    "reserved-22",
    "reserved-23",
    "reserved-24",
    "reserved-25",
    "reserved-26",
    "reserved-27",
    "hypervisor-injection",
    "vmm-communication",
    "security",
    "reserved-31",
];

/// What the kernel's handler decided about an exception it returned from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Resume the interrupted code.
    Resume,
    /// The fault was in the running program's own code: end the program with this status
    /// ([`crate::program::abandon`]).
    EndProgram(u64),
    /// BareMetal's `RESET` ends the `SMP_SET` assignment this core runs (an NMI that
    /// interrupted its own code): resume in the kernel as if it had returned
    /// ([`crate::program::call_baremetal_resettable`]), or simply resume if no such
    /// assignment can be ended here.
    EndBaremetal,
}

/// Signature of the kernel's exception handler.
pub type Handler = fn(&TrapFrame) -> Outcome;

static HANDLER: AtomicUsize = AtomicUsize::new(0);

/// Installs the function called for every CPU exception.
pub fn set_handler(handler: Handler) {
    HANDLER.store(handler as usize, Ordering::Release);
}

unsafe extern "C" {
    static exception_entry_table: [u64; 32];
}

/// Addresses of the 32 entry stubs, indexed by vector.
pub fn entry_points() -> &'static [u64; 32] {
    // SAFETY: the table is defined in the assembly below and never written.
    unsafe { &*core::ptr::addr_of!(exception_entry_table) }
}

#[unsafe(no_mangle)]
extern "sysv64" fn exception_dispatch(frame: &mut TrapFrame) {
    let handler = HANDLER.load(Ordering::Acquire);
    if handler == 0 {
        crate::cpu::qemu_debug_exit(0x7F);
        crate::cpu::halt_forever();
    }
    // SAFETY: HANDLER only ever holds 0 or a value stored from a `Handler` in `set_handler`.
    let handler: Handler = unsafe { core::mem::transmute::<usize, Handler>(handler) };
    let outcome = handler(frame);
    if outcome == Outcome::EndBaremetal {
        crate::program::end_baremetal_assignment(frame);
        return;
    }
    // A program started with `program_run` that faulted: the exception return lands
    // back in that call, which reports the fault to its caller.
    if crate::program::abandon_faulting_program(frame) {
        return;
    }
    if let Outcome::EndProgram(status) = outcome {
        // SAFETY: the handler asks for this only for a fault in program code on the core
        // running the program, with no kernel call in progress below it; between the
        // program's entry and here are program frames, the exception stub and this
        // function, which has nothing to drop.
        unsafe { crate::program::abandon(status) }
    }
}

core::arch::global_asm!(
    r#"
.altmacro
.macro exception_stub vector
    .balign 16
exception_stub_\vector:
    .if \vector == 8 || \vector == 10 || \vector == 11 || \vector == 12 || \vector == 13 || \vector == 14 || \vector == 17 || \vector == 21 || \vector == 29 || \vector == 30
    .else
    push 0
    .endif
    push \vector
    jmp exception_common
.endm

.macro stub_address vector
    .quad exception_stub_\vector
.endm

.section .text.exceptions, "ax"
.set vector, 0
.rept 32
    exception_stub %vector
    .set vector, vector + 1
.endr

exception_common:
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15
    mov rdi, rsp
    cld
    call exception_dispatch
    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    add rsp, 16
    iretq

.section .rodata.exceptions, "a"
.balign 8
.global exception_entry_table
exception_entry_table:
.set vector, 0
.rept 32
    stub_address %vector
    .set vector, vector + 1
.endr
.noaltmacro
.section .text
"#
);
