//! `disk-queue --lanes`: two cores drive disk 0 at the same time through the
//! asynchronous interface. Core 0 and core 1 (a task `run_on_core` starts) each own
//! [`BUFFERS`] buffers of [`BUFFER_BYTES`]; in each of [`ROUNDS`] rounds each core
//! submits a write from every buffer before it waits for any, then reads the same
//! places back into cleared buffers, all in flight at once, and compares. Each
//! (round, core) pair writes its own contiguous [`CORE_BYTES`] at
//! [`region_offset`], printed as a `wrote` line for the host to check in the image.
//! On a disk of several lanes (NVMe, a queue pair per core) each core's tickets name
//! its own lane, which the program prints, with whether the core halted while it
//! ran (a disk wait halts until the completion interrupt on every core; a core
//! whose commands all finished before it waited has no reason to).

use core::sync::atomic::{AtomicU64, Ordering};

use ingot_sdk::disk_queue::{self, Pending};
use ingot_sdk::{cores, disk, println};

use crate::pattern_byte;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
/// Requests each core keeps in flight.
const BUFFERS: usize = 8;
const BUFFER_BYTES: u64 = 64 * KIB;
/// Bytes one core moves per round.
const CORE_BYTES: u64 = BUFFERS as u64 * BUFFER_BYTES;
const ROUNDS: u64 = 4;
const CORES: usize = 2;

/// Each core's memory, handed out once.
static MEMORY: spin::Mutex<[Option<&'static mut [u8]>; CORES]> = spin::Mutex::new([None, None]);
/// Per core: bytes read back and found right, requests that failed or differed,
/// and the lane its first ticket named (`u64::MAX` until known).
static VERIFIED: [AtomicU64; CORES] = [const { AtomicU64::new(0) }; CORES];
static FAILURES: [AtomicU64; CORES] = [const { AtomicU64::new(0) }; CORES];
static LANE: [AtomicU64; CORES] = [const { AtomicU64::new(u64::MAX) }; CORES];
/// Per core: nanoseconds it spent halted while it ran its rounds (its disk waits
/// halt until the completion interrupt instead of spinning).
static HALTED_NS: [AtomicU64; CORES] = [const { AtomicU64::new(0) }; CORES];
/// Disk 0's sector size, which core 0 looks up for both.
static SECTOR: AtomicU64 = AtomicU64::new(0);

/// Where core `core` writes in round `round` (bytes).
fn region_offset(round: u64, core: u64) -> u64 {
    MIB + (round * CORES as u64 + core) * CORE_BYTES
}

/// Runs the test; the program's exit status.
pub fn run(memory: &'static mut [u8]) -> u64 {
    if cores::core_count() < CORES as u64 || disk::count() == 0 {
        println!("disk-queue: --lanes needs 2 cores and a disk");
        return 40;
    }
    let Ok(info) = disk::info(0) else { return 41 };
    let sector = u64::from(info.sector_size);
    let end = region_offset(ROUNDS - 1, CORES as u64 - 1) + CORE_BYTES;
    if memory.len() < CORES * CORE_BYTES as usize || info.sectors * sector < end {
        println!("disk-queue: --lanes: not enough memory or disk");
        return 42;
    }
    SECTOR.store(sector, Ordering::Release);
    let (first, rest) = memory.split_at_mut(CORE_BYTES as usize);
    *MEMORY.lock() = [Some(first), Some(&mut rest[..CORE_BYTES as usize])];
    println!("disk-queue: lanes start cores={CORES}");
    if cores::run_on_core(1, core_task, 1).is_err() {
        return 43;
    }
    core_task(0);
    while cores::cores_busy() {
        core::hint::spin_loop();
    }
    let mut status = 0;
    for core in 0..CORES {
        let verified = VERIFIED[core].load(Ordering::Acquire);
        let failures = FAILURES[core].load(Ordering::Acquire);
        let lane = LANE[core].load(Ordering::Acquire);
        let halted = HALTED_NS[core].load(Ordering::Acquire) > 0;
        println!(
            "disk-queue: lanes core {core} lane={lane} verified bytes={verified} \
             failures={failures} halted={halted}"
        );
        if failures != 0 || verified != ROUNDS * CORE_BYTES {
            status = 44;
        }
    }
    for round in 0..ROUNDS {
        for core in 0..CORES as u64 {
            let lba = region_offset(round, core) / sector;
            let count = CORE_BYTES / sector;
            println!("disk-queue: disk 0 wrote lba={lba} count={count} sector_size={sector}");
        }
    }
    status
}

/// One core's rounds on disk 0.
extern "sysv64" fn core_task(core: u64) {
    let index = core as usize;
    let Some(memory) = MEMORY.lock()[index].take() else {
        FAILURES[index].fetch_add(1, Ordering::AcqRel);
        return;
    };
    let Ok(disk) = disk_queue::Disk::new(0) else {
        FAILURES[index].fetch_add(1, Ordering::AcqRel);
        return;
    };
    let sector = SECTOR.load(Ordering::Acquire);
    let halted_before = ingot_sdk::events::core_halted_ns(core).unwrap_or(0);
    rounds(index, &disk, sector, memory);
    let halted_after = ingot_sdk::events::core_halted_ns(core).unwrap_or(0);
    HALTED_NS[index].store(halted_after.saturating_sub(halted_before), Ordering::Release);
}

/// Core `index`'s [`ROUNDS`] of writes and reads through `memory`.
fn rounds(index: usize, disk: &disk_queue::Disk, sector: u64, memory: &'static mut [u8]) {
    let core = index as u64;
    let mut buffers: [Option<&'static mut [u8]>; BUFFERS] = core::array::from_fn(|_| None);
    for (slot, chunk) in buffers.iter_mut().zip(memory.chunks_mut(BUFFER_BYTES as usize)) {
        *slot = Some(chunk);
    }
    let mut pending: [Option<Pending<&'static mut [u8]>>; BUFFERS] = core::array::from_fn(|_| None);
    for round in 0..ROUNDS {
        let base = region_offset(round, core);
        for (i, slot) in buffers.iter_mut().enumerate() {
            let Some(buffer) = slot.take() else { continue };
            let at = base + i as u64 * BUFFER_BYTES;
            for (k, byte) in buffer.iter_mut().enumerate() {
                *byte = pattern_byte(0, at + k as u64);
            }
            match disk.write(at / sector, buffer) {
                Ok(request) => {
                    let lane = (request.ticket() >> 40) & 0xFF;
                    let _ = LANE[index].compare_exchange(
                        u64::MAX,
                        lane,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    );
                    pending[i] = Some(request);
                }
                Err((buffer, _)) => {
                    FAILURES[index].fetch_add(1, Ordering::AcqRel);
                    *slot = Some(buffer);
                }
            }
        }
        for (i, request) in pending.iter_mut().enumerate() {
            let Some(request) = request.take() else { continue };
            let (buffer, outcome) = request.wait();
            if outcome.is_err() {
                FAILURES[index].fetch_add(1, Ordering::AcqRel);
            }
            buffer.fill(0);
            buffers[i] = Some(buffer);
        }
        for (i, slot) in buffers.iter_mut().enumerate() {
            let Some(buffer) = slot.take() else { continue };
            let at = base + i as u64 * BUFFER_BYTES;
            match disk.read(at / sector, buffer) {
                Ok(request) => pending[i] = Some(request),
                Err((buffer, _)) => {
                    FAILURES[index].fetch_add(1, Ordering::AcqRel);
                    *slot = Some(buffer);
                }
            }
        }
        while pending.iter().any(Option::is_some) {
            for i in 0..BUFFERS {
                let Some(request) = pending[i].take() else { continue };
                match request.poll() {
                    Err(request) => pending[i] = Some(request),
                    Ok((buffer, outcome)) => {
                        let at = base + i as u64 * BUFFER_BYTES;
                        let right = outcome.is_ok()
                            && buffer
                                .iter()
                                .enumerate()
                                .all(|(k, &b)| b == pattern_byte(0, at + k as u64));
                        if right {
                            VERIFIED[index].fetch_add(buffer.len() as u64, Ordering::AcqRel);
                        } else {
                            FAILURES[index].fetch_add(1, Ordering::AcqRel);
                        }
                        buffers[i] = Some(buffer);
                    }
                }
            }
        }
    }
}
