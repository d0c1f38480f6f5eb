//! Entry stubs for the kernel's own interrupt vectors: the wake-up IPI, the local
//! APIC timer and the spurious vector.
//!
//! Idle cores sleep in `hlt` with interrupts enabled; the wake-up IPI only has to end
//! that `hlt`, so its handler just signals end-of-interrupt and returns. All other code
//! runs with interrupts disabled.

use core::sync::atomic::{AtomicU64, Ordering};

/// IPI vector that wakes an idle core.
pub const WAKE_VECTOR: u8 = 0xF0;
/// Local APIC timer vector.
pub const TIMER_VECTOR: u8 = 0xF1;
/// Local APIC spurious-interrupt vector (no end-of-interrupt).
pub const SPURIOUS_VECTOR: u8 = 0xFF;

/// How to signal end-of-interrupt: 0 = not set up, 1 = x2APIC MSR, else the xAPIC base.
static EOI_TARGET: AtomicU64 = AtomicU64::new(0);

/// Records how end-of-interrupt is signalled (all cores use the same APIC mode).
pub fn set_end_of_interrupt(mode: crate::apic::ApicMode) {
    let target = match mode {
        crate::apic::ApicMode::X2Apic => 1,
        crate::apic::ApicMode::XApic { base } => base,
    };
    EOI_TARGET.store(target, Ordering::Release);
}

#[unsafe(no_mangle)]
extern "sysv64" fn interrupt_end_of_interrupt() {
    match EOI_TARGET.load(Ordering::Acquire) {
        0 => {}
        // SAFETY: x2APIC mode is on (recorded by `set_end_of_interrupt`); EOI MSR 0x80B.
        1 => unsafe { crate::msr::write(crate::msr::X2APIC_BASE + 0x0B, 0) },
        // SAFETY: the xAPIC register page is identity-mapped; EOI is at offset 0xB0.
        base => unsafe { ((base + 0xB0) as *mut u32).write_volatile(0) },
    }
}

unsafe extern "C" {
    fn interrupt_stub_eoi();
    fn interrupt_stub_spurious();
}

/// (vector, stub address) pairs to install in the IDT.
pub fn entry_points() -> [(u8, u64); 3] {
    [
        (WAKE_VECTOR, interrupt_stub_eoi as *const () as u64),
        (TIMER_VECTOR, interrupt_stub_eoi as *const () as u64),
        (SPURIOUS_VECTOR, interrupt_stub_spurious as *const () as u64),
    ]
}

/// Enables interrupts and halts in one step, so a wake-up arriving after the caller's
/// last check is not lost (`sti` takes effect after the next instruction); returns with
/// interrupts disabled again.
pub fn sleep_until_interrupt() {
    // SAFETY: `sti; hlt; cli` only waits for an interrupt; handlers preserve state.
    unsafe { core::arch::asm!("sti", "hlt", "cli", options(nomem, nostack)) }
}

core::arch::global_asm!(
    r#"
.section .text.interrupts, "ax"
.global interrupt_stub_eoi
interrupt_stub_eoi:
    push rax
    push rcx
    push rdx
    push rsi
    push rdi
    push r8
    push r9
    push r10
    push r11
    mov rax, rsp
    and rsp, -16
    push rax
    sub rsp, 8
    cld
    call interrupt_end_of_interrupt
    add rsp, 8
    pop rsp
    pop r11
    pop r10
    pop r9
    pop r8
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rax
    iretq
.global interrupt_stub_spurious
interrupt_stub_spurious:
    iretq
.section .text
"#
);
