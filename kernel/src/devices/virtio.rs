//! Starting virtio devices: for a PCI function the transport (modern capability
//! windows when the function has them, as modern and transitional devices do; legacy
//! I/O ports otherwise), then the block or network driver on top of it. virtio-mmio
//! devices (`super::mmio`) come with their transport and share the second half.

use alloc::boxed::Box;

use crate::time::KernelClock;
use ingot_pci::{PciConfig, PciFunction, capability_ids, command};
use ingot_platform::mmio::MmioRegion;
use ingot_platform::pci_config::ConfigAccess;
use ingot_virtio::pci::{Window, modern_windows};
use ingot_virtio::transport::{LegacyTransport, ModernTransport, Transport};

use super::{Found, KernelDma, io_bar, map_memory_bar};

/// The transport of `function` and the name of its interface.
fn transport(
    config: &ConfigAccess,
    function: &PciFunction,
) -> Result<(Box<dyn Transport + Send>, &'static str), &'static str> {
    function.enable(
        config,
        command::MEMORY_SPACE
            | command::IO_SPACE
            | command::BUS_MASTER
            | command::INTERRUPT_DISABLE,
    );
    let windows = modern_windows(
        |offset| config.read_u32(function.address, offset),
        function.capabilities_with(capability_ids::VENDOR).map(|c| c.offset),
    );
    if let Some(windows) = windows {
        let map = |window: Window| -> Result<MmioRegion, &'static str> {
            let (bar, offset) = (usize::from(window.bar), u64::from(window.offset));
            map_memory_bar(config, function, bar, offset, Some(u64::from(window.len)))
        };
        let (common, notify, device) =
            (map(windows.common)?, map(windows.notify.0)?, map(windows.device)?);
        let transport = ModernTransport::new(common, notify, windows.notify.1, device);
        return Ok((Box::new(transport), "modern"));
    }
    let (base, ports) =
        io_bar(config, function, 0).map_err(|_| "no legacy I/O BAR and no modern capabilities")?;
    Ok((Box::new(LegacyTransport::new(ports, base)), "legacy"))
}

pub fn start_block(
    config: &ConfigAccess,
    function: &PciFunction,
    found: &mut Found,
) -> Result<(), &'static str> {
    let (transport, interface) = transport(config, function)?;
    start_virtio_blk(transport, interface, &function.address, found, Some((config, function)))
}

pub fn start_net(
    config: &ConfigAccess,
    function: &PciFunction,
    found: &mut Found,
) -> Result<(), &'static str> {
    let (transport, interface) = transport(config, function)?;
    start_virtio_net(transport, interface, &function.address, found, Some((config, function)))
}

/// Starts virtio-blk over `transport`; `location` names the device in the line
/// `ingot: virtio-blk <location> interface=<interface>`.
pub fn block_on(
    transport: Box<dyn Transport + Send>,
    interface: &str,
    location: &dyn core::fmt::Display,
    found: &mut Found,
) -> Result<(), &'static str> {
    start_virtio_blk(transport, interface, location, found, None)
}

/// [`block_on`], and on PCI with a modern transport completions signal through MSI-X
/// entry 0, so a blocking request halts the core (`irq::wait::InterruptClock`) rather
/// than spinning; legacy and virtio-mmio devices stay polled.
fn start_virtio_blk(
    transport: Box<dyn Transport + Send>,
    interface: &str,
    location: &dyn core::fmt::Display,
    found: &mut Found,
    pci: Option<(&ConfigAccess, &PciFunction)>,
) -> Result<(), &'static str> {
    use ingot_virtio_blk::{InitError, VirtioBlk};
    let event = ingot_abi::events::disk(found.disks.len() as u64);
    let clock = crate::irq::wait::InterruptClock::new();
    let mut disk = VirtioBlk::new(transport, &mut KernelDma, clock).map_err(|e| match e {
        InitError::FeaturesRefused => "device refused the feature set",
        InitError::NoQueue => "no usable request queue",
        InitError::NoMemory => "out of DMA memory",
    })?;
    let interrupts = match pci {
        Some((config, function)) if interface == "modern" && event != 0 => {
            crate::irq::enable_msix(config, function, event).filter(|_| disk.use_request_vector(0))
        }
        _ => None,
    };
    match interrupts {
        Some(vector) => {
            crate::irq::mark_interrupting(event);
            clock.set_events(event);
            crate::println!(
                "ingot: virtio-blk {location} interface={interface} irq=msix vector={vector:#x}"
            );
        }
        None => crate::println!("ingot: virtio-blk {location} interface={interface}"),
    }
    found.disks.push(Box::new(disk));
    Ok(())
}

/// Starts virtio-net over `transport`; `location` as for [`block_on`].
pub fn net_on(
    transport: Box<dyn Transport + Send>,
    interface: &str,
    location: &dyn core::fmt::Display,
    found: &mut Found,
) -> Result<(), &'static str> {
    start_virtio_net(transport, interface, location, found, None)
}

/// [`net_on`], and on PCI with a modern transport the receive queue signals through
/// MSI-X entry 0 (the NIC's event; legacy and virtio-mmio devices stay polled).
fn start_virtio_net(
    transport: Box<dyn Transport + Send>,
    interface: &str,
    location: &dyn core::fmt::Display,
    found: &mut Found,
    pci: Option<(&ConfigAccess, &PciFunction)>,
) -> Result<(), &'static str> {
    use ingot_virtio_net::{InitError, VirtioNet};
    let nic = VirtioNet::new(transport, &mut KernelDma, KernelClock).map_err(|e| match e {
        InitError::FeaturesRefused => "device refused the feature set",
        InitError::NoMac => "device has no MAC address",
        InitError::NoQueue => "no usable receive or transmit queue",
        InitError::NoMemory => "out of DMA memory",
    })?;
    let mut nic = nic;
    let event = ingot_abi::events::net(found.nics.len() as u64);
    let interrupts = match pci {
        Some((config, function)) if interface == "modern" && event != 0 => {
            crate::irq::enable_msix(config, function, event).filter(|_| nic.use_receive_vector(0))
        }
        _ => None,
    };
    match interrupts {
        Some(vector) => {
            crate::irq::mark_interrupting(event);
            crate::println!(
                "ingot: virtio-net {location} interface={interface} irq=msix vector={vector:#x}"
            );
        }
        None => crate::println!("ingot: virtio-net {location} interface={interface}"),
    }
    found.nics.push(Box::new(nic));
    Ok(())
}
