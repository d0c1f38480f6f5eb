//! The 82599's advanced descriptor rings (datasheet §7.1.6 receive, §7.2.3.2.4
//! transmit data descriptors), 16 bytes each, and the software side of both.
//!
//! Receive: the driver writes the read format (packet buffer address, header
//! address 0); the device overwrites the descriptor with the write-back format
//! (status/error dword at byte 8, length at byte 12). Transmit: one data
//! descriptor per caller segment, the frame's length in PAYLEN of its first
//! descriptor, RS on its last one only; the device writes DD into the status
//! field of that last descriptor, which frees the whole frame. The ring
//! bookkeeping is `ingot_net::rings` (shared with the 8254x legacy rings); this
//! module is the advanced format's bytes.

use ingot_hal::DmaBuffer;
use ingot_net::rings::{ReceiveRing, TransmitRing};
use ingot_net::{NetError, Segment};

pub use ingot_net::rings::DESCRIPTOR_BYTES;
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
pub type RxRing<B> = ReceiveRing<B, RX_SLOTS, RX_BUFFER_BYTES>;

/// The transmit ring.
pub type TxRing<B> = TransmitRing<B, TX_SLOTS>;

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

/// `Some` once the device wrote DD into the descriptor at `at`.
fn written_back<B: DmaBuffer>(descriptors: &B, at: usize) -> Option<()> {
    (descriptors.read_u32(at + 12) & TX_DD != 0).then_some(())
}

/// The next slot the device has finished in `rx`, if any (write-back format: status and errors at byte 8, length at byte 12).
pub fn completed<B: DmaBuffer>(rx: &RxRing<B>) -> Option<RxCompletion> {
    let (slot, descriptors, at) = rx.next_descriptor();
    let status = descriptors.read_u32(at + 8);
    if status & RX_DD == 0 {
        return None;
    }
    let len = usize::from(descriptors.read_u16(at + 12));
    Some(RxCompletion { slot, len, status })
}

/// Writes one descriptor per segment of a frame of `len` bytes; returns the
/// frame's last slot and the new tail for TDT. [`NetError::Busy`] (nothing
/// written) if the ring lacks room.
pub fn queue<B: DmaBuffer>(
    tx: &mut TxRing<B>,
    segments: &[Segment],
    len: usize,
) -> Result<(usize, u32), NetError> {
    tx.queue(segments, len, |descriptors, at, index, segment, end| {
        let command = TX_DTYP_DATA | TX_DEXT | TX_IFCS | if end { TX_EOP | TX_RS } else { 0 };
        let payload = if index == 0 { (len as u32) << TX_PAYLEN_SHIFT } else { 0 };
        descriptors.write_u64(at, segment.physical);
        descriptors.write_u32(at + 8, segment.len as u32 | command);
        descriptors.write_u32(at + 12, payload);
    })
}

/// Whether the device wrote DD into `slot`.
pub fn done<B: DmaBuffer>(tx: &TxRing<B>, slot: usize) -> bool {
    tx.written_back(slot, written_back).is_some()
}

/// Frees every frame the device finished, oldest first; gives `done` each one's bytes.
pub fn reclaim<B: DmaBuffer>(tx: &mut TxRing<B>, mut done: impl FnMut(usize)) {
    tx.reclaim(written_back, |len, ()| done(len));
}
