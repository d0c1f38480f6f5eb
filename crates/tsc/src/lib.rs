//! The TSC's frequency, found without trusting any one measurement.
//!
//! A frequency the hardware declares (the hypervisor's timing leaf 0x40000010, CPUID
//! leaf 0x15 with its crystal, or its ratio beside leaf 0x16's base frequency) is used
//! as it is. Otherwise the TSC is measured against
//! a reference counter of known rate (the ACPI PM timer, the PIT): [`measure`] reads
//! both clocks over a short window, [`calibrate`] repeats that until two measurements in
//! a row agree within [`AGREEMENT_PERCENT`] and lie in a plausible range, for a bounded
//! number of rounds. A busy emulator host can stall the guest between two reads or past
//! a counter wrap; such a measurement disagrees with its neighbour and is discarded
//! instead of becoming the kernel's clock. The windows are short (boot waits for
//! them); [`refine`] later recomputes the frequency over the long interval since the
//! calibration, which costs no waiting. Without a usable reference the kernel falls
//! back to CPUID leaf 0x16's base frequency, and last to a guess, and says which.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

mod measure;
mod source;

pub use measure::{
    AGREEMENT_PERCENT, Calibration, CalibrationError, CycleCounter, ReferenceCounter, Sample,
    agree, calibrate, calibrate_growing, measure, refine, sample,
};
pub use source::{
    Declared, GUESS_HZ, MAX_PLAUSIBLE_HZ, MIN_PLAUSIBLE_HZ, Source, declared, plausible,
};
