//! Native command queuing (SATA NCQ through AHCI 1.3.1 §5.3.11 and ACS-3 READ/WRITE
//! FPDMA QUEUED): the asynchronous commands (`BlockDevice::submit`/`poll`) of a
//! port whose HBA (CAP.SNCQ) and disk (IDENTIFY words 75/76) both queue.
//!
//! Command slot `n` carries tag `n`, with a command table of its own in one 32 KiB
//! DMA buffer per port; the driver sets PxSACT then PxCI, and a command finished
//! when the disk cleared its PxSACT bit (Set Device Bits FIS), in the disk's order.
//! When a queued command fails (PxIS.TFES), the disk aborts every queued command
//! still outstanding; the driver restarts the port and runs each of those again as
//! an ordinary DMA command, one at a time, so only the command that really fails
//! reports an error. No completion for [`COMMAND_TIMEOUT_MS`] fails the port.

use ingot_ata::command;
use ingot_block::{BlockError, CommandLimits, Completion, SegmentCursor};
use ingot_hal::{Clock, Deadline, DmaBuffer, Mmio};

use super::{COMMAND_LIST, COMMAND_TIMEOUT_MS, Hba, MAX_COMMAND_BYTES, MAX_PRDT_ENTRY_BYTES, reg};

/// Most queued commands per port (NCQ tags).
pub const QUEUE_DEPTH: usize = 32;
/// Bytes of one slot's command table: FIS area, then the PRDT.
pub const TABLE_BYTES: usize = 0x400;
/// PRDT entries of a queued command.
pub const QUEUED_PRDT_ENTRIES: usize = (TABLE_BYTES - 0x80) / 16;

/// One queued command.
#[derive(Debug, Clone, Copy)]
struct Queued {
    tag: u64,
    lba: u64,
    sectors: u16,
    entries: usize,
    write: bool,
    /// Known before the disk said so: a retried command's outcome.
    outcome: Option<Result<(), BlockError>>,
}

/// A port's queued commands.
pub(crate) struct Ncq<B> {
    /// [`QUEUE_DEPTH`] command tables of [`TABLE_BYTES`].
    tables: B,
    depth: usize,
    slots: [Option<Queued>; QUEUE_DEPTH],
    /// Bit `n` set: slot `n` holds a command (counted, never scanned).
    busy: u32,
    /// Bit `n` set: slot `n`'s command has its outcome.
    finished: u32,
    deadline: Option<Deadline>,
}

// A port's slots are bits of a u32.
const _: () = assert!(QUEUE_DEPTH <= 32);

impl<B: DmaBuffer> Ncq<B> {
    pub(crate) fn new(tables: B, depth: usize) -> Self {
        Self {
            tables,
            depth: depth.min(QUEUE_DEPTH),
            slots: [None; QUEUE_DEPTH],
            busy: 0,
            finished: 0,
            deadline: None,
        }
    }

    pub(crate) fn depth(&self) -> usize {
        self.depth
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.busy.count_ones() as usize
    }

    /// Records the outcome of slot `slot`'s command.
    fn finish(&mut self, slot: usize, outcome: Result<(), BlockError>) {
        if let Some(queued) = self.slots[slot].as_mut() {
            queued.outcome = Some(outcome);
            self.finished |= 1 << slot;
        }
    }

    /// Writes slot `slot`'s register FIS: `ata_command` over `sectors` at `lba`.
    fn write_fis(&self, slot: usize, ata_command: u8, lba: u64, sectors: u16) {
        let queued = ata_command != command::READ_DMA_EXT && ata_command != command::WRITE_DMA_EXT;
        let (features, count) = if queued { (sectors, (slot as u16) << 3) } else { (0, sectors) };
        let fis = [
            0x27,
            0x80,
            ata_command,
            features as u8,
            lba as u8,
            (lba >> 8) as u8,
            (lba >> 16) as u8,
            0x40,
            (lba >> 24) as u8,
            (lba >> 32) as u8,
            (lba >> 40) as u8,
            (features >> 8) as u8,
            count as u8,
            (count >> 8) as u8,
            0,
            0,
        ];
        self.tables.write_bytes(slot * TABLE_BYTES, &fis);
    }
}

impl<M: Mmio, B: DmaBuffer, C: Clock> Hba<M, B, C> {
    /// `BlockDevice::submit` on port `index`: one queued command over the next
    /// bytes of `cursor` (word-aligned pieces the HBA can address), once `check`
    /// accepted its byte count at `lba`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn submit_queued(
        &mut self,
        index: usize,
        sector: u64,
        write: bool,
        lba: u64,
        cursor: &mut SegmentCursor<'_>,
        tag: u64,
        check: impl FnOnce(u64) -> Result<(), BlockError>,
    ) -> Result<u64, BlockError> {
        if self.ports[index].failed {
            return Err(BlockError::Timeout);
        }
        let addresses_64 = self.addresses_64;
        let port = &mut self.ports[index];
        let Some(ncq) = port.ncq.as_mut() else { return Err(BlockError::Unsupported) };
        let slot = (!ncq.busy).trailing_zeros() as usize;
        if slot >= ncq.depth {
            return Err(BlockError::Busy);
        }
        let limits = CommandLimits {
            max_bytes: (MAX_COMMAND_BYTES / sector).min(u64::from(u16::MAX)) * sector,
            max_entries: QUEUED_PRDT_ENTRIES,
            max_entry_bytes: MAX_PRDT_ENTRY_BYTES,
            boundary: u64::MAX,
            unit: sector,
        };
        let table = slot * TABLE_BYTES;
        let (mut entries, mut addressable) = (0, true);
        let mut probe = cursor.clone();
        let bytes = probe.next_command(&limits, |entry| {
            let reachable = addresses_64 || entry.physical + entry.len <= 1 << 32;
            addressable &=
                entry.physical.is_multiple_of(2) && entry.len.is_multiple_of(2) && reachable;
            let at = table + 0x80 + 16 * entries;
            ncq.tables.write_u64(at, entry.physical);
            ncq.tables.write_u32(at + 8, 0);
            ncq.tables.write_u32(at + 12, (entry.len - 1) as u32);
            entries += 1;
        });
        if bytes == 0 || !addressable {
            return Err(BlockError::Unsupported);
        }
        check(bytes)?;
        *cursor = probe;
        let sectors = (bytes / sector) as u16;
        let ata_command =
            if write { command::WRITE_FPDMA_QUEUED } else { command::READ_FPDMA_QUEUED };
        ncq.write_fis(slot, ata_command, lba, sectors);
        write_header(&port.memory, slot, ncq.tables.physical() + table as u64, entries, write);
        if ncq.in_flight() == 0 {
            ncq.deadline = Some(Deadline::after_ms(&self.clock, COMMAND_TIMEOUT_MS));
        }
        ncq.slots[slot] = Some(Queued { tag, lba, sectors, entries, write, outcome: None });
        ncq.busy |= 1 << slot;
        let base = self.port_base(index);
        self.registers.write_u32(base + reg::SACT, 1 << slot);
        self.registers.write_u32(base + reg::CI, 1 << slot);
        Ok(bytes)
    }

    /// `BlockDevice::poll` on port `index`.
    pub(crate) fn poll_queued(&mut self, index: usize) -> Option<Completion> {
        let base = self.port_base(index);
        let ncq = self.ports[index].ncq.as_mut()?;
        if ncq.in_flight() == 0 {
            return None;
        }
        if let Some(done) = take_finished(ncq) {
            return Some(done);
        }
        let active = self.registers.read_u32(base + reg::SACT);
        let error = self.registers.read_u32(base + reg::IS) & reg::IS_TFES != 0;
        let mut completed = ncq.busy & !ncq.finished & !active;
        if completed != 0 {
            ncq.deadline = Some(Deadline::after_ms(&self.clock, COMMAND_TIMEOUT_MS));
        }
        while completed != 0 {
            let slot = completed.trailing_zeros() as usize;
            completed &= completed - 1;
            ncq.finish(slot, Ok(()));
        }
        if error {
            self.retry_aborted(index);
        } else if ncq.deadline.is_some_and(|d| d.expired(&self.clock))
            && take_finished_peek(ncq).is_none()
        {
            let _ = self.restart(index);
            self.ports[index].failed = true;
            let ncq = self.ports[index].ncq.as_mut()?;
            for slot in 0..QUEUE_DEPTH {
                if ncq.busy & !ncq.finished & (1 << slot) != 0 {
                    ncq.finish(slot, Err(BlockError::Timeout));
                }
            }
        }
        take_finished(self.ports[index].ncq.as_mut()?)
    }

    /// After a failed queued command: restarts the port and runs every command the
    /// disk aborted again, alone, as READ/WRITE DMA EXT.
    fn retry_aborted(&mut self, index: usize) {
        let restarted = self.restart(index) == Ok(true);
        let base = self.port_base(index);
        for slot in 0..QUEUE_DEPTH {
            let Some(ncq) = self.ports[index].ncq.as_ref() else { return };
            let Some(queued) = ncq.slots[slot].filter(|q| q.outcome.is_none()) else { continue };
            let outcome = if restarted && !self.ports[index].failed {
                let ata_command =
                    if queued.write { command::WRITE_DMA_EXT } else { command::READ_DMA_EXT };
                ncq.write_fis(slot, ata_command, queued.lba, queued.sectors);
                let table = ncq.tables.physical() + (slot * TABLE_BYTES) as u64;
                let memory = &self.ports[index].memory;
                write_header(memory, slot, table, queued.entries, queued.write);
                self.registers.write_u32(base + reg::IS, u32::MAX);
                self.registers.write_u32(base + reg::CI, 1 << slot);
                self.wait_alone(index, slot)
            } else {
                Err(BlockError::Timeout)
            };
            if let Some(ncq) = self.ports[index].ncq.as_mut() {
                ncq.finish(slot, outcome);
            }
        }
    }

    /// Waits for the one command in `slot` (nothing else outstanding).
    fn wait_alone(&mut self, index: usize, slot: usize) -> Result<(), BlockError> {
        let base = self.port_base(index);
        let r = &self.registers;
        let deadline = Deadline::after_ms(&self.clock, COMMAND_TIMEOUT_MS);
        let done = deadline.wait(&self.clock, || {
            let error = r.read_u32(base + reg::IS) & reg::IS_TFES != 0;
            (error || r.read_u32(base + reg::CI) & (1 << slot) == 0).then_some(error)
        });
        match done {
            Ok(false) => Ok(()),
            Ok(true) => {
                let tfd = r.read_u32(base + reg::TFD);
                // The port needs a restart before its next command (AHCI §6.2.2).
                if !matches!(self.restart(index), Ok(true)) {
                    self.ports[index].failed = true;
                }
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

/// Command header `slot`: a 5-dword FIS, the write flag, `entries` PRDT entries and
/// the table at `table`.
fn write_header<B: DmaBuffer>(memory: &B, slot: usize, table: u64, entries: usize, write: bool) {
    let at = COMMAND_LIST + 32 * slot;
    let flags = 5 | if write { 1 << 6 } else { 0 } | ((entries as u32) << 16);
    memory.write_u32(at, flags);
    memory.write_u32(at + 4, 0);
    memory.write_u64(at + 8, table);
}

fn take_finished_peek<B>(ncq: &Ncq<B>) -> Option<usize> {
    (ncq.finished != 0).then(|| ncq.finished.trailing_zeros() as usize)
}

/// Frees the first slot whose command finished and returns its completion.
fn take_finished<B>(ncq: &mut Ncq<B>) -> Option<Completion> {
    let slot = take_finished_peek(ncq)?;
    ncq.busy &= !(1 << slot);
    ncq.finished &= !(1 << slot);
    let queued = ncq.slots[slot].take()?;
    Some(Completion { tag: queued.tag, result: queued.outcome? })
}
