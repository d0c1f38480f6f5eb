//! Bringing up the Intel and Realtek NICs: each maps its register BAR, calls its
//! driver crate's constructor and adds the interface. (virtio-net shares its transport
//! code with virtio-blk, in `virtio.rs`.)

use alloc::boxed::Box;

use ingot_net::NetError;
use ingot_pci::{PciConfig, PciFunction};
use ingot_platform::pci_config::ConfigAccess;

use super::{Found, KernelDma, map_memory_bar};
use crate::time::KernelClock;

/// The reason a NIC did not start, for the boot line.
fn describe(error: NetError) -> &'static str {
    match error {
        NetError::Timeout => "device did not answer (reset or start-up timed out)",
        NetError::NoMemory => "out of DMA memory",
        NetError::Device(_) => "device refused to start (blank or invalid station address)",
        _ => "device failed to start",
    }
}

#[cfg(feature = "intel-nic")]
pub fn e1000_matches(function: &PciFunction) -> bool {
    ingot_e1000::matches(function.vendor, function.device).is_some()
}

#[cfg(feature = "intel-nic")]
pub fn start_e1000(
    config: &ConfigAccess,
    function: &PciFunction,
    found: &mut Found,
) -> Result<(), &'static str> {
    let variant = ingot_e1000::matches(function.vendor, function.device).ok_or("not an 8254x")?;
    let registers = map_memory_bar(config, function, 0, 0, None)?;
    let mut nic =
        ingot_e1000::start(registers, &mut KernelDma, KernelClock, variant).map_err(describe)?;
    let event = ingot_abi::events::net(found.nics.len() as u64);
    if event != 0 && intx_on_pc(config, function, event).is_some() {
        nic.enable_receive_interrupt();
    }
    found.nics.push(Box::new(nic));
    Ok(())
}

/// On a PIIX machine (QEMU `pc`), whose PCI interrupt pins reach the I/O APIC on the
/// ISA IRQ the firmware wrote into the interrupt-line register: routes that line to a
/// new vector raising `event` (once the I/O APICs are up) and lets the function raise
/// it. Elsewhere (q35's pins arrive on GSIs 16-23 through its ACPI `_PRT`, which is
/// not read) `None`: the device stays polled.
#[cfg(any(feature = "intel-nic", feature = "realtek"))]
fn intx_on_pc(config: &ConfigAccess, function: &PciFunction, event: u64) -> Option<u8> {
    const PIIX_HOST_BRIDGE: u32 = 0x1237_8086;
    if config.read_u32(ingot_pci::PciAddress::new(0, 0, 0), 0) != PIIX_HOST_BRIDGE {
        return None;
    }
    let line = ingot_pci::msi::intx_line(config, function)?;
    let vector = crate::irq::allocate(event, None)?;
    crate::irq::route_pci_intx(line, vector, event);
    ingot_pci::msi::enable_intx(config, function);
    crate::println!("ingot: nic {} irq=intx line={line}", function.address);
    Some(vector)
}

#[cfg(feature = "intel-nic")]
pub fn e1000e_matches(function: &PciFunction) -> bool {
    ingot_e1000e::matches(function.vendor, function.device).is_some()
}

#[cfg(feature = "intel-nic")]
pub fn start_e1000e(
    config: &ConfigAccess,
    function: &PciFunction,
    found: &mut Found,
) -> Result<(), &'static str> {
    let registers = map_memory_bar(config, function, 0, 0, None)?;
    let mut nic = ingot_e1000e::start(registers, &mut KernelDma, KernelClock).map_err(describe)?;
    let event = ingot_abi::events::net(found.nics.len() as u64);
    if event != 0
        && let Some(vector) = crate::irq::enable_msi(config, function, event)
    {
        nic.enable_receive_interrupt();
        crate::irq::mark_interrupting(event);
        crate::println!("ingot: e1000e {} irq=msi vector={vector:#x}", function.address);
    }
    found.nics.push(Box::new(nic));
    Ok(())
}

#[cfg(feature = "intel-nic")]
pub fn ixgbe_matches(function: &PciFunction) -> bool {
    ingot_ixgbe::matches(function.vendor, function.device).is_some()
}

#[cfg(feature = "intel-nic")]
pub fn start_ixgbe(
    config: &ConfigAccess,
    function: &PciFunction,
    found: &mut Found,
) -> Result<(), &'static str> {
    let registers = map_memory_bar(config, function, 0, 0, None)?;
    let nic = ingot_ixgbe::start(registers, &mut KernelDma, KernelClock).map_err(describe)?;
    found.nics.push(Box::new(nic));
    Ok(())
}

#[cfg(feature = "realtek")]
pub fn r8169_matches(function: &PciFunction) -> bool {
    ingot_r8169::matches(function.vendor, function.device).is_some()
}

#[cfg(feature = "realtek")]
pub fn start_r8169(
    config: &ConfigAccess,
    function: &PciFunction,
    found: &mut Found,
) -> Result<(), &'static str> {
    let variant = ingot_r8169::matches(function.vendor, function.device).ok_or("not an r8169")?;
    let registers = map_memory_bar(config, function, usize::from(variant.register_bar), 0, None)?;
    let nic = ingot_r8169::start(registers, &mut KernelDma, KernelClock).map_err(describe)?;
    found.nics.push(Box::new(nic));
    Ok(())
}

#[cfg(feature = "realtek")]
pub fn rtl8139_matches(function: &PciFunction) -> bool {
    ingot_rtl8139::matches(function.vendor, function.device).is_some()
}

#[cfg(feature = "realtek")]
pub fn start_rtl8139(
    config: &ConfigAccess,
    function: &PciFunction,
    found: &mut Found,
) -> Result<(), &'static str> {
    let variant =
        ingot_rtl8139::matches(function.vendor, function.device).ok_or("not an RTL8139")?;
    let registers = map_memory_bar(config, function, usize::from(variant.register_bar), 0, None)?;
    let mut nic = ingot_rtl8139::start(
        registers,
        &mut KernelDma,
        KernelClock,
        ingot_platform::physical::IdentityMemory,
    )
    .map_err(describe)?;
    let event = ingot_abi::events::net(found.nics.len() as u64);
    if event != 0 && intx_on_pc(config, function, event).is_some() {
        nic.enable_receive_interrupt();
    }
    found.nics.push(Box::new(nic));
    Ok(())
}
