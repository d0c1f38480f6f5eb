//! BMFS, the BareMetal File System (v1): the on-disk format and its operations.
//!
//! The format (BareMetal's `doc/BareMetal File System.md`, and the behaviour of its
//! `bmfs` host tool): 2 MiB blocks, files contiguous, one flat directory. Block 0 holds
//! the MBR area (bytes 0–511), the disk-info record starting with ASCII `BMFS` at byte
//! 1024, and the directory at bytes 4096–8191: 64 entries of 64 bytes ([`entry`]). A
//! first name byte of 0x00 ends the directory; 0x01 marks a deleted entry. Data blocks
//! run from 1 to n−2: the last block is reserved for a copy of block 0, so the
//! allocator never hands it out.
//!
//! [`Bmfs`] works over any [`SectorDevice`] (512-byte sectors): a byte slice
//! ([`SliceDisk`], the image builder), a host file or a partition in one (`FileDisk`,
//! with the `std` feature, the `bmfs` host tool), or a program's disk calls. Corrupt
//! directories give [`Error::Corrupt`] naming the entry; nothing is written outside a
//! file's reserved blocks and the block-0 records.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![forbid(unsafe_code)]

mod check;
mod device;
pub mod entry;
mod error;
mod fs;

#[cfg(feature = "std")]
pub use device::FileDisk;
pub use device::{OutOfRange, SECTOR_BYTES, SectorDevice, SliceDisk};
pub use entry::{Entry, Name};
pub use error::{Error, Problem};
pub use fs::Bmfs;

/// Bytes in one BMFS block.
pub const BLOCK_BYTES: u64 = 2 * MIB;
/// Offset of the disk-info record (which starts with [`TAG`]) in block 0.
pub const INFO_OFFSET: usize = 1024;
/// Bytes of the disk-info record.
pub const INFO_BYTES: usize = 512;
/// The tag at [`INFO_OFFSET`] that marks a BMFS disk (compared without regard to case,
/// and followed by a NUL, as BareMetal's tool does).
pub const TAG: &[u8; 4] = b"BMFS";
/// Offset of the directory in block 0.
pub const DIRECTORY_OFFSET: usize = 4096;
/// Entries in the directory.
pub const DIRECTORY_ENTRIES: usize = 64;
/// Bytes per directory entry.
pub const ENTRY_BYTES: usize = 64;
/// Bytes of the directory.
pub const DIRECTORY_BYTES: usize = DIRECTORY_ENTRIES * ENTRY_BYTES;
/// Longest file name (the 32-byte field keeps a terminating NUL).
pub const MAX_NAME: usize = 31;
/// Smallest disk BMFS accepts, in blocks (6 MiB).
pub const MIN_BLOCKS: u64 = 3;
/// Offset in block 0 where BareMetal's `initialize` puts boot software.
pub const BOOT_OFFSET: u64 = 8192;

const MIB: u64 = 1024 * 1024;

/// Blocks `create NAME MiB` reserves: the MiB rounded up to an even number, halved.
pub fn blocks_for_mib(mib: u64) -> u64 {
    mib.div_ceil(2)
}

/// Blocks `write` reserves for a file of `bytes` that does not exist yet: one block
/// below 2 MiB, else ⌊bytes / 1 MiB⌋ + 1 MiB (BareMetal's tool divides in integers)
/// rounded up to whole blocks. Always enough for the file.
pub fn blocks_for_write(bytes: u64) -> u64 {
    if bytes < BLOCK_BYTES { 1 } else { blocks_for_mib(bytes / MIB + 1) }
}

/// Blocks on a disk of `bytes` (whole 2 MiB blocks; BareMetal's tool counts MiB,
/// then halves).
pub fn disk_blocks(bytes: u64) -> u64 {
    bytes / BLOCK_BYTES
}

#[cfg(test)]
mod tests;
