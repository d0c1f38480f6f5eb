//! NVMe driver (NVM Express base specification 1.4, NVM command set).
//!
//! [`start`] resets the controller, sets up the admin queue pair, reads the
//! controller identity and the active namespace list, creates one I/O queue pair
//! and returns one [`Namespace`] (a [`BlockDevice`]) per active namespace with a
//! usable LBA format. Completions are found by their phase tag (not by non-zero
//! dwords, the reference driver's defect) and polled with deadlines; up to
//! [`MAX_IN_FLIGHT`] I/O commands are outstanding at once. `read_segments` and
//! `write_segments` hand the caller's memory to the controller (zero copy) in
//! commands up to MDTS (at most [`MAX_TRANSFER_BYTES`]), each described by
//! PRP1/PRP2 or a PRP list in its slot; `read`/`write` go through each slot's own
//! 64 KiB buffer. Every namespace shares the controller through a lock.
//! `submit`/`poll` ([`queued`]) keep up to [`QUEUE_DEPTH`] commands of the caller's
//! memory in flight on an I/O queue pair of the submitting core's own (up to
//! [`MOST_QUEUES`] pairs, each with its own lock; [`start_with_queues`]).
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod queue;
mod queued;

pub use queued::{MOST_QUEUES, PRP_POOL_PAGES, QUEUE_DEPTH, QUEUED_CID};

use alloc::sync::Arc;
use alloc::vec::Vec;

use ingot_block::{
    BlockDevice, BlockError, CommandLimits, Completion as BlockCompletion, DiskIdentity, Segment,
    SegmentCursor, check_request, total_bytes,
};
use ingot_hal::{Clock, Deadline, DmaAllocator, DmaBuffer, Mmio};
use queue::{Command, Completion, QueuePair};
use spin::Mutex;

/// I/O commands outstanding at once.
pub const MAX_IN_FLIGHT: usize = 8;
/// Largest data buffer of one bounced command.
pub const CHUNK_BYTES: usize = 64 * 1024;
/// Largest zero-copy command: what one PRP list page (512 entries) describes,
/// unless the controller's MDTS is smaller.
pub const MAX_TRANSFER_BYTES: usize = 2 * 1024 * 1024;
/// How long one command may take.
pub const COMMAND_TIMEOUT_MS: u64 = 5_000;
const PAGE: usize = 4096;
/// Entries in each queue: room for the blocking calls' commands and the queued ones.
const QUEUE_ENTRIES: u16 = 64;

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
    /// Largest transfer of one zero-copy command (MDTS, at most what one PRP list
    /// page describes).
    max_transfer: usize,
    clock: C,
    next_admin_cid: u16,
    failed: bool,
    model: [u8; ingot_block::TEXT_BYTES],
    serial: [u8; ingot_block::TEXT_BYTES],
}

/// One namespace: a disk.
pub struct Namespace<M, B, C> {
    controller: Arc<Mutex<Controller<M, B, C>>>,
    /// The pairs for submitted commands, shared by the controller's namespaces.
    queues: Arc<queued::Queues<M, B, C>>,
    /// The one pair this handle submits on and polls ([`Namespace::lane`]); `None`:
    /// the calling core's pair for submissions, every pair for polls.
    lane: Option<usize>,
    nsid: u32,
    identity: DiskIdentity,
}

impl<M, B, C> Namespace<M, B, C> {
    /// The namespace ID.
    pub fn nsid(&self) -> u32 {
        self.nsid
    }

    /// Queue pairs for submitted commands.
    pub fn queue_pairs(&self) -> usize {
        self.queues.count()
    }

    /// A second handle on this namespace whose submitted commands all go to queue
    /// pair `pair`, and whose `poll`/`in_flight` see only that pair's: a lane
    /// another core drives at the same time as the others, sharing only that pair's
    /// lock (and the PRP page pool's, for commands that need a list page). Its
    /// blocking calls are the namespace's own. `None` past the last pair.
    pub fn lane(&self, pair: usize) -> Option<Self> {
        (pair < self.queues.count()).then(|| Self {
            controller: self.controller.clone(),
            queues: self.queues.clone(),
            lane: Some(pair),
            nsid: self.nsid,
            identity: self.identity,
        })
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

/// Create I/O Completion Queue, CDW11: the queue is physically contiguous (PC).
const CQ_PHYSICALLY_CONTIGUOUS: u32 = 1 << 0;
/// Create I/O Completion Queue, CDW11: interrupts enabled (IEN), vector (IV) 0.
const CQ_INTERRUPTS_ENABLED: u32 = 1 << 1;

/// Brings up the controller behind `registers` (BAR0) and returns its namespaces,
/// with one queue pair for submitted commands.
pub fn start<M: Mmio + Clone, D: DmaAllocator, C: Clock + Clone>(
    registers: M,
    dma: &mut D,
    clock: C,
) -> Result<Vec<Namespace<M, D::Buffer, C>>, InitError> {
    start_with_queues(registers, dma, clock, 1, || 0)
}

/// As [`start`], with `queues` pairs for submitted commands (at most
/// [`MOST_QUEUES`]): a command submitted on core `core()` goes to pair
/// `core() % queues`.
pub fn start_with_queues<M: Mmio + Clone, D: DmaAllocator, C: Clock + Clone>(
    registers: M,
    dma: &mut D,
    clock: C,
    queues: usize,
    core: fn() -> usize,
) -> Result<Vec<Namespace<M, D::Buffer, C>>, InitError> {
    start_controller(registers, dma, clock, queues, core, false)
}

/// As [`start_with_queues`], but pair `k`'s completion queue interrupts on MSI-X
/// vector `k + 1` (the blocking calls' queue keeps vector 0), so the host can aim
/// each pair's interrupt at the core that submits on it.
pub fn start_with_queue_vectors<M: Mmio + Clone, D: DmaAllocator, C: Clock + Clone>(
    registers: M,
    dma: &mut D,
    clock: C,
    queues: usize,
    core: fn() -> usize,
) -> Result<Vec<Namespace<M, D::Buffer, C>>, InitError> {
    start_controller(registers, dma, clock, queues, core, true)
}

fn start_controller<M: Mmio + Clone, D: DmaAllocator, C: Clock + Clone>(
    registers: M,
    dma: &mut D,
    clock: C,
    queues: usize,
    core: fn() -> usize,
    vector_per_pair: bool,
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
    // The pairs for submitted commands and their PRP list pages.
    let mut pair_memory = Vec::new();
    for _ in 0..queues.clamp(1, MOST_QUEUES) {
        pair_memory.push((allocate(PAGE)?, allocate(PAGE)?));
    }
    let mut prp_pages = Vec::new();
    for _ in 0..PRP_POOL_PAGES {
        prp_pages.push(allocate(PAGE)?);
    }
    let mut controller = Controller {
        registers,
        admin,
        io,
        identify,
        slots,
        chunk_bytes: CHUNK_BYTES,
        max_transfer: MAX_TRANSFER_BYTES,
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
        controller.max_transfer = MAX_TRANSFER_BYTES.min(PAGE << mdts);
    }
    // Create the I/O completion queue, then the submission queue. The completion queue
    // interrupts on vector 0 (IEN, IV 0), which only matters if the host enables MSI-X
    // entry 0 (or MSI) for it; pin interrupts stay masked (INTMS) and the driver polls
    // either way.
    let (sq, cq) = controller.io.addresses();
    let size = u32::from(controller.io.size() - 1) << 16;
    controller.admin_command(Command {
        opcode: opcode::CREATE_IO_CQ,
        prp1: cq,
        cdw: [size | 1, CQ_PHYSICALLY_CONTIGUOUS | CQ_INTERRUPTS_ENABLED, 0, 0, 0, 0],
        ..Command::default()
    })?;
    controller.admin_command(Command {
        opcode: opcode::CREATE_IO_SQ,
        prp1: sq,
        cdw: [size | 1, (1 << 16) | 1, 0, 0, 0, 0],
        ..Command::default()
    })?;
    // The pairs for submitted commands: IDs 2.., each its own completion queue.
    let mut pairs = Vec::new();
    for (index, (submissions, completions)) in pair_memory.into_iter().enumerate() {
        let id = 2 + index as u16;
        let pair = QueuePair::new(id, submissions, completions, max_entries, stride);
        let (sq, cq) = pair.addresses();
        let size = u32::from(pair.size() - 1) << 16;
        let id = u32::from(id);
        let vector = if vector_per_pair { (index as u32 + 1) << 16 } else { 0 };
        let flags = CQ_PHYSICALLY_CONTIGUOUS | CQ_INTERRUPTS_ENABLED | vector;
        let created = controller
            .admin_command(Command {
                opcode: opcode::CREATE_IO_CQ,
                prp1: cq,
                cdw: [size | id, flags, 0, 0, 0, 0],
                ..Command::default()
            })
            .and_then(|()| {
                controller.admin_command(Command {
                    opcode: opcode::CREATE_IO_SQ,
                    prp1: sq,
                    cdw: [size | id, (id << 16) | 1, 0, 0, 0, 0],
                    ..Command::default()
                })
            });
        // A controller with fewer queues than asked for gets fewer pairs (with none,
        // its namespaces have no submission path and use the blocking calls).
        if created.is_err() {
            break;
        }
        let registers = controller.registers.clone();
        pairs.push(queued::IoQueue::new(registers, controller.clock.clone(), pair, max_entries));
    }
    let queues = Arc::new(queued::Queues::new(pairs, prp_pages, core, controller.max_transfer));
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
        .map(|(nsid, identity)| Namespace {
            controller: shared.clone(),
            queues: queues.clone(),
            lane: None,
            nsid,
            identity,
        })
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

    /// Runs the commands `prepare` hands out (it is given each command's index and
    /// its slot's buffer and returns `None` when there are no more), several at a
    /// time; `drain` takes a completed read's data from the slot's buffer. Every
    /// command is completed before this returns; the first error wins.
    fn run(
        &mut self,
        op: u8,
        nsid: u32,
        prepare: &mut impl FnMut(usize, &B) -> Option<Prepared>,
        drain: &mut impl FnMut(usize, &B),
    ) -> Result<(), BlockError> {
        if self.failed {
            return Err(BlockError::Timeout);
        }
        let mut slot_command = [usize::MAX; MAX_IN_FLIGHT];
        let (mut next, mut outstanding, mut exhausted, mut first_error) = (0, 0, false, None);
        while !exhausted || outstanding > 0 {
            for (slot, in_use) in slot_command.iter_mut().enumerate().take(self.slots.len()) {
                if exhausted || *in_use != usize::MAX {
                    continue;
                }
                let Some(prepared) = prepare(next, &self.slots[slot]) else {
                    exhausted = true;
                    break;
                };
                let (lba, last) = (prepared.lba, prepared.sectors.saturating_sub(1));
                let command = Command {
                    opcode: op,
                    nsid,
                    prp1: prepared.prp1,
                    prp2: prepared.prp2,
                    cdw: [lba as u32, (lba >> 32) as u32, last, 0, 0, 0],
                };
                self.io.submit(&self.registers, slot as u16, &command);
                *in_use = next;
                next += 1;
                outstanding += 1;
            }
            if outstanding == 0 {
                break;
            }
            let deadline = Deadline::after_ms(&self.clock, COMMAND_TIMEOUT_MS);
            let (io, registers) = (&mut self.io, &self.registers);
            let Ok(completion) = deadline.wait(&self.clock, || io.poll(registers)) else {
                self.failed = true;
                return Err(BlockError::Timeout);
            };
            let slot = usize::from(completion.cid);
            let Some(command) = slot_command.get_mut(slot).filter(|c| **c != usize::MAX) else {
                self.failed = true;
                return Err(BlockError::Device(u32::from(completion.cid)));
            };
            let command = core::mem::replace(command, usize::MAX);
            outstanding -= 1;
            if completion.status != 0 {
                first_error.get_or_insert(BlockError::Device(u32::from(completion.status)));
                exhausted = true;
            } else if op == opcode::READ {
                drain(command, &self.slots[slot]);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Moves `sectors` sectors at `lba` through the slots' own buffers (the
    /// fallback when the caller's memory cannot be handed to the controller):
    /// `fill` copies a write's command data in, `drain` a read's out.
    #[allow(clippy::too_many_arguments)]
    fn run_bounced(
        &mut self,
        op: u8,
        nsid: u32,
        lba: u64,
        sectors: usize,
        sector: usize,
        fill: &mut impl FnMut(usize, &B),
        drain: &mut impl FnMut(usize, &B),
    ) -> Result<(), BlockError> {
        let per_chunk = (self.chunk_bytes / sector).max(1);
        let chunks = sectors.div_ceil(per_chunk);
        let mut prepare = |chunk: usize, buffer: &B| {
            if chunk >= chunks {
                return None;
            }
            let count = (sectors - chunk * per_chunk).min(per_chunk);
            if op == opcode::WRITE {
                fill(chunk, buffer);
            }
            let (prp1, prp2) = prps(buffer, count * sector);
            let lba = lba + (chunk * per_chunk) as u64;
            Some(Prepared { lba, sectors: count as u32, prp1, prp2 })
        };
        self.run(op, nsid, &mut prepare, drain)
    }

    /// Moves the sectors at `lba` by DMA straight to or from `segments` (checked by
    /// [`prp_addressable`]), one command per `max_transfer` bytes, the PRP list of
    /// each in the page after its slot's data buffer.
    fn run_segments(
        &mut self,
        op: u8,
        nsid: u32,
        lba: u64,
        sector: usize,
        segments: &[Segment],
    ) -> Result<(), BlockError> {
        let limits = CommandLimits {
            max_bytes: (self.max_transfer / sector * sector) as u64,
            max_entries: 1 + PAGE / 8,
            max_entry_bytes: PAGE as u64,
            boundary: PAGE as u64,
            unit: sector as u64,
        };
        let mut cursor = SegmentCursor::new(segments);
        let mut next_lba = lba;
        let mut prepare = |_: usize, buffer: &B| {
            let (mut prp1, mut second, mut entries) = (0, 0, 0usize);
            let bytes = cursor.next_command(&limits, |entry| {
                match entries {
                    0 => prp1 = entry.physical,
                    1 => second = entry.physical,
                    _ => {}
                }
                if entries >= 1 {
                    buffer.write_u64(PRP_LIST + 8 * (entries - 1), entry.physical);
                }
                entries += 1;
            });
            if bytes == 0 {
                return None;
            }
            let prp2 = match entries {
                1 => 0,
                2 => second,
                _ => buffer.physical() + PRP_LIST as u64,
            };
            let sectors = (bytes / sector as u64) as u32;
            let prepared = Prepared { lba: next_lba, sectors, prp1, prp2 };
            next_lba += u64::from(sectors);
            Some(prepared)
        };
        self.run(op, nsid, &mut prepare, &mut |_, _| {})?;
        // `prp_addressable` guarantees progress; anything left would be a driver bug.
        if cursor.is_done() { Ok(()) } else { Err(BlockError::Unsupported) }
    }
}

/// One command's place and data pointers.
struct Prepared {
    lba: u64,
    sectors: u32,
    prp1: u64,
    prp2: u64,
}

/// Where a slot's PRP list lives: the page after its bounce data.
const PRP_LIST: usize = CHUNK_BYTES;

/// Whether PRPs can describe `segments` (§4.3): the first starts on a dword, every
/// later one on a page boundary, every one but the last ends on a page boundary.
pub fn prp_addressable(segments: &[Segment]) -> bool {
    let last = segments.len().saturating_sub(1);
    segments.iter().enumerate().all(|(index, segment)| {
        let start_ok = if index == 0 {
            segment.physical.is_multiple_of(4)
        } else {
            segment.physical.is_multiple_of(PAGE as u64)
        };
        let end_ok = index == last || (segment.physical + segment.len).is_multiple_of(PAGE as u64);
        start_ok && end_ok && segment.len > 0
    })
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
            for page in 1..pages {
                buffer.write_u64(PRP_LIST + 8 * (page - 1), base + (page * PAGE) as u64);
            }
            (base, base + PRP_LIST as u64)
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
        controller.run_bounced(
            opcode::READ,
            self.nsid,
            lba,
            sectors,
            sector,
            &mut |_, _| {},
            &mut drain,
        )
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
        controller.run_bounced(
            opcode::WRITE,
            self.nsid,
            lba,
            sectors,
            sector,
            &mut fill,
            &mut |_, _| {},
        )
    }

    fn flush(&mut self) -> Result<(), BlockError> {
        let mut controller = self.controller.lock();
        let mut once = |command: usize, _: &B| {
            (command == 0).then_some(Prepared { lba: 0, sectors: 0, prp1: 0, prp2: 0 })
        };
        controller.run(opcode::FLUSH, self.nsid, &mut once, &mut |_, _| {})
    }

    fn read_segments(&mut self, lba: u64, segments: &[Segment]) -> Result<(), BlockError> {
        self.transfer_segments(opcode::READ, lba, segments)
    }

    fn write_segments(&mut self, lba: u64, segments: &[Segment]) -> Result<(), BlockError> {
        self.transfer_segments(opcode::WRITE, lba, segments)
    }

    fn queue_depth(&self) -> usize {
        self.queues.depth()
    }

    fn submit(
        &mut self,
        write: bool,
        lba: u64,
        cursor: &mut SegmentCursor<'_>,
        tag: u64,
    ) -> Result<u64, BlockError> {
        self.queues.submit(self.lane, self.nsid, &self.identity, write, lba, cursor, tag)
    }

    fn poll(&mut self) -> Option<BlockCompletion> {
        self.queues.poll(self.lane, self.nsid)
    }

    fn in_flight(&self) -> usize {
        self.queues.in_flight(self.lane, self.nsid)
    }
}

impl<M: Mmio, B: DmaBuffer, C: Clock> Namespace<M, B, C> {
    fn transfer_segments(
        &mut self,
        op: u8,
        lba: u64,
        segments: &[Segment],
    ) -> Result<(), BlockError> {
        let bytes = usize::try_from(total_bytes(segments)).map_err(|_| BlockError::OutOfRange)?;
        check_request(&self.identity, lba, bytes)?;
        if !prp_addressable(segments) {
            return Err(BlockError::Unsupported);
        }
        let sector = self.identity.sector_size as usize;
        self.controller.lock().run_segments(op, self.nsid, lba, sector, segments)
    }
}

#[cfg(test)]
mod tests;
