//! Recognising virtio PCI functions and finding their register windows in PCI
//! configuration space (virtio 1.x §4.1.2, §4.1.4).

/// PCI vendor of every virtio device.
pub const VENDOR: u16 = 0x1AF4;

/// Device types (virtio 1.x §5).
pub mod device_type {
    /// Network card.
    pub const NET: u16 = 1;
    /// Block device.
    pub const BLOCK: u16 = 2;
}

/// PCI device ID of the transitional device of `kind` (legacy and, if present, modern
/// interfaces; virtio §4.1.2.3): 0x1000 for net, 0x1001 for block.
pub const fn transitional_id(kind: u16) -> u16 {
    0x1000 + kind - 1
}

/// PCI device ID of the modern-only device of `kind`: 0x1040 plus the type.
pub const fn modern_id(kind: u16) -> u16 {
    0x1040 + kind
}

/// Whether vendor/device is a virtio function of type `kind` (transitional or modern).
pub fn matches(kind: u16, vendor: u16, device: u16) -> bool {
    vendor == VENDOR && (device == transitional_id(kind) || device == modern_id(kind))
}

/// `cfg_type` values of virtio vendor capabilities (virtio 1.x §4.1.4).
pub mod cfg_type {
    /// Common configuration.
    pub const COMMON: u8 = 1;
    /// Notifications.
    pub const NOTIFY: u8 = 2;
    /// Device-specific configuration.
    pub const DEVICE: u8 = 4;
}

/// Where one register window lives: a BAR, an offset in it and a length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// BAR index.
    pub bar: u8,
    /// Offset in the BAR.
    pub offset: u32,
    /// Length in bytes.
    pub len: u32,
}

/// The three windows the modern interface needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModernWindows {
    /// Common configuration.
    pub common: Window,
    /// Notification area, and its queue-offset multiplier.
    pub notify: (Window, u32),
    /// Device configuration.
    pub device: Window,
}

/// Decodes vendor capabilities; `read_u32(offset)` reads configuration space and
/// `capability_offsets` lists the offsets of vendor-specific (ID 9) capabilities.
/// `None` when the function has no complete modern interface (legacy-only device).
pub fn modern_windows(
    read_u32: impl Fn(u16) -> u32,
    capability_offsets: impl Iterator<Item = u16>,
) -> Option<ModernWindows> {
    let (mut common, mut notify, mut device) = (None, None, None);
    for offset in capability_offsets {
        let head = read_u32(offset);
        let kind = (head >> 24) as u8;
        let window = Window {
            bar: read_u32(offset + 4) as u8,
            offset: read_u32(offset + 8),
            len: read_u32(offset + 12),
        };
        if window.bar > 5 {
            continue;
        }
        // The first capability of each type is the preferred one (virtio §4.1.4).
        match kind {
            cfg_type::COMMON if common.is_none() => common = Some(window),
            cfg_type::NOTIFY if notify.is_none() => notify = Some((window, read_u32(offset + 16))),
            cfg_type::DEVICE if device.is_none() => device = Some(window),
            _ => {}
        }
    }
    Some(ModernWindows { common: common?, notify: notify?, device: device? })
}
