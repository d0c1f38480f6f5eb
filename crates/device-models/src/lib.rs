//! Host-side device models for driver unit tests, written from the specifications.
//!
//! [`memory::HostMemory`] plays physical RAM: drivers get DMA buffers from it through
//! [`ingot_hal::DmaAllocator`], and models read and write the same bytes by physical
//! address, as a bus-master device would. [`memory::StepClock`] is a clock that
//! advances on every reading, so timeouts happen in tests without waiting. Each
//! model can be told to fail commands or to stop answering.

#![forbid(unsafe_code)]

pub mod ahci;
pub mod e1000;
pub mod i8042;
pub mod ide;
pub mod ixgbe;
pub mod memory;
pub mod msi;
pub mod nvme;
pub mod r8169;
pub mod realtek;
pub mod rtl8139;
pub mod virtio;
pub mod virtio_blk;
pub mod virtio_mmio;
pub mod virtio_net;
pub mod xhci;

pub use memory::{HostBuffer, HostDma, HostMemory, StepClock};
