//! The Rust examples of `docs/api.md`, one function per native call. The text between
//! a `// doc: NAME` line and the next `// doc end` line is shown in `docs/api.md`
//! (`tools/xtask/src/doc_check.rs` checks that every Rust block there is one of
//! these), so every example there is compiled by `cargo xtask build` and run by the
//! `api-examples` scenario, which checks what it prints.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use core::sync::atomic::{AtomicU64, Ordering};

use ingot_sdk::abi::Error;
use ingot_sdk::cores::Group;
use ingot_sdk::net::{self, Frames};
use ingot_sdk::{disk, println};

ingot_sdk::entry!(main);

/// One example: a function that makes its calls, or the first error.
type Example = fn() -> Result<(), Error>;

fn main() -> u64 {
    let examples: [(&str, Example); 18] = [
        ("console", console),
        ("memory_info", memory_info),
        ("time", time),
        ("cores", core_ids),
        ("tasks", tasks),
        ("task_run_one", task_run_one),
        ("core_stats", core_stats),
        ("run_on_core", run_on_core),
        ("spin_lock", spin_lock),
        ("power", power),
        ("disk_info", disk_info),
        ("disk_io", disk_io),
        ("net_info", net_info),
        ("net_io", net_io),
        ("net_batch", net_batch),
        ("program_run", program_run),
        ("pci", pci),
        ("wait_events", wait_events),
    ];
    let mut failed = 0;
    for (name, example) in examples {
        if let Err(error) = example() {
            println!("api-examples: {name} failed: {error:?}");
            failed += 1;
        }
    }
    println!("api-examples: done, {failed} failed");
    failed
}

fn console() -> Result<(), Error> {
    // doc: console_write
    let written = ingot_sdk::write(b"hello from Rust\n")?;
    ingot_sdk::println!("{written} bytes written, then formatted: {}", 6 * 7);
    // doc end
    // doc: console_read
    match ingot_sdk::read_byte() {
        Some(byte) => ingot_sdk::println!("key {byte:#04x}"),
        None => ingot_sdk::println!("no key waiting"),
    }
    // doc end
    Ok(())
}

fn memory_info() -> Result<(), Error> {
    // doc: memory_info
    let memory = ingot_sdk::memory_info()?;
    ingot_sdk::println!(
        "window {:#x}, {} KiB, stack {} KiB",
        memory.window_base,
        memory.window_bytes / 1024,
        memory.stack_bytes / 1024
    );
    // doc end
    Ok(())
}

fn time() -> Result<(), Error> {
    // doc: delay_us
    let start = ingot_sdk::cores::time_ns();
    ingot_sdk::cores::delay_us(1000)?;
    let elapsed = ingot_sdk::cores::time_ns() - start;
    ingot_sdk::println!("1 ms delay took >= 1 ms: {}", elapsed >= 1_000_000);
    // doc end
    Ok(())
}

fn core_ids() -> Result<(), Error> {
    // doc: core_id
    let (me, cores) = (ingot_sdk::cores::core_id(), ingot_sdk::cores::core_count());
    ingot_sdk::println!("core {me} of {cores}");
    // doc end
    Ok(())
}

// doc: task_submit
static SUM: AtomicU64 = AtomicU64::new(0);

extern "sysv64" fn add(value: u64) {
    SUM.fetch_add(value, Ordering::Relaxed);
}

fn tasks() -> Result<(), Error> {
    let group = Group::new()?;
    for value in 1..=10 {
        group.submit_or_help(add, value)?;
    }
    group.wait()?;
    group.release()?;
    ingot_sdk::println!("tasks summed {}", SUM.load(Ordering::Relaxed));
    Ok(())
}
// doc end

fn task_run_one() -> Result<(), Error> {
    // doc: task_run_one
    ingot_sdk::cores::submit(add, 5)?;
    while ingot_sdk::cores::run_one() {}
    ingot_sdk::cores::submit(add, 6)?;
    let ran = ingot_sdk::cores::run_some(32);
    ingot_sdk::println!("ran {ran} here (another core may have taken it)");
    // doc end
    Ok(())
}

fn core_stats() -> Result<(), Error> {
    // doc: core_stats
    let stats = ingot_sdk::cores::core_stats(0)?;
    ingot_sdk::println!("core 0 ran {} tasks", stats.tasks_run);
    // doc end
    Ok(())
}

fn run_on_core() -> Result<(), Error> {
    // doc: run_on_core
    if ingot_sdk::cores::core_count() > 1 {
        ingot_sdk::cores::run_on_core(1, add, 100)?;
        while ingot_sdk::cores::cores_busy() {
            core::hint::spin_loop();
        }
    }
    // doc end
    Ok(())
}

fn spin_lock() -> Result<(), Error> {
    // doc: spin_lock
    static LOCK: AtomicU64 = AtomicU64::new(0);
    ingot_sdk::cores::spin_lock(&LOCK)?;
    // ... only one core at a time here ...
    ingot_sdk::cores::spin_unlock(&LOCK)?;
    // doc end
    Ok(())
}

fn power() -> Result<(), Error> {
    // doc: reboot
    match ingot_sdk::args::get(1) {
        Some("reboot") => ingot_sdk::cores::reboot(),
        Some("off") => ingot_sdk::cores::shutdown(),
        _ => {}
    }
    // doc end
    Ok(())
}

fn disk_info() -> Result<(), Error> {
    // doc: disk_info
    for disk in 0..ingot_sdk::disk::count() {
        let info = ingot_sdk::disk::info(disk)?;
        let model = core::str::from_utf8(&info.model).unwrap_or("?").trim_end();
        ingot_sdk::println!("disk {disk}: {} x {} bytes, {model}", info.sectors, info.sector_size);
    }
    // doc end
    Ok(())
}

fn disk_io() -> Result<(), Error> {
    if disk::count() == 0 {
        return Ok(());
    }
    // doc: disk_read
    let mut sectors = [0u8; 1024];
    ingot_sdk::disk::read(0, 8, &mut sectors)?;
    sectors[..5].copy_from_slice(b"Ingot");
    ingot_sdk::disk::write(0, 8, &sectors)?;
    ingot_sdk::disk::flush(0)?;
    match ingot_sdk::disk::read(99, 0, &mut sectors) {
        Err(ingot_sdk::abi::Error::NotFound) => ingot_sdk::println!("no disk 99"),
        other => ingot_sdk::println!("disk 99: {other:?}"),
    }
    // doc end
    Ok(())
}

fn net_info() -> Result<(), Error> {
    // doc: net_info
    for nic in 0..ingot_sdk::net::count() {
        let info = ingot_sdk::net::info(nic)?;
        ingot_sdk::println!(
            "nic {nic}: {} mac {:02x?} link {}",
            ingot_sdk::net::driver_name(&info),
            info.mac,
            info.link_up
        );
    }
    // doc end
    Ok(())
}

fn net_io() -> Result<(), Error> {
    if net::count() == 0 {
        return Ok(());
    }
    // doc: net_send
    let mac = ingot_sdk::net::info(0)?.mac;
    let mut frame = [0u8; 60];
    frame[..6].fill(0xFF); // broadcast
    frame[6..12].copy_from_slice(&mac);
    frame[12..14].copy_from_slice(&0x88B5u16.to_be_bytes()); // local experimental EtherType
    ingot_sdk::net::send(0, &frame)?;
    let mut buffer = [0u8; 1514];
    match ingot_sdk::net::receive(0, &mut buffer) {
        Ok(len) => ingot_sdk::println!("received {len} bytes"),
        Err(ingot_sdk::abi::Error::WouldBlock) => ingot_sdk::println!("nothing received yet"),
        Err(error) => return Err(error),
    }
    // doc end
    Ok(())
}

fn net_batch() -> Result<(), Error> {
    if net::count() == 0 {
        return Ok(());
    }
    // doc: net_send_batch
    let mac = ingot_sdk::net::info(0)?.mac;
    let (mut first, mut second) = ([0u8; 60], [0u8; 60]);
    for frame in [&mut first, &mut second] {
        frame[..6].fill(0xFF);
        frame[6..12].copy_from_slice(&mac);
        frame[12..14].copy_from_slice(&0x88B5u16.to_be_bytes());
    }
    let mut frames = Frames::new();
    frames.push(&mut first);
    frames.push(&mut second);
    let sent = ingot_sdk::net::send_batch(0, &mut frames)?;
    ingot_sdk::println!("sent {sent} frames in one call");
    // doc end
    // doc: net_receive_batch
    let mut buffers = [[0u8; 1514]; 4];
    let mut frames = Frames::new();
    for buffer in buffers.iter_mut() {
        frames.push(buffer);
    }
    let received = match ingot_sdk::net::receive_batch(0, &mut frames) {
        Err(ingot_sdk::abi::Error::WouldBlock) => 0, // none waiting
        other => other?,
    };
    for index in 0..received {
        ingot_sdk::println!("frame {index}: {} bytes", frames.frame(index).len());
    }
    // doc end
    Ok(())
}

fn program_run() -> Result<(), Error> {
    // doc: program_run
    // A flat program of two instructions, `mov eax, 7; ret`, placed in free memory.
    let Some(free) = ingot_sdk::scratch::take() else { return Err(Error::NotFound) };
    let image = &mut free[..6];
    image.copy_from_slice(&[0xB8, 7, 0, 0, 0, 0xC3]);
    let ended = ingot_sdk::run::run_image(image)?;
    ingot_sdk::println!("the program ended: {ended:?}");
    // doc end
    // doc: program_run_args
    // `mov rax, rsi; ret`: a flat program that returns its argument count (argc, its
    // second argument), in `free`, the memory `ingot_sdk::scratch::take()` gave.
    let image = &mut free[..4];
    image.copy_from_slice(&[0x48, 0x89, 0xF0, 0xC3]);
    let ended = ingot_sdk::run::run_image_with_args(image, "count \"two words\" three")?;
    ingot_sdk::println!("it counted its arguments: {ended:?}");
    // doc end
    // Not an example: the caller's queued tasks all run before the program starts.
    for value in 1..=20 {
        ingot_sdk::cores::submit(count_before_run, value)?;
    }
    free[..6].copy_from_slice(&[0xB8, 7, 0, 0, 0, 0xC3]);
    ingot_sdk::run::run_image(&free[..6])?;
    let counted = COUNTED_BEFORE_RUN.load(Ordering::Relaxed);
    ingot_sdk::println!("queued tasks ran before the program: {counted}");
    Ok(())
}

static COUNTED_BEFORE_RUN: AtomicU64 = AtomicU64::new(0);

extern "sysv64" fn count_before_run(value: u64) {
    COUNTED_BEFORE_RUN.fetch_add(value, Ordering::Relaxed);
}

fn pci() -> Result<(), Error> {
    // doc: pci_info
    for index in 0..ingot_sdk::pci::count() {
        let info = ingot_sdk::pci::info(index)?;
        ingot_sdk::println!(
            "pci {:02x}:{:02x}.{} {:04x}:{:04x} class {:02x}{:02x} driver {:?}",
            info.bus,
            info.slot,
            info.function,
            info.vendor_id,
            info.device_id,
            info.base_class,
            info.subclass,
            ingot_sdk::pci::driver_name(&info)
        );
    }
    // doc end
    Ok(())
}

fn wait_events() -> Result<(), Error> {
    // doc: wait_events
    // Halt until NIC 0 receives frames or 20 ms have passed, whichever comes first.
    let nic = ingot_sdk::events::net(0);
    let woke = ingot_sdk::events::wait(nic, ingot_sdk::cores::time_ns() + 20_000_000)?;
    let why = if woke & nic != 0 { "frames on nic 0" } else { "the deadline" };
    let interrupts = ingot_sdk::events::interrupt_events() & nic != 0;
    ingot_sdk::println!("woke for {why}; nic 0 interrupts: {interrupts}");
    // doc end
    // doc: core_halted_ns
    let halted_ns = ingot_sdk::events::core_halted_ns(0)?;
    ingot_sdk::println!("core 0 halted {} ms so far", halted_ns / 1_000_000);
    match ingot_sdk::events::core_halted_ns(99) {
        Err(ingot_sdk::abi::Error::NotFound) => ingot_sdk::println!("no core 99"),
        other => ingot_sdk::println!("core 99: {other:?}"),
    }
    // doc end
    Ok(())
}
