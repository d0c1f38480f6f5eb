//! Disk-image boots: the hybrid image under SeaBIOS (and, once built, OVMF), across
//! machines, core counts and CPU models, plus the BIOS loader's error messages.
//!
//! They boot `ingot-test.img` (the layout of `ingot.img` with `exit=qemu` as its
//! command line, `image.rs`). The error scenarios boot damaged copies written here: one
//! whose BMFS directory no longer names `kernel.bin`, one cut short inside the BMFS
//! partition so the kernel's sectors cannot be read. A loader that fails halts, so those
//! scenarios pass once the message is seen ([`STAYS_RUNNING`]).

use std::fs;
use std::path::{Path, PathBuf};

use super::{BANNER, exit_status_for, ready, scenario};
use crate::build::{Artifacts, output_dir};
use crate::harness::{STAYS_RUNNING, Scenario};
use crate::image::{ImageOptions, write_image};
use crate::qemu::{Machine, QemuConfig};
use crate::screenshot;

const LOADER_LINE: &str = r"^ingot-bios: loading kernel\.bin$";
/// OVMF's terminal escapes may precede it on the same line, so it is not anchored.
const UEFI_LOADER_LINE: &str = r"ingot-uefi: loading \\ingot\\kernel\.bin$";
/// The UEFI firmware (Debian's `ovmf`, installed by `.ci/run`).
pub const OVMF: &str = "/usr/share/OVMF/OVMF_CODE.fd";

/// QEMU booting `image` from its first IDE disk (AHCI on q35), never writing to it.
pub fn disk_boot(machine: Machine, image: &Path) -> QemuConfig {
    QemuConfig::new(machine)
        .arg("-drive")
        .arg(format!("file={},format=raw,if=ide,snapshot=on", image.display()))
}

/// A BIOS boot with the RAM of the kernel's `.bss` filled with 0xFF before the
/// firmware runs (QEMU's generic loader device): `kernel.bin` stops before `.bss`, so
/// only `loader64_entry`'s zeroing gives the statics their initial values; without it
/// locks start taken and counters start at all ones.
fn bss_dirty_at_boot(artifacts: &Artifacts) -> Scenario {
    let path = output_dir().join("bss-ones.bin");
    let layout = super::failures::KernelLayout::read(&artifacts.kernel);
    let written = layout.and_then(|layout| {
        let ones = vec![0xFF; (layout.image_end - layout.bss_start) as usize];
        fs::write(&path, ones).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(layout.bss_start)
    });
    let bss_start = written.unwrap_or_else(|error| {
        eprintln!("xtask: {error}");
        0
    });
    let loader = format!("loader,file={},addr={bss_start:#x},force-raw=on", path.display());
    let qemu =
        disk_boot(Machine::Pc, &artifacts.test_image).extra_args(["-device", loader.as_str()]);
    let expect = [LOADER_LINE, BANNER, &ready("bios")];
    scenario("bios-pc-bss-dirty", qemu, &expect, exit_status_for(0))
}

/// QEMU booting `image` on q35 under OVMF.
pub fn uefi_boot(image: &Path) -> QemuConfig {
    disk_boot(Machine::Q35, image).extra_args(["-bios", OVMF])
}

/// The disk-image scenarios.
pub fn scenarios(artifacts: &Artifacts) -> Vec<Scenario> {
    let image = &artifacts.test_image;
    let bios_ready = ready("bios");
    let mut scenarios = Vec::new();
    for machine in [Machine::Pc, Machine::Q35] {
        for cores in [1, 4] {
            for cpu in ["qemu64", "max"] {
                let name = format!("bios-{}-{cores}cores-{cpu}", machine.name());
                let qemu = disk_boot(machine, image).cores(cores).cpu(cpu);
                let expect = [LOADER_LINE, BANNER, &bios_ready];
                scenarios.push(scenario(&name, qemu, &expect, exit_status_for(0)));
            }
        }
        let name = format!("bios-{}-4M", machine.name());
        let qemu = disk_boot(machine, image).memory("4M");
        let expect = [LOADER_LINE, r"^ingot: ready cores=1 mem=3MiB boot=bios$"];
        scenarios.push(scenario(&name, qemu, &expect, exit_status_for(0)));
    }

    scenarios.push(bss_dirty_at_boot(artifacts));
    scenarios.push(screen_scenario(artifacts, Firmware::Bios));

    let uefi_ready = ready("uefi");
    for cores in [1, 4] {
        for cpu in ["qemu64", "max"] {
            let name = format!("uefi-q35-{cores}cores-{cpu}");
            let qemu = uefi_boot(image).cores(cores).cpu(cpu);
            let expect = [UEFI_LOADER_LINE, BANNER, &uefi_ready];
            scenarios.push(scenario(&name, qemu, &expect, exit_status_for(0)));
        }
    }
    scenarios.push(screen_scenario(artifacts, Firmware::Uefi));
    // Guest RAM and 64-bit PCI BARs above 4 GiB (OVMF's 64-bit aperture, made large).
    let qemu = uefi_boot(image).memory("8G").extra_args([
        "-fw_cfg",
        "name=opt/ovmf/X-PciMmio64Mb,string=65536",
        "-device",
        "virtio-rng-pci",
        "-device",
        "virtio-net-pci,netdev=none0",
        "-netdev",
        "user,id=none0,restrict=on",
    ]);
    let expect = [UEFI_LOADER_LINE, r"^ingot: ready cores=\d+ mem=81[89]\dMiB boot=uefi$"];
    scenarios.push(scenario("uefi-q35-8G-pci-above-4G", qemu, &expect, exit_status_for(0)));
    let path = damaged_copy(image, "uefi-missing-kernel", |image| rename_esp_kernel(image));
    let mut s = scenario(
        "uefi-missing-kernel",
        uefi_boot(&path),
        &[r"ingot-uefi: \\ingot\\kernel\.bin not found on the EFI system partition$"],
        STAYS_RUNNING,
    );
    s.forbid.push(r"^Ingot \d".into());
    scenarios.push(s);

    // The boot program from the image: hello, passed as the PVH module by both loaders.
    let hello_image = output_dir().join("ingot-hello.img");
    let options = ImageOptions { boot: Some("hello".into()), ..ImageOptions::for_tests() };
    if let Err(error) = write_image(artifacts, &options, &hello_image) {
        eprintln!("xtask: cannot write {}: {error}", hello_image.display());
    }
    let hello_lines = [
        "^ingot: program loaded bytes=",
        "^hello from an Ingot program$",
        "^hello: bad pointers refused=true$",
        "^ingot: program exited status=42$",
    ];
    for (name, qemu, boot) in [
        ("bios-pc-init-hello", disk_boot(Machine::Pc, &hello_image), "bios"),
        ("uefi-q35-init-hello", uefi_boot(&hello_image), "uefi"),
    ] {
        let ready_line = ready(boot);
        let expect: Vec<&str> = [BANNER, &ready_line].into_iter().chain(hello_lines).collect();
        scenarios.push(scenario(name, qemu, &expect, exit_status_for(42)));
    }

    let damaged = |name: &str, expect: &str, damage: fn(&mut Vec<u8>)| {
        let path = damaged_copy(image, name, damage);
        let mut s = scenario(name, disk_boot(Machine::Pc, &path), &[expect], STAYS_RUNNING);
        s.forbid.push(r"^Ingot \d".into());
        s
    };
    scenarios.push(damaged(
        "bios-missing-kernel",
        r"^ingot-bios: kernel\.bin not found on the BMFS partition$",
        |image| rename_kernel(image),
    ));
    scenarios.push(damaged(
        "bios-disk-read-error",
        r"^ingot-bios: disk read error, BIOS status 0x[0-9a-f]{2}$",
        cut_inside_bmfs,
    ));
    scenarios
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Firmware {
    Bios,
    Uefi,
}

/// Boots an image without `exit=qemu` on a VGA (VBE / GOP), waits for the ready line,
/// takes a QMP screendump and compares it with the console's rendering of the serial
/// lines from the banner on.
fn screen_scenario(artifacts: &Artifacts, firmware: Firmware) -> Scenario {
    let (name, boot) = match firmware {
        Firmware::Bios => ("bios-screen-matches-serial", "bios"),
        Firmware::Uefi => ("uefi-screen-matches-serial", "uefi"),
    };
    let image = output_dir().join(format!("{name}.img"));
    let options = ImageOptions { cmdline: String::new(), ..ImageOptions::for_tests() };
    if let Err(error) = write_image(artifacts, &options, &image) {
        eprintln!("xtask: cannot write {}: {error}", image.display());
    }
    let socket = output_dir().join(format!("{name}.qmp"));
    let shot = output_dir().join(format!("{name}.ppm"));
    let _ = fs::remove_file(&socket);
    let _ = fs::remove_file(&shot);
    let qemu = match firmware {
        Firmware::Bios => disk_boot(Machine::Q35, &image),
        Firmware::Uefi => uefi_boot(&image),
    };
    let qemu = qemu
        .extra_args(["-vga", "std", "-qmp"])
        .arg(format!("unix:{},server=on,wait=off", socket.display()));
    let screen_line = match firmware {
        // The BIOS loader asks VBE for 1024x768; 12x16 cells give 85x48.
        Firmware::Bios => r"^ingot: screen 1024x768 at 0x[0-9a-f]+, console 85x48$",
        Firmware::Uefi => r"^ingot: screen \d+x\d+ at 0x[0-9a-f]+, console \d+x\d+$",
    };
    let expect = [BANNER, screen_line, &ready(boot)];
    let mut s = scenario(name, qemu, &expect, STAYS_RUNNING);
    s.live_check = Some(Box::new(move |log: &str| {
        screenshot::screendump(&socket, &shot)?;
        let image = screenshot::read_ppm(&shot)?;
        let lines: Vec<&str> = log.lines().skip_while(|line| !line.starts_with("Ingot ")).collect();
        screenshot::compare_with_console(&image, &lines).map(|_| ())
    }));
    s
}

/// Renames the `kernel.bin` entry of the BMFS directory to `kernel.old`.
fn rename_kernel(image: &mut [u8]) {
    let directory = ingot_mkimage::BMFS_START as usize + ingot_bmfs::DIRECTORY_OFFSET;
    if let Some(slot) = image.get_mut(directory..directory + 64 * 64) {
        for entry in slot.chunks_mut(64) {
            if entry.starts_with(b"kernel.bin\0") {
                entry[..11].copy_from_slice(b"kernel.old\0");
            }
        }
    }
}

/// Renames `kernel.bin` on the ESP: its 8.3 name `KERNEL  BIN` becomes `KERNEL  OLD`,
/// which also voids the long-name entries (their checksum covers the short name).
fn rename_esp_kernel(image: &mut [u8]) {
    let esp = 1 << 20;
    let region = &mut image[esp..esp + ingot_mkimage::ESP_BYTES as usize];
    let name = b"KERNEL  BIN";
    let mut at = 0;
    while at + 32 <= region.len() {
        if &region[at..at + 11] == name {
            region[at + 8..at + 11].copy_from_slice(b"OLD");
        }
        at += 32;
    }
}

/// Keeps the image only up to BMFS block 0 plus 1 MiB: the directory still reads,
/// the kernel (block 1) lies past the end of the disk.
fn cut_inside_bmfs(image: &mut Vec<u8>) {
    image.truncate(ingot_mkimage::BMFS_START as usize + (1 << 20));
}

/// Writes `<name>.img` next to the test image: a copy with `damage` applied. A failure
/// to write is reported; the scenario then fails on the missing file.
pub(super) fn damaged_copy(image: &Path, name: &str, damage: fn(&mut Vec<u8>)) -> PathBuf {
    let path = output_dir().join(format!("{name}.img"));
    let written = fs::read(image).and_then(|mut bytes| {
        damage(&mut bytes);
        fs::write(&path, bytes)
    });
    if let Err(error) = written {
        eprintln!("xtask: cannot write {}: {error}", path.display());
    }
    path
}
