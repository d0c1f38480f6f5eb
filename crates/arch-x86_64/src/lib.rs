//! The x86-64 CPU layer of Ingot: everything that must be written with `asm!` or
//! touches CPU state directly.
//!
//! This is one of the few crates allowed to contain `unsafe` (see `docs/architecture.md`,
//! "Unsafe policy"). It offers small safe functions where the operation cannot break
//! memory safety (halting, reading CR2, CPUID) and `unsafe fn`s with a `# Safety`
//! contract where it can (loading page tables, port I/O, calling a program). Calling
//! program code ([`program`]) restores every register the kernel relies on.
//!
//! # Safety
//! The kernel runs in ring 0 with I/O privilege, so every instruction used here is
//! permitted; the contracts below are about memory safety, not privilege.
#![cfg_attr(not(test), no_std)]

pub mod apic;
pub mod cpu;
pub mod descriptors;
pub mod exceptions;
pub mod interrupts;
pub mod ioapic;
pub mod msr;
pub mod percpu;
pub mod port;
pub mod program;
pub mod syscall;
pub mod trampoline;
