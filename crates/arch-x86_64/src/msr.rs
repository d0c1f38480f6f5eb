//! Model-specific registers.

/// `IA32_APIC_BASE`.
pub const APIC_BASE: u32 = 0x1B;
/// `IA32_EFER`.
pub const EFER: u32 = 0xC000_0080;
/// `IA32_GS_BASE`.
pub const GS_BASE: u32 = 0xC000_0101;
/// First x2APIC register MSR (x2APIC register `n` is MSR `0x800 + n/16`).
pub const X2APIC_BASE: u32 = 0x800;

/// Reads a model-specific register.
///
/// # Safety
/// The MSR must exist on this CPU (reading an absent MSR raises #GP).
pub unsafe fn read(msr: u32) -> u64 {
    let (low, high): (u32, u32);
    // SAFETY: the caller guarantees the MSR exists; reading has no memory effects.
    unsafe {
        core::arch::asm!("rdmsr", in("ecx") msr, out("eax") low, out("edx") high, options(nomem, nostack, preserves_flags))
    }
    (u64::from(high) << 32) | u64::from(low)
}

/// Writes a model-specific register.
///
/// # Safety
/// The MSR must exist, and the value must not break the kernel's assumptions (paging,
/// segment bases the kernel relies on, APIC mode).
pub unsafe fn write(msr: u32, value: u64) {
    // SAFETY: the caller vouches for the register and the value.
    unsafe {
        core::arch::asm!("wrmsr", in("ecx") msr, in("eax") value as u32, in("edx") (value >> 32) as u32, options(nostack, preserves_flags))
    }
}

/// Reads the time-stamp counter.
pub fn read_tsc() -> u64 {
    let (low, high): (u32, u32);
    // SAFETY: RDTSC only reads the counter.
    unsafe {
        core::arch::asm!("rdtsc", out("eax") low, out("edx") high, options(nomem, nostack, preserves_flags))
    }
    (u64::from(high) << 32) | u64::from(low)
}
/// IA32_TSC_DEADLINE: the local APIC timer fires when the TSC reaches it (0 disarms).
pub const TSC_DEADLINE: u32 = 0x6E0;
