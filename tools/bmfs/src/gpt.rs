//! Finds the BMFS partition of an Ingot disk image in its GUID partition table.
//!
//! An image whose sector 1 starts with `EFI PART` is partitioned: the tool then works
//! on the partition of type [`ingot_mkimage::gpt::BMFS_TYPE`] (as the BIOS stage 2
//! does). Anything else is taken as a raw BMFS disk. The header and entry CRCs are
//! checked so a damaged table gives an error rather than a wrong window.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use ingot_mkimage::gpt::{BMFS_TYPE, SECTOR, crc32};

/// Where the BMFS disk lies in the image file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First byte.
    pub base: u64,
    /// Length in bytes.
    pub bytes: u64,
    /// Whether it is a GPT partition (not the whole file).
    pub partition: bool,
}

/// The BMFS disk in `file`: its GPT partition, or the whole file.
pub fn locate(file: &mut File) -> Result<Window, String> {
    // Seeking to the end also sizes a block device, whose metadata says 0 bytes.
    let size = file.seek(SeekFrom::End(0)).map_err(|e| e.to_string())?;
    let raw = Window { base: 0, bytes: size, partition: false };
    let Some(header) = read_at(file, SECTOR as u64, 92, size)? else { return Ok(raw) };
    if &header[..8] != b"EFI PART" {
        return Ok(raw);
    }
    let field32 = |at: usize| u32::from_le_bytes(header[at..at + 4].try_into().unwrap());
    let field64 = |at: usize| u64::from_le_bytes(header[at..at + 8].try_into().unwrap());
    let header_size = field32(12) as usize;
    if !(92..=SECTOR).contains(&header_size) {
        return Err(format!("GPT header size {header_size} is invalid"));
    }
    let full = read_at(file, SECTOR as u64, header_size, size)?.ok_or("GPT header cut off")?;
    let mut zeroed = full.clone();
    zeroed[16..20].fill(0);
    if crc32(&zeroed) != field32(16) {
        return Err("GPT header checksum does not match (damaged partition table)".into());
    }
    let (entries_lba, count, entry_size) = (field64(72), field32(80), field32(84));
    if !(128..=4096).contains(&entry_size) || count > 1024 {
        return Err(format!("GPT entry table of {count} × {entry_size} bytes is invalid"));
    }
    let table_bytes = count as usize * entry_size as usize;
    let table = entries_lba
        .checked_mul(SECTOR as u64)
        .and_then(|at| read_at(file, at, table_bytes, size).transpose())
        .transpose()?
        .ok_or("GPT entry table lies outside the image")?;
    if crc32(&table) != field32(88) {
        return Err("GPT entry checksum does not match (damaged partition table)".into());
    }
    for entry in table.chunks(entry_size as usize) {
        if entry[..16] != BMFS_TYPE.to_bytes() {
            continue;
        }
        let first = u64::from_le_bytes(entry[32..40].try_into().unwrap());
        let last = u64::from_le_bytes(entry[40..48].try_into().unwrap());
        let base = first.checked_mul(SECTOR as u64);
        let end = last.checked_add(1).and_then(|l| l.checked_mul(SECTOR as u64));
        return match (base, end) {
            (Some(base), Some(end)) if first <= last && end <= size => {
                Ok(Window { base, bytes: end - base, partition: true })
            }
            _ => Err(format!("BMFS partition (LBA {first}–{last}) lies outside the image")),
        };
    }
    Err("the GPT has no BMFS partition (type 8C2F6A4E-7B1D-4E5A-9B6F-424D46530001)".into())
}

/// `len` bytes at `at`, or `None` if the file is shorter.
fn read_at(file: &mut File, at: u64, len: usize, size: u64) -> Result<Option<Vec<u8>>, String> {
    if at.checked_add(len as u64).is_none_or(|end| end > size) {
        return Ok(None);
    }
    let mut bytes = vec![0u8; len];
    file.seek(SeekFrom::Start(at))
        .and_then(|_| file.read_exact(&mut bytes))
        .map_err(|e| e.to_string())?;
    Ok(Some(bytes))
}
