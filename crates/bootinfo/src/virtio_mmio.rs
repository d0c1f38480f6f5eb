//! `virtio_mmio.device=<size>@<base>:<irq>[:<id>]`: how microVM hosts (Firecracker,
//! QEMU's microvm) name virtio-mmio devices on the kernel command line, in Linux's
//! syntax (`drivers/virtio/virtio_mmio.c`). `size` takes a `K`, `M` or `G` suffix;
//! numbers are decimal or `0x` hexadecimal. An entry is only accepted when the
//! window can hold the register block, does not wrap, does not touch page 0 and
//! repeats no earlier base; anything else is refused with the reason, so a
//! malformed entry is never mapped.

/// Entries kept; QEMU's microvm has 24 transports.
pub const MAX_DEVICES: usize = 32;

/// Bytes of the virtio-mmio register block before the device configuration.
pub const MIN_WINDOW: u64 = 0x100;

/// One virtio-mmio device as the command line describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MmioDevice {
    /// Physical address of the register window.
    pub base: u64,
    /// Bytes in the window.
    pub size: u64,
    /// Interrupt line (GSI) the host wired it to.
    pub irq: u32,
    /// Linux's optional platform-device id.
    pub id: Option<u32>,
}

/// Why an entry was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryError {
    /// Not `<size>@<base>:<irq>[:<id>]`.
    Syntax,
    /// A number that does not parse or does not fit.
    BadNumber,
    /// Smaller than the register block.
    TooSmall,
    /// `base + size` wraps around.
    Wraps,
    /// The window touches page 0.
    PageZero,
    /// The base is not 4-byte aligned (registers are 32-bit).
    Misaligned,
    /// An earlier entry has the same base.
    Duplicate,
    /// More than [`MAX_DEVICES`] entries.
    TooMany,
}

impl core::fmt::Display for EntryError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Syntax => "expected <size>@<base>:<irq>[:<id>]",
            Self::BadNumber => "a number does not parse",
            Self::TooSmall => "window smaller than the 0x100-byte registers",
            Self::Wraps => "window wraps past the end of the address space",
            Self::PageZero => "window touches page 0",
            Self::Misaligned => "base not 4-byte aligned",
            Self::Duplicate => "same base as an earlier entry",
            Self::TooMany => "more entries than the kernel keeps",
        })
    }
}

/// Parses one entry's value (without the `virtio_mmio.device=` key).
pub fn parse_entry(value: &str) -> Result<MmioDevice, EntryError> {
    let (size, rest) = value.split_once('@').ok_or(EntryError::Syntax)?;
    let mut parts = rest.split(':');
    let base = parts.next().ok_or(EntryError::Syntax)?;
    let irq = parts.next().ok_or(EntryError::Syntax)?;
    let id = parts.next();
    if parts.next().is_some() {
        return Err(EntryError::Syntax);
    }
    let size = size_with_suffix(size)?;
    let base = number(base)?;
    let irq = u32::try_from(number(irq)?).map_err(|_| EntryError::BadNumber)?;
    let id = id.map(|id| u32::try_from(number(id)?).map_err(|_| EntryError::BadNumber));
    let id = id.transpose()?;
    check(MmioDevice { base, size, irq, id })
}

/// Accepts `device` if its window can hold the registers, does not wrap, keeps off
/// page 0 and is 4-byte aligned.
pub fn check(device: MmioDevice) -> Result<MmioDevice, EntryError> {
    let MmioDevice { base, size, .. } = device;
    if size < MIN_WINDOW {
        return Err(EntryError::TooSmall);
    }
    base.checked_add(size).ok_or(EntryError::Wraps)?;
    if base < 4096 {
        return Err(EntryError::PageZero);
    }
    if !base.is_multiple_of(4) {
        return Err(EntryError::Misaligned);
    }
    Ok(device)
}

/// A decimal or `0x` hexadecimal number.
fn number(text: &str) -> Result<u64, EntryError> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.map_err(|_| EntryError::BadNumber)
}

/// A number with an optional `K`, `M` or `G` suffix (either case), as Linux's
/// `memparse` reads sizes.
fn size_with_suffix(text: &str) -> Result<u64, EntryError> {
    let (head, last) = crate::cmdline::split_at(text, text.len().saturating_sub(1));
    let (digits, shift) = match last {
        "k" | "K" => (head, 10),
        "m" | "M" => (head, 20),
        "g" | "G" => (head, 30),
        _ => (text, 0),
    };
    let value = number(digits)?;
    value.checked_mul(1 << shift).ok_or(EntryError::BadNumber)
}

/// The entries accepted so far, in command-line order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MmioDevices {
    entries: [Option<MmioDevice>; MAX_DEVICES],
    count: usize,
}

impl Default for MmioDevices {
    fn default() -> Self {
        Self { entries: [None; MAX_DEVICES], count: 0 }
    }
}

impl MmioDevices {
    /// Parses `value` and keeps it, or says why not.
    pub fn add(&mut self, value: &str) -> Result<MmioDevice, EntryError> {
        self.push(parse_entry(value)?)
    }

    /// Checks `device` (found elsewhere: the ACPI tables) and keeps it, or says why not.
    pub fn push(&mut self, device: MmioDevice) -> Result<MmioDevice, EntryError> {
        let device = check(device)?;
        if self.iter().any(|known| known.base == device.base) {
            return Err(EntryError::Duplicate);
        }
        let slot = self.entries.get_mut(self.count).ok_or(EntryError::TooMany)?;
        *slot = Some(device);
        self.count += 1;
        Ok(device)
    }

    /// The accepted entries in order.
    pub fn iter(&self) -> impl Iterator<Item = MmioDevice> + '_ {
        self.entries[..self.count].iter().flatten().copied()
    }

    /// How many were accepted.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether none were.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_and_firecracker_and_qemu_forms_parse() {
        assert_eq!(
            parse_entry("512@0xfeb02e00:47"),
            Ok(MmioDevice { base: 0xFEB0_2E00, size: 512, irq: 47, id: None })
        );
        assert_eq!(
            parse_entry("4K@0xd0000000:5"),
            Ok(MmioDevice { base: 0xD000_0000, size: 4096, irq: 5, id: None })
        );
        assert_eq!(
            parse_entry("0x1000@0xd0001000:6:3"),
            Ok(MmioDevice { base: 0xD000_1000, size: 4096, irq: 6, id: Some(3) })
        );
        assert_eq!(parse_entry("1m@4096:0").map(|d| (d.size, d.base)), Ok((1 << 20, 4096)));
        assert_eq!(parse_entry("1G@0x100000000:12").map(|d| d.size), Ok(1 << 30));
    }

    #[test]
    fn malformed_entries_are_refused_with_the_reason() {
        let cases = [
            ("", EntryError::Syntax),
            ("512", EntryError::Syntax),
            ("512@0xfeb00000", EntryError::Syntax),
            ("512@0xfeb00000:5:1:2", EntryError::Syntax),
            ("512@:5", EntryError::BadNumber),
            ("x@0xfeb00000:5", EntryError::BadNumber),
            ("512@0xfeb0zz00:5", EntryError::BadNumber),
            ("512@0xfeb00000:-1", EntryError::BadNumber),
            ("512@0xfeb00000:4294967296", EntryError::BadNumber),
            ("512@0xfeb00000:5:x", EntryError::BadNumber),
            ("99999999999G@0x1000:5", EntryError::BadNumber),
            ("0x80@0xfeb00000:5", EntryError::TooSmall),
            ("0@0xfeb00000:5", EntryError::TooSmall),
            ("4K@0xfffffffffffff000:5", EntryError::Wraps),
            ("4K@0x0:5", EntryError::PageZero),
            ("512@0xfeb00002:5", EntryError::Misaligned),
        ];
        for (value, error) in cases {
            assert_eq!(parse_entry(value), Err(error), "{value:?}");
        }
        assert_eq!(
            EntryError::TooSmall.to_string(),
            "window smaller than the 0x100-byte registers"
        );
    }

    #[test]
    fn duplicates_and_overflow_are_refused_and_the_rest_kept_in_order() {
        let mut devices = MmioDevices::default();
        assert!(devices.is_empty());
        devices.add("512@0xfeb02e00:47").unwrap();
        devices.add("512@0xfeb02c00:46").unwrap();
        assert_eq!(devices.add("4K@0xfeb02e00:47"), Err(EntryError::Duplicate));
        let bases: Vec<u64> = devices.iter().map(|d| d.base).collect();
        assert_eq!(bases, [0xFEB0_2E00, 0xFEB0_2C00]);
        for n in 2..MAX_DEVICES as u64 {
            devices.add(&format!("512@{:#x}:5", 0xD000_0000 + n * 0x1000)).unwrap();
        }
        assert_eq!(devices.add("512@0xe0000000:5"), Err(EntryError::TooMany));
        let found = MmioDevice { base: 0xFEB0_2A00, size: 0x200, irq: 45, id: None };
        assert_eq!(MmioDevices::default().push(found), Ok(found));
        let tiny = MmioDevice { size: 0x10, ..found };
        assert_eq!(MmioDevices::default().push(tiny), Err(EntryError::TooSmall));
        assert_eq!(devices.len(), MAX_DEVICES);
    }
}
