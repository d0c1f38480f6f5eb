//! Calling program code (the program's entry point, its tasks, BareMetal-style code)
//! from the kernel.
//!
//! A program is trusted to follow the System V calling convention, but a mistake in it
//! must not corrupt the kernel: [`call`] and [`call_task`] therefore save every
//! register the kernel relies on (RBX, RBP, R12–R15 and RSP) before the call and restore them afterwards, whatever the program left in
//! them, and clear the direction flag on the way in and out. The kernel's stack
//! pointer is kept in this core's [`CoreBlock`](crate::percpu::CoreBlock) (through GS),
//! the one place the program's registers cannot reach; each call pushes the previous
//! value first, so calls nest (a task that waits on a group runs other tasks).

use core::mem::offset_of;

use crate::percpu::CoreBlock;

unsafe extern "sysv64" {
    /// `ingot_call_program(entry, argument, stack_top)`: see the assembly below.
    fn ingot_call_program(entry: u64, argument: u64, stack_top: u64) -> u64;
}

core::arch::global_asm!(
    r#"
.section .text.ingot_call_program, "ax"
.global ingot_call_program
// rdi = entry, rsi = argument, rdx = stack top (0: stay on this stack). Returns RAX.
ingot_call_program:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    push qword ptr gs:[{saved_rsp}]
    mov gs:[{saved_rsp}], rsp
    test rdx, rdx
    jz 1f
    mov rsp, rdx
1:
    and rsp, -16
    mov r11, rdi
    mov rdi, rsi
    xor eax, eax
    cld
    call r11
    mov rsp, gs:[{saved_rsp}]
    pop qword ptr gs:[{saved_rsp}]
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    cld
    ret
.section .text
"#,
    saved_rsp = const offset_of!(CoreBlock, saved_rsp),
);

/// Calls the program whose first instruction is at `entry` with `stack_top` as its
/// stack pointer (rounded down to 16 bytes), passing `api_table` in RDI (System V)
/// and 0 in RAX (so a BareMetal program that never sets RAX returns status 0), and
/// returns its RAX. Callee-saved registers and RSP are restored afterwards even if
/// the program changed them. (SSE is not enabled, so there is no MXCSR to keep.)
///
/// # Safety
/// `entry` must hold code that returns (with `ret`, to the address the call pushed,
/// on the stack it was given); `stack_top` must not be 0 and `[stack_top - n, stack_top)`
/// must be writable memory the
/// program may use as its stack; this core's block must be installed
/// ([`crate::percpu::install`] or [`crate::percpu::ensure_installed`]).
pub unsafe fn call(entry: u64, api_table: u64, stack_top: u64) -> u64 {
    // SAFETY: the caller vouches for `entry`, the stack and the core block; the
    // assembly saves and restores everything the Rust caller relies on, and every
    // caller-saved register is clobbered as in any System V call.
    unsafe { ingot_call_program(entry, api_table, stack_top) }
}

/// Calls the program function at `entry` with `argument` in RDI on this core's current
/// stack (a queued task or a per-core assignment), with the same register guarantees
/// as [`call`].
///
/// # Safety
/// As for [`call`], except that the function runs on the kernel's stack, which must be
/// deep enough for it.
pub unsafe fn call_task(entry: u64, argument: u64) {
    // SAFETY: as for `call`; a zero stack top keeps the current stack.
    unsafe {
        ingot_call_program(entry, argument, 0);
    }
}

/// Calls BareMetal-style code at `entry` on the current stack the way BareMetal's
/// cores run `SMP_SET` work and callbacks: RAX = `entry`, every other general register
/// zero, entered with `call` and left with `ret`. Such code may change every register,
/// so all are saved or declared clobbered here; the direction flag is cleared after.
///
/// # Safety
/// `entry` must hold code that returns with `ret` on a balanced stack and needs no
/// more stack than the caller's has left.
pub unsafe fn call_baremetal(entry: u64) {
    // SAFETY: the caller vouches for `entry`; RBX and RBP are pushed, the stack pointer
    // is kept on the stack below them (aligned to 16 for the call) and restored, and
    // all other registers are declared clobbered.
    unsafe {
        core::arch::asm!(
            "push rbp",
            "push rbx",
            "mov rbx, rsp",
            "and rsp, -16",
            "push rbx",
            "push rbx",
            "xor ebx, ebx",
            "xor ecx, ecx",
            "xor edx, edx",
            "xor esi, esi",
            "xor edi, edi",
            "xor ebp, ebp",
            "xor r8d, r8d",
            "xor r9d, r9d",
            "xor r10d, r10d",
            "xor r11d, r11d",
            "xor r12d, r12d",
            "xor r13d, r13d",
            "xor r14d, r14d",
            "xor r15d, r15d",
            "call rax",
            "add rsp, 8",
            "pop rsp",
            "pop rbx",
            "pop rbp",
            "cld",
            inout("rax") entry => _,
            out("r12") _, out("r13") _, out("r14") _, out("r15") _,
            clobber_abi("sysv64"),
        );
    }
}
