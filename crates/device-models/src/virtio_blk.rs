//! A virtio-blk device (virtio 1.x §5.2, legacy interface of 0.9.5 §2.1.2) with
//! one split queue, processed when the driver notifies.
//!
//! The model is strict where the reference driver was wrong: a write whose data
//! descriptor is marked device-writable, or a read whose data descriptor is not,
//! completes with `VIRTIO_BLK_S_IOERR` and changes nothing.

use std::cell::RefCell;
use std::rc::Rc;

use ingot_hal::{Mmio, PortIo, PortIoWide};

use crate::HostMemory;

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
    /// The disk's bytes.
    pub disk: Vec<u8>,
    memory: HostMemory,
    /// Device status register.
    pub status: u8,
    /// Features the device offers.
    pub device_features: u64,
    /// Features the driver wrote.
    pub driver_features: u64,
    feature_select: u32,
    driver_feature_select: u32,
    queue_size: u16,
    queue: Option<(u64, u64, u64)>,
    last_avail: u16,
    used_index: u16,
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
}

/// A virtio-blk device; clone handles to reach it from several fronts.
#[derive(Clone)]
pub struct VirtioBlkModel {
    state: Rc<RefCell<VirtioBlkState>>,
}

/// Features offered: SIZE_MAX, BLK_SIZE, FLUSH and (modern) VERSION_1.
pub const FEATURES: u64 = (1 << 1) | (1 << 6) | (1 << 9) | (1 << 32);

impl VirtioBlkModel {
    /// A disk of `sectors` 512-byte sectors, using `memory` for DMA.
    pub fn new(memory: HostMemory, sectors: usize) -> Self {
        let state = VirtioBlkState {
            disk: vec![0; sectors * SECTOR],
            memory,
            status: 0,
            device_features: FEATURES,
            driver_features: 0,
            feature_select: 0,
            driver_feature_select: 0,
            queue_size: QUEUE_SIZE,
            queue: None,
            last_avail: 0,
            used_index: 0,
            fail_sector: None,
            stalled: false,
            most_pending: 0,
            flushes: 0,
            serial: b"MODEL-SERIAL-1".to_vec(),
        };
        Self { state: Rc::new(RefCell::new(state)) }
    }

    /// The device state, for setting faults and checking results.
    pub fn state(&self) -> std::cell::RefMut<'_, VirtioBlkState> {
        self.state.borrow_mut()
    }

    /// The legacy I/O-port front at `base`.
    pub fn legacy(&self, base: u16) -> LegacyPorts {
        LegacyPorts { model: self.clone(), base }
    }

    /// A modern MMIO window of the given kind.
    pub fn window(&self, kind: WindowKind) -> ModernWindow {
        ModernWindow { model: self.clone(), kind }
    }
}

impl VirtioBlkState {
    fn config_byte(&self, offset: usize) -> u8 {
        let capacity = (self.disk.len() / SECTOR) as u64;
        let mut config = [0u8; 24];
        config[..8].copy_from_slice(&capacity.to_le_bytes());
        config[8..12].copy_from_slice(&(32 * 1024u32).to_le_bytes()); // size_max
        config[12..16].copy_from_slice(&126u32.to_le_bytes()); // seg_max
        config[20..24].copy_from_slice(&512u32.to_le_bytes()); // blk_size
        config.get(offset).copied().unwrap_or(0)
    }

    fn notify(&mut self) {
        let Some((desc, avail, used)) = self.queue else { return };
        if self.stalled || self.status & 4 == 0 {
            return;
        }
        let size = self.queue_size;
        let avail_index = self.memory.read_u16(avail + 2);
        self.most_pending =
            self.most_pending.max(usize::from(avail_index.wrapping_sub(self.last_avail)));
        while self.last_avail != avail_index {
            let head = self.memory.read_u16(avail + 4 + 2 * u64::from(self.last_avail % size));
            self.last_avail = self.last_avail.wrapping_add(1);
            let written = self.process(desc, head);
            let slot = u64::from(self.used_index % size);
            self.memory.write_u32(used + 4 + 8 * slot, u32::from(head));
            self.memory.write_u32(used + 8 + 8 * slot, written);
            self.used_index = self.used_index.wrapping_add(1);
            self.memory.write_u16(used + 2, self.used_index);
        }
    }

    /// Runs one chain; returns the bytes written to device-writable buffers.
    fn process(&mut self, desc: u64, head: u16) -> u32 {
        let mut chain = Vec::new();
        let mut index = head;
        loop {
            let base = desc + 16 * u64::from(index);
            let flags = self.memory.read_u16(base + 12);
            chain.push((self.memory.read_u64(base), self.memory.read_u32(base + 8), flags));
            if flags & 1 == 0 || chain.len() > usize::from(self.queue_size) {
                break;
            }
            index = self.memory.read_u16(base + 14);
        }
        let (status_address, _, status_flags) = *chain.last().expect("chain has a descriptor");
        if chain.len() < 2 || status_flags & 2 == 0 {
            return 0;
        }
        let (header_address, _, _) = chain[0];
        let kind = self.memory.read_u32(header_address);
        let sector = self.memory.read_u64(header_address + 8);
        let data = &chain[1..chain.len() - 1];
        let (status, written) = self.execute(kind, sector, data);
        self.memory.write(status_address, &[status]);
        written + 1
    }

    fn execute(&mut self, kind: u32, sector: u64, data: &[(u64, u32, u16)]) -> (u8, u32) {
        let bytes: usize = data.iter().map(|d| d.1 as usize).sum();
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
                    self.memory.write(address, &self.disk[at..at + len as usize]);
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
                    self.memory.read(address, &mut chunk);
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
                    self.memory.write(address, &id);
                }
                (STATUS_OK, 20)
            }
            _ => (STATUS_UNSUPPORTED, 0),
        }
    }

    fn set_status(&mut self, value: u8) {
        if value == 0 {
            self.queue = None;
            self.last_avail = 0;
            self.used_index = 0;
            self.driver_features = 0;
        }
        if value & 8 != 0 && self.driver_features & !self.device_features != 0 {
            self.status = value & !8;
            return;
        }
        self.status = value;
    }
}

/// The legacy register block in I/O space.
pub struct LegacyPorts {
    model: VirtioBlkModel,
    base: u16,
}

impl PortIo for LegacyPorts {
    fn read_u8(&mut self, port: u16) -> u8 {
        let s = self.model.state.borrow();
        match port.wrapping_sub(self.base) {
            0x12 => s.status,
            offset @ 0x14.. => s.config_byte(usize::from(offset - 0x14)),
            _ => 0,
        }
    }
    fn write_u8(&mut self, port: u16, value: u8) {
        if port.wrapping_sub(self.base) == 0x12 {
            self.model.state.borrow_mut().set_status(value);
        }
    }
}

impl PortIoWide for LegacyPorts {
    fn read_u16(&mut self, port: u16) -> u16 {
        match port.wrapping_sub(self.base) {
            0x0C => self.model.state.borrow().queue_size,
            _ => 0,
        }
    }
    fn write_u16(&mut self, port: u16, _value: u16) {
        if port.wrapping_sub(self.base) == 0x10 {
            self.model.state.borrow_mut().notify();
        }
    }
    fn read_u32(&mut self, port: u16) -> u32 {
        let s = self.model.state.borrow();
        match port.wrapping_sub(self.base) {
            0x00 => s.device_features as u32,
            offset @ 0x14.. => {
                let o = usize::from(offset - 0x14);
                u32::from_le_bytes([0, 1, 2, 3].map(|i| s.config_byte(o + i)))
            }
            _ => 0,
        }
    }
    fn write_u32(&mut self, port: u16, value: u32) {
        let mut s = self.model.state.borrow_mut();
        match port.wrapping_sub(self.base) {
            0x04 => s.driver_features = u64::from(value),
            0x08 => {
                let base = u64::from(value) << 12;
                let size = u64::from(s.queue_size);
                let used = (base + 16 * size + 6 + 2 * size).next_multiple_of(4096);
                s.queue = Some((base, base + 16 * size, used));
            }
            _ => {}
        }
    }
}

/// Which modern window a handle is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowKind {
    /// Common configuration.
    Common,
    /// Notification area (multiplier 4, queue 0 at offset 0).
    Notify,
    /// Device configuration.
    Device,
}

/// One modern MMIO window.
pub struct ModernWindow {
    model: VirtioBlkModel,
    kind: WindowKind,
}

impl ModernWindow {
    fn common_read(&self, offset: usize, width: usize) -> u64 {
        let s = self.model.state.borrow();
        match (offset, width) {
            (0x04, 4) => (s.device_features >> (32 * s.feature_select)) & 0xFFFF_FFFF,
            (0x12, 2) => 1,
            (0x14, 1) => u64::from(s.status),
            (0x18, 2) => u64::from(s.queue_size),
            (0x1E, 2) => 0,
            _ => 0,
        }
    }

    fn common_write(&self, offset: usize, value: u64) {
        let mut s = self.model.state.borrow_mut();
        match offset {
            0x00 => s.feature_select = value as u32 & 1,
            0x08 => s.driver_feature_select = value as u32 & 1,
            0x0C => {
                let shift = 32 * s.driver_feature_select;
                s.driver_features =
                    (s.driver_features & !(0xFFFF_FFFF << shift)) | (value << shift);
            }
            0x14 => s.set_status(value as u8),
            0x18 => s.queue_size = (value as u16).min(QUEUE_SIZE),
            0x20 | 0x28 | 0x30 => {
                let (mut desc, mut avail, mut used) = s.queue.unwrap_or((0, 0, 0));
                match offset {
                    0x20 => desc = value,
                    0x28 => avail = value,
                    _ => used = value,
                }
                s.queue = Some((desc, avail, used));
            }
            _ => {}
        }
    }
}

impl Mmio for ModernWindow {
    fn len(&self) -> usize {
        0x40
    }
    fn read_u8(&self, offset: usize) -> u8 {
        match self.kind {
            WindowKind::Common => self.common_read(offset, 1) as u8,
            WindowKind::Device => self.model.state.borrow().config_byte(offset),
            WindowKind::Notify => 0,
        }
    }
    fn read_u16(&self, offset: usize) -> u16 {
        match self.kind {
            WindowKind::Common => self.common_read(offset, 2) as u16,
            _ => u16::from_le_bytes([self.read_u8(offset), self.read_u8(offset + 1)]),
        }
    }
    fn read_u32(&self, offset: usize) -> u32 {
        match self.kind {
            WindowKind::Common => self.common_read(offset, 4) as u32,
            _ => u32::from(self.read_u16(offset)) | (u32::from(self.read_u16(offset + 2)) << 16),
        }
    }
    fn write_u8(&self, offset: usize, value: u8) {
        if self.kind == WindowKind::Common {
            self.common_write(offset, u64::from(value));
        }
    }
    fn write_u16(&self, offset: usize, value: u16) {
        match self.kind {
            WindowKind::Common => self.common_write(offset, u64::from(value)),
            WindowKind::Notify if offset == 0 => self.model.state.borrow_mut().notify(),
            _ => {}
        }
    }
    fn write_u32(&self, offset: usize, value: u32) {
        if self.kind == WindowKind::Common {
            match offset {
                0x24 | 0x2C | 0x34 => {
                    // High halves of the queue addresses.
                    let mut s = self.model.state.borrow_mut();
                    let (mut d, mut a, mut u) = s.queue.unwrap_or((0, 0, 0));
                    let high = u64::from(value) << 32;
                    match offset {
                        0x24 => d = (d & 0xFFFF_FFFF) | high,
                        0x2C => a = (a & 0xFFFF_FFFF) | high,
                        _ => u = (u & 0xFFFF_FFFF) | high,
                    }
                    s.queue = Some((d, a, u));
                }
                _ => self.common_write(offset, u64::from(value)),
            }
        }
    }
}
