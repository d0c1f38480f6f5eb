//! The Rust SDK for Ingot programs.
//!
//! A program is a `#![no_std] #![no_main]` binary for `x86_64-unknown-none` that
//! names its main function with [`entry!`] and links with `program.ld` (the program's
//! `build.rs` passes it to the linker; see `apps/hello`, or start one with
//! `cargo xtask new NAME`). The kernel loads the flat binary or the ELF file at
//! `ingot_abi::PROGRAM_BASE`, calls its entry with the API table address and the
//! arguments ([`args`]), and reports the returned value as the exit status. `alloc`
//! works: [`heap`] is the global allocator.
//!
//! One of the unsafe-tier crates: the entry shim and the calls through the kernel's
//! function table are the only `unsafe` a program needs.
#![no_std]

pub use ingot_abi as abi;

pub mod args;
pub mod baremetal;
mod calls;
pub mod console;
pub mod cores;
pub mod disk;
pub mod disk_queue;
pub mod events;
pub mod heap;
pub mod net;
pub mod pci;
pub mod run;
pub mod scratch;
#[doc(hidden)]
pub mod start;

pub use calls::{api_version, memory_info, read_byte, write, write_raw};

/// Declares the program's main function: `fn main() -> u64` (the exit status).
///
/// # Example
///
/// ```ignore
/// ingot_sdk::entry!(main);
/// ```
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
