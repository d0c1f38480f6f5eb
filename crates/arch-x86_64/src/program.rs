//! Calling program code from the kernel: entering a loaded program on its own stack and
//! leaving it (when it returns, or when the kernel ends it early: a fault in its code, a
//! Linux `exit` system call), its tasks, and BareMetal-style code.
//!
//! [`call`] saves the kernel's callee-saved registers and stack pointer, switches to the
//! program's stack and enters it; [`abandon`] resumes that saved state from anywhere
//! inside the program, as if the program had returned the given status. Only one
//! program runs at a time (on the bootstrap core), so one saved state suffices.
//!
//! A program is trusted to follow the System V calling convention, but a mistake in it
//! must not corrupt the kernel: [`call`] and [`call_task`] therefore save every
//! register the kernel relies on (RBX, RBP, R12–R15 and RSP) before the call and restore them afterwards, whatever the program left in
//! them, and clear the direction flag on the way in and out. The kernel's stack
//! pointer is kept in this core's [`CoreBlock`](crate::percpu::CoreBlock) (through GS),
//! the one place the program's registers cannot reach; each call pushes the previous
//! value first, so calls nest (a task that waits on a group runs other tasks).

use core::mem::offset_of;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::percpu::CoreBlock;

unsafe extern "sysv64" {
    /// `ingot_call_task(entry, argument)`: see the assembly below.
    fn ingot_call_task(entry: u64, argument: u64);
}

core::arch::global_asm!(
    r#"
.section .text.ingot_call_task, "ax"
.global ingot_call_task
// rdi = entry, rsi = argument: calls entry(argument) on this stack, the kernel's
// callee-saved registers and RSP (in this core's block) restored afterwards.
ingot_call_task:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    push qword ptr gs:[{saved_rsp}]
    mov gs:[{saved_rsp}], rsp
    and rsp, -16
    mov r11, rdi
    mov rdi, rsi
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
    "    mov r11, rdi",
    "    mov rdi, rsi",
    "    mov rsi, rdx",
    "    mov rdx, rcx",
    "    mov rsp, r8",
    "    xor ebp, ebp",
    "    test r9, r9",
    "    jnz 2f",
    "    and rsp, -16",
    "    xor eax, eax",
    "    cld",
    "    call r11",
    "    jmp ingot_program_back",
    "2:",
    "    xor edx, edx",
    "    xor eax, eax",
    "    cld",
    "    jmp r11",
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

/// Enters the program at `entry` on the stack at `stack`, per `convention` (RAX = 0, so a
/// BareMetal program that never sets RAX returns status 0), and returns its status: the
/// value it returned, or the status given to [`abandon`].
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

/// Calls the program function at `entry` with `argument` in RDI on this core's current
/// stack (a queued task or a per-core assignment), with the same register guarantees
/// as [`call`] (the kernel's RSP kept in this core's block).
///
/// # Safety
/// As for [`call`], except that the function runs on the kernel's stack, which must be
/// deep enough for it.
#[inline(always)]
pub unsafe fn call_task(entry: u64, argument: u64) {
    // SAFETY: as for `call`. `ingot_call_task` keeps every callee-saved register (it
    // saves and restores them itself) and the direction flag clear, so only the
    // System V caller-saved registers are declared clobbered; called directly, not
    // through the global offset table.
    unsafe {
        core::arch::asm!(
            "call {call_task}",
            call_task = sym ingot_call_task,
            inout("rdi") entry => _,
            inout("rsi") argument => _,
            clobber_abi("sysv64"),
        );
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

unsafe extern "sysv64" {
    fn ingot_call_baremetal_resettable(entry: u64) -> u64;
}

core::arch::global_asm!(
    r#"
.section .text
.global ingot_call_baremetal_resettable
// rdi = entry. Returns 1 when the code returned, 0 when RESET ended it.
ingot_call_baremetal_resettable:
    push rbp
    push rbx
    push r12
    push r13
    push r14
    push r15
    push qword ptr gs:[{reset_rsp}]
    push qword ptr gs:[{reset_saved_rsp}]
    mov r11, gs:[{saved_rsp}]
    mov gs:[{reset_saved_rsp}], r11
    mov gs:[{reset_rsp}], rsp
    mov rax, rdi
    xor ebx, ebx
    xor ecx, ecx
    xor edx, edx
    xor esi, esi
    xor edi, edi
    xor ebp, ebp
    xor r8d, r8d
    xor r9d, r9d
    xor r10d, r10d
    xor r11d, r11d
    xor r12d, r12d
    xor r13d, r13d
    xor r14d, r14d
    xor r15d, r15d
    cld
    call rax
    mov eax, 1
    jmp 2f
// Entered by a jump (from an NMI's return or a BareMetal call's entry stub) while a
// resettable assignment runs on this core: its frames are dropped.
.global ingot_baremetal_reset_abort
ingot_baremetal_reset_abort:
    xor eax, eax
2:
    mov rsp, gs:[{reset_rsp}]
    pop qword ptr gs:[{reset_saved_rsp}]
    pop qword ptr gs:[{reset_rsp}]
    pop r15
    pop r14
    pop r13
    pop r12
    pop rbx
    pop rbp
    cld
    ret
"#,
    reset_rsp = const offset_of!(CoreBlock, reset_rsp),
    reset_saved_rsp = const offset_of!(CoreBlock, reset_saved_rsp),
    saved_rsp = const offset_of!(CoreBlock, saved_rsp),
);

unsafe extern "C" {
    static ingot_baremetal_reset_abort: u8;
}

/// Where resettable BareMetal code lies, `[start, end)` (the program window).
static BAREMETAL_CODE: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

/// Like [`call_baremetal`], for an `SMP_SET` assignment that BareMetal's `RESET` may
/// end early, whose code lies in `[code_start, code_end)`: returns `true` if the code returned, `false` if it was ended (an NMI
/// whose handler returned [`crate::exceptions::Outcome::EndBaremetal`], or a BareMetal
/// call's entry stub jumping to `ingot_baremetal_reset_abort`). Either way the
/// kernel's registers and stack are restored. Needs this core's block
/// ([`crate::percpu::ensure_installed`]).
///
/// # Safety
/// As for [`call_baremetal`]. Besides, ending the code drops its frames without running
/// anything: only program frames and the entry stubs may lie between this call and the
/// point where it is ended (see [`baremetal_reset_possible`]).
pub unsafe fn call_baremetal_resettable(entry: u64, code_start: u64, code_end: u64) -> bool {
    BAREMETAL_CODE[0].store(code_start, Ordering::Relaxed);
    BAREMETAL_CODE[1].store(code_end, Ordering::Relaxed);
    // SAFETY: the caller vouches for `entry`; the assembly saves every callee-saved
    // register, the stack pointer and the previous reset state and restores them on
    // both paths; the caller-saved registers are clobbered as by any call.
    unsafe { ingot_call_baremetal_resettable(entry) != 0 }
}

/// Whether the code running on this core can be ended by `RESET` right now: a
/// resettable assignment is running, and no native program call (a task it runs
/// through a kernel call) is nested inside it. The kernel also checks that the
/// interrupted instruction is the program's own, not kernel code.
pub fn baremetal_reset_possible() -> bool {
    let field = crate::percpu::read_field;
    let (Some(reset_rsp), Some(saved_rsp), Some(reset_saved_rsp)) = (
        field(offset_of!(CoreBlock, reset_rsp)),
        field(offset_of!(CoreBlock, saved_rsp)),
        field(offset_of!(CoreBlock, reset_saved_rsp)),
    ) else {
        return false;
    };
    reset_rsp != 0 && saved_rsp == reset_saved_rsp
}

/// Makes an NMI's return land in `ingot_baremetal_reset_abort`, if a resettable
/// assignment can be ended here; returns whether it did.
pub(crate) fn end_baremetal_assignment(frame: &mut crate::exceptions::TrapFrame) -> bool {
    let code = BAREMETAL_CODE[0].load(Ordering::Relaxed)..BAREMETAL_CODE[1].load(Ordering::Relaxed);
    // Only the program's own instructions are cut short, never kernel code (a call in
    // progress, an entry stub).
    if !code.contains(&frame.rip) || !baremetal_reset_possible() {
        return false;
    }
    frame.rip = core::ptr::addr_of!(ingot_baremetal_reset_abort) as u64;
    true
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
    fn ingot_call_recoverable(
        entry: u64,
        api_table: u64,
        stack_top: u64,
        argc: u64,
        argv: u64,
    ) -> RawOutcome;
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
    mov r11, rdi
    mov rdi, rsi
    mov rsp, rdx
    mov rsi, rcx
    mov rdx, r8
    and rsp, -16
    xor eax, eax
    cld
    call r11
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
    cld
    ret
"#
);

/// Like [`call`] (for a program started by another with `program_run`), but a CPU exception raised by code in `[code_start, code_end)` on
/// this core while the call runs abandons the program and returns
/// [`Outcome::Faulted`] (once the kernel's exception handler has reported it and
/// returned, see [`abandon_faulting_program`]). Not reentrant: one such call at a time.
/// The program gets `(argc, argv)` = `args` in RSI and RDX, as [`call`] passes them
/// (`(0, 0)`: no arguments).
///
/// # Safety
/// As for [`call`] (an `argv` other than 0 must point at `argc` string pointers the
/// program may read). Besides, the program's state is simply dropped on a fault: whatever
/// it shared with the kernel (locks taken through kernel calls) must not stay held, so
/// the kernel must not hold a lock across any point where the program's code runs.
pub unsafe fn call_recoverable(
    entry: u64,
    api_table: u64,
    stack_top: u64,
    args: (u64, u64),
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
    let raw = unsafe { ingot_call_recoverable(entry, api_table, stack_top, args.0, args.1) };
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
