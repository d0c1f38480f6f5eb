//! The virtio PCI transport as a device sees it (virtio 1.x §4.1.4 modern common
//! configuration; virtio 0.9.5 §2.1.2 legacy I/O block without MSI-X) and the
//! device side of split virtqueues (§2.7), shared by the virtio-blk and virtio-net
//! models. A model is a [`VirtioDevice`]: it owns a [`VirtioCore`] (status, features,
//! queues) and answers its configuration bytes and queue notifications; the generic
//! fronts [`LegacyPorts`] and [`ModernWindow`] turn register accesses into calls.

use std::cell::RefCell;
use std::rc::Rc;

use ingot_hal::{Mmio, PortIo, PortIoWide};

use crate::HostMemory;

/// Descriptor flag: the chain continues in `next`.
pub const DESC_NEXT: u16 = 1;
/// Descriptor flag: the device writes this buffer.
pub const DESC_WRITE: u16 = 2;
/// Device status: the driver is ready.
pub const STATUS_DRIVER_OK: u8 = 4;
/// Device status: features accepted.
pub const STATUS_FEATURES_OK: u8 = 8;

/// One descriptor of a chain the driver made available.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Descriptor {
    /// Physical address.
    pub address: u64,
    /// Length in bytes.
    pub len: u32,
    /// `DESC_*` flags.
    pub flags: u16,
}

impl Descriptor {
    /// Whether the device may write it.
    pub fn device_writes(&self) -> bool {
        self.flags & DESC_WRITE != 0
    }
}

/// Device-side state of one split queue.
#[derive(Debug, Clone, Copy, Default)]
pub struct QueueState {
    /// Entries (the driver may lower it on the modern interface).
    pub size: u16,
    /// Descriptor table, available ring, used ring (physical).
    pub rings: Option<(u64, u64, u64)>,
    last_avail: u16,
    used_index: u16,
    /// MSI-X table entry the queue signals with (modern interface; `None` is virtio's
    /// NO_VECTOR, the reset value).
    pub msix_entry: Option<u16>,
    /// Used-buffer notifications sent through `msix_entry` (one per used buffer
    /// unless the driver set VIRTQ_AVAIL_F_NO_INTERRUPT).
    pub msix_signals: u32,
}

/// MSI-X table entries the modelled PCI function has (a larger entry reads back as
/// NO_VECTOR, as a device refuses it).
pub const MSIX_ENTRIES: u16 = 3;

/// Status, features and queues: what every virtio device has.
pub struct VirtioCore {
    /// RAM the queues and buffers live in.
    pub memory: HostMemory,
    /// Device status register.
    pub status: u8,
    /// Features the device offers (the legacy interface shows the low 32 bits).
    pub device_features: u64,
    /// Features the driver wrote.
    pub driver_features: u64,
    /// Largest queue size offered.
    pub max_queue_size: u16,
    /// The queues.
    pub queues: Vec<QueueState>,
    pub(crate) feature_select: u32,
    pub(crate) driver_feature_select: u32,
    pub(crate) queue_select: u16,
}

impl VirtioCore {
    /// A device offering `features` and `queues` queues of up to `max_queue_size`.
    pub fn new(memory: HostMemory, features: u64, queues: usize, max_queue_size: u16) -> Self {
        Self {
            memory,
            status: 0,
            device_features: features,
            driver_features: 0,
            max_queue_size,
            queues: vec![QueueState { size: max_queue_size, ..Default::default() }; queues],
            feature_select: 0,
            driver_feature_select: 0,
            queue_select: 0,
        }
    }

    /// Whether the driver set DRIVER_OK (the device may use its queues).
    pub fn running(&self) -> bool {
        self.status & STATUS_DRIVER_OK != 0
    }

    /// Available chains not yet taken from `queue`.
    pub fn pending(&self, queue: u16) -> usize {
        let Some(state) = self.queues.get(usize::from(queue)) else { return 0 };
        let Some((_, avail, _)) = state.rings else { return 0 };
        usize::from(self.memory.read_u16(avail + 2).wrapping_sub(state.last_avail))
    }

    /// The descriptors of the next available chain of `queue`, left available.
    pub fn peek_avail(&mut self, queue: u16) -> Option<Vec<Descriptor>> {
        let last = self.queues.get(usize::from(queue))?.last_avail;
        let chain = self.pop_avail(queue).map(|(_, chain)| chain);
        self.queues[usize::from(queue)].last_avail = last;
        chain
    }

    /// Takes the next available chain of `queue`: its head and descriptors.
    pub fn pop_avail(&mut self, queue: u16) -> Option<(u16, Vec<Descriptor>)> {
        let state = self.queues.get_mut(usize::from(queue))?;
        let (desc, avail, _) = state.rings?;
        if self.memory.read_u16(avail + 2) == state.last_avail {
            return None;
        }
        let size = state.size;
        let head = self.memory.read_u16(avail + 4 + 2 * u64::from(state.last_avail % size));
        state.last_avail = state.last_avail.wrapping_add(1);
        let mut chain = Vec::new();
        let mut index = head;
        loop {
            let base = desc + 16 * u64::from(index % size);
            let flags = self.memory.read_u16(base + 12);
            chain.push(Descriptor {
                address: self.memory.read_u64(base),
                len: self.memory.read_u32(base + 8),
                flags,
            });
            if flags & DESC_NEXT == 0 || chain.len() > usize::from(size) {
                break;
            }
            index = self.memory.read_u16(base + 14);
        }
        Some((head, chain))
    }

    /// Returns chain `head` of `queue` to the driver with `written` bytes written.
    pub fn push_used(&mut self, queue: u16, head: u16, written: u32) {
        let Some(state) = self.queues.get_mut(usize::from(queue)) else { return };
        let Some((_, _, used)) = state.rings else { return };
        let slot = u64::from(state.used_index % state.size);
        self.memory.write_u32(used + 4 + 8 * slot, u32::from(head));
        self.memory.write_u32(used + 8 + 8 * slot, written);
        state.used_index = state.used_index.wrapping_add(1);
        self.memory.write_u16(used + 2, state.used_index);
        let (_, avail, _) = state.rings.unwrap_or_default();
        if state.msix_entry.is_some() && self.memory.read_u16(avail) & 1 == 0 {
            state.msix_signals += 1;
        }
    }

    /// Gathers the bytes of the device-readable descriptors of a chain.
    pub fn gather(&self, chain: &[Descriptor]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for d in chain.iter().filter(|d| !d.device_writes()) {
            let mut part = vec![0; d.len as usize];
            self.memory.read(d.address, &mut part);
            bytes.extend_from_slice(&part);
        }
        bytes
    }

    /// Scatters `data` over the device-writable descriptors of a chain; returns the
    /// bytes written (less than `data.len()` when they are too small).
    pub fn scatter(&self, chain: &[Descriptor], data: &[u8]) -> usize {
        let mut at = 0;
        for d in chain.iter().filter(|d| d.device_writes()) {
            let n = (d.len as usize).min(data.len() - at);
            self.memory.write(d.address, &data[at..at + n]);
            at += n;
        }
        at
    }

    pub(crate) fn set_status(&mut self, value: u8) {
        if value == 0 {
            let size = self.max_queue_size;
            self.queues.iter_mut().for_each(|q| *q = QueueState { size, ..Default::default() });
            self.driver_features = 0;
        }
        if value & STATUS_FEATURES_OK != 0 && self.driver_features & !self.device_features != 0 {
            self.status = value & !STATUS_FEATURES_OK;
            return;
        }
        self.status = value;
    }

    pub(crate) fn selected(&mut self) -> Option<&mut QueueState> {
        self.queues.get_mut(usize::from(self.queue_select))
    }
}

/// A device model behind the transport.
pub trait VirtioDevice {
    /// Its transport state.
    fn core(&mut self) -> &mut VirtioCore;
    /// Byte `offset` of its device-specific configuration.
    fn config_byte(&self, offset: usize) -> u8;
    /// The driver notified `queue`.
    fn notified(&mut self, queue: u16);
}

/// Legacy register offsets.
const LEGACY_CONFIG: u16 = 0x14;

/// The legacy register block in I/O space, at `base`.
pub struct LegacyPorts<D> {
    device: Rc<RefCell<D>>,
    base: u16,
}

impl<D> LegacyPorts<D> {
    /// The front of `device` at I/O port `base`.
    pub fn new(device: Rc<RefCell<D>>, base: u16) -> Self {
        Self { device, base }
    }
}

impl<D: VirtioDevice> PortIo for LegacyPorts<D> {
    fn read_u8(&mut self, port: u16) -> u8 {
        let mut d = self.device.borrow_mut();
        match port.wrapping_sub(self.base) {
            0x12 => d.core().status,
            offset @ LEGACY_CONFIG.. => d.config_byte(usize::from(offset - LEGACY_CONFIG)),
            _ => 0,
        }
    }
    fn write_u8(&mut self, port: u16, value: u8) {
        if port.wrapping_sub(self.base) == 0x12 {
            self.device.borrow_mut().core().set_status(value);
        }
    }
}

impl<D: VirtioDevice> PortIoWide for LegacyPorts<D> {
    fn read_u16(&mut self, port: u16) -> u16 {
        let mut d = self.device.borrow_mut();
        match port.wrapping_sub(self.base) {
            0x0C => d.core().selected().map_or(0, |q| q.size),
            0x0E => d.core().queue_select,
            _ => 0,
        }
    }
    fn write_u16(&mut self, port: u16, value: u16) {
        let mut d = self.device.borrow_mut();
        match port.wrapping_sub(self.base) {
            0x0E => d.core().queue_select = value,
            0x10 => d.notified(value),
            _ => {}
        }
    }
    fn read_u32(&mut self, port: u16) -> u32 {
        let mut d = self.device.borrow_mut();
        match port.wrapping_sub(self.base) {
            0x00 => d.core().device_features as u32,
            offset @ LEGACY_CONFIG.. => {
                let o = usize::from(offset - LEGACY_CONFIG);
                u32::from_le_bytes([0, 1, 2, 3].map(|i| d.config_byte(o + i)))
            }
            _ => 0,
        }
    }
    fn write_u32(&mut self, port: u16, value: u32) {
        let mut d = self.device.borrow_mut();
        let core = d.core();
        match port.wrapping_sub(self.base) {
            0x04 => core.driver_features = u64::from(value),
            0x08 => {
                let Some(queue) = core.selected() else { return };
                let base = u64::from(value) << 12;
                let size = u64::from(queue.size);
                let used = (base + 16 * size + 6 + 2 * size).next_multiple_of(4096);
                queue.rings = (value != 0).then_some((base, base + 16 * size, used));
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
    /// Notification area (multiplier 4, queue `n` at offset `4n`).
    Notify,
    /// Device configuration.
    Device,
}

/// Notification offset multiplier the model's notify window uses.
pub const NOTIFY_MULTIPLIER: u32 = 4;

/// One modern MMIO window.
pub struct ModernWindow<D> {
    device: Rc<RefCell<D>>,
    kind: WindowKind,
}

impl<D> ModernWindow<D> {
    /// The `kind` window of `device`.
    pub fn new(device: Rc<RefCell<D>>, kind: WindowKind) -> Self {
        Self { device, kind }
    }
}

impl<D: VirtioDevice> ModernWindow<D> {
    fn common_read(&self, offset: usize, width: usize) -> u64 {
        let mut d = self.device.borrow_mut();
        let core = d.core();
        let queues = core.queues.len() as u64;
        let select = core.queue_select;
        match (offset, width) {
            (0x04, 4) => (core.device_features >> (32 * core.feature_select)) & 0xFFFF_FFFF,
            (0x12, 2) => queues,
            (0x14, 1) => u64::from(core.status),
            (0x16, 2) => u64::from(select),
            (0x18, 2) => core.selected().map_or(0, |q| u64::from(q.size)),
            (0x1A, 2) => core.selected().and_then(|q| q.msix_entry).map_or(0xFFFF, u64::from),
            (0x1E, 2) => u64::from(select),
            _ => 0,
        }
    }

    fn set_ring_part(&self, offset: usize, value: u64, high: bool) {
        let mut d = self.device.borrow_mut();
        let Some(queue) = d.core().selected() else { return };
        let mut rings = queue.rings.unwrap_or((0, 0, 0));
        let part = match offset & !7 {
            0x20 => &mut rings.0,
            0x28 => &mut rings.1,
            _ => &mut rings.2,
        };
        *part = if high {
            (*part & 0xFFFF_FFFF) | (value << 32)
        } else {
            (*part & !0xFFFF_FFFF) | (value & 0xFFFF_FFFF)
        };
        queue.rings = Some(rings);
    }

    fn common_write(&self, offset: usize, value: u64) {
        if matches!(offset, 0x20..=0x37) {
            return self.set_ring_part(offset, value, offset % 8 == 4);
        }
        let mut d = self.device.borrow_mut();
        let core = d.core();
        match offset {
            0x00 => core.feature_select = value as u32 & 1,
            0x08 => core.driver_feature_select = value as u32 & 1,
            0x0C => {
                let shift = 32 * core.driver_feature_select;
                core.driver_features =
                    (core.driver_features & !(0xFFFF_FFFF << shift)) | (value << shift);
            }
            0x14 => core.set_status(value as u8),
            0x16 => core.queue_select = value as u16,
            0x18 => {
                let max = core.max_queue_size;
                if let Some(queue) = core.selected() {
                    queue.size = (value as u16).min(max);
                }
            }
            0x1A => {
                if let Some(queue) = core.selected() {
                    queue.msix_entry = (value < u64::from(MSIX_ENTRIES)).then_some(value as u16);
                }
            }
            _ => {}
        }
    }
}

impl<D: VirtioDevice> Mmio for ModernWindow<D> {
    fn len(&self) -> usize {
        0x40
    }
    fn read_u8(&self, offset: usize) -> u8 {
        match self.kind {
            WindowKind::Common => self.common_read(offset, 1) as u8,
            WindowKind::Device => self.device.borrow().config_byte(offset),
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
            WindowKind::Notify => {
                // Queue n's notify_off is n (see `common_read`), so the address names it.
                let queue = (offset / NOTIFY_MULTIPLIER as usize) as u16;
                self.device.borrow_mut().notified(queue);
            }
            WindowKind::Device => {}
        }
    }
    fn write_u32(&self, offset: usize, value: u32) {
        if self.kind == WindowKind::Common {
            self.common_write(offset, u64::from(value));
        }
    }
}
