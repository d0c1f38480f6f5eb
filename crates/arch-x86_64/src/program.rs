//! Calling a loaded program on its own stack.

/// Calls the program whose first instruction is at `entry` with `stack_top` as its
/// stack pointer, passing `api_table` in RDI (System V), and returns its RAX.
///
/// The kernel's stack pointer is kept in a callee-saved register across the call, so
/// the program returns to the kernel's stack even though it ran on its own.
///
/// # Safety
/// `entry` must hold code that follows the program contract of `docs/api.md` (System V
/// calling convention, callee-saved registers preserved), and `[stack_top - n, stack_top)`
/// must be writable memory the program may use as its stack.
pub unsafe fn call(entry: u64, api_table: u64, stack_top: u64) -> u64 {
    let status: u64;
    // SAFETY: the caller vouches for `entry` and the stack; R12 (callee-saved in System V)
    // holds the kernel's RSP across the call, and every caller-saved register is
    // declared clobbered.
    unsafe {
        core::arch::asm!(
            "mov r12, rsp",
            "mov rsp, {stack}",
            "and rsp, -16",
            "call {entry}",
            "mov rsp, r12",
            stack = in(reg) stack_top,
            entry = in(reg) entry,
            in("rdi") api_table,
            lateout("rax") status,
            out("r12") _,
            clobber_abi("sysv64"),
        );
    }
    status
}
