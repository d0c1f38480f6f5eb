//! Device discovery, one boot stage before the application cores start: enumerate
//! PCI, give every function to the first driver in [`DRIVERS`] that matches it, print
//! the PCI lines, then hand the disks to `storage` and the network interfaces to
//! `net`, which number them in PCI order and print their lines.
//!
//! Block and network drivers are registered alike: adding a driver is one entry in
//! [`DRIVERS`] and a small start function that maps its registers (with the helpers
//! here) and calls the driver crate's constructor.

mod ahci;
mod ide;
mod nvme;
mod virtio;
mod xhci;

use alloc::boxed::Box;
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
    Driver {
        name: "virtio-blk",
        matches: |f| ingot_virtio_blk::pci::matches(f.vendor, f.device),
        start: virtio::start_block,
    },
    Driver {
        name: "virtio-net",
        matches: |f| ingot_virtio_net::pci::matches(f.vendor, f.device),
        start: virtio::start_net,
    },
    Driver { name: "nvme", matches: nvme::matches, start: nvme::start },
    Driver { name: "ahci", matches: ahci::matches, start: ahci::start },
    Driver { name: "ide", matches: ide::matches, start: ide::start },
    Driver { name: "xhci", matches: xhci::matches, start: xhci::start },
];

/// Enumerates PCI (ECAM over `ecam` when given, mechanism #1 otherwise), starts a
/// driver for every function one matches, and installs what they found.
pub fn init(ecam: &[EcamRegion]) {
    let functions = crate::pci::init(ecam);
    let mut found = Found::default();
    for function in &functions {
        let driver = probe(function, &mut found);
        crate::pci::print(function, driver);
    }
    crate::storage::install(found.disks);
    crate::net::install(found.nics);
    crate::input::install_usb(found.keyboards);
}

/// Starts the driver for `function`, if there is one; returns its name when it
/// claimed the function (even if it found nothing behind it).
fn probe(function: &PciFunction, found: &mut Found) -> Option<&'static str> {
    let config = crate::pci::config()?;
    let driver = DRIVERS.iter().find(|driver| (driver.matches)(function))?;
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

/// The I/O BAR `bar`'s base port, with I/O decoding and bus mastering turned on.
pub fn io_bar(
    config: &impl PciConfig,
    function: &PciFunction,
    bar: usize,
) -> Result<u16, &'static str> {
    let (base, _) = function.bars.get(bar).and_then(|b| b.io()).ok_or("no I/O BAR")?;
    function.enable(config, command::IO_SPACE | command::BUS_MASTER | command::INTERRUPT_DISABLE);
    Ok(base)
}

/// Boxes each item as a disk.
fn add_disks<D: ingot_block::BlockDevice + Send + 'static>(
    found: &mut Found,
    disks: impl IntoIterator<Item = D>,
) {
    found.disks.extend(disks.into_iter().map(|disk| Box::new(disk) as Disk));
}
