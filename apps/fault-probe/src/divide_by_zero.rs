//! Executes `div` with a zero divisor (Rust's own `/` would panic before the CPU faults).
//! On the unsafe allow-list: its whole purpose is to execute a faulting instruction.
#![no_std]
#![no_main]

ingot_sdk::entry!(main);

fn main() -> u64 {
    ingot_sdk::println!("fault-probe: dividing by zero");
    let divisor = core::hint::black_box(0u64);
    let quotient: u64;
    // SAFETY: `div` by zero raises #DE, which the kernel reports; no memory is touched.
    unsafe {
        core::arch::asm!("div {0}", in(reg) divisor, inout("rax") 1u64 => quotient, inout("rdx") 0u64 => _);
    }
    quotient
}
