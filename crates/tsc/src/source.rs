//! Where a TSC frequency came from, and which declared values are believed.

use core::fmt;

/// Below this no CPU that runs the kernel has its TSC.
pub const MIN_PLAUSIBLE_HZ: u64 = 100_000_000;
/// Above this no TSC runs today.
pub const MAX_PLAUSIBLE_HZ: u64 = 10_000_000_000;
/// The frequency assumed when nothing else is known.
pub const GUESS_HZ: u64 = 1_000_000_000;

/// How the TSC frequency was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The hypervisor's timing leaf (CPUID 0x40000010).
    HypervisorLeaf,
    /// CPUID leaf 0x15 (TSC/crystal ratio and crystal frequency).
    CpuidTscLeaf,
    /// Measured against the ACPI PM timer (3.579545 MHz).
    AcpiPmTimer,
    /// Measured against the PIT (1.193182 MHz).
    Pit,
    /// CPUID leaf 0x16's base frequency (no reference counter to measure with).
    CpuidBaseFrequency,
    /// Nothing to go by: a guess.
    Guess,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::HypervisorLeaf => "cpuid 0x40000010",
            Self::CpuidTscLeaf => "cpuid 0x15",
            Self::AcpiPmTimer => "acpi pm timer",
            Self::Pit => "pit",
            Self::CpuidBaseFrequency => "cpuid 0x16 base frequency, not measured",
            Self::Guess => "guess: no clock to measure against",
        })
    }
}

/// Whether `hz` can be a TSC frequency.
pub fn plausible(hz: u64) -> bool {
    (MIN_PLAUSIBLE_HZ..=MAX_PLAUSIBLE_HZ).contains(&hz)
}

/// The frequency the hardware declares, if it declares a plausible one: the
/// hypervisor's leaf (in kHz) first, then leaf 0x15 (in Hz).
pub fn declared(hypervisor_khz: Option<u32>, leaf_15_hz: Option<u64>) -> Option<(u64, Source)> {
    let hypervisor = hypervisor_khz.map(|khz| u64::from(khz) * 1000);
    [(hypervisor, Source::HypervisorLeaf), (leaf_15_hz, Source::CpuidTscLeaf)]
        .into_iter()
        .find_map(|(hz, source)| hz.filter(|&hz| plausible(hz)).map(|hz| (hz, source)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hypervisor_leaf_wins_over_leaf_15() {
        assert_eq!(
            declared(Some(2_600_000), Some(2_000_000_000)),
            Some((2_600_000_000, Source::HypervisorLeaf))
        );
        assert_eq!(
            declared(None, Some(2_000_000_000)),
            Some((2_000_000_000, Source::CpuidTscLeaf))
        );
        assert_eq!(declared(None, None), None);
    }

    #[test]
    fn implausible_declarations_are_passed_over() {
        // A zeroed hypervisor leaf and a leaf 0x15 without its crystal are no answer.
        assert_eq!(declared(Some(0), Some(25)), None);
        assert_eq!(
            declared(Some(0), Some(3_000_000_000)),
            Some((3_000_000_000, Source::CpuidTscLeaf))
        );
    }

    #[test]
    fn sources_name_themselves_for_the_boot_line() {
        assert_eq!(std::format!("{}", Source::AcpiPmTimer), "acpi pm timer");
        assert_eq!(std::format!("{}", Source::Guess), "guess: no clock to measure against");
    }
}
