//! Disk benchmark load for `cargo xtask bench disk`: on disk 0, sequential writes
//! and reads of [`SEQUENTIAL_BYTES`] in 1 MiB requests, then [`RANDOM_READS`] 4 KiB
//! reads at pseudo-random 4 KiB-aligned offsets. It prints a line before and after
//! each phase; the host times the phases from when those lines arrive (the program
//! has no clock of its own), so console output is kept out of the timed parts. The
//! last line carries the disk's bounce count (`bounced=`, 0 when every transfer went
//! by DMA straight to this program's buffer).
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use ingot_sdk::{disk, println};

ingot_sdk::entry!(main);

const MIB: usize = 1024 * 1024;
/// Bytes written and then read sequentially.
const SEQUENTIAL_BYTES: usize = 32 * MIB;
/// Number of 4 KiB random reads.
const RANDOM_READS: usize = 4000;

fn main() -> u64 {
    let Some(memory) = ingot_sdk::scratch::take() else { return 10 };
    let Ok(info) = disk::info(0) else {
        println!("disk-bench: no disk");
        return 11;
    };
    let sector = info.sector_size as usize;
    let disk_bytes = info.sectors as usize * sector;
    if disk_bytes < SEQUENTIAL_BYTES || memory.len() < MIB || sector == 0 {
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
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    println!("disk-bench: rand-read start ops={RANDOM_READS}");
    for _ in 0..RANDOM_READS {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let lba = (state % blocks) * (4096 / sector as u64);
        if disk::read(0, lba, &mut buffer[..4096]).is_err() {
            return 16;
        }
    }
    // How many transfers went through a kernel bounce buffer (0 when every byte moved
    // by DMA straight into `buffer`); read after the last request, so not timed.
    let bounced = disk::info(0).map_or(u32::MAX, |info| info.bounced);
    println!("disk-bench: rand-read done bounced={bounced}");
    0
}
