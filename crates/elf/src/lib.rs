//! Loading ELF programs into the program window, as pure functions over a byte buffer.
//!
//! The kernel copies the file to the start of the window and hands this crate that
//! memory as one `&mut [u8]`; [`load_in_place`] checks every header before it changes a
//! byte, then moves each `PT_LOAD` segment to its place, clears its `.bss` and applies
//! the relocations of a static PIE. Doing it in one buffer keeps the kernel free of
//! `unsafe` and lets the host tests check the result byte for byte.
//!
//! A fixed-address executable linked below the window (plain `musl-gcc -static`) is
//! loaded by [`load_into`] into memory the kernel set aside at its addresses.
//!
//! [`stack`] builds the start stack (arguments, environment, auxiliary vector) that a
//! program finds on entry.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod check;
mod error;
mod fixed;
mod header;
mod load;
pub mod stack;

pub use check::{Abi, Placement, Plan, plan};
pub use error::ElfError;
pub use fixed::{fixed_image_range, load_into};
pub use load::{Loaded, load_in_place};

/// `\x7fELF`: the first bytes of every ELF file.
pub const ELF_MAGIC: [u8; 4] = [0x7F, b'E', b'L', b'F'];

/// The owner name of the note that marks a program written for Ingot's native table
/// (`.note.ingot`, type [`INGOT_NOTE_TYPE`]); an ELF file without it is a Linux program.
pub const INGOT_NOTE_NAME: &[u8] = b"Ingot\0";
/// The type of the Ingot note.
pub const INGOT_NOTE_TYPE: u32 = 1;

/// Whether `file` starts like an ELF file (the loader then treats it as one).
pub fn is_elf(file: &[u8]) -> bool {
    file.starts_with(&ELF_MAGIC)
}

#[cfg(test)]
mod tests;
