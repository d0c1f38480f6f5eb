//! Assigns a task that recurses without bound to core 1. Tasks run on the kernel stack
//! of the core that takes them, so this overflows that core's kernel stack: the kernel
//! must report `ingot: exception stack overflow core=1 addr=<guard address>` from the
//! guard page below it, not corrupt the memory below the stack.
//! On the unsafe allow-list with the other probes; this one needs no `unsafe`.
#![no_std]
#![no_main]

ingot_sdk::entry!(main);

fn main() -> u64 {
    ingot_sdk::println!("fault-probe: recursing on core 1");
    if let Err(error) = ingot_sdk::cores::run_on_core(1, recurse_task, 0) {
        ingot_sdk::println!("fault-probe: run_on_core failed: {error:?}");
        return 1;
    }
    while ingot_sdk::cores::cores_busy() {
        core::hint::spin_loop();
    }
    ingot_sdk::println!("fault-probe: the task returned");
    2
}

extern "sysv64" fn recurse_task(depth: u64) {
    core::hint::black_box(recurse(depth));
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
