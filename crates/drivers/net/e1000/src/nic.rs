//! The driver proper, shared by the 8254x and the 8257x: reset, station address,
//! rings, polled transmit and receive, link state and failure handling. What
//! differs between the two families is described by a [`Family`].

use core::cell::Cell;

use ingot_hal::{Clock, Deadline, DmaAllocator, DmaBuffer, Mmio};
use ingot_net::rings::{Discarding, Received, deliver};
use ingot_net::{
    ETHERNET_HEADER, FrameSink, MacAddress, NetCounters, NetDevice, NetError, STANDARD_MTU,
    Segment, check_frame,
};

use crate::legacy::{self, RX_BUFFER_BYTES, RX_FRAME_ERRORS, RxRing, TxRing, rx_status, tx_status};
use crate::regs;

/// How long a reset, the EEPROM auto-read or bus-master quiescing may take.
pub const RESET_TIMEOUT_MS: u64 = 100;
/// How long one EEPROM word read may take.
pub const EEPROM_TIMEOUT_MS: u64 = 10;
/// How long the device may take to send one frame (a 1514-byte frame takes 1.2 ms
/// at 10 Mb/s; the rest is slack for a busy bus).
pub const TRANSMIT_TIMEOUT_MS: u64 = 500;

/// EEPROM words 0x00..0x40 sum to this (8254x manual §5.6.1).
const EEPROM_CHECKSUM: u16 = 0xBABA;
/// Words covered by the checksum.
const EEPROM_CHECKSUM_WORDS: u16 = 0x40;

/// Where the EERD register keeps its fields; it moved between generations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EerdLayout {
    /// The DONE bit.
    pub done: u32,
    /// Shift of the word address field.
    pub address_shift: u32,
}

/// EERD of the 82540/82545/82546: DONE bit 4, address in bits 15:8.
pub const EERD_8254X: EerdLayout = EerdLayout { done: 1 << 4, address_shift: 8 };
/// EERD of the 82541/82547 and the whole 8257x: DONE bit 1, address in bits 15:2.
pub const EERD_LATER: EerdLayout = EerdLayout { done: 1 << 1, address_shift: 2 };

/// What differs between the controllers that share this driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family {
    /// Driver name for boot lines.
    pub driver: &'static str,
    /// The EERD register's layout, or `None` where there is none (82542/82543/82544:
    /// the station address then comes only from RAL0/RAH0, loaded at reset).
    pub eerd: Option<EerdLayout>,
    /// PCI Express part (8257x): quiesce bus mastering before the reset, wait for
    /// the EEPROM auto-read, set DRV_LOAD and TXDCTL bit 22.
    pub pcie: bool,
}

/// A running 8254x/8257x controller.
pub struct Nic<M, B, C> {
    registers: M,
    clock: C,
    family: Family,
    mac: MacAddress,
    rx: RxRing<B>,
    tx: TxRing<B>,
    counters: NetCounters,
    /// Frames the device missed for want of a free receive buffer (MPC, which
    /// clears on read, summed here).
    missed: Cell<u64>,
    /// Set while discarding the tail descriptors of a frame too big for one buffer.
    discarding: Discarding,
    failed: bool,
    /// Receive interrupts are on: every receive first clears the cause register.
    interrupts: bool,
}

/// Resets the controller behind `registers` (BAR0), reads its station address and
/// starts both rings. The receiver accepts frames to the station address and
/// broadcasts, strips the CRC, and uses 2 KiB buffers; interrupts stay masked
/// (the driver is polled).
pub fn start_family<M: Mmio, D: DmaAllocator, C: Clock>(
    registers: M,
    dma: &mut D,
    clock: C,
    family: Family,
) -> Result<Nic<M, D::Buffer, C>, NetError> {
    if registers.read_u32(regs::STATUS) == u32::MAX {
        // No device answers at this address (all-ones reads).
        return Err(NetError::Timeout);
    }
    reset(&registers, &clock, family)?;
    let mac = station_address(&registers, &clock, family)?;
    for i in 0..128 {
        registers.write_u32(regs::MTA + 4 * i, 0);
    }
    let rx = RxRing::new(dma)?;
    let tx = TxRing::new(dma)?;
    let r = &registers;
    r.write_u32(regs::RDBAL, rx.physical() as u32);
    r.write_u32(regs::RDBAH, (rx.physical() >> 32) as u32);
    r.write_u32(regs::RDLEN, rx.bytes());
    r.write_u32(regs::RDH, 0);
    r.write_u32(regs::RDT, rx.initial_tail());
    r.write_u32(
        regs::RCTL,
        regs::RCTL_EN | regs::RCTL_BAM | regs::RCTL_SECRC | regs::RCTL_BSIZE_2048,
    );
    r.write_u32(regs::TDBAL, tx.physical() as u32);
    r.write_u32(regs::TDBAH, (tx.physical() >> 32) as u32);
    r.write_u32(regs::TDLEN, tx.bytes());
    r.write_u32(regs::TDH, 0);
    r.write_u32(regs::TDT, 0);
    if family.pcie {
        let txdctl = r.read_u32(regs::TXDCTL);
        r.write_u32(regs::TXDCTL, txdctl | regs::TXDCTL_8257X_MUST_BE_ONE);
    }
    r.write_u32(regs::TIPG, regs::TIPG_COPPER);
    r.write_u32(
        regs::TCTL,
        regs::TCTL_EN | regs::TCTL_PSP | regs::TCTL_CT_15 | regs::TCTL_COLD_FULL_DUPLEX,
    );
    // Clear the missed-packets count left from before.
    r.read_u32(regs::MPC);
    Ok(Nic {
        registers,
        clock,
        family,
        mac,
        rx,
        tx,
        counters: NetCounters::default(),
        missed: Cell::new(0),
        discarding: Discarding(false),
        failed: false,
        interrupts: false,
    })
}

/// Global reset, then the link set up for auto-negotiation with flow control off
/// (a PAUSE frame must not hold a transmit the caller is waiting for).
fn reset(r: &impl Mmio, clock: &impl Clock, family: Family) -> Result<(), NetError> {
    r.write_u32(regs::IMC, u32::MAX);
    if family.pcie {
        // 8257x: stop bus-master requests so the reset does not cut a DMA in half.
        r.write_u32(regs::CTRL, r.read_u32(regs::CTRL) | regs::CTRL_GIO_MASTER_DISABLE);
        Deadline::after_ms(clock, RESET_TIMEOUT_MS).wait(clock, || {
            (r.read_u32(regs::STATUS) & regs::STATUS_GIO_MASTER_ENABLE == 0).then_some(())
        })?;
    }
    r.write_u32(regs::CTRL, r.read_u32(regs::CTRL) | regs::CTRL_RST);
    Deadline::after_ms(clock, RESET_TIMEOUT_MS)
        .wait(clock, || (r.read_u32(regs::CTRL) & regs::CTRL_RST == 0).then_some(()))?;
    r.write_u32(regs::IMC, u32::MAX);
    r.read_u32(regs::ICR);
    if family.pcie {
        Deadline::after_ms(clock, RESET_TIMEOUT_MS)
            .wait(clock, || (r.read_u32(regs::EECD) & regs::EECD_AUTO_RD != 0).then_some(()))?;
        r.write_u32(regs::CTRL_EXT, r.read_u32(regs::CTRL_EXT) | regs::CTRL_EXT_DRV_LOAD);
    }
    let ctrl = r.read_u32(regs::CTRL)
        & !(regs::CTRL_LRST
            | regs::CTRL_PHY_RST
            | regs::CTRL_ILOS
            | regs::CTRL_VME
            | regs::CTRL_RFCE
            | regs::CTRL_TFCE
            | regs::CTRL_GIO_MASTER_DISABLE);
    r.write_u32(regs::CTRL, ctrl | regs::CTRL_SLU | regs::CTRL_ASDE);
    Ok(())
}

/// RAL0/RAH0 as loaded from the EEPROM at reset; if they hold no valid address,
/// EEPROM words 0..3 read through EERD (checksum verified) and written to RAL0/RAH0.
/// A controller with neither is refused with `Device(RAH0)`.
fn station_address(
    r: &impl Mmio,
    clock: &impl Clock,
    family: Family,
) -> Result<MacAddress, NetError> {
    let low = r.read_u32(regs::RAL0).to_le_bytes();
    let high = r.read_u32(regs::RAH0);
    let [e, f, _, _] = high.to_le_bytes();
    let loaded = MacAddress([low[0], low[1], low[2], low[3], e, f]);
    if high & regs::RAH_AV != 0 && loaded.is_valid_station() {
        return Ok(loaded);
    }
    let layout = family.eerd.ok_or(NetError::Device(high))?;
    let mut sum = 0u16;
    for word in 0..EEPROM_CHECKSUM_WORDS {
        sum = sum.wrapping_add(read_eeprom(r, clock, layout, word)?);
    }
    if sum != EEPROM_CHECKSUM {
        return Err(NetError::Device(u32::from(sum)));
    }
    let mut mac = [0u8; 6];
    for word in 0..3 {
        let value = read_eeprom(r, clock, layout, word)?.to_le_bytes();
        mac[2 * word as usize..2 * word as usize + 2].copy_from_slice(&value);
    }
    let mac = MacAddress(mac);
    if !mac.is_valid_station() {
        return Err(NetError::Device(high));
    }
    r.write_u32(regs::RAL0, u32::from_le_bytes([mac.0[0], mac.0[1], mac.0[2], mac.0[3]]));
    r.write_u32(regs::RAH0, u32::from(mac.0[4]) | (u32::from(mac.0[5]) << 8) | regs::RAH_AV);
    Ok(mac)
}

/// One 16-bit EEPROM word through EERD.
fn read_eeprom(
    r: &impl Mmio,
    clock: &impl Clock,
    layout: EerdLayout,
    word: u16,
) -> Result<u16, NetError> {
    r.write_u32(regs::EERD, (u32::from(word) << layout.address_shift) | regs::EERD_START);
    let value = Deadline::after_ms(clock, EEPROM_TIMEOUT_MS).wait(clock, || {
        let value = r.read_u32(regs::EERD);
        (value & layout.done != 0).then_some(value)
    })?;
    Ok((value >> 16) as u16)
}

impl<M: Mmio, B: DmaBuffer, C: Clock> Nic<M, B, C> {
    /// Stops both DMA engines and refuses every later call: after a timeout the
    /// device's state is unknown, and it must not keep reading caller memory.
    fn fail(&mut self) {
        self.failed = true;
        self.registers.write_u32(regs::RCTL, 0);
        self.registers.write_u32(regs::TCTL, 0);
    }

    /// Turns on the receive interrupt causes (frames stored, ring running low,
    /// overrun) for MSI or the INTx line; the caller routes it. Every receive then
    /// reads ICR first (which clears it and lowers the line) and drains the ring
    /// after, so a frame stored after the read raises the interrupt again.
    pub fn enable_receive_interrupt(&mut self) {
        self.interrupts = true;
        self.registers.read_u32(regs::ICR);
        self.registers.write_u32(regs::IMS, regs::ICR_RXT0 | regs::ICR_RXDMT0 | regs::ICR_RXO);
    }

    /// Whether the device was failed by a timeout.
    pub fn is_failed(&self) -> bool {
        self.failed
    }

    fn count_done(counters: &mut NetCounters, done: crate::legacy::TxDone) {
        if done.status & (tx_status::EC | tx_status::LC) != 0 {
            counters.tx_errors += 1;
        } else {
            counters.tx_frames += 1;
            counters.tx_bytes += done.len as u64;
        }
    }

    /// Queues one frame without waiting for it; the segments must stay unchanged
    /// until [`Self::wait_transmitted`] returns (or the device failed). A full
    /// ring is [`NetError::Busy`] and queues nothing.
    pub fn queue(&mut self, segments: &[Segment]) -> Result<usize, NetError> {
        if self.failed {
            return Err(NetError::Failed);
        }
        let len = check_frame(self.mtu(), segments)?;
        let counters = &mut self.counters;
        legacy::reclaim(&mut self.tx, |done| Self::count_done(counters, done));
        let (last, tail) = legacy::queue(&mut self.tx, segments, len)?;
        self.registers.write_u32(regs::TDT, tail);
        Ok(last)
    }

    /// Waits until every queued frame is done; a device that does not finish them
    /// in time is failed.
    pub fn wait_transmitted(&mut self) -> Result<(), NetError> {
        if self.failed {
            return Err(NetError::Failed);
        }
        let deadline = Deadline::after_ms(&self.clock, TRANSMIT_TIMEOUT_MS);
        let tx = &mut self.tx;
        let counters = &mut self.counters;
        let finished = deadline.wait(&self.clock, || {
            legacy::reclaim(tx, |done| Self::count_done(counters, done));
            tx.is_idle().then_some(())
        });
        if finished.is_err() {
            self.fail();
            return Err(NetError::Timeout);
        }
        Ok(())
    }

    /// Takes the oldest completed receive slot back into the ring.
    fn recycle(&mut self) {
        let tail = self.rx.recycle();
        self.registers.write_u32(regs::RDT, tail);
    }
}

impl<M: Mmio, B: DmaBuffer, C: Clock> NetDevice for Nic<M, B, C> {
    fn driver(&self) -> &'static str {
        self.family.driver
    }

    fn mac(&self) -> MacAddress {
        self.mac
    }

    fn mtu(&self) -> usize {
        STANDARD_MTU
    }

    fn link_up(&mut self) -> bool {
        if self.failed {
            return false;
        }
        let status = self.registers.read_u32(regs::STATUS);
        if status == u32::MAX {
            // The device no longer answers (all-ones reads): surprise removal.
            self.fail();
            return false;
        }
        status & regs::STATUS_LU != 0
    }

    fn transmit(&mut self, segments: &[Segment]) -> Result<(), NetError> {
        let last = self.queue(segments)?;
        let deadline = Deadline::after_ms(&self.clock, TRANSMIT_TIMEOUT_MS);
        let tx = &self.tx;
        let Ok(status) = deadline.wait(&self.clock, || legacy::done(tx, last)) else {
            self.fail();
            return Err(NetError::Timeout);
        };
        let counters = &mut self.counters;
        legacy::reclaim(&mut self.tx, |done| Self::count_done(counters, done));
        if status & (tx_status::EC | tx_status::LC) != 0 {
            return Err(NetError::Device(u32::from(status)));
        }
        Ok(())
    }

    fn receive(&mut self, sink: &mut dyn FrameSink) -> Result<usize, NetError> {
        if self.failed {
            return Err(NetError::Failed);
        }
        if self.interrupts {
            self.registers.read_u32(regs::ICR);
        }
        let longest = self.mtu() + ETHERNET_HEADER;
        while let Some(done) = legacy::completed(&self.rx) {
            let received = Received {
                slot: done.slot,
                len: done.len,
                end: done.status & rx_status::EOP != 0,
                error: done.errors & RX_FRAME_ERRORS != 0,
            };
            let rx = &self.rx;
            let taken = deliver(
                received,
                longest.min(RX_BUFFER_BYTES),
                &mut self.discarding,
                &mut self.counters,
                sink,
                &|slot, offset, out| rx.read(slot, offset, out),
            );
            self.recycle();
            if let Some(bytes) = taken {
                return Ok(bytes);
            }
        }
        Err(NetError::WouldBlock)
    }

    /// The driver's counts; `rx_dropped` includes the frames the device missed
    /// because every receive buffer was full (MPC).
    fn counters(&self) -> NetCounters {
        if !self.failed {
            let missed = self.registers.read_u32(regs::MPC);
            self.missed.set(self.missed.get() + u64::from(missed));
        }
        NetCounters { rx_dropped: self.counters.rx_dropped + self.missed.get(), ..self.counters }
    }
}
