//! The data path of a disk request: the program's buffer is translated to physical
//! pieces and handed to the driver as a scatter list, so the controller moves the
//! bytes by DMA straight into or out of program memory (no kernel copy). Only when
//! a driver refuses the pieces (`BlockError::Unsupported`: an address or alignment
//! its controller cannot take) does the rest go through a kernel bounce buffer, and
//! the disk's bounce count says so. `requests` drives the submitted commands; this
//! file has the pieces it shares with the blocking path of drivers without one.

use alloc::vec::Vec;

use ingot_abi::Error;
use ingot_block::Segment;
use ingot_platform::program_memory::{PhysicalPiece, ProgramMemory};

use super::{Disk, api_error, count_bounce};

/// Which way the data goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Disk to program memory.
    Read,
    /// Program memory to disk.
    Write,
}

/// Pieces one span of the buffer is translated into at a time.
pub(super) const SPAN_PIECES: usize = 64;
/// The span tried first (the window is mostly mapped with large pages, so a span
/// is usually one or two pieces).
const SPAN_BYTES: u64 = 4 << 20;
/// A span that always fits [`SPAN_PIECES`] pieces, whatever the mapping: it
/// touches at most `SPAN_PIECES - 1` pages.
const SMALL_SPAN_BYTES: u64 = (SPAN_PIECES as u64 - 2) * 4096;
/// Bytes per driver call on the bounce path.
const BOUNCE_BYTES: u64 = 128 * 1024;

/// Translates the next span (at most `left` bytes, whole sectors) of the buffer at
/// `at` into `pieces`; returns the span's bytes and the pieces used.
pub(super) fn span_pieces(
    window: &ProgramMemory,
    at: u64,
    left: u64,
    sector: u64,
    pieces: &mut [PhysicalPiece; SPAN_PIECES],
) -> Result<(u64, usize), Error> {
    let span = left.min(SPAN_BYTES);
    match window.physical_pieces(at, span, pieces) {
        Ok(count) => Ok((span, count)),
        Err(Error::InvalidArgument) => {
            let span = span.min((SMALL_SPAN_BYTES / sector).max(1) * sector);
            Ok((span, window.physical_pieces(at, span, pieces)?))
        }
        Err(error) => Err(error),
    }
}

/// Moves `bytes` bytes between `device` (disk number `disk`) from sector `lba`
/// and the program's memory at `buffer` with the blocking calls, for drivers
/// without a submission path. The caller has checked the request against the disk
/// and the window; a device error part-way leaves the earlier spans done.
pub(super) fn transfer_blocking(
    device: &mut Disk,
    disk: u64,
    direction: Direction,
    lba: u64,
    buffer: u64,
    bytes: u64,
    window: &ProgramMemory,
) -> Result<(), Error> {
    let sector = u64::from(device.identity().sector_size);
    let mut pieces = [PhysicalPiece::default(); SPAN_PIECES];
    let mut segments = [Segment { physical: 0, len: 0 }; SPAN_PIECES];
    let mut done = 0;
    while done < bytes {
        let at = buffer + done;
        let (span, count) = span_pieces(window, at, bytes - done, sector, &mut pieces)?;
        for (segment, piece) in segments.iter_mut().zip(&pieces[..count]) {
            *segment = Segment { physical: piece.physical, len: piece.len };
        }
        let first = lba + done / sector;
        let outcome = match direction {
            Direction::Read => device.read_segments(first, &segments[..count]),
            Direction::Write => device.write_segments(first, &segments[..count]),
        };
        match outcome {
            Ok(()) => {}
            Err(ingot_block::BlockError::Unsupported) => {
                count_bounce(disk);
                bounce(device, direction, first, at, span, sector, window)?;
            }
            Err(error) => return Err(api_error(error)),
        }
        done += span;
    }
    Ok(())
}

/// The fallback: moves `bytes` through a kernel buffer with the driver's
/// slice-based `read`/`write`, copying program memory with the window's atomic
/// copies. The device must have no submitted command in flight.
pub(super) fn bounce(
    device: &mut Disk,
    direction: Direction,
    lba: u64,
    buffer: u64,
    bytes: u64,
    sector: u64,
    window: &ProgramMemory,
) -> Result<(), Error> {
    let chunk = (BOUNCE_BYTES / sector).max(1) * sector;
    // Fallible: a small machine's heap may not hold the bounce buffer; that is an
    // error for the call, not a kernel panic.
    let mut staging = Vec::new();
    if staging.try_reserve_exact(chunk.min(bytes) as usize).is_err() {
        return Err(Error::DeviceError);
    }
    staging.resize(chunk.min(bytes) as usize, 0u8);
    let mut done = 0;
    while done < bytes {
        let len = (bytes - done).min(chunk) as usize;
        let part = &mut staging[..len];
        let first = lba + done / sector;
        match direction {
            Direction::Read => {
                device.read(first, part).map_err(api_error)?;
                window.write_at(buffer + done, part)?;
            }
            Direction::Write => {
                window.read_into(buffer + done, part)?;
                device.write(first, part).map_err(api_error)?;
            }
        }
        done += len as u64;
    }
    Ok(())
}
