//! PCI at boot: pick the configuration access, enumerate, and print one line per
//! function once the drivers have claimed theirs.
//!
//! Mechanism #1 is the default. ACPI MCFG regions (parsed by the ACPI code) are
//! passed to [`init`] as [`EcamRegion`]s; when there are any, ECAM is used for
//! every segment and bus range they describe.

use alloc::vec::Vec;

use ingot_pci::PciFunction;
use ingot_platform::pci_config::{ConfigAccess, Ecam, EcamRegion, Mechanism1};
use spin::Once;

use crate::println;

static CONFIG: Once<ConfigAccess> = Once::new();

/// The configuration access chosen by [`init`].
pub fn config() -> Option<&'static ConfigAccess> {
    CONFIG.get()
}

/// Chooses ECAM (when `ecam` lists regions that can be mapped) or mechanism #1,
/// and enumerates every function. Empty when the machine has no PCI.
pub fn init(ecam: &[EcamRegion]) -> Vec<PciFunction> {
    let mut access = None;
    if !ecam.is_empty() {
        let mapped = crate::memory::with_kernel_memory(|memory| {
            Ecam::new(&mut memory.space, &mut memory.frames, ecam)
        });
        match mapped {
            Some(Ok(ecam)) => access = Some(ConfigAccess::Ecam(ecam)),
            Some(Err(error)) => println!("ingot: pci: ECAM unusable ({error}), using ports"),
            None => {}
        }
    }
    let access = match access.or_else(|| Mechanism1::probe().map(ConfigAccess::Ports)) {
        Some(access) => CONFIG.call_once(|| access),
        None => {
            println!("ingot: pci: no configuration access");
            return Vec::new();
        }
    };
    match access {
        ConfigAccess::Ecam(ecam) => {
            for region in ecam.roots() {
                println!(
                    "ingot: pci ecam segment={} buses={}-{}",
                    region.segment, region.first_bus, region.last_bus
                );
            }
            let roots: Vec<_> = ecam.roots().collect();
            ingot_pci::enumerate(access, &roots)
        }
        ConfigAccess::Ports(_) => ingot_pci::enumerate(access, &Mechanism1::roots()),
    }
}

/// Prints `ingot: pci <seg>:<bus>:<dev>.<fn> <vendor>:<device> class=<cc>.<sc> driver=<name|none>`.
pub fn print(function: &PciFunction, driver: Option<&str>) {
    println!(
        "ingot: pci {} {:04x}:{:04x} class={:02x}.{:02x} driver={}",
        function.address,
        function.vendor,
        function.device,
        function.class,
        function.subclass,
        driver.unwrap_or("none")
    );
}
