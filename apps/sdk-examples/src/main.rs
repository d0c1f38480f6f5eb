//! The examples in the Rust SDK's documentation (`cargo doc -p ingot-sdk`) that
//! `apps/api-examples` and `apps/baremetal-examples` do not already hold. The text
//! between a `// doc: NAME` line and the next `// doc end` line is an SDK item's
//! example (`tools/xtask/src/sdk_examples.rs` checks that every public SDK item has one
//! and that each is a region of these three programs), so every example is compiled by
//! `cargo xtask build` and run by the `sdk-examples` scenario, which checks its output.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use core::fmt::Write;
use core::sync::atomic::{AtomicU64, Ordering};

use ingot_sdk::abi::Error;
use ingot_sdk::cores::Group;

// doc: entry
ingot_sdk::entry!(main);
// doc end

/// One example: a function that makes its calls, or the first error.
type Example = fn() -> Result<(), Error>;

fn main() -> u64 {
    let examples: [(&str, Example); 11] = [
        ("args", args),
        ("console", console),
        ("calls", calls),
        ("cores", cores),
        ("tsc", tsc),
        ("disk", disk),
        ("net", net),
        ("heap", heap),
        ("disk_queue", disk_queue),
        ("baremetal", baremetal),
        ("run", run),
    ];
    let mut failed = 0;
    for (name, example) in examples {
        if let Err(error) = example() {
            ingot_sdk::println!("sdk-examples: {name} failed: {error:?}");
            failed += 1;
        }
    }
    ingot_sdk::println!("sdk-examples: done, {failed} failed");
    failed
}

fn args() -> Result<(), Error> {
    // doc: args::count
    ingot_sdk::println!("{} arguments", ingot_sdk::args::count());
    // doc end
    // doc: args::args
    for (index, word) in ingot_sdk::args::args().enumerate() {
        ingot_sdk::println!("argument {index}: {word}");
    }
    // doc end
    Ok(())
}

fn console() -> Result<(), Error> {
    // doc: console::Console
    let mut console = ingot_sdk::console::Console;
    let _ = writeln!(console, "{} + {} = {}", 2, 3, 2 + 3);
    // doc end
    // doc: print
    ingot_sdk::print!("no newline, ");
    ingot_sdk::println!("then one");
    // doc end
    Ok(())
}

fn calls() -> Result<(), Error> {
    // doc: api_version
    let (major, minor) = ingot_sdk::api_version();
    ingot_sdk::println!("API {major}.{minor}");
    // doc end
    // doc: write_raw
    // The kernel checks every pointer: one outside the program's memory is refused.
    let refused = ingot_sdk::write_raw(0x10_0000, 16);
    ingot_sdk::println!(
        "kernel memory refused: {}",
        refused == Err(ingot_sdk::abi::Error::BadAddress)
    );
    // doc end
    Ok(())
}

// doc: cores::Group::raw
static GROUP: AtomicU64 = AtomicU64::new(0);
static DONE: AtomicU64 = AtomicU64::new(0);

extern "sysv64" fn child(_: u64) {
    DONE.fetch_add(1, Ordering::Relaxed);
}

extern "sysv64" fn parent(_: u64) {
    // A task adds work to the group its creator waits for.
    let group = ingot_sdk::cores::Group::from_raw(GROUP.load(Ordering::Relaxed));
    let _ = group.submit(child, 0);
}

fn cores() -> Result<(), Error> {
    let group = Group::new()?;
    GROUP.store(group.raw(), Ordering::Relaxed);
    group.submit(parent, 0)?;
    group.wait()?;
    group.release()?;
    ingot_sdk::println!("the task's own task ran: {}", DONE.load(Ordering::Relaxed) == 1);
    Ok(())
}
// doc end

fn tsc() -> Result<(), Error> {
    // doc: cores::read_tsc
    let before = ingot_sdk::cores::read_tsc();
    let cycles = ingot_sdk::cores::read_tsc() - before;
    ingot_sdk::println!("two rdtsc {} cycles apart", cycles);
    // doc end
    Ok(())
}

fn disk() -> Result<(), Error> {
    if ingot_sdk::disk::count() == 0 {
        return Ok(());
    }
    // doc: disk::read_raw
    // Any address and count: how a program tests the kernel's checks.
    let refused = ingot_sdk::disk::read_raw(0, 0, 1, 0x10_0000);
    let also_refused = ingot_sdk::disk::write_raw(0, 0, 0, 0x10_0000);
    ingot_sdk::println!("raw disk calls refused: {:?} {:?}", refused, also_refused);
    // doc end
    Ok(())
}

fn net() -> Result<(), Error> {
    // doc: net::Frames::len
    let mut buffers = [[0u8; 64]; 2];
    let mut frames = ingot_sdk::net::Frames::default();
    ingot_sdk::println!("empty: {}", frames.is_empty());
    for buffer in buffers.iter_mut() {
        frames.push(buffer);
    }
    ingot_sdk::println!("{} buffers", frames.len());
    // doc end
    // doc: net::raw
    // Any interface, address and length: how a program tests the kernel's checks.
    let refused = ingot_sdk::net::raw::send(0, 0x10_0000, 60);
    let no_interface = ingot_sdk::net::raw::info(99, 0);
    ingot_sdk::println!("raw net calls refused: {:?} {:?}", refused, no_interface);
    let _ = ingot_sdk::net::raw::receive(99, 0, 0);
    let _ = ingot_sdk::net::raw::send_batch(99, 0, 0);
    let _ = ingot_sdk::net::raw::receive_batch(99, 0, 0);
    // doc end
    Ok(())
}

fn heap() -> Result<(), Error> {
    // doc: heap::claim
    // A program that wants part of its free memory for itself gives the heap the rest
    // (before its first allocation: the heap takes all of it then).
    if let Some(memory) = ingot_sdk::scratch::take() {
        let (own, heap) = memory.split_at_mut(1 << 20);
        own[0] = 1;
        ingot_sdk::println!("the heap took the rest: {}", ingot_sdk::heap::claim(heap));
    }
    // doc end
    // doc: heap
    // The SDK's global allocator (`heap::Heap`, over `heap::WindowMemory`): `alloc` works.
    let numbers: alloc::vec::Vec<u64> = (1..=10).collect();
    let text = alloc::format!("sum {}", numbers.iter().sum::<u64>());
    ingot_sdk::println!("{text}");
    // doc end
    Ok(())
}

fn disk_queue() -> Result<(), Error> {
    if ingot_sdk::disk::count() == 0 {
        return Ok(());
    }
    // doc: disk_queue
    // Four sectors written in one request, then read back by four requests in flight at
    // once; each buffer (here a `Vec`, from the heap) is the request's until it is back.
    let disk = ingot_sdk::disk_queue::Disk::new(0)?;
    let size = ingot_sdk::disk::info(0)?.sector_size as usize;
    let mut data = alloc::vec![0u8; 4 * size];
    for (index, byte) in data.iter_mut().enumerate() {
        *byte = b'a' + (index / size) as u8;
    }
    let (data, written) = disk.write(16, data).map_err(|(_, error)| error)?.wait();
    written?;
    let mut reads = alloc::vec::Vec::new();
    for sector in 0..4 {
        let buffer = alloc::vec![0u8; size];
        reads.push(ingot_sdk::disk_queue::read(0, 16 + sector, buffer).map_err(|(_, e)| e)?);
    }
    ingot_sdk::println!("4 reads in flight, the first has ticket {}", reads[0].ticket());
    let mut same = 0;
    for (sector, mut request) in reads.into_iter().enumerate() {
        let (buffer, outcome) = loop {
            match request.poll() {
                Ok(finished) => break finished,
                Err(running) => request = running, // other work could go here
            }
        };
        outcome?;
        same += usize::from(buffer[..] == data[sector * size..(sector + 1) * size]);
    }
    ingot_sdk::println!("4 sectors written, {same} read back the same");
    // doc end
    // doc: disk_queue::submit_raw
    // Any address and ticket: how a program tests the kernel's checks.
    let refused = ingot_sdk::disk_queue::submit_raw(0, ingot_sdk::abi::DISK_READ, 0, 1, 0x10_0000);
    let unknown = ingot_sdk::disk_queue::poll_raw(u64::MAX);
    ingot_sdk::println!("raw queue calls refused: {refused:?} {unknown:?}");
    // doc end
    Ok(())
}

fn run() -> Result<(), Error> {
    // doc: run::Ended
    // A flat program of one instruction, `ud2`: it faults, and only it ends.
    let image = alloc::boxed::Box::leak(alloc::boxed::Box::new([0x0Fu8, 0x0B]));
    match ingot_sdk::run::run_image(image)? {
        ingot_sdk::run::Ended::Faulted(vector) => ingot_sdk::println!("faulted, vector {vector}"),
        ingot_sdk::run::Ended::Returned(status) => ingot_sdk::println!("returned {status}"),
    }
    ingot_sdk::println!("this program keeps {} bytes", ingot_sdk::run::own_bytes());
    // doc end
    Ok(())
}

extern "sysv64" fn on_core() {}

fn baremetal() -> Result<(), Error> {
    // doc: baremetal::smp_id
    let (me, cores) = (ingot_sdk::baremetal::smp_id(), ingot_sdk::baremetal::smp_numcores());
    ingot_sdk::println!("APIC ID {me}, {cores} cores");
    // doc end
    // doc: baremetal::smp_set
    // Runs `on_core` (an `extern "sysv64" fn()`) on the core with APIC ID 1, if there is one.
    if ingot_sdk::baremetal::smp_set(on_core, 1).is_ok() {
        while ingot_sdk::baremetal::smp_busy() {
            core::hint::spin_loop();
        }
    }
    // doc end
    // doc: baremetal::smp_get
    let slot = ingot_sdk::baremetal::smp_get();
    ingot_sdk::println!("running code: {}", slot & 2 != 0);
    // doc end
    // doc: baremetal::smp_lock
    static LOCK: AtomicU64 = AtomicU64::new(0);
    ingot_sdk::baremetal::smp_lock(&LOCK)?;
    // ... one core at a time here ...
    ingot_sdk::baremetal::smp_unlock(&LOCK)?;
    // doc end
    // doc: baremetal::reset
    let stopped = ingot_sdk::baremetal::reset();
    ingot_sdk::println!("{stopped} assignments withdrawn or ended");
    // doc end
    // doc: baremetal::time_counter
    let start = ingot_sdk::baremetal::time_counter();
    ingot_sdk::baremetal::delay(1000)?;
    ingot_sdk::println!(
        "waited >= 1 ms: {}",
        ingot_sdk::baremetal::time_counter() - start >= 1_000_000
    );
    // doc end
    // doc: baremetal::tsc
    let cycles = ingot_sdk::baremetal::tsc();
    ingot_sdk::println!(
        "free memory {} MiB, tsc {}",
        ingot_sdk::baremetal::free_memory(),
        cycles > 0
    );
    // doc end
    // doc: baremetal::net_tx
    if let Some(mac) = ingot_sdk::baremetal::net_status(0) {
        let mut frame = [0xFFu8; 60];
        frame[6..12].copy_from_slice(&mac);
        frame[12..14].copy_from_slice(&0x88B5u16.to_be_bytes());
        ingot_sdk::baremetal::net_tx(&frame, 0)?;
    }
    // doc end
    // doc: baremetal::net_rx
    let mut buffer = [0u8; 1522];
    match ingot_sdk::baremetal::net_rx(0, &mut buffer) {
        Ok(0) => ingot_sdk::println!("nothing received"),
        Ok(len) => ingot_sdk::println!("received {len} bytes"),
        Err(error) => ingot_sdk::println!("interface 0: {error:?}"),
    }
    // doc end
    // doc: baremetal::nvs_read
    let mut sector = [0u8; ingot_sdk::baremetal::SECTOR_BYTES];
    match ingot_sdk::baremetal::nvs_read(&mut sector, 0, 0) {
        Ok(read) => ingot_sdk::println!("{read} sector of 4 KiB read"),
        Err(error) => ingot_sdk::println!("disk 0: {error:?}"),
    }
    // doc end
    // doc: baremetal::nvs_write
    let data = [0u8; ingot_sdk::baremetal::SECTOR_BYTES];
    if let Err(error) = ingot_sdk::baremetal::nvs_write(&data, 5, 0) {
        ingot_sdk::println!("disk 0: {error:?}");
    }
    // doc end
    // doc: baremetal::callbacks
    extern "sysv64" fn on_key() {}
    extern "sysv64" fn on_frame() {}
    ingot_sdk::baremetal::callback_keyboard(Some(on_key))?;
    ingot_sdk::baremetal::callback_network(Some(on_frame))?;
    ingot_sdk::baremetal::callback_keyboard(None)?;
    ingot_sdk::baremetal::callback_network(None)?;
    // doc end
    // doc: baremetal::net_config
    // Frames received on interface 0 go into this program's own 512 KiB ring from now on.
    if ingot_sdk::baremetal::net_status(0).is_some() {
        let ring = alloc::vec![0u8; 512 * 1024].leak();
        ingot_sdk::baremetal::net_config(0, ring)?;
    }
    // doc end
    Ok(())
}
