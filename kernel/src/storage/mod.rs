//! Storage after device discovery (`devices`): keep the disks the drivers found in one
//! numbered list, and serve the program's disk calls from it.
//!
//! Disks are numbered in PCI address order, then in the controller's own order
//! (namespace, port, channel/drive), so the same machine always gives the same
//! numbers. Each is printed as `ingot: disk <n> <driver> sectors=<count> sector_size=<bytes>`.

use alloc::boxed::Box;
use alloc::vec::Vec;

use ingot_block::{BlockDevice, BlockError, DiskIdentity};
use spin::Mutex;

use crate::println;

/// A disk as the kernel keeps it.
pub type Disk = Box<dyn BlockDevice + Send>;

static DISKS: Mutex<Vec<Disk>> = Mutex::new(Vec::new());

static IDE_PIO: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Applies the storage options of the command line (`ide=pio`); call before
/// `devices::init`.
pub fn configure(options: &ingot_bootinfo::cmdline::KernelOptions) {
    IDE_PIO.store(options.ide_pio, core::sync::atomic::Ordering::Relaxed);
}

/// Whether the IDE driver must use PIO even where bus-master DMA exists.
pub fn ide_pio_only() -> bool {
    IDE_PIO.load(core::sync::atomic::Ordering::Relaxed)
}

/// Keeps the disks device discovery found and prints one line for each.
pub fn install(disks: Vec<Disk>) {
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
