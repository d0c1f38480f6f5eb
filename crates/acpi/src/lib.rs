//! The ACPI static tables the kernel needs to find cores, interrupt controllers, timers,
//! PCI configuration space, the power-off/reset registers and (QEMU's microvm) the
//! virtio-mmio devices.
//!
//! Firmware tables are untrusted input: every read goes through
//! [`PhysicalMemory`](ingot_bootinfo::PhysicalMemory) (so the parsers are tested on the
//! host against byte images), every table's length and checksum is validated, lengths
//! are capped at [`MAX_TABLE_LENGTH`], every loop is bounded by a validated length, and
//! results live in fixed-capacity lists ([`BoundedList`]) that count what did not fit.
//! A damaged table is skipped and recorded in [`Acpi::problems`] instead of failing the
//! whole parse; only an unusable RSDP or root table is an [`AcpiError`].
//!
//! Entry points: [`find_rsdp`] locates the RSDP, [`Acpi::parse`] walks everything below it.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

mod acpi;
mod error;
mod fadt;
mod gas;
mod hpet;
mod list;
mod madt;
mod mcfg;
mod rsdp;
mod s5;
mod sdt;
mod virtio_mmio;

#[cfg(test)]
mod tests;

pub use acpi::{Acpi, MAX_PROBLEMS, MAX_TABLES};
pub use error::{AcpiError, ProblemKind, TableProblem};
pub use fadt::{Fadt, ResetRegister};
pub use gas::GenericAddress;
pub use hpet::Hpet;
pub use list::BoundedList;
pub use madt::{
    InterruptOverride, IoApic, LocalApicNmi, MAX_INTERRUPT_OVERRIDES, MAX_IO_APICS,
    MAX_LOCAL_APIC_NMIS, MAX_PROCESSORS, Madt, Processor,
};
pub use mcfg::{EcamRegion, MAX_ECAM_REGIONS, Mcfg};
pub use rsdp::{Rsdp, find_rsdp};
pub use s5::SleepType;
pub use sdt::{HEADER_LENGTH, MAX_TABLE_LENGTH, TableInfo};
pub use virtio_mmio::{MAX_VIRTIO_MMIO, VirtioMmioDevice};
