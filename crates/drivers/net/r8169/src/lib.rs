//! Driver for the Realtek RTL8169/8110, RTL8168/8111 and RTL810x family in C+
//! (descriptor) mode, written from the RTL8169 datasheet. Tested against the model in
//! `ingot-device-models` only, never on real hardware (QEMU has no such device).
//!
//! [`start`] resets the MAC (ChipCmd.RST), reads the station address from IDR0-5
//! (the chip loads it from its EEPROM), and sets up one transmit ring (normal
//! priority, TNPDS) and one receive ring (RDSAR) of 16-byte descriptors. Transmit is
//! zero-copy: each of the caller's physical segments gets a descriptor (FS on the first,
//! LS on the last); OWN is given to the MAC on the first descriptor last, so the MAC
//! never sees half a frame, and TPPoll.NPQ starts it. The MAC clears OWN once a
//! descriptor's data is sent. Receive buffers of [`RX_BUFFER_BYTES`] are posted in
//! the ring; a frame is shown to the sink in place and its descriptor is handed back at
//! once. Link state is PHYstatus.LinkSts. Everything is polled: interrupts stay masked.
#![no_std]
#![forbid(unsafe_code)]

mod ids;

pub use ids::{PCI_IDS, Variant, matches};
use ingot_hal::{Clock, Deadline, DmaAllocator, DmaBuffer, Mmio};
use ingot_net::{
    ETHERNET_HEADER, FrameSink, MacAddress, NetCounters, NetDevice, NetError, STANDARD_MTU,
    Segment, check_frame,
};

/// Transmit descriptors (one per segment, so at least four frames' worth).
pub const TX_DESCRIPTORS: usize = 16;
/// Receive descriptors, each with its own buffer.
pub const RX_DESCRIPTORS: usize = 16;
/// Bytes per receive buffer (a standard frame with FCS fits in one).
pub const RX_BUFFER_BYTES: usize = 2048;
/// How long a reset may take.
pub const RESET_TIMEOUT_MS: u64 = 100;
/// How long the MAC may take to send the frames queued.
pub const TRANSMIT_TIMEOUT_MS: u64 = 100;

/// Register offsets and bits (datasheet chapter 6).
mod reg {
    pub const IDR0: usize = 0x00;
    pub const MAR0: usize = 0x08;
    pub const TNPDS: usize = 0x20;
    pub const CHIP_CMD: usize = 0x37;
    pub const TPPOLL: usize = 0x38;
    pub const IMR: usize = 0x3C;
    pub const ISR: usize = 0x3E;
    pub const TCR: usize = 0x40;
    pub const RCR: usize = 0x44;
    pub const MPC: usize = 0x4C;
    pub const CR9346: usize = 0x50;
    pub const PHY_STATUS: usize = 0x6C;
    pub const RMS: usize = 0xDA;
    pub const CPCR: usize = 0xE0;
    pub const RDSAR: usize = 0xE4;
    pub const ETTHR: usize = 0xEC;

    pub const CMD_RST: u8 = 1 << 4;
    pub const CMD_RE: u8 = 1 << 3;
    pub const CMD_TE: u8 = 1 << 2;
    pub const TPPOLL_NPQ: u8 = 1 << 6;
    pub const CR9346_UNLOCK: u8 = 0xC0;
    pub const CPCR_PCI_MUL_RW: u16 = 1 << 3;
    pub const PHY_LINK: u8 = 1 << 1;
    /// Standard interframe gap, unlimited DMA burst.
    pub const TCR_VALUE: u32 = (3 << 24) | (7 << 8);
    /// Accept broadcast, multicast, our address and errored frames (to count them);
    /// no receive FIFO threshold, unlimited DMA burst.
    pub const RCR_VALUE: u32 = (1 << 3) | (1 << 2) | (1 << 1) | (1 << 5) | (7 << 13) | (7 << 8);
    /// Largest transmit packet, in 128-byte units.
    pub const ETTHR_VALUE: u8 = 0x3F;
}

/// Descriptor opts1 bits.
const OWN: u32 = 1 << 31;
const EOR: u32 = 1 << 30;
const FS: u32 = 1 << 29;
const LS: u32 = 1 << 28;
/// Receive status: error summary (CRC, runt, watchdog).
const RX_RES: u32 = 1 << 21;
const RX_LENGTH: u32 = 0x3FFF;
const DESCRIPTOR_BYTES: usize = 16;
/// Layout of the ring page: transmit ring, then receive ring (both 256-byte aligned).
const TX_RING: usize = 0;
const RX_RING: usize = 0x800;
/// Frame check sequence the MAC leaves at the end of a received frame.
const FCS: usize = 4;

/// A started RTL8169-family NIC.
pub struct R8169<M, B, C> {
    registers: M,
    clock: C,
    mac: MacAddress,
    rings: B,
    rx_buffers: B,
    tx_next: usize,
    tx_clean: usize,
    tx_used: usize,
    /// Frame length on a frame's LS descriptor until it is reaped, else 0.
    tx_frame_bytes: [usize; TX_DESCRIPTORS],
    rx_next: usize,
    /// A frame longer than one buffer is being skipped.
    rx_discarding: bool,
    counters: NetCounters,
    failed: bool,
}

/// Resets the MAC whose registers are `registers` (the memory BAR named by
/// [`Variant::register_bar`]) and starts it. A reset that never completes is
/// [`NetError::Timeout`]; a station address that is zero or multicast (a blank
/// EEPROM) is [`NetError::Device`] with code 0.
pub fn start<M: Mmio, D: DmaAllocator, C: Clock>(
    registers: M,
    dma: &mut D,
    clock: C,
) -> Result<R8169<M, D::Buffer, C>, NetError> {
    let r = &registers;
    r.write_u8(reg::CHIP_CMD, reg::CMD_RST);
    Deadline::after_ms(&clock, RESET_TIMEOUT_MS)
        .wait(&clock, || (r.read_u8(reg::CHIP_CMD) & reg::CMD_RST == 0).then_some(()))?;
    let mut mac = [0; 6];
    for (i, byte) in mac.iter_mut().enumerate() {
        *byte = r.read_u8(reg::IDR0 + i);
    }
    let mac = MacAddress(mac);
    if !mac.is_valid_station() {
        return Err(NetError::Device(0));
    }
    let rings = dma.allocate(4096)?;
    let rx_buffers = dma.allocate(RX_DESCRIPTORS * RX_BUFFER_BYTES)?;
    for index in 0..RX_DESCRIPTORS {
        let at = RX_RING + index * DESCRIPTOR_BYTES;
        rings.write_u32(at + 4, 0);
        rings.write_u64(at + 8, rx_buffers.physical() + (index * RX_BUFFER_BYTES) as u64);
        rings.write_u32(at, rx_command(index));
    }
    r.write_u8(reg::CR9346, reg::CR9346_UNLOCK);
    r.write_u16(reg::CPCR, reg::CPCR_PCI_MUL_RW);
    r.write_u16(reg::RMS, RX_BUFFER_BYTES as u16);
    r.write_u8(reg::ETTHR, reg::ETTHR_VALUE);
    r.write_u64(reg::TNPDS, rings.physical() + TX_RING as u64);
    r.write_u64(reg::RDSAR, rings.physical() + RX_RING as u64);
    // TCR and RCR after TE and RE, the order the Realtek MACs since the 8139 need.
    r.write_u8(reg::CHIP_CMD, reg::CMD_TE | reg::CMD_RE);
    r.write_u32(reg::TCR, reg::TCR_VALUE);
    r.write_u32(reg::RCR, reg::RCR_VALUE);
    // Every multicast group passes the hash filter; the program sorts them out.
    r.write_u32(reg::MAR0, u32::MAX);
    r.write_u32(reg::MAR0 + 4, u32::MAX);
    r.write_u16(reg::IMR, 0);
    r.write_u16(reg::ISR, u16::MAX);
    r.write_u32(reg::MPC, 0);
    r.write_u8(reg::CR9346, 0);
    Ok(R8169 {
        registers,
        clock,
        mac,
        rings,
        rx_buffers,
        tx_next: 0,
        tx_clean: 0,
        tx_used: 0,
        tx_frame_bytes: [0; TX_DESCRIPTORS],
        rx_next: 0,
        rx_discarding: false,
        counters: NetCounters::default(),
        failed: false,
    })
}

/// A receive descriptor handed to the MAC: OWN, EOR on the last, the buffer size.
fn rx_command(index: usize) -> u32 {
    let end = if index == RX_DESCRIPTORS - 1 { EOR } else { 0 };
    OWN | end | RX_BUFFER_BYTES as u32
}

/// Copies bytes `offset..` of a `len`-byte frame at `base` of `buffer` into `out`;
/// bytes past the frame's end read as zero.
fn read_frame(buffer: &impl DmaBuffer, base: usize, len: usize, offset: usize, out: &mut [u8]) {
    let available = len.saturating_sub(offset).min(out.len());
    buffer.read_bytes(base + offset, &mut out[..available]);
    out[available..].fill(0);
}

impl<M: Mmio, B: DmaBuffer, C: Clock> R8169<M, B, C> {
    /// Queues one frame without waiting for it to be sent: the segments must stay
    /// unchanged until [`Self::wait_transmitted`] returns. [`NetError::Busy`] when the
    /// ring has fewer free descriptors than the frame has segments (nothing is queued).
    pub fn post(&mut self, segments: &[Segment]) -> Result<(), NetError> {
        if self.failed {
            return Err(NetError::Failed);
        }
        let len = check_frame(STANDARD_MTU, segments)?;
        self.reap();
        if TX_DESCRIPTORS - self.tx_used < segments.len() {
            return Err(NetError::Busy);
        }
        let first = self.tx_next;
        let last = segments.len() - 1;
        for (i, segment) in segments.iter().enumerate() {
            let index = (first + i) % TX_DESCRIPTORS;
            let at = TX_RING + index * DESCRIPTOR_BYTES;
            let mut opts1 = segment.len as u32;
            opts1 |= if i == 0 { FS } else { OWN };
            opts1 |= if i == last { LS } else { 0 };
            opts1 |= if index == TX_DESCRIPTORS - 1 { EOR } else { 0 };
            self.rings.write_u32(at + 4, 0);
            self.rings.write_u64(at + 8, segment.physical);
            self.rings.write_u32(at, opts1);
        }
        let opts1 = self.rings.read_u32(TX_RING + first * DESCRIPTOR_BYTES);
        self.rings.write_u32(TX_RING + first * DESCRIPTOR_BYTES, opts1 | OWN);
        self.tx_frame_bytes[(first + last) % TX_DESCRIPTORS] = len;
        self.tx_used += segments.len();
        self.tx_next = (first + segments.len()) % TX_DESCRIPTORS;
        self.registers.write_u8(reg::TPPOLL, reg::TPPOLL_NPQ);
        Ok(())
    }

    /// Waits until the MAC has sent every queued frame. If it does not within
    /// [`TRANSMIT_TIMEOUT_MS`], the MAC is stopped (so it never reads the caller's
    /// memory again) and marked failed: [`NetError::Timeout`] now, `Failed` after.
    pub fn wait_transmitted(&mut self) -> Result<(), NetError> {
        if self.failed {
            return Err(NetError::Failed);
        }
        let deadline = Deadline::after_ms(&self.clock, TRANSMIT_TIMEOUT_MS);
        loop {
            let expired = deadline.expired(&self.clock);
            self.reap();
            if self.tx_used == 0 {
                return Ok(());
            }
            if expired {
                self.failed = true;
                self.registers.write_u8(reg::CHIP_CMD, 0);
                return Err(NetError::Timeout);
            }
            core::hint::spin_loop();
        }
    }

    /// Frees the descriptors the MAC is done with, oldest first, and counts the frames.
    fn reap(&mut self) {
        while self.tx_used > 0 {
            let index = self.tx_clean;
            if self.rings.read_u32(TX_RING + index * DESCRIPTOR_BYTES) & OWN != 0 {
                break;
            }
            let bytes = core::mem::take(&mut self.tx_frame_bytes[index]);
            if bytes > 0 {
                self.counters.tx_frames += 1;
                self.counters.tx_bytes += bytes as u64;
            }
            self.tx_clean = (index + 1) % TX_DESCRIPTORS;
            self.tx_used -= 1;
        }
    }

    /// Looks at the filled receive descriptor `index`: hands a good frame to `sink`
    /// (`Some(bytes taken)`), or drops and counts it (`None`).
    fn take(&mut self, index: usize, status: u32, sink: &mut dyn FrameSink) -> Option<usize> {
        if status & (FS | LS) != FS | LS {
            // Longer than a buffer: skip every piece; count the frame once, at FS.
            if status & FS != 0 {
                self.rx_discarding = true;
                self.counters.rx_dropped += 1;
            }
            if status & LS != 0 {
                self.rx_discarding = false;
            }
            return None;
        }
        if status & RX_RES != 0 {
            self.counters.rx_errors += 1;
            return None;
        }
        let len = ((status & RX_LENGTH) as usize).saturating_sub(FCS);
        if !(ETHERNET_HEADER..=STANDARD_MTU + ETHERNET_HEADER).contains(&len) {
            self.counters.rx_dropped += 1;
            return None;
        }
        let buffers = &self.rx_buffers;
        let base = index * RX_BUFFER_BYTES;
        match sink.accept(len, &mut |offset, out| read_frame(buffers, base, len, offset, out)) {
            Some(taken) => {
                self.counters.rx_frames += 1;
                self.counters.rx_bytes += len as u64;
                Some(taken)
            }
            None => {
                self.counters.rx_dropped += 1;
                Some(0)
            }
        }
    }

    /// Adds the frames the MAC missed for want of a free descriptor to `rx_dropped`.
    fn collect_missed(&mut self) {
        let missed = self.registers.read_u32(reg::MPC) & 0x00FF_FFFF;
        if missed != 0 {
            self.registers.write_u32(reg::MPC, 0);
            self.counters.rx_dropped += u64::from(missed);
        }
    }
}

impl<M: Mmio, B: DmaBuffer, C: Clock> NetDevice for R8169<M, B, C> {
    fn driver(&self) -> &'static str {
        "r8169"
    }

    fn mac(&self) -> MacAddress {
        self.mac
    }

    fn mtu(&self) -> usize {
        STANDARD_MTU
    }

    /// PHYstatus reading all ones is a device that no longer answers, not a link.
    fn link_up(&mut self) -> bool {
        let status = self.registers.read_u8(reg::PHY_STATUS);
        !self.failed && status != u8::MAX && status & reg::PHY_LINK != 0
    }

    fn transmit(&mut self, segments: &[Segment]) -> Result<(), NetError> {
        self.post(segments)?;
        self.wait_transmitted()
    }

    /// A frame the sink refuses is counted as dropped and the call returns `Ok(0)`.
    fn receive(&mut self, sink: &mut dyn FrameSink) -> Result<usize, NetError> {
        if self.failed {
            return Err(NetError::Failed);
        }
        self.collect_missed();
        for _ in 0..RX_DESCRIPTORS {
            let index = self.rx_next;
            let at = RX_RING + index * DESCRIPTOR_BYTES;
            let status = self.rings.read_u32(at);
            if status & OWN != 0 {
                break;
            }
            let taken = if self.rx_discarding && status & FS == 0 {
                self.rx_discarding = status & LS == 0;
                None
            } else {
                self.take(index, status, sink)
            };
            self.rings.write_u32(at, rx_command(index));
            self.rx_next = (index + 1) % RX_DESCRIPTORS;
            if let Some(taken) = taken {
                return Ok(taken);
            }
        }
        Err(NetError::WouldBlock)
    }

    fn counters(&self) -> NetCounters {
        self.counters
    }
}

#[cfg(test)]
mod tests;
