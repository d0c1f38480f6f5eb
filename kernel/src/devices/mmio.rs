//! virtio-mmio devices, the devices of microVMs (QEMU `-M microvm`, Firecracker),
//! which have no PCI: each is one register window the host names on the command
//! line (`virtio_mmio.device=<size>@<base>:<irq>`, parsed by `ingot-bootinfo`) or
//! describes in the ACPI DSDT (QEMU's microvm; found by `ingot-acpi`).
//! Every window goes through the platform's device-window mapping (which refuses RAM,
//! ACPI memory, the kernel and page 0), is probed read-only for the virtio magic,
//! version and device type, and is then handed to the driver for that type in
//! [`MMIO_DRIVERS`]: the same virtio-blk and virtio-net start code PCI devices use.
//! One line per entry, like the PCI lines:
//! `ingot: virtio-mmio <base> size=<bytes> irq=<n> type=<t> version=<1|2> driver=<name|none>`.

use alloc::boxed::Box;
use core::fmt;

use ingot_bootinfo::virtio_mmio::{MmioDevice, MmioDevices};
use ingot_mem::MemError;
use ingot_platform::mmio::MmioRegion;
use ingot_virtio::mmio::{Identity, ProbeError, probe};
use ingot_virtio::transport::Transport;

use super::{Found, virtio};
use crate::println;

/// Starts a driver over a probed transport: the transport, the interface name
/// (`legacy` or `modern`), the device's location for its line, and where to add
/// what it found.
pub type MmioStartFn =
    fn(Box<dyn Transport + Send>, &str, &dyn fmt::Display, &mut Found) -> Result<(), &'static str>;

/// A driver for virtio-mmio devices of one virtio device type.
pub struct MmioDriver {
    /// Name printed as `driver=<name>`.
    pub name: &'static str,
    /// virtio device type it takes (virtio §5).
    pub device_type: u32,
    /// See [`MmioStartFn`].
    pub start: MmioStartFn,
}

/// Drivers for virtio-mmio devices.
pub static MMIO_DRIVERS: &[MmioDriver] = &[
    MmioDriver { name: "virtio-blk", device_type: 2, start: virtio::block_on },
    MmioDriver { name: "virtio-net", device_type: 1, start: virtio::net_on },
];

/// How a virtio-mmio device is named in driver lines: `mmio@<base>`.
struct Location(u64);

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mmio@{:#x}", self.0)
    }
}

/// Maps, probes and starts every device of `devices`, in command-line order.
pub fn start_all(devices: &MmioDevices, found: &mut Found) {
    for device in devices.iter() {
        let (base, size, irq) = (device.base, device.size, device.irq);
        match start(&device, found) {
            Ok((identity, driver)) => println!(
                "ingot: virtio-mmio {base:#x} size={size:#x} irq={irq} type={} version={} driver={}",
                identity.device_type,
                identity.version,
                driver.unwrap_or("none")
            ),
            Err(why) => println!("ingot: virtio-mmio {base:#x} size={size:#x} irq={irq}: {why}"),
        }
    }
}

/// Why a device did not start, for its line (formatted in place: no allocation).
enum StartError {
    NoKernelMemory,
    NotADeviceWindow,
    CannotMap(MemError),
    Probe(ProbeError),
    Driver(&'static str, &'static str),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::NoKernelMemory => f.write_str("no kernel memory"),
            StartError::NotADeviceWindow => {
                f.write_str("refused: not a device window (RAM, ACPI, the kernel or page 0)")
            }
            StartError::CannotMap(error) => write!(f, "cannot map the window ({error})"),
            StartError::Probe(error) => write!(f, "{error}"),
            StartError::Driver(driver, why) => write!(f, "{driver} did not start: {why}"),
        }
    }
}

/// Starts one device; returns what it is and the driver that took it (`None`: a
/// device type without a driver).
fn start(
    device: &MmioDevice,
    found: &mut Found,
) -> Result<(Identity, Option<&'static str>), StartError> {
    let registers = crate::memory::with_kernel_memory(|memory| {
        MmioRegion::from_device_window(
            &mut memory.space,
            &mut memory.frames,
            device.base,
            device.size,
        )
    })
    .ok_or(StartError::NoKernelMemory)?
    .map_err(|error| match error {
        MemError::InvalidRange => StartError::NotADeviceWindow,
        other => StartError::CannotMap(other),
    })?;
    let (transport, identity) = probe(registers).map_err(StartError::Probe)?;
    let Some(driver) = MMIO_DRIVERS.iter().find(|d| d.device_type == identity.device_type) else {
        return Ok((identity, None));
    };
    let interface = if identity.version == 2 { "modern" } else { "legacy" };
    (driver.start)(Box::new(transport), interface, &Location(device.base), found)
        .map_err(|why| StartError::Driver(driver.name, why))?;
    Ok((identity, Some(driver.name)))
}
