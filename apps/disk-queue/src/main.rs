//! Asynchronous disk test: on every disk, [`REQUESTS`] writes of 16 KiB to spread-out
//! places plus one [`SPAN_BYTES`] write from the last bytes of the program's free
//! memory (where the window's large-page part meets the 4 KiB-granular rest of RAM,
//! so that buffer is physically discontiguous) are submitted before the first is
//! waited for, and waited for in reverse order; then the same regions are read back
//! the same way into cleared buffers, collected with `poll` in whatever order they
//! finish, and compared.
//!
//! The pattern byte at absolute byte offset `o` of disk `d` is [`pattern_byte`]`(d,
//! o)`, as in `disk-test`; each written region is printed as `disk-queue: disk <d>
//! wrote lba=<l> count=<c> sector_size=<s>` so the scenario checks the image files
//! from the host. Then the refusals: a buffer outside the program's memory, a bad
//! direction and a ticket that is not one. Exit status 0 when every disk checks out.
//!
//! `disk-queue --lanes` instead has two cores drive disk 0 at once ([`lanes`]).
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use ingot_sdk::abi::Error;
use ingot_sdk::disk_queue::{self, Pending};
use ingot_sdk::{disk, println};

mod lanes;

ingot_sdk::entry!(main);

/// The pattern: a multiplicative hash of the disk number and the byte offset.
pub fn pattern_byte(disk: u64, offset: u64) -> u8 {
    let x = (offset ^ (disk << 56) ^ 0x5DEE_CE66_D1CE_4E5B).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    ((x >> 56) ^ (x >> 24)) as u8
}

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
/// Requests of [`REQUEST_BYTES`] in flight at once (besides the span).
const REQUESTS: usize = 32;
const REQUEST_BYTES: u64 = 16 * KIB;
/// Bytes of the span request, from the end of free memory.
const SPAN_BYTES: u64 = 2 * MIB + 512 * KIB;

/// Where request `i` goes (bytes): 80 KiB apart from 1 MiB, so no two touch.
fn request_offset(i: usize) -> u64 {
    MIB + i as u64 * 80 * KIB
}

/// Where the span goes (bytes).
const SPAN_OFFSET: u64 = 5 * MIB;

/// Every buffer: [`REQUESTS`] of [`REQUEST_BYTES`], then the span.
const BUFFERS: usize = REQUESTS + 1;
type Buffers = [Option<&'static mut [u8]>; BUFFERS];

fn main() -> u64 {
    // Free memory is taken whole (no heap: the SDK's heap and `scratch` exclude
    // each other), so the requests live in fixed arrays.
    let Some(memory) = ingot_sdk::scratch::take() else {
        println!("disk-queue: no free memory");
        return 10;
    };
    if ingot_sdk::args::args().nth(1) == Some("--lanes") {
        return lanes::run(memory);
    }
    let needed = REQUESTS * REQUEST_BYTES as usize + SPAN_BYTES as usize;
    if memory.len() < needed {
        println!("disk-queue: not enough free memory");
        return 14;
    }
    let split = memory.len() - SPAN_BYTES as usize;
    let (front, span) = memory.split_at_mut(split);
    let mut buffers: Buffers = core::array::from_fn(|_| None);
    for (slot, chunk) in buffers.iter_mut().zip(front.chunks_mut(REQUEST_BYTES as usize)) {
        *slot = Some(chunk);
    }
    buffers[REQUESTS] = Some(span);
    let count = disk::count();
    println!("disk-queue: disks={count}");
    if count == 0 {
        return 11;
    }
    for number in 0..count {
        if let Err(code) = test_disk(number, &mut buffers) {
            return code;
        }
    }
    println!("disk-queue: all {count} disks verified");
    0
}

/// The byte offset on disk of buffer `index` (the last one is the span).
fn offset_of(index: usize) -> u64 {
    if index == REQUESTS { SPAN_OFFSET } else { request_offset(index) }
}

fn test_disk(number: u64, buffers: &mut Buffers) -> Result<(), u64> {
    let info = disk::info(number).map_err(|_| 12u64)?;
    let s = u64::from(info.sector_size);
    if s == 0 || info.sectors * s < SPAN_OFFSET + SPAN_BYTES + s {
        println!("disk-queue: disk {number} too small");
        return Err(13);
    }
    // Every write submitted before the first wait; waited for last to first.
    let mut pending: [Option<Pending<&'static mut [u8]>>; BUFFERS] = core::array::from_fn(|_| None);
    for (index, slot) in buffers.iter_mut().enumerate() {
        let buffer = slot.take().ok_or(30u64)?;
        let at = offset_of(index);
        for (i, byte) in buffer.iter_mut().enumerate() {
            *byte = pattern_byte(number, at + i as u64);
        }
        match disk_queue::write(number, at / s, buffer) {
            Ok(request) => pending[index] = Some(request),
            Err((_, error)) => {
                println!("disk-queue: disk {number} submit write {index} failed: {error:?}");
                return Err(15);
            }
        }
    }
    let submitted = pending.iter().flatten().count();
    for index in (0..BUFFERS).rev() {
        let (buffer, outcome) = pending[index].take().ok_or(31u64)?.wait();
        if let Err(error) = outcome {
            println!("disk-queue: disk {number} write {index} failed: {error:?}");
            return Err(16);
        }
        let (lba, sectors) = (offset_of(index) / s, buffer.len() as u64 / s);
        println!("disk-queue: disk {number} wrote lba={lba} count={sectors} sector_size={s}");
        buffers[index] = Some(buffer);
    }
    // Reads into cleared buffers, collected by polling in the order they finish.
    for (index, slot) in buffers.iter_mut().enumerate() {
        let buffer = slot.take().ok_or(32u64)?;
        buffer.fill(0);
        match disk_queue::read(number, offset_of(index) / s, buffer) {
            Ok(request) => pending[index] = Some(request),
            Err((_, error)) => {
                println!("disk-queue: disk {number} submit read {index} failed: {error:?}");
                return Err(17);
            }
        }
    }
    let mut verified = 0;
    while pending.iter().any(Option::is_some) {
        for index in 0..BUFFERS {
            let Some(request) = pending[index].take() else { continue };
            match request.poll() {
                Err(request) => pending[index] = Some(request),
                Ok((buffer, outcome)) => {
                    if let Err(error) = outcome {
                        println!("disk-queue: disk {number} read {index} failed: {error:?}");
                        return Err(18);
                    }
                    let at = offset_of(index);
                    let wrong = (0..buffer.len())
                        .filter(|&i| buffer[i] != pattern_byte(number, at + i as u64))
                        .count();
                    if wrong > 0 {
                        println!("disk-queue: disk {number} read {index}: {wrong} bytes differ");
                        return Err(19);
                    }
                    verified += buffer.len();
                    buffers[index] = Some(buffer);
                }
            }
        }
    }
    let refused = refusals(number);
    let bounced = disk::info(number).map_err(|_| 12u64)?.bounced;
    println!(
        "disk-queue: disk {number} verified bytes={verified} submitted-before-waiting={submitted} \
         bad-requests-refused={refused} bounced={bounced}"
    );
    if refused { Ok(()) } else { Err(20) }
}

/// Requests the kernel must refuse before touching a device.
fn refusals(number: u64) -> bool {
    let outside = disk_queue::submit_raw(number, 0, 0, 1, 0x10_0000) == Err(Error::BadAddress);
    let direction =
        disk_queue::submit_raw(number, 7, 0, 1, 0x10_0000) == Err(Error::InvalidArgument);
    let past_end = disk::info(number).is_ok_and(|info| {
        disk_queue::submit_raw(number, 0, info.sectors, 1, 0x10_0000) == Err(Error::InvalidArgument)
    });
    let no_ticket = disk_queue::poll_raw(number << 48 | 0xFFFF) == Err(Error::NotFound);
    outside && direction && past_end && no_ticket
}
