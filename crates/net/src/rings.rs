//! The software side of descriptor rings whose descriptors are 16 bytes and start
//! with a buffer's physical address: the Intel 8254x/8257x legacy rings and the
//! 82599's advanced rings share it, and differ only in where each format keeps its
//! status, length and command bits, which the drivers read and write themselves.
//!
//! [`ReceiveRing`] owns one receive buffer per slot and posts each in the read
//! format (buffer address, then eight zero bytes, which also clears the done bit);
//! the device fills slots in order and software recycles them in order.
//! [`TransmitRing`] points descriptors straight at the caller's physical segments (one
//! per segment, nothing copied) and frees a frame once the device marks its last
//! descriptor done. Both keep one slot empty so a full ring (tail one behind head) is
//! never mistaken for an empty one. [`deliver`] is the receive decision both share:
//! frames spread over several buffers, frames with errors and frames of impossible
//! length are dropped and counted, the rest shown to the sink in place.

use alloc::vec;
use alloc::vec::Vec;

use ingot_hal::{DmaAllocator, DmaBuffer};

use crate::{ETHERNET_HEADER, FrameSink, NetCounters, NetError, Segment};

/// Bytes per descriptor.
pub const DESCRIPTOR_BYTES: usize = 16;

/// `SLOTS` receive descriptors, each with its own buffer of `BUFFER` bytes.
pub struct ReceiveRing<B, const SLOTS: usize, const BUFFER: usize> {
    descriptors: B,
    buffers: B,
    /// The next slot the device fills.
    next: usize,
}

impl<B: DmaBuffer, const SLOTS: usize, const BUFFER: usize> ReceiveRing<B, SLOTS, BUFFER> {
    /// Allocates the ring and its buffers and posts every buffer.
    pub fn new<D: DmaAllocator<Buffer = B>>(dma: &mut D) -> Result<Self, NetError> {
        let descriptors = dma.allocate(SLOTS * DESCRIPTOR_BYTES)?;
        let buffers = dma.allocate(SLOTS * BUFFER)?;
        let ring = Self { descriptors, buffers, next: 0 };
        for slot in 0..SLOTS {
            ring.post(slot);
        }
        Ok(ring)
    }

    /// Physical address of descriptor 0.
    pub fn physical(&self) -> u64 {
        self.descriptors.physical()
    }

    /// Ring length in bytes, for the device's ring-length register.
    pub fn bytes(&self) -> u32 {
        (SLOTS * DESCRIPTOR_BYTES) as u32
    }

    /// The tail value that hands every slot but one to the device.
    pub fn initial_tail(&self) -> u32 {
        (SLOTS - 1) as u32
    }

    /// The slot the device fills next and its descriptor, for the driver to read
    /// the write-back format.
    pub fn next_descriptor(&self) -> (usize, &B, usize) {
        (self.next, &self.descriptors, self.next * DESCRIPTOR_BYTES)
    }

    fn post(&self, slot: usize) {
        let at = slot * DESCRIPTOR_BYTES;
        let buffer = self.buffers.physical() + (slot * BUFFER) as u64;
        self.descriptors.write_u64(at, buffer);
        self.descriptors.write_u64(at + 8, 0);
    }

    /// Copies up to `out.len()` bytes from `offset` of `slot`'s buffer (never past
    /// the buffer's end).
    pub fn read(&self, slot: usize, offset: usize, out: &mut [u8]) {
        let end = offset.saturating_add(out.len()).min(BUFFER);
        let n = end.saturating_sub(offset);
        self.buffers.read_bytes(slot * BUFFER + offset, &mut out[..n]);
    }

    /// Gives the oldest completed slot back to the device; returns the new tail
    /// (the recycled slot) for the device's tail register.
    pub fn recycle(&mut self) -> u32 {
        let slot = self.next;
        self.post(slot);
        self.next = (slot + 1) % SLOTS;
        slot as u32
    }
}

/// `SLOTS` transmit descriptors.
pub struct TransmitRing<B, const SLOTS: usize> {
    descriptors: B,
    /// The next slot software fills (the value written to the tail register).
    tail: usize,
    /// The first slot of the oldest frame not yet seen done.
    clean: usize,
    /// For the first slot of each queued frame: its last slot and its length.
    frames: Vec<(usize, usize)>,
}

impl<B: DmaBuffer, const SLOTS: usize> TransmitRing<B, SLOTS> {
    /// Allocates an empty ring.
    pub fn new<D: DmaAllocator<Buffer = B>>(dma: &mut D) -> Result<Self, NetError> {
        let descriptors = dma.allocate(SLOTS * DESCRIPTOR_BYTES)?;
        Ok(Self { descriptors, tail: 0, clean: 0, frames: vec![(0, 0); SLOTS] })
    }

    /// Physical address of descriptor 0.
    pub fn physical(&self) -> u64 {
        self.descriptors.physical()
    }

    /// Ring length in bytes, for the device's ring-length register.
    pub fn bytes(&self) -> u32 {
        (SLOTS * DESCRIPTOR_BYTES) as u32
    }

    /// Slots free for new descriptors.
    pub fn free(&self) -> usize {
        SLOTS - 1 - (self.tail + SLOTS - self.clean) % SLOTS
    }

    /// Whether every queued frame is done.
    pub fn is_idle(&self) -> bool {
        self.tail == self.clean
    }

    /// Writes one descriptor per segment with `write(descriptors, offset, index,
    /// segment, last)`; returns the frame's last slot and the new tail.
    /// [`NetError::Busy`] (nothing written) if the ring lacks room.
    pub fn queue(
        &mut self,
        segments: &[Segment],
        len: usize,
        mut write: impl FnMut(&B, usize, usize, &Segment, bool),
    ) -> Result<(usize, u32), NetError> {
        if segments.is_empty() {
            return Err(NetError::BadSegments);
        }
        if self.free() < segments.len() {
            return Err(NetError::Busy);
        }
        let first = self.tail;
        let mut last = first;
        for (index, segment) in segments.iter().enumerate() {
            let end = index + 1 == segments.len();
            write(&self.descriptors, self.tail * DESCRIPTOR_BYTES, index, segment, end);
            last = self.tail;
            self.tail = (self.tail + 1) % SLOTS;
        }
        self.frames[first] = (last, len);
        Ok((last, self.tail as u32))
    }

    /// What `status(descriptors, offset)` says of `slot`'s descriptor: `Some` once
    /// the device wrote it back done.
    pub fn written_back<S>(
        &self,
        slot: usize,
        status: impl Fn(&B, usize) -> Option<S>,
    ) -> Option<S> {
        status(&self.descriptors, slot * DESCRIPTOR_BYTES)
    }

    /// Frees every frame the device finished, oldest first, and gives `done` each
    /// one's length and its last descriptor's status (`status` as for
    /// [`Self::written_back`]).
    pub fn reclaim<S>(
        &mut self,
        status: impl Fn(&B, usize) -> Option<S>,
        mut done: impl FnMut(usize, S),
    ) {
        while self.clean != self.tail {
            let (last, len) = self.frames[self.clean];
            let Some(written) = status(&self.descriptors, last * DESCRIPTOR_BYTES) else { break };
            done(len, written);
            self.clean = (last + 1) % SLOTS;
        }
    }
}

/// One received descriptor, as far as the shared receive decision needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// Its slot.
    pub slot: usize,
    /// Bytes the device wrote into the slot's buffer.
    pub len: usize,
    /// Whether the frame ends in this descriptor.
    pub end: bool,
    /// Whether the device reported a frame error (CRC, symbol, length).
    pub error: bool,
}

/// Whether a receive loop is inside a frame longer than one buffer, being dropped.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Discarding(pub bool);

/// Decides what becomes of one received descriptor and counts it: `Some(bytes the
/// sink took)` for a frame the sink accepted, `None` when it was dropped (part of a
/// frame longer than one buffer, counted once; a device error; a length under
/// the Ethernet header or over `longest`; a sink that refused it). The caller
/// recycles the slot either way, after this returns.
pub fn deliver(
    received: Received,
    longest: usize,
    discarding: &mut Discarding,
    counters: &mut NetCounters,
    sink: &mut dyn FrameSink,
    read: &dyn Fn(usize, usize, &mut [u8]),
) -> Option<usize> {
    if discarding.0 || !received.end {
        if !discarding.0 {
            counters.rx_dropped += 1;
        }
        discarding.0 = !received.end;
        return None;
    }
    if received.error {
        counters.rx_errors += 1;
        return None;
    }
    if received.len > longest || received.len < ETHERNET_HEADER {
        counters.rx_dropped += 1;
        return None;
    }
    match sink.accept(received.len, &mut |offset, out| read(received.slot, offset, out)) {
        Some(bytes) => {
            counters.rx_frames += 1;
            counters.rx_bytes += received.len as u64;
            Some(bytes)
        }
        None => {
            counters.rx_dropped += 1;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SliceSink;

    fn received(slot: usize, len: usize, end: bool, error: bool) -> Received {
        Received { slot, len, end, error }
    }

    /// Runs `deliver` over slots whose buffer byte `i` is `slot * 16 + i`.
    fn run(
        descriptors: &[Received],
        sink_bytes: usize,
    ) -> (alloc::vec::Vec<Option<usize>>, NetCounters, [u8; 64]) {
        let mut counters = NetCounters::default();
        let mut discarding = Discarding::default();
        let mut out = [0u8; 64];
        let read = |slot: usize, offset: usize, out: &mut [u8]| {
            for (i, byte) in out.iter_mut().enumerate() {
                *byte = (slot * 16 + offset + i) as u8;
            }
        };
        let mut results = alloc::vec::Vec::new();
        for &one in descriptors {
            let mut sink = SliceSink { buffer: &mut out[..sink_bytes] };
            results.push(deliver(one, 60, &mut discarding, &mut counters, &mut sink, &read));
        }
        (results, counters, out)
    }

    #[test]
    fn a_good_frame_reaches_the_sink_from_its_own_slot() {
        let (results, counters, out) = run(&[received(3, 20, true, false)], 64);
        assert_eq!(results, [Some(20)]);
        assert_eq!((counters.rx_frames, counters.rx_bytes, counters.rx_dropped), (1, 20, 0));
        assert_eq!(&out[..4], &[48, 49, 50, 51]);
    }

    #[test]
    fn a_frame_over_several_buffers_is_dropped_whole_and_counted_once() {
        let frames = [
            received(0, 60, false, false),
            received(1, 60, false, false),
            received(2, 10, true, false),
            received(3, 20, true, false),
        ];
        let (results, counters, _) = run(&frames, 64);
        assert_eq!(results, [None, None, None, Some(20)]);
        assert_eq!((counters.rx_dropped, counters.rx_frames), (1, 1));
    }

    #[test]
    fn errors_lengths_and_refusals_are_counted_apart() {
        let frames = [
            received(0, 20, true, true),
            received(1, 13, true, false),
            received(2, 61, true, false),
            received(3, 40, true, false),
        ];
        let (results, counters, _) = run(&frames, 30);
        assert_eq!(results, [None, None, None, None]);
        assert_eq!((counters.rx_errors, counters.rx_dropped, counters.rx_frames), (1, 3, 0));
    }
}
