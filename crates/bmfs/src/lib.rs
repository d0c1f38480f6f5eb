//! BMFS, the BareMetal File System (v1), as laid out on disk.
//!
//! The format (from BareMetal's `doc/BareMetal File System.md` and `bmfs.c`): 2 MiB
//! blocks, files contiguous, one flat directory. Block 0 holds the MBR area (bytes
//! 0–511), the disk-info record starting with ASCII `BMFS` at byte 1024, and the
//! directory at bytes 4096–8191: 64 entries of 64 bytes, each `name[32]`
//! (NUL-terminated, at most 31 bytes), then little-endian u64 `starting_block`,
//! `reserved_blocks`, `file_size` and an unused u64. A first name byte of 0x00 ends the
//! directory; 0x01 marks a deleted entry. Data blocks run from 1 to n−2: the last
//! block is reserved for a copy of block 0.
//!
//! This crate only knows the bytes; it reads and writes a byte slice holding block 0
//! (or just its first 8 KiB), so the image builder on the host and, later, the
//! kernel's file-system code share one definition. It grows with the file-system issue.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

/// Bytes in one BMFS block.
pub const BLOCK_BYTES: u64 = 2 * 1024 * 1024;
/// Offset of the disk-info record (which starts with [`TAG`]) in block 0.
pub const INFO_OFFSET: usize = 1024;
/// The tag at [`INFO_OFFSET`] that marks a BMFS disk.
pub const TAG: &[u8; 4] = b"BMFS";
/// Offset of the directory in block 0.
pub const DIRECTORY_OFFSET: usize = 4096;
/// Entries in the directory.
pub const DIRECTORY_ENTRIES: usize = 64;
/// Bytes per directory entry.
pub const ENTRY_BYTES: usize = 64;
/// Longest file name (the 32-byte field keeps a terminating NUL).
pub const MAX_NAME: usize = 31;
/// Bytes of block 0 this crate reads or writes (MBR area, info, directory).
pub const HEADER_BYTES: usize = DIRECTORY_OFFSET + DIRECTORY_ENTRIES * ENTRY_BYTES;
/// Smallest disk the BareMetal tool accepts, in blocks (6 MiB).
pub const MIN_BLOCKS: u64 = 3;

/// One directory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    name: [u8; 32],
    /// First block of the file.
    pub starting_block: u64,
    /// Blocks reserved for the file.
    pub reserved_blocks: u64,
    /// The file's length in bytes.
    pub file_size: u64,
}

impl Entry {
    /// The file name (invalid UTF-8 gives an empty name).
    pub fn name(&self) -> &str {
        let len = self.name.iter().position(|&b| b == 0).unwrap_or(32);
        core::str::from_utf8(&self.name[..len]).unwrap_or("")
    }

    fn decode(bytes: &[u8]) -> Self {
        let u64_at = |at: usize| {
            let mut word = [0u8; 8];
            word.copy_from_slice(&bytes[at..at + 8]);
            u64::from_le_bytes(word)
        };
        let mut name = [0u8; 32];
        name.copy_from_slice(&bytes[..32]);
        Self {
            name,
            starting_block: u64_at(32),
            reserved_blocks: u64_at(40),
            file_size: u64_at(48),
        }
    }

    fn encode(&self, bytes: &mut [u8]) {
        bytes[..32].copy_from_slice(&self.name);
        bytes[32..40].copy_from_slice(&self.starting_block.to_le_bytes());
        bytes[40..48].copy_from_slice(&self.reserved_blocks.to_le_bytes());
        bytes[48..56].copy_from_slice(&self.file_size.to_le_bytes());
        bytes[56..64].fill(0);
    }
}

/// Why a BMFS operation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The slice is shorter than [`HEADER_BYTES`].
    ShortHeader,
    /// There is no `BMFS` tag at byte 1024.
    NotBmfs,
    /// The disk is smaller than [`MIN_BLOCKS`].
    DiskTooSmall,
    /// The name is empty, longer than [`MAX_NAME`], contains NUL or starts with 0x01.
    BadName,
    /// A file of that name exists already.
    Exists,
    /// All 64 directory entries are used.
    DirectoryFull,
    /// No run of free blocks is long enough.
    NoSpace,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::ShortHeader => "BMFS header shorter than 8 KiB",
            Self::NotBmfs => "no BMFS tag at byte 1024",
            Self::DiskTooSmall => "disk smaller than the 6 MiB BMFS minimum",
            Self::BadName => "file name empty, longer than 31 bytes or containing NUL",
            Self::Exists => "a file of that name exists",
            Self::DirectoryFull => "the directory's 64 entries are all used",
            Self::NoSpace => "no free run of blocks is long enough",
        })
    }
}

/// Blocks a file of `bytes` reserves when written by BareMetal's tool: one block below
/// 2 MiB, else ⌈(size + 1 MiB) / 1 MiB⌉ MiB rounded up to whole blocks.
pub fn blocks_for(bytes: u64) -> u64 {
    const MIB: u64 = 1024 * 1024;
    if bytes < BLOCK_BYTES { 1 } else { (bytes + MIB).div_ceil(MIB).div_ceil(2) }
}

/// Writes an empty file system into `header` (block 0's first 8 KiB): the tag and an
/// empty directory. The MBR area (bytes 0–511) is left as it is.
pub fn format(header: &mut [u8], disk_blocks: u64) -> Result<(), Error> {
    if header.len() < HEADER_BYTES {
        return Err(Error::ShortHeader);
    }
    if disk_blocks < MIN_BLOCKS {
        return Err(Error::DiskTooSmall);
    }
    header[512..HEADER_BYTES].fill(0);
    header[INFO_OFFSET..INFO_OFFSET + 4].copy_from_slice(TAG);
    Ok(())
}

/// The directory in a formatted block 0.
pub struct Directory<'a> {
    header: &'a mut [u8],
}

impl<'a> Directory<'a> {
    /// Opens the directory in `header`, checking the tag.
    pub fn open(header: &'a mut [u8]) -> Result<Self, Error> {
        if header.len() < HEADER_BYTES {
            return Err(Error::ShortHeader);
        }
        if &header[INFO_OFFSET..INFO_OFFSET + 4] != TAG {
            return Err(Error::NotBmfs);
        }
        Ok(Self { header })
    }

    fn slot(&self, index: usize) -> &[u8] {
        let at = DIRECTORY_OFFSET + index * ENTRY_BYTES;
        &self.header[at..at + ENTRY_BYTES]
    }

    /// The live entries, in directory order.
    pub fn entries(&self) -> impl Iterator<Item = Entry> + '_ {
        (0..DIRECTORY_ENTRIES)
            .map(|index| self.slot(index))
            .take_while(|slot| slot[0] != 0)
            .filter(|slot| slot[0] != 1)
            .map(Entry::decode)
    }

    /// The entry named `name`.
    pub fn find(&self, name: &str) -> Option<Entry> {
        self.entries().find(|entry| entry.name() == name)
    }

    /// Creates a file of `size` bytes in the first free run of blocks (first fit in
    /// starting-block order, data blocks 1..disk_blocks−1) and returns its entry.
    pub fn create(&mut self, name: &str, size: u64, disk_blocks: u64) -> Result<Entry, Error> {
        let bytes = name.as_bytes();
        if bytes.is_empty() || bytes.len() > MAX_NAME || bytes.contains(&0) || bytes[0] == 1 {
            return Err(Error::BadName);
        }
        if self.find(name).is_some() {
            return Err(Error::Exists);
        }
        let slot = (0..DIRECTORY_ENTRIES)
            .find(|&index| matches!(self.slot(index)[0], 0 | 1))
            .ok_or(Error::DirectoryFull)?;
        let wanted = blocks_for(size);
        let mut start = 1;
        loop {
            let end = start + wanted;
            if end > disk_blocks.saturating_sub(1) {
                return Err(Error::NoSpace);
            }
            let overlap = self
                .entries()
                .filter(|e| e.starting_block < end && start < e.starting_block + e.reserved_blocks)
                .map(|e| e.starting_block + e.reserved_blocks)
                .max();
            match overlap {
                Some(next) => start = next,
                None => break,
            }
        }
        let mut name_field = [0u8; 32];
        name_field[..bytes.len()].copy_from_slice(bytes);
        let entry = Entry {
            name: name_field,
            starting_block: start,
            reserved_blocks: wanted,
            file_size: size,
        };
        let at = DIRECTORY_OFFSET + slot * ENTRY_BYTES;
        entry.encode(&mut self.header[at..at + ENTRY_BYTES]);
        Ok(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_writes_tag_and_empty_directory() {
        let mut header = vec![0xAAu8; HEADER_BYTES];
        format(&mut header, 10).unwrap();
        assert_eq!(&header[1024..1028], b"BMFS");
        assert!(header[..512].iter().all(|&b| b == 0xAA), "MBR area untouched");
        assert!(header[4096..8192].iter().all(|&b| b == 0));
        assert_eq!(Directory::open(&mut header).unwrap().entries().count(), 0);
    }

    #[test]
    fn entries_are_bit_exact() {
        let mut header = vec![0u8; HEADER_BYTES];
        format(&mut header, 16).unwrap();
        let mut dir = Directory::open(&mut header).unwrap();
        dir.create("kernel.bin", 5 * 1024 * 1024, 16).unwrap();
        let slot = &header[4096..4160];
        assert_eq!(&slot[..11], b"kernel.bin\0");
        assert!(slot[11..32].iter().all(|&b| b == 0));
        assert_eq!(u64::from_le_bytes(slot[32..40].try_into().unwrap()), 1);
        // 5 MiB: ceil((5 + 1) MiB) = 6 MiB = 3 blocks.
        assert_eq!(u64::from_le_bytes(slot[40..48].try_into().unwrap()), 3);
        assert_eq!(u64::from_le_bytes(slot[48..56].try_into().unwrap()), 5 * 1024 * 1024);
        assert_eq!(header[4160], 0, "directory ends after one entry");
    }

    #[test]
    fn first_fit_allocation_and_limits() {
        let mut header = vec![0u8; HEADER_BYTES];
        format(&mut header, 6).unwrap();
        let mut dir = Directory::open(&mut header).unwrap();
        assert_eq!(dir.create("a", 100, 6).unwrap().starting_block, 1);
        assert_eq!(dir.create("b", 3 * 1024 * 1024, 6).unwrap().starting_block, 2);
        assert_eq!(dir.create("a", 1, 6), Err(Error::Exists));
        assert_eq!(dir.create("c", 1, 6).unwrap().starting_block, 4);
        // Block 5 is the reserved copy of block 0.
        assert_eq!(dir.create("d", 1, 6), Err(Error::NoSpace));
        assert_eq!(dir.create(&"x".repeat(32), 1, 6), Err(Error::BadName));
        assert_eq!(dir.find("b").unwrap().reserved_blocks, 2);
        let names: Vec<_> = dir.entries().map(|e| e.name().to_string()).collect();
        assert_eq!(names, ["a", "b", "c"]);
    }

    #[test]
    fn deleted_entries_are_skipped_and_reused() {
        let mut header = vec![0u8; HEADER_BYTES];
        format(&mut header, 10).unwrap();
        Directory::open(&mut header).unwrap().create("gone", 1, 10).unwrap();
        Directory::open(&mut header).unwrap().create("kept", 1, 10).unwrap();
        header[4096] = 1;
        let mut dir = Directory::open(&mut header).unwrap();
        assert_eq!(dir.entries().count(), 1);
        let reused = dir.create("new", 1, 10).unwrap();
        assert_eq!(reused.starting_block, 1);
        assert_eq!(header[4096..4099], *b"new");
    }

    #[test]
    fn untagged_or_short_header_is_refused() {
        let mut header = vec![0u8; HEADER_BYTES];
        assert!(matches!(Directory::open(&mut header), Err(Error::NotBmfs)));
        assert!(matches!(Directory::open(&mut header[..100]), Err(Error::ShortHeader)));
        assert_eq!(format(&mut header, 2), Err(Error::DiskTooSmall));
    }
}
