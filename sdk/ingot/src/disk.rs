//! Disks: safe wrappers around the kernel's `disk_*` calls.
//!
//! Buffers are whole sectors; `read` and `write` take any number of sectors in one
//! call. The kernel refuses bad requests (past the end, empty, missing disk, a
//! buffer outside the program's memory) with an error and without writing anything.

use core::sync::atomic::{AtomicU32, Ordering};

use ingot_abi::{DiskInfo, Error};

use crate::calls::decode;
use crate::start::api;

/// Number of disks the kernel found.
///
/// # Example
///
/// ```ignore
/// for disk in 0..ingot_sdk::disk::count() {
///     let info = ingot_sdk::disk::info(disk)?;
///     let model = core::str::from_utf8(&info.model).unwrap_or("?").trim_end();
///     ingot_sdk::println!("disk {disk}: {} x {} bytes, {model}", info.sectors, info.sector_size);
/// }
/// ```
pub fn count() -> u64 {
    decode((api().disk_count)()).unwrap_or(0)
}

/// What disk `disk` is.
///
/// # Example
///
/// ```ignore
/// for disk in 0..ingot_sdk::disk::count() {
///     let info = ingot_sdk::disk::info(disk)?;
///     let model = core::str::from_utf8(&info.model).unwrap_or("?").trim_end();
///     ingot_sdk::println!("disk {disk}: {} x {} bytes, {model}", info.sectors, info.sector_size);
/// }
/// ```
pub fn info(disk: u64) -> Result<DiskInfo, Error> {
    let mut info = DiskInfo::default();
    decode((api().disk_info)(disk, &mut info))?;
    if let Some(remembered) = usize::try_from(disk).ok().and_then(|i| SECTOR_SIZES.get(i)) {
        remembered.store(info.sector_size, Ordering::Relaxed);
    }
    Ok(info)
}

/// Reads `buffer.len() / sector_size` sectors from `lba`.
///
/// # Example
///
/// ```ignore
/// let mut sectors = [0u8; 1024];
/// ingot_sdk::disk::read(0, 8, &mut sectors)?;
/// sectors[..5].copy_from_slice(b"Ingot");
/// ingot_sdk::disk::write(0, 8, &sectors)?;
/// ingot_sdk::disk::flush(0)?;
/// match ingot_sdk::disk::read(99, 0, &mut sectors) {
///     Err(ingot_sdk::abi::Error::NotFound) => ingot_sdk::println!("no disk 99"),
///     other => ingot_sdk::println!("disk 99: {other:?}"),
/// }
/// ```
pub fn read(disk: u64, lba: u64, buffer: &mut [u8]) -> Result<(), Error> {
    let count = sectors_in(disk, buffer.len())?;
    decode((api().disk_read)(disk, lba, count, buffer.as_mut_ptr())).map(|_| ())
}

/// Writes `data.len() / sector_size` sectors at `lba`.
///
/// # Example
///
/// ```ignore
/// let mut sectors = [0u8; 1024];
/// ingot_sdk::disk::read(0, 8, &mut sectors)?;
/// sectors[..5].copy_from_slice(b"Ingot");
/// ingot_sdk::disk::write(0, 8, &sectors)?;
/// ingot_sdk::disk::flush(0)?;
/// match ingot_sdk::disk::read(99, 0, &mut sectors) {
///     Err(ingot_sdk::abi::Error::NotFound) => ingot_sdk::println!("no disk 99"),
///     other => ingot_sdk::println!("disk 99: {other:?}"),
/// }
/// ```
pub fn write(disk: u64, lba: u64, data: &[u8]) -> Result<(), Error> {
    let count = sectors_in(disk, data.len())?;
    decode((api().disk_write)(disk, lba, count, data.as_ptr())).map(|_| ())
}

/// Makes completed writes durable.
///
/// # Example
///
/// ```ignore
/// let mut sectors = [0u8; 1024];
/// ingot_sdk::disk::read(0, 8, &mut sectors)?;
/// sectors[..5].copy_from_slice(b"Ingot");
/// ingot_sdk::disk::write(0, 8, &sectors)?;
/// ingot_sdk::disk::flush(0)?;
/// match ingot_sdk::disk::read(99, 0, &mut sectors) {
///     Err(ingot_sdk::abi::Error::NotFound) => ingot_sdk::println!("no disk 99"),
///     other => ingot_sdk::println!("disk 99: {other:?}"),
/// }
/// ```
pub fn flush(disk: u64) -> Result<(), Error> {
    decode((api().disk_flush)(disk)).map(|_| ())
}

/// Raw access for tests of the kernel's checks: any count and any address.
///
/// # Example
///
/// ```ignore
/// // Any address and count: how a program tests the kernel's checks.
/// let refused = ingot_sdk::disk::read_raw(0, 0, 1, 0x10_0000);
/// let also_refused = ingot_sdk::disk::write_raw(0, 0, 0, 0x10_0000);
/// ingot_sdk::println!("raw disk calls refused: {:?} {:?}", refused, also_refused);
/// ```
pub fn write_raw(disk: u64, lba: u64, count: u64, address: u64) -> Result<u64, Error> {
    decode((api().disk_write)(disk, lba, count, address as *const u8))
}

/// Raw read, for tests of the kernel's checks.
///
/// # Example
///
/// ```ignore
/// // Any address and count: how a program tests the kernel's checks.
/// let refused = ingot_sdk::disk::read_raw(0, 0, 1, 0x10_0000);
/// let also_refused = ingot_sdk::disk::write_raw(0, 0, 0, 0x10_0000);
/// ingot_sdk::println!("raw disk calls refused: {:?} {:?}", refused, also_refused);
/// ```
pub fn read_raw(disk: u64, lba: u64, count: u64, address: u64) -> Result<u64, Error> {
    decode((api().disk_read)(disk, lba, count, address as *mut u8))
}

/// Disks whose sector size [`sector_size`] remembers.
const REMEMBERED_DISKS: usize = 16;
/// Sector sizes of the first disks once asked (0: not yet): a disk's sector size
/// never changes, so `read` and `write` ask the kernel once, not on every call (and
/// a task on another core, whose stack the kernel cannot fill a `DiskInfo` on, can
/// use them once the program's core asked).
static SECTOR_SIZES: [AtomicU32; REMEMBERED_DISKS] =
    [const { AtomicU32::new(0) }; REMEMBERED_DISKS];

/// Disk `disk`'s sector size.
pub(crate) fn sector_size(disk: u64) -> Result<u32, Error> {
    let remembered = usize::try_from(disk).ok().and_then(|index| SECTOR_SIZES.get(index));
    match remembered.map(|size| size.load(Ordering::Relaxed)).filter(|&s| s != 0) {
        Some(size) => Ok(size),
        None => Ok(info(disk)?.sector_size),
    }
}

fn sectors_in(disk: u64, bytes: usize) -> Result<u64, Error> {
    let size = u64::from(sector_size(disk)?);
    let bytes = bytes as u64;
    if size == 0 || !bytes.is_multiple_of(size) {
        return Err(Error::InvalidArgument);
    }
    Ok(bytes / size)
}
