//! The sector device BMFS works over, and two implementations of it.
//!
//! The file system only needs to read and write whole 512-byte sectors at a sector
//! number, so it runs over the kernel's disk calls (in a program), over a byte slice
//! (the image builder, tests) and over a host file or a partition inside one (the
//! host tool, with the `std` feature).

/// Bytes per sector of a [`SectorDevice`].
pub const SECTOR_BYTES: usize = 512;

/// Sector-granular storage holding one BMFS disk (sector 0 is BMFS's byte 0).
pub trait SectorDevice {
    /// What a failed transfer reports.
    type Error;
    /// Sectors on the device.
    fn sector_count(&self) -> u64;
    /// Reads `buffer.len() / 512` sectors from sector `first` on (`buffer.len()` is a
    /// multiple of [`SECTOR_BYTES`]).
    fn read_sectors(&mut self, first: u64, buffer: &mut [u8]) -> Result<(), Self::Error>;
    /// Writes `buffer.len() / 512` sectors from sector `first` on (`buffer.len()` is a
    /// multiple of [`SECTOR_BYTES`]).
    fn write_sectors(&mut self, first: u64, buffer: &[u8]) -> Result<(), Self::Error>;
}

/// A transfer reached past the end of a [`SliceDisk`] or was not whole sectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfRange {
    /// First sector asked for.
    pub first: u64,
    /// Bytes asked for.
    pub bytes: usize,
}

impl core::fmt::Display for OutOfRange {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} bytes at sector {} do not fit the disk", self.bytes, self.first)
    }
}

/// A disk held in memory: the bytes of a whole BMFS disk (a trailing part sector is
/// ignored).
pub struct SliceDisk<'a> {
    bytes: &'a mut [u8],
}

impl<'a> SliceDisk<'a> {
    /// The disk whose byte 0 is `bytes[0]`.
    pub fn new(bytes: &'a mut [u8]) -> Self {
        Self { bytes }
    }

    fn range(&self, first: u64, len: usize) -> Result<core::ops::Range<usize>, OutOfRange> {
        let error = OutOfRange { first, bytes: len };
        let start = usize::try_from(first).ok().and_then(|s| s.checked_mul(SECTOR_BYTES));
        let end = start.and_then(|s| s.checked_add(len));
        match (start, end) {
            (Some(start), Some(end))
                if len.is_multiple_of(SECTOR_BYTES)
                    && end <= self.sector_count() as usize * SECTOR_BYTES =>
            {
                Ok(start..end)
            }
            _ => Err(error),
        }
    }
}

impl SectorDevice for SliceDisk<'_> {
    type Error = OutOfRange;

    fn sector_count(&self) -> u64 {
        (self.bytes.len() / SECTOR_BYTES) as u64
    }

    fn read_sectors(&mut self, first: u64, buffer: &mut [u8]) -> Result<(), OutOfRange> {
        let range = self.range(first, buffer.len())?;
        buffer.copy_from_slice(&self.bytes[range]);
        Ok(())
    }

    fn write_sectors(&mut self, first: u64, buffer: &[u8]) -> Result<(), OutOfRange> {
        let range = self.range(first, buffer.len())?;
        self.bytes[range].copy_from_slice(buffer);
        Ok(())
    }
}

#[cfg(feature = "std")]
pub use file::FileDisk;

#[cfg(feature = "std")]
mod file {
    use super::{SECTOR_BYTES, SectorDevice};
    use std::fs::File;
    use std::io::{Error, ErrorKind, Read, Seek, SeekFrom, Write};

    /// A host file, or a window of one (a partition in a disk image), as a sector device.
    pub struct FileDisk {
        file: File,
        base: u64,
        sectors: u64,
    }

    impl FileDisk {
        /// The whole file (or block device: its size is found by seeking to the end).
        pub fn new(mut file: File) -> std::io::Result<Self> {
            let bytes = file.seek(SeekFrom::End(0))?;
            Ok(Self::window(file, 0, bytes))
        }

        /// `bytes` of `file` from byte `base` on (a trailing part sector is ignored).
        pub fn window(file: File, base: u64, bytes: u64) -> Self {
            Self { file, base, sectors: bytes / SECTOR_BYTES as u64 }
        }

        /// The file back.
        pub fn into_file(self) -> File {
            self.file
        }

        fn seek(&mut self, first: u64, len: usize) -> std::io::Result<()> {
            let count = (len / SECTOR_BYTES) as u64;
            if !len.is_multiple_of(SECTOR_BYTES)
                || first.checked_add(count).is_none_or(|e| e > self.sectors)
            {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!("{len} bytes at sector {first} do not fit the disk"),
                ));
            }
            self.file.seek(SeekFrom::Start(self.base + first * SECTOR_BYTES as u64))?;
            Ok(())
        }
    }

    impl SectorDevice for FileDisk {
        type Error = Error;

        fn sector_count(&self) -> u64 {
            self.sectors
        }

        fn read_sectors(&mut self, first: u64, buffer: &mut [u8]) -> Result<(), Error> {
            self.seek(first, buffer.len())?;
            self.file.read_exact(buffer)
        }

        fn write_sectors(&mut self, first: u64, buffer: &[u8]) -> Result<(), Error> {
            self.seek(first, buffer.len())?;
            self.file.write_all(buffer)
        }
    }
}
