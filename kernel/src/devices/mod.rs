//! Device discovery, one boot stage before the application cores start: enumerate
//! PCI, give every function to the first driver in [`DRIVERS`] that matches it, print
//! the PCI lines; then start the virtio-mmio devices the command line names or the
//! ACPI DSDT describes ([`mmio`], drivers in [`mmio::MMIO_DRIVERS`]); then hand the disks to `storage`
//! and the network interfaces to `net`, which number them (PCI order first, then
//! virtio-mmio in command-line order) and print their lines.
//!
//! Block and network drivers are registered alike: adding a driver is one entry in
//! [`DRIVERS`] and a small start function that maps its registers (with the helpers
//! here) and calls the driver crate's constructor. Each entry belongs to a driver
//! family, a cargo feature of the kernel ([`families`]); a function no driver of the
//! build takes but a left-out family would is reported as not supported.

// A build without any driver family uses none of the start helpers.
#![cfg_attr(
    not(any(
        feature = "virtio",
        feature = "nvme",
        feature = "ahci",
        feature = "ide",
        feature = "intel-nic",
        feature = "realtek",
        feature = "xhci"
    )),
    allow(dead_code)
)]

#[cfg(feature = "ahci")]
mod ahci;
mod families;
#[cfg(feature = "ide")]
mod ide;
#[cfg(feature = "virtio")]
mod mmio;
#[cfg(any(feature = "intel-nic", feature = "realtek"))]
mod nics;
#[cfg(feature = "nvme")]
mod nvme;
#[cfg(feature = "virtio")]
mod virtio;
#[cfg(feature = "xhci")]
mod xhci;

use alloc::vec::Vec;

use ingot_hal::{DmaAllocator, DmaError};
use ingot_pci::{PciConfig, PciFunction, command};
use ingot_platform::dma::DmaRegion;
use ingot_platform::mmio::MmioRegion;
use ingot_platform::pci_config::{ConfigAccess, EcamRegion};

use crate::net::Nic;
use crate::println;
use crate::storage::Disk;

/// What the drivers found behind the functions they started.
#[derive(Default)]
pub struct Found {
    /// Disks, in the order found.
    pub disks: Vec<Disk>,
    /// Further lanes of some of them (`storage`), by their index in `disks`.
    pub extra_lanes: Vec<(usize, Vec<Disk>)>,
    /// The events each lane of some of them raises, where not just the disk's bit.
    pub lane_events: Vec<(usize, Vec<u64>)>,
    /// Network interfaces, in the order found.
    pub nics: Vec<Nic>,
    /// USB keyboards, in the order found.
    pub keyboards: Vec<crate::input::UsbKeyboard>,
}

/// Starts a driver on a function: maps what it needs, brings the device up and
/// adds its disks or interfaces to `found`; an error says why it could not.
pub type StartFn = fn(&ConfigAccess, &PciFunction, &mut Found) -> Result<(), &'static str>;

/// One driver: its name in the PCI line, which functions it takes, how to start it.
pub struct Driver {
    /// Name printed as `driver=<name>`.
    pub name: &'static str,
    /// Whether the driver handles this function (PCI IDs or class).
    pub matches: fn(&PciFunction) -> bool,
    /// See [`StartFn`].
    pub start: StartFn,
}

/// Every driver, tried in this order for each function.
pub static DRIVERS: &[Driver] = &[
    #[cfg(feature = "virtio")]
    Driver {
        name: "virtio-blk",
        matches: |f| ingot_virtio_blk::pci::matches(f.vendor, f.device),
        start: virtio::start_block,
    },
    #[cfg(feature = "virtio")]
    Driver {
        name: "virtio-net",
        matches: |f| ingot_virtio_net::pci::matches(f.vendor, f.device),
        start: virtio::start_net,
    },
    #[cfg(feature = "nvme")]
    Driver { name: "nvme", matches: nvme::matches, start: nvme::start },
    #[cfg(feature = "ahci")]
    Driver { name: "ahci", matches: ahci::matches, start: ahci::start },
    #[cfg(feature = "ide")]
    Driver { name: "ide", matches: ide::matches, start: ide::start },
    #[cfg(feature = "intel-nic")]
    Driver { name: "e1000", matches: nics::e1000_matches, start: nics::start_e1000 },
    #[cfg(feature = "intel-nic")]
    Driver { name: "e1000e", matches: nics::e1000e_matches, start: nics::start_e1000e },
    #[cfg(feature = "intel-nic")]
    Driver { name: "ixgbe", matches: nics::ixgbe_matches, start: nics::start_ixgbe },
    #[cfg(feature = "realtek")]
    Driver { name: "r8169", matches: nics::r8169_matches, start: nics::start_r8169 },
    #[cfg(feature = "realtek")]
    Driver { name: "rtl8139", matches: nics::rtl8139_matches, start: nics::start_rtl8139 },
    #[cfg(feature = "xhci")]
    Driver { name: "xhci", matches: xhci::matches, start: xhci::start },
];

/// Enumerates PCI (ECAM over `ecam` when given, mechanism #1 otherwise), starts a
/// driver for every function one matches, then for every virtio-mmio device of
/// `virtio_mmio`, and installs what they found.
pub fn init(ecam: &[EcamRegion], virtio_mmio: &ingot_bootinfo::virtio_mmio::MmioDevices) {
    let functions = crate::pci::init(ecam);
    let mut found = Found::default();
    let mut listed = Vec::with_capacity(functions.len());
    for function in &functions {
        let driver = probe(function, &mut found);
        crate::pci::print(function, driver);
        listed.push((function, driver));
    }
    crate::pci::remember(&listed);
    #[cfg(feature = "virtio")]
    mmio::start_all(virtio_mmio, &mut found);
    #[cfg(not(feature = "virtio"))]
    for device in virtio_mmio.iter() {
        families::not_supported("virtio", &format_args!("mmio@{:#x}", device.base));
    }
    crate::storage::install(found.disks, found.extra_lanes, found.lane_events);
    crate::net::install(found.nics);
    crate::input::install_usb(found.keyboards);
}

/// Starts the driver for `function`, if there is one; returns its name when it
/// claimed the function (even if it found nothing behind it).
fn probe(function: &PciFunction, found: &mut Found) -> Option<&'static str> {
    let config = crate::pci::config()?;
    let Some(driver) = DRIVERS.iter().find(|driver| (driver.matches)(function)) else {
        families::report_left_out(function);
        return None;
    };
    match (driver.start)(config, function, found) {
        Ok(()) => Some(driver.name),
        Err(problem) => {
            println!("ingot: {} {}: {problem}", driver.name, function.address);
            None
        }
    }
}

/// ECAM regions: `pci-ecam=<base>` on the command line (segment 0, buses 0-255) if
/// given, else every region of the ACPI MCFG table.
pub fn ecam_regions(
    options: &ingot_bootinfo::cmdline::KernelOptions,
    acpi: Option<&ingot_acpi::Acpi>,
) -> Vec<EcamRegion> {
    if let Some(base) = options.pci_ecam {
        return Vec::from([EcamRegion { base, segment: 0, first_bus: 0, last_bus: 255 }]);
    }
    acpi.and_then(|acpi| acpi.mcfg.as_ref())
        .map(|mcfg| {
            mcfg.regions
                .iter()
                .map(|region| EcamRegion {
                    base: region.base_address,
                    segment: region.segment_group,
                    first_bus: region.start_bus,
                    last_bus: region.end_bus,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The virtio-mmio devices to start: the command line's `virtio_mmio.device=`
/// entries, then those the ACPI DSDT describes (QEMU's microvm) at bases not already
/// named; a DSDT window the command-line checks refuse is reported and skipped.
pub fn virtio_mmio_devices(
    options: &ingot_bootinfo::cmdline::KernelOptions,
    acpi: Option<&ingot_acpi::Acpi>,
) -> ingot_bootinfo::virtio_mmio::MmioDevices {
    use ingot_bootinfo::virtio_mmio::{EntryError, MmioDevice};
    let mut devices = options.virtio_mmio;
    for found in acpi.iter().flat_map(|acpi| acpi.virtio_mmio.iter()) {
        let device = MmioDevice {
            base: found.base,
            size: found.size,
            irq: found.irq.unwrap_or(0),
            id: None,
        };
        match devices.push(device) {
            Ok(_) | Err(EntryError::Duplicate) => {}
            Err(why) => println!("ingot: acpi: virtio-mmio {:#x} skipped: {why}", found.base),
        }
    }
    devices
}

/// DMA memory from the kernel's frames.
pub struct KernelDma;

impl DmaAllocator for KernelDma {
    type Buffer = DmaRegion;

    fn allocate(&mut self, bytes: usize) -> Result<DmaRegion, DmaError> {
        crate::memory::with_kernel_memory(|memory| DmaRegion::allocate(&mut memory.frames, bytes))
            .unwrap_or(Err(DmaError::OutOfMemory))
    }
}

/// Turns on memory decoding and bus mastering (interrupts off: every driver polls)
/// and maps `len` bytes at `offset` of memory BAR `bar` (the whole BAR when `len` is
/// `None`).
pub fn map_memory_bar(
    config: &ConfigAccess,
    function: &PciFunction,
    bar: usize,
    offset: u64,
    len: Option<u64>,
) -> Result<MmioRegion, &'static str> {
    let descriptor = function.bars.get(bar).ok_or("no such BAR")?;
    let (_, size) = descriptor.memory().ok_or("the register BAR is not a memory BAR")?;
    function
        .enable(config, command::MEMORY_SPACE | command::BUS_MASTER | command::INTERRUPT_DISABLE);
    crate::memory::with_kernel_memory(|memory| {
        MmioRegion::from_bar(
            &mut memory.space,
            &mut memory.frames,
            descriptor,
            offset,
            len.unwrap_or(size),
        )
    })
    .ok_or("no kernel memory")?
    .map_err(|_| "cannot map the register BAR")
}

/// The I/O BAR `bar`'s base port and a port handle limited to that BAR, with I/O
/// decoding and bus mastering turned on.
#[cfg_attr(not(feature = "virtio"), allow(dead_code))]
pub fn io_bar(
    config: &impl PciConfig,
    function: &PciFunction,
    bar: usize,
) -> Result<(u16, ingot_platform::io_ports::IoPorts), &'static str> {
    let bar = function.bars.get(bar).ok_or("no I/O BAR")?;
    let (base, _) = bar.io().ok_or("no I/O BAR")?;
    let ports = crate::console::bar_ports(bar).ok_or("no port I/O")?;
    function.enable(config, command::IO_SPACE | command::BUS_MASTER | command::INTERRUPT_DISABLE);
    Ok((base, ports))
}

/// Boxes each item as a disk.
#[cfg(any(feature = "nvme", feature = "ahci", feature = "ide"))]
fn add_disks<D: ingot_block::BlockDevice + Send + 'static>(
    found: &mut Found,
    disks: impl IntoIterator<Item = D>,
) {
    found.disks.extend(disks.into_iter().map(|disk| alloc::boxed::Box::new(disk) as Disk));
}
