//! The Linux x86-64 system-call entry, for programs built against a Linux libc (musl).
//!
//! The `syscall` instruction is handled in ring 0 with no privilege or address-space
//! change: the program already runs in ring 0. The CPU still does what `syscall` always
//! does: it loads CS from `STAR[47:32]` and SS from that + 8 (the kernel's own selectors
//! here, so nothing changes), saves the return address in RCX and RFLAGS in R11, clears
//! the RFLAGS bits in `SFMASK` and jumps to `LSTAR`. It does not switch stacks, so the
//! entry moves to a kernel stack first (the program's red zone below RSP stays intact).
//! `sysret` cannot be used to come back: it always loads ring-3 selectors. The entry
//! instead restores RFLAGS from R11 with `popfq` on its own stack, reloads the
//! program's RSP and jumps to RCX, so the program sees exactly what Linux leaves:
//! RAX holds the result, RCX and R11 are clobbered, every other register is preserved.

use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::msr;

const STAR: u32 = 0xC000_0081;
const LSTAR: u32 = 0xC000_0082;
const SFMASK: u32 = 0xC000_0084;
const FS_BASE: u32 = 0xC000_0100;
/// `EFER.SCE`: `syscall` enabled.
const EFER_SCE: u64 = 1;
/// RFLAGS bits cleared on entry: TF, IF, DF, AC.
const ENTRY_FLAGS_MASK: u64 = 0x0004_0700;

/// The registers of a system call as the entry saved them.
#[repr(C)]
#[derive(Debug, Clone)]
pub struct SyscallFrame {
    /// The call number (RAX).
    pub number: u64,
    /// The arguments: RDI, RSI, RDX, R10, R8, R9.
    pub args: [u64; 6],
}

/// What the kernel's handler decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyscallOutcome {
    /// Return this value in RAX.
    Return(i64),
    /// End the program with this status (`exit`, `exit_group`).
    Exit(u64),
}

/// Signature of the kernel's system-call handler.
pub type SyscallHandler = fn(&SyscallFrame) -> SyscallOutcome;

static HANDLER: AtomicUsize = AtomicUsize::new(0);
/// Top of the kernel stack system calls run on (16-byte aligned).
static STACK_TOP: AtomicU64 = AtomicU64::new(0);
/// The program's RSP while a system call runs.
static PROGRAM_RSP: AtomicU64 = AtomicU64::new(0);

/// `-ENOSYS`, returned when no handler is installed.
const ENOSYS: i64 = -38;

#[unsafe(no_mangle)]
extern "sysv64" fn ingot_syscall_dispatch(frame: &SyscallFrame) -> i64 {
    let handler = HANDLER.load(Ordering::Acquire);
    if handler == 0 {
        return ENOSYS;
    }
    // SAFETY: HANDLER only ever holds 0 or a value stored from a `SyscallHandler`.
    let handler: SyscallHandler = unsafe { core::mem::transmute::<usize, SyscallHandler>(handler) };
    match handler(frame) {
        SyscallOutcome::Return(value) => value,
        SyscallOutcome::Exit(status) => {
            // SAFETY: system calls come only from the running program, on the core
            // that runs it; between its entry and here are program frames, the entry
            // stub and this function, which has nothing left to drop.
            unsafe { crate::program::abandon(status) };
            ENOSYS
        }
    }
}

core::arch::global_asm!(
    ".section .text.syscall, \"ax\"",
    ".global ingot_syscall_entry",
    "ingot_syscall_entry:",
    "    mov [rip + {program_rsp}], rsp",
    "    mov rsp, [rip + {stack_top}]",
    "    push rcx",
    "    push r11",
    "    push rdi",
    "    push rsi",
    "    push rdx",
    "    push r10",
    "    push r8",
    "    push r9",
    // Keeps RSP 16-byte aligned at the call (15 pushes of 8 bytes).
    "    sub rsp, 8",
    // The frame: number, then the six arguments in order.
    "    push r9",
    "    push r8",
    "    push r10",
    "    push rdx",
    "    push rsi",
    "    push rdi",
    "    push rax",
    "    mov rdi, rsp",
    "    cld",
    "    call ingot_syscall_dispatch",
    "    add rsp, 64",
    "    pop r9",
    "    pop r8",
    "    pop r10",
    "    pop rdx",
    "    pop rsi",
    "    pop rdi",
    "    popfq",
    "    pop rcx",
    "    mov r11, [rsp - 16]",
    "    mov rsp, [rip + {program_rsp}]",
    "    jmp rcx",
    ".section .text",
    program_rsp = sym PROGRAM_RSP,
    stack_top = sym STACK_TOP,
);

unsafe extern "sysv64" {
    fn ingot_syscall_entry();
}

/// Installs `handler`, gives system calls `stack` (kept for good) and enables `syscall`
/// on the calling core: `EFER.SCE`, `STAR` with the kernel's selectors (so CS and SS
/// stay what they are), `LSTAR` at the entry above, `SFMASK` clearing TF, IF, DF and AC.
pub fn enable(handler: SyscallHandler, stack: &'static mut [u8]) {
    HANDLER.store(handler as usize, Ordering::Release);
    let top = (stack.as_mut_ptr() as u64 + stack.len() as u64) & !15;
    STACK_TOP.store(top, Ordering::Release);
    let star = u64::from(crate::descriptors::KERNEL_CODE) << 32;
    // SAFETY: these MSRs exist on every x86-64 CPU; the values only route the
    // `syscall` instruction to the entry above with the selectors the kernel already
    // uses, which changes nothing for code that does not execute `syscall`.
    unsafe {
        msr::write(STAR, star);
        msr::write(LSTAR, ingot_syscall_entry as *const () as usize as u64);
        msr::write(SFMASK, ENTRY_FLAGS_MASK);
        msr::write(msr::EFER, msr::read(msr::EFER) | EFER_SCE);
    }
}

/// Sets the FS base (Linux `arch_prctl(ARCH_SET_FS)`: the program's thread pointer).
pub fn set_fs_base(address: u64) {
    // SAFETY: FS_BASE exists on every x86-64 CPU; the kernel never uses FS, so its base
    // is the program's alone.
    unsafe { msr::write(FS_BASE, address) }
}

/// The FS base (`arch_prctl(ARCH_GET_FS)`).
pub fn fs_base() -> u64 {
    // SAFETY: FS_BASE exists on every x86-64 CPU; reading it has no effect.
    unsafe { msr::read(FS_BASE) }
}
