//! PCI at boot: pick the configuration access, enumerate, and print one line per
//! function once the drivers have claimed theirs.
//!
//! Mechanism #1 is the default. ACPI MCFG regions (parsed by the ACPI code) or the
//! command line's `pci-ecam=` become [`EcamRegion`]s; [`checked_ecam`] refuses any that
//! lie on RAM, the kernel, page 0 or past the CPU's physical address width (the check
//! itself is `ingot_pci::ecam`), and [`init`] uses ECAM for every segment and bus range
//! left, falling back to mechanism #1 when ECAM answers nothing.

use alloc::vec::Vec;

use ingot_mem::{MemoryMap, RegionKind};
use ingot_pci::PciFunction;
use ingot_pci::ecam::{DEFAULT_PHYSICAL_ADDRESS_BITS, EcamWindow, Surroundings, check_window};
use ingot_platform::pci_config::{ConfigAccess, Ecam, EcamRegion, Mechanism1};
use spin::Once;

use crate::println;

static CONFIG: Once<ConfigAccess> = Once::new();

/// The configuration access chosen by [`init`].
pub fn config() -> Option<&'static ConfigAccess> {
    CONFIG.get()
}

/// `regions` if every one is clear of RAM, the kernel, page 0 and the physical
/// address width; otherwise none (the refusal is printed and mechanism #1 is used).
pub fn checked_ecam(regions: Vec<EcamRegion>, memory: &MemoryMap) -> Vec<EcamRegion> {
    let ram: Vec<(u64, u64)> = memory
        .regions()
        .iter()
        .filter(|region| {
            matches!(
                region.kind,
                RegionKind::Usable | RegionKind::AcpiReclaimable | RegionKind::AcpiNvs
            )
        })
        .map(|region| (region.start, region.end))
        .collect();
    let around = Surroundings {
        ram: &ram,
        kernel: ingot_platform::frames::kernel_image(),
        physical_address_bits: physical_address_bits(),
    };
    for region in &regions {
        let window = EcamWindow {
            base: region.base,
            first_bus: region.first_bus,
            last_bus: region.last_bus,
        };
        if let Err(why) = check_window(&window, &around) {
            refuse(region, format_args!("{why}"));
            return Vec::new();
        }
    }
    regions
}

fn physical_address_bits() -> u8 {
    raw_cpuid::CpuId::new()
        .get_processor_capacity_feature_info()
        .map_or(DEFAULT_PHYSICAL_ADDRESS_BITS, |info| info.physical_address_bits())
}

fn refuse(region: &EcamRegion, why: core::fmt::Arguments<'_>) {
    println!(
        "ingot: pci: ecam {:#x} segment={} buses={}-{} refused: {why}",
        region.base, region.segment, region.first_bus, region.last_bus
    );
}

/// Chooses ECAM (when `ecam` lists regions that can be mapped and answer) or
/// mechanism #1, and enumerates every function. Empty when the machine has no PCI.
pub fn init(ecam: &[EcamRegion]) -> Vec<PciFunction> {
    if !ecam.is_empty() {
        let mapped = crate::memory::with_kernel_memory(|memory| {
            Ecam::new(&mut memory.space, &mut memory.frames, ecam)
        });
        match mapped {
            Some(Ok(mapped)) => {
                let roots: Vec<_> = mapped.roots().collect();
                let functions = ingot_pci::enumerate(&mapped, &roots);
                if !functions.is_empty() {
                    for root in &roots {
                        println!(
                            "ingot: pci ecam segment={} buses={}-{}",
                            root.segment, root.first_bus, root.last_bus
                        );
                    }
                    CONFIG.call_once(|| ConfigAccess::Ecam(mapped));
                    return functions;
                }
                // Nothing answered there; enumeration wrote nothing (BARs are only
                // sized on functions that answer), so mechanism #1 can take over.
                for region in ecam {
                    refuse(region, format_args!("no function answers there"));
                }
            }
            Some(Err(error)) => println!("ingot: pci: ECAM unusable ({error}), using ports"),
            None => {}
        }
    }
    match Mechanism1::probe() {
        Some(ports) => {
            let access = CONFIG.call_once(|| ConfigAccess::Ports(ports));
            ingot_pci::enumerate(access, &Mechanism1::roots())
        }
        None => {
            println!("ingot: pci: no configuration access");
            Vec::new()
        }
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
