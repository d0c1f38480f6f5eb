//! PCI at boot: pick the configuration access, enumerate, and print one line per
//! function once the drivers have claimed theirs.
//!
//! Mechanism #1 is the default. ACPI MCFG regions (parsed by the ACPI code) or the
//! command line's `pci-ecam=` become [`EcamRegion`]s; [`checked_ecam`] refuses any that
//! lie on RAM, the kernel, page 0 or past the CPU's physical address width (the check
//! itself is `ingot_pci::ecam`), and [`init`] uses ECAM for every segment and bus range
//! left, falling back to mechanism #1 when ECAM answers nothing. What was found, and
//! which driver claimed it, is kept for programs (`pci_count`, `pci_info`: the
//! monitor's `info`).

use alloc::vec::Vec;

use ingot_abi::{Error, PciInfo, Status};
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

/// The functions found at boot as programs see them (`pci_count`, `pci_info`).
static FOUND: Once<Vec<PciInfo>> = Once::new();

/// Keeps the functions found and the drivers that claimed them for `pci_info`.
pub fn remember(functions: &[(&PciFunction, Option<&str>)]) {
    FOUND.call_once(|| {
        functions
            .iter()
            .map(|(function, driver)| {
                let mut name = [0u8; 16];
                let bytes = driver.unwrap_or("").as_bytes();
                let len = bytes.len().min(name.len());
                name[..len].copy_from_slice(&bytes[..len]);
                PciInfo {
                    segment: function.address.segment,
                    bus: function.address.bus,
                    slot: function.address.device,
                    function: function.address.function,
                    base_class: function.class,
                    subclass: function.subclass,
                    prog_if: function.prog_if,
                    vendor_id: function.vendor,
                    device_id: function.device,
                    revision: function.revision,
                    reserved: [0; 3],
                    driver: name,
                }
            })
            .collect()
    });
}

/// Number of PCI functions found at boot.
pub extern "sysv64" fn pci_count() -> Status {
    FOUND.get().map_or(0, |found| found.len() as Status)
}

/// Fills `*info` for function `index`; returns the number of functions.
pub extern "sysv64" fn pci_info(index: u64, info: *mut PciInfo) -> Status {
    let Some(window) = crate::program::window() else { return Error::NotFound.status() };
    let found = FOUND.get().map_or(&[][..], Vec::as_slice);
    let Some(entry) = usize::try_from(index).ok().and_then(|index| found.get(index)) else {
        return Error::NotFound.status();
    };
    let mut bytes = [0u8; core::mem::size_of::<PciInfo>()];
    bytes[..2].copy_from_slice(&entry.segment.to_le_bytes());
    bytes[2..8].copy_from_slice(&[
        entry.bus,
        entry.slot,
        entry.function,
        entry.base_class,
        entry.subclass,
        entry.prog_if,
    ]);
    bytes[8..10].copy_from_slice(&entry.vendor_id.to_le_bytes());
    bytes[10..12].copy_from_slice(&entry.device_id.to_le_bytes());
    bytes[12] = entry.revision;
    bytes[16..32].copy_from_slice(&entry.driver);
    match window.write_at(info as u64, &bytes) {
        Ok(()) => found.len() as Status,
        Err(error) => error.status(),
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
