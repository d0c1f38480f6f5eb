//! Finding the site on the machine's disks: a whole disk formatted as BMFS, or the
//! BMFS partition of a GPT disk (an Ingot image), read through the kernel's disk calls.

extern crate alloc;

use ingot_bmfs::{SECTOR_BYTES, SectorDevice};
use ingot_sdk::abi::Error;
use ingot_sdk::disk;

use httpd::site::Site;

/// A range of sectors of a kernel disk with 512-byte sectors.
pub struct DiskWindow {
    disk: u64,
    first: u64,
    sectors: u64,
}

impl SectorDevice for DiskWindow {
    type Error = Error;

    fn sector_count(&self) -> u64 {
        self.sectors
    }

    fn read_sectors(&mut self, first: u64, buffer: &mut [u8]) -> Result<(), Error> {
        let count = (buffer.len() / SECTOR_BYTES) as u64;
        if first.checked_add(count).is_none_or(|end| end > self.sectors) {
            return Err(Error::InvalidArgument);
        }
        disk::read(self.disk, self.first + first, buffer)
    }

    fn write_sectors(&mut self, first: u64, buffer: &[u8]) -> Result<(), Error> {
        let count = (buffer.len() / SECTOR_BYTES) as u64;
        if first.checked_add(count).is_none_or(|end| end > self.sectors) {
            return Err(Error::InvalidArgument);
        }
        disk::write(self.disk, self.first + first, buffer)
    }
}

/// The site of the first disk (or GPT partition) holding BMFS, and where it was.
pub fn find_site() -> Option<(Site, u64, u64)> {
    for number in 0..disk::count() {
        let Ok(info) = disk::info(number) else { continue };
        if info.sector_size as usize != SECTOR_BYTES {
            continue;
        }
        let whole = DiskWindow { disk: number, first: 0, sectors: info.sectors };
        if let Ok(site) = Site::from_bmfs(whole) {
            return Some((site, number, 0));
        }
        for (first, sectors) in gpt_partitions(number, info.sectors) {
            let window = DiskWindow { disk: number, first, sectors };
            if let Ok(site) = Site::from_bmfs(window) {
                return Some((site, number, first));
            }
        }
    }
    None
}

/// (first sector, sectors) of each used GPT partition entry (at most 128).
fn gpt_partitions(number: u64, disk_sectors: u64) -> alloc::vec::Vec<(u64, u64)> {
    let mut found = alloc::vec::Vec::new();
    let mut header = [0u8; SECTOR_BYTES];
    if disk::read(number, 1, &mut header).is_err() || &header[..8] != b"EFI PART" {
        return found;
    }
    let u64_at = |bytes: &[u8], at: usize| {
        u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or([0; 8]))
    };
    let u32_at = |bytes: &[u8], at: usize| {
        u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap_or([0; 4]))
    };
    let entries_lba = u64_at(&header, 72);
    let entries = u32_at(&header, 80).min(128) as usize;
    let entry_size = u32_at(&header, 84) as usize;
    if !(128..=SECTOR_BYTES).contains(&entry_size) || !SECTOR_BYTES.is_multiple_of(entry_size) {
        return found;
    }
    let per_sector = SECTOR_BYTES / entry_size;
    let mut sector = [0u8; SECTOR_BYTES];
    for index in 0..entries {
        if index % per_sector == 0
            && disk::read(number, entries_lba + (index / per_sector) as u64, &mut sector).is_err()
        {
            break;
        }
        let entry = &sector[(index % per_sector) * entry_size..][..entry_size];
        if entry[..16].iter().all(|&b| b == 0) {
            continue;
        }
        let (first, last) = (u64_at(entry, 32), u64_at(entry, 40));
        if first <= last && last < disk_sectors {
            found.push((first, last - first + 1));
        }
    }
    found
}
