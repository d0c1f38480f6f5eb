//! Recurses without bound, so the program's stack runs into the guard page below it.
//! The kernel must report `ingot: exception stack overflow core=0 addr=<guard address>`
//! before anything below the stack is written.
//! On the unsafe allow-list with the other probes; this one needs no `unsafe`.
#![no_std]
#![no_main]

ingot_sdk::entry!(main);

fn main() -> u64 {
    let Ok(memory) = ingot_sdk::memory_info() else {
        ingot_sdk::println!("fault-probe: memory_info failed");
        return 1;
    };
    let stack_top = memory.window_base + memory.window_bytes;
    ingot_sdk::println!(
        "fault-probe: recursing from stack top={stack_top:#x} stack bottom={:#x}",
        stack_top - memory.stack_bytes
    );
    recurse(0)
}

/// Each level keeps a 256-byte frame alive across the next call, so the stack grows
/// by at least that much per level and the compiler cannot turn this into a loop.
fn recurse(depth: u64) -> u64 {
    let mut frame = [0u8; 256];
    frame[0] = depth as u8;
    core::hint::black_box(&mut frame);
    if core::hint::black_box(depth) == u64::MAX {
        return 0;
    }
    recurse(depth + 1).wrapping_add(u64::from(frame[1]))
}
