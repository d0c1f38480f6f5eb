//! GUID partition table and protective MBR (UEFI spec §5), written from scratch.
//!
//! Layout for a disk of `n` 512-byte sectors: LBA 0 protective MBR (the boot code is
//! the caller's, only the partition table and signature are ours), LBA 1 the primary
//! header, LBAs 2–33 the 128 entries of 128 bytes, and the mirror at the end: entries
//! at n−33, backup header at n−1. Both CRC32s are the IEEE polynomial the spec uses
//! (`crc32fast`).

/// Bytes per sector.
pub const SECTOR: usize = 512;
/// First LBA after the primary partition entries.
pub const FIRST_USABLE_LBA: u64 = 34;
const ENTRIES: usize = 128;
const ENTRY_BYTES: usize = 128;
const ENTRY_SECTORS: u64 = (ENTRIES * ENTRY_BYTES / SECTOR) as u64;
/// Sectors the backup GPT takes at the end of the disk: its entries and its header.
pub const BACKUP_SECTORS: u64 = ENTRY_SECTORS + 1;
const HEADER_BYTES: usize = 92;

/// A GUID as written in text (`AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE`), stored in GPT's
/// mixed-endian form: the first three fields little-endian, the rest as bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guid(pub u32, pub u16, pub u16, pub [u8; 8]);

impl Guid {
    /// The 16 on-disk bytes.
    pub fn to_bytes(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..4].copy_from_slice(&self.0.to_le_bytes());
        out[4..6].copy_from_slice(&self.1.to_le_bytes());
        out[6..8].copy_from_slice(&self.2.to_le_bytes());
        out[8..].copy_from_slice(&self.3);
        out
    }
}

/// EFI system partition type.
pub const ESP_TYPE: Guid =
    Guid(0xC12A_7328, 0xF81F, 0x11D2, [0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E, 0xC9, 0x3B]);
/// Ingot's type for a BMFS partition (chosen for Ingot; the BIOS stage 2 looks for it).
pub const BMFS_TYPE: Guid =
    Guid(0x8C2F_6A4E, 0x7B1D, 0x4E5A, [0x9B, 0x6F, 0x42, 0x4D, 0x46, 0x53, 0x00, 0x01]);

/// One partition: inclusive LBA range.
pub struct Partition {
    /// Partition type.
    pub kind: Guid,
    /// Unique partition GUID.
    pub unique: Guid,
    /// First sector.
    pub first_lba: u64,
    /// Last sector (inclusive).
    pub last_lba: u64,
    /// Name (ASCII, at most 36 characters).
    pub name: &'static str,
}

/// CRC-32 (IEEE 802.3, reflected), the checksum GPT headers and entry arrays carry.
pub fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// The protective MBR's partition table and signature, both GPT headers and both entry
/// arrays for a disk of `sectors` sectors, as (byte offset, bytes) pieces to write.
pub fn tables(
    sectors: u64,
    disk_guid: Guid,
    partitions: &[Partition],
) -> Result<Vec<(u64, Vec<u8>)>, String> {
    if sectors < FIRST_USABLE_LBA + BACKUP_SECTORS + 1 {
        return Err(format!("a disk of {sectors} sectors has no room for a GPT"));
    }
    let last_usable = sectors - BACKUP_SECTORS - 1;
    for p in partitions {
        if p.first_lba < FIRST_USABLE_LBA || p.last_lba > last_usable || p.first_lba > p.last_lba {
            return Err(format!("partition {} does not fit the disk", p.name));
        }
    }
    let mut pieces = Vec::new();
    // Protective MBR: one partition of type 0xEE covering the disk from LBA 1.
    let mut mbr = vec![0u8; 66];
    mbr[..16]
        .copy_from_slice(&[0x00, 0x00, 0x02, 0x00, 0xEE, 0xFF, 0xFF, 0xFF, 1, 0, 0, 0, 0, 0, 0, 0]);
    let covered = u32::try_from(sectors - 1).unwrap_or(u32::MAX);
    mbr[12..16].copy_from_slice(&covered.to_le_bytes());
    mbr[64..66].copy_from_slice(&[0x55, 0xAA]);
    pieces.push((446, mbr));

    let mut entries = vec![0u8; ENTRIES * ENTRY_BYTES];
    for (p, slot) in partitions.iter().zip(entries.chunks_mut(ENTRY_BYTES)) {
        slot[..16].copy_from_slice(&p.kind.to_bytes());
        slot[16..32].copy_from_slice(&p.unique.to_bytes());
        slot[32..40].copy_from_slice(&p.first_lba.to_le_bytes());
        slot[40..48].copy_from_slice(&p.last_lba.to_le_bytes());
        for (i, unit) in p.name.encode_utf16().take(36).enumerate() {
            slot[56 + 2 * i..58 + 2 * i].copy_from_slice(&unit.to_le_bytes());
        }
    }
    let entries_crc = crc32(&entries);
    let backup_entries_lba = sectors - 1 - ENTRY_SECTORS;
    for (header_lba, other_lba, entries_lba) in
        [(1, sectors - 1, 2), (sectors - 1, 1, backup_entries_lba)]
    {
        let mut header = vec![0u8; SECTOR];
        header[..8].copy_from_slice(b"EFI PART");
        header[8..12].copy_from_slice(&0x0001_0000u32.to_le_bytes());
        header[12..16].copy_from_slice(&(HEADER_BYTES as u32).to_le_bytes());
        header[24..32].copy_from_slice(&header_lba.to_le_bytes());
        header[32..40].copy_from_slice(&other_lba.to_le_bytes());
        header[40..48].copy_from_slice(&FIRST_USABLE_LBA.to_le_bytes());
        header[48..56].copy_from_slice(&last_usable.to_le_bytes());
        header[56..72].copy_from_slice(&disk_guid.to_bytes());
        header[72..80].copy_from_slice(&entries_lba.to_le_bytes());
        header[80..84].copy_from_slice(&(ENTRIES as u32).to_le_bytes());
        header[84..88].copy_from_slice(&(ENTRY_BYTES as u32).to_le_bytes());
        header[88..92].copy_from_slice(&entries_crc.to_le_bytes());
        let crc = crc32(&header[..HEADER_BYTES]);
        header[16..20].copy_from_slice(&crc.to_le_bytes());
        pieces.push((header_lba * SECTOR as u64, header));
        pieces.push((entries_lba * SECTOR as u64, entries.clone()));
    }
    Ok(pieces)
}

/// Writes [`tables`] into `disk` (whose length is a whole number of sectors).
pub fn write(disk: &mut [u8], disk_guid: Guid, partitions: &[Partition]) -> Result<(), String> {
    for (at, bytes) in tables((disk.len() / SECTOR) as u64, disk_guid, partitions)? {
        let at = at as usize;
        disk[at..at + bytes.len()].copy_from_slice(&bytes);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn guid_is_mixed_endian() {
        assert_eq!(
            ESP_TYPE.to_bytes(),
            [
                0x28, 0x73, 0x2A, 0xC1, 0x1F, 0xF8, 0xD2, 0x11, 0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E,
                0xC9, 0x3B
            ]
        );
    }

    #[test]
    fn headers_entries_and_mbr_are_consistent() {
        let sectors = 8192u64;
        let mut disk = vec![0u8; sectors as usize * SECTOR];
        let part = Partition {
            kind: ESP_TYPE,
            unique: BMFS_TYPE,
            first_lba: 2048,
            last_lba: 4095,
            name: "EFI",
        };
        write(&mut disk, BMFS_TYPE, &[part]).unwrap();
        assert_eq!(disk[450], 0xEE);
        assert_eq!(u32::from_le_bytes(disk[454..458].try_into().unwrap()), 1);
        assert_eq!(u32::from_le_bytes(disk[458..462].try_into().unwrap()), 8191);
        assert_eq!(&disk[510..512], &[0x55, 0xAA]);
        for (lba, entries_lba) in [(1u64, 2u64), (sectors - 1, sectors - 33)] {
            let at = lba as usize * SECTOR;
            let header = &disk[at..at + 92];
            assert_eq!(&header[..8], b"EFI PART");
            let mut zeroed = header.to_vec();
            zeroed[16..20].fill(0);
            assert_eq!(u32::from_le_bytes(header[16..20].try_into().unwrap()), crc32(&zeroed));
            assert_eq!(u64::from_le_bytes(header[72..80].try_into().unwrap()), entries_lba);
            let entries = &disk[entries_lba as usize * SECTOR..][..16384];
            assert_eq!(u32::from_le_bytes(header[88..92].try_into().unwrap()), crc32(entries));
            assert_eq!(u64::from_le_bytes(entries[32..40].try_into().unwrap()), 2048);
            assert_eq!(&entries[56..62], &[b'E', 0, b'F', 0, b'I', 0]);
        }
    }

    #[test]
    fn partition_outside_the_disk_is_refused() {
        let mut disk = vec![0u8; 4096 * SECTOR];
        let part = Partition {
            kind: ESP_TYPE,
            unique: ESP_TYPE,
            first_lba: 2048,
            last_lba: 4095,
            name: "x",
        };
        assert!(write(&mut disk, ESP_TYPE, &[part]).is_err());
    }
}
