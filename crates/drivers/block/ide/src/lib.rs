//! ATA/IDE driver (ATA/ATAPI-6 register interface, SFF-8038i bus-master DMA).
//!
//! [`start`] probes the master and slave of both channels (legacy ports 0x1F0/0x3F6
//! and 0x170/0x376, or the BARs of a native-mode controller), identifies ATA disks
//! (ATAPI devices are skipped) and returns one [`IdeDisk`] each, in channel then
//! drive order. Transfers use bus-master DMA when the controller has a bus-master
//! BAR (a PRD table of 4 KiB entries, so none crosses a 64 KiB boundary), PIO
//! otherwise. `read_segments`/`write_segments` point the PRD table at the caller's
//! memory (zero copy, up to 256 LBA28 or [`MAX_COMMAND_SECTORS`] LBA48 sectors per
//! command) when it lies below 4 GiB; otherwise, and under PIO, they refuse with
//! `Unsupported` and the caller bounces; LBA48 commands when the disk supports them, LBA28 otherwise.
//! Interrupts stay masked (nIEN); completion is polled with a deadline, and an
//! ERR/DF status becomes [`BlockError::Device`] with the error register.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::sync::Arc;
use alloc::vec::Vec;

use ingot_ata::{AtaIdentity, command, parse_identify};
use ingot_block::{
    BlockDevice, BlockError, CommandLimits, DiskIdentity, Segment, SegmentCursor, check_request,
    total_bytes,
};
use ingot_hal::{Clock, Deadline, DmaAllocator, DmaBuffer, PortIoWide};
use spin::Mutex;

/// Bytes moved by one DMA command.
pub const CHUNK_BYTES: usize = 64 * 1024;
/// Bytes per PRD entry of a bounced transfer.
pub const PRD_ENTRY_BYTES: usize = 4096;
/// PRD entries the table (the first page of a channel's buffer) holds.
pub const PRD_ENTRIES: usize = DATA / 8;
/// Most sectors of one LBA48 zero-copy command (4 MiB).
pub const MAX_COMMAND_SECTORS: u64 = 8192;
/// How long one command may take.
pub const COMMAND_TIMEOUT_MS: u64 = 5_000;
/// How long a missing drive may keep us waiting.
const PROBE_TIMEOUT_MS: u64 = 100;

/// PIO commands.
mod pio {
    pub const READ: u8 = 0x20;
    pub const READ_EXT: u8 = 0x24;
    pub const WRITE: u8 = 0x30;
    pub const WRITE_EXT: u8 = 0x34;
}

/// Status bits.
mod status {
    pub const BSY: u8 = 0x80;
    pub const DF: u8 = 0x20;
    pub const DRQ: u8 = 0x08;
    pub const ERR: u8 = 0x01;
}

/// Where one channel's registers are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelPorts {
    /// Command block (data at +0 … status/command at +7).
    pub command: u16,
    /// Control block (alternate status / device control).
    pub control: u16,
    /// Bus-master registers for this channel, if the controller has them.
    pub bus_master: Option<u16>,
}

/// The compatibility-mode ports of the primary and secondary channels.
pub const LEGACY_CHANNELS: [ChannelPorts; 2] = [
    ChannelPorts { command: 0x1F0, control: 0x3F6, bus_master: None },
    ChannelPorts { command: 0x170, control: 0x376, bus_master: None },
];

/// Why the controller could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitError {
    /// No memory for DMA buffers.
    NoMemory,
}

struct Channel<B> {
    ports: ChannelPorts,
    /// PRD table at 0, data at [`DATA`].
    dma: Option<B>,
    failed: bool,
}

const DATA: usize = 4096;

/// State shared by the disks of one controller.
pub struct Controller<P, B, C> {
    io: P,
    clock: C,
    channels: Vec<Channel<B>>,
}

/// One disk: a channel and a drive (0 master, 1 slave).
pub struct IdeDisk<P, B, C> {
    controller: Arc<Mutex<Controller<P, B, C>>>,
    channel: usize,
    drive: u8,
    identity: AtaIdentity,
    dma: bool,
}

impl<P, B, C> IdeDisk<P, B, C> {
    /// Channel (0 primary, 1 secondary) and drive (0 master, 1 slave).
    pub fn position(&self) -> (usize, u8) {
        (self.channel, self.drive)
    }

    /// Whether transfers use bus-master DMA.
    pub fn uses_dma(&self) -> bool {
        self.dma
    }
}

/// Probes both drives of every channel in `channels` and returns the ATA disks.
pub fn start<P: PortIoWide, D: DmaAllocator, C: Clock>(
    io: P,
    channels: &[ChannelPorts],
    dma: &mut D,
    clock: C,
) -> Result<Vec<IdeDisk<P, D::Buffer, C>>, InitError> {
    let mut controller = Controller { io, clock, channels: Vec::new() };
    let mut found = Vec::new();
    for (index, ports) in channels.iter().enumerate() {
        let buffer = match ports.bus_master {
            Some(_) => Some(dma.allocate(DATA + CHUNK_BYTES).map_err(|_| InitError::NoMemory)?),
            None => None,
        };
        controller.channels.push(Channel { ports: *ports, dma: buffer, failed: false });
        for drive in 0..2 {
            if let Some(identity) = controller.identify(index, drive) {
                found.push((index, drive, identity));
            }
        }
    }
    let dma_channels: Vec<bool> = controller.channels.iter().map(|c| c.dma.is_some()).collect();
    let shared = Arc::new(Mutex::new(controller));
    Ok(found
        .into_iter()
        .map(|(channel, drive, identity)| IdeDisk {
            controller: shared.clone(),
            channel,
            drive,
            identity,
            dma: dma_channels[channel],
        })
        .collect())
}

impl<P: PortIoWide, B: DmaBuffer, C: Clock> Controller<P, B, C> {
    fn status(&mut self, channel: usize) -> u8 {
        let command = self.channels[channel].ports.command;
        self.io.read_u8(command + 7)
    }

    /// Selects `drive`, masks interrupts and waits the 400 ns the spec asks for.
    fn select(&mut self, channel: usize, drive: u8, lba_top: u8) {
        let ports = self.channels[channel].ports;
        self.io.write_u8(ports.control, 0x02);
        self.io.write_u8(ports.command + 6, 0xE0 | (drive << 4) | (lba_top & 0x0F));
        for _ in 0..4 {
            self.io.read_u8(ports.control);
        }
    }

    fn wait_not_busy(&mut self, channel: usize, timeout_ms: u64) -> Result<u8, BlockError> {
        let deadline = Deadline::after_ms(&self.clock, timeout_ms);
        let command = self.channels[channel].ports.command;
        let io = &mut self.io;
        Ok(deadline.wait(&self.clock, || {
            let s = io.read_u8(command + 7);
            (s & status::BSY == 0).then_some(s)
        })?)
    }

    fn identify(&mut self, channel: usize, drive: u8) -> Option<AtaIdentity> {
        let ports = self.channels[channel].ports;
        self.select(channel, drive, 0);
        if self.status(channel) == 0xFF {
            return None; // floating bus: no drives on this channel
        }
        for register in 2..6 {
            self.io.write_u8(ports.command + register, 0);
        }
        self.io.write_u8(ports.command + 7, command::IDENTIFY);
        if self.status(channel) == 0 {
            return None;
        }
        let s = self.wait_not_busy(channel, PROBE_TIMEOUT_MS).ok()?;
        // ATAPI and SATA-ATAPI devices put a signature in LBA mid/high and abort.
        if self.io.read_u8(ports.command + 4) != 0 || self.io.read_u8(ports.command + 5) != 0 {
            return None;
        }
        if s & status::ERR != 0 || s & status::DRQ == 0 {
            return None;
        }
        let mut data = [0u8; 512];
        for pair in data.chunks_mut(2) {
            pair.copy_from_slice(&self.io.read_u16(ports.command).to_le_bytes());
        }
        parse_identify(&data)
    }

    /// Loads the task file for `lba`/`count` and issues `opcode`.
    fn issue(&mut self, channel: usize, drive: u8, lba48: bool, lba: u64, count: u16, opcode: u8) {
        let c = self.channels[channel].ports.command;
        if lba48 {
            self.select(channel, drive, 0);
            self.io.write_u8(c + 2, (count >> 8) as u8);
            self.io.write_u8(c + 3, (lba >> 24) as u8);
            self.io.write_u8(c + 4, (lba >> 32) as u8);
            self.io.write_u8(c + 5, (lba >> 40) as u8);
        } else {
            self.select(channel, drive, (lba >> 24) as u8);
        }
        self.io.write_u8(c + 2, count as u8);
        self.io.write_u8(c + 3, lba as u8);
        self.io.write_u8(c + 4, (lba >> 8) as u8);
        self.io.write_u8(c + 5, (lba >> 16) as u8);
        self.io.write_u8(c + 7, opcode);
    }

    fn device_error(&mut self, channel: usize, s: u8) -> BlockError {
        let c = self.channels[channel].ports.command;
        let error = self.io.read_u8(c + 1);
        BlockError::Device((u32::from(error) << 8) | u32::from(s))
    }

    fn check(&mut self, channel: usize, outcome: Result<u8, BlockError>) -> Result<u8, BlockError> {
        match outcome {
            Ok(s) if s & (status::ERR | status::DF) != 0 => Err(self.device_error(channel, s)),
            Ok(s) => Ok(s),
            Err(error) => {
                self.channels[channel].failed = true;
                Err(error)
            }
        }
    }

    /// One PIO transfer of `count` sectors of 512 bytes, sector by sector.
    #[allow(clippy::too_many_arguments)]
    fn pio(
        &mut self,
        channel: usize,
        drive: u8,
        lba48: bool,
        lba: u64,
        count: u16,
        write: bool,
        data: &mut [u8],
    ) -> Result<(), BlockError> {
        let opcode = match (lba48, write) {
            (true, false) => pio::READ_EXT,
            (true, true) => pio::WRITE_EXT,
            (false, false) => pio::READ,
            (false, true) => pio::WRITE,
        };
        self.issue(channel, drive, lba48, lba, count, opcode);
        let c = self.channels[channel].ports.command;
        for sector in data.chunks_mut(512) {
            let outcome = self.wait_not_busy(channel, COMMAND_TIMEOUT_MS);
            let s = self.check(channel, outcome)?;
            if s & status::DRQ == 0 {
                return Err(self.device_error(channel, s));
            }
            for pair in sector.chunks_mut(2) {
                if write {
                    self.io.write_u16(c, u16::from_le_bytes([pair[0], pair[1]]));
                } else {
                    pair.copy_from_slice(&self.io.read_u16(c).to_le_bytes());
                }
            }
        }
        let outcome = self.wait_not_busy(channel, COMMAND_TIMEOUT_MS);
        self.check(channel, outcome).map(|_| ())
    }

    /// One bus-master DMA transfer of `bytes` through the channel's buffer.
    #[allow(clippy::too_many_arguments)]
    fn dma(
        &mut self,
        channel: usize,
        drive: u8,
        lba48: bool,
        lba: u64,
        count: u16,
        write: bool,
        bytes: usize,
    ) -> Result<(), BlockError> {
        let Some(buffer) = self.channels[channel].dma.as_ref() else {
            return Err(BlockError::Unsupported);
        };
        let entries = bytes.div_ceil(PRD_ENTRY_BYTES);
        for entry in 0..entries {
            let len = (bytes - entry * PRD_ENTRY_BYTES).min(PRD_ENTRY_BYTES);
            let address = buffer.physical() + (DATA + entry * PRD_ENTRY_BYTES) as u64;
            write_prd_entry(buffer, entry, address, len, entry + 1 == entries);
        }
        self.run_dma(channel, drive, lba48, lba, count, write)
    }

    /// Runs one bus-master DMA command over the PRD table already written at the
    /// start of the channel's buffer.
    fn run_dma(
        &mut self,
        channel: usize,
        drive: u8,
        lba48: bool,
        lba: u64,
        count: u16,
        write: bool,
    ) -> Result<(), BlockError> {
        let (Some(bm), Some(buffer)) =
            (self.channels[channel].ports.bus_master, self.channels[channel].dma.as_ref())
        else {
            return Err(BlockError::Unsupported);
        };
        let table = buffer.physical() as u32;
        self.io.write_u8(bm, 0);
        self.io.write_u32(bm + 4, table);
        self.io.write_u8(bm + 2, 0x06);
        // Direction: bit 3 set means the device writes memory (a read).
        let direction = if write { 0 } else { 0x08 };
        self.io.write_u8(bm, direction);
        let opcode = ingot_ata::opcode(lba48, write);
        self.issue(channel, drive, lba48, lba, count, opcode);
        self.io.write_u8(bm, direction | 1);
        let deadline = Deadline::after_ms(&self.clock, COMMAND_TIMEOUT_MS);
        let command = self.channels[channel].ports.command;
        let io = &mut self.io;
        let done = deadline.wait(&self.clock, || {
            let bm_status = io.read_u8(bm + 2);
            let s = io.read_u8(command + 7);
            (bm_status & 1 == 0 && s & status::BSY == 0 || s & status::ERR != 0)
                .then_some((bm_status, s))
        });
        self.io.write_u8(bm, 0);
        match done {
            Ok((bm_status, s)) => {
                self.io.write_u8(bm + 2, 0x06);
                if s & (status::ERR | status::DF) != 0 {
                    Err(self.device_error(channel, s))
                } else if bm_status & 0x02 != 0 {
                    Err(BlockError::Device(0x100_0000))
                } else {
                    Ok(())
                }
            }
            Err(_) => {
                self.channels[channel].failed = true;
                Err(BlockError::Timeout)
            }
        }
    }
}

/// Writes PRD entry `entry` (SFF-8038i): `len` bytes (at most 64 KiB, not
/// crossing a 64 KiB boundary) at `address` (below 4 GiB), `last` ending the table.
fn write_prd_entry<B: DmaBuffer>(table: &B, entry: usize, address: u64, len: usize, last: bool) {
    let end = if last { 0x8000_0000u32 } else { 0 };
    // A byte count of 0 means 64 KiB.
    table.write_u32(8 * entry, address as u32);
    table.write_u32(8 * entry + 4, end | (len as u32 & 0xFFFF));
}

/// Whether bus-master DMA can reach `segments`: below 4 GiB, even addresses and
/// lengths (PRD entries are word-granular).
fn prd_addressable(segments: &[Segment]) -> bool {
    segments.iter().all(|s| {
        s.physical.is_multiple_of(2) && s.len.is_multiple_of(2) && s.physical + s.len <= 1 << 32
    })
}

impl<P: PortIoWide, B: DmaBuffer, C: Clock> IdeDisk<P, B, C> {
    /// Moves the sectors at `lba` by bus-master DMA straight to or from
    /// `segments`: one command per 256 (LBA28) or [`MAX_COMMAND_SECTORS`] sectors,
    /// its PRD table over the segments. `Unsupported` without bus mastering, or for
    /// memory the controller cannot reach (above 4 GiB, odd addresses).
    fn transfer_segments(
        &mut self,
        lba: u64,
        segments: &[Segment],
        write: bool,
    ) -> Result<(), BlockError> {
        let bytes = usize::try_from(total_bytes(segments)).map_err(|_| BlockError::OutOfRange)?;
        check_request(&self.identity.disk, lba, bytes)?;
        if self.identity.disk.sector_size != 512 {
            return Err(BlockError::Unsupported);
        }
        let most_sectors = if self.identity.lba48 { MAX_COMMAND_SECTORS } else { 256 };
        let limits = CommandLimits {
            max_bytes: most_sectors * 512,
            max_entries: PRD_ENTRIES,
            max_entry_bytes: 64 * 1024,
            boundary: 64 * 1024,
            unit: 512,
        };
        let mut cursor = SegmentCursor::new(segments);
        if !self.dma || !prd_addressable(segments) || !cursor.fits(&limits) {
            return Err(BlockError::Unsupported);
        }
        let mut controller = self.controller.lock();
        if controller.channels[self.channel].failed {
            return Err(BlockError::Timeout);
        }
        let mut next = lba;
        while !cursor.is_done() {
            let Some(table) = controller.channels[self.channel].dma.as_ref() else {
                return Err(BlockError::Unsupported);
            };
            let mut entries = 0;
            let mut last = None;
            let bytes = cursor.next_command(&limits, |entry| {
                write_prd_entry(table, entries, entry.physical, entry.len as usize, false);
                last = Some(entry);
                entries += 1;
            });
            if let Some(entry) = last {
                write_prd_entry(table, entries - 1, entry.physical, entry.len as usize, true);
            }
            // 256 LBA28 sectors are written as a count of 0, as ATA defines.
            let count = (bytes / 512) as u16;
            let lba48 = self.identity.lba48;
            controller.run_dma(self.channel, self.drive, lba48, next, count, write)?;
            next += bytes / 512;
        }
        Ok(())
    }

    fn transfer(&mut self, lba: u64, buffer: &mut [u8], write: bool) -> Result<(), BlockError> {
        let mut controller = self.controller.lock();
        if controller.channels[self.channel].failed {
            return Err(BlockError::Timeout);
        }
        let lba48 = self.identity.lba48;
        // LBA28 counts up to 256 sectors; DMA chunks are bounded by the buffer.
        let per_command = if self.dma { CHUNK_BYTES / 512 } else { 128 };
        for (index, chunk) in buffer.chunks_mut(per_command * 512).enumerate() {
            let start = lba + (index * per_command) as u64;
            let count = (chunk.len() / 512) as u16;
            if self.dma {
                if let (true, Some(dma)) = (write, controller.channels[self.channel].dma.as_ref()) {
                    dma.write_bytes(DATA, chunk);
                }
                controller.dma(
                    self.channel,
                    self.drive,
                    lba48,
                    start,
                    count,
                    write,
                    chunk.len(),
                )?;
                if let (false, Some(dma)) = (write, controller.channels[self.channel].dma.as_ref())
                {
                    dma.read_bytes(DATA, chunk);
                }
            } else {
                controller.pio(self.channel, self.drive, lba48, start, count, write, chunk)?;
            }
        }
        Ok(())
    }
}

impl<P: PortIoWide, B: DmaBuffer, C: Clock> BlockDevice for IdeDisk<P, B, C> {
    fn driver(&self) -> &'static str {
        "ide"
    }

    fn identity(&self) -> DiskIdentity {
        self.identity.disk
    }

    fn read(&mut self, lba: u64, buffer: &mut [u8]) -> Result<(), BlockError> {
        check_request(&self.identity.disk, lba, buffer.len())?;
        if self.identity.disk.sector_size != 512 {
            return Err(BlockError::Unsupported);
        }
        self.transfer(lba, buffer, false)
    }

    fn write(&mut self, lba: u64, buffer: &[u8]) -> Result<(), BlockError> {
        check_request(&self.identity.disk, lba, buffer.len())?;
        if self.identity.disk.sector_size != 512 {
            return Err(BlockError::Unsupported);
        }
        // PIO writes send from a mutable chunk; copy through a small staging buffer.
        let mut staging = Vec::new();
        staging
            .try_reserve_exact(buffer.len().min(CHUNK_BYTES))
            .map_err(|_| BlockError::NoMemory)?;
        staging.resize(buffer.len().min(CHUNK_BYTES), 0u8);
        let per = staging.len() / 512;
        for (index, chunk) in buffer.chunks(staging.len()).enumerate() {
            let part = &mut staging[..chunk.len()];
            part.copy_from_slice(chunk);
            self.transfer(lba + (index * per) as u64, part, true)?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), BlockError> {
        let mut controller = self.controller.lock();
        if controller.channels[self.channel].failed {
            return Err(BlockError::Timeout);
        }
        let opcode =
            if self.identity.lba48 { command::FLUSH_CACHE_EXT } else { command::FLUSH_CACHE };
        controller.issue(self.channel, self.drive, false, 0, 0, opcode);
        let outcome = controller.wait_not_busy(self.channel, COMMAND_TIMEOUT_MS);
        controller.check(self.channel, outcome).map(|_| ())
    }

    fn read_segments(&mut self, lba: u64, segments: &[Segment]) -> Result<(), BlockError> {
        self.transfer_segments(lba, segments, false)
    }

    fn write_segments(&mut self, lba: u64, segments: &[Segment]) -> Result<(), BlockError> {
        self.transfer_segments(lba, segments, true)
    }
}

#[cfg(test)]
mod tests;
