//! The network-device interface: what every NIC driver (virtio-net, e1000, e1000e,
//! ixgbe, r8169, rtl8139) offers the kernel, whatever the controller.
//!
//! Frames are whole Ethernet frames without the FCS (the device adds and strips it).
//! Frames move between the device and memory by DMA, described by physical
//! [`Segment`]s, so the kernel can hand a driver the physical pieces of a program's
//! buffer and the data is never copied on transmit; on receive the driver shows the
//! frame still in its receive buffer to a [`FrameSink`], which makes the one copy into
//! wherever the frame goes. [`check_frame`] is the one place that refuses a frame
//! that is too short or too long for the interface before a driver touches the device.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod rings;

use core::fmt;

use ingot_hal::{DmaError, TimedOut};

/// Bytes of the Ethernet header (destination, source, EtherType).
pub const ETHERNET_HEADER: usize = 14;
/// The standard Ethernet MTU (payload bytes).
pub const STANDARD_MTU: usize = 1500;
/// Most physical pieces one frame may be split into on transmit.
pub const MAX_SEGMENTS: usize = 4;

/// A station address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MacAddress(pub [u8; 6]);

impl MacAddress {
    /// Whether the address is usable as a station address (not zero, not multicast).
    pub fn is_valid_station(&self) -> bool {
        self.0 != [0; 6] && self.0[0] & 1 == 0
    }
}

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// One physically contiguous piece of a frame in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Physical (bus) address of the first byte.
    pub physical: u64,
    /// Length in bytes (not zero).
    pub len: usize,
}

/// Traffic counters of one interface, since it was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NetCounters {
    /// Frames received and handed on.
    pub rx_frames: u64,
    /// Bytes of those frames.
    pub rx_bytes: u64,
    /// Frames transmitted.
    pub tx_frames: u64,
    /// Bytes of those frames.
    pub tx_bytes: u64,
    /// Received frames dropped (too long, no room, or refused by the sink).
    pub rx_dropped: u64,
    /// Received frames the device flagged with an error.
    pub rx_errors: u64,
    /// Frames the device failed to send.
    pub tx_errors: u64,
}

/// Why a network request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetError {
    /// Nothing received yet (receive only).
    WouldBlock,
    /// The transmit ring is full; nothing was queued. Try again later.
    Busy,
    /// Shorter than an Ethernet header.
    TooShort,
    /// Longer than the interface's MTU plus the Ethernet header.
    TooLong,
    /// More pieces than the driver takes in one frame, or an empty piece.
    BadSegments,
    /// The device reported an error (status attached).
    Device(u32),
    /// The device did not answer in time; it is now marked failed.
    Timeout,
    /// The device failed earlier and is out of service.
    Failed,
    /// No memory for the device's rings and buffers.
    NoMemory,
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WouldBlock => f.write_str("no frame received"),
            Self::Busy => f.write_str("transmit ring full"),
            Self::TooShort => f.write_str("frame shorter than an Ethernet header"),
            Self::TooLong => f.write_str("frame longer than the MTU allows"),
            Self::BadSegments => f.write_str("frame split into too many or empty pieces"),
            Self::Device(code) => write!(f, "device error {code:#x}"),
            Self::Timeout => f.write_str("device timed out"),
            Self::Failed => f.write_str("device failed earlier"),
            Self::NoMemory => f.write_str("out of DMA memory"),
        }
    }
}

impl From<TimedOut> for NetError {
    fn from(_: TimedOut) -> Self {
        Self::Timeout
    }
}

impl From<DmaError> for NetError {
    fn from(_: DmaError) -> Self {
        Self::NoMemory
    }
}

/// Where a received frame goes. The driver calls [`Self::accept`] with the frame's
/// bytes still in its receive buffer (`read` copies `out.len()` bytes from `offset`
/// of the frame); the sink copies what it keeps and returns how many bytes it took,
/// or `None` to refuse the frame (then it is counted as dropped).
pub trait FrameSink {
    /// Takes one frame of `len` bytes.
    fn accept(&mut self, len: usize, read: &mut dyn FnMut(usize, &mut [u8])) -> Option<usize>;
}

/// A sink that copies a frame into a byte slice; refuses frames longer than it.
pub struct SliceSink<'a> {
    /// Where the frame goes.
    pub buffer: &'a mut [u8],
}

impl FrameSink for SliceSink<'_> {
    fn accept(&mut self, len: usize, read: &mut dyn FnMut(usize, &mut [u8])) -> Option<usize> {
        let out = self.buffer.get_mut(..len)?;
        read(0, out);
        Some(len)
    }
}

/// A NIC. Implementations call [`check_frame`] first in `transmit`.
pub trait NetDevice {
    /// Short driver name for boot lines (`virtio-net`, `e1000`, `e1000e`, `ixgbe`,
    /// `r8169`, `rtl8139`).
    fn driver(&self) -> &'static str;
    /// The station address.
    fn mac(&self) -> MacAddress;
    /// Payload bytes per frame (the Ethernet header comes on top).
    fn mtu(&self) -> usize;
    /// Whether the link is up now (read from the device).
    fn link_up(&mut self) -> bool;
    /// Queues one frame made of `segments` for sending. The pieces must stay
    /// unchanged until the device has read them: the driver returns only after the
    /// device reports the frame sent (or fails it), so the caller may reuse the memory
    /// as soon as this returns. A full ring is [`NetError::Busy`], never an overwrite.
    fn transmit(&mut self, segments: &[Segment]) -> Result<(), NetError>;
    /// Sends several frames, each described by its segments, with the same promise as
    /// [`Self::transmit`]; returns how many were sent, in order (fewer than
    /// `frames.len()` when the ring filled up; [`NetError::Busy`] if none fit). A
    /// bad frame refuses the batch before anything is queued. The default sends one
    /// frame at a time; drivers that can queue several and wait once override it.
    fn transmit_batch(&mut self, frames: &[&[Segment]]) -> Result<usize, NetError> {
        for frame in frames {
            check_frame(self.mtu(), frame)?;
        }
        for (sent, frame) in frames.iter().enumerate() {
            if let Err(error) = self.transmit(frame) {
                return if sent == 0 { Err(error) } else { Ok(sent) };
            }
        }
        Ok(frames.len())
    }
    /// Hands the oldest received frame to `sink` and recycles its buffer; returns the
    /// bytes the sink took, or [`NetError::WouldBlock`] when nothing has arrived.
    fn receive(&mut self, sink: &mut dyn FrameSink) -> Result<usize, NetError>;
    /// Traffic counters.
    fn counters(&self) -> NetCounters;
}

/// Checks a frame of `len` bytes in `segments` pieces against an interface of `mtu`.
pub fn check_frame(mtu: usize, segments: &[Segment]) -> Result<usize, NetError> {
    if segments.is_empty() || segments.len() > MAX_SEGMENTS || segments.iter().any(|s| s.len == 0) {
        return Err(NetError::BadSegments);
    }
    let len = segments.iter().map(|s| s.len).fold(0usize, usize::saturating_add);
    if len < ETHERNET_HEADER {
        return Err(NetError::TooShort);
    }
    if len > mtu.saturating_add(ETHERNET_HEADER) {
        return Err(NetError::TooLong);
    }
    Ok(len)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::format;

    use super::*;

    fn one(len: usize) -> [Segment; 1] {
        [Segment { physical: 0x1000, len }]
    }

    #[test]
    fn frame_lengths_are_checked() {
        assert_eq!(check_frame(1500, &one(13)), Err(NetError::TooShort));
        assert_eq!(check_frame(1500, &one(14)), Ok(14));
        assert_eq!(check_frame(1500, &one(1514)), Ok(1514));
        assert_eq!(check_frame(1500, &one(1515)), Err(NetError::TooLong));
        assert_eq!(check_frame(1500, &[]), Err(NetError::BadSegments));
        assert_eq!(check_frame(1500, &one(0)), Err(NetError::BadSegments));
        let split = [Segment { physical: 0x1000, len: 10 }, Segment { physical: 0x9000, len: 50 }];
        assert_eq!(check_frame(1500, &split), Ok(60));
        assert_eq!(check_frame(1500, &[split[0]; MAX_SEGMENTS + 1]), Err(NetError::BadSegments));
    }

    #[test]
    fn mac_formats_and_validates() {
        let mac = MacAddress([0x52, 0x54, 0, 0x12, 0x34, 0x56]);
        assert_eq!(format!("{mac}"), "52:54:00:12:34:56");
        assert!(mac.is_valid_station());
        assert!(!MacAddress([0; 6]).is_valid_station());
        assert!(!MacAddress([1, 0, 0x5e, 0, 0, 1]).is_valid_station());
    }
}
