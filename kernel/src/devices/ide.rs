//! Bringing up a PCI IDE controller (class 01.01): both channels at their
//! compatibility ports or native BARs (per the programming interface), with
//! bus-master DMA when BAR4 is there (unless `ide=pio`), PIO otherwise.

use alloc::vec::Vec;

use crate::time::KernelClock;
use ingot_hal::PortRange;
use ingot_ide::{ChannelPorts, LEGACY_CHANNELS};
use ingot_pci::{PciFunction, command};
use ingot_platform::pci_config::ConfigAccess;

use super::{Found, KernelDma, add_disks};

/// Whether `function` is an IDE controller.
pub fn matches(function: &PciFunction) -> bool {
    function.class == 0x01 && function.subclass == 0x01
}

/// The channels' ports: native-mode channels (prog-IF bit 0 / bit 2) from BARs 0-3,
/// others at the compatibility addresses; bus master at BAR4 (+8 for the secondary).
fn channels(function: &PciFunction) -> [ChannelPorts; 2] {
    let mut channels = LEGACY_CHANNELS;
    // Bus master where the controller has it, unless `ide=pio` asked for PIO.
    let dma_allowed = function.prog_if & 0x80 != 0 && !crate::storage::ide_pio_only();
    let bus_master = function.bars[4].io().map(|(base, _)| base).filter(|_| dma_allowed);
    for (index, channel) in channels.iter_mut().enumerate() {
        let native = function.prog_if & (1 << (2 * index)) != 0;
        let bars = (function.bars[2 * index].io(), function.bars[2 * index + 1].io());
        if let (true, Some((command, _)), Some((control, _))) = (native, bars.0, bars.1) {
            channel.command = command;
            channel.control = control + 2;
        }
        channel.bus_master = bus_master.map(|base| base + 8 * index as u16);
    }
    channels
}

/// The ports the driver may use: each channel's command block (8 ports), its control
/// port, and the bus-master block (8 ports per channel).
fn port_ranges(channels: &[ChannelPorts; 2]) -> Vec<PortRange> {
    channels
        .iter()
        .flat_map(|channel| {
            [
                PortRange::new(channel.command, 8),
                PortRange::new(channel.control, 1),
                channel.bus_master.and_then(|base| PortRange::new(base, 8)),
            ]
        })
        .flatten()
        .collect()
}

pub fn start(
    config: &ConfigAccess,
    function: &PciFunction,
    found: &mut Found,
) -> Result<(), &'static str> {
    function.enable(config, command::IO_SPACE | command::BUS_MASTER | command::INTERRUPT_DISABLE);
    let channels = channels(function);
    let ports = crate::console::device_ports(&port_ranges(&channels)).ok_or("no port I/O")?;
    let disks = ingot_ide::start(ports, &channels, &mut KernelDma, KernelClock)
        .map_err(|_| "out of DMA memory")?;
    for disk in &disks {
        let (channel, drive) = disk.position();
        let mode = if disk.uses_dma() { "dma" } else { "pio" };
        crate::println!(
            "ingot: ide {} channel={channel} drive={drive} mode={mode}",
            function.address
        );
    }
    add_disks(found, disks);
    Ok(())
}
