//! BareMetal compatibility scenarios: the suite of `tools/compat-suite` (assembly and C
//! against the table at 0x100010) on every disk controller, with 4 cores and a NIC on
//! the first, and BareMetal's hello program run unchanged from the boot module and
//! from a disk image's boot program (`boot.app`).
//!
//! The suite writes 37 BareMetal sectors (4 KiB each) from sector 3 and 9 from sector
//! 64 of every disk with a pattern and reads them back; after QEMU exits, the host
//! compares the image files with the same pattern, so what the kernel reported as
//! written is checked on the disk itself.

use std::fs;
use std::path::PathBuf;

use super::boot_images::disk_boot;
use super::{BANNER, exit_status_for, ready, scenario};
use crate::build::{Artifacts, output_dir};
use crate::harness::Scenario;
use crate::image::{ImageOptions, write_image};
use crate::qemu::{Machine, QemuConfig};

/// Size of each disk image (sparse).
const IMAGE_BYTES: u64 = 8 << 20;
/// BareMetal's sector size.
const NVS_SECTOR: u64 = 4096;
/// The regions the suite writes on every disk: (first sector, count), as in
/// `suite.asm` (NVS_FIRST, NVS_COUNT) and `checks.c` (C_FIRST, C_COUNT).
const REGIONS: [(u64, u64); 2] = [(3, 37), (64, 9)];

/// The suite's pattern byte at byte `offset` of disk `disk` (`pattern_byte` in
/// `suite.asm`, `pattern` in `checks.c`).
fn pattern_byte(offset: u64, disk: u64) -> u8 {
    (offset.wrapping_mul(7).wrapping_add((offset >> 12).wrapping_mul(31)) + disk * 101) as u8
}

fn fresh_image(scenario: &str, index: usize) -> PathBuf {
    let dir = output_dir().join("disks");
    let path = dir.join(format!("{scenario}-{index}.img"));
    let made = fs::create_dir_all(&dir)
        .and_then(|()| fs::File::create(&path))
        .and_then(|file| file.set_len(IMAGE_BYTES));
    if let Err(error) = made {
        eprintln!("cannot create {}: {error}", path.display());
    }
    path
}

/// Every region holds the pattern and the sectors around them are still zero.
fn check_images(images: &[PathBuf]) -> Result<(), String> {
    for (disk, path) in images.iter().enumerate() {
        let image = fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        for (first, count) in REGIONS {
            let start = first * NVS_SECTOR;
            let end = start + count * NVS_SECTOR;
            let bytes = image
                .get(start as usize..end as usize)
                .ok_or_else(|| format!("disk {disk}: image shorter than {end} bytes"))?;
            if let Some(bad) =
                (0..bytes.len()).find(|&i| bytes[i] != pattern_byte(start + i as u64, disk as u64))
            {
                return Err(format!(
                    "disk {disk}: byte {} is {:#04x} in the image, the suite wrote {:#04x}",
                    start + bad as u64,
                    bytes[bad],
                    pattern_byte(start + bad as u64, disk as u64)
                ));
            }
            let after = &image[end as usize..(end + NVS_SECTOR) as usize];
            if after.iter().any(|&b| b != 0) {
                return Err(format!("disk {disk}: the sector after {first}+{count} was written"));
            }
        }
        if image[..(3 * NVS_SECTOR) as usize].iter().any(|&b| b != 0) {
            return Err(format!("disk {disk}: sectors 0-2 were written (refused requests)"));
        }
    }
    Ok(())
}

/// The suite on `machine` with `cores`, `disks` fresh images attached by `devices`
/// (drive ids `d0`, `d1`, …), optionally a virtio-net NIC.
fn suite_scenario(
    artifacts: &Artifacts,
    name: &str,
    machine: Machine,
    cores: u32,
    disks: usize,
    devices: &[&str],
    nic: bool,
) -> Scenario {
    let mut qemu = QemuConfig::new(machine)
        .cores(cores)
        .kernel(&artifacts.kernel)
        .initrd(artifacts.program("compat-suite"))
        .append("exit=qemu")
        .type_after("compat: type k", b"k")
        .type_after("compat: press enter", b"\r");
    let mut images = Vec::new();
    for index in 0..disks {
        let image = fresh_image(name, index);
        qemu = qemu.extra_args([
            "-drive".to_string(),
            format!("file={},format=raw,if=none,id=d{index}", image.display()),
        ]);
        images.push(image);
    }
    for device in devices {
        qemu = qemu.extra_args(["-device", device]);
    }
    let mac = if nic {
        qemu = qemu.extra_args([
            "-netdev",
            "user,id=n0,restrict=on",
            "-device",
            "virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56",
        ]);
        "0x0000525400123456"
    } else {
        "0x0000000000000000"
    };
    let mut lines: Vec<String> = vec![
        BANNER.into(),
        ready("multiboot"),
        "^compat: suite start$".into(),
        "^compat: ok signature BAREMETAL at 0x100003$".into(),
        format!("^compat: cores={cores}$"),
        "^compat: ok SMP_SET accepted by every other core$".into(),
        "^compat: ok SMP_LOCK/SMP_UNLOCK: no increment lost on any core$".into(),
        format!("^compat: smp counter={}", cores * 2000),
        "^compat: ok RESET ends code spinning in its own instructions on every other core$".into(),
        format!("^compat: reset ended spinning and waiting for a lock={} passed=0$", cores - 1),
        "^compat: ok RESET: each assignment was withdrawn, ended or ran to its end$".into(),
        "^compat: this line went through the program's own b_output$".into(),
        "^compat: dump-rax 0123456789ABCDEF$".into(),
        "^0xFFFF8000[0-9A-F]{8}: 49 6E 67 6F 74 20 64 75 6D 70 73 20 74 68 69 73$".into(),
        "^0xFFFF8000[0-9A-F]{8}: 2E 00 01 02$".into(),
        "^compat: ok the timer callback fires$".into(),
        format!("^compat: net 0 mac={mac}$"),
    ];
    if nic {
        lines.push("^compat: ok b_net_rx returns the ARP reply".into());
        lines.push("^compat: ok the network callback fires when a frame arrives$".into());
    }
    for disk in 0..disks {
        lines.push(format!("^compat: disk {disk} round trip sectors=37 verified$"));
    }
    lines.push(format!("^compat: disks={disks}$"));
    for disk in 0..disks {
        lines.push(format!("^compat-c: disk {disk} round trip sectors=9 verified$"));
    }
    lines.push(format!("^compat-c: disks={disks}$"));
    lines.push("^compat: ok the keyboard callback fires once for a key$".into());
    lines.push("^compat: ok b_input gives Enter as 0x1C$".into());
    lines.push("^compat: 0 failures$".into());
    lines.push("^ingot: shutting down$".into());
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    // SHUTDOWN ends QEMU through ACPI (status 0); a failure returns instead.
    let mut s = scenario(name, qemu, &refs, 0);
    s.forbid.extend(["FAIL".to_string(), "^ingot: program exited".to_string()]);
    s.timeout = std::time::Duration::from_secs(150);
    s.host_check = Some(Box::new(move |_log| check_images(&images)));
    s
}

/// The compatibility scenarios.
pub fn scenarios(artifacts: &Artifacts) -> Vec<Scenario> {
    let mut scenarios = vec![
        suite_scenario(
            artifacts,
            "compat-virtio-blk-smp4-net",
            Machine::Q35,
            4,
            1,
            &["virtio-blk-pci,drive=d0"],
            true,
        ),
        suite_scenario(
            artifacts,
            "compat-nvme-4k",
            Machine::Q35,
            2,
            1,
            &["nvme,drive=d0,serial=compat,logical_block_size=4096,physical_block_size=4096"],
            false,
        ),
        suite_scenario(
            artifacts,
            "compat-ahci",
            Machine::Q35,
            2,
            2,
            &["ahci,id=ahci0", "ide-hd,drive=d0,bus=ahci0.0", "ide-hd,drive=d1,bus=ahci0.1"],
            false,
        ),
        suite_scenario(
            artifacts,
            "compat-ide-pc",
            Machine::Pc,
            2,
            2,
            &["ide-hd,drive=d0,bus=ide.0,unit=0", "ide-hd,drive=d1,bus=ide.1,unit=0"],
            false,
        ),
    ];
    let hello = ["^Hello, world!$", "^ingot: program exited status=0$"];
    let module = QemuConfig::new(Machine::Q35)
        .kernel(&artifacts.kernel)
        .initrd(artifacts.program("baremetal-hello"))
        .append("exit=qemu");
    let ready_line = ready("multiboot");
    let expect: Vec<&str> = [BANNER, &ready_line].into_iter().chain(hello).collect();
    scenarios.push(scenario("compat-hello-module", module, &expect, exit_status_for(0)));

    // REBOOT: under -no-reboot QEMU stops with status 0 instead of restarting.
    let reboot = QemuConfig::new(Machine::Q35)
        .kernel(&artifacts.kernel)
        .initrd(artifacts.program("baremetal-reboot"))
        .append("exit=qemu");
    let expect =
        [BANNER, &ready_line, "^compat: rebooting through b_system$", "^ingot: rebooting$"];
    let mut s = scenario("compat-reboot", reboot, &expect, 0);
    s.forbid.push("^ingot: program exited".into());
    scenarios.push(s);

    let image = output_dir().join("ingot-baremetal-hello.img");
    let program = artifacts.program("baremetal-hello").display().to_string();
    let options = ImageOptions { boot: Some(program), ..ImageOptions::for_tests() };
    if let Err(error) = write_image(artifacts, &options, &image) {
        eprintln!("xtask: cannot write {}: {error}", image.display());
    }
    let ready_line = ready("bios");
    let expect: Vec<&str> = [BANNER, &ready_line].into_iter().chain(hello).collect();
    scenarios.push(scenario(
        "compat-hello-init-app",
        disk_boot(Machine::Pc, &image),
        &expect,
        exit_status_for(0),
    ));
    scenarios
}
