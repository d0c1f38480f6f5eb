//! Per-core data through the GS segment base: `gs:[0]` holds the core's index.
//!
//! Each core points GS at its own small block at start-up; reading the index is then
//! one instruction, without CPUID or APIC reads.

/// The first fields of every core's block (the platform may append more).
#[repr(C)]
pub struct CoreBlock {
    /// Dense core number: 0 for the bootstrap core, then in start-up order.
    pub index: u64,
    /// The core's local APIC ID.
    pub apic_id: u64,
}

/// Points this core's GS base at `block`.
///
/// # Safety
/// `block` must stay valid (and not move) for as long as the core runs.
pub unsafe fn install(block: *const CoreBlock) {
    // SAFETY: per the contract the block outlives the core; GS is not otherwise used.
    unsafe { crate::msr::write(crate::msr::GS_BASE, block as u64) }
}

/// This core's index, or `None` before [`install`] ran on it.
pub fn core_index() -> Option<u64> {
    // SAFETY: reading the GS base MSR has no side effects and the MSR always exists
    // in long mode.
    let base = unsafe { crate::msr::read(crate::msr::GS_BASE) };
    if base == 0 {
        return None;
    }
    let index: u64;
    // SAFETY: GS points at a live `CoreBlock` (installed above), whose first field is
    // the index.
    unsafe {
        core::arch::asm!("mov {}, gs:[0]", out(reg) index, options(readonly, nostack, preserves_flags))
    }
    Some(index)
}
