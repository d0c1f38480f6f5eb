//! The PCI functions the kernel found at boot (`pci_count`, `pci_info`, API 1.4).

use ingot_abi::{Error, PciInfo};

use crate::calls::decode;
use crate::start::api;

/// Whether the kernel's table has the PCI calls (an older kernel's does not).
fn present() -> bool {
    api().size as usize >= core::mem::offset_of!(ingot_abi::ApiTable, pci_info) + 8
}

/// Number of PCI functions (0 on a kernel without the calls).
///
/// # Example
///
/// ```ignore
/// for index in 0..ingot_sdk::pci::count() {
///     let info = ingot_sdk::pci::info(index)?;
///     ingot_sdk::println!(
///         "pci {:02x}:{:02x}.{} {:04x}:{:04x} class {:02x}{:02x} driver {:?}",
///         info.bus,
///         info.slot,
///         info.function,
///         info.vendor_id,
///         info.device_id,
///         info.base_class,
///         info.subclass,
///         ingot_sdk::pci::driver_name(&info)
///     );
/// }
/// ```
pub fn count() -> u64 {
    if !present() {
        return 0;
    }
    decode((api().pci_count)()).unwrap_or(0)
}

/// Function `index`, in the kernel's enumeration order.
///
/// # Example
///
/// ```ignore
/// for index in 0..ingot_sdk::pci::count() {
///     let info = ingot_sdk::pci::info(index)?;
///     ingot_sdk::println!(
///         "pci {:02x}:{:02x}.{} {:04x}:{:04x} class {:02x}{:02x} driver {:?}",
///         info.bus,
///         info.slot,
///         info.function,
///         info.vendor_id,
///         info.device_id,
///         info.base_class,
///         info.subclass,
///         ingot_sdk::pci::driver_name(&info)
///     );
/// }
/// ```
pub fn info(index: u64) -> Result<PciInfo, Error> {
    if !present() {
        return Err(Error::NotFound);
    }
    let mut info = PciInfo::default();
    decode((api().pci_info)(index, &mut info))?;
    Ok(info)
}

/// The driver name of a `PciInfo` (empty: no driver claimed it).
///
/// # Example
///
/// ```ignore
/// for index in 0..ingot_sdk::pci::count() {
///     let info = ingot_sdk::pci::info(index)?;
///     ingot_sdk::println!(
///         "pci {:02x}:{:02x}.{} {:04x}:{:04x} class {:02x}{:02x} driver {:?}",
///         info.bus,
///         info.slot,
///         info.function,
///         info.vendor_id,
///         info.device_id,
///         info.base_class,
///         info.subclass,
///         ingot_sdk::pci::driver_name(&info)
///     );
/// }
/// ```
pub fn driver_name(info: &PciInfo) -> &str {
    let end = info.driver.iter().position(|&b| b == 0).unwrap_or(info.driver.len());
    core::str::from_utf8(&info.driver[..end]).unwrap_or("?")
}
