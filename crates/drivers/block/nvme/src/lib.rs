//! NVMe driver (NVM Express base specification 1.4, NVM command set).
//!
//! [`start`] resets the controller, sets up the admin queue pair, reads the
//! controller identity and the active namespace list, creates one I/O queue pair
//! and returns one [`Namespace`] (a [`BlockDevice`]) per active namespace with a
//! usable LBA format. Completions are found by their phase tag (not by non-zero
//! dwords, the reference driver's defect) and polled with deadlines; up to
//! [`MAX_IN_FLIGHT`] I/O commands are outstanding at once, each with its own data
//! buffer described by PRP1/PRP2 or a PRP list. Every namespace shares the
//! controller through a lock.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod queue;

use alloc::sync::Arc;
use alloc::vec::Vec;

use ingot_block::{BlockDevice, BlockError, DiskIdentity, check_request};
use ingot_hal::{Clock, Deadline, DmaAllocator, DmaBuffer, Mmio};
use queue::{Command, Completion, QueuePair};
use spin::Mutex;

/// I/O commands outstanding at once.
pub const MAX_IN_FLIGHT: usize = 8;
/// Largest data buffer of one command.
pub const CHUNK_BYTES: usize = 64 * 1024;
/// How long one command may take.
pub const COMMAND_TIMEOUT_MS: u64 = 5_000;
const PAGE: usize = 4096;
/// Entries in each queue.
const QUEUE_ENTRIES: u16 = 32;

/// Controller registers (§3.1).
mod reg {
    pub const CAP: usize = 0x00;
    pub const INTMS: usize = 0x0C;
    pub const CC: usize = 0x14;
    pub const CSTS: usize = 0x1C;
    pub const AQA: usize = 0x24;
    pub const ASQ: usize = 0x28;
    pub const ACQ: usize = 0x30;
}

/// Admin and NVM opcodes.
mod opcode {
    pub const CREATE_IO_SQ: u8 = 0x01;
    pub const CREATE_IO_CQ: u8 = 0x05;
    pub const IDENTIFY: u8 = 0x06;
    pub const FLUSH: u8 = 0x00;
    pub const WRITE: u8 = 0x01;
    pub const READ: u8 = 0x02;
}

/// Why the controller could not be brought up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitError {
    /// CSTS.RDY did not follow CC.EN in the time CAP.TO allows.
    NotReady,
    /// The controller reported a fatal status (CSTS.CFS).
    Fatal,
    /// An admin command failed (status attached).
    Admin(u16),
    /// An admin command did not complete in time.
    Timeout,
    /// No memory for queues and buffers.
    NoMemory,
    /// 4 KiB pages are not supported.
    PageSize,
}

/// The controller state shared by its namespaces.
pub struct Controller<M, B, C> {
    registers: M,
    admin: QueuePair<B>,
    io: QueuePair<B>,
    identify: B,
    slots: Vec<B>,
    chunk_bytes: usize,
    clock: C,
    next_admin_cid: u16,
    failed: bool,
    model: [u8; ingot_block::TEXT_BYTES],
    serial: [u8; ingot_block::TEXT_BYTES],
}

/// One namespace: a disk.
pub struct Namespace<M, B, C> {
    controller: Arc<Mutex<Controller<M, B, C>>>,
    nsid: u32,
    identity: DiskIdentity,
}

impl<M, B, C> Namespace<M, B, C> {
    /// The namespace ID.
    pub fn nsid(&self) -> u32 {
        self.nsid
    }
}

fn wait_ready<M: Mmio, C: Clock>(
    registers: &M,
    clock: &C,
    ready: bool,
    timeout_ms: u64,
) -> Result<(), InitError> {
    let deadline = Deadline::after_ms(clock, timeout_ms);
    deadline
        .wait(clock, || {
            let status = registers.read_u32(reg::CSTS);
            if status == u32::MAX || status & 2 != 0 {
                return Some(Err(InitError::Fatal));
            }
            (((status & 1) != 0) == ready).then_some(Ok(()))
        })
        .map_err(|_| InitError::NotReady)?
}

/// Brings up the controller behind `registers` (BAR0) and returns its namespaces.
pub fn start<M: Mmio, D: DmaAllocator, C: Clock>(
    registers: M,
    dma: &mut D,
    clock: C,
) -> Result<Vec<Namespace<M, D::Buffer, C>>, InitError> {
    let cap = registers.read_u64(reg::CAP);
    let timeout_ms = (((cap >> 24) & 0xFF) * 500).clamp(500, 60_000);
    let stride = 4usize << ((cap >> 32) & 0xF);
    let max_entries = ((cap & 0xFFFF) + 1).min(u64::from(QUEUE_ENTRIES)) as u16;
    if (cap >> 48) & 0xF != 0 {
        return Err(InitError::PageSize);
    }
    // Disable, then wait for the controller to stop.
    let cc = registers.read_u32(reg::CC);
    if cc & 1 != 0 {
        registers.write_u32(reg::CC, cc & !1);
    }
    wait_ready(&registers, &clock, false, timeout_ms)?;
    let mut allocate = |bytes| dma.allocate(bytes).map_err(|_| InitError::NoMemory);
    let admin = QueuePair::new(0, allocate(PAGE)?, allocate(PAGE)?, max_entries, stride);
    let (asq, acq) = admin.addresses();
    registers.write_u32(reg::AQA, (u32::from(max_entries - 1) << 16) | u32::from(max_entries - 1));
    registers.write_u64(reg::ASQ, asq);
    registers.write_u64(reg::ACQ, acq);
    registers.write_u32(reg::INTMS, u32::MAX);
    // 64-byte submissions, 16-byte completions, 4 KiB pages, NVM command set, enable.
    registers.write_u32(reg::CC, (6 << 16) | (4 << 20) | 1);
    wait_ready(&registers, &clock, true, timeout_ms)?;

    let io = QueuePair::new(1, allocate(PAGE)?, allocate(PAGE)?, max_entries, stride);
    let identify = allocate(PAGE)?;
    let mut slots = Vec::new();
    for _ in 0..MAX_IN_FLIGHT.min(usize::from(max_entries - 1)) {
        slots.push(allocate(CHUNK_BYTES + PAGE)?);
    }
    let mut controller = Controller {
        registers,
        admin,
        io,
        identify,
        slots,
        chunk_bytes: CHUNK_BYTES,
        clock,
        next_admin_cid: 0,
        failed: false,
        model: [b' '; ingot_block::TEXT_BYTES],
        serial: [b' '; ingot_block::TEXT_BYTES],
    };
    // Identify controller (CNS 1): serial, model, maximum transfer size.
    controller.identify(1, 0)?;
    let mut text = [0u8; 64];
    controller.identify.read_bytes(0, &mut text);
    controller.serial = DiskIdentity::text(&text[4..24]);
    controller.model = DiskIdentity::text(&text[24..64]);
    let mdts = controller.identify.read_u8(77);
    if mdts != 0 && mdts < 16 {
        controller.chunk_bytes = CHUNK_BYTES.min(PAGE << mdts);
    }
    // Create the I/O completion queue, then the submission queue (interrupts off).
    let (sq, cq) = controller.io.addresses();
    let size = u32::from(controller.io.size() - 1) << 16;
    controller.admin_command(Command {
        opcode: opcode::CREATE_IO_CQ,
        prp1: cq,
        cdw: [size | 1, 1, 0, 0, 0, 0],
        ..Command::default()
    })?;
    controller.admin_command(Command {
        opcode: opcode::CREATE_IO_SQ,
        prp1: sq,
        cdw: [size | 1, (1 << 16) | 1, 0, 0, 0, 0],
        ..Command::default()
    })?;
    // Active namespace list (CNS 2), then each namespace (CNS 0).
    controller.identify(2, 0)?;
    let mut nsids = Vec::new();
    for i in 0..1024 {
        match controller.identify.read_u32(4 * i) {
            0 => break,
            nsid => nsids.push(nsid),
        }
    }
    let mut found = Vec::new();
    for nsid in nsids {
        controller.identify(0, nsid)?;
        let sectors = controller.identify.read_u64(0);
        let format = usize::from(controller.identify.read_u8(26) & 0xF);
        let lba_format = controller.identify.read_u32(128 + 4 * format);
        let lbads = (lba_format >> 16) & 0xFF;
        let metadata_bytes = lba_format & 0xFFFF;
        // Formats with metadata interleave it with the data: not a plain disk.
        if sectors == 0 || !(9..=12).contains(&lbads) || metadata_bytes != 0 {
            continue;
        }
        let mut identity = DiskIdentity::new(sectors, 1 << lbads);
        identity.model = controller.model;
        identity.serial = controller.serial;
        found.push((nsid, identity));
    }
    let shared = Arc::new(Mutex::new(controller));
    Ok(found
        .into_iter()
        .map(|(nsid, identity)| Namespace { controller: shared.clone(), nsid, identity })
        .collect())
}

impl<M: Mmio, B: DmaBuffer, C: Clock> Controller<M, B, C> {
    fn identify(&mut self, cns: u32, nsid: u32) -> Result<(), InitError> {
        self.identify.write_bytes(0, &[0; PAGE]);
        let command = Command {
            opcode: opcode::IDENTIFY,
            nsid,
            prp1: self.identify.physical(),
            cdw: [cns, 0, 0, 0, 0, 0],
            ..Command::default()
        };
        self.admin_command(command)
    }

    fn admin_command(&mut self, command: Command) -> Result<(), InitError> {
        let cid = self.next_admin_cid;
        self.next_admin_cid = self.next_admin_cid.wrapping_add(1);
        self.admin.submit(&self.registers, cid, &command);
        let deadline = Deadline::after_ms(&self.clock, COMMAND_TIMEOUT_MS);
        let (admin, registers) = (&mut self.admin, &self.registers);
        let completion = deadline
            .wait(&self.clock, || admin.poll(registers).filter(|c: &Completion| c.cid == cid))
            .map_err(|_| InitError::Timeout)?;
        if completion.status != 0 {
            return Err(InitError::Admin(completion.status));
        }
        Ok(())
    }

    /// Runs a read/write/flush of `sectors` sectors (`shift` = log2 sector size)
    /// from `lba` in chunks, several at a time.
    #[allow(clippy::too_many_arguments)]
    fn run(
        &mut self,
        op: u8,
        nsid: u32,
        lba: u64,
        sectors: usize,
        sector: usize,
        fill: &mut impl FnMut(usize, &B),
        drain: &mut impl FnMut(usize, &B),
    ) -> Result<(), BlockError> {
        if self.failed {
            return Err(BlockError::Timeout);
        }
        let per_chunk = (self.chunk_bytes / sector).max(1);
        let chunks = if op == opcode::FLUSH { 1 } else { sectors.div_ceil(per_chunk) };
        let mut slot_chunk = [usize::MAX; MAX_IN_FLIGHT];
        let (mut next, mut outstanding, mut first_error) = (0, 0, None);
        while next < chunks || outstanding > 0 {
            for (slot, in_use) in slot_chunk.iter_mut().enumerate().take(self.slots.len()) {
                if next >= chunks || *in_use != usize::MAX {
                    continue;
                }
                let buffer = &self.slots[slot];
                let count = (sectors - next * per_chunk).min(per_chunk);
                let bytes = count * sector;
                let mut command = Command { opcode: op, nsid, ..Command::default() };
                if op != opcode::FLUSH {
                    if op == opcode::WRITE {
                        fill(next, buffer);
                    }
                    let (prp1, prp2) = prps(buffer, bytes);
                    let start = lba + (next * per_chunk) as u64;
                    command.prp1 = prp1;
                    command.prp2 = prp2;
                    command.cdw = [start as u32, (start >> 32) as u32, count as u32 - 1, 0, 0, 0];
                }
                self.io.submit(&self.registers, slot as u16, &command);
                *in_use = next;
                next += 1;
                outstanding += 1;
            }
            let deadline = Deadline::after_ms(&self.clock, COMMAND_TIMEOUT_MS);
            let (io, registers) = (&mut self.io, &self.registers);
            let Ok(completion) = deadline.wait(&self.clock, || io.poll(registers)) else {
                self.failed = true;
                return Err(BlockError::Timeout);
            };
            let slot = usize::from(completion.cid);
            let Some(chunk) = slot_chunk.get_mut(slot).filter(|c| **c != usize::MAX) else {
                self.failed = true;
                return Err(BlockError::Device(u32::from(completion.cid)));
            };
            let chunk = core::mem::replace(chunk, usize::MAX);
            outstanding -= 1;
            if completion.status != 0 {
                first_error.get_or_insert(BlockError::Device(u32::from(completion.status)));
                next = chunks;
            } else if op == opcode::READ {
                drain(chunk, &self.slots[slot]);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// PRP1 and PRP2 for `bytes` at the start of `buffer`: PRP2 is the second page
/// when two pages suffice, otherwise a PRP list kept in the page after the data.
fn prps<B: DmaBuffer>(buffer: &B, bytes: usize) -> (u64, u64) {
    let base = buffer.physical();
    let pages = bytes.div_ceil(PAGE);
    match pages {
        0 | 1 => (base, 0),
        2 => (base, base + PAGE as u64),
        _ => {
            let list = CHUNK_BYTES;
            for page in 1..pages {
                buffer.write_u64(list + 8 * (page - 1), base + (page * PAGE) as u64);
            }
            (base, base + list as u64)
        }
    }
}

impl<M: Mmio, B: DmaBuffer, C: Clock> BlockDevice for Namespace<M, B, C> {
    fn driver(&self) -> &'static str {
        "nvme"
    }

    fn identity(&self) -> DiskIdentity {
        self.identity
    }

    fn read(&mut self, lba: u64, buffer: &mut [u8]) -> Result<(), BlockError> {
        let sectors = check_request(&self.identity, lba, buffer.len())? as usize;
        let sector = self.identity.sector_size as usize;
        let mut controller = self.controller.lock();
        let chunk_bytes = (controller.chunk_bytes / sector).max(1) * sector;
        let mut drain = |chunk: usize, dma: &B| {
            let start = chunk * chunk_bytes;
            let end = (start + chunk_bytes).min(buffer.len());
            dma.read_bytes(0, &mut buffer[start..end]);
        };
        controller.run(opcode::READ, self.nsid, lba, sectors, sector, &mut |_, _| {}, &mut drain)
    }

    fn write(&mut self, lba: u64, buffer: &[u8]) -> Result<(), BlockError> {
        let sectors = check_request(&self.identity, lba, buffer.len())? as usize;
        let sector = self.identity.sector_size as usize;
        let mut controller = self.controller.lock();
        let chunk_bytes = (controller.chunk_bytes / sector).max(1) * sector;
        let mut fill = |chunk: usize, dma: &B| {
            let start = chunk * chunk_bytes;
            let end = (start + chunk_bytes).min(buffer.len());
            dma.write_bytes(0, &buffer[start..end]);
        };
        controller.run(opcode::WRITE, self.nsid, lba, sectors, sector, &mut fill, &mut |_, _| {})
    }

    fn flush(&mut self) -> Result<(), BlockError> {
        let sector = self.identity.sector_size as usize;
        let mut controller = self.controller.lock();
        controller.run(opcode::FLUSH, self.nsid, 0, 0, sector, &mut |_, _| {}, &mut |_, _| {})
    }
}

#[cfg(test)]
mod tests;
