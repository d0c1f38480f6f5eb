//! The virtio-mmio transport (virtio 1.x §4.2): one register window per device, as
//! microVMs (QEMU `-M microvm`, Firecracker, Cloud Hypervisor) attach virtio devices
//! without PCI. Version 2 is the modern interface; version 1 is the legacy one
//! (QEMU's default, `force-legacy=on`), whose queue is given as one page frame
//! number in the legacy layout [`crate::queue`] already uses. [`probe`] checks the
//! magic value, version and device type before the driver writes anything.

use ingot_hal::Mmio;

use crate::transport::Transport;

/// `MagicValue`: "virt" in little-endian.
pub const MAGIC: u32 = 0x7472_6976;

/// Bytes of the register block before the device configuration; a window shorter
/// than this cannot be a virtio-mmio device.
pub const CONFIG_OFFSET: usize = 0x100;

/// Register offsets (virtio 1.x §4.2.2, legacy §4.2.4).
mod register {
    pub const MAGIC: usize = 0x000;
    pub const VERSION: usize = 0x004;
    pub const DEVICE_ID: usize = 0x008;
    pub const VENDOR_ID: usize = 0x00C;
    pub const DEVICE_FEATURES: usize = 0x010;
    pub const DEVICE_FEATURES_SELECT: usize = 0x014;
    pub const DRIVER_FEATURES: usize = 0x020;
    pub const DRIVER_FEATURES_SELECT: usize = 0x024;
    /// Legacy only.
    pub const GUEST_PAGE_SIZE: usize = 0x028;
    pub const QUEUE_SELECT: usize = 0x030;
    pub const QUEUE_SIZE_MAX: usize = 0x034;
    pub const QUEUE_SIZE: usize = 0x038;
    /// Legacy only.
    pub const QUEUE_ALIGN: usize = 0x03C;
    /// Legacy only.
    pub const QUEUE_PFN: usize = 0x040;
    /// Modern only.
    pub const QUEUE_READY: usize = 0x044;
    pub const QUEUE_NOTIFY: usize = 0x050;
    pub const STATUS: usize = 0x070;
    pub const QUEUE_DESC: usize = 0x080;
    pub const QUEUE_DRIVER: usize = 0x090;
    pub const QUEUE_DEVICE: usize = 0x0A0;
}

/// The page size and used-ring alignment the legacy layout is built for.
const LEGACY_PAGE: u32 = 4096;

/// Why a window is not a usable virtio-mmio device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeError {
    /// The window is shorter than the register block.
    TooSmall,
    /// No "virt" magic value: not a virtio-mmio device.
    NoMagic(u32),
    /// A version other than 1 (legacy) or 2 (modern).
    UnknownVersion(u32),
    /// Device ID 0: a transport slot with no device behind it.
    Empty,
}

impl core::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::TooSmall => {
                write!(f, "window smaller than the {CONFIG_OFFSET:#x}-byte registers")
            }
            Self::NoMagic(found) => write!(f, "not a virtio-mmio device (magic {found:#010x})"),
            Self::UnknownVersion(version) => write!(f, "unknown virtio-mmio version {version}"),
            Self::Empty => write!(f, "no device behind the transport"),
        }
    }
}

/// What [`probe`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// 1 (legacy) or 2 (modern).
    pub version: u32,
    /// Device type (virtio §5: 1 net, 2 block, …).
    pub device_type: u32,
    /// Vendor ID (QEMU: "QEMU" as 0x554d4551).
    pub vendor: u32,
}

/// Reads the identification registers of `registers` and, if they describe a
/// device, returns the transport over them. Nothing is written before that.
pub fn probe<M: Mmio>(registers: M) -> Result<(MmioTransport<M>, Identity), ProbeError> {
    if registers.len() < CONFIG_OFFSET {
        return Err(ProbeError::TooSmall);
    }
    let magic = registers.read_u32(register::MAGIC);
    if magic != MAGIC {
        return Err(ProbeError::NoMagic(magic));
    }
    let version = registers.read_u32(register::VERSION);
    if !matches!(version, 1 | 2) {
        return Err(ProbeError::UnknownVersion(version));
    }
    let device_type = registers.read_u32(register::DEVICE_ID);
    if device_type == 0 {
        return Err(ProbeError::Empty);
    }
    let vendor = registers.read_u32(register::VENDOR_ID);
    Ok((
        MmioTransport { registers, modern: version == 2 },
        Identity { version, device_type, vendor },
    ))
}

/// One virtio-mmio device's registers; made by [`probe`].
pub struct MmioTransport<M> {
    registers: M,
    modern: bool,
}

impl<M: Mmio> MmioTransport<M> {
    fn read(&self, offset: usize) -> u32 {
        self.registers.read_u32(offset)
    }
    fn write(&self, offset: usize, value: u32) {
        self.registers.write_u32(offset, value);
    }
}

impl<M: Mmio> Transport for MmioTransport<M> {
    fn is_modern(&self) -> bool {
        self.modern
    }
    fn status(&mut self) -> u8 {
        self.read(register::STATUS) as u8
    }
    fn set_status(&mut self, value: u8) {
        self.write(register::STATUS, u32::from(value));
    }
    fn device_features(&mut self) -> u64 {
        self.write(register::DEVICE_FEATURES_SELECT, 0);
        let low = u64::from(self.read(register::DEVICE_FEATURES));
        if !self.modern {
            return low;
        }
        self.write(register::DEVICE_FEATURES_SELECT, 1);
        low | (u64::from(self.read(register::DEVICE_FEATURES)) << 32)
    }
    fn set_driver_features(&mut self, features: u64) {
        self.write(register::DRIVER_FEATURES_SELECT, 0);
        self.write(register::DRIVER_FEATURES, features as u32);
        if self.modern {
            self.write(register::DRIVER_FEATURES_SELECT, 1);
            self.write(register::DRIVER_FEATURES, (features >> 32) as u32);
        }
    }
    fn queue_max_size(&mut self, queue: u16) -> u16 {
        self.write(register::QUEUE_SELECT, u32::from(queue));
        // Sizes above 32768 do not exist in a split queue (§2.7).
        self.read(register::QUEUE_SIZE_MAX).min(32768) as u16
    }
    fn setup_queue(&mut self, queue: u16, size: u16, ring: u64, used_offset: u64) {
        self.write(register::QUEUE_SELECT, u32::from(queue));
        self.write(register::QUEUE_SIZE, u32::from(size));
        if self.modern {
            let halves = |at: usize, address: u64| {
                self.write(at, address as u32);
                self.write(at + 4, (address >> 32) as u32);
            };
            halves(register::QUEUE_DESC, ring);
            halves(register::QUEUE_DRIVER, ring + 16 * u64::from(size));
            halves(register::QUEUE_DEVICE, ring + used_offset);
            self.write(register::QUEUE_READY, 1);
        } else {
            // The legacy layout puts the used ring at the next 4 KiB boundary, which is
            // what a queue alignment of 4096 asks of the device.
            self.write(register::GUEST_PAGE_SIZE, LEGACY_PAGE);
            self.write(register::QUEUE_ALIGN, LEGACY_PAGE);
            self.write(register::QUEUE_PFN, (ring / u64::from(LEGACY_PAGE)) as u32);
        }
    }
    fn notify(&mut self, queue: u16) {
        self.write(register::QUEUE_NOTIFY, u32::from(queue));
    }
    fn config_u32(&mut self, offset: u16) -> u32 {
        self.registers.read_u32(CONFIG_OFFSET + usize::from(offset))
    }
    fn config_u8(&mut self, offset: u16) -> u8 {
        self.registers.read_u8(CONFIG_OFFSET + usize::from(offset))
    }
}
