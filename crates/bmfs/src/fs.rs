//! [`Bmfs`]: list, find, read, write, create, delete, format and check a BMFS disk
//! over a [`SectorDevice`], with the placement rules of BareMetal's `bmfs` tool.

use crate::check::{entry_problem, first_problem};
use crate::device::{SECTOR_BYTES, SectorDevice};
use crate::entry::{DELETED_MARK, END_MARK, Entry, Name};
use crate::error::Error;
use crate::{
    BLOCK_BYTES, DIRECTORY_BYTES, DIRECTORY_ENTRIES, DIRECTORY_OFFSET, ENTRY_BYTES, INFO_BYTES,
    INFO_OFFSET, MIN_BLOCKS, TAG, blocks_for_mib, blocks_for_write, disk_blocks,
};

const SECTOR: u64 = SECTOR_BYTES as u64;
const INFO_SECTOR: u64 = (INFO_OFFSET / SECTOR_BYTES) as u64;
const DIRECTORY_SECTOR: u64 = (DIRECTORY_OFFSET / SECTOR_BYTES) as u64;
/// Zeros for padding the last block of a written file.
static ZEROS: [u8; 4096] = [0; 4096];

/// Live entries in slot order, without allocating.
struct Live {
    entries: [Entry; DIRECTORY_ENTRIES],
    count: usize,
}

impl Live {
    fn as_slice(&self) -> &[Entry] {
        &self.entries[..self.count]
    }
}

/// An open BMFS disk: the device and a copy of the directory, written back after
/// every change.
pub struct Bmfs<D: SectorDevice> {
    device: D,
    directory: [u8; DIRECTORY_BYTES],
    blocks: u64,
}

type Result<T, D> = core::result::Result<T, Error<<D as SectorDevice>::Error>>;

impl<D: SectorDevice> Bmfs<D> {
    /// Opens the BMFS disk on `device`, checking its size and tag (not the directory:
    /// see [`Bmfs::check`]).
    pub fn open(mut device: D) -> Result<Self, D> {
        let blocks = usable_blocks(&device)?;
        let mut info = [0u8; INFO_BYTES];
        device.read_sectors(INFO_SECTOR, &mut info)?;
        if !info[..4].eq_ignore_ascii_case(TAG) || info[4] != 0 {
            return Err(Error::NotBmfs);
        }
        let mut directory = [0u8; DIRECTORY_BYTES];
        device.read_sectors(DIRECTORY_SECTOR, &mut directory)?;
        Ok(Self { device, directory, blocks })
    }

    /// Writes an empty file system on `device` as BareMetal's `format` does: the
    /// 512-byte disk-info record (the tag, then zeros) and an empty directory. The
    /// MBR area and everything else are left as they are.
    pub fn format(mut device: D) -> Result<Self, D> {
        let blocks = usable_blocks(&device)?;
        let mut info = [0u8; INFO_BYTES];
        info[..4].copy_from_slice(TAG);
        device.write_sectors(INFO_SECTOR, &info)?;
        let directory = [0u8; DIRECTORY_BYTES];
        device.write_sectors(DIRECTORY_SECTOR, &directory)?;
        Ok(Self { device, directory, blocks })
    }

    /// Blocks on the disk (data blocks are 1 to this − 2).
    pub fn disk_blocks(&self) -> u64 {
        self.blocks
    }

    /// The device.
    pub fn device(&self) -> &D {
        &self.device
    }

    /// The device back.
    pub fn into_device(self) -> D {
        self.device
    }

    fn slot(&self, slot: usize) -> &[u8] {
        &self.directory[slot * ENTRY_BYTES..(slot + 1) * ENTRY_BYTES]
    }

    /// The live entries in directory order: up to the first 0x00 slot, skipping
    /// deleted (0x01) ones.
    pub fn entries(&self) -> impl Iterator<Item = Entry> + '_ {
        (0..DIRECTORY_ENTRIES)
            .take_while(|&slot| self.slot(slot)[0] != END_MARK)
            .filter(|&slot| self.slot(slot)[0] != DELETED_MARK)
            .map(|slot| Entry::decode(slot, self.slot(slot)))
    }

    fn live(&self) -> Live {
        let mut live = Live { entries: [Entry::decode(0, &[0; ENTRY_BYTES]); 64], count: 0 };
        for entry in self.entries() {
            live.entries[live.count] = entry;
            live.count += 1;
        }
        live
    }

    /// The entry named `name` (compared byte for byte, like the reference tool).
    pub fn find(&self, name: &str) -> Option<Entry> {
        self.entries().find(|entry| entry.name.as_bytes() == name.as_bytes())
    }

    /// Checks the directory: names without NUL, entries outside the disk, sizes beyond
    /// the reserved blocks, overlapping files, duplicate names. The first problem found
    /// is returned, naming its entry.
    pub fn check(&self) -> Result<(), D> {
        match first_problem(self.live().as_slice(), self.blocks) {
            None => Ok(()),
            Some((entry, problem)) => Err(corrupt(&entry, problem)),
        }
    }

    /// Creates an empty file reserving `mib` MiB (rounded up to whole 2 MiB blocks) in
    /// the first free run of blocks, as `bmfs DISK create NAME MiB` does.
    pub fn create(&mut self, name: &str, mib: u64) -> Result<Entry, D> {
        if mib == 0 {
            return Err(Error::ZeroSize);
        }
        self.create_blocks(name, blocks_for_mib(mib))
    }

    fn create_blocks(&mut self, name: &str, blocks: u64) -> Result<Entry, D> {
        let name_field = Name::new(name).ok_or(Error::BadName)?;
        self.check()?;
        if self.find(name).is_some() {
            return Err(Error::Exists);
        }
        let slot = (0..DIRECTORY_ENTRIES)
            .find(|&slot| matches!(self.slot(slot)[0], END_MARK | DELETED_MARK))
            .ok_or(Error::DirectoryFull)?;
        let starting_block = self.first_fit(blocks).ok_or(Error::NoSpace { blocks })?;
        let entry =
            Entry { slot, name: name_field, starting_block, reserved_blocks: blocks, file_size: 0 };
        let ends_directory = self.slot(slot)[0] == END_MARK;
        entry.encode(&mut self.directory[slot * ENTRY_BYTES..(slot + 1) * ENTRY_BYTES]);
        if ends_directory && slot + 1 < DIRECTORY_ENTRIES {
            self.directory[(slot + 1) * ENTRY_BYTES] = END_MARK;
        }
        self.write_directory()?;
        Ok(entry)
    }

    /// The first block of the first gap of `blocks` free blocks between data block 1
    /// and the last block (kept for the copy of block 0). The directory is consistent.
    fn first_fit(&self, blocks: u64) -> Option<u64> {
        let mut live = self.live();
        let sorted = &mut live.entries[..live.count];
        sorted.sort_unstable_by_key(|entry| entry.starting_block);
        let mut free_from = 1;
        for entry in sorted.iter() {
            if entry.starting_block.saturating_sub(free_from) >= blocks {
                return Some(free_from);
            }
            free_from = free_from.max(entry.starting_block + entry.reserved_blocks);
        }
        let last = self.blocks - 1;
        (last >= free_from && last - free_from >= blocks).then_some(free_from)
    }

    /// Writes `data` as the whole contents of file `name`, as `bmfs DISK write NAME`
    /// does: a file that does not exist is created first ([`crate::blocks_for_write`]);
    /// the data is written from the file's first block, the last block written is
    /// padded with zeros, and only the size field of the entry changes.
    pub fn write(&mut self, name: &str, data: &[u8]) -> Result<Entry, D> {
        let bytes = data.len() as u64;
        let mut entry = match self.find(name) {
            Some(entry) => {
                self.check()?;
                entry
            }
            None => self.create_blocks(name, blocks_for_write(bytes))?,
        };
        if entry.reserved_blocks.checked_mul(BLOCK_BYTES).is_none_or(|room| room < bytes) {
            return Err(Error::TooLarge { bytes, reserved_blocks: entry.reserved_blocks });
        }
        self.write_blocks(entry.starting_block, data)?;
        entry.file_size = bytes;
        let at = entry.slot * ENTRY_BYTES + 48;
        self.directory[at..at + 8].copy_from_slice(&bytes.to_le_bytes());
        self.write_directory()?;
        Ok(entry)
    }

    /// Writes `data` from block `first` on and pads its last block with zeros.
    fn write_blocks(&mut self, first: u64, data: &[u8]) -> Result<(), D> {
        let mut sector = first * (BLOCK_BYTES / SECTOR);
        let whole = data.len() - data.len() % SECTOR_BYTES;
        if whole > 0 {
            self.device.write_sectors(sector, &data[..whole])?;
            sector += (whole / SECTOR_BYTES) as u64;
        }
        let tail = &data[whole..];
        if !tail.is_empty() {
            let mut last = [0u8; SECTOR_BYTES];
            last[..tail.len()].copy_from_slice(tail);
            self.device.write_sectors(sector, &last)?;
            sector += 1;
        }
        let block_sectors = BLOCK_BYTES / SECTOR;
        let padding = (block_sectors - sector % block_sectors) % block_sectors;
        let mut left = padding;
        while left > 0 {
            let count = left.min((ZEROS.len() / SECTOR_BYTES) as u64);
            self.device.write_sectors(sector, &ZEROS[..count as usize * SECTOR_BYTES])?;
            sector += count;
            left -= count;
        }
        Ok(())
    }

    /// Reads file `name` from byte `offset` into `buffer`; returns the bytes read
    /// (fewer than `buffer.len()` at the end of the file, 0 at its end).
    pub fn read_at(&mut self, name: &str, offset: u64, buffer: &mut [u8]) -> Result<usize, D> {
        let entry = self.find(name).ok_or(Error::NotFound)?;
        if let Some(problem) = entry_problem(&entry, self.blocks) {
            return Err(corrupt(&entry, problem));
        }
        if offset > entry.file_size {
            return Err(Error::OffsetBeyondEnd { offset, file_size: entry.file_size });
        }
        let count =
            buffer.len().min(usize::try_from(entry.file_size - offset).unwrap_or(usize::MAX));
        self.read_bytes(entry.starting_block * BLOCK_BYTES + offset, &mut buffer[..count])?;
        Ok(count)
    }

    /// Reads bytes at any disk offset through whole-sector transfers.
    fn read_bytes(&mut self, offset: u64, buffer: &mut [u8]) -> Result<(), D> {
        let mut done = 0;
        while done < buffer.len() {
            let at = offset + done as u64;
            let (sector, within) = (at / SECTOR, (at % SECTOR) as usize);
            let left = buffer.len() - done;
            if within == 0 && left >= SECTOR_BYTES {
                let whole = left - left % SECTOR_BYTES;
                self.device.read_sectors(sector, &mut buffer[done..done + whole])?;
                done += whole;
            } else {
                let mut bounce = [0u8; SECTOR_BYTES];
                self.device.read_sectors(sector, &mut bounce)?;
                let take = (SECTOR_BYTES - within).min(left);
                buffer[done..done + take].copy_from_slice(&bounce[within..within + take]);
                done += take;
            }
        }
        Ok(())
    }

    /// The whole file `name`.
    #[cfg(feature = "std")]
    pub fn read_to_vec(&mut self, name: &str) -> Result<Vec<u8>, D> {
        let entry = self.find(name).ok_or(Error::NotFound)?;
        if let Some(problem) = entry_problem(&entry, self.blocks) {
            return Err(corrupt(&entry, problem));
        }
        let mut contents = vec![0u8; entry.file_size as usize];
        self.read_at(name, 0, &mut contents)?;
        Ok(contents)
    }

    /// Deletes file `name`: its entry's first byte becomes 0x01, as BareMetal's tool
    /// does (the data stays; its blocks are free again).
    pub fn delete(&mut self, name: &str) -> Result<Entry, D> {
        let entry = self.find(name).ok_or(Error::NotFound)?;
        self.directory[entry.slot * ENTRY_BYTES] = DELETED_MARK;
        self.write_directory()?;
        Ok(entry)
    }

    fn write_directory(&mut self) -> Result<(), D> {
        self.device.write_sectors(DIRECTORY_SECTOR, &self.directory)?;
        Ok(())
    }
}

fn corrupt<E>(entry: &Entry, problem: crate::Problem) -> Error<E> {
    Error::Corrupt { slot: entry.slot, name: entry.name, problem }
}

/// The disk's size in blocks, refused below the BMFS minimum.
fn usable_blocks<D: SectorDevice>(device: &D) -> Result<u64, D> {
    let bytes = device.sector_count().saturating_mul(SECTOR);
    let blocks = disk_blocks(bytes);
    if blocks < MIN_BLOCKS {
        return Err(Error::DiskTooSmall { bytes });
    }
    Ok(blocks)
}
