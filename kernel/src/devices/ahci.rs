//! Starting an AHCI controller (class 01.06, prog-IF 01): its ABAR (BAR5), then one
//! disk per port with an ATA disk, in port order.

use crate::time::KernelClock;
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
    let ports =
        ingot_ahci::start(registers, &mut KernelDma, KernelClock).map_err(|error| match error {
            ingot_ahci::InitError::NoMemory => "out of DMA memory",
        })?;
    add_disks(found, ports);
    Ok(())
}
