//! Disk benchmark load for `cargo xtask bench disk`: on disk 0, sequential writes
//! and reads of [`SEQUENTIAL_BYTES`] in 1 MiB requests, then [`RANDOM_READS`] 4 KiB
//! reads at pseudo-random 4 KiB-aligned offsets, one at a time, then the same reads
//! with [`QUEUE_DEPTH`] in flight (`disk_submit`/`disk_poll`, each into a 4 KiB
//! buffer of its own, resubmitted as soon as it is collected). With more than one
//! disk it runs only the parallel phase instead: disk `k` read sequentially in 1 MiB
//! requests by core `k` (`run_on_core`; core 0 reads disk 0), all at once, one core
//! per disk (as many disks as there are cores); with one disk and several cores, the
//! same with every core on that disk, core `k` reading its `k`-th
//! [`SEQUENTIAL_BYTES`] (on NVMe each core on its own lane). It prints a line before and after
//! each phase; the host times the phases from when those lines arrive (the program
//! has no clock of its own), so console output is kept out of the timed parts. The
//! last line carries the disk's bounce count (`bounced=`, 0 when every transfer went
//! by DMA straight to this program's buffer).
//!
//! The one-at-a-time random phase's done line also says how long the core was
//! halted in it (`halted-ns=`): the time it waited for the device, not its own.
//!
//! `disk-bench --random N` (`init=disk-bench --random N`) runs only the first N random
//! reads, one at a time: `bench disk --instructions-only` counts the guest's
//! instructions for two values of N and takes the slope.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use ingot_sdk::disk_queue::{self, Pending};
use ingot_sdk::{cores, disk, println};

ingot_sdk::entry!(main);

const MIB: usize = 1024 * 1024;
/// Bytes written and then read sequentially.
const SEQUENTIAL_BYTES: usize = 32 * MIB;
/// Number of 4 KiB random reads.
const RANDOM_READS: usize = 4000;
/// Random reads in flight at once in the queued phase.
const QUEUE_DEPTH: usize = 32;

/// The random 4 KiB-aligned offsets: xorshift64 from a fixed seed, modulo the disk's
/// 4 KiB blocks (the Linux peer uses the same).
struct Offsets {
    state: u64,
    blocks: u64,
}

impl Iterator for Offsets {
    type Item = u64;
    fn next(&mut self) -> Option<u64> {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        Some((self.state % self.blocks) * 4096)
    }
}

fn offsets(blocks: u64) -> Offsets {
    Offsets { state: 0x2545_F491_4F6C_DD1D, blocks }
}

fn main() -> u64 {
    let Some(memory) = ingot_sdk::scratch::take() else { return 10 };
    let memory: &'static mut [u8] = memory;
    if disk::count() > 1 || cores::core_count() > 1 {
        return parallel_reads(memory);
    }
    let Ok(info) = disk::info(0) else {
        println!("disk-bench: no disk");
        return 11;
    };
    let sector = info.sector_size as usize;
    let disk_bytes = info.sectors as usize * sector;
    if let Some(reads) = random_only() {
        let Some(reads) = reads else {
            println!("disk-bench: --random needs a number of reads");
            return 23;
        };
        if disk_bytes < 4096 || memory.len() < 4096 || sector == 0 {
            println!("disk-bench: disk or memory too small");
            return 12;
        }
        return random_reads(&mut memory[..4096], (disk_bytes / 4096) as u64, sector, reads)
            .map_or_else(|code| code, |()| 0);
    }
    if disk_bytes < SEQUENTIAL_BYTES || memory.len() < 2 * MIB || sector == 0 {
        println!("disk-bench: disk or memory too small");
        return 12;
    }
    let buffer = &mut memory[..MIB];
    for (i, byte) in buffer.iter_mut().enumerate() {
        *byte = (i * 7) as u8;
    }
    let per_request = (MIB / sector) as u64;
    println!("disk-bench: seq-write start bytes={SEQUENTIAL_BYTES}");
    for request in 0..(SEQUENTIAL_BYTES / MIB) as u64 {
        if disk::write(0, request * per_request, buffer).is_err() {
            return 13;
        }
    }
    if disk::flush(0).is_err() {
        return 14;
    }
    println!("disk-bench: seq-write done");
    println!("disk-bench: seq-read start bytes={SEQUENTIAL_BYTES}");
    for request in 0..(SEQUENTIAL_BYTES / MIB) as u64 {
        if disk::read(0, request * per_request, buffer).is_err() {
            return 15;
        }
    }
    println!("disk-bench: seq-read done");
    let blocks = (disk_bytes / 4096) as u64;
    if let Err(code) = random_reads(&mut buffer[..4096], blocks, sector, RANDOM_READS) {
        return code;
    }
    let (_, rest) = memory.split_at_mut(MIB);
    if let Err(code) = queued_reads(rest, blocks, sector as u64) {
        return code;
    }
    // How many transfers went through a kernel bounce buffer (0 when every byte moved
    // by DMA straight into the buffers); read after the last request, so not timed.
    let bounced = disk::info(0).map_or(u32::MAX, |info| info.bounced);
    println!("disk-bench: rand-read-qd32 done bounced={bounced}");
    0
}

/// `Some(Some(N))` for `--random N`, `Some(None)` for `--random` without a number.
fn random_only() -> Option<Option<usize>> {
    let mut words = ingot_sdk::args::args().skip(1);
    if words.next()? != "--random" {
        return None;
    }
    Some(words.next().and_then(|n| n.parse().ok()))
}

/// `reads` 4 KiB reads one at a time at the first of [`offsets`], into `buffer`;
/// the done line carries the time the core was halted meanwhile.
fn random_reads(buffer: &mut [u8], blocks: u64, sector: usize, reads: usize) -> Result<(), u64> {
    println!("disk-bench: rand-read start ops={reads}");
    let halted_before = ingot_sdk::events::core_halted_ns(0).unwrap_or(0);
    for offset in offsets(blocks).take(reads) {
        disk::read(0, offset / sector as u64, buffer).map_err(|_| 16u64)?;
    }
    let halted_ns = ingot_sdk::events::core_halted_ns(0).unwrap_or(0).saturating_sub(halted_before);
    println!("disk-bench: rand-read done halted-ns={halted_ns}");
    Ok(())
}

/// The random reads again, [`QUEUE_DEPTH`] in flight: each 4 KiB buffer of `memory`
/// is resubmitted with the next offset as soon as its request is collected. The
/// done line is printed by the caller, after the bounce count is read.
fn queued_reads(memory: &'static mut [u8], blocks: u64, sector: u64) -> Result<(), u64> {
    let Ok(queue) = disk_queue::Disk::new(0) else { return Err(17) };
    let mut pending: [Option<Pending<&'static mut [u8]>>; QUEUE_DEPTH] =
        core::array::from_fn(|_| None);
    let mut next = offsets(blocks).take(RANDOM_READS);
    let mut buffers = memory.chunks_mut(4096).take(QUEUE_DEPTH);
    println!("disk-bench: rand-read-qd32 start ops={RANDOM_READS}");
    for slot in pending.iter_mut() {
        let (Some(buffer), Some(offset)) = (buffers.next(), next.next()) else { break };
        *slot = Some(queue.read(offset / sector, buffer).map_err(|_| 18u64)?);
    }
    let mut outstanding = pending.iter().flatten().count();
    while outstanding > 0 {
        for slot in pending.iter_mut() {
            let Some(request) = slot.take() else { continue };
            match request.poll() {
                Err(request) => *slot = Some(request),
                Ok((buffer, outcome)) => {
                    outcome.map_err(|_| 19u64)?;
                    outstanding -= 1;
                    if let Some(offset) = next.next() {
                        *slot = Some(queue.read(offset / sector, buffer).map_err(|_| 18u64)?);
                        outstanding += 1;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Where the parallel phase's buffers start: 1 MiB per disk (read by the cores'
/// tasks through the raw disk call, so no memory is shared between them).
static PARALLEL_BASE: AtomicU64 = AtomicU64::new(0);
/// Requests of the parallel phase that failed.
static PARALLEL_FAILURES: AtomicU64 = AtomicU64::new(0);
/// Most disks of the parallel phase.
const MOST_DISKS: usize = 16;
/// Each disk's sector size, looked up by core 0: a task runs on its core's kernel
/// stack, outside the program's memory, so it cannot have the kernel fill a
/// `DiskInfo` there.
static SECTOR_SIZES: [AtomicU64; MOST_DISKS] = [const { AtomicU64::new(0) }; MOST_DISKS];

/// Whether the parallel phase's readers share disk 0.
static SHARED_DISK: AtomicBool = AtomicBool::new(false);

/// Reader `reader`: [`SEQUENTIAL_BYTES`] of disk `reader` (or of disk 0 from its
/// `reader`-th [`SEQUENTIAL_BYTES`] when they share it) in 1 MiB requests into its
/// buffer.
extern "sysv64" fn read_disk(reader: u64) {
    let base = PARALLEL_BASE.load(Ordering::Acquire) + reader * MIB as u64;
    let shared = SHARED_DISK.load(Ordering::Acquire);
    let disk = if shared { 0 } else { reader };
    let sector = SECTOR_SIZES.get(disk as usize).map_or(0, |s| s.load(Ordering::Acquire));
    if sector == 0 {
        PARALLEL_FAILURES.fetch_add(1, Ordering::AcqRel);
        return;
    }
    let per_request = MIB as u64 / sector;
    let requests = (SEQUENTIAL_BYTES / MIB) as u64;
    let first = if shared { reader * requests * per_request } else { 0 };
    for request in 0..requests {
        let lba = first + request * per_request;
        if disk::read_raw(disk, lba, per_request, base).is_err() {
            PARALLEL_FAILURES.fetch_add(1, Ordering::AcqRel);
        }
    }
}

/// The parallel phase: one disk per core, or one disk shared by every core, all
/// read at once.
fn parallel_reads(memory: &'static mut [u8]) -> u64 {
    let shared = disk::count() == 1;
    let cores = cores::core_count().min(MOST_DISKS as u64);
    let readers = if shared { cores } else { disk::count().min(cores) };
    let disks = if shared { 1 } else { readers };
    if readers < 2 || memory.len() < readers as usize * MIB {
        println!("disk-bench: parallel phase needs 2 cores and 2 disks or one shared disk");
        return 20;
    }
    SHARED_DISK.store(shared, Ordering::Release);
    PARALLEL_BASE.store(memory.as_ptr() as u64, Ordering::Release);
    for (disk, size) in SECTOR_SIZES.iter().enumerate().take(disks as usize) {
        let info = disk::info(disk as u64);
        let sector = info.as_ref().map_or(0, |info| u64::from(info.sector_size));
        let bytes = info.map_or(0, |info| info.sectors * sector);
        if shared && bytes < readers * SEQUENTIAL_BYTES as u64 {
            println!("disk-bench: the shared disk is smaller than 32 MiB per core");
            return 24;
        }
        size.store(sector, Ordering::Release);
    }
    let bytes = readers as usize * SEQUENTIAL_BYTES;
    println!("disk-bench: par-read start bytes={bytes} disks={disks} cores={readers}");
    for reader in 1..readers {
        if cores::run_on_core(reader, read_disk, reader).is_err() {
            return 21;
        }
    }
    read_disk(0);
    while cores::cores_busy() {
        core::hint::spin_loop();
    }
    let failures = PARALLEL_FAILURES.load(Ordering::Acquire);
    let bounced: u64 = (0..disks)
        .map(|d| disk::info(d).map_or(u64::from(u32::MAX), |i| u64::from(i.bounced)))
        .sum();
    println!("disk-bench: par-read done bounced={bounced} failures={failures}");
    if failures == 0 { 0 } else { 22 }
}
