//! virtio-net driver (virtio 1.x §5.1; legacy interface of virtio 0.9.5).
//!
//! Works with modern (1af4:1041), legacy and transitional (1af4:1000) PCI devices
//! through `ingot_virtio`'s transports: receive queue 0, transmit queue 1, no control
//! queue. The MAC comes from configuration space (`VIRTIO_NET_F_MAC`), the link bit
//! from its `status` field when `VIRTIO_NET_F_STATUS` is offered (else the link is
//! taken as up), and merged receive buffers are used when offered.
//!
//! Transmit copies nothing: each frame is one chain, a shared zeroed `virtio_net_hdr`
//! followed by descriptors pointing at the caller's physical segments; a batch is
//! queued with one notification and the call returns when the device has returned
//! every chain (or the deadline marks the device failed). Receive buffers are posted
//! once and recycled after the sink copied the frame out (the one copy). A frame
//! longer than the MTU, or spread over several merged buffers, is dropped and counted;
//! a completion shorter than the header is counted as an error.
#![no_std]
#![forbid(unsafe_code)]

use ingot_hal::{Clock, Deadline, DmaAllocator, DmaBuffer};
use ingot_net::{
    ETHERNET_HEADER, FrameSink, MAX_SEGMENTS, MacAddress, NetCounters, NetDevice, NetError,
    STANDARD_MTU, Segment, check_frame,
};
use ingot_virtio::queue::{self, SplitQueue};
use ingot_virtio::transport::{Transport, status};

/// Recognising virtio-net PCI functions.
pub mod pci {
    use ingot_virtio::pci::{device_type, matches as virtio_matches};

    /// Whether vendor/device is a virtio-net function (transitional 1af4:1000 or
    /// modern 1af4:1041). Registers: the modern capability windows (any BAR) or,
    /// for legacy-only devices, the I/O BAR0.
    pub fn matches(vendor: u16, device: u16) -> bool {
        virtio_matches(device_type::NET, vendor, device)
    }
}

/// Feature bits (virtio §5.1.3).
pub mod feature {
    /// The device has a MAC address in configuration space.
    pub const MAC: u64 = 1 << 5;
    /// The driver can take packets spread over several receive buffers.
    pub const MRG_RXBUF: u64 = 1 << 15;
    /// Configuration space has a link status field.
    pub const STATUS: u64 = 1 << 16;
}

/// Queue indexes.
const RECEIVE_QUEUE: u16 = 0;
const TRANSMIT_QUEUE: u16 = 1;
/// Largest receive queue used (modern devices let us pick a smaller one).
const QUEUE_SIZE_LIMIT: u16 = 64;
/// Largest transmit queue used: room for [`MAX_TRANSMIT_SLOTS`] chains, so a whole
/// batch from a program goes to the device with one notification and one wait (each
/// wait is a round trip to the hypervisor's I/O thread, tens of microseconds or more).
const TRANSMIT_QUEUE_SIZE_LIMIT: u16 = 256;
/// Bytes of one receive buffer: header plus a whole standard frame, rounded up.
pub const RECEIVE_BUFFER_BYTES: usize = 2048;
/// Receive buffers posted at most.
pub const MAX_RECEIVE_BUFFERS: u16 = 64;
/// Descriptors of one transmit chain: the header and up to `MAX_SEGMENTS` pieces.
const TRANSMIT_DESCRIPTORS: u16 = 1 + MAX_SEGMENTS as u16;
/// Transmit chains in flight at most: the kernel's largest batch (`NET_BATCH_MAX`).
pub const MAX_TRANSMIT_SLOTS: usize = 32;
/// How long the device may take to send a batch.
pub const TIMEOUT_MS: u64 = 5_000;
/// Offsets in device configuration (virtio §5.1.4).
const CONFIG_MAC: u16 = 0;
const CONFIG_STATUS: u16 = 6;
const LINK_UP: u16 = 1;
/// Offset of `num_buffers` in the header.
const NUM_BUFFERS: usize = 10;

/// Why the device could not be brought up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitError {
    /// The device refused our feature set.
    FeaturesRefused,
    /// The device has no MAC address (`VIRTIO_NET_F_MAC` not offered).
    NoMac,
    /// A queue does not exist or is too small.
    NoQueue,
    /// No memory for rings and buffers.
    NoMemory,
}

/// A virtio-net interface.
pub struct VirtioNet<T, B, C> {
    transport: T,
    receive: SplitQueue<B>,
    transmit: SplitQueue<B>,
    /// Every receive buffer, back to back; buffer `n` is descriptor `n`.
    receive_buffers: B,
    receive_count: u16,
    /// A zeroed `virtio_net_hdr` every transmit chain starts with.
    transmit_header: B,
    transmit_slots: usize,
    transmit_busy: [bool; MAX_TRANSMIT_SLOTS],
    header_len: usize,
    merged: bool,
    link_status: bool,
    mac: MacAddress,
    counters: NetCounters,
    clock: C,
    failed: bool,
}

impl<T: Transport, B: DmaBuffer, C: Clock> VirtioNet<T, B, C> {
    /// Resets and initialises the device (virtio §3.1.1, §5.1.5) and posts the
    /// receive buffers.
    pub fn new<D: DmaAllocator<Buffer = B>>(
        mut transport: T,
        dma: &mut D,
        clock: C,
    ) -> Result<Self, InitError> {
        let wanted = feature::MAC | feature::MRG_RXBUF | feature::STATUS;
        let (accepted, running) = ingot_virtio::negotiate(&mut transport, wanted)
            .map_err(|_| InitError::FeaturesRefused)?;
        let failing = |transport: &mut T, error| {
            transport.set_status(status::FAILED);
            error
        };
        if accepted & feature::MAC == 0 {
            return Err(failing(&mut transport, InitError::NoMac));
        }
        let mut mac = [0u8; 6];
        for (offset, byte) in (CONFIG_MAC..).zip(mac.iter_mut()) {
            *byte = transport.config_u8(offset);
        }
        let sizes = (
            ingot_virtio::queue_size(&mut transport, RECEIVE_QUEUE, QUEUE_SIZE_LIMIT, 2),
            ingot_virtio::queue_size(
                &mut transport,
                TRANSMIT_QUEUE,
                TRANSMIT_QUEUE_SIZE_LIMIT,
                TRANSMIT_DESCRIPTORS,
            ),
        );
        let (Some(receive_size), Some(transmit_size)) = sizes else {
            return Err(failing(&mut transport, InitError::NoQueue));
        };
        let receive_count = receive_size.min(MAX_RECEIVE_BUFFERS);
        let memory = (
            dma.allocate(queue::layout(receive_size).0),
            dma.allocate(queue::layout(transmit_size).0),
            dma.allocate(usize::from(receive_count) * RECEIVE_BUFFER_BYTES),
            dma.allocate(16),
        );
        let (Ok(receive_ring), Ok(transmit_ring), Ok(receive_buffers), Ok(transmit_header)) =
            memory
        else {
            return Err(failing(&mut transport, InitError::NoMemory));
        };
        let receive = SplitQueue::new(receive_ring, receive_size);
        let transmit = SplitQueue::new(transmit_ring, transmit_size);
        for (index, queue) in [(RECEIVE_QUEUE, &receive), (TRANSMIT_QUEUE, &transmit)] {
            let (ring, used_offset) = queue.addresses();
            transport.setup_queue(index, queue.size(), ring, used_offset);
        }
        let merged = accepted & feature::MRG_RXBUF != 0;
        let mut nic = Self {
            transport,
            receive,
            transmit,
            receive_buffers,
            receive_count,
            transmit_header,
            transmit_slots: usize::from(transmit_size / TRANSMIT_DESCRIPTORS)
                .min(MAX_TRANSMIT_SLOTS),
            transmit_busy: [false; MAX_TRANSMIT_SLOTS],
            // §5.1.6: 12 bytes with VERSION_1 or merged buffers, 10 on legacy without.
            header_len: if merged || accepted & ingot_virtio::FEATURE_VERSION_1 != 0 {
                12
            } else {
                10
            },
            merged,
            link_status: accepted & feature::STATUS != 0,
            mac: MacAddress(mac),
            counters: NetCounters::default(),
            clock,
            failed: false,
        };
        for buffer in 0..receive_count {
            nic.post_receive_buffer(buffer);
        }
        nic.transport.set_status(running | status::DRIVER_OK);
        nic.transport.notify(RECEIVE_QUEUE);
        Ok(nic)
    }

    /// Whether merged receive buffers were negotiated.
    pub fn merged_receive_buffers(&self) -> bool {
        self.merged
    }

    /// Has the device signal received frames with MSI-X table entry `entry` (the
    /// caller programs that entry and enables MSI-X); transmit completions stay
    /// silent. `false` when the transport has no MSI-X (legacy, virtio-mmio) or the
    /// device refused the entry.
    pub fn use_receive_vector(&mut self, entry: u16) -> bool {
        let accepted = self.transport.set_queue_vector(RECEIVE_QUEUE, entry);
        self.receive.set_interrupts(accepted);
        accepted
    }

    /// Frames one batch can queue at once.
    pub fn transmit_slots(&self) -> usize {
        self.transmit_slots
    }

    fn post_receive_buffer(&mut self, buffer: u16) {
        let address =
            self.receive_buffers.physical() + (usize::from(buffer) * RECEIVE_BUFFER_BYTES) as u64;
        let segment =
            queue::Segment { address, len: RECEIVE_BUFFER_BYTES as u32, device_writes: true };
        self.receive.push(buffer, &[segment]);
    }

    /// Frees the transmit slots the device has returned. A head that is not one we
    /// queued means the device is broken: it is failed.
    fn reap_transmitted(&mut self) -> Result<(), NetError> {
        while let Some((head, _)) = self.transmit.pop_used_len() {
            let slot = usize::from(head / TRANSMIT_DESCRIPTORS);
            let ours = head % TRANSMIT_DESCRIPTORS == 0
                && slot < self.transmit_slots
                && self.transmit_busy[slot];
            if !ours {
                self.fail();
                return Err(NetError::Device(u32::from(head)));
            }
            self.transmit_busy[slot] = false;
        }
        Ok(())
    }

    /// Queues each frame of `frames` in a free slot (as many as there are free
    /// slots), notifies once and waits until the device returned all of them.
    /// Returns the number sent; [`NetError::Busy`] when no slot was free. Every
    /// frame is checked first: one bad frame refuses the whole batch.
    pub fn transmit_frames(&mut self, frames: &[&[Segment]]) -> Result<usize, NetError> {
        if self.failed {
            return Err(NetError::Failed);
        }
        for frame in frames {
            check_frame(self.mtu(), frame)?;
        }
        self.reap_transmitted()?;
        let mut queued = 0;
        for frame in frames {
            let Some(slot) = (0..self.transmit_slots).find(|&s| !self.transmit_busy[s]) else {
                break;
            };
            let mut chain =
                [queue::Segment { address: 0, len: 0, device_writes: false }; MAX_SEGMENTS + 1];
            chain[0].address = self.transmit_header.physical();
            chain[0].len = self.header_len as u32;
            for (link, piece) in chain[1..].iter_mut().zip(frame.iter()) {
                link.address = piece.physical;
                link.len = piece.len as u32;
            }
            self.transmit.push(slot as u16 * TRANSMIT_DESCRIPTORS, &chain[..frame.len() + 1]);
            self.transmit_busy[slot] = true;
            queued += 1;
        }
        if queued == 0 {
            return if frames.is_empty() { Ok(0) } else { Err(NetError::Busy) };
        }
        self.transport.notify(TRANSMIT_QUEUE);
        let deadline = Deadline::after_ms(&self.clock, TIMEOUT_MS);
        loop {
            self.reap_transmitted()?;
            if !self.transmit_busy.iter().any(|&busy| busy) {
                break;
            }
            if deadline.expired(&self.clock) {
                self.fail();
                return Err(NetError::Timeout);
            }
            core::hint::spin_loop();
        }
        let bytes: usize = frames[..queued].iter().flat_map(|f| f.iter()).map(|s| s.len).sum();
        self.counters.tx_frames += queued as u64;
        self.counters.tx_bytes += bytes as u64;
        Ok(queued)
    }

    /// Gives up on the device after it stopped answering or misbehaved.
    fn fail(&mut self) {
        self.failed = true;
        self.transport.set_status(status::FAILED);
    }

    /// Takes the next completed receive buffer: its index and the bytes written.
    fn next_received(&mut self) -> Result<Option<(u16, usize)>, NetError> {
        let Some((head, len)) = self.receive.pop_used_len() else { return Ok(None) };
        if head >= self.receive_count || len as usize > RECEIVE_BUFFER_BYTES {
            self.fail();
            return Err(NetError::Device(u32::from(head)));
        }
        Ok(Some((head, len as usize)))
    }

    fn buffer_offset(buffer: u16) -> usize {
        usize::from(buffer) * RECEIVE_BUFFER_BYTES
    }
}

impl<T: Transport, B: DmaBuffer, C: Clock> NetDevice for VirtioNet<T, B, C> {
    fn driver(&self) -> &'static str {
        "virtio-net"
    }

    fn mac(&self) -> MacAddress {
        self.mac
    }

    fn mtu(&self) -> usize {
        STANDARD_MTU
    }

    fn link_up(&mut self) -> bool {
        !self.link_status || self.transport.config_u16(CONFIG_STATUS) & LINK_UP != 0
    }

    fn transmit(&mut self, segments: &[Segment]) -> Result<(), NetError> {
        self.transmit_frames(&[segments]).map(|_| ())
    }

    fn transmit_batch(&mut self, frames: &[&[Segment]]) -> Result<usize, NetError> {
        self.transmit_frames(frames)
    }

    fn receive(&mut self, sink: &mut dyn FrameSink) -> Result<usize, NetError> {
        if self.failed {
            return Err(NetError::Failed);
        }
        let mut recycled = false;
        let outcome = loop {
            let Some((buffer, written)) = self.next_received()? else {
                break Err(NetError::WouldBlock);
            };
            let base = Self::buffer_offset(buffer);
            let mut pieces = 1;
            if self.merged && written >= self.header_len {
                pieces = self.receive_buffers.read_u16(base + NUM_BUFFERS).max(1);
            }
            // A packet spread over several buffers is longer than one buffer, so
            // longer than any frame this interface takes: drop every piece.
            for _ in 1..pieces {
                match self.next_received()? {
                    Some((extra, _)) => self.post_receive_buffer(extra),
                    None => break,
                }
            }
            let frame_len = written.saturating_sub(self.header_len);
            let accepted = if written < self.header_len + ETHERNET_HEADER {
                self.counters.rx_errors += 1;
                None
            } else if pieces > 1 || frame_len > self.mtu() + ETHERNET_HEADER {
                self.counters.rx_dropped += 1;
                None
            } else {
                let buffers = &self.receive_buffers;
                let start = base + self.header_len;
                let taken = sink
                    .accept(frame_len, &mut |offset, out| buffers.read_bytes(start + offset, out));
                if taken.is_none() {
                    self.counters.rx_dropped += 1;
                }
                taken
            };
            self.post_receive_buffer(buffer);
            recycled = true;
            if let Some(taken) = accepted {
                self.counters.rx_frames += 1;
                self.counters.rx_bytes += frame_len as u64;
                break Ok(taken);
            }
        };
        if recycled {
            self.transport.notify(RECEIVE_QUEUE);
        }
        outcome
    }

    fn counters(&self) -> NetCounters {
        self.counters
    }
}

#[cfg(test)]
mod tests;
