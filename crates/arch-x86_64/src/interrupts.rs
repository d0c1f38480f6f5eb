//! Entry stubs for the kernel's own interrupt vectors: the wake-up IPI, the local
//! APIC timer, the spurious vector and [`DEVICE_VECTORS`] device vectors.
//!
//! Idle cores sleep in `hlt` with interrupts enabled; the wake-up IPI only has to end
//! that `hlt`, so its handler just signals end-of-interrupt and returns. All other code
//! runs with interrupts disabled. A device vector calls the handler the kernel set with
//! [`set_device_handler`] with the vector number, then signals end-of-interrupt.

use core::sync::atomic::{AtomicU64, Ordering};

/// IPI vector that wakes an idle core.
pub const WAKE_VECTOR: u8 = 0xF0;
/// Local APIC timer vector.
pub const TIMER_VECTOR: u8 = 0xF1;
/// Local APIC spurious-interrupt vector (no end-of-interrupt).
pub const SPURIOUS_VECTOR: u8 = 0xFF;
/// First device vector (MSI, MSI-X, I/O APIC lines); above the 32 exception vectors.
pub const FIRST_DEVICE_VECTOR: u8 = 0x30;
/// Number of device vectors, `FIRST_DEVICE_VECTOR..FIRST_DEVICE_VECTOR + DEVICE_VECTORS`.
pub const DEVICE_VECTORS: u8 = 32;

/// The kernel's device-interrupt handler (0 = none: the vector is only acknowledged).
static DEVICE_HANDLER: AtomicU64 = AtomicU64::new(0);

/// Sets the function every device vector calls, with its vector number, on the core
/// that took the interrupt (with interrupts disabled, before end-of-interrupt).
pub fn set_device_handler(handler: fn(u8)) {
    DEVICE_HANDLER.store(handler as usize as u64, Ordering::Release);
}

#[unsafe(no_mangle)]
extern "sysv64" fn interrupt_device_dispatch(vector: u64) {
    let handler = DEVICE_HANDLER.load(Ordering::Acquire);
    if handler != 0 {
        // SAFETY: the only non-zero value ever stored is a `fn(u8)` (set_device_handler).
        let handler: fn(u8) = unsafe { core::mem::transmute(handler as usize) };
        handler(vector as u8);
    }
    interrupt_end_of_interrupt();
}

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
    fn interrupt_device_stubs();
}

/// Bytes of each device stub in `interrupt_device_stubs` (padded by `.balign`).
const DEVICE_STUB_BYTES: u64 = 16;

/// (vector, stub address) pairs to install in the IDT.
pub fn entry_points() -> impl Iterator<Item = (u8, u64)> {
    let fixed = [
        (WAKE_VECTOR, interrupt_stub_eoi as *const () as u64),
        (TIMER_VECTOR, interrupt_stub_eoi as *const () as u64),
        (SPURIOUS_VECTOR, interrupt_stub_spurious as *const () as u64),
    ];
    let first_stub = interrupt_device_stubs as *const () as u64;
    let devices = (0..DEVICE_VECTORS).map(move |index| {
        (FIRST_DEVICE_VECTOR + index, first_stub + u64::from(index) * DEVICE_STUB_BYTES)
    });
    fixed.into_iter().chain(devices)
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

// One 16-byte stub per device vector: save rdi, load the vector, go to the common part.
.balign 16
.global interrupt_device_stubs
interrupt_device_stubs:
.set vector, {first}
.rept {count}
    .balign 16
    push rdi
    mov edi, vector
    jmp interrupt_device_common
.set vector, vector + 1
.endr

interrupt_device_common:
    push rax
    push rcx
    push rdx
    push rsi
    push r8
    push r9
    push r10
    push r11
    mov rax, rsp
    and rsp, -16
    push rax
    sub rsp, 8
    cld
    call interrupt_device_dispatch
    add rsp, 8
    pop rsp
    pop r11
    pop r10
    pop r9
    pop r8
    pop rsi
    pop rdx
    pop rcx
    pop rax
    pop rdi
    iretq
.section .text
"#,
    first = const FIRST_DEVICE_VECTOR,
    count = const DEVICE_VECTORS,
);
