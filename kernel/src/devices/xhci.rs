//! Starting an xHCI USB controller (class 0C.03, prog-IF 30): BAR0's registers, then
//! its first HID boot keyboard, which feeds the console input (`input`).

use ingot_pci::PciFunction;
use ingot_platform::pci_config::ConfigAccess;

use super::{Found, KernelDma, map_memory_bar};
use crate::time::KernelClock;

/// Whether `function` is an xHCI controller.
pub fn matches(function: &PciFunction) -> bool {
    function.class == 0x0C && function.subclass == 0x03 && function.prog_if == 0x30
}

pub fn start(
    config: &ConfigAccess,
    function: &PciFunction,
    found: &mut Found,
) -> Result<(), &'static str> {
    let registers = map_memory_bar(config, function, 0, 0, None)?;
    match ingot_xhci::start(registers, &mut KernelDma, KernelClock) {
        Ok(keyboard) => {
            found.keyboards.push(keyboard);
            Ok(())
        }
        Err(ingot_xhci::XhciError::NoKeyboard) => Ok(()),
        Err(ingot_xhci::XhciError::NotReady) => Err("controller did not reset or start"),
        Err(ingot_xhci::XhciError::NoMemory) => Err("out of DMA memory"),
        Err(ingot_xhci::XhciError::Timeout(step)) => {
            crate::println!("ingot: xhci {}: {step} timed out", function.address);
            Err("a USB step timed out")
        }
        Err(ingot_xhci::XhciError::Failed(step, code)) => {
            crate::println!(
                "ingot: xhci {}: {step} failed, completion code {code}",
                function.address
            );
            Err("a USB step failed")
        }
    }
}
