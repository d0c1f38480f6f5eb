//! The PC platform: real implementations of the `ingot-hal` traits and the few other
//! places where the kernel must turn addresses into memory.
//!
//! One of the few crates allowed to contain `unsafe` (see `docs/architecture.md`).
//! Everything it exports is safe to call from `forbid(unsafe_code)` crates with any
//! arguments, because:
//! - the raw memory it hands out always comes from [`frames::PhysicalFrames`], which
//!   only ever holds free RAM from the firmware map minus the kernel image and the
//!   boot modules;
//! - device windows ([`mmio::MmioRegion`], ECAM) are mapped only through
//!   [`address_space::AddressSpace::map_mmio`], which refuses any range that is not
//!   reserved or a hole in the firmware map, or that touches the kernel image;
//! - port access goes through [`io_ports::IoPorts`] handles, each checked against
//!   its own set of ports on every access;
//! - program memory is reached only through [`program_memory::ProgramMemory`], which
//!   checks ranges against the window and its guard page and copies with atomics;
//! - program code is called only through `ingot_arch::program`, which restores the
//!   kernel's callee-saved registers and stack pointer afterwards.
//!
//! # Safety
//! The kernel runs in ring 0 on an identity map of physical memory up to the end
//! recorded by [`physical::set_identity_end`] (4 GiB as the boot stub leaves it), and
//! the program window is mapped at [`ingot_abi::PROGRAM_BASE`] once
//! [`program_memory::ProgramMemory`] exists.
#![no_std]

pub mod address_space;
pub mod apic;
pub mod cores;
pub mod cpu_tables;
pub mod dma;
pub mod framebuffer;
pub mod frames;
pub mod guard_pages;
pub mod heap;
pub mod io_ports;
pub mod mmio;
pub mod pci_config;
pub mod physical;
pub mod program_memory;
mod shared_copy;
