//! Repeated boots of the configurations where QEMU 7.2's multi-threaded TCG used to
//! crash (segfault, exit 139) when application cores touched their local APIC while the
//! bootstrap core sized PCI BARs: q35 with 16 cores and a VGA (whose large BARs make
//! sizing take long), directly and from the disk image under SeaBIOS. Each boot is its
//! own scenario, so "10 of 10" reads as ten passes; one crash fails one of them.

use super::boot_images::disk_boot;
use super::{BANNER, exit_status_for, ready, scenario};
use crate::build::Artifacts;
use crate::harness::Scenario;
use crate::qemu::{Machine, QemuConfig};

/// Boots per configuration.
const BOOTS: usize = 10;

/// The stress scenarios: `stress-q35-16cores-hello-<n>` and `stress-bios-q35-4cores-<n>`.
pub fn scenarios(artifacts: &Artifacts) -> Vec<Scenario> {
    let mut scenarios = Vec::new();
    let multiboot_ready = r"^ingot: ready cores=16 mem=\d+MiB boot=multiboot$";
    for boot in 1..=BOOTS {
        let qemu = QemuConfig::new(Machine::Q35)
            .cores(16)
            .kernel(&artifacts.kernel)
            .initrd(artifacts.program("hello"))
            .append("exit=qemu")
            .extra_args(["-vga", "std"]);
        let expect = [
            BANNER,
            r"^ingot: pci 0000:00:\d\d\.0 1234:1111 class=03\.00 driver=none$",
            multiboot_ready,
            "^hello from an Ingot program$",
            "^ingot: program exited status=42$",
        ];
        let name = format!("stress-q35-16cores-hello-{boot}");
        scenarios.push(scenario(&name, qemu, &expect, exit_status_for(42)));
    }
    let bios_ready = ready("bios");
    for boot in 1..=BOOTS {
        let qemu = disk_boot(Machine::Q35, &artifacts.test_image)
            .cores(4)
            .memory("256M")
            .extra_args(["-vga", "std"]);
        let expect = [BANNER, &bios_ready];
        let name = format!("stress-bios-q35-4cores-{boot}");
        scenarios.push(scenario(&name, qemu, &expect, exit_status_for(0)));
    }
    scenarios
}
