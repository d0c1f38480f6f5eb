//! BMFS through the kernel's disk calls: finds the file system (the BMFS partition of
//! a GPT disk, as on Ingot's image, or a whole raw BMFS disk) and opens it with the
//! `ingot-bmfs` library. The kernel has no file system; this is the program's.

use ingot_bmfs::{Bmfs, SECTOR_BYTES, SectorDevice};
use ingot_sdk::abi::Error;
use ingot_sdk::disk;

/// BMFS's partition type GUID on Ingot images (8C2F6A4E-7B1D-4E5A-9B6F-424D46530001),
/// in its on-disk byte order.
const BMFS_TYPE: [u8; 16] = [
    0x4E, 0x6A, 0x2F, 0x8C, 0x1D, 0x7B, 0x5A, 0x4E, 0x9B, 0x6F, 0x42, 0x4D, 0x46, 0x53, 0x00, 0x01,
];
/// BMFS's tag, at byte 1024 of the file system.
const BMFS_TAG: &[u8; 4] = b"BMFS";
/// GPT entries looked at (Ingot's images have 128; more is refused as damage).
const MOST_GPT_ENTRIES: u32 = 1024;

/// Sectors `[first, first + count)` of a kernel disk, as a BMFS device.
pub struct DiskWindow {
    /// Kernel disk number.
    pub disk: u64,
    first: u64,
    count: u64,
}

impl SectorDevice for DiskWindow {
    type Error = Error;

    fn sector_count(&self) -> u64 {
        self.count
    }

    fn read_sectors(&mut self, first: u64, buffer: &mut [u8]) -> Result<(), Error> {
        disk::read(self.disk, self.first + first, buffer)
    }

    fn write_sectors(&mut self, first: u64, buffer: &[u8]) -> Result<(), Error> {
        disk::write(self.disk, self.first + first, buffer)
    }
}

/// The first BMFS found on the kernel's disks, opened.
pub fn open() -> Option<Bmfs<DiskWindow>> {
    (0..disk::count()).find_map(|number| {
        let window = find_on(number)?;
        Bmfs::open(window).ok()
    })
}

fn read_sector(disk: u64, lba: u64) -> Option<[u8; SECTOR_BYTES]> {
    let mut sector = [0u8; SECTOR_BYTES];
    disk::read(disk, lba, &mut sector).ok()?;
    Some(sector)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

/// The BMFS sectors of disk `number`: its GPT's BMFS partition, else the whole disk if
/// it carries the BMFS tag.
fn find_on(number: u64) -> Option<DiskWindow> {
    let info = disk::info(number).ok()?;
    if info.sector_size as usize != SECTOR_BYTES {
        return None;
    }
    let header = read_sector(number, 1)?;
    if &header[..8] == b"EFI PART" {
        let entries_lba = u64_at(&header, 72);
        let entries = u32_at(&header, 80).min(MOST_GPT_ENTRIES);
        let entry_bytes = u32_at(&header, 84) as usize;
        if !(128..=SECTOR_BYTES).contains(&entry_bytes) || !SECTOR_BYTES.is_multiple_of(entry_bytes)
        {
            return None;
        }
        let per_sector = SECTOR_BYTES / entry_bytes;
        for index in 0..entries as usize {
            let sector = read_sector(number, entries_lba + (index / per_sector) as u64)?;
            let entry = &sector[(index % per_sector) * entry_bytes..][..entry_bytes];
            if entry[..16] == BMFS_TYPE {
                let (first, last) = (u64_at(entry, 32), u64_at(entry, 40));
                if last < first || last >= info.sectors {
                    return None;
                }
                return Some(DiskWindow { disk: number, first, count: last - first + 1 });
            }
        }
        return None;
    }
    let tag = read_sector(number, 2)?;
    (&tag[..4] == BMFS_TAG).then_some(DiskWindow { disk: number, first: 0, count: info.sectors })
}
