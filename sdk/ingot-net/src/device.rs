//! The smoltcp `phy::Device` over a [`FrameIo`]: frames are received in batches (one
//! kernel call fills up to 32 buffers) and sent in batches (frames the stack writes
//! during one poll are queued in program memory and handed to the kernel together by
//! [`NicDevice::flush`]; the kernel gives the device their physical pieces, no copy).
//! Every received frame is inspected first so the counters say what was dropped.

use alloc::vec;
use alloc::vec::Vec;

use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

use crate::counters::Counters;
use crate::inspect::inspect;
use crate::io::{BATCH, FrameIo, MAX_FRAME};

/// Received frames waiting for the stack.
struct RxRing {
    buffers: Vec<Vec<u8>>,
    lengths: [usize; BATCH],
    next: usize,
    count: usize,
}

/// Frames the stack wrote, waiting to be sent, and the interface they go to.
struct TxQueue<F: FrameIo> {
    io: F,
    buffers: Vec<Vec<u8>>,
    lengths: [usize; BATCH],
    count: usize,
    counters: Counters,
}

impl<F: FrameIo> TxQueue<F> {
    fn flush(&mut self) {
        if self.count == 0 {
            return;
        }
        let mut frames: Vec<&mut [u8]> = self
            .buffers
            .iter_mut()
            .zip(&self.lengths)
            .take(self.count)
            .map(|(buffer, &length)| &mut buffer[..length])
            .collect();
        let sent = self.io.send(&mut frames);
        let bytes: usize = self.lengths[..sent].iter().sum();
        self.counters.tx_frames += sent as u64;
        self.counters.tx_bytes += bytes as u64;
        self.counters.tx_failed += (self.count - sent) as u64;
        self.count = 0;
    }
}

/// An interface as a smoltcp device.
pub struct NicDevice<F: FrameIo> {
    rx: RxRing,
    tx: TxQueue<F>,
    inspect: bool,
    /// Whether the next `receive` may fetch a new batch from the interface: one batch
    /// per stack poll, so the owner can act between batches (see `Net::poll`).
    may_fetch: bool,
    /// Whether the last fetch filled every buffer (more may be waiting).
    last_full: bool,
}

impl<F: FrameIo> NicDevice<F> {
    /// The device over `io`, inspecting every received frame.
    pub fn new(io: F) -> Self {
        Self {
            rx: RxRing {
                buffers: vec![vec![0; MAX_FRAME]; BATCH],
                lengths: [0; BATCH],
                next: 0,
                count: 0,
            },
            tx: TxQueue {
                io,
                buffers: vec![vec![0; MAX_FRAME]; BATCH],
                lengths: [0; BATCH],
                count: 0,
                counters: Counters::default(),
            },
            inspect: true,
            may_fetch: true,
            last_full: false,
        }
    }

    /// Lets the next `receive` fetch one new batch from the interface.
    pub fn allow_fetch(&mut self) {
        self.may_fetch = true;
    }

    /// Whether the last batch fetched filled every buffer (more may be waiting).
    pub fn last_batch_full(&self) -> bool {
        self.last_full
    }

    /// Turns the per-frame inspection (and with it the drop counters) on or off.
    pub fn set_inspect(&mut self, on: bool) {
        self.inspect = on;
    }

    /// Sends the queued frames.
    pub fn flush(&mut self) {
        self.tx.flush();
    }

    /// The counters so far.
    pub fn counters(&self) -> Counters {
        self.tx.counters
    }

    /// The interface underneath.
    pub fn io(&self) -> &F {
        &self.tx.io
    }

    /// The interface underneath, to wait on.
    pub fn io_mut(&mut self) -> &mut F {
        &mut self.tx.io
    }

    /// Monotonic time from the interface's clock.
    pub fn now(&self) -> Instant {
        Instant::from_micros((self.tx.io.now_ns() / 1000) as i64)
    }

    /// Whether received frames are waiting (already fetched, not yet processed).
    pub fn has_pending(&self) -> bool {
        self.rx.next < self.rx.count
    }

    fn refill(&mut self) {
        if self.rx.next < self.rx.count || !self.may_fetch {
            return;
        }
        self.may_fetch = false;
        let mut buffers: Vec<&mut [u8]> =
            self.rx.buffers.iter_mut().map(|buffer| buffer.as_mut_slice()).collect();
        let received = self.tx.io.receive(&mut buffers, &mut self.rx.lengths).min(BATCH);
        self.rx.next = 0;
        self.rx.count = received;
        self.last_full = received == BATCH;
        for (buffer, &length) in self.rx.buffers.iter().zip(&self.rx.lengths).take(received) {
            let frame = &buffer[..length.min(MAX_FRAME)];
            self.tx.counters.rx_frames += 1;
            self.tx.counters.rx_bytes += frame.len() as u64;
            if self.inspect
                && let Err(drop) = inspect(frame)
            {
                self.tx.counters.count_drop(drop);
            }
        }
    }
}

/// A received frame for the stack.
pub struct RxToken<'a> {
    frame: &'a [u8],
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, G: FnOnce(&[u8]) -> R>(self, f: G) -> R {
        f(self.frame)
    }
}

/// Room for one frame to send.
pub struct TxToken<'a, F: FrameIo> {
    queue: &'a mut TxQueue<F>,
}

impl<F: FrameIo> phy::TxToken for TxToken<'_, F> {
    fn consume<R, G: FnOnce(&mut [u8]) -> R>(self, len: usize, f: G) -> R {
        let queue = self.queue;
        if len > MAX_FRAME {
            // The stack never builds one (the MTU says so); if it did, it is not sent.
            queue.counters.tx_failed += 1;
            return f(&mut vec![0; len]);
        }
        if queue.count == BATCH {
            queue.flush();
        }
        let slot = queue.count;
        let result = f(&mut queue.buffers[slot][..len]);
        queue.lengths[slot] = len;
        queue.count += 1;
        result
    }
}

impl<F: FrameIo> phy::Device for NicDevice<F> {
    type RxToken<'a>
        = RxToken<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = TxToken<'a, F>
    where
        Self: 'a;

    fn receive(&mut self, _now: Instant) -> Option<(RxToken<'_>, TxToken<'_, F>)> {
        self.refill();
        if self.rx.next >= self.rx.count {
            return None;
        }
        let index = self.rx.next;
        self.rx.next += 1;
        let length = self.rx.lengths[index].min(MAX_FRAME);
        Some((
            RxToken { frame: &self.rx.buffers[index][..length] },
            TxToken { queue: &mut self.tx },
        ))
    }

    fn transmit(&mut self, _now: Instant) -> Option<TxToken<'_, F>> {
        Some(TxToken { queue: &mut self.tx })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = MAX_FRAME;
        caps.max_burst_size = Some(BATCH);
        caps
    }
}
