//! The legacy descriptor rings of the 8254x (and of the 8257x, which keeps them):
//! 16-byte receive and transmit descriptors in DMA memory, one receive buffer of
//! [`RX_BUFFER_BYTES`] per receive slot, and the software side of both rings.
//!
//! Transmit descriptors point straight at the caller's physical segments (one
//! descriptor per segment, so nothing is copied) and every descriptor asks for
//! status write-back (RS), so a slot is free again once its DD bit is set. The
//! ring keeps one slot empty so a full ring (tail one behind head) is never
//! mistaken for an empty one.

use alloc::vec;
use alloc::vec::Vec;

use ingot_hal::{DmaAllocator, DmaBuffer};
use ingot_net::{NetError, Segment};

/// Bytes per legacy descriptor.
pub const DESCRIPTOR_BYTES: usize = 16;
/// Receive descriptors (the ring length must be a multiple of 128 bytes).
pub const RX_SLOTS: usize = 128;
/// Transmit descriptors.
pub const TX_SLOTS: usize = 128;
/// Bytes per receive buffer (RCTL.BSIZE = 2048).
pub const RX_BUFFER_BYTES: usize = 2048;

/// Transmit descriptor command bits (byte 11).
pub mod tx_cmd {
    /// End of Packet: the last descriptor of a frame.
    pub const EOP: u8 = 1 << 0;
    /// Insert FCS: the MAC appends the Ethernet CRC.
    pub const IFCS: u8 = 1 << 1;
    /// Report Status: write DD back when done.
    pub const RS: u8 = 1 << 3;
}

/// Transmit descriptor status bits (byte 12).
pub mod tx_status {
    /// Descriptor Done.
    pub const DD: u8 = 1 << 0;
    /// Excess Collisions: the frame was not sent.
    pub const EC: u8 = 1 << 1;
    /// Late Collision: the frame was not sent.
    pub const LC: u8 = 1 << 2;
}

/// Receive descriptor status bits (byte 12).
pub mod rx_status {
    /// Descriptor Done.
    pub const DD: u8 = 1 << 0;
    /// End of Packet: the last descriptor of a frame.
    pub const EOP: u8 = 1 << 1;
}

/// Receive descriptor error bits (byte 13): CRC/alignment (CE), symbol (SE),
/// sequence (SEQ), carrier extension (CXE), RX data (RXE). The checksum-offload
/// bits (TCPE, IPE) are not errors of the frame itself and are ignored.
pub const RX_FRAME_ERRORS: u8 = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 4) | (1 << 7);

/// The receive ring: descriptors and the buffers they point at.
pub struct RxRing<B> {
    descriptors: B,
    buffers: B,
    /// The next slot the device fills.
    next: usize,
}

/// What the device wrote back into one receive descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxCompletion {
    /// Slot index.
    pub slot: usize,
    /// Bytes of the frame in this slot's buffer.
    pub len: usize,
    /// Status byte.
    pub status: u8,
    /// Error byte.
    pub errors: u8,
}

impl<B: DmaBuffer> RxRing<B> {
    /// Allocates the ring and its buffers and posts every buffer.
    pub fn new<D: DmaAllocator<Buffer = B>>(dma: &mut D) -> Result<Self, NetError> {
        let descriptors = dma.allocate(RX_SLOTS * DESCRIPTOR_BYTES)?;
        let buffers = dma.allocate(RX_SLOTS * RX_BUFFER_BYTES)?;
        let ring = Self { descriptors, buffers, next: 0 };
        for slot in 0..RX_SLOTS {
            ring.post(slot);
        }
        Ok(ring)
    }

    /// Physical address of descriptor 0.
    pub fn physical(&self) -> u64 {
        self.descriptors.physical()
    }

    /// Ring length in bytes, for RDLEN.
    pub fn bytes(&self) -> u32 {
        (RX_SLOTS * DESCRIPTOR_BYTES) as u32
    }

    /// The tail value that hands every slot but one to the device.
    pub fn initial_tail(&self) -> u32 {
        (RX_SLOTS - 1) as u32
    }

    /// (Re)writes `slot`'s descriptor: buffer address, status cleared.
    fn post(&self, slot: usize) {
        let at = slot * DESCRIPTOR_BYTES;
        let buffer = self.buffers.physical() + (slot * RX_BUFFER_BYTES) as u64;
        self.descriptors.write_u64(at, buffer);
        self.descriptors.write_u64(at + 8, 0);
    }

    /// The next slot the device has finished, if any.
    pub fn completed(&self) -> Option<RxCompletion> {
        let at = self.next * DESCRIPTOR_BYTES;
        let status = self.descriptors.read_u8(at + 12);
        if status & rx_status::DD == 0 {
            return None;
        }
        Some(RxCompletion {
            slot: self.next,
            len: usize::from(self.descriptors.read_u16(at + 8)),
            status,
            errors: self.descriptors.read_u8(at + 13),
        })
    }

    /// Copies `out.len()` bytes from `offset` of `slot`'s buffer.
    pub fn read(&self, slot: usize, offset: usize, out: &mut [u8]) {
        let end = offset.saturating_add(out.len()).min(RX_BUFFER_BYTES);
        let n = end.saturating_sub(offset);
        self.buffers.read_bytes(slot * RX_BUFFER_BYTES + offset, &mut out[..n]);
    }

    /// Gives the oldest completed slot back to the device; returns the new tail
    /// (the recycled slot) to write to RDT.
    pub fn recycle(&mut self) -> u32 {
        let slot = self.next;
        self.post(slot);
        self.next = (slot + 1) % RX_SLOTS;
        slot as u32
    }
}

/// The transmit ring.
pub struct TxRing<B> {
    descriptors: B,
    /// The next slot software fills (the value written to TDT).
    tail: usize,
    /// The oldest slot not yet seen done.
    clean: usize,
    /// Frame length recorded at each frame's last slot (0 elsewhere).
    frame_bytes: Vec<usize>,
}

/// A frame the device finished with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxDone {
    /// Its length.
    pub len: usize,
    /// The status byte of its last descriptor (collision errors included).
    pub status: u8,
}

impl<B: DmaBuffer> TxRing<B> {
    /// Allocates an empty ring.
    pub fn new<D: DmaAllocator<Buffer = B>>(dma: &mut D) -> Result<Self, NetError> {
        let descriptors = dma.allocate(TX_SLOTS * DESCRIPTOR_BYTES)?;
        Ok(Self { descriptors, tail: 0, clean: 0, frame_bytes: vec![0; TX_SLOTS] })
    }

    /// Physical address of descriptor 0.
    pub fn physical(&self) -> u64 {
        self.descriptors.physical()
    }

    /// Ring length in bytes, for TDLEN.
    pub fn bytes(&self) -> u32 {
        (TX_SLOTS * DESCRIPTOR_BYTES) as u32
    }

    /// Slots free for new descriptors.
    pub fn free(&self) -> usize {
        TX_SLOTS - 1 - (self.tail + TX_SLOTS - self.clean) % TX_SLOTS
    }

    /// Whether every queued frame is done.
    pub fn is_idle(&self) -> bool {
        self.tail == self.clean
    }

    /// Writes one descriptor per segment; returns the frame's last slot and the new
    /// tail for TDT. [`NetError::Busy`] (nothing written) if the ring lacks room.
    pub fn queue(&mut self, segments: &[Segment], len: usize) -> Result<(usize, u32), NetError> {
        if self.free() < segments.len() {
            return Err(NetError::Busy);
        }
        let mut last = self.tail;
        for (i, segment) in segments.iter().enumerate() {
            let at = self.tail * DESCRIPTOR_BYTES;
            let end = i + 1 == segments.len();
            let cmd = tx_cmd::IFCS | tx_cmd::RS | if end { tx_cmd::EOP } else { 0 };
            self.descriptors.write_u64(at, segment.physical);
            // Length, CSO 0, CMD, then STA/CSS/special cleared.
            self.descriptors.write_u32(at + 8, segment.len as u32 | (u32::from(cmd) << 24));
            self.descriptors.write_u32(at + 12, 0);
            self.frame_bytes[self.tail] = if end { len } else { 0 };
            last = self.tail;
            self.tail = (self.tail + 1) % TX_SLOTS;
        }
        Ok((last, self.tail as u32))
    }

    /// Status byte of `slot`.
    pub fn status(&self, slot: usize) -> u8 {
        self.descriptors.read_u8(slot * DESCRIPTOR_BYTES + 12)
    }

    /// Frees every slot the device has finished, oldest first, and calls `done`
    /// for each frame that ends in one of them.
    pub fn reclaim(&mut self, mut done: impl FnMut(TxDone)) {
        while self.clean != self.tail {
            let status = self.status(self.clean);
            if status & tx_status::DD == 0 {
                break;
            }
            let len = self.frame_bytes[self.clean];
            if len != 0 {
                done(TxDone { len, status });
            }
            self.clean = (self.clean + 1) % TX_SLOTS;
        }
    }
}
