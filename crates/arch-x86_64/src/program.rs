//! Entering a loaded program on its own stack, and leaving it: when it returns, or
//! when the kernel ends it early (a fault in its code, a Linux `exit` system call).
//!
//! [`call`] saves the kernel's callee-saved registers and stack pointer, switches to the
//! program's stack and enters it; [`abandon`] resumes that saved state from anywhere
//! inside the program, as if the program had returned the given status. Only one
//! program runs at a time (on the bootstrap core), so one saved state suffices.

use core::sync::atomic::{AtomicU64, Ordering};

/// The kernel's stack pointer while a program runs (0 when none is running).
static KERNEL_STACK: AtomicU64 = AtomicU64::new(0);

/// How the program is entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// Ingot's convention: `call entry` with RDI = API table, RSI = argc, RDX = argv and
    /// the stack 16-byte aligned before the call; the program returns its status.
    Native,
    /// Linux's convention: `jmp entry` with RSP at `argc` of the start stack and RDX = 0;
    /// the program never returns, it ends through the `exit` system call ([`abandon`]).
    Linux,
}

unsafe extern "sysv64" {
    fn ingot_program_enter(
        entry: u64,
        api: u64,
        argc: u64,
        argv: u64,
        stack: u64,
        linux: u64,
    ) -> u64;
    fn ingot_program_abandon(status: u64) -> !;
}

core::arch::global_asm!(
    ".section .text.program, \"ax\"",
    ".global ingot_program_enter",
    "ingot_program_enter:",
    "    push rbx",
    "    push rbp",
    "    push r12",
    "    push r13",
    "    push r14",
    "    push r15",
    "    mov [rip + {saved}], rsp",
    "    mov rax, rdi",
    "    mov rdi, rsi",
    "    mov rsi, rdx",
    "    mov rdx, rcx",
    "    mov rsp, r8",
    "    xor ebp, ebp",
    "    test r9, r9",
    "    jnz 2f",
    "    and rsp, -16",
    "    call rax",
    "    jmp ingot_program_back",
    "2:",
    "    xor edx, edx",
    "    jmp rax",
    ".global ingot_program_abandon",
    "ingot_program_abandon:",
    "    mov rax, rdi",
    "ingot_program_back:",
    "    mov rsp, [rip + {saved}]",
    "    mov qword ptr [rip + {saved}], 0",
    "    pop r15",
    "    pop r14",
    "    pop r13",
    "    pop r12",
    "    pop rbp",
    "    pop rbx",
    "    cld",
    "    ret",
    ".section .text",
    saved = sym KERNEL_STACK,
);

/// Enters the program at `entry` on the stack at `stack`, per `convention`, and returns
/// its status: the value it returned, or the status given to [`abandon`].
///
/// # Safety
/// `entry` must hold code that follows the program contract of `docs/api.md` (System V
/// calling convention, callee-saved registers preserved), `[stack - n, stack)` must be
/// writable memory the program may use as its stack, holding the start block for
/// [`Entry::Linux`]; no other program may be running.
pub unsafe fn call(
    entry: u64,
    api_table: u64,
    argc: u64,
    argv: u64,
    stack: u64,
    convention: Entry,
) -> u64 {
    let linux = u64::from(convention == Entry::Linux);
    // SAFETY: the caller vouches for `entry` and the stack. The assembly saves every
    // callee-saved register and the stack pointer and restores them on the way back
    // (return or `abandon`); the caller-saved ones are clobbered as by any call.
    unsafe { ingot_program_enter(entry, api_table, argc, argv, stack, linux) }
}

/// Whether a program entered with [`call`] is running.
pub fn running() -> bool {
    KERNEL_STACK.load(Ordering::Relaxed) != 0
}

/// Ends the running program: resumes the kernel where [`call`] entered it, which returns
/// `status`. Returns (doing nothing) if no program is running.
///
/// # Safety
/// Must run on the core that entered the program, and every frame between the program's
/// entry and this call must be one that may be discarded without running code: program
/// frames, exception stubs, or Rust frames with nothing left to drop.
pub unsafe fn abandon(status: u64) {
    if running() {
        // SAFETY: a program is running, so the saved stack pointer is the kernel's own
        // frame in `ingot_program_enter`, still live; the caller vouches for the frames
        // in between.
        unsafe { ingot_program_abandon(status) }
    }
}
