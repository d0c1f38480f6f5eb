//! The native API calls programs make through `ingot_abi::ApiTable`.
//!
//! Every pointer a program passes goes through `ProgramMemory`'s checks before the
//! kernel touches it; a bad one returns `Error::BadAddress`, never a fault.

use ingot_abi::{Error, MemoryInfo, Status};
use ingot_platform::program_memory::PROGRAM_STACK_BYTES;

use crate::{console, program};

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
        window_bytes: window.bytes(),
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
