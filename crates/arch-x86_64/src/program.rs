//! Calling a loaded program on its own stack, and calling BareMetal-style code.

/// Calls the program whose first instruction is at `entry` with `stack_top` as its
/// stack pointer, passing `api_table` in RDI (System V) and 0 in RAX (so a BareMetal
/// program that never sets RAX returns status 0), and returns its RAX.
///
/// The kernel's stack pointer is kept on the program's stack and RBX and RBP on the
/// kernel's, and every other register is declared clobbered, so a program that does
/// not preserve the System V callee-saved registers (a BareMetal program entered with
/// `call` owes nothing but a balanced stack) still returns to an intact kernel.
///
/// # Safety
/// `entry` must hold code that returns with `ret` on a balanced stack (the program
/// contract of `docs/api.md`), and `[stack_top - n, stack_top)` must be writable memory
/// the program may use as its stack.
pub unsafe fn call(entry: u64, api_table: u64, stack_top: u64) -> u64 {
    let status: u64;
    // SAFETY: the caller vouches for `entry` and the stack. RBX and RBP (which asm!
    // cannot name as operands) are pushed on the kernel's stack, the kernel's RSP is
    // pushed on the program's, and all other registers are declared clobbered.
    unsafe {
        core::arch::asm!(
            "push rbp",
            "push rbx",
            "mov rbx, rsp",
            "mov rsp, {stack}",
            "and rsp, -16",
            "push rbx",
            "push rbx",
            "call {entry}",
            "add rsp, 8",
            "pop rsp",
            "pop rbx",
            "pop rbp",
            "cld",
            stack = in(reg) stack_top,
            entry = in(reg) entry,
            in("rdi") api_table,
            inout("rax") 0u64 => status,
            out("r12") _, out("r13") _, out("r14") _, out("r15") _,
            clobber_abi("sysv64"),
        );
    }
    status
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
