//! Hello, Ingot: prints a greeting, checks a few kernel calls, returns status 42.
//!
//! The boot scenarios use it to prove that a program passed with `-initrd` is
//! loaded, can call the kernel, and that its return value reaches QEMU's exit status.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use ingot_sdk::{abi::Error, println};

ingot_sdk::entry!(main);

/// The status the boot scenarios expect back.
const EXIT_STATUS: u64 = 42;

fn main() -> u64 {
    println!("hello from an Ingot program");
    let Ok(memory) = ingot_sdk::memory_info() else {
        println!("hello: memory_info failed");
        return 1;
    };
    println!(
        "hello: window base={:#x} size={}KiB usable-ram={}KiB",
        memory.window_base,
        memory.window_bytes / 1024,
        memory.usable_ram_bytes / 1024
    );
    // The kernel must refuse pointers outside the program's memory with an error.
    let outside = ingot_sdk::write_raw(0x10_0000, 16);
    let wrapping = ingot_sdk::write_raw(u64::MAX - 4, 16);
    let past_end = ingot_sdk::write_raw(memory.window_base + memory.window_bytes - 8, 16);
    let all_refused = [outside, wrapping, past_end].iter().all(|r| *r == Err(Error::BadAddress));
    println!("hello: bad pointers refused={all_refused}");
    if !all_refused {
        return 2;
    }
    EXIT_STATUS
}
