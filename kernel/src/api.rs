//! The native API calls programs make through `ingot_abi::ApiTable`.
//!
//! Every pointer a program passes goes through `ProgramMemory`'s checks before the
//! kernel touches it; a bad one returns `Error::BadAddress`, never a fault.

use alloc::vec::Vec;

use ingot_abi::{DiskInfo, Error, MemoryInfo, Status};
use ingot_platform::program_memory::PROGRAM_STACK_BYTES;

use crate::{console, program, storage};

/// Writes `len` bytes at `bytes` to the console. Returns `len`.
pub extern "sysv64" fn console_write(bytes: *const u8, len: u64) -> Status {
    let Some(window) = program::window() else { return Error::NotFound.status() };
    match window.bytes_at(bytes as u64, len) {
        Ok(data) => {
            console::write_bytes(data);
            len as Status
        }
        Err(error) => error.status(),
    }
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

/// Bytes moved per driver call when reading into program memory (the kernel's
/// bounce buffer; writes go straight from program memory to the driver).
const READ_CHUNK_BYTES: u64 = 128 * 1024;

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
    let identity = storage::identity(disk).ok_or(Error::NotFound)?;
    let bytes = count.checked_mul(u64::from(identity.sector_size)).ok_or(Error::InvalidArgument)?;
    let bytes_usize = usize::try_from(bytes).map_err(|_| Error::InvalidArgument)?;
    ingot_block::check_request(&identity, lba, bytes_usize).map_err(storage::api_error)?;
    window.bytes_at(buffer, bytes)?;
    Ok(bytes)
}

/// Reads `count` sectors at `lba` of `disk` into the program's `buffer`.
pub extern "sysv64" fn disk_read(disk: u64, lba: u64, count: u64, buffer: *mut u8) -> Status {
    let bytes = match check_disk_request(disk, lba, count, buffer as u64) {
        Ok(bytes) => bytes,
        Err(error) => return error.status(),
    };
    let Some(window) = program::window() else { return Error::NotFound.status() };
    let Some(identity) = storage::identity(disk) else { return Error::NotFound.status() };
    let sector = u64::from(identity.sector_size);
    let chunk = (READ_CHUNK_BYTES / sector).max(1) * sector;
    // Fallible: a small machine's heap may not hold the bounce buffer; that is an
    // error for the call, not a kernel panic.
    let mut bounce = Vec::new();
    if bounce.try_reserve_exact(chunk.min(bytes) as usize).is_err() {
        return Error::DeviceError.status();
    }
    bounce.resize(chunk.min(bytes) as usize, 0u8);
    let mut done = 0;
    while done < bytes {
        let len = (bytes - done).min(chunk) as usize;
        let part = &mut bounce[..len];
        let outcome = storage::with_disk(disk, |d| d.read(lba + done / sector, part));
        match outcome {
            Some(Ok(())) => {}
            Some(Err(error)) => return storage::api_error(error).status(),
            None => return Error::NotFound.status(),
        }
        if let Err(error) = window.write_at(buffer as u64 + done, part) {
            return error.status();
        }
        done += len as u64;
    }
    count as Status
}

/// Writes `count` sectors at `lba` of `disk` from the program's `buffer`.
pub extern "sysv64" fn disk_write(disk: u64, lba: u64, count: u64, buffer: *const u8) -> Status {
    let bytes = match check_disk_request(disk, lba, count, buffer as u64) {
        Ok(bytes) => bytes,
        Err(error) => return error.status(),
    };
    let Some(window) = program::window() else { return Error::NotFound.status() };
    let data = match window.bytes_at(buffer as u64, bytes) {
        Ok(data) => data,
        Err(error) => return error.status(),
    };
    match storage::with_disk(disk, |d| d.write(lba, data)) {
        Some(Ok(())) => count as Status,
        Some(Err(error)) => storage::api_error(error).status(),
        None => Error::NotFound.status(),
    }
}

/// Flushes `disk`'s write cache.
pub extern "sysv64" fn disk_flush(disk: u64) -> Status {
    match storage::with_disk(disk, |d| d.flush()) {
        Some(Ok(())) => 0,
        Some(Err(error)) => storage::api_error(error).status(),
        None => Error::NotFound.status(),
    }
}
