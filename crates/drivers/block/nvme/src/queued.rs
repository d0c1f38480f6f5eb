//! The asynchronous commands (`BlockDevice::submit`/`poll`): one I/O submission/
//! completion queue pair per core that submits (up to [`MOST_QUEUES`], core `k` on
//! pair `k % queues`), each under its own lock, with up to [`QUEUE_DEPTH`] commands
//! of the caller's memory in flight, shared by the controller's namespaces.
//!
//! A command's identifier is [`QUEUED_CID`] + its slot in its pair. Commands that
//! need a PRP list (more than two pages) take a page from a pool shared by the pairs
//! (its own small lock); when the pool is empty the submission is `Busy`. A pair's
//! completions come back in the controller's order for every namespace, so a poll
//! records each completion it finds in its slot and hands back those of the polling
//! namespace. No completion on a pair for [`COMMAND_TIMEOUT_MS`] while it has
//! commands in flight fails that pair; its commands then come back as `Timeout`.
//! The blocking calls keep their own pair (queue 1), so the two never meet.

use alloc::vec::Vec;

use ingot_block::{
    BlockError, CommandLimits, Completion, DiskIdentity, SegmentCursor, check_request,
};
use ingot_hal::{Clock, Deadline, DmaBuffer, Mmio};
use spin::Mutex;

use super::queue::{Command, QueuePair};
use super::{COMMAND_TIMEOUT_MS, PAGE, opcode};

/// Most commands in flight through `submit`, per queue pair.
pub const QUEUE_DEPTH: usize = 32;
// A pair's slots are bits of a u32.
const _: () = assert!(QUEUE_DEPTH <= 32);
/// Most queue pairs for submitted commands, per controller.
pub const MOST_QUEUES: usize = 4;
/// Command identifier of queued slot 0 (the blocking calls use 0..`MAX_IN_FLIGHT`).
pub const QUEUED_CID: u16 = 0x100;
/// PRP list pages shared by a controller's pairs.
pub const PRP_POOL_PAGES: usize = 32;

/// One queued command's slot.
#[derive(Debug, Clone, Copy, Default)]
struct QueuedSlot {
    /// Namespace of the command in flight; 0 when the slot is free.
    nsid: u32,
    tag: u64,
    /// The PRP list page it holds, if any.
    prp_page: Option<usize>,
    /// The completion's status once it came.
    status: Option<u16>,
}

/// One queue pair for submitted commands.
pub(crate) struct IoQueue<M, B, C> {
    registers: M,
    clock: C,
    pair: QueuePair<B>,
    slots: [QueuedSlot; QUEUE_DEPTH],
    /// Bit `n` set: slot `n` holds a command (so nothing scans the slots to count).
    busy: u32,
    /// Bit `n` set: slot `n`'s completion came.
    done: u32,
    depth: usize,
    /// When the controller must have completed another command of this pair.
    deadline: Option<Deadline>,
    failed: bool,
}

/// A controller's pairs for submitted commands and their PRP list pages.
pub(crate) struct Queues<M, B, C> {
    pairs: Vec<Mutex<IoQueue<M, B, C>>>,
    /// Commands one pair can have in flight.
    depth: usize,
    prp_pages: Vec<B>,
    /// Bit `n` set: page `n` is free.
    prp_free: Mutex<u64>,
    /// The calling core's index.
    core: fn() -> usize,
    max_transfer: usize,
}

impl<M, B, C> IoQueue<M, B, C> {
    /// A pair (created on the controller by the caller) of `entries` entries.
    pub(crate) fn new(registers: M, clock: C, pair: QueuePair<B>, entries: u16) -> Self {
        let depth = QUEUE_DEPTH.min(usize::from(entries.saturating_sub(1)));
        Self {
            registers,
            clock,
            pair,
            slots: [QueuedSlot::default(); QUEUE_DEPTH],
            busy: 0,
            done: 0,
            depth,
            deadline: None,
            failed: false,
        }
    }

    fn in_flight(&self, nsid: u32) -> usize {
        slots_of(self.busy).filter(|&slot| self.slots[slot].nsid == nsid).count()
    }
}

/// The slot numbers whose bits are set in `mask`, lowest first.
fn slots_of(mut mask: u32) -> impl Iterator<Item = usize> {
    core::iter::from_fn(move || {
        (mask != 0).then(|| {
            let slot = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            slot
        })
    })
}

impl<M, B, C> Queues<M, B, C> {
    pub(crate) fn new(
        pairs: Vec<IoQueue<M, B, C>>,
        prp_pages: Vec<B>,
        core: fn() -> usize,
        max_transfer: usize,
    ) -> Self {
        let prp_free = if prp_pages.len() >= 64 { u64::MAX } else { (1 << prp_pages.len()) - 1 };
        Self {
            depth: pairs.first().map_or(0, |pair| pair.depth),
            pairs: pairs.into_iter().map(Mutex::new).collect(),
            prp_pages,
            prp_free: Mutex::new(prp_free),
            core,
            max_transfer,
        }
    }

    /// Commands one core can have in flight.
    pub(crate) fn depth(&self) -> usize {
        self.depth
    }

    /// The pairs a handle on `lane` (one pair, or `None`: all) looks at.
    fn pairs_of(&self, lane: Option<usize>) -> &[Mutex<IoQueue<M, B, C>>] {
        match lane {
            Some(pair) => self.pairs.get(pair..=pair).unwrap_or(&[]),
            None => &self.pairs,
        }
    }

    /// Commands of namespace `nsid` not yet returned by a poll, on `lane`'s pairs.
    pub(crate) fn in_flight(&self, lane: Option<usize>, nsid: u32) -> usize {
        self.pairs_of(lane).iter().map(|pair| pair.lock().in_flight(nsid)).sum()
    }

    /// Pairs.
    pub(crate) fn count(&self) -> usize {
        self.pairs.len()
    }

    fn take_prp_page(&self) -> Option<usize> {
        let mut free = self.prp_free.lock();
        let page = free.trailing_zeros() as usize;
        (page < self.prp_pages.len()).then(|| {
            *free &= !(1 << page);
            page
        })
    }

    fn give_prp_page(&self, page: Option<usize>) {
        if let Some(page) = page {
            *self.prp_free.lock() |= 1 << page;
        }
    }
}

impl<M: Mmio, B: DmaBuffer, C: Clock> Queues<M, B, C> {
    /// `BlockDevice::submit` for namespace `nsid` on pair `lane` (`None`: the
    /// calling core's pair): one command over the next bytes of `cursor`, up to
    /// MDTS, described by PRP1/PRP2 or a PRP list page from the pool.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn submit(
        &self,
        lane: Option<usize>,
        nsid: u32,
        identity: &DiskIdentity,
        write: bool,
        lba: u64,
        cursor: &mut SegmentCursor<'_>,
        tag: u64,
    ) -> Result<u64, BlockError> {
        let index = lane.unwrap_or_else(|| (self.core)() % self.pairs.len().max(1));
        let Some(pair) = self.pairs.get(index) else {
            return Err(BlockError::Unsupported);
        };
        let mut queue = pair.lock();
        if queue.failed {
            return Err(BlockError::Timeout);
        }
        let slot = (!queue.busy).trailing_zeros() as usize;
        if slot >= queue.depth {
            return Err(BlockError::Busy);
        }
        let sector = identity.sector_size as usize;
        let limits = CommandLimits {
            max_bytes: (self.max_transfer / sector * sector) as u64,
            max_entries: 1 + PAGE / 8,
            max_entry_bytes: PAGE as u64,
            boundary: PAGE as u64,
            unit: sector as u64,
        };
        // The entries, with what PRPs demand (§4.3): every entry after the first starts
        // a page, every entry before the last ends one. A dry run first: a list page
        // is taken only for a command that needs one.
        let mut probe = cursor.clone();
        let (mut prp1, mut second, mut entries, mut addressable) = (0, 0, 0usize, true);
        let mut previous_end = 0u64;
        let bytes = probe.next_command(&limits, |entry| {
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
            previous_end = entry.physical + entry.len;
            entries += 1;
        });
        if bytes == 0 || !addressable || !prp1.is_multiple_of(4) {
            return Err(BlockError::Unsupported);
        }
        check_request(identity, lba, bytes as usize)?;
        let (prp2, prp_page) = match entries {
            1 => (0, None),
            2 => (second, None),
            _ => {
                let Some(page) = self.take_prp_page() else { return Err(BlockError::Busy) };
                let list = &self.prp_pages[page];
                let mut written = 0;
                let mut fill = cursor.clone();
                fill.next_command(&limits, |entry| {
                    if written > 0 {
                        list.write_u64(8 * (written - 1), entry.physical);
                    }
                    written += 1;
                });
                (list.physical(), Some(page))
            }
        };
        *cursor = probe;
        let last = (bytes / sector as u64 - 1) as u32;
        let command = Command {
            opcode: if write { opcode::WRITE } else { opcode::READ },
            nsid,
            prp1,
            prp2,
            cdw: [lba as u32, (lba >> 32) as u32, last, 0, 0, 0],
        };
        if queue.busy == 0 {
            queue.deadline = Some(Deadline::after_ms(&queue.clock, COMMAND_TIMEOUT_MS));
        }
        queue.slots[slot] = QueuedSlot { nsid, tag, prp_page, status: None };
        queue.busy |= 1 << slot;
        let queue = &mut *queue;
        queue.pair.submit(&queue.registers, QUEUED_CID + slot as u16, &command);
        Ok(bytes)
    }

    /// `BlockDevice::poll` for namespace `nsid`: the first of `lane`'s pairs with a
    /// finished command of it (or a timed-out one) gives it back.
    pub(crate) fn poll(&self, lane: Option<usize>, nsid: u32) -> Option<Completion> {
        self.pairs_of(lane).iter().find_map(|pair| {
            let (completion, page) = pair.lock().poll(nsid)?;
            self.give_prp_page(page);
            Some(completion)
        })
    }
}

impl<M: Mmio, B: DmaBuffer, C: Clock> IoQueue<M, B, C> {
    /// Records every completion the pair holds, then takes one of `nsid`'s finished
    /// commands (with the PRP page it held), or after the deadline a timed-out one.
    fn poll(&mut self, nsid: u32) -> Option<(Completion, Option<usize>)> {
        if self.busy == 0 {
            return None;
        }
        while !self.failed {
            let Some(completion) = self.pair.poll(&self.registers) else { break };
            let index = usize::from(completion.cid.wrapping_sub(QUEUED_CID));
            let waiting = self.busy & !self.done;
            match self.slots.get_mut(index) {
                Some(slot) if waiting & (1 << index) != 0 => {
                    slot.status = Some(completion.status);
                    self.done |= 1 << index;
                    self.deadline = Some(Deadline::after_ms(&self.clock, COMMAND_TIMEOUT_MS));
                }
                // A completion for no command in flight: the controller is broken.
                _ => self.failed = true,
            }
        }
        let finished = slots_of(self.done).find(|&slot| self.slots[slot].nsid == nsid);
        let index = match finished {
            Some(index) => index,
            None if self.failed || self.deadline.is_some_and(|d| d.expired(&self.clock)) => {
                self.failed = true;
                slots_of(self.busy).find(|&slot| self.slots[slot].nsid == nsid)?
            }
            None => return None,
        };
        let slot = core::mem::take(&mut self.slots[index]);
        self.busy &= !(1 << index);
        self.done &= !(1 << index);
        let result = match slot.status {
            Some(0) => Ok(()),
            Some(status) => Err(BlockError::Device(u32::from(status))),
            None => Err(BlockError::Timeout),
        };
        Some((Completion { tag: slot.tag, result }, slot.prp_page))
    }
}
