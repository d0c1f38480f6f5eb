//! Reads an address nothing is mapped at (in the lower half, far above any RAM).
//! On the unsafe allow-list: its whole purpose is to dereference a bad pointer.
#![no_std]
#![no_main]

ingot_sdk::entry!(main);

/// Canonical, lower half, above the identity map of any machine we run on.
const UNMAPPED: u64 = 0x0000_7F00_DEAD_0000;

fn main() -> u64 {
    ingot_sdk::println!("fault-probe: reading {UNMAPPED:#x}");
    // SAFETY: this read is meant to fault (#PF); the kernel reports it and ends the run.
    unsafe { core::ptr::read_volatile(UNMAPPED as *const u64) }
}
