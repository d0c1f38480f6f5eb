//! The 82599's advanced descriptor rings (datasheet §7.1.6 receive, §7.2.3.2.4
//! transmit data descriptors), 16 bytes each, and the software side of both.
//!
//! Receive: the driver writes the read format (packet buffer address, header
//! address 0); the device overwrites the descriptor with the write-back format
//! (status/error dword at byte 8, length at byte 12). Transmit: one data
//! descriptor per caller segment, the frame's length in PAYLEN of its first
//! descriptor, RS on its last one only; the device writes DD into the status
//! field of that last descriptor, which frees the whole frame. One slot is always
//! left empty so a full ring is never mistaken for an empty one.

use alloc::vec;
use alloc::vec::Vec;

use ingot_hal::{DmaAllocator, DmaBuffer};
use ingot_net::{NetError, Segment};

/// Bytes per descriptor.
pub const DESCRIPTOR_BYTES: usize = 16;
/// Receive descriptors (the ring length must be a multiple of 128 bytes).
pub const RX_SLOTS: usize = 128;
/// Transmit descriptors.
pub const TX_SLOTS: usize = 128;
/// Bytes per receive buffer (SRRCTL.BSIZEPACKET = 2 KiB).
pub const RX_BUFFER_BYTES: usize = 2048;

/// Receive write-back status (dword 2, bits 19:0).
pub const RX_DD: u32 = 1 << 0;
/// End of packet.
pub const RX_EOP: u32 = 1 << 1;
/// Receive write-back extended error RXE (dword 2, bit 29): CRC, length or
/// symbol error of the frame. The checksum-offload errors (IPE, L4E) are not
/// errors of the frame and are ignored.
pub const RX_ERROR_RXE: u32 = 1 << 29;

/// Transmit data descriptor type (DTYP = 0011, bits 23:20 of dword 2).
const TX_DTYP_DATA: u32 = 0b0011 << 20;
/// Transmit command bits (DCMD, bits 31:24 of dword 2).
const TX_EOP: u32 = 1 << 24;
const TX_IFCS: u32 = 1 << 25;
const TX_RS: u32 = 1 << 27;
const TX_DEXT: u32 = 1 << 29;
/// PAYLEN shift in dword 3.
const TX_PAYLEN_SHIFT: u32 = 14;
/// Transmit write-back: Descriptor Done (dword 3, bit 0).
pub const TX_DD: u32 = 1 << 0;

/// The receive ring: descriptors and the buffers they point at.
pub struct RxRing<B> {
    descriptors: B,
    buffers: B,
    next: usize,
}

/// What the device wrote back into one receive descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RxCompletion {
    /// Slot index.
    pub slot: usize,
    /// Bytes of the frame in this slot's buffer.
    pub len: usize,
    /// Status and extended error dword.
    pub status: u32,
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

    /// Writes `slot`'s read-format descriptor (which also clears DD).
    fn post(&self, slot: usize) {
        let at = slot * DESCRIPTOR_BYTES;
        let buffer = self.buffers.physical() + (slot * RX_BUFFER_BYTES) as u64;
        self.descriptors.write_u64(at, buffer);
        self.descriptors.write_u64(at + 8, 0);
    }

    /// The next slot the device has finished, if any.
    pub fn completed(&self) -> Option<RxCompletion> {
        let at = self.next * DESCRIPTOR_BYTES;
        let status = self.descriptors.read_u32(at + 8);
        if status & RX_DD == 0 {
            return None;
        }
        let len = usize::from(self.descriptors.read_u16(at + 12));
        Some(RxCompletion { slot: self.next, len, status })
    }

    /// Copies `out.len()` bytes from `offset` of `slot`'s buffer.
    pub fn read(&self, slot: usize, offset: usize, out: &mut [u8]) {
        let end = offset.saturating_add(out.len()).min(RX_BUFFER_BYTES);
        let n = end.saturating_sub(offset);
        self.buffers.read_bytes(slot * RX_BUFFER_BYTES + offset, &mut out[..n]);
    }

    /// Gives the oldest completed slot back; returns the new tail for RDT.
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
    tail: usize,
    clean: usize,
    /// For the first slot of each queued frame: its last slot and its length.
    frames: Vec<(usize, usize)>,
}

impl<B: DmaBuffer> TxRing<B> {
    /// Allocates an empty ring.
    pub fn new<D: DmaAllocator<Buffer = B>>(dma: &mut D) -> Result<Self, NetError> {
        let descriptors = dma.allocate(TX_SLOTS * DESCRIPTOR_BYTES)?;
        Ok(Self { descriptors, tail: 0, clean: 0, frames: vec![(0, 0); TX_SLOTS] })
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

    /// Writes one data descriptor per segment; returns the frame's last slot and
    /// the new tail for TDT. [`NetError::Busy`] (nothing written) without room.
    pub fn queue(&mut self, segments: &[Segment], len: usize) -> Result<(usize, u32), NetError> {
        if self.free() < segments.len() {
            return Err(NetError::Busy);
        }
        let first = self.tail;
        let mut last = first;
        for (i, segment) in segments.iter().enumerate() {
            let at = self.tail * DESCRIPTOR_BYTES;
            let end = i + 1 == segments.len();
            let command = TX_DTYP_DATA | TX_DEXT | TX_IFCS | if end { TX_EOP | TX_RS } else { 0 };
            let payload = if i == 0 { (len as u32) << TX_PAYLEN_SHIFT } else { 0 };
            self.descriptors.write_u64(at, segment.physical);
            self.descriptors.write_u32(at + 8, segment.len as u32 | command);
            self.descriptors.write_u32(at + 12, payload);
            last = self.tail;
            self.tail = (self.tail + 1) % TX_SLOTS;
        }
        self.frames[first] = (last, len);
        Ok((last, self.tail as u32))
    }

    /// Whether the device wrote DD into `slot`.
    pub fn done(&self, slot: usize) -> bool {
        self.descriptors.read_u32(slot * DESCRIPTOR_BYTES + 12) & TX_DD != 0
    }

    /// Frees every frame the device finished, oldest first; returns the bytes of
    /// each to `done`.
    pub fn reclaim(&mut self, mut done: impl FnMut(usize)) {
        while self.clean != self.tail {
            let (last, len) = self.frames[self.clean];
            if !self.done(last) {
                break;
            }
            done(len);
            self.clean = (last + 1) % TX_SLOTS;
        }
    }
}
