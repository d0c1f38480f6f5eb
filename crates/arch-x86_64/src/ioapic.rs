//! The I/O APIC: routes device interrupt lines (GSIs) to local APICs.
//!
//! Registers are reached through an index/data pair in its MMIO page: IOREGSEL at +0x00,
//! IOWIN at +0x10. Register 1 holds the version and the highest redirection entry;
//! entry `n` is registers `0x10 + 2n` (low: vector, delivery, polarity, trigger, mask)
//! and `0x11 + 2n` (high: destination APIC ID in bits 63:56).

const REGISTER_SELECT: u64 = 0x00;
const REGISTER_WINDOW: u64 = 0x10;
const VERSION_REGISTER: u32 = 0x01;
const REDIRECTION_BASE: u32 = 0x10;
/// Redirection-entry bit that masks the line.
pub const ENTRY_MASKED: u64 = 1 << 16;
const ENTRY_LEVEL_TRIGGERED: u64 = 1 << 15;
const ENTRY_ACTIVE_LOW: u64 = 1 << 13;

/// How an interrupt line signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LineMode {
    /// Active low (else active high, the ISA default).
    pub active_low: bool,
    /// Level-triggered (else edge, the ISA default).
    pub level_triggered: bool,
}

/// A redirection entry delivering `vector` to the local APIC `destination` (fixed,
/// physical destination mode), unmasked.
pub fn redirection_entry(vector: u8, destination: u8, mode: LineMode) -> u64 {
    let mut entry = u64::from(vector) | (u64::from(destination) << 56);
    if mode.active_low {
        entry |= ENTRY_ACTIVE_LOW;
    }
    if mode.level_triggered {
        entry |= ENTRY_LEVEL_TRIGGERED;
    }
    entry
}

/// One I/O APIC at an identity-mapped MMIO base.
#[derive(Debug, Clone, Copy)]
pub struct IoApic {
    base: u64,
    /// First GSI this I/O APIC handles.
    pub gsi_base: u32,
}

impl IoApic {
    /// The I/O APIC whose register page is at `base`.
    ///
    /// # Safety
    /// `base` must be the identity-mapped register page of an I/O APIC (from the MADT).
    pub unsafe fn new(base: u64, gsi_base: u32) -> Self {
        Self { base, gsi_base }
    }

    fn read(&self, register: u32) -> u32 {
        // SAFETY: `base` is an I/O APIC register page (contract of `new`); selecting a
        // register and reading the window has no effect beyond the APIC itself.
        unsafe {
            ((self.base + REGISTER_SELECT) as *mut u32).write_volatile(register);
            ((self.base + REGISTER_WINDOW) as *const u32).read_volatile()
        }
    }

    fn write(&self, register: u32, value: u32) {
        // SAFETY: as in `read`; redirection entries only steer interrupt messages.
        unsafe {
            ((self.base + REGISTER_SELECT) as *mut u32).write_volatile(register);
            ((self.base + REGISTER_WINDOW) as *mut u32).write_volatile(value);
        }
    }

    /// Number of redirection entries (interrupt lines).
    pub fn lines(&self) -> u32 {
        ((self.read(VERSION_REGISTER) >> 16) & 0xFF) + 1
    }

    /// Writes redirection entry `line` (high half first, so a half-written entry is
    /// never live with a stale destination).
    pub fn set_entry(&self, line: u32, entry: u64) {
        let register = REDIRECTION_BASE + 2 * line;
        self.write(register, ENTRY_MASKED as u32);
        self.write(register + 1, (entry >> 32) as u32);
        self.write(register, entry as u32);
    }

    /// Masks every line.
    pub fn mask_all(&self) {
        for line in 0..self.lines() {
            self.set_entry(line, ENTRY_MASKED);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirection_entries_follow_the_datasheet() {
        assert_eq!(redirection_entry(0x30, 2, LineMode::default()), 0x0200_0000_0000_0030);
        let pci = LineMode { active_low: true, level_triggered: true };
        assert_eq!(redirection_entry(0x41, 0, pci), 0x0000_0000_0000_A041);
        assert_eq!(redirection_entry(0x41, 0, pci) & ENTRY_MASKED, 0, "routed lines are unmasked");
    }
}
