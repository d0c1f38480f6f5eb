//! The asynchronous commands (`BlockDevice::submit`/`poll`) on the I/O queue pair:
//! up to [`QUEUE_DEPTH`] commands of the caller's memory in flight per controller,
//! shared by its namespaces, each with command identifier [`QUEUED_CID`] + slot
//! and a PRP list page of its own.
//!
//! Completions come back on the one completion queue for every namespace, in the
//! controller's order, so a poll records every completion it finds in its slot
//! and hands back those of the polling namespace; another namespace's wait for
//! them in their slots. The blocking calls (`run`) record the queued completions
//! they meet the same way. No completion for [`COMMAND_TIMEOUT_MS`] while commands
//! are in flight fails the controller; its commands then come back as `Timeout`.

use alloc::vec::Vec;

use ingot_block::{
    BlockError, CommandLimits, Completion, DiskIdentity, SegmentCursor, check_request,
};
use ingot_hal::{Clock, Deadline, DmaBuffer, Mmio};

use super::queue::{Command, Completion as QueueCompletion};
use super::{COMMAND_TIMEOUT_MS, Controller, PAGE, opcode};

/// Most commands in flight through `submit`, per controller.
pub const QUEUE_DEPTH: usize = 32;
/// Command identifier of queued slot 0 (the blocking calls use 0..`MAX_IN_FLIGHT`).
pub const QUEUED_CID: u16 = 0x100;

/// One queued command's slot.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct QueuedSlot {
    /// Namespace of the command in flight; 0 when the slot is free.
    nsid: u32,
    tag: u64,
    /// The completion's status once it came.
    status: Option<u16>,
}

/// The queued commands' state of a controller.
pub(crate) struct Queued<B> {
    slots: Vec<QueuedSlot>,
    /// One PRP list page per slot.
    prp_lists: Vec<B>,
    /// When the controller must have completed another command.
    deadline: Option<Deadline>,
}

impl<B> Queued<B> {
    pub(crate) fn new(prp_lists: Vec<B>) -> Self {
        let slots = prp_lists.iter().map(|_| QueuedSlot::default()).collect();
        Self { slots, prp_lists, deadline: None }
    }

    pub(crate) fn depth(&self) -> usize {
        self.slots.len()
    }

    /// Commands of namespace `nsid` not yet returned by a poll.
    pub(crate) fn in_flight(&self, nsid: u32) -> usize {
        self.slots.iter().filter(|slot| slot.nsid == nsid).count()
    }
}

impl<M: Mmio, B: DmaBuffer, C: Clock> Controller<M, B, C> {
    /// `BlockDevice::submit` for namespace `nsid`: one command over the next bytes
    /// of `cursor`, up to MDTS, described by PRP1/PRP2 or the slot's PRP list.
    pub(crate) fn submit_queued(
        &mut self,
        nsid: u32,
        identity: &DiskIdentity,
        write: bool,
        lba: u64,
        cursor: &mut SegmentCursor<'_>,
        tag: u64,
    ) -> Result<u64, BlockError> {
        if self.failed {
            return Err(BlockError::Timeout);
        }
        let Some(slot) = self.queued.slots.iter().position(|slot| slot.nsid == 0) else {
            return Err(BlockError::Busy);
        };
        let sector = identity.sector_size as usize;
        let limits = CommandLimits {
            max_bytes: (self.max_transfer / sector * sector) as u64,
            max_entries: 1 + PAGE / 8,
            max_entry_bytes: PAGE as u64,
            boundary: PAGE as u64,
            unit: sector as u64,
        };
        let list = &self.queued.prp_lists[slot];
        let mut probe = cursor.clone();
        let (mut prp1, mut second, mut entries, mut addressable) = (0, 0, 0usize, true);
        let mut previous_end = 0u64;
        let bytes = probe.next_command(&limits, |entry| {
            // PRPs (§4.3): every entry after the first starts a page, every entry
            // before the last ends one.
            if entries > 0
                && (!entry.physical.is_multiple_of(PAGE as u64)
                    || !previous_end.is_multiple_of(PAGE as u64))
            {
                addressable = false;
            }
            match entries {
                0 => prp1 = entry.physical,
                1 => second = entry.physical,
                _ => {}
            }
            if entries >= 1 {
                list.write_u64(8 * (entries - 1), entry.physical);
            }
            previous_end = entry.physical + entry.len;
            entries += 1;
        });
        if bytes == 0 || !addressable || !prp1.is_multiple_of(4) {
            return Err(BlockError::Unsupported);
        }
        check_request(identity, lba, bytes as usize)?;
        *cursor = probe;
        let prp2 = match entries {
            1 => 0,
            2 => second,
            _ => list.physical(),
        };
        let last = (bytes / sector as u64 - 1) as u32;
        let command = Command {
            opcode: if write { opcode::WRITE } else { opcode::READ },
            nsid,
            prp1,
            prp2,
            cdw: [lba as u32, (lba >> 32) as u32, last, 0, 0, 0],
        };
        if self.queued.slots.iter().all(|slot| slot.nsid == 0) {
            self.queued.deadline = Some(Deadline::after_ms(&self.clock, COMMAND_TIMEOUT_MS));
        }
        self.queued.slots[slot] = QueuedSlot { nsid, tag, status: None };
        self.io.submit(&self.registers, QUEUED_CID + slot as u16, &command);
        Ok(bytes)
    }

    /// Records a completion of a queued command; false if it names no command in
    /// flight (a broken controller).
    pub(crate) fn record_queued(&mut self, completion: QueueCompletion) -> bool {
        let index = usize::from(completion.cid.wrapping_sub(QUEUED_CID));
        let Some(slot) = self.queued.slots.get_mut(index) else { return false };
        if slot.nsid == 0 || slot.status.is_some() {
            return false;
        }
        slot.status = Some(completion.status);
        self.queued.deadline = Some(Deadline::after_ms(&self.clock, COMMAND_TIMEOUT_MS));
        true
    }

    /// `BlockDevice::poll` for namespace `nsid`.
    pub(crate) fn poll_queued(&mut self, nsid: u32) -> Option<Completion> {
        if self.queued.in_flight(nsid) == 0 {
            return None;
        }
        while !self.failed {
            let Some(completion) = self.io.poll(&self.registers) else { break };
            if !self.record_queued(completion) {
                self.failed = true;
            }
        }
        let finished = self.queued.slots.iter().position(|s| s.nsid == nsid && s.status.is_some());
        if let Some(index) = finished {
            let slot = core::mem::take(&mut self.queued.slots[index]);
            let result = match slot.status {
                Some(0) => Ok(()),
                Some(status) => Err(BlockError::Device(u32::from(status))),
                None => Err(BlockError::Timeout),
            };
            return Some(Completion { tag: slot.tag, result });
        }
        if !self.failed && !self.queued.deadline.is_some_and(|d| d.expired(&self.clock)) {
            return None;
        }
        self.failed = true;
        let index = self.queued.slots.iter().position(|s| s.nsid == nsid)?;
        let slot = core::mem::take(&mut self.queued.slots[index]);
        Some(Completion { tag: slot.tag, result: Err(BlockError::Timeout) })
    }
}
