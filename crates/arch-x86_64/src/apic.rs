//! The local APIC in xAPIC (MMIO) or x2APIC (MSR) mode: ID, EOI, IPIs, timer.

use crate::msr;

const XAPIC_DEFAULT_BASE: u64 = 0xFEE0_0000;
const APIC_BASE_ENABLE: u64 = 1 << 11;
const APIC_BASE_X2APIC: u64 = 1 << 10;

const REG_ID: u32 = 0x20;
const REG_EOI: u32 = 0xB0;
const REG_SPURIOUS: u32 = 0xF0;
const REG_ICR_LOW: u32 = 0x300;
const REG_ICR_HIGH: u32 = 0x310;
const REG_LVT_TIMER: u32 = 0x320;
const REG_TIMER_INITIAL: u32 = 0x380;
const REG_TIMER_CURRENT: u32 = 0x390;
const REG_TIMER_DIVIDE: u32 = 0x3E0;
const REG_TASK_PRIORITY: u32 = 0x80;

const ICR_DELIVERY_PENDING: u32 = 1 << 12;
const ICR_LEVEL_ASSERT: u32 = 1 << 14;
const ICR_INIT: u32 = 0b101 << 8;
const ICR_NMI: u32 = 0b100 << 8;
const ICR_STARTUP: u32 = 0b110 << 8;
const LVT_MASKED: u32 = 1 << 16;
const TIMER_DIVIDE_BY_1: u32 = 0b1011;
const LVT_TIMER_TSC_DEADLINE: u32 = 0b10 << 17;

/// How this core talks to its local APIC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApicMode {
    /// Registers at an MMIO base (identity-mapped).
    XApic {
        /// Physical base of the register page.
        base: u64,
    },
    /// Registers as MSRs.
    X2Apic,
}

/// The local APIC of the calling core.
#[derive(Debug, Clone, Copy)]
pub struct LocalApic {
    mode: ApicMode,
}

/// An interprocessor interrupt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipi {
    /// Deliver `vector` to one core.
    Fixed {
        /// Interrupt vector.
        vector: u8,
    },
    /// INIT (reset the target into wait-for-SIPI).
    Init,
    /// A non-maskable interrupt (delivered even with interrupts off; vector 2).
    Nmi,
    /// Start-up at physical address `page << 12` in real mode.
    Startup {
        /// The 4 KiB page number of the start code (below 1 MiB).
        page: u8,
    },
}

impl LocalApic {
    /// Enables the calling core's local APIC, in x2APIC mode when `use_x2apic` (the
    /// caller checks CPUID), and sets the spurious vector.
    ///
    /// # Safety
    /// In xAPIC mode the register page must be identity-mapped. Call once per core,
    /// with interrupts disabled.
    pub unsafe fn enable(use_x2apic: bool, spurious_vector: u8) -> Self {
        // SAFETY: IA32_APIC_BASE exists on every x86-64 CPU.
        let base_msr = unsafe { msr::read(msr::APIC_BASE) };
        let mut value = base_msr | APIC_BASE_ENABLE;
        if use_x2apic {
            value |= APIC_BASE_X2APIC;
        }
        // SAFETY: enabling the APIC (and x2APIC mode, which the caller checked exists)
        // changes no memory mapping.
        unsafe { msr::write(msr::APIC_BASE, value) }
        let mode = if use_x2apic {
            ApicMode::X2Apic
        } else {
            let base = base_msr & 0x000F_FFFF_FFFF_F000;
            ApicMode::XApic { base: if base == 0 { XAPIC_DEFAULT_BASE } else { base } }
        };
        let apic = Self { mode };
        apic.write(REG_TASK_PRIORITY, 0);
        apic.write(REG_SPURIOUS, 0x100 | u32::from(spurious_vector));
        apic.write(REG_LVT_TIMER, LVT_MASKED);
        apic
    }

    /// The mode in use.
    pub fn mode(&self) -> ApicMode {
        self.mode
    }

    fn read(&self, register: u32) -> u32 {
        match self.mode {
            // SAFETY: the register page is identity-mapped (contract of `enable`) and
            // APIC registers are 32-bit aligned.
            ApicMode::XApic { base } => unsafe {
                ((base + u64::from(register)) as *const u32).read_volatile()
            },
            // SAFETY: x2APIC mode is on, so the x2APIC MSRs exist.
            ApicMode::X2Apic => unsafe { msr::read(x2apic_msr(register)) as u32 },
        }
    }

    fn write(&self, register: u32, value: u32) {
        match self.mode {
            // SAFETY: as in `read`; APIC register writes have no effect on memory.
            ApicMode::XApic { base } => unsafe {
                ((base + u64::from(register)) as *mut u32).write_volatile(value)
            },
            // SAFETY: x2APIC mode is on, so the x2APIC MSRs exist.
            ApicMode::X2Apic => unsafe { msr::write(x2apic_msr(register), u64::from(value)) },
        }
    }

    /// This core's APIC ID.
    pub fn id(&self) -> u32 {
        apic_id_from_register(self.mode, self.read(REG_ID))
    }

    /// Signals end of interrupt.
    pub fn end_of_interrupt(&self) {
        self.write(REG_EOI, 0);
    }

    /// Sends `ipi` to the core with APIC ID `destination`.
    pub fn send(&self, destination: u32, ipi: Ipi) {
        let command = icr_command(ipi);
        match self.mode {
            ApicMode::XApic { .. } => {
                self.wait_for_delivery();
                self.write(REG_ICR_HIGH, xapic_icr_high(destination));
                self.write(REG_ICR_LOW, command);
                self.wait_for_delivery();
            }
            ApicMode::X2Apic => {
                // SAFETY: x2APIC mode is on; the ICR MSR takes destination and command at once.
                unsafe { msr::write(x2apic_msr(REG_ICR_LOW), x2apic_icr(destination, command)) }
            }
        }
    }

    fn wait_for_delivery(&self) {
        for _ in 0..1_000_000 {
            if self.read(REG_ICR_LOW) & ICR_DELIVERY_PENDING == 0 {
                return;
            }
            core::hint::spin_loop();
        }
    }

    /// Starts the one-shot timer counting down `ticks` (divide by 1, masked: it is read
    /// by polling [`Self::timer_remaining`], or unmasked with `vector`).
    pub fn start_one_shot(&self, ticks: u32, vector: Option<u8>) {
        self.write(REG_TIMER_DIVIDE, TIMER_DIVIDE_BY_1);
        self.write(REG_LVT_TIMER, vector.map_or(LVT_MASKED, u32::from));
        self.write(REG_TIMER_INITIAL, ticks);
    }

    /// Arms the timer in TSC-deadline mode: `vector` fires once the TSC reaches
    /// `deadline` (the caller checked CPUID's `tsc_deadline`). Writing the timer in
    /// any other mode afterwards (e.g. [`Self::start_one_shot`]) disarms it.
    pub fn arm_tsc_deadline(&self, deadline: u64, vector: u8) {
        self.write(REG_LVT_TIMER, u32::from(vector) | LVT_TIMER_TSC_DEADLINE);
        // SAFETY: `mfence` orders the LVT write before the MSR write (the SDM asks for
        // it in xAPIC mode); it touches no memory.
        unsafe { core::arch::asm!("mfence", options(nostack, preserves_flags)) }
        // SAFETY: IA32_TSC_DEADLINE exists when CPUID says so (the caller's check);
        // arming it only schedules an interrupt.
        unsafe { msr::write(msr::TSC_DEADLINE, deadline.max(1)) }
    }

    /// Stops a TSC-deadline timer (leaves the LVT in TSC-deadline mode, masked).
    pub fn disarm_tsc_deadline(&self) {
        // SAFETY: as in `arm_tsc_deadline`; zero disarms.
        unsafe { msr::write(msr::TSC_DEADLINE, 0) }
        self.write(REG_LVT_TIMER, LVT_MASKED);
    }

    /// Ticks left on the one-shot timer (0 = expired or never started).
    pub fn timer_remaining(&self) -> u32 {
        self.read(REG_TIMER_CURRENT)
    }
}

/// The low ICR word for an IPI (vector, delivery mode, level assert; physical
/// destination, no shorthand).
fn icr_command(ipi: Ipi) -> u32 {
    match ipi {
        Ipi::Fixed { vector } => u32::from(vector) | ICR_LEVEL_ASSERT,
        Ipi::Init => ICR_INIT | ICR_LEVEL_ASSERT,
        Ipi::Nmi => ICR_NMI | ICR_LEVEL_ASSERT,
        Ipi::Startup { page } => ICR_STARTUP | ICR_LEVEL_ASSERT | u32::from(page),
    }
}

/// xAPIC ICR high word: the 8-bit destination in bits 31:24.
fn xapic_icr_high(destination: u32) -> u32 {
    destination << 24
}

/// x2APIC ICR (one 64-bit MSR): the 32-bit destination in bits 63:32.
fn x2apic_icr(destination: u32, command: u32) -> u64 {
    (u64::from(destination) << 32) | u64::from(command)
}

/// The MSR of xAPIC register offset `register` in x2APIC mode (SDM: 0x800 + offset/16).
fn x2apic_msr(register: u32) -> u32 {
    msr::X2APIC_BASE + register / 16
}

/// The APIC ID from the ID register: bits 31:24 in xAPIC mode, all 32 bits in x2APIC.
fn apic_id_from_register(mode: ApicMode, value: u32) -> u32 {
    match mode {
        ApicMode::XApic { .. } => value >> 24,
        ApicMode::X2Apic => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipi_commands_follow_the_sdm_encoding() {
        assert_eq!(icr_command(Ipi::Fixed { vector: 0xF0 }), 0x0000_40F0);
        assert_eq!(icr_command(Ipi::Init), 0x0000_4500);
        assert_eq!(icr_command(Ipi::Startup { page: 0x08 }), 0x0000_4608);
        assert_eq!(icr_command(Ipi::Nmi), 0x0000_4400);
    }

    #[test]
    fn x2apic_registers_and_icr() {
        assert_eq!(x2apic_msr(REG_ID), 0x802);
        assert_eq!(x2apic_msr(REG_EOI), 0x80B);
        assert_eq!(x2apic_msr(REG_ICR_LOW), 0x830);
        assert_eq!(x2apic_msr(REG_LVT_TIMER), 0x832);
        assert_eq!(x2apic_msr(REG_TIMER_CURRENT), 0x839);
        assert_eq!(x2apic_icr(300, 0x40F0), 0x0000_012C_0000_40F0);
        assert_eq!(xapic_icr_high(7), 0x0700_0000);
    }

    #[test]
    fn apic_ids_by_mode() {
        assert_eq!(apic_id_from_register(ApicMode::XApic { base: 0xFEE0_0000 }, 0x0300_0000), 3);
        assert_eq!(apic_id_from_register(ApicMode::X2Apic, 300), 300);
    }
}
