//! `b_nvs_read` and `b_nvs_write`: BareMetal's 4096-byte sectors on every disk.
//!
//! The reference counts in 4 KiB sectors whatever the device's own sector size is; a
//! compatible sector `n` is the device's sectors from byte `n * 4096`. Unlike the
//! reference, every sector of a multi-sector call moves (the device calls advance the
//! position themselves), and RCX comes back as the number of 4 KiB sectors actually
//! moved: all of them, or on an error the ones before the failing piece (0 when the
//! request was refused before the device was touched), with the carry flag set and
//! the error code in RAX.

use ingot_abi::Error;
use ingot_baremetal::{NVS_SECTOR_BYTES, nvs_range};

use super::{Refuse, Registers};
use crate::{api, storage};

/// Compatible sectors moved per device call (128 KiB, the native read's chunk).
const SECTORS_PER_CALL: u64 = 32;

/// Which way the data goes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Disk to memory (`b_nvs_read`, buffer in RDI).
    Read,
    /// Memory to disk (`b_nvs_write`, buffer in RSI).
    Write,
}

/// Moves RCX sectors from sector RAX of disk RDX; RCX = sectors moved.
pub fn transfer(registers: &mut Registers, direction: Direction) {
    let (first, count, disk) = (registers.rax, registers.rcx, registers.rdx);
    let buffer = match direction {
        Direction::Read => registers.rdi,
        Direction::Write => registers.rsi,
    };
    let (moved, outcome) = move_sectors(disk, first, count, buffer, direction);
    registers.rcx = moved;
    match outcome {
        Ok(()) => registers.succeed(),
        Err(error) => registers.refuse(error),
    }
}

/// Returns the sectors moved and whether all were.
fn move_sectors(
    disk: u64,
    first: u64,
    count: u64,
    buffer: u64,
    direction: Direction,
) -> (u64, Result<(), Error>) {
    // The whole request is checked before anything moves, so a refused call changes
    // nothing: its range on the disk and its buffer in program memory.
    let checked = (|| {
        let identity = storage::identity(disk).ok_or(Error::NotFound)?;
        let range = nvs_range(first, count, identity.sector_size.into(), identity.sectors)
            .map_err(|_| Error::InvalidArgument)?;
        crate::program::window().ok_or(Error::NotFound)?.check_range(buffer, range.bytes)?;
        Ok(range.per_sector)
    })();
    let per_sector = match checked {
        Ok(per_sector) => per_sector,
        Err(error) => return (0, Err(error)),
    };
    let mut moved = 0;
    while moved < count {
        let part = (count - moved).min(SECTORS_PER_CALL);
        let lba = (first + moved) * per_sector;
        let address = buffer + moved * NVS_SECTOR_BYTES;
        let device_count = part * per_sector;
        let status = match direction {
            Direction::Read => api::disk_read(disk, lba, device_count, address as *mut u8),
            Direction::Write => api::disk_write(disk, lba, device_count, address as *const u8),
        };
        if status < 0 {
            let error = Error::from_status(status).unwrap_or(Error::DeviceError);
            return (moved, Err(error));
        }
        moved += part;
    }
    (moved, Ok(()))
}
