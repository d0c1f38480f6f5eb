//! Whether an ECAM window (from ACPI MCFG or `pci-ecam=` on the command line) may be
//! used at all.
//!
//! Enumeration writes into configuration space (BAR sizing), so a window placed over
//! RAM, the kernel or page 0 would have the kernel overwrite its own memory, and one past
//! the CPU's physical address width cannot be mapped. [`check_window`] compares the
//! window with what the kernel knows of the machine and names the first conflict; the
//! caller then falls back to configuration mechanism #1.

use core::fmt;

/// Bytes of configuration space per bus (32 devices × 8 functions × 4 KiB).
pub const BYTES_PER_BUS: u64 = 1 << 20;

/// An ECAM window as MCFG describes it: `base` is bus 0's address even when the
/// window starts at a later bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EcamWindow {
    /// Physical address of bus 0's configuration space.
    pub base: u64,
    /// First bus decoded.
    pub first_bus: u8,
    /// Last bus decoded (inclusive).
    pub last_bus: u8,
}

/// What the window must stay clear of.
#[derive(Debug, Clone, Copy)]
pub struct Surroundings<'a> {
    /// RAM of any kind (usable, ACPI tables, ACPI NVS), as `[start, end)` ranges.
    pub ram: &'a [(u64, u64)],
    /// The kernel image, `[start, end)`.
    pub kernel: (u64, u64),
    /// The CPU's physical address width in bits (CPUID 0x80000008 EAX[7:0]).
    pub physical_address_bits: u8,
}

/// Why a window was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EcamRefusal {
    /// The last bus is below the first.
    EmptyBusRange,
    /// The base is not a multiple of 1 MiB.
    Misaligned,
    /// The window's end does not fit in 64 bits.
    Overflow,
    /// The window covers page 0.
    PageZero,
    /// The window overlaps the kernel image `[start, end)`.
    Kernel(u64, u64),
    /// The window overlaps RAM `[start, end)`.
    Ram(u64, u64),
    /// The window ends past the CPU's physical address width (bits).
    PastPhysicalWidth(u8),
}

impl fmt::Display for EcamRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::EmptyBusRange => f.write_str("last bus before first bus"),
            Self::Misaligned => f.write_str("base not aligned to 1 MiB"),
            Self::Overflow => f.write_str("window wraps past the end of the address space"),
            Self::PageZero => f.write_str("covers page 0"),
            Self::Kernel(start, end) => {
                write!(f, "overlaps the kernel image {start:#x}-{:#x}", end - 1)
            }
            Self::Ram(start, end) => write!(f, "overlaps RAM {start:#x}-{:#x}", end - 1),
            Self::PastPhysicalWidth(bits) => {
                write!(f, "ends past the CPU's {bits}-bit physical address width")
            }
        }
    }
}

impl EcamWindow {
    /// The window's physical bytes `[start, end)`, if the bus range and base allow it.
    pub fn span(&self) -> Result<(u64, u64), EcamRefusal> {
        if self.last_bus < self.first_bus {
            return Err(EcamRefusal::EmptyBusRange);
        }
        if !self.base.is_multiple_of(BYTES_PER_BUS) {
            return Err(EcamRefusal::Misaligned);
        }
        let start = self
            .base
            .checked_add(u64::from(self.first_bus) * BYTES_PER_BUS)
            .ok_or(EcamRefusal::Overflow)?;
        let buses = u64::from(self.last_bus - self.first_bus) + 1;
        let end = start.checked_add(buses * BYTES_PER_BUS).ok_or(EcamRefusal::Overflow)?;
        Ok((start, end))
    }
}

/// The window's `[start, end)` if it is clear of everything in `around`, else the first
/// reason found (in the order: shape, page 0, kernel, RAM, physical width).
pub fn check_window(
    window: &EcamWindow,
    around: &Surroundings<'_>,
) -> Result<(u64, u64), EcamRefusal> {
    let (start, end) = window.span()?;
    let overlaps = |(other_start, other_end): (u64, u64)| start < other_end && other_start < end;
    if start < 4096 {
        return Err(EcamRefusal::PageZero);
    }
    if overlaps(around.kernel) {
        return Err(EcamRefusal::Kernel(around.kernel.0, around.kernel.1));
    }
    if let Some(&(ram_start, ram_end)) = around.ram.iter().find(|&&range| overlaps(range)) {
        return Err(EcamRefusal::Ram(ram_start, ram_end));
    }
    let limit = 1u128 << around.physical_address_bits.min(64);
    if u128::from(end) > limit {
        return Err(EcamRefusal::PastPhysicalWidth(around.physical_address_bits));
    }
    Ok((start, end))
}

/// The physical address width to assume when CPUID has no leaf 0x80000008 (the
/// architectural value for CPUs with PAE).
pub const DEFAULT_PHYSICAL_ADDRESS_BITS: u8 = 36;

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;

    const RAM: [(u64, u64); 2] = [(0x1000, 0x9_F000), (0x10_0000, 0x800_0000)];
    const AROUND: Surroundings<'static> =
        Surroundings { ram: &RAM, kernel: (0x10_0000, 0x12_3000), physical_address_bits: 40 };

    fn whole(base: u64) -> EcamWindow {
        EcamWindow { base, first_bus: 0, last_bus: 255 }
    }

    #[test]
    fn q35s_mcfg_window_is_accepted() {
        assert_eq!(check_window(&whole(0xB000_0000), &AROUND), Ok((0xB000_0000, 0xC000_0000)));
    }

    #[test]
    fn a_window_on_the_kernel_is_refused_naming_the_kernel() {
        let refusal = check_window(&whole(0x10_0000), &AROUND).unwrap_err();
        assert_eq!(refusal, EcamRefusal::Kernel(0x10_0000, 0x12_3000));
        assert_eq!(std::format!("{refusal}"), "overlaps the kernel image 0x100000-0x122fff");
    }

    #[test]
    fn a_window_at_zero_is_refused_for_page_0() {
        assert_eq!(check_window(&whole(0), &AROUND), Err(EcamRefusal::PageZero));
    }

    #[test]
    fn a_window_inside_ram_is_refused_naming_the_ram() {
        let refusal = check_window(&whole(0x400_0000), &AROUND).unwrap_err();
        assert_eq!(refusal, EcamRefusal::Ram(0x10_0000, 0x800_0000));
        assert_eq!(std::format!("{refusal}"), "overlaps RAM 0x100000-0x7ffffff");
    }

    #[test]
    fn a_window_that_only_touches_ram_is_accepted() {
        // Buses 0-255 end exactly where RAM starts; one byte more would overlap.
        let below = EcamWindow { base: 0x1000_0000, first_bus: 0, last_bus: 255 };
        let ram = [(0x2000_0000, 0x3000_0000)];
        let around = Surroundings { ram: &ram, ..AROUND };
        assert!(check_window(&below, &around).is_ok());
        let touching = EcamWindow { base: 0x1010_0000, ..below };
        assert_eq!(
            check_window(&touching, &around),
            Err(EcamRefusal::Ram(0x2000_0000, 0x3000_0000))
        );
    }

    #[test]
    fn the_bus_range_decides_what_is_covered() {
        // Base in RAM, but buses 128-255 lie at 0x8000000.. above it.
        let upper = EcamWindow { base: 0, first_bus: 128, last_bus: 255 };
        assert_eq!(check_window(&upper, &AROUND), Ok((0x800_0000, 0x1000_0000)));
        let reversed = EcamWindow { base: 0xB000_0000, first_bus: 2, last_bus: 1 };
        assert_eq!(check_window(&reversed, &AROUND), Err(EcamRefusal::EmptyBusRange));
    }

    #[test]
    fn the_physical_width_bounds_the_window() {
        let top = whole((1 << 40) - (256 << 20));
        assert!(check_window(&top, &AROUND).is_ok());
        let past = whole(1 << 40);
        let refusal = check_window(&past, &AROUND).unwrap_err();
        assert_eq!(refusal, EcamRefusal::PastPhysicalWidth(40));
        assert_eq!(std::format!("{refusal}"), "ends past the CPU's 40-bit physical address width");
        let straddling = whole((1 << 40) - (128 << 20));
        assert_eq!(check_window(&straddling, &AROUND), Err(EcamRefusal::PastPhysicalWidth(40)));
    }

    #[test]
    fn misaligned_and_wrapping_windows_are_refused() {
        assert_eq!(check_window(&whole(0xB000_1000), &AROUND), Err(EcamRefusal::Misaligned));
        assert_eq!(check_window(&whole(u64::MAX - 0xF_FFFF), &AROUND), Err(EcamRefusal::Overflow));
    }
}
