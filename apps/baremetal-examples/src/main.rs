//! The Rust examples of `docs/api.md`'s BareMetal-compatible table, through
//! `ingot_sdk::baremetal`. The text between a `// doc: NAME` line and the next
//! `// doc end` line is shown there (`tools/xtask/src/doc_examples.rs` checks it), so
//! every example is compiled by `cargo xtask build` and run by the
//! `baremetal-examples` scenario, which checks what it prints.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use core::sync::atomic::{AtomicU64, Ordering};

use ingot_sdk::abi::Error;

ingot_sdk::entry!(main);

/// One example: a function that makes its calls, or the first error.
type Example = fn() -> Result<(), Error>;

fn main() -> u64 {
    let examples: [(&str, Example); 10] = [
        ("output", output),
        ("input", input),
        ("time", time),
        ("smp", smp),
        ("screen", screen),
        ("net", net),
        ("nvs", nvs),
        ("bus", bus),
        ("callbacks", callbacks),
        ("power", power),
    ];
    let mut failed = 0;
    for (name, example) in examples {
        if let Err(error) = example() {
            ingot_sdk::println!("baremetal-examples: {name} failed: {error:?}");
            failed += 1;
        }
    }
    ingot_sdk::println!("baremetal-examples: done, {failed} failed");
    failed
}

fn output() -> Result<(), Error> {
    // doc: b_output
    ingot_sdk::baremetal::output(b"hello through b_output\n");
    ingot_sdk::baremetal::dump_rax(0x0123_4567_89AB_CDEF);
    ingot_sdk::baremetal::dump_mem(b"Ingot")?;
    let routine = ingot_sdk::baremetal::stdout_get();
    ingot_sdk::println!("b_output calls {routine:#x}");
    // doc end
    Ok(())
}

fn input() -> Result<(), Error> {
    // doc: b_input
    match ingot_sdk::baremetal::input() {
        Some(0x1C) => ingot_sdk::println!("Enter"),
        Some(key) => ingot_sdk::println!("key {key:#04x}"),
        None => ingot_sdk::println!("no key waiting"),
    }
    // doc end
    Ok(())
}

fn time() -> Result<(), Error> {
    // doc: time
    let start = ingot_sdk::baremetal::time_counter();
    let cycles = ingot_sdk::baremetal::tsc();
    ingot_sdk::baremetal::delay(2000)?;
    let waited = ingot_sdk::baremetal::time_counter() - start;
    ingot_sdk::println!(
        "2 ms delay took >= 2 ms: {}, tsc advanced: {}, free memory > 0 MiB: {}",
        waited >= 2_000_000,
        ingot_sdk::baremetal::tsc() > cycles,
        ingot_sdk::baremetal::free_memory() > 0
    );
    // doc end
    Ok(())
}

// doc: smp
static DONE: AtomicU64 = AtomicU64::new(0);
static LOCK: AtomicU64 = AtomicU64::new(0);

extern "sysv64" fn work() {
    if ingot_sdk::baremetal::smp_lock(&LOCK).is_ok() {
        DONE.fetch_add(1, Ordering::Relaxed);
        let _ = ingot_sdk::baremetal::smp_unlock(&LOCK);
    }
}

fn smp() -> Result<(), Error> {
    let me = ingot_sdk::baremetal::smp_id();
    let cores = ingot_sdk::baremetal::smp_numcores();
    for apic_id in 0..256 {
        // Refused for this core, the boot core and IDs without a core.
        let _ = ingot_sdk::baremetal::smp_set(work, apic_id);
    }
    while ingot_sdk::baremetal::smp_busy() {
        core::hint::spin_loop();
    }
    let slot = ingot_sdk::baremetal::smp_get();
    ingot_sdk::println!(
        "core {me} of {cores}: {} others ran the code; slot active={}",
        DONE.load(Ordering::Relaxed),
        slot & 2 != 0
    );
    let ended = ingot_sdk::baremetal::reset();
    ingot_sdk::println!("reset: {ended} assignments withdrawn or ended");
    Ok(())
}
// doc end

fn screen() -> Result<(), Error> {
    // doc: screen
    match ingot_sdk::baremetal::screen() {
        Some(screen) => ingot_sdk::println!("screen {}x{}", screen.width, screen.height),
        None => ingot_sdk::println!("no framebuffer"),
    }
    // doc end
    Ok(())
}

fn net() -> Result<(), Error> {
    // doc: net
    let Some(mac) = ingot_sdk::baremetal::net_status(0) else {
        ingot_sdk::println!("no interface 0");
        return Ok(());
    };
    ingot_sdk::println!("interface 0 mac {mac:02x?}");
    let mut frame = [0u8; 60];
    frame[..6].fill(0xFF);
    frame[6..12].copy_from_slice(&mac);
    frame[12..14].copy_from_slice(&0x88B5u16.to_be_bytes());
    ingot_sdk::baremetal::net_tx(&frame, 0)?;
    let mut buffer = [0u8; 1522];
    let len = ingot_sdk::baremetal::net_rx(0, &mut buffer)?;
    ingot_sdk::println!("received {len} bytes");
    // doc end
    Ok(())
}

fn nvs() -> Result<(), Error> {
    // doc: nvs
    let mut sectors = [0u8; 2 * ingot_sdk::baremetal::SECTOR_BYTES];
    let read = ingot_sdk::baremetal::nvs_read(&mut sectors, 2, 0)?;
    sectors[..8].copy_from_slice(b"BareMeta");
    let written = ingot_sdk::baremetal::nvs_write(&sectors, 2, 0)?;
    ingot_sdk::println!("{read} sectors read, {written} written");
    // doc end
    Ok(())
}

fn bus() -> Result<(), Error> {
    // doc: bus
    if let Some(id) = ingot_sdk::baremetal::bus_read(0, 0, 0, 0, 0) {
        ingot_sdk::println!("00:00.0 vendor {:04x} device {:04x}", id & 0xFFFF, id >> 16);
    }
    // doc end
    Ok(())
}

// doc: callbacks
static TICKS: AtomicU64 = AtomicU64::new(0);

extern "sysv64" fn tick() {
    TICKS.fetch_add(1, Ordering::Relaxed);
}

fn callbacks() -> Result<(), Error> {
    ingot_sdk::baremetal::callback_timer(Some(tick))?;
    ingot_sdk::baremetal::delay(50_000)?; // callbacks are polled by compatible calls
    while TICKS.load(Ordering::Relaxed) == 0 {
        ingot_sdk::baremetal::delay(10_000)?;
    }
    ingot_sdk::baremetal::callback_timer(None)?;
    ingot_sdk::println!("the timer callback fired");
    Ok(())
}
// doc end

fn power() -> Result<(), Error> {
    // doc: power
    match ingot_sdk::args::get(1) {
        Some("reboot") => ingot_sdk::baremetal::reboot(),
        Some("off") => ingot_sdk::baremetal::shutdown(),
        _ => {}
    }
    // doc end
    Ok(())
}
