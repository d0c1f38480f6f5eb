//! The legacy descriptor rings of the 8254x (and of the 8257x, which keeps them):
//! 16-byte receive and transmit descriptors in DMA memory, one receive buffer of
//! [`RX_BUFFER_BYTES`] per receive slot, and the software side of both rings.
//!
//! Transmit descriptors point straight at the caller's physical segments (one
//! descriptor per segment, so nothing is copied) and every descriptor asks for
//! status write-back (RS); a frame is done once its last descriptor's DD bit is
//! set. The ring bookkeeping is `ingot_net::rings` (shared with the 82599's
//! advanced rings); this module is the legacy format's bytes.

use ingot_hal::DmaBuffer;
use ingot_net::rings::{ReceiveRing, TransmitRing};
use ingot_net::{NetError, Segment};

pub use ingot_net::rings::DESCRIPTOR_BYTES;
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
    /// Status byte.
    pub status: u8,
    /// Error byte.
    pub errors: u8,
}

/// A frame the device finished with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxDone {
    /// Its length.
    pub len: usize,
    /// The status byte of its last descriptor (collision errors included).
    pub status: u8,
}

/// The status byte of the descriptor at `at`, once DD is set in it.
fn written_back<B: DmaBuffer>(descriptors: &B, at: usize) -> Option<u8> {
    let status = descriptors.read_u8(at + 12);
    (status & tx_status::DD != 0).then_some(status)
}

/// The next slot the device has finished in `rx`, if any (status at byte 12, errors at byte 13, length at byte 8).
pub fn completed<B: DmaBuffer>(rx: &RxRing<B>) -> Option<RxCompletion> {
    let (slot, descriptors, at) = rx.next_descriptor();
    let status = descriptors.read_u8(at + 12);
    if status & rx_status::DD == 0 {
        return None;
    }
    Some(RxCompletion {
        slot,
        len: usize::from(descriptors.read_u16(at + 8)),
        status,
        errors: descriptors.read_u8(at + 13),
    })
}

/// Writes one descriptor per segment of a frame of `len` bytes; returns the
/// frame's last slot and the new tail for TDT. [`NetError::Busy`] (nothing
/// written) if the ring lacks room.
pub fn queue<B: DmaBuffer>(
    tx: &mut TxRing<B>,
    segments: &[Segment],
    len: usize,
) -> Result<(usize, u32), NetError> {
    tx.queue(segments, len, |descriptors, at, _, segment, end| {
        let cmd = tx_cmd::IFCS | tx_cmd::RS | if end { tx_cmd::EOP } else { 0 };
        descriptors.write_u64(at, segment.physical);
        // Length, CSO 0, CMD, then STA/CSS/special cleared.
        descriptors.write_u32(at + 8, segment.len as u32 | (u32::from(cmd) << 24));
        descriptors.write_u32(at + 12, 0);
    })
}

/// The status byte of `slot` once the device wrote DD into it.
pub fn done<B: DmaBuffer>(tx: &TxRing<B>, slot: usize) -> Option<u8> {
    tx.written_back(slot, written_back)
}

/// Frees every frame the device finished, oldest first, and calls `done` for each.
pub fn reclaim<B: DmaBuffer>(tx: &mut TxRing<B>, mut done: impl FnMut(TxDone)) {
    tx.reclaim(written_back, |len, status| done(TxDone { len, status }));
}
