//! Device-error propagation check: the scenario makes the host fail every read of
//! sector [`FAILING_SECTOR`] of disk 0 (QEMU blkdebug). A multi-sector read across
//! it must come back as `DeviceError` (never success or a hang), and the disk must
//! still serve other sectors afterwards. Exit status 0 when both hold.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use ingot_sdk::abi::Error;
use ingot_sdk::{disk, println};

ingot_sdk::entry!(main);

/// The sector the scenario's blkdebug rule fails (in 512-byte units).
const FAILING_SECTOR: u64 = 2048;

fn main() -> u64 {
    let mut buffer = [0u8; 8192];
    let Ok(info) = disk::info(0) else {
        println!("disk-fault: no disk");
        return 10;
    };
    let size = info.sector_size as usize;
    if size == 0 || size > 4096 {
        return 11;
    }
    let failing = FAILING_SECTOR * 512 / size as u64;
    let first = failing - 4;
    let outcome = disk::read(0, first, &mut buffer[..8 * size]);
    let reported = match outcome {
        Ok(()) => "none",
        Err(Error::DeviceError) => "DeviceError",
        Err(Error::TimedOut) => "TimedOut",
        Err(_) => "other",
    };
    println!("disk-fault: read lba={first} count=8 across the failing sector: error={reported}");
    let usable = disk::read(0, 0, &mut buffer[..size]).is_ok();
    println!("disk-fault: disk usable after the error={usable}");
    if outcome == Err(Error::DeviceError) && usable { 0 } else { 1 }
}
