//! ATA facts shared by the AHCI and IDE drivers: commands and IDENTIFY DEVICE data.
#![no_std]
#![forbid(unsafe_code)]

use ingot_block::DiskIdentity;

/// ATA commands (ACS-3).
pub mod command {
    /// READ DMA (LBA28).
    pub const READ_DMA: u8 = 0xC8;
    /// READ DMA EXT (LBA48).
    pub const READ_DMA_EXT: u8 = 0x25;
    /// WRITE DMA (LBA28).
    pub const WRITE_DMA: u8 = 0xCA;
    /// WRITE DMA EXT (LBA48).
    pub const WRITE_DMA_EXT: u8 = 0x35;
    /// FLUSH CACHE (LBA28).
    pub const FLUSH_CACHE: u8 = 0xE7;
    /// FLUSH CACHE EXT (LBA48).
    pub const FLUSH_CACHE_EXT: u8 = 0xEA;
    /// IDENTIFY DEVICE.
    pub const IDENTIFY: u8 = 0xEC;
    /// READ FPDMA QUEUED (native command queuing).
    pub const READ_FPDMA_QUEUED: u8 = 0x60;
    /// WRITE FPDMA QUEUED (native command queuing).
    pub const WRITE_FPDMA_QUEUED: u8 = 0x61;
}

/// What IDENTIFY DEVICE says about a disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AtaIdentity {
    /// Sectors, size, model, serial.
    pub disk: DiskIdentity,
    /// 48-bit addressing supported.
    pub lba48: bool,
    /// Native command queuing: the tags the disk takes (words 75 and 76), 0 without.
    pub queue_depth: u8,
}

/// Decodes the 256 words of IDENTIFY DEVICE data. `None` for a device without LBA.
pub fn parse_identify(data: &[u8; 512]) -> Option<AtaIdentity> {
    let word = |i: usize| u16::from_le_bytes([data[2 * i], data[2 * i + 1]]);
    if word(49) & (1 << 9) == 0 {
        return None;
    }
    let lba48 = word(83) & (1 << 10) != 0;
    let sectors = if lba48 {
        (0..4).map(|i| u64::from(word(100 + i)) << (16 * i)).sum()
    } else {
        u64::from(word(60)) | (u64::from(word(61)) << 16)
    };
    let mut sector_size = 512;
    let w106 = word(106);
    if w106 & 0xC000 == 0x4000 && w106 & (1 << 12) != 0 {
        sector_size = 2 * (u32::from(word(117)) | (u32::from(word(118)) << 16));
    }
    let text = |first: usize, words: usize| {
        let mut bytes = [0u8; 40];
        for i in 0..words.min(20) {
            let w = word(first + i);
            bytes[2 * i] = (w >> 8) as u8;
            bytes[2 * i + 1] = w as u8;
        }
        DiskIdentity::text(&bytes[..2 * words.min(20)])
    };
    let mut disk = DiskIdentity::new(sectors, sector_size);
    disk.serial = text(10, 10);
    disk.model = text(27, 20);
    // NCQ commands carry a 48-bit LBA, so only LBA48 disks get queued commands.
    let queue_depth =
        if lba48 && word(76) & (1 << 8) != 0 { (word(75) & 0x1F) as u8 + 1 } else { 0 };
    (sectors > 0).then_some(AtaIdentity { disk, lba48, queue_depth })
}

/// Which command reads, writes or flushes for a disk with or without LBA48.
pub fn opcode(lba48: bool, write: bool) -> u8 {
    match (lba48, write) {
        (true, false) => command::READ_DMA_EXT,
        (true, true) => command::WRITE_DMA_EXT,
        (false, false) => command::READ_DMA,
        (false, true) => command::WRITE_DMA,
    }
}
