//! Safe wrappers around the kernel's call table.

use ingot_abi::{Error, MemoryInfo};

use crate::start::api;

/// Writes bytes to the console; returns how many were written. An empty slice is not
/// sent (its pointer may lie anywhere, even outside the window).
///
/// # Example
///
/// ```ignore
/// let written = ingot_sdk::write(b"hello from Rust\n")?;
/// ingot_sdk::println!("{written} bytes written, then formatted: {}", 6 * 7);
/// ```
pub fn write(bytes: &[u8]) -> Result<usize, Error> {
    if bytes.is_empty() {
        return Ok(0);
    }
    let status = (api().console_write)(bytes.as_ptr(), bytes.len() as u64);
    decode(status).map(|count| count as usize)
}

/// The next console input byte, if one is waiting.
///
/// # Example
///
/// ```ignore
/// match ingot_sdk::read_byte() {
///     Some(byte) => ingot_sdk::println!("key {byte:#04x}"),
///     None => ingot_sdk::println!("no key waiting"),
/// }
/// ```
pub fn read_byte() -> Option<u8> {
    decode((api().console_read)()).ok().map(|byte| byte as u8)
}

/// The kernel's API version: (major, minor).
///
/// # Example
///
/// ```ignore
/// let (major, minor) = ingot_sdk::api_version();
/// ingot_sdk::println!("API {major}.{minor}");
/// ```
pub fn api_version() -> (u16, u16) {
    let version = api().version;
    ((version >> 16) as u16, version as u16)
}

/// Facts about the program's memory.
///
/// # Example
///
/// ```ignore
/// let memory = ingot_sdk::memory_info()?;
/// ingot_sdk::println!(
///     "window {:#x}, {} KiB, stack {} KiB",
///     memory.window_base,
///     memory.window_bytes / 1024,
///     memory.stack_bytes / 1024
/// );
/// ```
pub fn memory_info() -> Result<MemoryInfo, Error> {
    let mut info = MemoryInfo::default();
    decode((api().memory_info)(&mut info))?;
    Ok(info)
}

/// Raw access for tests of the kernel's argument checks: calls `console_write` with
/// any pointer and length.
///
/// # Example
///
/// ```ignore
/// // The kernel checks every pointer: one outside the program's memory is refused.
/// let refused = ingot_sdk::write_raw(0x10_0000, 16);
/// ingot_sdk::println!(
///     "kernel memory refused: {}",
///     refused == Err(ingot_sdk::abi::Error::BadAddress)
/// );
/// ```
pub fn write_raw(address: u64, len: u64) -> Result<usize, Error> {
    decode((api().console_write)(address as *const u8, len)).map(|count| count as usize)
}

#[inline(always)]
pub(crate) fn decode(status: i64) -> Result<u64, Error> {
    if status >= 0 {
        Ok(status as u64)
    } else {
        Err(Error::from_status(status).unwrap_or(Error::InvalidArgument))
    }
}
