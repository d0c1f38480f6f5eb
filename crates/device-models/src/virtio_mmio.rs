//! The virtio-mmio register block as a device sees it (virtio 1.x §4.2.2 for
//! version 2, §4.2.4 for the legacy version 1), in front of the same
//! [`VirtioDevice`] models the PCI fronts serve. It is strict where the spec is:
//! registers below the configuration space answer only 32-bit accesses; a version 2
//! queue is used only after `QueueReady` is written, a version 1 queue only when
//! `GuestPageSize` was set before `QueuePFN`; version 1 offers no feature bits above
//! 31.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use ingot_hal::Mmio;

use crate::virtio::VirtioDevice;

/// "virt" read as a little-endian `u32`.
pub const MAGIC: u32 = 0x7472_6976;
/// Vendor ID the model reports ("QEMU", as QEMU does).
pub const VENDOR: u32 = 0x554D_4551;
/// Where the device configuration starts.
pub const CONFIG: usize = 0x100;
/// Bytes in the window (QEMU's microvm transports are 512 bytes).
pub const WINDOW_BYTES: usize = 0x200;

/// The register block of one device, version 1 or 2.
pub struct MmioFront<D> {
    device: Rc<RefCell<D>>,
    version: u32,
    device_id: u32,
    guest_page_size: Cell<u32>,
    queue_align: Cell<u32>,
    /// Version 2: descriptor, driver and device ring addresses written per queue,
    /// taken into use when `QueueReady` is set.
    pending: RefCell<HashMap<u16, [u64; 3]>>,
    /// Notifications written to `QueueNotify`, in order.
    pub notifications: Rc<RefCell<Vec<u32>>>,
}

impl<D> MmioFront<D> {
    /// The front of `device` (virtio type `device_id`) speaking `version` (1 or 2).
    pub fn new(device: Rc<RefCell<D>>, version: u32, device_id: u32) -> Self {
        Self {
            device,
            version,
            device_id,
            guest_page_size: Cell::new(0),
            queue_align: Cell::new(4096),
            pending: RefCell::new(HashMap::new()),
            notifications: Rc::new(RefCell::new(Vec::new())),
        }
    }
}

impl<D: VirtioDevice> MmioFront<D> {
    fn register_read(&self, offset: usize) -> u32 {
        let mut d = self.device.borrow_mut();
        let core = d.core();
        match offset {
            0x000 => MAGIC,
            0x004 => self.version,
            0x008 => self.device_id,
            0x00C => VENDOR,
            0x010 => match (self.version, core.feature_select) {
                (1, 0) => core.device_features as u32,
                (1, _) => 0,
                (_, select) => (core.device_features >> (32 * select)) as u32,
            },
            0x034 => {
                let max = u32::from(core.max_queue_size);
                core.selected().map_or(0, |_| max)
            }
            0x038 => core.selected().map_or(0, |q| u32::from(q.size)),
            0x040 if self.version == 1 => core
                .selected()
                .and_then(|q| q.rings)
                .map_or(0, |r| (r.0 / u64::from(self.guest_page_size.get().max(1))) as u32),
            0x044 if self.version == 2 => {
                u32::from(core.selected().is_some_and(|q| q.rings.is_some()))
            }
            0x070 => u32::from(core.status),
            _ => 0,
        }
    }

    fn register_write(&self, offset: usize, value: u32) {
        let mut d = self.device.borrow_mut();
        let core = d.core();
        let select = core.queue_select;
        match offset {
            0x014 => core.feature_select = value.min(1),
            0x020 => {
                let shift = 32 * core.driver_feature_select;
                core.driver_features =
                    (core.driver_features & !(0xFFFF_FFFF << shift)) | (u64::from(value) << shift);
            }
            0x024 => core.driver_feature_select = value.min(1),
            0x028 if self.version == 1 => self.guest_page_size.set(value),
            0x030 => core.queue_select = value as u16,
            0x038 => {
                let max = core.max_queue_size;
                if let Some(queue) = core.selected() {
                    queue.size = (value as u16).min(max);
                }
            }
            0x03C if self.version == 1 => self.queue_align.set(value),
            0x040 if self.version == 1 => {
                let page = u64::from(self.guest_page_size.get());
                let align = u64::from(self.queue_align.get().max(1));
                let Some(queue) = core.selected() else { return };
                let size = u64::from(queue.size);
                let desc = u64::from(value) * page;
                let avail = desc + 16 * size;
                let used = (avail + 6 + 2 * size).next_multiple_of(align);
                queue.rings = (value != 0 && page != 0).then_some((desc, avail, used));
            }
            0x044 if self.version == 2 => {
                let rings = self.pending.borrow().get(&select).copied().unwrap_or_default();
                if let Some(queue) = core.selected() {
                    queue.rings = (value == 1).then_some((rings[0], rings[1], rings[2]));
                }
            }
            0x050 => {
                self.notifications.borrow_mut().push(value);
                drop(d);
                self.device.borrow_mut().notified(value as u16);
            }
            0x070 => core.set_status(value as u8),
            0x080..=0x0A7 if self.version == 2 => {
                let mut pending = self.pending.borrow_mut();
                let rings = pending.entry(select).or_default();
                let part = &mut rings[(offset - 0x080) / 0x10];
                *part = if offset % 8 == 4 {
                    (*part & 0xFFFF_FFFF) | (u64::from(value) << 32)
                } else {
                    (*part & !0xFFFF_FFFF) | u64::from(value)
                };
            }
            _ => {}
        }
    }

    fn config_byte(&self, offset: usize) -> u8 {
        self.device.borrow().config_byte(offset - CONFIG)
    }
}

impl<D: VirtioDevice> Mmio for MmioFront<D> {
    fn len(&self) -> usize {
        WINDOW_BYTES
    }
    fn read_u8(&self, offset: usize) -> u8 {
        if offset >= CONFIG { self.config_byte(offset) } else { 0 }
    }
    fn read_u16(&self, offset: usize) -> u16 {
        u16::from_le_bytes([self.read_u8(offset), self.read_u8(offset + 1)])
    }
    fn read_u32(&self, offset: usize) -> u32 {
        if offset >= CONFIG {
            u32::from_le_bytes([0, 1, 2, 3].map(|i| self.config_byte(offset + i)))
        } else if offset.is_multiple_of(4) {
            self.register_read(offset)
        } else {
            0
        }
    }
    fn write_u8(&self, _offset: usize, _value: u8) {}
    fn write_u16(&self, _offset: usize, _value: u16) {}
    fn write_u32(&self, offset: usize, value: u32) {
        if offset < CONFIG && offset.is_multiple_of(4) {
            self.register_write(offset, value);
        }
    }
}
