//! The local APIC and the legacy interrupt controllers, made safe to use.

use ingot_arch::apic::LocalApic;
use ingot_arch::interrupts::SPURIOUS_VECTOR;

/// Enables the calling core's local APIC (x2APIC mode when the CPU has it and
/// `prefer_x2apic`), and records how handlers signal end-of-interrupt.
pub fn enable_local_apic(prefer_x2apic: bool) -> LocalApic {
    let x2apic = prefer_x2apic && has_x2apic();
    // SAFETY: the xAPIC register page (0xFEE00000 or wherever IA32_APIC_BASE puts it)
    // lies in the low 4 GiB, which is identity-mapped; x2APIC is used only if CPUID
    // reports it. Enabling again on the same core is harmless.
    let apic = unsafe { LocalApic::enable(x2apic, SPURIOUS_VECTOR) };
    ingot_arch::interrupts::set_end_of_interrupt(apic.mode());
    apic
}

fn has_x2apic() -> bool {
    raw_cpuid::CpuId::new().get_feature_info().is_some_and(|info| info.has_x2apic())
}

/// The I/O APIC at `base` as the MADT lists it; `None` unless the page lies in the
/// identity-mapped low 4 GiB (where firmware always puts it).
pub fn io_apic(base: u64, gsi_base: u32) -> Option<ingot_arch::ioapic::IoApic> {
    // SAFETY: the address comes from the MADT's I/O APIC entry and lies in the low
    // 4 GiB, which is identity-mapped (checked here).
    (base != 0 && base < (4 << 30) - 4096)
        .then(|| unsafe { ingot_arch::ioapic::IoApic::new(base, gsi_base) })
}
