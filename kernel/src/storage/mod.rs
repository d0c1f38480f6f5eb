//! Storage at boot and after: probe every PCI storage controller, keep its disks in
//! one numbered list, and serve the program's disk calls from it.
//!
//! Disks are numbered in PCI address order, then in the controller's own order
//! (namespace, port, channel/drive), so the same machine always gives the same
//! numbers. Each is printed as `ingot: disk <n> <driver> sectors=<count> sector_size=<bytes>`.

mod ahci;
mod ide;
mod nvme;
mod virtio;

use alloc::boxed::Box;
use alloc::vec::Vec;

use ingot_block::{BlockDevice, BlockError, DiskIdentity};
use ingot_hal::{DmaAllocator, DmaError};
use ingot_pci::PciFunction;
use ingot_platform::dma::DmaRegion;
use ingot_platform::pci_config::EcamRegion;
use spin::Mutex;

use crate::println;

/// A disk as the kernel keeps it.
pub type Disk = Box<dyn BlockDevice + Send>;

static DISKS: Mutex<Vec<Disk>> = Mutex::new(Vec::new());

/// DMA memory from the kernel's frames.
pub struct KernelDma;

impl DmaAllocator for KernelDma {
    type Buffer = DmaRegion;

    fn allocate(&mut self, bytes: usize) -> Result<DmaRegion, DmaError> {
        crate::memory::with_kernel_memory(|memory| DmaRegion::allocate(&mut memory.frames, bytes))
            .unwrap_or(Err(DmaError::OutOfMemory))
    }
}

static IDE_PIO: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Applies the storage options of the command line (`ide=pio`); call before [`init`].
pub fn configure(options: &ingot_bootinfo::cmdline::KernelOptions) {
    IDE_PIO.store(options.ide_pio, core::sync::atomic::Ordering::Relaxed);
}

/// Whether the IDE driver must use PIO even where bus-master DMA exists.
fn ide_pio_only() -> bool {
    IDE_PIO.load(core::sync::atomic::Ordering::Relaxed)
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

/// Enumerates PCI (ECAM over `ecam` when given, mechanism #1 otherwise), starts a
/// driver for every storage controller it knows, and prints the PCI and disk lines.
pub fn init(ecam: &[EcamRegion]) {
    let functions = crate::pci::init(ecam);
    let mut disks = Vec::new();
    for function in &functions {
        let driver = probe(function, &mut disks);
        crate::pci::print(function, driver);
    }
    for (number, disk) in disks.iter().enumerate() {
        let identity = disk.identity();
        println!(
            "ingot: disk {number} {} sectors={} sector_size={}",
            disk.driver(),
            identity.sectors,
            identity.sector_size
        );
    }
    *DISKS.lock() = disks;
}

/// Starts the driver for `function`, if there is one; returns its name when it
/// claimed the function (even if it found no disks behind it).
fn probe(function: &PciFunction, disks: &mut Vec<Disk>) -> Option<&'static str> {
    let config = crate::pci::config()?;
    if ingot_virtio_blk::pci::matches(function.vendor, function.device) {
        return report("virtio-blk", function, virtio::start(config, function, disks));
    }
    if nvme::matches(function) {
        return report("nvme", function, nvme::start(config, function, disks));
    }
    if ahci::matches(function) {
        return report("ahci", function, ahci::start(config, function, disks));
    }
    if ide::matches(function) {
        return report("ide", function, ide::start(config, function, disks));
    }
    None
}

fn report(
    driver: &'static str,
    function: &PciFunction,
    outcome: Result<(), &'static str>,
) -> Option<&'static str> {
    match outcome {
        Ok(()) => Some(driver),
        Err(problem) => {
            println!("ingot: {driver} {}: {problem}", function.address);
            None
        }
    }
}

/// Number of disks.
pub fn count() -> usize {
    DISKS.lock().len()
}

/// Runs `f` on disk `number`; `None` if there is no such disk.
pub fn with_disk<R>(number: u64, f: impl FnOnce(&mut Disk) -> R) -> Option<R> {
    let mut disks = DISKS.lock();
    let disk = disks.get_mut(usize::try_from(number).ok()?)?;
    Some(f(disk))
}

/// What disk `number` is.
pub fn identity(number: u64) -> Option<DiskIdentity> {
    with_disk(number, |disk| disk.identity())
}

/// Maps a block error to the program-facing error.
pub fn api_error(error: BlockError) -> ingot_abi::Error {
    match error {
        BlockError::OutOfRange | BlockError::Empty | BlockError::Misaligned => {
            ingot_abi::Error::InvalidArgument
        }
        BlockError::Timeout => ingot_abi::Error::TimedOut,
        BlockError::Device(_) | BlockError::NoMemory | BlockError::Unsupported => {
            ingot_abi::Error::DeviceError
        }
    }
}
