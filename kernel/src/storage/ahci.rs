//! Bringing up an AHCI controller (class 01.06, prog-IF 01): its ABAR (BAR5),
//! then one disk per port with an ATA disk, in port order.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::time::KernelClock;
use ingot_pci::{PciConfig, PciFunction, command};
use ingot_platform::mmio::MmioRegion;

use super::{Disk, KernelDma};

/// Whether `function` is an AHCI controller.
pub fn matches(function: &PciFunction) -> bool {
    function.class == 0x01 && function.subclass == 0x06 && function.prog_if == 0x01
}

pub fn start(
    config: &impl PciConfig,
    function: &PciFunction,
    disks: &mut Vec<Disk>,
) -> Result<(), &'static str> {
    let (_, size) = function.bars[5].memory().ok_or("BAR5 is not a memory BAR")?;
    function
        .enable(config, command::MEMORY_SPACE | command::BUS_MASTER | command::INTERRUPT_DISABLE);
    let registers = crate::memory::with_kernel_memory(|memory| {
        MmioRegion::from_bar(&mut memory.space, &mut memory.frames, &function.bars[5], 0, size)
    })
    .ok_or("no kernel memory")?
    .map_err(|_| "cannot map BAR5")?;
    let ports = ingot_ahci::start(registers, &mut KernelDma, KernelClock).map_err(describe)?;
    for port in ports {
        disks.push(Box::new(port));
    }
    Ok(())
}

fn describe(error: ingot_ahci::InitError) -> &'static str {
    match error {
        ingot_ahci::InitError::NoMemory => "out of DMA memory",
    }
}
