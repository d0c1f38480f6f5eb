//! The native API calls programs make through `ingot_abi::ApiTable`.
//!
//! Every pointer a program passes goes through `ProgramMemory`'s checks before the
//! kernel touches it; a bad one returns `Error::BadAddress`, never a fault.

use ingot_abi::{DiskInfo, Error, MemoryInfo, Status};
use ingot_platform::program_memory::{PROGRAM_STACK_BYTES, ProgramMemory};

use crate::{console, program, storage};

/// Writes `len` bytes at `bytes` to the console. Returns `len`.
pub extern "sysv64" fn console_write(bytes: *const u8, len: u64) -> Status {
    let Some(window) = program::window() else { return Error::NotFound.status() };
    match write_program_bytes(window, bytes as u64, len) {
        Ok(()) => len as Status,
        Err(error) => error.status(),
    }
}

/// Sends the program's bytes `[address, address + len)` to the console, through a
/// kernel buffer (program memory is only ever copied); nothing is written if the range
/// leaves the program's memory.
pub fn write_program_bytes(window: &ProgramMemory, address: u64, len: u64) -> Result<(), Error> {
    window.read_staged(address, len, console::write_bytes)
}

/// Returns the next input byte, or `WouldBlock`.
pub extern "sysv64" fn console_read() -> Status {
    console::read_byte().map_or(Error::WouldBlock.status(), Status::from)
}

/// Fills a `MemoryInfo` in the program's memory.
pub extern "sysv64" fn memory_info(info: *mut MemoryInfo) -> Status {
    let Some(window) = program::window() else { return Error::NotFound.status() };
    let facts = MemoryInfo {
        window_base: window.base(),
        window_bytes: window.visible_bytes(),
        stack_bytes: PROGRAM_STACK_BYTES,
        usable_ram_bytes: crate::usable_ram_bytes(),
    };
    let words = [facts.window_base, facts.window_bytes, facts.stack_bytes, facts.usable_ram_bytes];
    let mut bytes = [0u8; core::mem::size_of::<MemoryInfo>()];
    for (chunk, word) in bytes.as_chunks_mut::<8>().0.iter_mut().zip(words) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    match window.write_at(info as u64, &bytes) {
        Ok(()) => 0,
        Err(error) => error.status(),
    }
}

/// Returns the number of disks.
pub extern "sysv64" fn disk_count() -> Status {
    storage::count() as Status
}

/// Fills a `DiskInfo` in the program's memory.
pub extern "sysv64" fn disk_info(disk: u64, info: *mut DiskInfo) -> Status {
    let Some(window) = program::window() else { return Error::NotFound.status() };
    let Some(identity) = storage::identity(disk) else { return Error::NotFound.status() };
    let mut bytes = [0u8; core::mem::size_of::<DiskInfo>()];
    bytes[..8].copy_from_slice(&identity.sectors.to_le_bytes());
    bytes[8..12].copy_from_slice(&identity.sector_size.to_le_bytes());
    let bounced = storage::bounced(disk).unwrap_or(0).min(u64::from(u32::MAX)) as u32;
    bytes[12..16].copy_from_slice(&bounced.to_le_bytes());
    bytes[16..56].copy_from_slice(&identity.model);
    bytes[56..96].copy_from_slice(&identity.serial);
    match window.write_at(info as u64, &bytes) {
        Ok(()) => 0,
        Err(error) => error.status(),
    }
}

/// Checks a disk request and returns the byte length of its buffer. Everything is
/// checked before the device is touched, so a refused request changes nothing.
fn check_disk_request(disk: u64, lba: u64, count: u64, buffer: u64) -> Result<u64, Error> {
    let window = program::window().ok_or(Error::NotFound)?;
    let identity = storage::identity_ref(disk).ok_or(Error::NotFound)?;
    let bytes = count.checked_mul(u64::from(identity.sector_size)).ok_or(Error::InvalidArgument)?;
    let bytes_usize = usize::try_from(bytes).map_err(|_| Error::InvalidArgument)?;
    ingot_block::check_request(identity, lba, bytes_usize).map_err(storage::api_error)?;
    window.check_range(buffer, bytes)?;
    Ok(bytes)
}

/// Reads `count` sectors at `lba` of `disk` into the program's `buffer` (by DMA
/// straight into it where the controller can reach it).
pub extern "sysv64" fn disk_read(disk: u64, lba: u64, count: u64, buffer: *mut u8) -> Status {
    disk_transfer(disk, storage::Direction::Read, lba, count, buffer as u64)
}

/// Writes `count` sectors at `lba` of `disk` from the program's `buffer`.
pub extern "sysv64" fn disk_write(disk: u64, lba: u64, count: u64, buffer: *const u8) -> Status {
    disk_transfer(disk, storage::Direction::Write, lba, count, buffer as u64)
}

/// The blocking calls: submit, then wait for the ticket.
fn disk_transfer(
    disk: u64,
    direction: storage::Direction,
    lba: u64,
    count: u64,
    buffer: u64,
) -> Status {
    let outcome = start_disk_request(disk, direction, lba, count, buffer).and_then(|ticket| {
        let window = program::window().ok_or(Error::NotFound)?;
        storage::wait(ticket, window)
    });
    match outcome {
        Ok(_) => count as Status,
        Err(error) => error.status(),
    }
}

fn start_disk_request(
    disk: u64,
    direction: storage::Direction,
    lba: u64,
    count: u64,
    buffer: u64,
) -> Result<u64, Error> {
    let bytes = check_disk_request(disk, lba, count, buffer)?;
    let window = program::window().ok_or(Error::NotFound)?;
    storage::submit(disk, direction, lba, buffer, bytes, window)
}

/// Starts a request without waiting; returns its ticket.
pub extern "sysv64" fn disk_submit(
    disk: u64,
    direction: u64,
    lba: u64,
    count: u64,
    buffer: *mut u8,
) -> Status {
    let direction = match direction {
        ingot_abi::DISK_READ => storage::Direction::Read,
        ingot_abi::DISK_WRITE => storage::Direction::Write,
        _ => return Error::InvalidArgument.status(),
    };
    match start_disk_request(disk, direction, lba, count, buffer as u64) {
        Ok(ticket) => ticket as Status,
        Err(error) => error.status(),
    }
}

/// A ticket's sector count once finished, `WouldBlock` while in flight.
pub extern "sysv64" fn disk_poll(ticket: u64) -> Status {
    let Some(window) = program::window() else { return Error::NotFound.status() };
    match storage::poll(ticket, window) {
        Ok(Some(bytes)) => ticket_sectors(ticket, bytes),
        Ok(None) => Error::WouldBlock.status(),
        Err(error) => error.status(),
    }
}

/// Waits for a ticket; its sector count.
pub extern "sysv64" fn disk_wait(ticket: u64) -> Status {
    let Some(window) = program::window() else { return Error::NotFound.status() };
    match storage::wait(ticket, window) {
        Ok(bytes) => ticket_sectors(ticket, bytes),
        Err(error) => error.status(),
    }
}

fn ticket_sectors(ticket: u64, bytes: u64) -> Status {
    let sector = storage::ticket_identity(ticket).map_or(1, |identity| identity.sector_size);
    (bytes / u64::from(sector.max(1))) as Status
}

/// Flushes `disk`'s write cache.
pub extern "sysv64" fn disk_flush(disk: u64) -> Status {
    match storage::with_disk(disk, |d| d.flush()) {
        Some(Ok(())) => 0,
        Some(Err(error)) => storage::api_error(error).status(),
        None => Error::NotFound.status(),
    }
}
