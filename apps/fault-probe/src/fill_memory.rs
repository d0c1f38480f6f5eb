//! Fills every byte of its free memory (`ingot_sdk::scratch`) with a pattern and reads
//! it back, then returns 7: run from the monitor, it shows that a program may use all
//! the memory it is given without touching the monitor parked beside it.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

ingot_sdk::entry!(main);

fn main() -> u64 {
    let Some(memory) = ingot_sdk::scratch::take() else {
        ingot_sdk::println!("fill-memory: no free memory");
        return 255;
    };
    let start = memory.as_ptr() as u64;
    let pattern = |at: usize| (at as u8) ^ 0xA5;
    for (at, byte) in memory.iter_mut().enumerate() {
        *byte = pattern(at);
    }
    let intact = memory.iter().enumerate().all(|(at, &byte)| byte == pattern(at));
    ingot_sdk::println!(
        "fill-memory: {} bytes at {start:#x}..{:#x} written and read back intact={intact}",
        memory.len(),
        start + memory.len() as u64
    );
    if intact { 7 } else { 1 }
}
