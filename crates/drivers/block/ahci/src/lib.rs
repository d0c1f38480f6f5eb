//! AHCI driver (Serial ATA AHCI 1.3.1) for ATA disks.
//!
//! [`start`] enables AHCI mode, then brings up every implemented port (PI): stops
//! it, gives it a command list, a received-FIS area and a command table, starts it,
//! and if a disk is attached (SStatus.DET = 3, ATA signature) identifies it. Each
//! disk becomes an [`AhciDisk`]. Commands use slot 0. `read_segments` and
//! `write_segments` point the PRDT at the caller's memory (zero copy, up to
//! [`MAX_COMMAND_BYTES`] and [`PRDT_ENTRIES`] entries per command); `read`/`write`
//! use a PRDT of several entries ([`PRDT_ENTRY_BYTES`] each) over the port's 64 KiB
//! bounce buffer. LBA48 commands are
//! used when the disk supports them, LBA28 otherwise. Completion is polled with a
//! deadline; a task-file error becomes [`BlockError::Device`] and the port is
//! restarted; a command that never completes fails the port. `submit`/`poll` use
//! native command queuing ([`ncq`]) where the HBA and the disk both have it.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

mod ncq;

pub use ncq::QUEUE_DEPTH;

use alloc::sync::Arc;
use alloc::vec::Vec;

use ingot_ata::{AtaIdentity, command, opcode, parse_identify};
use ingot_block::{
    BlockDevice, BlockError, CommandLimits, Completion, DiskIdentity, Segment, SegmentCursor,
    check_request, total_bytes,
};
use ingot_hal::{Clock, Deadline, DmaAllocator, DmaBuffer, Mmio};
use spin::Mutex;

/// Bytes moved by one command.
pub const CHUNK_BYTES: usize = 64 * 1024;
/// Bytes per PRDT entry (so one command uses several entries).
pub const PRDT_ENTRY_BYTES: usize = 16 * 1024;
/// Largest zero-copy command.
pub const MAX_COMMAND_BYTES: u64 = 4 * 1024 * 1024;
/// PRDT entries the command table has room for (the table ends at the data).
pub const PRDT_ENTRIES: usize = (DATA - PRDT) / 16;
/// Largest PRDT entry (a 22-bit byte count).
const MAX_PRDT_ENTRY_BYTES: u64 = 4 * 1024 * 1024;
/// How long one command may take.
pub const COMMAND_TIMEOUT_MS: u64 = 5_000;
/// How long a port may take to stop or start.
const PORT_TIMEOUT_MS: u64 = 500;

/// HBA and port registers.
mod reg {
    pub const CAP: usize = 0x00;
    pub const CAP_S64A: u32 = 1 << 31;
    pub const CAP_SNCQ: u32 = 1 << 30;
    pub const GHC: usize = 0x04;
    pub const PI: usize = 0x0C;
    pub const GHC_AE: u32 = 1 << 31;
    pub const GHC_IE: u32 = 1 << 1;
    pub const HBA_IS: usize = 0x08;
    /// PxIE: device-to-host register FIS, PIO setup FIS, DMA setup FIS, set device
    /// bits FIS and task-file error (a command's end, good or bad).
    pub const IE_COMPLETIONS: u32 = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 3) | (1 << 30);
    pub const PORTS: usize = 0x100;
    pub const PORT_STRIDE: usize = 0x80;
    pub const CLB: usize = 0x00;
    pub const FB: usize = 0x08;
    pub const IS: usize = 0x10;
    pub const IE: usize = 0x14;
    pub const CMD: usize = 0x18;
    pub const TFD: usize = 0x20;
    pub const SIG: usize = 0x24;
    pub const SSTS: usize = 0x28;
    pub const SERR: usize = 0x30;
    pub const SACT: usize = 0x34;
    pub const CI: usize = 0x38;
    pub const CMD_ST: u32 = 1 << 0;
    pub const CMD_FRE: u32 = 1 << 4;
    pub const CMD_FR: u32 = 1 << 14;
    pub const CMD_CR: u32 = 1 << 15;
    pub const IS_TFES: u32 = 1 << 30;
    pub const SIG_ATA: u32 = 0x0000_0101;
}

/// PxTFD status bits.
const TFD_BSY: u32 = 0x80;
const TFD_DRQ: u32 = 0x08;

/// Layout of a port's DMA buffer: command list, received FIS, command table, data.
const COMMAND_LIST: usize = 0;
const RECEIVED_FIS: usize = 0x400;
const COMMAND_TABLE: usize = 0x800;
const PRDT: usize = COMMAND_TABLE + 0x80;
const DATA: usize = 0x1000;

/// Why the HBA could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitError {
    /// No memory for port structures.
    NoMemory,
}

struct Port<B> {
    number: usize,
    memory: B,
    failed: bool,
    /// Native command queuing, when the HBA and the disk have it.
    ncq: Option<ncq::Ncq<B>>,
}

/// The HBA state shared by its disks.
pub struct Hba<M, B, C> {
    registers: M,
    /// CAP.S64A: the HBA takes 64-bit data addresses.
    addresses_64: bool,
    clock: C,
    ports: Vec<Port<B>>,
}

/// One disk on one port.
pub struct AhciDisk<M, B, C> {
    hba: Arc<Mutex<Hba<M, B, C>>>,
    port: usize,
    identity: AtaIdentity,
}

impl<M, B, C> AhciDisk<M, B, C> {
    /// The port number (0..32).
    pub fn port(&self) -> usize {
        self.hba.lock().ports[self.port].number
    }
}

/// Brings up every implemented port of the HBA behind `registers` (ABAR, BAR5) and
/// returns one disk per port with an ATA disk attached, in port order.
pub fn start<M: Mmio, D: DmaAllocator, C: Clock>(
    registers: M,
    dma: &mut D,
    clock: C,
) -> Result<Vec<AhciDisk<M, D::Buffer, C>>, InitError> {
    // Interrupts on (GHC.IE, each port's completion causes): they only reach the CPU
    // if the host enables MSI for the function (INTx stays disabled); the driver
    // polls either way, and the clock's `idle` may halt until one arrives.
    let ghc = registers.read_u32(reg::GHC);
    registers.write_u32(reg::GHC, ghc | reg::GHC_AE | reg::GHC_IE);
    let implemented = registers.read_u32(reg::PI);
    let cap = registers.read_u32(reg::CAP);
    let addresses_64 = cap & reg::CAP_S64A != 0;
    // Queued commands need CAP.SNCQ; CAP.NCS + 1 command slots.
    let hba_queue_depth =
        if cap & reg::CAP_SNCQ != 0 { ((cap >> 8) & 0x1F) as usize + 1 } else { 0 };
    let mut hba = Hba { registers, addresses_64, clock, ports: Vec::new() };
    let mut found = Vec::new();
    for number in (0..32).filter(|n| implemented & (1 << n) != 0) {
        let memory = dma.allocate(DATA + CHUNK_BYTES).map_err(|_| InitError::NoMemory)?;
        let index = hba.ports.len();
        hba.ports.push(Port { number, memory, failed: false, ncq: None });
        if hba.restart(index) != Ok(true) {
            // No device, or one that stays busy: the port is left stopped.
            hba.ports[index].failed = true;
            continue;
        }
        let base = hba.port_base(index);
        if hba.registers.read_u32(base + reg::SIG) != reg::SIG_ATA {
            continue;
        }
        if hba.command(index, command::IDENTIFY, 0, 0, 512, false).is_err() {
            continue;
        }
        let mut data = [0u8; 512];
        hba.ports[index].memory.read_bytes(DATA, &mut data);
        if let Some(identity) = parse_identify(&data) {
            let depth = hba_queue_depth.min(usize::from(identity.queue_depth));
            // Without memory for the tables the disk still works, unqueued.
            if depth > 0
                && let Ok(tables) = dma.allocate(ncq::TABLE_BYTES * ncq::QUEUE_DEPTH)
            {
                hba.ports[index].ncq = Some(ncq::Ncq::new(tables, depth));
            }
            found.push((index, identity));
        }
    }
    let shared = Arc::new(Mutex::new(hba));
    Ok(found
        .into_iter()
        .map(|(port, identity)| AhciDisk { hba: shared.clone(), port, identity })
        .collect())
}

impl<M: Mmio, B: DmaBuffer, C: Clock> Hba<M, B, C> {
    fn port_base(&self, index: usize) -> usize {
        reg::PORTS + reg::PORT_STRIDE * self.ports[index].number
    }

    /// Stops the port, points it at its structures, clears errors, enables FIS
    /// receive and, if a device is attached and idle (SStatus.DET = 3, PxTFD without
    /// BSY and DRQ), starts command processing. Returns whether the port runs.
    fn restart(&mut self, index: usize) -> Result<bool, BlockError> {
        let base = self.port_base(index);
        let r = &self.registers;
        let cmd = r.read_u32(base + reg::CMD);
        r.write_u32(base + reg::CMD, cmd & !reg::CMD_ST);
        let deadline = Deadline::after_ms(&self.clock, PORT_TIMEOUT_MS);
        deadline
            .wait(&self.clock, || (r.read_u32(base + reg::CMD) & reg::CMD_CR == 0).then_some(()))?;
        let cmd = r.read_u32(base + reg::CMD);
        r.write_u32(base + reg::CMD, cmd & !reg::CMD_FRE);
        deadline
            .wait(&self.clock, || (r.read_u32(base + reg::CMD) & reg::CMD_FR == 0).then_some(()))?;
        let memory = &self.ports[index].memory;
        r.write_u64(base + reg::CLB, memory.physical() + COMMAND_LIST as u64);
        r.write_u64(base + reg::FB, memory.physical() + RECEIVED_FIS as u64);
        r.write_u32(base + reg::SERR, u32::MAX);
        r.write_u32(base + reg::IS, u32::MAX);
        r.write_u32(base + reg::IE, reg::IE_COMPLETIONS);
        let cmd = r.read_u32(base + reg::CMD);
        r.write_u32(base + reg::CMD, cmd | reg::CMD_FRE);
        if r.read_u32(base + reg::SSTS) & 0xF != 3 {
            return Ok(false);
        }
        // The device must be idle before command processing starts (AHCI §10.3.1).
        let deadline = Deadline::after_ms(&self.clock, PORT_TIMEOUT_MS);
        deadline.wait(&self.clock, || {
            (r.read_u32(base + reg::TFD) & (TFD_BSY | TFD_DRQ) == 0).then_some(())
        })?;
        r.write_u32(base + reg::CMD, cmd | reg::CMD_FRE | reg::CMD_ST);
        Ok(true)
    }

    /// Runs one ATA command in slot 0 over `bytes` of the port's data buffer.
    fn command(
        &mut self,
        index: usize,
        ata_command: u8,
        lba: u64,
        sectors: u16,
        bytes: usize,
        write: bool,
    ) -> Result<(), BlockError> {
        let memory = &self.ports[index].memory;
        let data = memory.physical() + DATA as u64;
        let entries = bytes.div_ceil(PRDT_ENTRY_BYTES);
        for entry in 0..entries {
            let offset = entry * PRDT_ENTRY_BYTES;
            let len = (bytes - offset).min(PRDT_ENTRY_BYTES);
            write_prdt_entry(memory, entry, data + offset as u64, len);
        }
        self.issue(index, ata_command, lba, sectors, entries, write)
    }

    /// Runs one ATA command in slot 0 with the `entries` PRDT entries already
    /// written to the port's command table.
    fn issue(
        &mut self,
        index: usize,
        ata_command: u8,
        lba: u64,
        sectors: u16,
        entries: usize,
        write: bool,
    ) -> Result<(), BlockError> {
        if self.ports[index].failed {
            return Err(BlockError::Timeout);
        }
        let base = self.port_base(index);
        let memory = &self.ports[index].memory;
        // Command header 0: 5-dword FIS, write flag, PRDT length, table address.
        let flags = 5 | if write { 1 << 6 } else { 0 } | ((entries as u32) << 16);
        memory.write_u32(COMMAND_LIST, flags);
        memory.write_u32(COMMAND_LIST + 4, 0);
        memory.write_u64(COMMAND_LIST + 8, memory.physical() + COMMAND_TABLE as u64);
        // Register host-to-device FIS.
        let lba48 = matches!(
            ata_command,
            command::READ_DMA_EXT | command::WRITE_DMA_EXT | command::FLUSH_CACHE_EXT
        );
        let device = if lba48 { 0x40 } else { 0x40 | ((lba >> 24) as u8 & 0x0F) };
        let fis = [
            0x27,
            0x80,
            ata_command,
            0,
            lba as u8,
            (lba >> 8) as u8,
            (lba >> 16) as u8,
            device,
            (lba >> 24) as u8,
            (lba >> 32) as u8,
            (lba >> 40) as u8,
            0,
            sectors as u8,
            (sectors >> 8) as u8,
            0,
            0,
        ];
        memory.write_bytes(COMMAND_TABLE, &fis);
        let r = &self.registers;
        // Old causes cleared (port, then HBA), so this command's end raises a new one.
        r.write_u32(base + reg::IS, u32::MAX);
        r.write_u32(reg::HBA_IS, 1 << self.ports[index].number);
        r.write_u32(base + reg::CI, 1);
        let deadline = Deadline::after_ms(&self.clock, COMMAND_TIMEOUT_MS);
        let done = deadline.wait(&self.clock, || {
            let error = r.read_u32(base + reg::IS) & reg::IS_TFES != 0;
            (error || r.read_u32(base + reg::CI) & 1 == 0).then_some(error)
        });
        match done {
            Ok(false) => Ok(()),
            Ok(true) => {
                let tfd = r.read_u32(base + reg::TFD);
                let _ = self.restart(index);
                Err(BlockError::Device(tfd & 0xFFFF))
            }
            Err(_) => {
                let _ = self.restart(index);
                self.ports[index].failed = true;
                Err(BlockError::Timeout)
            }
        }
    }
}

/// Writes PRDT entry `entry` of the port's command table: `len` bytes (even, at
/// most 4 MiB) at `address` (even).
fn write_prdt_entry<B: DmaBuffer>(memory: &B, entry: usize, address: u64, len: usize) {
    let at = PRDT + 16 * entry;
    memory.write_u64(at, address);
    memory.write_u32(at + 8, 0);
    memory.write_u32(at + 12, (len - 1) as u32);
}

impl<M: Mmio, B: DmaBuffer, C: Clock> AhciDisk<M, B, C> {
    /// Moves the sectors at `lba` by DMA straight to or from `segments`: one
    /// command per [`MAX_COMMAND_BYTES`] (or the LBA28 sector count), its PRDT over
    /// the segments. `Unsupported` when an address or length is odd (PRDT entries
    /// are word-granular) or lies above 4 GiB on an HBA without 64-bit addressing.
    fn transfer_segments(
        &mut self,
        lba: u64,
        segments: &[Segment],
        write: bool,
    ) -> Result<(), BlockError> {
        let bytes = usize::try_from(total_bytes(segments)).map_err(|_| BlockError::OutOfRange)?;
        self.check(lba, bytes)?;
        let mut hba = self.hba.lock();
        let reachable = |s: &Segment| hba.addresses_64 || s.physical + s.len <= 1 << 32;
        if segments.iter().any(|s| s.physical % 2 != 0 || s.len % 2 != 0 || !reachable(s)) {
            return Err(BlockError::Unsupported);
        }
        let sector = u64::from(self.identity.disk.sector_size);
        let most_sectors = if self.identity.lba48 { u64::from(u16::MAX) } else { 255 };
        let limits = CommandLimits {
            max_bytes: (MAX_COMMAND_BYTES / sector).min(most_sectors) * sector,
            max_entries: PRDT_ENTRIES,
            max_entry_bytes: MAX_PRDT_ENTRY_BYTES,
            boundary: u64::MAX,
            unit: sector,
        };
        let mut cursor = SegmentCursor::new(segments);
        if !cursor.fits(&limits) {
            return Err(BlockError::Unsupported);
        }
        let op = opcode(self.identity.lba48, write);
        let mut next = lba;
        while !cursor.is_done() {
            let memory = &hba.ports[self.port].memory;
            let mut entries = 0;
            let bytes = cursor.next_command(&limits, |entry| {
                write_prdt_entry(memory, entries, entry.physical, entry.len as usize);
                entries += 1;
            });
            let count = bytes / sector;
            hba.issue(self.port, op, next, count as u16, entries, write)?;
            next += count;
        }
        Ok(())
    }

    /// The request checks, LBA28's reach included.
    fn check(&self, lba: u64, bytes: usize) -> Result<(), BlockError> {
        check_request(&self.identity.disk, lba, bytes)?;
        if !self.identity.lba48 && lba + (bytes as u64) / 512 > 1 << 28 {
            return Err(BlockError::OutOfRange);
        }
        Ok(())
    }

    fn transfer(
        &mut self,
        lba: u64,
        bytes: usize,
        write: bool,
        mut each: impl FnMut(usize, &B),
    ) -> Result<(), BlockError> {
        let sector = self.identity.disk.sector_size as usize;
        let per_chunk = CHUNK_BYTES / sector;
        let sectors = bytes / sector;
        let mut hba = self.hba.lock();
        let mut done = 0;
        while done < sectors {
            let count = (sectors - done).min(per_chunk);
            let start = lba + done as u64;
            if write {
                each(done * sector, &hba.ports[self.port].memory);
            }
            let op = opcode(self.identity.lba48, write);
            hba.command(self.port, op, start, count as u16, count * sector, write)?;
            if !write {
                each(done * sector, &hba.ports[self.port].memory);
            }
            done += count;
        }
        Ok(())
    }
}

impl<M: Mmio, B: DmaBuffer, C: Clock> BlockDevice for AhciDisk<M, B, C> {
    fn driver(&self) -> &'static str {
        "ahci"
    }

    fn identity(&self) -> DiskIdentity {
        self.identity.disk
    }

    fn read(&mut self, lba: u64, buffer: &mut [u8]) -> Result<(), BlockError> {
        self.check(lba, buffer.len())?;
        let len = buffer.len();
        self.transfer(lba, len, false, |offset, dma| {
            let end = (offset + CHUNK_BYTES).min(len);
            dma.read_bytes(DATA, &mut buffer[offset..end]);
        })
    }

    fn write(&mut self, lba: u64, buffer: &[u8]) -> Result<(), BlockError> {
        self.check(lba, buffer.len())?;
        self.transfer(lba, buffer.len(), true, |offset, dma| {
            let end = (offset + CHUNK_BYTES).min(buffer.len());
            dma.write_bytes(DATA, &buffer[offset..end]);
        })
    }

    fn flush(&mut self) -> Result<(), BlockError> {
        let op = if self.identity.lba48 { command::FLUSH_CACHE_EXT } else { command::FLUSH_CACHE };
        self.hba.lock().command(self.port, op, 0, 0, 0, false)
    }

    fn read_segments(&mut self, lba: u64, segments: &[Segment]) -> Result<(), BlockError> {
        self.transfer_segments(lba, segments, false)
    }

    fn write_segments(&mut self, lba: u64, segments: &[Segment]) -> Result<(), BlockError> {
        self.transfer_segments(lba, segments, true)
    }

    fn queue_depth(&self) -> usize {
        self.hba.lock().ports[self.port].ncq.as_ref().map_or(0, ncq::Ncq::depth)
    }

    fn submit(
        &mut self,
        write: bool,
        lba: u64,
        cursor: &mut SegmentCursor<'_>,
        tag: u64,
    ) -> Result<u64, BlockError> {
        let sector = u64::from(self.identity.disk.sector_size);
        let check = |bytes: u64| self.check(lba, bytes as usize);
        self.hba.lock().submit_queued(self.port, sector, write, lba, cursor, tag, check)
    }

    fn poll(&mut self) -> Option<Completion> {
        self.hba.lock().poll_queued(self.port)
    }

    fn in_flight(&self) -> usize {
        self.hba.lock().ports[self.port].ncq.as_ref().map_or(0, ncq::Ncq::in_flight)
    }
}

#[cfg(test)]
mod tests;
