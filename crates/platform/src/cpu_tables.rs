//! Loading the CPU's descriptor tables, once.

use core::sync::atomic::{AtomicBool, Ordering};

static LOADED: AtomicBool = AtomicBool::new(false);

/// Loads the GDT, TSS and IDT on the bootstrap core. Only the first call does anything,
/// which is what `ingot_arch::descriptors::load` requires; it runs before any other
/// core is started and with interrupts off (the boot stub leaves them off).
pub fn load_on_bootstrap_core() {
    if LOADED.swap(true, Ordering::AcqRel) {
        return;
    }
    // SAFETY: first and only call, on the bootstrap core, before other cores start and
    // before interrupts are enabled (see above).
    unsafe { ingot_arch::descriptors::load_bootstrap() }
}

/// Resets the machine by a triple fault: loads an empty IDT and raises an exception.
/// The last resort of a reboot.
pub fn triple_fault() -> ! {
    let empty = [0u16; 5];
    // SAFETY: deliberately ends this machine's execution; nothing runs afterwards.
    unsafe { core::arch::asm!("lidt [{}]", "int3", in(reg) &empty, options(nostack)) }
    ingot_arch::cpu::halt_forever()
}
