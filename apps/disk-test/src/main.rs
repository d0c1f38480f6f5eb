//! Disk test: on every disk the kernel found, writes a known pattern with
//! multi-sector calls that cross 4 KiB and 2 MiB boundaries, flushes, reads it back
//! through the kernel and compares, then checks that bad requests are refused.
//!
//! The pattern byte at absolute byte offset `o` of disk `d` is [`pattern_byte`]`(d, o)`
//! (also in `tools/xtask/src/scenarios/storage.rs`, which checks the image files
//! from the host). Each written region is printed as
//! `disk-test: disk <d> wrote lba=<l> count=<c> sector_size=<s>` so the host check
//! knows where to look. One more region, [`SPAN_BYTES`] at 5 MiB, is written from and
//! read back into the last bytes of the program's free memory in one call each: the
//! window's end, where its large-page part meets the 4 KiB-granular rest of RAM, so
//! the buffer is physically discontiguous and the controller gets a scatter list. The verified line ends with the disk's bounce
//! count (`DiskInfo::bounced`: 0 when every transfer went by DMA straight to
//! program memory). Exit status 0 when every disk checks out.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use ingot_sdk::abi::Error;
use ingot_sdk::{disk, println};

ingot_sdk::entry!(main);

/// The pattern: a multiplicative hash of the disk number and the byte offset.
pub fn pattern_byte(disk: u64, offset: u64) -> u8 {
    let x = (offset ^ (disk << 56) ^ 0x5DEE_CE66_D1CE_4E5B).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    ((x >> 56) ^ (x >> 24)) as u8
}

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

/// Regions written, as (lba, count) for sector size `s`: across the 8 KiB boundary,
/// across 2 MiB, and a larger one across 4 MiB (several device requests at once).
fn regions(s: u64) -> [(u64, u64); 3] {
    [((8 * KIB / s).saturating_sub(2).max(1), 5), (2 * MIB / s - 3, 7), (4 * MIB / s - 100, 300)]
}

fn main() -> u64 {
    let Some(memory) = ingot_sdk::scratch::take() else {
        println!("disk-test: no free memory");
        return 10;
    };
    let count = disk::count();
    println!("disk-test: disks={count}");
    if count == 0 {
        return 11;
    }
    for number in 0..count {
        if let Err(code) = test_disk(number, count, memory) {
            return code;
        }
    }
    println!("disk-test: all {count} disks verified");
    // Disks that complete by interrupt let the blocking calls halt the core.
    let interrupting = (0..count)
        .filter(|&disk| ingot_sdk::events::interrupt_events() & ingot_sdk::events::disk(disk) != 0)
        .count();
    let halted_us = ingot_sdk::events::core_halted_ns(0).unwrap_or(0) / 1000;
    println!("disk-test: core 0 halted-us={halted_us} interrupting-disks={interrupting}");
    0
}

/// Bytes of the span region, written from and read back into the end of free
/// memory in one call each.
const SPAN_BYTES: u64 = 2 * MIB + 512 * KIB;

/// Writes [`SPAN_BYTES`] at 5 MiB from the last bytes of `memory` in one call,
/// clears them, reads them back in one call and compares; returns the bytes checked.
fn span_round_trip(number: u64, s: u64, memory: &mut [u8]) -> Result<usize, u64> {
    let (lba, sectors) = (5 * MIB / s, SPAN_BYTES / s);
    let start = memory.len() - SPAN_BYTES as usize;
    let span = &mut memory[start..];
    for (i, byte) in span.iter_mut().enumerate() {
        *byte = pattern_byte(number, lba * s + i as u64);
    }
    if let Err(error) = disk::write(number, lba, span) {
        println!("disk-test: disk {number} span write failed: {error:?}");
        return Err(20);
    }
    println!("disk-test: disk {number} wrote lba={lba} count={sectors} sector_size={s}");
    span.fill(0);
    if let Err(error) = disk::read(number, lba, span) {
        println!("disk-test: disk {number} span read failed: {error:?}");
        return Err(21);
    }
    let wrong = (0..span.len()).filter(|&i| span[i] != pattern_byte(number, lba * s + i as u64));
    let wrong = wrong.count();
    if wrong > 0 {
        println!("disk-test: disk {number} span lba={lba} {wrong} bytes differ");
        return Err(22);
    }
    Ok(span.len())
}

fn test_disk(number: u64, count: u64, memory: &mut [u8]) -> Result<(), u64> {
    let info = disk::info(number).map_err(|_| 12u64)?;
    let s = u64::from(info.sector_size);
    let model = core::str::from_utf8(&info.model).unwrap_or("?").trim_end();
    println!("disk-test: disk {number} sectors={} sector_size={s} model={model}", info.sectors);
    if s == 0 || info.sectors < (4 * MIB / s + 200).max((5 * MIB + SPAN_BYTES) / s + 1) {
        println!("disk-test: disk {number} too small");
        return Err(13);
    }
    let largest = regions(s).iter().map(|r| r.1 * s).max().unwrap_or(0) as usize;
    if memory.len() < 2 * largest + SPAN_BYTES as usize {
        println!("disk-test: not enough memory for buffers");
        return Err(14);
    }
    let (out, rest) = memory.split_at_mut(largest);
    for (lba, sectors) in regions(s) {
        let bytes = (sectors * s) as usize;
        for (i, byte) in out[..bytes].iter_mut().enumerate() {
            *byte = pattern_byte(number, lba * s + i as u64);
        }
        if let Err(error) = disk::write(number, lba, &out[..bytes]) {
            println!("disk-test: disk {number} write lba={lba} failed: {error:?}");
            return Err(15);
        }
        println!("disk-test: disk {number} wrote lba={lba} count={sectors} sector_size={s}");
    }
    disk::flush(number).map_err(|_| 16u64)?;
    let mut verified = span_round_trip(number, s, rest)?;
    let back = &mut rest[..largest];
    for (lba, sectors) in regions(s) {
        let bytes = (sectors * s) as usize;
        back[..bytes].fill(0);
        if let Err(error) = disk::read(number, lba, &mut back[..bytes]) {
            println!("disk-test: disk {number} read lba={lba} failed: {error:?}");
            return Err(17);
        }
        let wrong = (0..bytes).filter(|&i| back[i] != pattern_byte(number, lba * s + i as u64));
        let wrong = wrong.count();
        if wrong > 0 {
            println!("disk-test: disk {number} lba={lba} {wrong} bytes differ");
            return Err(18);
        }
        verified += bytes;
    }
    let refused = [
        // Past the end: the last sector plus one more.
        disk::write(number, info.sectors - 1, &out[..2 * s as usize])
            == Err(Error::InvalidArgument),
        disk::read(number, info.sectors, &mut back[..s as usize]) == Err(Error::InvalidArgument),
        // Zero sectors.
        disk::write_raw(number, 0, 0, out.as_ptr() as u64) == Err(Error::InvalidArgument),
        // Not a whole sector.
        disk::write(number, 0, &out[..s as usize / 2]) == Err(Error::InvalidArgument),
        // No such disk.
        disk::write(count, 0, &out[..s as usize]) == Err(Error::NotFound),
        // A buffer outside the program's memory.
        disk::write_raw(number, 0, 1, 0x10_0000) == Err(Error::BadAddress),
        disk::read_raw(number, 0, 1, 0x10_0000) == Err(Error::BadAddress),
    ];
    let all_refused = refused.iter().all(|&r| r);
    let bounced = disk::info(number).map_err(|_| 12u64)?.bounced;
    println!(
        "disk-test: disk {number} verified bytes={verified} bad-requests-refused={all_refused} \
         bounced={bounced}"
    );
    if all_refused { Ok(()) } else { Err(19) }
}
