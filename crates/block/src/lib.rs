//! The block-device interface: what every storage driver (virtio-blk, NVMe, AHCI,
//! IDE) offers the kernel, whatever the controller.
//!
//! Requests are whole sectors: `read`/`write` take any number of sectors in one call
//! (the driver splits them into device commands), `flush` makes earlier writes
//! durable, `identity` says what the disk is. [`check_request`] is the one place that
//! refuses bad input (past the end, empty, not a whole number of sectors) before a
//! driver touches the device, so a refused request never writes anything.
//!
//! `read_segments`/`write_segments` are the zero-copy form: the data moves by DMA
//! straight between the device and physical memory the caller names ([`segments`]),
//! in commands as large as the controller allows.
//!
//! `submit`/`poll` are the asynchronous form under all of it: `submit` starts one
//! device command over the next bytes of a scatter list and returns at once, `poll`
//! hands back finished commands by the caller's tag, in whatever order the device
//! finished them, so a controller with many command slots (virtio-blk's queue,
//! AHCI's 32 NCQ tags, NVMe's queue pairs) has many requests in flight.
#![no_std]
#![forbid(unsafe_code)]

pub mod segments;

use core::fmt;

pub use segments::{CommandLimits, Segment, SegmentCursor, total_bytes};

use ingot_hal::{DmaError, TimedOut};

/// Longest model or serial string kept.
pub const TEXT_BYTES: usize = 40;

/// What a disk is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskIdentity {
    /// Number of sectors.
    pub sectors: u64,
    /// Bytes per sector (512 or 4096 on the devices we drive).
    pub sector_size: u32,
    /// Model name, ASCII, space-padded (all spaces when the device has none).
    pub model: [u8; TEXT_BYTES],
    /// Serial number, ASCII, space-padded.
    pub serial: [u8; TEXT_BYTES],
}

impl DiskIdentity {
    /// A disk with no model or serial text.
    pub const fn new(sectors: u64, sector_size: u32) -> Self {
        Self { sectors, sector_size, model: [b' '; TEXT_BYTES], serial: [b' '; TEXT_BYTES] }
    }

    /// Copies `text` into a space-padded field, trimming it to [`TEXT_BYTES`].
    pub fn text(text: &[u8]) -> [u8; TEXT_BYTES] {
        let mut field = [b' '; TEXT_BYTES];
        for (slot, &byte) in field.iter_mut().zip(text) {
            *slot = if byte.is_ascii_graphic() || byte == b' ' { byte } else { b' ' };
        }
        field
    }

    /// Bytes on the disk.
    pub fn bytes(&self) -> u64 {
        self.sectors.saturating_mul(u64::from(self.sector_size))
    }
}

/// Why a block request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockError {
    /// The request reaches past the last sector.
    OutOfRange,
    /// Zero sectors requested.
    Empty,
    /// The buffer is not a whole number of sectors.
    Misaligned,
    /// The device reported an error for the command (status code attached).
    Device(u32),
    /// The device did not complete the command in time.
    Timeout,
    /// No memory for the device's buffers.
    NoMemory,
    /// The device does not support the operation.
    Unsupported,
    /// Every command slot is in use: `poll` until one finishes, then submit again.
    Busy,
}

impl fmt::Display for BlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OutOfRange => f.write_str("request past the end of the disk"),
            Self::Empty => f.write_str("zero-length request"),
            Self::Misaligned => f.write_str("buffer is not a whole number of sectors"),
            Self::Device(code) => write!(f, "device error {code:#x}"),
            Self::Timeout => f.write_str("device timed out"),
            Self::NoMemory => f.write_str("out of DMA memory"),
            Self::Unsupported => f.write_str("not supported by the device"),
            Self::Busy => f.write_str("every command slot is in use"),
        }
    }
}

impl From<TimedOut> for BlockError {
    fn from(_: TimedOut) -> Self {
        Self::Timeout
    }
}

impl From<DmaError> for BlockError {
    fn from(_: DmaError) -> Self {
        Self::NoMemory
    }
}

/// A submitted command that finished: the tag given to [`BlockDevice::submit`] and
/// how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completion {
    /// The caller's tag.
    pub tag: u64,
    /// `Ok` when the device moved every byte of the command.
    pub result: Result<(), BlockError>,
}

/// A disk. Implementations call [`check_request`] first in `read` and `write`.
///
/// The blocking calls (`read`, `write`, `flush`, `*_segments`) are only made while
/// no submitted command is in flight (`in_flight() == 0`); the kernel, which holds
/// each disk under one lock, drains the submitted ones first.
pub trait BlockDevice {
    /// Short driver name for boot lines (`virtio-blk`, `nvme`, `ahci`, `ide`).
    fn driver(&self) -> &'static str;
    /// What the disk is.
    fn identity(&self) -> DiskIdentity;
    /// Reads `buffer.len() / sector_size` sectors starting at `lba`.
    fn read(&mut self, lba: u64, buffer: &mut [u8]) -> Result<(), BlockError>;
    /// Writes `buffer.len() / sector_size` sectors starting at `lba`.
    fn write(&mut self, lba: u64, buffer: &[u8]) -> Result<(), BlockError>;
    /// Makes every completed write durable.
    fn flush(&mut self) -> Result<(), BlockError>;
    /// Reads `total_bytes(segments) / sector_size` sectors starting at `lba` by DMA
    /// straight into `segments` (physical memory the caller owns for the call).
    /// `Unsupported`, before the device is touched, when the controller cannot
    /// address these segments (alignment, address width); the caller then goes
    /// through `read` and a buffer of its own.
    fn read_segments(&mut self, lba: u64, segments: &[Segment]) -> Result<(), BlockError> {
        let _ = (lba, segments);
        Err(BlockError::Unsupported)
    }
    /// Writes from `segments` by DMA; as [`Self::read_segments`].
    fn write_segments(&mut self, lba: u64, segments: &[Segment]) -> Result<(), BlockError> {
        let _ = (lba, segments);
        Err(BlockError::Unsupported)
    }
    /// Commands [`Self::submit`] can have in flight at once; 0 when the driver has
    /// no asynchronous path (the caller then uses the blocking calls).
    fn queue_depth(&self) -> usize {
        0
    }
    /// Starts one device command, without waiting for it, that reads (or with
    /// `write` writes) the sectors from `lba` into (from) the next bytes of
    /// `cursor`: as many whole sectors as one command carries. Returns the bytes
    /// it took; [`Self::poll`] later returns `tag` with the outcome. Nothing is
    /// consumed and the device is untouched on an error: `Busy` (every slot in
    /// use), `Unsupported` (the controller cannot address the memory at the
    /// cursor), `OutOfRange` (past the end of the disk), `Timeout` (the device
    /// failed earlier).
    fn submit(
        &mut self,
        write: bool,
        lba: u64,
        cursor: &mut SegmentCursor<'_>,
        tag: u64,
    ) -> Result<u64, BlockError> {
        let _ = (write, lba, cursor, tag);
        Err(BlockError::Unsupported)
    }
    /// One finished submitted command, if the device finished one, in the device's
    /// order. A device that stopped answering for its deadline is failed and its
    /// commands come back as `Timeout`.
    fn poll(&mut self) -> Option<Completion> {
        None
    }
    /// Submitted commands [`Self::poll`] has not returned yet.
    fn in_flight(&self) -> usize {
        0
    }
}

/// Checks a request of `bytes` bytes at `lba` against `identity`; returns the
/// sector count.
pub fn check_request(identity: &DiskIdentity, lba: u64, bytes: usize) -> Result<u64, BlockError> {
    let size = identity.sector_size as usize;
    if bytes == 0 {
        return Err(BlockError::Empty);
    }
    if size == 0 || !bytes.is_multiple_of(size) {
        return Err(BlockError::Misaligned);
    }
    let count = (bytes / size) as u64;
    match lba.checked_add(count) {
        Some(end) if end <= identity.sectors => Ok(count),
        _ => Err(BlockError::OutOfRange),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DISK: DiskIdentity = DiskIdentity::new(100, 512);

    #[test]
    fn requests_inside_the_disk_pass() {
        assert_eq!(check_request(&DISK, 0, 512), Ok(1));
        assert_eq!(check_request(&DISK, 98, 1024), Ok(2));
    }

    #[test]
    fn bad_requests_are_refused() {
        assert_eq!(check_request(&DISK, 99, 1024), Err(BlockError::OutOfRange));
        assert_eq!(check_request(&DISK, u64::MAX, 512), Err(BlockError::OutOfRange));
        assert_eq!(check_request(&DISK, 0, 0), Err(BlockError::Empty));
        assert_eq!(check_request(&DISK, 0, 513), Err(BlockError::Misaligned));
    }

    #[test]
    fn text_fields_are_padded_and_cleaned() {
        let field = DiskIdentity::text(b"QEMU\x01");
        assert_eq!(&field[..6], b"QEMU  ");
    }
}
