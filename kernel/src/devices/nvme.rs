//! Starting an NVMe controller (class 01.08, prog-IF 02): its BAR0 registers, then
//! one disk per active namespace, in namespace order.

use crate::irq::wait::InterruptClock;
use ingot_pci::PciFunction;
use ingot_platform::pci_config::ConfigAccess;

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::{Found, KernelDma, add_disks, map_memory_bar};
use crate::storage::Disk;

/// Whether `function` is an NVMe controller.
pub fn matches(function: &PciFunction) -> bool {
    function.class == 0x01 && function.subclass == 0x08 && function.prog_if == 0x02
}

pub fn start(
    config: &ConfigAccess,
    function: &PciFunction,
    found: &mut Found,
) -> Result<(), &'static str> {
    let registers = map_memory_bar(config, function, 0, 0, None)?;
    // A queue pair for submitted commands per core (cores past the fourth share).
    let pairs = ingot_nvme::MOST_QUEUES;
    let core = crate::smp::current_core;
    let clock = InterruptClock::new();
    let namespaces = ingot_nvme::start_with_queues(registers, &mut KernelDma, clock, pairs, core)
        .map_err(describe)?;
    // One vector (MSI-X entry 0, which every I/O completion queue uses) raises the
    // events of all the controller's namespaces.
    let first = found.disks.len() as u64;
    let events = (first..first + namespaces.len() as u64)
        .map(ingot_abi::events::disk)
        .fold(0, |all, bit| all | bit);
    if events != 0
        && let Some(vector) = crate::irq::enable_msix(config, function, events)
    {
        crate::irq::mark_interrupting(events);
        clock.set_events(events);
        crate::println!("ingot: nvme {} irq=msix vector={vector:#x}", function.address);
    }
    // Each namespace is a disk of one lane per queue pair (lane 0 the namespace
    // itself, pinned to pair 0), so cores on different pairs never share a lock.
    let first = found.disks.len();
    for (index, namespace) in namespaces.iter().enumerate() {
        let lanes: Vec<Disk> = (1..namespace.queue_pairs())
            .filter_map(|pair| namespace.lane(pair))
            .map(|lane| Box::new(lane) as Disk)
            .collect();
        if !lanes.is_empty() {
            found.extra_lanes.push((first + index, lanes));
        }
    }
    add_disks(
        found,
        namespaces.into_iter().map(|namespace| namespace.lane(0).unwrap_or(namespace)),
    );
    Ok(())
}

fn describe(error: ingot_nvme::InitError) -> &'static str {
    match error {
        ingot_nvme::InitError::NotReady => "controller did not become ready",
        ingot_nvme::InitError::Fatal => "controller fatal status",
        ingot_nvme::InitError::Admin(_) => "admin command failed",
        ingot_nvme::InitError::Timeout => "admin command timed out",
        ingot_nvme::InitError::NoMemory => "out of DMA memory",
        ingot_nvme::InitError::PageSize => "4 KiB pages not supported",
    }
}
