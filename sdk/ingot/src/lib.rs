//! The Rust SDK for Ingot programs.
//!
//! A program is a `#![no_std] #![no_main]` binary for `x86_64-unknown-none` that
//! names its main function with [`entry!`] and links with `program.ld` (the program's
//! `build.rs` calls [`link_args`]'s rules; see `apps/hello`). The kernel copies the
//! flat binary to `ingot_abi::PROGRAM_BASE`, calls its first byte with the API table
//! address, and reports the returned value as the exit status.
//!
//! One of the unsafe-tier crates: the entry shim and the calls through the kernel's
//! function table are the only `unsafe` a program needs.
#![no_std]

pub use ingot_abi as abi;

mod calls;
pub mod console;
pub mod cores;
pub mod disk;
#[cfg(feature = "heap")]
pub mod heap;
pub mod net;
pub mod scratch;
#[doc(hidden)]
pub mod start;

pub use calls::{memory_info, read_byte, write, write_raw};

/// Declares the program's main function: `fn main() -> u64` (the exit status).
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[doc(hidden)]
        #[unsafe(no_mangle)]
        pub fn ingot_program_main() -> u64 {
            let main: fn() -> u64 = $main;
            main()
        }
    };
}
