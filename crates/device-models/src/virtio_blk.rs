//! A virtio-blk device (virtio 1.x §5.2) with one split queue, processed when the
//! driver notifies, behind the shared virtio transport model ([`crate::virtio`]).
//!
//! The model is strict where the reference driver was wrong: a write whose data
//! descriptor is marked device-writable, or a read whose data descriptor is not,
//! completes with `VIRTIO_BLK_S_IOERR` and changes nothing.

use std::cell::RefCell;
use std::rc::Rc;

use crate::HostMemory;
use crate::virtio::{Descriptor, LegacyPorts, ModernWindow, VirtioCore, VirtioDevice};
use crate::virtio_mmio::MmioFront;

pub use crate::virtio::WindowKind;

/// Queue size the device offers.
pub const QUEUE_SIZE: u16 = 128;
const SECTOR: usize = 512;

/// Request status values.
pub const STATUS_OK: u8 = 0;
/// Device error.
pub const STATUS_IOERR: u8 = 1;
/// Unknown request type.
pub const STATUS_UNSUPPORTED: u8 = 2;

/// Device state shared by the register fronts.
pub struct VirtioBlkState {
    /// Status, features and the queue.
    pub core: VirtioCore,
    /// The disk's bytes.
    pub disk: Vec<u8>,
    /// A request touching this 512-byte sector fails with IOERR.
    pub fail_sector: Option<u64>,
    /// The device stops completing requests.
    pub stalled: bool,
    /// Most requests found waiting at one notification.
    pub most_pending: usize,
    /// Flush requests seen.
    pub flushes: usize,
    /// Serial number returned by GET_ID.
    pub serial: Vec<u8>,
    /// Largest read or write (bytes).
    pub largest_request: usize,
    /// Most data descriptors in one request.
    pub most_segments: usize,
    /// Requests wait in the queue until [`VirtioBlkState::finish_held`] (as a
    /// device working on many at once would).
    pub held: bool,
}

/// A virtio-blk device; clone handles to reach it from several fronts.
#[derive(Clone)]
pub struct VirtioBlkModel {
    state: Rc<RefCell<VirtioBlkState>>,
}

/// Features offered: SIZE_MAX, SEG_MAX, BLK_SIZE, FLUSH and (modern) VERSION_1.
pub const FEATURES: u64 = (1 << 1) | (1 << 2) | (1 << 6) | (1 << 9) | (1 << 32);
/// Largest data descriptor accepted (`size_max`).
pub const SIZE_MAX: u32 = 32 * 1024;
/// Most data descriptors in one request (`seg_max`).
pub const SEG_MAX: usize = 126;

impl VirtioBlkModel {
    /// A disk of `sectors` 512-byte sectors, using `memory` for DMA.
    pub fn new(memory: HostMemory, sectors: usize) -> Self {
        let state = VirtioBlkState {
            core: VirtioCore::new(memory, FEATURES, 1, QUEUE_SIZE),
            disk: vec![0; sectors * SECTOR],
            fail_sector: None,
            stalled: false,
            most_pending: 0,
            flushes: 0,
            serial: b"MODEL-SERIAL-1".to_vec(),
            largest_request: 0,
            most_segments: 0,
            held: false,
        };
        Self { state: Rc::new(RefCell::new(state)) }
    }

    /// The device state, for setting faults and checking results.
    pub fn state(&self) -> std::cell::RefMut<'_, VirtioBlkState> {
        self.state.borrow_mut()
    }

    /// The legacy I/O-port front at `base`.
    pub fn legacy(&self, base: u16) -> LegacyPorts<VirtioBlkState> {
        LegacyPorts::new(self.state.clone(), base)
    }

    /// The virtio-mmio register block, `version` 1 (legacy) or 2 (modern).
    pub fn mmio(&self, version: u32) -> MmioFront<VirtioBlkState> {
        MmioFront::new(self.state.clone(), version, 2)
    }

    /// A modern MMIO window of the given kind.
    pub fn window(&self, kind: WindowKind) -> ModernWindow<VirtioBlkState> {
        ModernWindow::new(self.state.clone(), kind)
    }
}

impl VirtioDevice for VirtioBlkState {
    fn core(&mut self) -> &mut VirtioCore {
        &mut self.core
    }

    fn config_byte(&self, offset: usize) -> u8 {
        let capacity = (self.disk.len() / SECTOR) as u64;
        let mut config = [0u8; 24];
        config[..8].copy_from_slice(&capacity.to_le_bytes());
        config[8..12].copy_from_slice(&SIZE_MAX.to_le_bytes());
        config[12..16].copy_from_slice(&(SEG_MAX as u32).to_le_bytes());
        config[20..24].copy_from_slice(&512u32.to_le_bytes()); // blk_size
        config.get(offset).copied().unwrap_or(0)
    }

    fn notified(&mut self, queue: u16) {
        if queue != 0 || self.stalled || self.held || !self.core.running() {
            return;
        }
        self.most_pending = self.most_pending.max(self.core.pending(0));
        while let Some((head, chain)) = self.core.pop_avail(0) {
            let written = self.process(&chain);
            self.core.push_used(0, head, written);
        }
    }
}

impl VirtioBlkState {
    /// Runs every request waiting in the queue, the last made available first (so
    /// completions come back out of order); returns how many.
    pub fn finish_held(&mut self) -> usize {
        self.most_pending = self.most_pending.max(self.core.pending(0));
        let mut waiting = Vec::new();
        while let Some(request) = self.core.pop_avail(0) {
            waiting.push(request);
        }
        for (head, chain) in waiting.iter().rev() {
            let written = self.process(chain);
            self.core.push_used(0, *head, written);
        }
        waiting.len()
    }

    /// Runs one chain; returns the bytes written to device-writable buffers.
    fn process(&mut self, chain: &[Descriptor]) -> u32 {
        let Some(status) = chain.last() else { return 0 };
        if chain.len() < 2 || !status.device_writes() {
            return 0;
        }
        let header_address = chain[0].address;
        let kind = self.core.memory.read_u32(header_address);
        let sector = self.core.memory.read_u64(header_address + 8);
        let data: Vec<_> =
            chain[1..chain.len() - 1].iter().map(|d| (d.address, d.len, d.flags)).collect();
        let (code, written) = self.execute(kind, sector, &data);
        self.core.memory.write(status.address, &[code]);
        written + 1
    }

    fn execute(&mut self, kind: u32, sector: u64, data: &[(u64, u32, u16)]) -> (u8, u32) {
        let bytes: usize = data.iter().map(|d| d.1 as usize).sum();
        if data.len() > SEG_MAX || data.iter().any(|d| d.1 > SIZE_MAX) {
            return (STATUS_IOERR, 0);
        }
        if kind <= 1 {
            self.largest_request = self.largest_request.max(bytes);
            self.most_segments = self.most_segments.max(data.len());
        }
        let start = sector as usize * SECTOR;
        let touches_failure = self.fail_sector.is_some_and(|bad| {
            let bad = bad as usize * SECTOR;
            bad >= start && bad < start + bytes.max(1)
        });
        match kind {
            0 | 1 if start + bytes > self.disk.len() || !bytes.is_multiple_of(SECTOR) => {
                (STATUS_IOERR, 0)
            }
            0 | 1 if touches_failure => (STATUS_IOERR, 0),
            0 => {
                if data.iter().any(|d| d.2 & 2 == 0) {
                    return (STATUS_IOERR, 0);
                }
                let mut at = start;
                for &(address, len, _) in data {
                    self.core.memory.write(address, &self.disk[at..at + len as usize]);
                    at += len as usize;
                }
                (STATUS_OK, bytes as u32)
            }
            1 => {
                if data.iter().any(|d| d.2 & 2 != 0) {
                    return (STATUS_IOERR, 0);
                }
                let mut at = start;
                for &(address, len, _) in data {
                    let mut chunk = vec![0; len as usize];
                    self.core.memory.read(address, &mut chunk);
                    self.disk[at..at + len as usize].copy_from_slice(&chunk);
                    at += len as usize;
                }
                (STATUS_OK, 0)
            }
            4 => {
                self.flushes += 1;
                (STATUS_OK, 0)
            }
            8 => {
                let mut id = [0u8; 20];
                let n = self.serial.len().min(20);
                id[..n].copy_from_slice(&self.serial[..n]);
                if let Some(&(address, _, _)) = data.first() {
                    self.core.memory.write(address, &id);
                }
                (STATUS_OK, 20)
            }
            _ => (STATUS_UNSUPPORTED, 0),
        }
    }
}
