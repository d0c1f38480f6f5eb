//! A virtio-net device (virtio 1.x §5.1) behind the shared virtio transport model:
//! receive queue 0, transmit queue 1, the MAC and link status in configuration space,
//! and merged receive buffers when the driver accepts them.
//!
//! Transmitted frames are recorded without their `virtio_net_hdr`; frames the test
//! wants received wait in a queue until the driver has posted buffers for them.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use crate::HostMemory;
use crate::virtio::{LegacyPorts, ModernWindow, VirtioCore, VirtioDevice, WindowKind};
use crate::virtio_mmio::MmioFront;

/// Queue size the device offers (QEMU's default for both queues).
pub const QUEUE_SIZE: u16 = 256;
/// `VIRTIO_NET_F_MAC`.
pub const F_MAC: u64 = 1 << 5;
/// `VIRTIO_NET_F_MRG_RXBUF`.
pub const F_MRG_RXBUF: u64 = 1 << 15;
/// `VIRTIO_NET_F_STATUS`.
pub const F_STATUS: u64 = 1 << 16;
/// `VIRTIO_F_VERSION_1`.
pub const F_VERSION_1: u64 = 1 << 32;

/// Device state shared by the register fronts.
pub struct VirtioNetState {
    /// Status, features and queues.
    pub core: VirtioCore,
    /// The station address in configuration space.
    pub mac: [u8; 6],
    /// The link bit of the configuration `status` field.
    pub link_up: bool,
    /// Frames the driver transmitted, without the virtio header.
    pub sent: Vec<Vec<u8>>,
    /// Frames waiting for receive buffers.
    pub incoming: VecDeque<Vec<u8>>,
    /// The device stops taking transmit chains.
    pub stalled: bool,
    /// Transmit chains taken and not yet returned, most at once.
    pub most_tx_pending: usize,
}

/// A virtio-net device; clone handles to reach it from several fronts.
#[derive(Clone)]
pub struct VirtioNetModel {
    state: Rc<RefCell<VirtioNetState>>,
}

impl VirtioNetModel {
    /// A NIC with station address `mac` offering `features` (a subset of
    /// `F_MAC | F_MRG_RXBUF | F_STATUS | F_VERSION_1`), using `memory` for DMA.
    pub fn new(memory: HostMemory, mac: [u8; 6], features: u64) -> Self {
        let state = VirtioNetState {
            core: VirtioCore::new(memory, features, 2, QUEUE_SIZE),
            mac,
            link_up: true,
            sent: Vec::new(),
            incoming: VecDeque::new(),
            stalled: false,
            most_tx_pending: 0,
        };
        Self { state: Rc::new(RefCell::new(state)) }
    }

    /// The device state, for setting faults and checking results.
    pub fn state(&self) -> std::cell::RefMut<'_, VirtioNetState> {
        self.state.borrow_mut()
    }

    /// The legacy I/O-port front at `base`.
    pub fn legacy(&self, base: u16) -> LegacyPorts<VirtioNetState> {
        LegacyPorts::new(self.state.clone(), base)
    }

    /// The virtio-mmio register block, `version` 1 (legacy) or 2 (modern).
    pub fn mmio(&self, version: u32) -> MmioFront<VirtioNetState> {
        MmioFront::new(self.state.clone(), version, 1)
    }

    /// A modern MMIO window of the given kind.
    pub fn window(&self, kind: WindowKind) -> ModernWindow<VirtioNetState> {
        ModernWindow::new(self.state.clone(), kind)
    }

    /// A frame arrives from the wire; it is written into receive buffers as soon as
    /// the driver has posted enough.
    pub fn deliver(&self, frame: &[u8]) {
        let mut state = self.state.borrow_mut();
        state.incoming.push_back(frame.to_vec());
        state.fill_receive_buffers();
    }

    /// The device completes one receive buffer with fewer bytes than a header: a
    /// broken completion the driver must drop and count as an error.
    pub fn deliver_runt(&self) {
        let mut state = self.state.borrow_mut();
        if let Some((head, _)) = state.core.pop_avail(0) {
            state.core.push_used(0, head, 4);
        }
    }
}

impl VirtioNetState {
    /// Bytes of `virtio_net_hdr` the negotiated features call for (§5.1.6).
    pub fn header_len(&self) -> usize {
        if self.core.driver_features & (F_VERSION_1 | F_MRG_RXBUF) != 0 { 12 } else { 10 }
    }

    fn merged(&self) -> bool {
        self.core.driver_features & F_MRG_RXBUF != 0
    }

    fn fill_receive_buffers(&mut self) {
        if !self.core.running() {
            return;
        }
        while let Some(frame) = self.incoming.front() {
            let mut bytes = vec![0u8; self.header_len()];
            bytes.extend_from_slice(frame);
            // Without merged buffers one chain takes the whole packet (cut if it is
            // too small); with them, as many buffers as it needs, counted in the
            // header's `num_buffers`. The driver posts buffers of one size.
            let Some(buffer_len) = self.core.peek_avail(0).map(|chain| {
                chain.iter().filter(|d| d.device_writes()).map(|d| d.len as usize).sum::<usize>()
            }) else {
                return;
            };
            let needed = if self.merged() { bytes.len().div_ceil(buffer_len.max(1)) } else { 1 };
            if self.core.pending(0) < needed {
                return;
            }
            self.incoming.pop_front();
            if self.merged() {
                bytes[10..12].copy_from_slice(&(needed as u16).to_le_bytes());
            }
            let mut at = 0;
            for _ in 0..needed {
                let Some((head, chain)) = self.core.pop_avail(0) else { break };
                let written = self.core.scatter(&chain, &bytes[at..]);
                at += written;
                self.core.push_used(0, head, written as u32);
            }
        }
    }

    fn transmit(&mut self) {
        if self.stalled || !self.core.running() {
            return;
        }
        self.most_tx_pending = self.most_tx_pending.max(self.core.pending(1));
        let header_len = self.header_len();
        while let Some((head, chain)) = self.core.pop_avail(1) {
            let bytes = self.core.gather(&chain);
            self.sent.push(bytes.get(header_len..).unwrap_or_default().to_vec());
            self.core.push_used(1, head, 0);
        }
    }
}

impl VirtioDevice for VirtioNetState {
    fn core(&mut self) -> &mut VirtioCore {
        &mut self.core
    }

    fn config_byte(&self, offset: usize) -> u8 {
        let mut config = [0u8; 12];
        config[..6].copy_from_slice(&self.mac);
        config[6] = u8::from(self.link_up);
        config[8] = 1; // max_virtqueue_pairs
        config.get(offset).copied().unwrap_or(0)
    }

    fn notified(&mut self, queue: u16) {
        match queue {
            0 => self.fill_receive_buffers(),
            1 => self.transmit(),
            _ => {}
        }
    }
}
