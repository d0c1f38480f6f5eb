//! The two ways a virtio PCI device exposes its registers: the legacy I/O-port
//! block (virtio 0.9.5, BAR0) and the modern capability-described MMIO windows
//! (virtio 1.x §4.1.4). The driver above sees only [`Transport`].

use ingot_hal::{Mmio, PortIoWide};

/// Device status bits (virtio §2.1).
pub mod status {
    /// The guest noticed the device.
    pub const ACKNOWLEDGE: u8 = 1;
    /// The guest has a driver for it.
    pub const DRIVER: u8 = 2;
    /// The driver is ready.
    pub const DRIVER_OK: u8 = 4;
    /// Feature negotiation done (modern only).
    pub const FEATURES_OK: u8 = 8;
    /// The device hit an error it cannot recover from.
    pub const NEEDS_RESET: u8 = 64;
    /// The driver gave up on the device.
    pub const FAILED: u8 = 128;
}

/// Register access common to both interfaces.
pub trait Transport {
    /// Whether this is the modern (virtio 1.x) interface.
    fn is_modern(&self) -> bool;
    /// Device status register.
    fn status(&mut self) -> u8;
    /// Writes the device status register (0 resets the device).
    fn set_status(&mut self, value: u8);
    /// Feature bits the device offers (legacy: only the low 32).
    fn device_features(&mut self) -> u64;
    /// Feature bits the driver accepts.
    fn set_driver_features(&mut self, features: u64);
    /// Largest size of queue `queue` (0: no such queue). Legacy devices use exactly this size.
    fn queue_max_size(&mut self, queue: u16) -> u16;
    /// Tells the device where queue `queue` of `size` entries lives and enables it.
    /// `ring` is the physical address of the legacy layout (descriptors, then the
    /// available ring, then the used ring at the next 4 KiB boundary).
    fn setup_queue(&mut self, queue: u16, size: u16, ring: u64, used_offset: u64);
    /// Tells the device queue `queue` has new buffers.
    fn notify(&mut self, queue: u16);
    /// Reads 32 bits of device-specific configuration.
    fn config_u32(&mut self, offset: u16) -> u32;
    /// Reads one byte of device-specific configuration.
    fn config_u8(&mut self, offset: u16) -> u8;
    /// Has the device signal used buffers of `queue` with MSI-X table entry `entry`;
    /// `false` when the transport cannot (legacy and virtio-mmio: no MSI-X) or the
    /// device refused (it reads back "no vector").
    fn set_queue_vector(&mut self, _queue: u16, _entry: u16) -> bool {
        false
    }
    /// Reads 16 bits of device-specific configuration.
    fn config_u16(&mut self, offset: u16) -> u16 {
        u16::from(self.config_u8(offset)) | (u16::from(self.config_u8(offset + 1)) << 8)
    }
    /// Reads 64 bits of device-specific configuration (two 32-bit halves).
    fn config_u64(&mut self, offset: u16) -> u64 {
        u64::from(self.config_u32(offset)) | (u64::from(self.config_u32(offset + 4)) << 32)
    }
}

/// Legacy register block offsets (virtio 0.9.5 §2.1.2, no MSI-X).
mod legacy {
    pub const DEVICE_FEATURES: u16 = 0x00;
    pub const DRIVER_FEATURES: u16 = 0x04;
    pub const QUEUE_ADDRESS: u16 = 0x08;
    pub const QUEUE_SIZE: u16 = 0x0C;
    pub const QUEUE_SELECT: u16 = 0x0E;
    pub const QUEUE_NOTIFY: u16 = 0x10;
    pub const STATUS: u16 = 0x12;
    pub const CONFIG: u16 = 0x14;
}

/// The legacy interface: registers in I/O space starting at `base` (BAR0).
pub struct LegacyTransport<P> {
    ports: P,
    base: u16,
}

impl<P: PortIoWide> LegacyTransport<P> {
    /// Registers at I/O port `base`.
    pub fn new(ports: P, base: u16) -> Self {
        Self { ports, base }
    }
}

impl<P: PortIoWide> Transport for LegacyTransport<P> {
    fn is_modern(&self) -> bool {
        false
    }
    fn status(&mut self) -> u8 {
        self.ports.read_u8(self.base + legacy::STATUS)
    }
    fn set_status(&mut self, value: u8) {
        self.ports.write_u8(self.base + legacy::STATUS, value);
    }
    fn device_features(&mut self) -> u64 {
        u64::from(self.ports.read_u32(self.base + legacy::DEVICE_FEATURES))
    }
    fn set_driver_features(&mut self, features: u64) {
        self.ports.write_u32(self.base + legacy::DRIVER_FEATURES, features as u32);
    }
    fn queue_max_size(&mut self, queue: u16) -> u16 {
        self.ports.write_u16(self.base + legacy::QUEUE_SELECT, queue);
        self.ports.read_u16(self.base + legacy::QUEUE_SIZE)
    }
    fn setup_queue(&mut self, queue: u16, _size: u16, ring: u64, _used_offset: u64) {
        self.ports.write_u16(self.base + legacy::QUEUE_SELECT, queue);
        self.ports.write_u32(self.base + legacy::QUEUE_ADDRESS, (ring >> 12) as u32);
    }
    fn notify(&mut self, queue: u16) {
        self.ports.write_u16(self.base + legacy::QUEUE_NOTIFY, queue);
    }
    fn config_u32(&mut self, offset: u16) -> u32 {
        self.ports.read_u32(self.base + legacy::CONFIG + offset)
    }
    fn config_u8(&mut self, offset: u16) -> u8 {
        self.ports.read_u8(self.base + legacy::CONFIG + offset)
    }
}

/// Common configuration structure offsets (virtio 1.x §4.1.4.3).
mod common {
    pub const DEVICE_FEATURE_SELECT: usize = 0x00;
    pub const DEVICE_FEATURE: usize = 0x04;
    pub const DRIVER_FEATURE_SELECT: usize = 0x08;
    pub const DRIVER_FEATURE: usize = 0x0C;
    pub const DEVICE_STATUS: usize = 0x14;
    pub const QUEUE_SELECT: usize = 0x16;
    pub const QUEUE_SIZE: usize = 0x18;
    pub const QUEUE_MSIX_VECTOR: usize = 0x1A;
    pub const QUEUE_ENABLE: usize = 0x1C;
    pub const QUEUE_NOTIFY_OFF: usize = 0x1E;
    pub const QUEUE_DESC: usize = 0x20;
    pub const QUEUE_DRIVER: usize = 0x28;
    pub const QUEUE_DEVICE: usize = 0x30;
}

/// Queues the modern transport keeps notification offsets for (virtio-net uses 2).
pub const MAX_QUEUES: usize = 4;

/// The modern interface: three MMIO windows found through vendor capabilities.
pub struct ModernTransport<M> {
    common: M,
    notify: M,
    notify_multiplier: u32,
    device: M,
    notify_offsets: [u32; MAX_QUEUES],
}

impl<M: Mmio> ModernTransport<M> {
    /// The common configuration, notification and device configuration windows.
    pub fn new(common: M, notify: M, notify_multiplier: u32, device: M) -> Self {
        Self { common, notify, notify_multiplier, device, notify_offsets: [0; MAX_QUEUES] }
    }
}

impl<M: Mmio> Transport for ModernTransport<M> {
    fn is_modern(&self) -> bool {
        true
    }
    fn status(&mut self) -> u8 {
        self.common.read_u8(common::DEVICE_STATUS)
    }
    fn set_status(&mut self, value: u8) {
        self.common.write_u8(common::DEVICE_STATUS, value);
    }
    fn device_features(&mut self) -> u64 {
        self.common.write_u32(common::DEVICE_FEATURE_SELECT, 0);
        let low = self.common.read_u32(common::DEVICE_FEATURE);
        self.common.write_u32(common::DEVICE_FEATURE_SELECT, 1);
        let high = self.common.read_u32(common::DEVICE_FEATURE);
        u64::from(low) | (u64::from(high) << 32)
    }
    fn set_driver_features(&mut self, features: u64) {
        self.common.write_u32(common::DRIVER_FEATURE_SELECT, 0);
        self.common.write_u32(common::DRIVER_FEATURE, features as u32);
        self.common.write_u32(common::DRIVER_FEATURE_SELECT, 1);
        self.common.write_u32(common::DRIVER_FEATURE, (features >> 32) as u32);
    }
    fn queue_max_size(&mut self, queue: u16) -> u16 {
        self.common.write_u16(common::QUEUE_SELECT, queue);
        self.common.read_u16(common::QUEUE_SIZE)
    }
    fn setup_queue(&mut self, queue: u16, size: u16, ring: u64, used_offset: u64) {
        self.common.write_u16(common::QUEUE_SELECT, queue);
        self.common.write_u16(common::QUEUE_SIZE, size);
        self.common.write_u64(common::QUEUE_DESC, ring);
        self.common.write_u64(common::QUEUE_DRIVER, ring + 16 * u64::from(size));
        self.common.write_u64(common::QUEUE_DEVICE, ring + used_offset);
        if let Some(slot) = self.notify_offsets.get_mut(usize::from(queue)) {
            *slot = u32::from(self.common.read_u16(common::QUEUE_NOTIFY_OFF));
        }
        self.common.write_u16(common::QUEUE_ENABLE, 1);
    }
    fn set_queue_vector(&mut self, queue: u16, entry: u16) -> bool {
        self.common.write_u16(common::QUEUE_SELECT, queue);
        self.common.write_u16(common::QUEUE_MSIX_VECTOR, entry);
        self.common.read_u16(common::QUEUE_MSIX_VECTOR) == entry
    }
    fn notify(&mut self, queue: u16) {
        let offset = self.notify_offsets.get(usize::from(queue)).copied().unwrap_or(0);
        self.notify.write_u16((offset * self.notify_multiplier) as usize, queue);
    }
    fn config_u32(&mut self, offset: u16) -> u32 {
        self.device.read_u32(usize::from(offset))
    }
    fn config_u8(&mut self, offset: u16) -> u8 {
        self.device.read_u8(usize::from(offset))
    }
}

/// A boxed transport, so one driver instance type serves both interfaces (the
/// kernel picks the interface at run time; this keeps one copy of the driver code).
impl<T: Transport + ?Sized> Transport for alloc::boxed::Box<T> {
    fn is_modern(&self) -> bool {
        (**self).is_modern()
    }
    fn status(&mut self) -> u8 {
        (**self).status()
    }
    fn set_status(&mut self, value: u8) {
        (**self).set_status(value)
    }
    fn device_features(&mut self) -> u64 {
        (**self).device_features()
    }
    fn set_driver_features(&mut self, features: u64) {
        (**self).set_driver_features(features)
    }
    fn queue_max_size(&mut self, queue: u16) -> u16 {
        (**self).queue_max_size(queue)
    }
    fn setup_queue(&mut self, queue: u16, size: u16, ring: u64, used_offset: u64) {
        (**self).setup_queue(queue, size, ring, used_offset)
    }
    fn notify(&mut self, queue: u16) {
        (**self).notify(queue)
    }
    fn config_u32(&mut self, offset: u16) -> u32 {
        (**self).config_u32(offset)
    }
    fn config_u8(&mut self, offset: u16) -> u8 {
        (**self).config_u8(offset)
    }
    fn set_queue_vector(&mut self, queue: u16, entry: u16) -> bool {
        (**self).set_queue_vector(queue, entry)
    }
}
