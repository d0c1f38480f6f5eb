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

/// How a recoverable program call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The program returned this value.
    Returned(u64),
    /// The program raised this CPU exception vector and was abandoned.
    Faulted(u64),
}

/// The kernel's saved stack pointer while a recoverable call runs (0 when none does).
#[unsafe(no_mangle)]
static INGOT_RECOVERY_RSP: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);
/// The core (`percpu::core_index`, or `u64::MAX` before per-core blocks) that armed it.
static RECOVERY_CORE: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);
/// Where the abandoned program's code may be: `[start, end)`.
static RECOVERY_RANGE: [core::sync::atomic::AtomicU64; 2] =
    [core::sync::atomic::AtomicU64::new(0), core::sync::atomic::AtomicU64::new(0)];

#[repr(C)]
struct RawOutcome {
    value: u64,
    faulted: u64,
}

unsafe extern "sysv64" {
    fn ingot_call_recoverable(entry: u64, api_table: u64, stack_top: u64) -> RawOutcome;
    static ingot_program_abort: u8;
}

core::arch::global_asm!(
    r#"
.section .text
.global ingot_call_recoverable
ingot_call_recoverable:
    push rbx
    push rbp
    push r12
    push r13
    push r14
    push r15
    mov [rip + INGOT_RECOVERY_RSP], rsp
    mov rax, rdi
    mov rdi, rsi
    mov rsp, rdx
    and rsp, -16
    call rax
    xor edx, edx
    jmp 2f
.global ingot_program_abort
ingot_program_abort:
    mov edx, 1
2:
    mov rsp, [rip + INGOT_RECOVERY_RSP]
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbp
    pop rbx
    ret
"#
);

/// Like [`call`], but a CPU exception raised by code in `[code_start, code_end)` on
/// this core while the call runs abandons the program and returns
/// [`Outcome::Faulted`] (once the kernel's exception handler has reported it and
/// returned, see [`abandon_faulting_program`]). Not reentrant: one such call at a time.
///
/// # Safety
/// As for [`call`]. Besides, the program's state is simply dropped on a fault: whatever
/// it shared with the kernel (locks taken through kernel calls) must not stay held, so
/// the kernel must not hold a lock across any point where the program's code runs.
pub unsafe fn call_recoverable(
    entry: u64,
    api_table: u64,
    stack_top: u64,
    code_start: u64,
    code_end: u64,
) -> Outcome {
    use core::sync::atomic::Ordering;
    RECOVERY_RANGE[0].store(code_start, Ordering::Relaxed);
    RECOVERY_RANGE[1].store(code_end, Ordering::Relaxed);
    RECOVERY_CORE.store(crate::percpu::core_index().unwrap_or(u64::MAX), Ordering::Relaxed);
    // SAFETY: the caller vouches for `entry` and the stack as for `call`; the assembly
    // saves every callee-saved register and the stack pointer before the call and
    // restores them on both the return and the abort path.
    let raw = unsafe { ingot_call_recoverable(entry, api_table, stack_top) };
    INGOT_RECOVERY_RSP.store(0, Ordering::Release);
    if raw.faulted != 0 { Outcome::Faulted(raw.value) } else { Outcome::Returned(raw.value) }
}

/// True if an exception at `rip` on this core belongs to a program run by
/// [`call_recoverable`] and can be abandoned.
pub fn fault_is_recoverable(rip: u64) -> bool {
    use core::sync::atomic::Ordering;
    INGOT_RECOVERY_RSP.load(Ordering::Acquire) != 0
        && RECOVERY_CORE.load(Ordering::Relaxed) == crate::percpu::core_index().unwrap_or(u64::MAX)
        && (RECOVERY_RANGE[0].load(Ordering::Relaxed)..RECOVERY_RANGE[1].load(Ordering::Relaxed))
            .contains(&rip)
}

/// Makes the exception return land in [`call_recoverable`]'s abort path, which returns
/// `Outcome::Faulted(vector)`, if the fault is recoverable; returns whether it did.
pub(crate) fn abandon_faulting_program(frame: &mut crate::exceptions::TrapFrame) -> bool {
    if !fault_is_recoverable(frame.rip) {
        return false;
    }
    frame.rip = core::ptr::addr_of!(ingot_program_abort) as u64;
    frame.rax = frame.vector;
    true
}
