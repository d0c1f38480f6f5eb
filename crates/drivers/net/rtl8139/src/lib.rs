//! Driver for the Realtek RTL8139 fast-Ethernet MAC, written from the RTL8139C(L)
//! datasheet. QEMU models it (`-device rtl8139`, 10ec:8139).
//!
//! [`start`] wakes the chip (CONFIG1 SLEEP and PWRDN cleared), resets it (CR.RST), reads the station
//! address from IDR0-5 (loaded from its EEPROM), points RBSTART at an 8 KiB receive
//! ring and each of the four transmit descriptors (TSAD0-3) at its own 2 KiB slot.
//!
//! **Transmit copies, the one exception to zero-copy transmit.** The RTL8139 has no
//! scatter-gather: a transmit descriptor is one start address and one length, so the
//! MAC reads a frame from one contiguous buffer. The caller's physical segments are
//! therefore copied (through [`PhysicalMemory`]) into the descriptor's slot, padded to
//! the 60-byte minimum, and the slot is started by writing its TSD. Descriptors are
//! used strictly in turn, as the chip requires; a slot is free again once its TSD
//! reports TOK (sent), TUN (underrun, resent by the chip) or TABT (aborted). Receive: the MAC writes each frame into the
//! ring as a 4-byte header (status, length with FCS), the frame and its FCS, padded to
//! a dword, wrapping at the ring's end (RCR.WRAP clear); the driver shows the frame to
//! the sink where it lies and returns the space by writing CAPR (read offset minus 16,
//! a quirk of the chip). A header that cannot be right resets the receiver. Link state
//! is MSR.LINKB. Everything is polled; the receive interrupt can be unmasked for the
//! kernel's wait (`enable_receive_interrupt`), which only tells it to poll.
#![no_std]
#![forbid(unsafe_code)]

mod ids;

pub use ids::{PCI_IDS, Variant, matches};
/// Reads physical memory: the CPU side of the transmit copy. The kernel's
/// implementation reads through its identity map (`ingot_platform::physical::IdentityMemory`).
pub use ingot_bootinfo::PhysicalMemory;
use ingot_hal::{Clock, Deadline, DmaAllocator, DmaBuffer, Mmio};
use ingot_net::{
    ETHERNET_HEADER, FrameSink, MacAddress, NetCounters, NetDevice, NetError, STANDARD_MTU,
    Segment, check_frame,
};

/// Transmit descriptors (fixed by the chip).
pub const TX_SLOTS: usize = 4;
/// Bytes of each transmit slot (the chip sends at most 1792 per descriptor).
pub const TX_SLOT_BYTES: usize = 2048;
/// Receive ring size (RCR.RBLEN = 0); the chip needs 16 bytes more behind it.
pub const RX_RING_BYTES: usize = 8192;
/// How long a reset may take.
pub const RESET_TIMEOUT_MS: u64 = 100;
/// How long the MAC may take to send the frames queued.
pub const TRANSMIT_TIMEOUT_MS: u64 = 100;

/// Register offsets and bits (datasheet section 6).
mod reg {
    pub const IDR0: usize = 0x00;
    pub const MAR0: usize = 0x08;
    pub const TSD0: usize = 0x10;
    pub const TSAD0: usize = 0x20;
    pub const RBSTART: usize = 0x30;
    pub const CR: usize = 0x37;
    pub const CAPR: usize = 0x38;
    pub const IMR: usize = 0x3C;
    pub const ISR: usize = 0x3E;
    pub const TCR: usize = 0x40;
    pub const RCR: usize = 0x44;
    pub const MPC: usize = 0x4C;
    pub const CR9346: usize = 0x50;
    pub const CONFIG1: usize = 0x52;
    pub const MSR: usize = 0x58;

    pub const CR_RST: u8 = 1 << 4;
    pub const CR_RE: u8 = 1 << 3;
    pub const CR_TE: u8 = 1 << 2;
    pub const CR_BUFE: u8 = 1 << 0;
    /// 9346CR: configuration registers writable.
    pub const CR9346_UNLOCK: u8 = 0xC0;
    pub const TSD_TOK: u32 = 1 << 15;
    pub const TSD_TUN: u32 = 1 << 14;
    pub const TSD_TABT: u32 = 1 << 30;
    /// ISR: transmit error (tells an underrun that failed from one that was resent).
    pub const ISR_TER: u16 = 1 << 3;
    /// Early transmit threshold: start sending after 256 bytes are in the FIFO.
    pub const TSD_THRESHOLD_256: u32 = 8 << 16;
    pub const MSR_LINKB: u8 = 1 << 2;
    /// ISR receive bits: ROK, RER, RXOVW, FOVW.
    pub const ISR_RECEIVE: u16 = 0b101_0011;
    /// Standard interframe gap, 2 KiB DMA bursts.
    pub const TCR_VALUE: u32 = (3 << 24) | (7 << 8);
    /// Accept broadcast, multicast, our address and errored frames (to count them);
    /// 8 KiB ring without WRAP, unlimited DMA burst, no receive FIFO threshold.
    pub const RCR_VALUE: u32 = (1 << 3) | (1 << 2) | (1 << 1) | (1 << 5) | (7 << 8) | (7 << 13);
}

/// Receive header status bits.
const RX_ROK: u16 = 1 << 0;
/// Frame alignment, CRC, long, runt and invalid-symbol errors.
const RX_ERRORS: u16 = 0b11_1110;
/// The length the MAC leaves in a header it is still writing.
const RX_EARLY: usize = 0xFFF0;
/// Longest frame (with FCS) the MAC stores.
const RX_MAX_WIRE: usize = 4096;
/// Frame check sequence the MAC leaves at the end of a received frame.
const FCS: usize = 4;
/// Shortest frame on the wire without FCS; shorter frames are padded with zeros.
const MIN_FRAME: usize = 60;

/// A started RTL8139.
pub struct Rtl8139<M, B, C, P> {
    registers: M,
    clock: C,
    memory: P,
    mac: MacAddress,
    rx_ring: B,
    tx_slots: B,
    tx_next: usize,
    tx_clean: usize,
    tx_used: usize,
    tx_frame_bytes: [usize; TX_SLOTS],
    /// TSD of the last frame that failed, until `transmit` reports it.
    tx_aborted: Option<u32>,
    rx_read: usize,
    counters: NetCounters,
    failed: bool,
}

/// Resets the RTL8139 whose registers are `registers` (the memory BAR,
/// [`Variant::register_bar`]) and starts it; `memory` reads the caller's frames for
/// the transmit copy. A reset that never completes is [`NetError::Timeout`]; a
/// station address that is zero or multicast (a blank EEPROM) is
/// [`NetError::Device`] with code 0.
pub fn start<M: Mmio, D: DmaAllocator, C: Clock, P: PhysicalMemory>(
    registers: M,
    dma: &mut D,
    clock: C,
    memory: P,
) -> Result<Rtl8139<M, D::Buffer, C, P>, NetError> {
    let r = &registers;
    r.write_u8(reg::CR9346, reg::CR9346_UNLOCK);
    r.write_u8(reg::CONFIG1, 0);
    r.write_u8(reg::CR9346, 0);
    r.write_u8(reg::CR, reg::CR_RST);
    Deadline::after_ms(&clock, RESET_TIMEOUT_MS)
        .wait(&clock, || (r.read_u8(reg::CR) & reg::CR_RST == 0).then_some(()))?;
    let mut mac = [0; 6];
    for (i, byte) in mac.iter_mut().enumerate() {
        *byte = r.read_u8(reg::IDR0 + i);
    }
    let mac = MacAddress(mac);
    if !mac.is_valid_station() {
        return Err(NetError::Device(0));
    }
    let rx_ring = dma.allocate(RX_RING_BYTES + 16)?;
    let tx_slots = dma.allocate(TX_SLOTS * TX_SLOT_BYTES)?;
    // The chip takes 32-bit addresses only; DmaAllocator hands out memory below 4 GiB.
    let below_4g = |buffer: &D::Buffer| buffer.physical() + buffer.len() as u64 <= 1 << 32;
    if !below_4g(&rx_ring) || !below_4g(&tx_slots) {
        return Err(NetError::NoMemory);
    }
    let (rx_address, tx_address) = (rx_ring.physical() as u32, tx_slots.physical() as u32);
    r.write_u32(reg::RBSTART, rx_address);
    // Every multicast group passes the hash filter; the program sorts them out.
    r.write_u32(reg::MAR0, u32::MAX);
    r.write_u32(reg::MAR0 + 4, u32::MAX);
    r.write_u16(reg::IMR, 0);
    r.write_u16(reg::ISR, u16::MAX);
    r.write_u8(reg::CR, reg::CR_TE | reg::CR_RE);
    r.write_u32(reg::RCR, reg::RCR_VALUE);
    r.write_u32(reg::TCR, reg::TCR_VALUE);
    for slot in 0..TX_SLOTS {
        r.write_u32(reg::TSAD0 + 4 * slot, tx_address + (slot * TX_SLOT_BYTES) as u32);
    }
    r.write_u16(reg::CAPR, 0u16.wrapping_sub(16));
    r.write_u32(reg::MPC, 0);
    Ok(Rtl8139 {
        registers,
        clock,
        memory,
        mac,
        rx_ring,
        tx_slots,
        tx_next: 0,
        tx_clean: 0,
        tx_used: 0,
        tx_frame_bytes: [0; TX_SLOTS],
        tx_aborted: None,
        rx_read: 0,
        counters: NetCounters::default(),
        failed: false,
    })
}

impl<M: Mmio, B: DmaBuffer, C: Clock, P: PhysicalMemory> Rtl8139<M, B, C, P> {
    /// Unmasks the receive interrupt sources (ROK, RER, RXOVW, FOVW) for the INTx
    /// line the caller routes; stale causes are cleared first.
    pub fn enable_receive_interrupt(&mut self) {
        self.registers.write_u16(reg::ISR, reg::ISR_RECEIVE);
        self.registers.write_u16(reg::IMR, reg::ISR_RECEIVE);
    }

    /// Copies one frame into the next transmit slot and starts it, without waiting
    /// for it to be sent (the segments may be reused at once: they were copied).
    /// [`NetError::Busy`] when all four slots hold frames not yet sent;
    /// [`NetError::BadSegments`] when a segment is not readable memory.
    pub fn post(&mut self, segments: &[Segment]) -> Result<(), NetError> {
        if self.failed {
            return Err(NetError::Failed);
        }
        let len = check_frame(STANDARD_MTU, segments)?;
        self.reap();
        if self.tx_used == TX_SLOTS {
            return Err(NetError::Busy);
        }
        let slot = self.tx_next;
        let mut at = slot * TX_SLOT_BYTES;
        let mut chunk = [0u8; 256];
        for segment in segments {
            let mut done = 0;
            while done < segment.len {
                let piece = &mut chunk[..(segment.len - done).min(256)];
                if !self.memory.read(segment.physical + done as u64, piece) {
                    return Err(NetError::BadSegments);
                }
                self.tx_slots.write_bytes(at, piece);
                at += piece.len();
                done += piece.len();
            }
        }
        let size = len.max(MIN_FRAME);
        self.tx_slots.write_bytes(at, &[0; MIN_FRAME][..size - len]);
        self.registers.write_u32(reg::TSD0 + 4 * slot, size as u32 | reg::TSD_THRESHOLD_256);
        self.tx_frame_bytes[slot] = len;
        self.tx_used += 1;
        self.tx_next = (slot + 1) % TX_SLOTS;
        Ok(())
    }

    /// Waits until the MAC has sent (or aborted) every frame started. If it does not
    /// within [`TRANSMIT_TIMEOUT_MS`], the MAC is stopped and marked failed:
    /// [`NetError::Timeout`] now, `Failed` after.
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
                self.registers.write_u8(reg::CR, 0);
                return Err(NetError::Timeout);
            }
            core::hint::spin_loop();
        }
    }

    /// Frees the slots whose frames are sent, resent after an underrun, or aborted,
    /// oldest first, and counts them.
    fn reap(&mut self) {
        while self.tx_used > 0 {
            let slot = self.tx_clean;
            let status = self.registers.read_u32(reg::TSD0 + 4 * slot);
            if status & reg::TSD_TOK != 0 {
                self.counters.tx_frames += 1;
                self.counters.tx_bytes += self.tx_frame_bytes[slot] as u64;
            } else if status & (reg::TSD_TABT | reg::TSD_TUN) != 0 {
                // After a FIFO underrun the chip sends the frame again; TOK stays clear
                // and ISR.TER says whether that failed too (datasheet, TSD.TUN).
                let failed = status & reg::TSD_TABT != 0
                    || self.registers.read_u16(reg::ISR) & reg::ISR_TER != 0;
                if failed {
                    self.registers.write_u16(reg::ISR, reg::ISR_TER);
                    self.counters.tx_errors += 1;
                    self.tx_aborted = Some(status);
                } else {
                    self.counters.tx_frames += 1;
                    self.counters.tx_bytes += self.tx_frame_bytes[slot] as u64;
                }
            } else {
                break;
            }
            self.tx_clean = (slot + 1) % TX_SLOTS;
            self.tx_used -= 1;
        }
    }

    /// Stops and restarts the receiver with an empty ring (after a header that cannot
    /// be right: the ring is out of step with the MAC).
    fn reset_receiver(&mut self) {
        let r = &self.registers;
        r.write_u8(reg::CR, reg::CR_TE);
        r.write_u32(reg::RBSTART, self.rx_ring.physical() as u32);
        r.write_u8(reg::CR, reg::CR_TE | reg::CR_RE);
        r.write_u32(reg::RCR, reg::RCR_VALUE);
        self.rx_read = 0;
        r.write_u16(reg::CAPR, 0u16.wrapping_sub(16));
    }

    /// Looks at the frame whose header says `status` and `wire` bytes (with FCS):
    /// hands a good frame to `sink` (`Some(bytes taken)`), or drops and counts it.
    fn take(&mut self, status: u16, wire: usize, sink: &mut dyn FrameSink) -> Option<usize> {
        if status & RX_ERRORS != 0 {
            self.counters.rx_errors += 1;
            return None;
        }
        let len = wire - FCS;
        if !(ETHERNET_HEADER..=STANDARD_MTU + ETHERNET_HEADER).contains(&len) {
            self.counters.rx_dropped += 1;
            return None;
        }
        let ring = &self.rx_ring;
        let start = self.rx_read + 4;
        let mut read = |offset: usize, out: &mut [u8]| {
            let available = len.saturating_sub(offset).min(out.len());
            let at = (start + offset) % RX_RING_BYTES;
            let first = available.min(RX_RING_BYTES - at);
            ring.read_bytes(at, &mut out[..first]);
            ring.read_bytes(0, &mut out[first..available]);
            out[available..].fill(0);
        };
        match sink.accept(len, &mut read) {
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
}

impl<M: Mmio, B: DmaBuffer, C: Clock, P: PhysicalMemory> NetDevice for Rtl8139<M, B, C, P> {
    fn driver(&self) -> &'static str {
        "rtl8139"
    }

    fn mac(&self) -> MacAddress {
        self.mac
    }

    fn mtu(&self) -> usize {
        STANDARD_MTU
    }

    fn link_up(&mut self) -> bool {
        !self.failed && self.registers.read_u8(reg::MSR) & reg::MSR_LINKB == 0
    }

    /// Copies the frame (see the crate docs), sends it and waits for the MAC's verdict:
    /// an aborted frame is [`NetError::Device`] with its TSD.
    fn transmit(&mut self, segments: &[Segment]) -> Result<(), NetError> {
        self.tx_aborted = None;
        self.post(segments)?;
        self.wait_transmitted()?;
        self.tx_aborted.take().map_or(Ok(()), |status| Err(NetError::Device(status)))
    }

    /// A frame the sink refuses is counted as dropped and the call returns `Ok(0)`.
    /// Each frame taken acknowledges the receive bits of ISR before the ring is looked
    /// at again, so with [`Rtl8139::enable_receive_interrupt`] a frame stored after the
    /// last look keeps the line asserted.
    fn receive(&mut self, sink: &mut dyn FrameSink) -> Result<usize, NetError> {
        if self.failed {
            return Err(NetError::Failed);
        }
        let missed = self.registers.read_u32(reg::MPC) & 0x00FF_FFFF;
        if missed != 0 {
            self.registers.write_u32(reg::MPC, 0);
            self.counters.rx_dropped += u64::from(missed);
        }
        // Each pass consumes one frame; a ring holds fewer than this many.
        for _ in 0..RX_RING_BYTES / 64 {
            if self.registers.read_u8(reg::CR) & reg::CR_BUFE != 0 {
                break;
            }
            let header = self.rx_ring.read_u32(self.rx_read);
            let (status, wire) = (header as u16, (header >> 16) as usize);
            if wire == RX_EARLY {
                break;
            }
            if !(FCS..=RX_MAX_WIRE).contains(&wire) || status & (RX_ROK | RX_ERRORS) == 0 {
                self.counters.rx_errors += 1;
                self.reset_receiver();
                break;
            }
            let taken = self.take(status, wire, sink);
            self.rx_read = ((self.rx_read + 4 + wire + 3) & !3) % RX_RING_BYTES;
            self.registers.write_u16(reg::CAPR, (self.rx_read as u16).wrapping_sub(16));
            self.registers.write_u16(reg::ISR, reg::ISR_RECEIVE);
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
