//! Bringing up an NVMe controller (class 01.08, prog-IF 02): its BAR0 registers,
//! then one disk per active namespace, in namespace order.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::time::KernelClock;
use ingot_pci::{PciConfig, PciFunction, command};
use ingot_platform::mmio::MmioRegion;

use super::{Disk, KernelDma};

/// Whether `function` is an NVMe controller.
pub fn matches(function: &PciFunction) -> bool {
    function.class == 0x01 && function.subclass == 0x08 && function.prog_if == 0x02
}

pub fn start(
    config: &impl PciConfig,
    function: &PciFunction,
    disks: &mut Vec<Disk>,
) -> Result<(), &'static str> {
    let (_, size) = function.bars[0].memory().ok_or("BAR0 is not a memory BAR")?;
    function
        .enable(config, command::MEMORY_SPACE | command::BUS_MASTER | command::INTERRUPT_DISABLE);
    let registers = crate::memory::with_kernel_memory(|memory| {
        MmioRegion::from_bar(&mut memory.space, &mut memory.frames, &function.bars[0], 0, size)
    })
    .ok_or("no kernel memory")?
    .map_err(|_| "cannot map BAR0")?;
    let namespaces = ingot_nvme::start(registers, &mut KernelDma, KernelClock).map_err(describe)?;
    for namespace in namespaces {
        disks.push(Box::new(namespace));
    }
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
