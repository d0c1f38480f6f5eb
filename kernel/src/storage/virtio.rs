//! Bringing up a virtio-blk PCI function: modern interface when its capabilities
//! are there (modern and transitional devices), legacy I/O ports otherwise.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::time::KernelClock;
use ingot_pci::{PciConfig, PciFunction, capability_ids, command};
use ingot_platform::mmio::MmioRegion;
use ingot_virtio_blk::VirtioBlk;
use ingot_virtio_blk::pci::{Window, modern_windows};
use ingot_virtio_blk::transport::{LegacyTransport, ModernTransport, Transport};

use super::{Disk, KernelDma};

pub fn start(
    config: &impl PciConfig,
    function: &PciFunction,
    disks: &mut Vec<Disk>,
) -> Result<(), &'static str> {
    function.enable(
        config,
        command::MEMORY_SPACE
            | command::IO_SPACE
            | command::BUS_MASTER
            | command::INTERRUPT_DISABLE,
    );
    let windows = modern_windows(
        |offset| config.read_u32(function.address, offset),
        function.capabilities_with(capability_ids::VENDOR).map(|c| c.offset),
    );
    let clock = KernelClock;
    let interface = if windows.is_some() { "modern" } else { "legacy" };
    let transport: Box<dyn Transport + Send> = if let Some(windows) = windows {
        let common = map(function, windows.common)?;
        let notify = map(function, windows.notify.0)?;
        let device = map(function, windows.device)?;
        Box::new(ModernTransport::new(common, notify, windows.notify.1, device))
    } else {
        let (base, _) =
            function.bars[0].io().ok_or("no legacy I/O BAR and no modern capabilities")?;
        let ports = crate::console::bar_ports(&function.bars[0]).ok_or("no port I/O")?;
        Box::new(LegacyTransport::new(ports, base))
    };
    let disk: Disk = Box::new(VirtioBlk::new(transport, &mut KernelDma, clock).map_err(describe)?);
    crate::println!("ingot: virtio-blk {} interface={interface}", function.address);
    disks.push(disk);
    Ok(())
}

fn map(function: &PciFunction, window: Window) -> Result<MmioRegion, &'static str> {
    let bar = function.bars.get(usize::from(window.bar)).ok_or("bad BAR index")?;
    crate::memory::with_kernel_memory(|memory| {
        MmioRegion::from_bar(
            &mut memory.space,
            &mut memory.frames,
            bar,
            u64::from(window.offset),
            u64::from(window.len),
        )
    })
    .ok_or("no kernel memory")?
    .map_err(|_| "register window outside its BAR")
}

fn describe(error: ingot_virtio_blk::InitError) -> &'static str {
    match error {
        ingot_virtio_blk::InitError::FeaturesRefused => "device refused the feature set",
        ingot_virtio_blk::InitError::NoQueue => "no usable request queue",
        ingot_virtio_blk::InitError::NoMemory => "out of DMA memory",
    }
}
