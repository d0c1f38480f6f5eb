//! Storage after device discovery (`devices`): keep the disks the drivers found in one
//! numbered list, and serve the program's disk calls from it (`requests`: every
//! transfer is a submitted request; the blocking calls wait for theirs).
//!
//! The list is fixed once device discovery installs it, so looking a disk up takes
//! no lock; each disk has a lock of its own (over the driver and its requests), so
//! two cores drive two disks at the same time. A disk whose controller has a
//! submission queue per core (NVMe) is made of **lanes**, one per queue pair, each
//! a driver handle on its own pair with its own request table and lock: a core
//! submits on lane `core % lanes`, its tickets name the lane, so two cores drive
//! one namespace at the same time and meet only in the driver's per-pair state
//! (lane 0's handle also serves the blocking calls, which first drain every lane).
//! Each disk also counts the requests that had to go through a kernel
//! bounce buffer because its controller could not reach the program's memory
//! directly (`transfer` is the zero-copy path).
//!
//! Disks are numbered in PCI address order, then in the controller's own order
//! (namespace, port, channel/drive), so the same machine always gives the same
//! numbers. Each is printed as `ingot: disk <n> <driver> sectors=<count> sector_size=<bytes>`.

mod requests;
mod transfer;

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use ingot_block::{BlockDevice, BlockError, DiskIdentity};
use spin::{Mutex, Once};

use crate::println;

pub use requests::{DiskState, forget_nested, poll, report, settle, submit, ticket_identity, wait};
pub use transfer::Direction;

/// A disk as the kernel keeps it.
pub type Disk = Box<dyn BlockDevice + Send>;

/// One entry of the disk list.
struct DiskSlot {
    /// Read once at install: a disk's identity does not change.
    identity: DiskIdentity,
    /// At least one; lane 0 is the disk as discovery found it.
    lanes: Vec<Mutex<DiskState>>,
    /// Per lane: the events its completions raise.
    wake: Vec<u64>,
    /// Requests (or parts of requests) moved through a kernel bounce buffer.
    bounced: AtomicU64,
}

static DISKS: Once<Vec<DiskSlot>> = Once::new();

fn slot(number: u64) -> Option<&'static DiskSlot> {
    DISKS.get()?.get(usize::try_from(number).ok()?)
}

static IDE_PIO: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Applies the storage options of the command line (`ide=pio`); call before
/// `devices::init`.
pub fn configure(options: &ingot_bootinfo::cmdline::KernelOptions) {
    IDE_PIO.store(options.ide_pio, core::sync::atomic::Ordering::Relaxed);
}

/// Whether the IDE driver must use PIO even where bus-master DMA exists.
#[cfg_attr(not(feature = "ide"), allow(dead_code))]
pub fn ide_pio_only() -> bool {
    IDE_PIO.load(core::sync::atomic::Ordering::Relaxed)
}

/// Keeps the disks device discovery found and prints one line for each;
/// `extra_lanes` are the further lanes of some of them, by disk number, and
/// `lane_events` the events each lane's completions raise where that is not just
/// the disk's own event bit.
pub fn install(
    disks: Vec<Disk>,
    mut extra_lanes: Vec<(usize, Vec<Disk>)>,
    lane_events: Vec<(usize, Vec<u64>)>,
) {
    for (number, disk) in disks.iter().enumerate() {
        let identity = disk.identity();
        println!(
            "ingot: disk {number} {} sectors={} sector_size={}",
            disk.driver(),
            identity.sectors,
            identity.sector_size
        );
    }
    let slots = disks
        .into_iter()
        .enumerate()
        .map(|(number, disk)| {
            let identity = disk.identity();
            let mut devices = alloc::vec![disk];
            for (_, more) in extra_lanes.iter_mut().filter(|(owner, _)| *owner == number) {
                devices.append(more);
            }
            let own = lane_events.iter().find(|(owner, _)| *owner == number).map(|(_, e)| e);
            let disk_event = ingot_abi::events::disk(number as u64);
            let wake: Vec<u64> = (0..devices.len())
                .map(|lane| own.and_then(|events| events.get(lane)).copied().unwrap_or(disk_event))
                .collect();
            let lanes: Vec<_> = devices
                .into_iter()
                .zip(&wake)
                .map(|(device, &wake)| Mutex::new(DiskState::new(device, wake)))
                .collect();
            if lanes.len() > 1 {
                println!("ingot: disk {number} lanes={}", lanes.len());
            }
            DiskSlot { identity, lanes, wake, bounced: AtomicU64::new(0) }
        })
        .collect();
    DISKS.call_once(|| slots);
}

/// Number of disks.
pub fn count() -> usize {
    DISKS.get().map_or(0, Vec::len)
}

/// Runs `f` on disk `number` under the locks of all its lanes once their submitted
/// commands finished (so `f` may make blocking driver calls); `None` if there is no
/// such disk. The lanes are locked in order, as everywhere that takes several.
pub fn with_disk<R>(number: u64, f: impl FnOnce(&mut Disk) -> R) -> Option<R> {
    let slot = slot(number)?;
    let mut held: Vec<_> = slot.lanes.iter().map(Mutex::lock).collect();
    for state in held.iter_mut() {
        state.drain();
    }
    Some(f(&mut held[0].device))
}

/// The events lane `lane` of disk `number` raises when a command finishes.
fn wake_events(number: u64, lane: usize) -> u64 {
    slot(number)
        .and_then(|slot| slot.wake.get(lane).copied())
        .unwrap_or_else(|| ingot_abi::events::disk(number))
}

/// What disk `number` is.
pub fn identity(number: u64) -> Option<DiskIdentity> {
    Some(slot(number)?.identity)
}

/// What disk `number` is, without copying its model and serial text (the request
/// checks need only its size).
pub fn identity_ref(number: u64) -> Option<&'static DiskIdentity> {
    Some(&slot(number)?.identity)
}

/// How many requests of disk `number` went through a bounce buffer.
pub fn bounced(number: u64) -> Option<u64> {
    Some(slot(number)?.bounced.load(Ordering::Relaxed))
}

fn count_bounce(number: u64) {
    if let Some(slot) = slot(number) {
        slot.bounced.fetch_add(1, Ordering::Relaxed);
    }
}

/// Maps a block error to the program-facing error.
pub fn api_error(error: BlockError) -> ingot_abi::Error {
    match error {
        BlockError::OutOfRange | BlockError::Empty | BlockError::Misaligned => {
            ingot_abi::Error::InvalidArgument
        }
        BlockError::Timeout => ingot_abi::Error::TimedOut,
        BlockError::Busy => ingot_abi::Error::Busy,
        BlockError::Device(_) | BlockError::NoMemory | BlockError::Unsupported => {
            ingot_abi::Error::DeviceError
        }
    }
}
