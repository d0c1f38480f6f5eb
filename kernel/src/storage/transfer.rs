//! The data path of a disk call: the program's buffer is translated to physical
//! pieces and handed to the driver as a scatter list, so the controller moves the
//! bytes by DMA straight into or out of program memory (no kernel copy). Only when
//! a driver refuses the pieces (`BlockError::Unsupported`: an address or alignment
//! its controller cannot take) does the span go through a kernel bounce buffer, and
//! the disk's bounce count says so.

use alloc::vec::Vec;

use ingot_abi::Error;
use ingot_block::Segment;
use ingot_platform::program_memory::{PhysicalPiece, ProgramMemory};

use super::{api_error, count_bounce, identity, with_disk};

/// Which way the data goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Disk to program memory.
    Read,
    /// Program memory to disk.
    Write,
}

/// Pieces one span of the buffer is translated into at a time.
const SPAN_PIECES: usize = 64;
/// The span tried first (the window is mostly mapped with large pages, so a span
/// is usually one or two pieces).
const SPAN_BYTES: u64 = 4 << 20;
/// A span that always fits [`SPAN_PIECES`] pieces, whatever the mapping: it
/// touches at most `SPAN_PIECES - 1` pages.
const SMALL_SPAN_BYTES: u64 = (SPAN_PIECES as u64 - 2) * 4096;
/// Bytes per driver call on the bounce path.
const BOUNCE_BYTES: u64 = 128 * 1024;

/// Moves `bytes` bytes between disk `disk` from sector `lba` and the program's
/// memory at `buffer`. The caller has checked the request against the disk and
/// the window; a device error part-way leaves the earlier spans done.
pub fn transfer(
    disk: u64,
    direction: Direction,
    lba: u64,
    buffer: u64,
    bytes: u64,
    window: &ProgramMemory,
) -> Result<(), Error> {
    let sector = u64::from(identity(disk).ok_or(Error::NotFound)?.sector_size);
    let mut pieces = [PhysicalPiece::default(); SPAN_PIECES];
    let mut segments = [Segment { physical: 0, len: 0 }; SPAN_PIECES];
    let mut done = 0;
    while done < bytes {
        let at = buffer + done;
        let mut span = (bytes - done).min(SPAN_BYTES);
        let count = match window.physical_pieces(at, span, &mut pieces) {
            Ok(count) => count,
            Err(Error::InvalidArgument) => {
                span = span.min((SMALL_SPAN_BYTES / sector).max(1) * sector);
                window.physical_pieces(at, span, &mut pieces)?
            }
            Err(error) => return Err(error),
        };
        for (segment, piece) in segments.iter_mut().zip(&pieces[..count]) {
            *segment = Segment { physical: piece.physical, len: piece.len };
        }
        let first = lba + done / sector;
        let outcome = with_disk(disk, |device| match direction {
            Direction::Read => device.read_segments(first, &segments[..count]),
            Direction::Write => device.write_segments(first, &segments[..count]),
        })
        .ok_or(Error::NotFound)?;
        match outcome {
            Ok(()) => {}
            Err(ingot_block::BlockError::Unsupported) => {
                count_bounce(disk);
                bounce(disk, direction, first, at, span, sector, window)?;
            }
            Err(error) => return Err(api_error(error)),
        }
        done += span;
    }
    Ok(())
}

/// The fallback: moves the span through a kernel buffer with the driver's
/// slice-based `read`/`write`, copying program memory with the window's atomic copies.
fn bounce(
    disk: u64,
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
                with_disk(disk, |device| device.read(first, part))
                    .ok_or(Error::NotFound)?
                    .map_err(api_error)?;
                window.write_at(buffer + done, part)?;
            }
            Direction::Write => {
                window.read_into(buffer + done, part)?;
                with_disk(disk, |device| device.write(first, part))
                    .ok_or(Error::NotFound)?
                    .map_err(api_error)?;
            }
        }
        done += len as u64;
    }
    Ok(())
}
