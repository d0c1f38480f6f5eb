//! Starting an AHCI controller (class 01.06, prog-IF 01): its ABAR (BAR5), then one
//! disk per port with an ATA disk, in port order.

use crate::irq::wait::InterruptClock;
use ingot_pci::PciFunction;
use ingot_platform::pci_config::ConfigAccess;

use super::{Found, KernelDma, add_disks, map_memory_bar};

/// Whether `function` is an AHCI controller.
pub fn matches(function: &PciFunction) -> bool {
    function.class == 0x01 && function.subclass == 0x06 && function.prog_if == 0x01
}

pub fn start(
    config: &ConfigAccess,
    function: &PciFunction,
    found: &mut Found,
) -> Result<(), &'static str> {
    let registers = map_memory_bar(config, function, 5, 0, None)?;
    let clock = InterruptClock::new();
    let ports =
        ingot_ahci::start(registers, &mut KernelDma, clock).map_err(|error| match error {
            ingot_ahci::InitError::NoMemory => "out of DMA memory",
        })?;
    // One MSI vector raises the events of all the controller's disks.
    let first = found.disks.len() as u64;
    let events = (first..first + ports.len() as u64)
        .map(ingot_abi::events::disk)
        .fold(0, |all, bit| all | bit);
    if events != 0
        && let Some(vector) = crate::irq::enable_msi(config, function, events)
    {
        crate::irq::mark_interrupting(events);
        clock.set_events(events);
        crate::println!("ingot: ahci {} irq=msi vector={vector:#x}", function.address);
    }
    add_disks(found, ports);
    Ok(())
}
