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
    // With MSI-X entries and vectors for all, each pair's completion queue gets a
    // vector of its own (entry k + 1), aimed at the core of lane k once the cores
    // are up; else every queue interrupts on entry 0, aimed at the bootstrap core.
    // The controller accepts a queue's vector other than 0 only while MSI-X is on,
    // so the per-lane entries are programmed first (raising nothing until the
    // namespaces, and so the events, are known).
    let entries = 1 + pairs as u16;
    let per_lane = function.msix.is_some_and(|msix| msix.table_size >= entries)
        && crate::irq::aim::vectors_left() >= usize::from(entries);
    let lane_vectors = per_lane
        .then(|| crate::irq::aim::enable_msix_per_lane(config, function, 0, entries))
        .flatten();
    let namespaces = if lane_vectors.is_some() {
        ingot_nvme::start_with_queue_vectors(registers, &mut KernelDma, clock, pairs, core)
    } else {
        ingot_nvme::start_with_queues(registers, &mut KernelDma, clock, pairs, core)
    }
    .map_err(describe)?;
    // The vectors raise the events of all the controller's namespaces.
    let first = found.disks.len() as u64;
    let events = (first..first + namespaces.len() as u64)
        .map(ingot_abi::events::disk)
        .fold(0, |all, bit| all | bit);
    let vector = match (events, lane_vectors) {
        (0, _) => None,
        (_, Some(first_vector)) => {
            let wakes = crate::irq::aim::set_events(first_vector, entries, events);
            let first = found.disks.len();
            for index in 0..namespaces.len() {
                found.lane_events.push((first + index, wakes.clone()));
            }
            Some(first_vector)
        }
        (_, None) => crate::irq::enable_msix(config, function, events),
    };
    if let Some(vector) = vector {
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
