//! Control registers, interrupts flag, halting, CPU identification.

use raw_cpuid::CpuId;

/// Stops this core for good: interrupts off, `hlt` forever.
pub fn halt_forever() -> ! {
    loop {
        // SAFETY: `cli; hlt` only stops this core; it touches no memory.
        unsafe { core::arch::asm!("cli", "hlt", options(nomem, nostack)) }
    }
}

/// Waits for the next interrupt (`hlt` with interrupts as they are).
pub fn wait_for_interrupt() {
    // SAFETY: `hlt` pauses the core until an interrupt; no memory is touched.
    unsafe { core::arch::asm!("hlt", options(nomem, nostack, preserves_flags)) }
}

/// Disables maskable interrupts on this core.
pub fn disable_interrupts() {
    // SAFETY: clearing IF cannot break memory safety.
    unsafe { core::arch::asm!("cli", options(nomem, nostack)) }
}

/// The faulting linear address of the last page fault.
pub fn read_cr2() -> u64 {
    let value: u64;
    // SAFETY: reading CR2 has no side effects.
    unsafe {
        core::arch::asm!("mov {}, cr2", out(reg) value, options(nomem, nostack, preserves_flags))
    }
    value
}

/// The physical address of the active PML4 (CR3 without flag bits).
pub fn read_cr3() -> u64 {
    let value: u64;
    // SAFETY: reading CR3 has no side effects.
    unsafe {
        core::arch::asm!("mov {}, cr3", out(reg) value, options(nomem, nostack, preserves_flags))
    }
    value & 0x000F_FFFF_FFFF_F000
}

/// Drops this core's cached translation (TLB and paging-structure caches) for the page
/// holding `address`, so the next access walks the page tables again.
pub fn invalidate_page(address: u64) {
    // SAFETY: `invlpg` only discards cached translations; the page tables themselves
    // stay as they are, so the next access sees exactly what they say.
    unsafe { core::arch::asm!("invlpg [{}]", in(reg) address, options(nostack, preserves_flags)) }
}

/// Switches to the page tables rooted at `pml4` (physical address).
///
/// # Safety
/// The new tables must map everything the kernel uses from now on (its code, data,
/// stacks, the tables themselves) at the addresses it already uses.
pub unsafe fn load_cr3(pml4: u64) {
    // SAFETY: the caller guarantees the new address space keeps the kernel mapped.
    unsafe { core::arch::asm!("mov cr3, {}", in(reg) pml4, options(nostack, preserves_flags)) }
}

/// Control register 0, 3 and 4 as they are now (for exception reports).
pub fn control_registers() -> [u64; 3] {
    let (cr0, cr4): (u64, u64);
    // SAFETY: reading CR0 and CR4 has no side effects.
    unsafe {
        core::arch::asm!("mov {}, cr0", "mov {}, cr4", out(reg) cr0, out(reg) cr4, options(nomem, nostack, preserves_flags))
    }
    [cr0, read_cr3(), cr4]
}

/// What this CPU supports, as far as the kernel cares.
#[derive(Debug, Clone, Copy)]
pub struct Features {
    /// 1 GiB pages (`pdpe1gb`).
    pub huge_pages: bool,
    /// Physical address width in bits.
    pub physical_address_bits: u8,
    /// The initial APIC ID of the core that asked (used as the core number until SMP exists).
    pub apic_id: u32,
}

/// Reads the CPU features of the calling core.
pub fn features() -> Features {
    let cpuid = CpuId::new();
    let extended = cpuid.get_extended_processor_and_feature_identifiers();
    let address_bits =
        cpuid.get_processor_capacity_feature_info().map_or(36, |info| info.physical_address_bits());
    Features {
        huge_pages: extended.is_some_and(|info| info.has_1gib_pages()),
        physical_address_bits: address_bits,
        apic_id: cpuid.get_feature_info().map_or(0, |info| u32::from(info.initial_local_apic_id())),
    }
}

/// Ends a QEMU run through the `isa-debug-exit` device at port 0xF4: QEMU exits with
/// status `(value << 1) | 1`. Without that device the write does nothing.
pub fn qemu_debug_exit(value: u8) {
    // SAFETY: port 0xF4 is the isa-debug-exit device in QEMU and unused on PCs.
    unsafe { crate::port::write_u32(0xF4, u32::from(value)) }
}

/// Enables SSE for program code (`CR0.EM` clear, `CR0.MP` and `CR4.OSFXSR`,
/// `CR4.OSXMMEXCPT` set), which C libraries such as musl use. The kernel itself is
/// built without SSE (soft-float target), so the vector registers are the program's
/// alone and nothing needs saving.
pub fn enable_sse() {
    // SAFETY: only the FPU/SSE enable bits change; paging and protection bits are
    // written back as they were read.
    unsafe {
        core::arch::asm!(
            "mov {tmp}, cr0",
            "and {tmp}, -5",
            "or {tmp}, 2",
            "mov cr0, {tmp}",
            "mov {tmp}, cr4",
            "or {tmp}, 0x600",
            "mov cr4, {tmp}",
            tmp = out(reg) _,
            options(nostack, preserves_flags)
        );
    }
}
