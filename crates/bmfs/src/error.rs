//! Why a BMFS operation was refused. Problems of the directory itself name the entry.

use crate::entry::Name;

/// What is wrong with one directory entry (found by [`crate::Bmfs::check`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The 32-byte name field has no terminating NUL.
    NameNotTerminated,
    /// The reserved blocks start in block 0 or run past the end of the disk.
    OutsideDisk {
        /// First reserved block.
        starting_block: u64,
        /// Reserved blocks.
        reserved_blocks: u64,
        /// Blocks on the disk.
        disk_blocks: u64,
    },
    /// The file is longer than its reserved blocks.
    SizeBeyondReserved {
        /// The recorded size in bytes.
        file_size: u64,
        /// Reserved blocks.
        reserved_blocks: u64,
    },
    /// The reserved blocks overlap those of another entry.
    Overlaps {
        /// The other entry's slot.
        other_slot: usize,
        /// The other entry's name.
        other: Name,
    },
    /// Another entry has the same name.
    DuplicateName {
        /// The other entry's slot.
        other_slot: usize,
    },
}

/// Why a BMFS operation was refused; `E` is the sector device's error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error<E> {
    /// The sector device failed.
    Device(E),
    /// The disk is smaller than three 2 MiB blocks (the BMFS minimum).
    DiskTooSmall {
        /// The disk's size in bytes.
        bytes: u64,
    },
    /// There is no `BMFS` tag at byte 1024.
    NotBmfs,
    /// The name is empty, longer than 31 bytes, contains NUL or starts with 0x01.
    BadName,
    /// No file has that name.
    NotFound,
    /// A file of that name exists already.
    Exists,
    /// A file must reserve at least 1 MiB.
    ZeroSize,
    /// All 64 directory entries are used.
    DirectoryFull,
    /// No run of free blocks is long enough.
    NoSpace {
        /// Blocks asked for.
        blocks: u64,
    },
    /// The data is longer than the file's reserved blocks.
    TooLarge {
        /// Bytes to write.
        bytes: u64,
        /// Blocks reserved for the file.
        reserved_blocks: u64,
    },
    /// A read started past the end of the file.
    OffsetBeyondEnd {
        /// The offset asked for.
        offset: u64,
        /// The file's size.
        file_size: u64,
    },
    /// The directory is inconsistent at this entry.
    Corrupt {
        /// The entry's slot.
        slot: usize,
        /// The entry's name.
        name: Name,
        /// What is wrong.
        problem: Problem,
    },
}

impl<E> From<E> for Error<E> {
    fn from(error: E) -> Self {
        Self::Device(error)
    }
}

impl core::fmt::Display for Problem {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Self::NameNotTerminated => write!(f, "name has no terminating NUL"),
            Self::OutsideDisk { starting_block, reserved_blocks, disk_blocks } => write!(
                f,
                "blocks {starting_block}+{reserved_blocks} lie outside data blocks 1..{disk_blocks}"
            ),
            Self::SizeBeyondReserved { file_size, reserved_blocks } => {
                write!(f, "size {file_size} B is beyond its {reserved_blocks} reserved blocks")
            }
            Self::Overlaps { other_slot, other } => {
                write!(f, "blocks overlap those of entry {other_slot} ('{other}')")
            }
            Self::DuplicateName { other_slot } => {
                write!(f, "same name as entry {other_slot}")
            }
        }
    }
}

impl<E: core::fmt::Display> core::fmt::Display for Error<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Device(error) => write!(f, "disk error: {error}"),
            Self::DiskTooSmall { bytes } => {
                write!(f, "disk of {bytes} B is smaller than the 6 MiB BMFS minimum")
            }
            Self::NotBmfs => write!(f, "not a BMFS disk (no BMFS tag at byte 1024)"),
            Self::BadName => {
                write!(f, "file name empty, longer than 31 bytes, or containing NUL or 0x01")
            }
            Self::NotFound => write!(f, "file not found"),
            Self::Exists => write!(f, "a file of that name exists"),
            Self::ZeroSize => write!(f, "a file must reserve at least 1 MiB"),
            Self::DirectoryFull => write!(f, "the directory's 64 entries are all used"),
            Self::NoSpace { blocks } => {
                write!(f, "no free run of {blocks} blocks ({} MiB)", blocks * 2)
            }
            Self::TooLarge { bytes, reserved_blocks } => write!(
                f,
                "{bytes} B do not fit the file's {reserved_blocks} reserved blocks ({} MiB)",
                reserved_blocks * 2
            ),
            Self::OffsetBeyondEnd { offset, file_size } => {
                write!(f, "offset {offset} is past the end of the {file_size} B file")
            }
            Self::Corrupt { slot, name, problem } => {
                write!(f, "corrupt directory: entry {slot} ('{name}'): {problem}")
            }
        }
    }
}
