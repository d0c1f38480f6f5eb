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
    /// CPUID leaf 0x15 names a TSC/crystal ratio but no crystal frequency: the TSC runs
    /// at the nominal frequency of leaf 0x16 (as Linux takes it on such CPUs).
    CpuidTscLeafBaseFrequency,
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
            Self::CpuidTscLeafBaseFrequency => "cpuid 0x15 ratio, 0x16 base frequency",
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

/// What CPUID says about the TSC's frequency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Declared {
    /// The hypervisor's timing leaf 0x40000010, in kHz.
    pub hypervisor_khz: Option<u32>,
    /// Leaf 0x15's TSC frequency (crystal × ratio), in Hz, when it names its crystal.
    pub leaf_15_hz: Option<u64>,
    /// Whether leaf 0x15 names a TSC/crystal ratio (numerator and denominator not 0).
    pub leaf_15_ratio: bool,
    /// Leaf 0x16's base (nominal) frequency, in MHz.
    pub leaf_16_base_mhz: Option<u16>,
}

/// The frequency the hardware declares, if it declares a plausible one: the
/// hypervisor's leaf first, then leaf 0x15, then (only where leaf 0x15 names a ratio
/// without its crystal, as on some Intel generations) leaf 0x16's base frequency.
/// Leaf 0x16 alone is not believed: without leaf 0x15 nothing says the TSC runs at it.
pub fn declared(cpuid: Declared) -> Option<(u64, Source)> {
    let hypervisor = cpuid.hypervisor_khz.map(|khz| u64::from(khz) * 1000);
    let base = cpuid
        .leaf_16_base_mhz
        .filter(|_| cpuid.leaf_15_ratio)
        .map(|mhz| u64::from(mhz) * 1_000_000);
    [
        (hypervisor, Source::HypervisorLeaf),
        (cpuid.leaf_15_hz, Source::CpuidTscLeaf),
        (base, Source::CpuidTscLeafBaseFrequency),
    ]
    .into_iter()
    .find_map(|(hz, source)| hz.filter(|&hz| plausible(hz)).map(|hz| (hz, source)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(hypervisor_khz: Option<u32>, leaf_15_hz: Option<u64>) -> Declared {
        Declared { hypervisor_khz, leaf_15_hz, ..Declared::default() }
    }

    #[test]
    fn the_hypervisor_leaf_wins_over_leaf_15() {
        assert_eq!(
            declared(leaves(Some(2_600_000), Some(2_000_000_000))),
            Some((2_600_000_000, Source::HypervisorLeaf))
        );
        assert_eq!(
            declared(leaves(None, Some(2_000_000_000))),
            Some((2_000_000_000, Source::CpuidTscLeaf))
        );
        assert_eq!(declared(leaves(None, None)), None);
    }

    #[test]
    fn implausible_declarations_are_passed_over() {
        // A zeroed hypervisor leaf and a leaf 0x15 without its crystal are no answer.
        assert_eq!(declared(leaves(Some(0), Some(25))), None);
        assert_eq!(
            declared(leaves(Some(0), Some(3_000_000_000))),
            Some((3_000_000_000, Source::CpuidTscLeaf))
        );
    }

    #[test]
    fn leaf_16_counts_only_beside_a_leaf_15_ratio() {
        let base = Declared { leaf_16_base_mhz: Some(2_100), ..Declared::default() };
        assert_eq!(declared(base), None, "leaf 0x16 alone");
        let with_ratio = Declared { leaf_15_ratio: true, ..base };
        assert_eq!(declared(with_ratio), Some((2_100_000_000, Source::CpuidTscLeafBaseFrequency)));
        let with_crystal = Declared { leaf_15_hz: Some(2_112_000_000), ..with_ratio };
        assert_eq!(declared(with_crystal), Some((2_112_000_000, Source::CpuidTscLeaf)));
        assert_eq!(declared(Declared { leaf_16_base_mhz: Some(0), ..with_ratio }), None);
    }

    #[test]
    fn sources_name_themselves_for_the_boot_line() {
        assert_eq!(std::format!("{}", Source::AcpiPmTimer), "acpi pm timer");
        assert_eq!(std::format!("{}", Source::Guess), "guess: no clock to measure against");
    }
}
