//! Reading the firmware's ACPI tables at boot and reporting what is wrong with them.

use ingot_acpi::Acpi;
use ingot_platform::physical::IdentityMemory;

use crate::println;

/// Finds and parses the ACPI tables (the loader's RSDP hint first, then the BIOS
/// areas). Missing or broken tables are reported; the kernel then falls back to one
/// core and the PIT.
pub fn discover(rsdp_hint: Option<u64>) -> Option<Acpi> {
    let memory = IdentityMemory;
    let Some(rsdp) = ingot_acpi::find_rsdp(&memory, rsdp_hint) else {
        println!("ingot: acpi: no RSDP found; one core, no ACPI power control");
        return None;
    };
    match Acpi::parse(&memory, rsdp) {
        Ok(acpi) => {
            for problem in acpi.problems.iter() {
                println!("ingot: acpi: {problem} (table ignored)");
            }
            Some(acpi)
        }
        Err(error) => {
            println!("ingot: acpi: unusable tables at {rsdp:#x}: {error}; one core");
            None
        }
    }
}
