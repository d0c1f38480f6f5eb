//! Bringing an 82599 up (datasheet §4.6.3: interrupts off, master disable, global
//! reset, EEPROM auto-read and DMA initialisation done, link, receive and transmit
//! set-up) and the polled driver on its queue 0.

use core::cell::Cell;

use ingot_hal::{Clock, Deadline, DmaAllocator, DmaBuffer, Mmio};
use ingot_net::rings::{Discarding, Received, deliver};
use ingot_net::{
    ETHERNET_HEADER, FrameSink, MacAddress, NetCounters, NetDevice, NetError, STANDARD_MTU,
    Segment, check_frame,
};

use crate::regs;
use crate::rings::{self, RX_EOP, RX_ERROR_RXE, RxRing, TxRing};

/// How long the master disable, the reset, the EEPROM auto-read, DMA
/// initialisation or a queue enable may take.
pub const RESET_TIMEOUT_MS: u64 = 100;
/// How long the device may take to send one frame.
pub const TRANSMIT_TIMEOUT_MS: u64 = 500;

/// A running 82599.
pub struct Nic<M, B, C> {
    registers: M,
    clock: C,
    mac: MacAddress,
    rx: RxRing<B>,
    tx: TxRing<B>,
    counters: NetCounters,
    /// Frames queue 0 dropped for want of a free receive buffer (QPRDC, which
    /// clears on read, summed here).
    missed: Cell<u64>,
    discarding: Discarding,
    failed: bool,
}

fn wait_for(
    r: &impl Mmio,
    clock: &impl Clock,
    register: usize,
    bit: u32,
    set: bool,
) -> Result<(), NetError> {
    Deadline::after_ms(clock, RESET_TIMEOUT_MS)
        .wait(clock, || ((r.read_u32(register) & bit != 0) == set).then_some(()))?;
    Ok(())
}

/// Resets the controller behind `registers` (BAR0), reads its station address
/// from RAL0/RAH0 (loaded from the EEPROM by the reset; an 82599 without a valid
/// one is refused with `Device(RAH0)`), and starts queue 0 of both directions.
pub fn start<M: Mmio, D: DmaAllocator, C: Clock>(
    registers: M,
    dma: &mut D,
    clock: C,
) -> Result<Nic<M, D::Buffer, C>, NetError> {
    let r = &registers;
    if r.read_u32(regs::STATUS) == u32::MAX {
        return Err(NetError::Timeout);
    }
    r.write_u32(regs::EIMC, regs::ALL_INTERRUPTS);
    r.write_u32(regs::CTRL, r.read_u32(regs::CTRL) | regs::CTRL_MASTER_DISABLE);
    wait_for(r, &clock, regs::STATUS, regs::STATUS_MASTER_ENABLE, false)?;
    r.write_u32(regs::CTRL, r.read_u32(regs::CTRL) | regs::CTRL_RST | regs::CTRL_LRST);
    wait_for(r, &clock, regs::CTRL, regs::CTRL_RST, false)?;
    r.write_u32(regs::EIMC, regs::ALL_INTERRUPTS);
    r.read_u32(regs::EICR);
    wait_for(r, &clock, regs::EEC, regs::EEC_AUTO_READ_DONE, true)?;
    wait_for(r, &clock, regs::RDRXCTL, regs::RDRXCTL_DMA_INIT_DONE, true)?;
    r.write_u32(regs::CTRL_EXT, r.read_u32(regs::CTRL_EXT) | regs::CTRL_EXT_DRV_LOAD);

    let low = r.read_u32(regs::RAL0).to_le_bytes();
    let high = r.read_u32(regs::RAH0);
    let [e, f, _, _] = high.to_le_bytes();
    let mac = MacAddress([low[0], low[1], low[2], low[3], e, f]);
    if high & regs::RAH_AV == 0 || !mac.is_valid_station() {
        return Err(NetError::Device(high));
    }

    // Link: auto-negotiation restarted; received PAUSE frames ignored, so a
    // link partner cannot hold a transmit the caller is waiting for.
    r.write_u32(regs::AUTOC, r.read_u32(regs::AUTOC) | regs::AUTOC_RESTART_AN);
    r.write_u32(regs::MFLCN, r.read_u32(regs::MFLCN) & !regs::MFLCN_RFCE);

    let rx = RxRing::new(dma)?;
    let tx = TxRing::new(dma)?;

    // Receive (§4.6.7): filters, CRC strip in both places, 2 KiB advanced
    // one-buffer descriptors, queue enabled before the tail, receiver last.
    r.write_u32(regs::RXCTRL, 0);
    for i in 0..128 {
        r.write_u32(regs::MTA + 4 * i, 0);
    }
    r.write_u32(regs::FCTRL, regs::FCTRL_BAM);
    let hlreg0 = r.read_u32(regs::HLREG0);
    r.write_u32(
        regs::HLREG0,
        hlreg0 | regs::HLREG0_RXCRCSTRP | regs::HLREG0_TXCRCEN | regs::HLREG0_TXPADEN,
    );
    r.write_u32(regs::RDRXCTL, r.read_u32(regs::RDRXCTL) | regs::RDRXCTL_CRC_STRIP);
    r.write_u64(regs::RDBAL, rx.physical());
    r.write_u32(regs::RDLEN, rx.bytes());
    r.write_u32(
        regs::SRRCTL,
        regs::SRRCTL_BSIZE_2K | regs::SRRCTL_ADVANCED_ONE_BUFFER | regs::SRRCTL_DROP_EN,
    );
    r.write_u32(regs::RDH, 0);
    r.write_u32(regs::RDT, 0);
    r.write_u32(regs::RXDCTL, r.read_u32(regs::RXDCTL) | regs::QUEUE_ENABLE);
    wait_for(r, &clock, regs::RXDCTL, regs::QUEUE_ENABLE, true)?;
    r.write_u32(regs::RDT, rx.initial_tail());
    r.read_u32(regs::QPRDC);
    r.write_u32(regs::RXCTRL, regs::RXCTRL_RXEN);

    // Transmit (§4.6.8): ring, DMA transmit enable, then the queue.
    r.write_u64(regs::TDBAL, tx.physical());
    r.write_u32(regs::TDLEN, tx.bytes());
    r.write_u32(regs::TDH, 0);
    r.write_u32(regs::TDT, 0);
    r.write_u32(regs::DMATXCTL, regs::DMATXCTL_TE);
    r.write_u32(regs::TXDCTL, r.read_u32(regs::TXDCTL) | regs::QUEUE_ENABLE);
    wait_for(r, &clock, regs::TXDCTL, regs::QUEUE_ENABLE, true)?;

    Ok(Nic {
        registers,
        clock,
        mac,
        rx,
        tx,
        counters: NetCounters::default(),
        missed: Cell::new(0),
        discarding: Discarding(false),
        failed: false,
    })
}

impl<M: Mmio, B: DmaBuffer, C: Clock> Nic<M, B, C> {
    /// Stops both queues and refuses every later call.
    fn fail(&mut self) {
        self.failed = true;
        self.registers.write_u32(regs::RXCTRL, 0);
        self.registers.write_u32(regs::TXDCTL, 0);
        self.registers.write_u32(regs::DMATXCTL, 0);
    }

    /// Whether the device was failed by a timeout.
    pub fn is_failed(&self) -> bool {
        self.failed
    }

    fn reclaim(&mut self) {
        let counters = &mut self.counters;
        rings::reclaim(&mut self.tx, |len| {
            counters.tx_frames += 1;
            counters.tx_bytes += len as u64;
        });
    }

    /// Queues one frame without waiting; the segments must stay unchanged until
    /// [`Self::wait_transmitted`] returns. A full ring is [`NetError::Busy`].
    pub fn queue(&mut self, segments: &[Segment]) -> Result<usize, NetError> {
        if self.failed {
            return Err(NetError::Failed);
        }
        let len = check_frame(self.mtu(), segments)?;
        self.reclaim();
        let (last, tail) = rings::queue(&mut self.tx, segments, len)?;
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
        let (tx, counters) = (&mut self.tx, &mut self.counters);
        let finished = deadline.wait(&self.clock, || {
            rings::reclaim(tx, |len| {
                counters.tx_frames += 1;
                counters.tx_bytes += len as u64;
            });
            tx.is_idle().then_some(())
        });
        if finished.is_err() {
            self.fail();
            return Err(NetError::Timeout);
        }
        Ok(())
    }

    fn recycle(&mut self) {
        let tail = self.rx.recycle();
        self.registers.write_u32(regs::RDT, tail);
    }
}

impl<M: Mmio, B: DmaBuffer, C: Clock> NetDevice for Nic<M, B, C> {
    fn driver(&self) -> &'static str {
        "ixgbe"
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
        let links = self.registers.read_u32(regs::LINKS);
        if links == u32::MAX {
            self.fail();
            return false;
        }
        links & regs::LINKS_UP != 0
    }

    fn transmit(&mut self, segments: &[Segment]) -> Result<(), NetError> {
        let last = self.queue(segments)?;
        let deadline = Deadline::after_ms(&self.clock, TRANSMIT_TIMEOUT_MS);
        let tx = &self.tx;
        if deadline.wait(&self.clock, || rings::done(tx, last).then_some(())).is_err() {
            self.fail();
            return Err(NetError::Timeout);
        }
        self.reclaim();
        Ok(())
    }

    fn receive(&mut self, sink: &mut dyn FrameSink) -> Result<usize, NetError> {
        if self.failed {
            return Err(NetError::Failed);
        }
        let longest = self.mtu() + ETHERNET_HEADER;
        while let Some(done) = rings::completed(&self.rx) {
            let received = Received {
                slot: done.slot,
                len: done.len,
                end: done.status & RX_EOP != 0,
                error: done.status & RX_ERROR_RXE != 0,
            };
            let rx = &self.rx;
            let taken = deliver(
                received,
                longest,
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

    /// The driver's counts; `rx_dropped` includes the frames the device dropped
    /// because every receive buffer was full (QPRDC of queue 0).
    fn counters(&self) -> NetCounters {
        if !self.failed {
            let missed = self.registers.read_u32(regs::QPRDC);
            self.missed.set(self.missed.get() + u64::from(missed));
        }
        NetCounters { rx_dropped: self.counters.rx_dropped + self.missed.get(), ..self.counters }
    }
}
