//! The asynchronous requests (`BlockDevice::submit`/`poll`): the request queue
//! cut into up to [`QUEUE_DEPTH`] slots of descriptors, each slot one request of
//! the caller's memory (header, data descriptors, status).
//!
//! A slot's header and status byte live in one shared DMA page (32 bytes a slot),
//! so a deep queue costs no bounce buffers. The blocking calls use the same queue
//! with fewer, larger slots; they only run when nothing submitted is in flight, so
//! the two never share a descriptor. The device may finish requests in any order:
//! the used ring's head names the slot, and the slot its caller's tag. When no
//! request finishes for [`TIMEOUT_MS`], the device is failed and every request in
//! flight comes back as `Timeout`.

use ingot_block::{BlockError, CommandLimits, Completion, SegmentCursor, check_request};
use ingot_hal::{Clock, Deadline, DmaAllocator, DmaBuffer, DmaError};

use super::queue::Segment;
use super::transport::Transport;
use super::{MAX_DATA_SEGMENTS, MAX_REQUEST_BYTES, TIMEOUT_MS, VirtioBlk, request};

/// Most requests in flight through `submit`.
pub const QUEUE_DEPTH: usize = 32;
/// Bytes of a slot in the shared header page: header (16), status (1), padding.
const SLOT_BYTES: usize = 32;
const STATUS_OFFSET: usize = 16;

/// State of the submitted requests.
pub(crate) struct Queued<B> {
    /// Headers and status bytes, [`SLOT_BYTES`] per slot.
    headers: B,
    /// The caller's tag of each slot's request in flight.
    tags: [Option<u64>; QUEUE_DEPTH],
    depth: usize,
    /// Descriptors per slot: slot `n` owns `n * stride ..`.
    stride: u16,
    in_flight: usize,
    /// When the device must have finished another request.
    deadline: Option<Deadline>,
}

impl<B: DmaBuffer> Queued<B> {
    /// Slots for a queue of `size` descriptors: at least 3 descriptors each.
    pub(crate) fn new<D: DmaAllocator<Buffer = B>>(
        dma: &mut D,
        size: u16,
    ) -> Result<Self, DmaError> {
        let depth = (usize::from(size) / 3).clamp(1, QUEUE_DEPTH);
        let stride = (usize::from(size) / depth).min(MAX_DATA_SEGMENTS + 2) as u16;
        let headers = dma.allocate(SLOT_BYTES * QUEUE_DEPTH)?;
        Ok(Self { headers, tags: [None; QUEUE_DEPTH], depth, stride, in_flight: 0, deadline: None })
    }

    pub(crate) fn depth(&self) -> usize {
        self.depth
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight
    }
}

impl<T: Transport, B: DmaBuffer, C: Clock> VirtioBlk<T, B, C> {
    /// `BlockDevice::submit`: one request over the next bytes of `cursor`, at most
    /// `seg_max` (and the slot's) descriptors of at most `size_max` bytes.
    pub(crate) fn submit_request(
        &mut self,
        write: bool,
        lba: u64,
        cursor: &mut SegmentCursor<'_>,
        tag: u64,
    ) -> Result<u64, BlockError> {
        if self.failed {
            return Err(BlockError::Timeout);
        }
        let queued = &mut self.queued;
        let Some(slot) = queued.tags[..queued.depth].iter().position(Option::is_none) else {
            return Err(BlockError::Busy);
        };
        let sector = u64::from(self.identity.sector_size);
        let limits = CommandLimits {
            max_bytes: MAX_REQUEST_BYTES / sector * sector,
            max_entries: (usize::from(queued.stride) - 2).min(self.max_data_segments),
            max_entry_bytes: u64::from(self.size_max),
            boundary: u64::MAX,
            unit: sector,
        };
        let empty = Segment { address: 0, len: 0, device_writes: false };
        let mut chain = [empty; MAX_DATA_SEGMENTS + 2];
        let mut count = 0;
        let mut probe = cursor.clone();
        let bytes = probe.next_command(&limits, |entry| {
            count += 1;
            chain[count] =
                Segment { address: entry.physical, len: entry.len as u32, device_writes: !write };
        });
        if bytes == 0 {
            return Err(BlockError::Unsupported);
        }
        check_request(&self.identity, lba, bytes as usize)?;
        *cursor = probe;
        let header = SLOT_BYTES * slot;
        let kind = if write { request::OUT } else { request::IN };
        queued.headers.write_u32(header, kind);
        queued.headers.write_u32(header + 4, 0);
        queued.headers.write_u64(header + 8, lba * self.scale);
        queued.headers.write_u8(header + STATUS_OFFSET, 0xFF);
        let base = queued.headers.physical() + header as u64;
        chain[0] = Segment { address: base, len: 16, device_writes: false };
        chain[count + 1] =
            Segment { address: base + STATUS_OFFSET as u64, len: 1, device_writes: true };
        self.queue.push(slot as u16 * queued.stride, &chain[..count + 2]);
        queued.tags[slot] = Some(tag);
        if queued.in_flight == 0 {
            queued.deadline = Some(Deadline::after_ms(&self.clock, TIMEOUT_MS));
        }
        queued.in_flight += 1;
        self.transport.notify(0);
        Ok(bytes)
    }

    /// `BlockDevice::poll`: the next request the device finished, or after the
    /// deadline passed without one, a `Timeout` for a request still in flight.
    pub(crate) fn poll_request(&mut self) -> Option<Completion> {
        if self.queued.in_flight == 0 {
            return None;
        }
        if !self.failed {
            if let Some(head) = self.queue.pop_used() {
                return self.finish(head);
            }
            let expired = self.queued.deadline.is_some_and(|d| d.expired(&self.clock));
            if !expired {
                return None;
            }
            self.fail();
        }
        let queued = &mut self.queued;
        let tag = queued.tags.iter_mut().find_map(Option::take)?;
        queued.in_flight -= 1;
        Some(Completion { tag, result: Err(BlockError::Timeout) })
    }

    /// The completion of the chain at `head`; a head that names no request in
    /// flight means the device is broken, and fails it.
    fn finish(&mut self, head: u16) -> Option<Completion> {
        let queued = &mut self.queued;
        let slot = usize::from(head / queued.stride);
        let owned = head.is_multiple_of(queued.stride) && slot < queued.depth;
        let Some(tag) = queued.tags.get_mut(slot).filter(|_| owned).and_then(Option::take) else {
            self.fail();
            return self.poll_request();
        };
        queued.in_flight -= 1;
        queued.deadline = Some(Deadline::after_ms(&self.clock, TIMEOUT_MS));
        let status = queued.headers.read_u8(SLOT_BYTES * slot + STATUS_OFFSET);
        let result = if status == request::STATUS_OK {
            Ok(())
        } else {
            Err(BlockError::Device(status.into()))
        };
        Some(Completion { tag, result })
    }
}
