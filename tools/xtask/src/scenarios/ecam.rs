//! ECAM windows the kernel must refuse: `pci-ecam=` on the kernel image, on page 0,
//! inside RAM, past the CPU's physical address width, and on empty address space where
//! nothing answers. Each must print one refusal line naming the reason, fall back to
//! configuration mechanism #1 (the q35 AHCI controller and its disk are still found) and
//! run the program.

use super::boot_images::disk_boot;
use super::{BANNER, exit_status_for, ready, scenario};
use crate::build::Artifacts;
use crate::harness::Scenario;
use crate::qemu::Machine;

/// The ECAM refusal scenarios (q35, 128 MiB, hello, the test image as an AHCI disk).
pub fn scenarios(artifacts: &Artifacts) -> Vec<Scenario> {
    let cases = [
        ("kernel", "0x100000", r"overlaps the kernel image 0x100000-0x[0-9a-f]+"),
        ("page0", "0x0", "covers page 0"),
        // q35 with 128 MiB: usable RAM runs from 1 MiB to just under 128 MiB.
        ("ram", "0x4000000", r"overlaps RAM 0x100000-0x7[0-9a-f]{6}"),
        // 2^52: past the widest physical address any x86-64 CPU has.
        ("past-width", "0x10000000000000", r"ends past the CPU's \d+-bit physical address width"),
        // Above RAM and inside the width, but no device decodes it.
        ("nothing-answers", "0x200000000", "no function answers there"),
    ];
    let multiboot_ready = ready("multiboot");
    cases
        .into_iter()
        .map(|(name, base, why)| {
            let qemu = disk_boot(Machine::Q35, &artifacts.test_image)
                .kernel(&artifacts.kernel)
                .initrd(artifacts.program("hello"))
                .append(format!("exit=qemu pci-ecam={base}"));
            let refusal = format!("^ingot: pci: ecam {base} segment=0 buses=0-255 refused: {why}$");
            let expect = [
                BANNER,
                &refusal,
                r"^ingot: pci 0000:00:1f\.2 8086:2922 class=01\.06 driver=ahci$",
                r"^ingot: disk 0 ahci sectors=\d+ sector_size=512$",
                &multiboot_ready,
                "^hello from an Ingot program$",
                "^ingot: program exited status=42$",
            ];
            let mut s =
                scenario(&format!("pci-ecam-refused-{name}"), qemu, &expect, exit_status_for(42));
            s.forbid.push(r"^ingot: pci ecam segment=".into());
            s
        })
        .collect()
}
