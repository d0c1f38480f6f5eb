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
const ICR_STARTUP: u32 = 0b110 << 8;
const LVT_MASKED: u32 = 1 << 16;
const TIMER_DIVIDE_BY_1: u32 = 0b1011;

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
            ApicMode::X2Apic => unsafe { msr::read(msr::X2APIC_BASE + register / 16) as u32 },
        }
    }

    fn write(&self, register: u32, value: u32) {
        match self.mode {
            // SAFETY: as in `read`; APIC register writes have no effect on memory.
            ApicMode::XApic { base } => unsafe {
                ((base + u64::from(register)) as *mut u32).write_volatile(value)
            },
            // SAFETY: x2APIC mode is on, so the x2APIC MSRs exist.
            ApicMode::X2Apic => unsafe {
                msr::write(msr::X2APIC_BASE + register / 16, u64::from(value))
            },
        }
    }

    /// This core's APIC ID.
    pub fn id(&self) -> u32 {
        match self.mode {
            ApicMode::XApic { .. } => self.read(REG_ID) >> 24,
            ApicMode::X2Apic => self.read(REG_ID),
        }
    }

    /// Signals end of interrupt.
    pub fn end_of_interrupt(&self) {
        self.write(REG_EOI, 0);
    }

    /// Sends `ipi` to the core with APIC ID `destination`.
    pub fn send(&self, destination: u32, ipi: Ipi) {
        let command = match ipi {
            Ipi::Fixed { vector } => u32::from(vector) | ICR_LEVEL_ASSERT,
            Ipi::Init => ICR_INIT | ICR_LEVEL_ASSERT,
            Ipi::Startup { page } => ICR_STARTUP | ICR_LEVEL_ASSERT | u32::from(page),
        };
        match self.mode {
            ApicMode::XApic { .. } => {
                self.wait_for_delivery();
                self.write(REG_ICR_HIGH, destination << 24);
                self.write(REG_ICR_LOW, command);
                self.wait_for_delivery();
            }
            ApicMode::X2Apic => {
                let value = (u64::from(destination) << 32) | u64::from(command);
                // SAFETY: x2APIC mode is on; the ICR MSR takes destination and command at once.
                unsafe { msr::write(msr::X2APIC_BASE + REG_ICR_LOW / 16, value) }
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

    /// Ticks left on the one-shot timer (0 = expired or never started).
    pub fn timer_remaining(&self) -> u32 {
        self.read(REG_TIMER_CURRENT)
    }
}
