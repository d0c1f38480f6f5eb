//! The asynchronous disk interface on real controllers: `disk-queue` submits 33
//! requests on each of a virtio-blk disk, an NVMe namespace and an AHCI (NCQ) disk
//! before it waits for any, one of them a 2.5 MiB buffer at the end of the program's
//! free memory that is physically discontiguous, reads everything back the same way
//! and compares; the kernel reports that each device had 32 commands in flight at
//! once, and the host checks every written byte in the image files.
//!
//! `storage-nvme-lanes`: on two cores, `disk-queue --lanes` has core 0 and core 1
//! each keep 8 writes, then 8 reads, of 64 KiB in flight on one NVMe namespace at
//! the same time, each core on its own lane (queue pair, whose completion
//! interrupt the kernel aims at that core); the program compares what it read and
//! the host checks every written byte. (Whether a core halted is printed, not
//! checked: a core whose commands all finished before it waited never halts.)

use super::storage::{check_images, disk_line, fresh_image};
use super::{BANNER, exit_status_for, ready, scenario};
use crate::build::Artifacts;
use crate::harness::Scenario;
use crate::qemu::{Machine, QemuConfig};

/// Bytes each disk's requests move: 32 of 16 KiB and the 2.5 MiB span.
const VERIFIED_BYTES: u64 = 32 * 16 * 1024 + 2 * 1024 * 1024 + 512 * 1024;

/// The scenarios.
pub fn scenarios(artifacts: &Artifacts) -> Vec<Scenario> {
    let name = "storage-queue-32";
    let mut qemu = QemuConfig::new(Machine::Q35)
        .kernel(&artifacts.kernel)
        .initrd(artifacts.program("disk-queue"))
        .append("exit=qemu");
    let mut images = Vec::new();
    for index in 0..3 {
        let image = fresh_image(name, index);
        qemu = qemu.extra_args([
            "-drive".to_string(),
            format!("file={},format=raw,if=none,id=d{index}", image.display()),
        ]);
        images.push(image);
    }
    for device in [
        "virtio-blk-pci,drive=d0,addr=03.0",
        "nvme,drive=d1,serial=ingot-queue,addr=04.0",
        "ahci,id=ahci0,addr=05.0",
        "ide-hd,drive=d2,bus=ahci0.0",
    ] {
        qemu = qemu.extra_args(["-device", device]);
    }
    let mut lines: Vec<String> = vec![
        BANNER.into(),
        disk_line(0, "virtio-blk", 512),
        disk_line(1, "nvme", 512),
        disk_line(2, "ahci", 512),
        ready("multiboot"),
        "^disk-queue: disks=3$".into(),
    ];
    for disk in 0..3 {
        lines.push(format!(
            "^disk-queue: disk {disk} verified bytes={VERIFIED_BYTES} \
             submitted-before-waiting=33 bad-requests-refused=true bounced=0$"
        ));
    }
    lines.push("^disk-queue: all 3 disks verified$".into());
    for disk in 0..3 {
        lines.push(format!(r"^ingot: disk {disk} commands=\d+ most-in-flight=32$"));
    }
    lines.push("^ingot: program exited status=0$".into());
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut s = scenario(name, qemu, &refs, exit_status_for(0));
    s.timeout = std::time::Duration::from_secs(120);
    s.host_check = Some(Box::new(move |log| check_images(log, &images)));
    vec![s, nvme_lanes(artifacts)]
}

/// Two cores on one NVMe namespace at once, each on its own lane.
fn nvme_lanes(artifacts: &Artifacts) -> Scenario {
    let name = "storage-nvme-lanes";
    let image = fresh_image(name, 0);
    let qemu = QemuConfig::new(Machine::Q35)
        .kernel(&artifacts.kernel)
        .initrd(artifacts.program("disk-queue"))
        .cores(2)
        .append("exit=qemu init=disk-queue --lanes")
        .extra_args([
            "-drive".to_string(),
            format!("file={},format=raw,if=none,id=d0", image.display()),
            "-device".to_string(),
            "nvme,drive=d0,serial=ingot-lanes".to_string(),
        ]);
    // Each core: 4 rounds of 8 × 64 KiB read back.
    let verified = 4 * 8 * 64 * 1024;
    let lines = [
        disk_line(0, "nvme", 512),
        r"^ingot: disk 0 lanes=4$".to_string(),
        r"^ingot: irq vector=0x[0-9a-f]+ msix-entry=1 aimed at core 0$".to_string(),
        r"^ingot: irq vector=0x[0-9a-f]+ msix-entry=2 aimed at core 1$".to_string(),
        ready("multiboot"),
        "^disk-queue: lanes start cores=2$".to_string(),
        format!(
            "^disk-queue: lanes core 0 lane=0 verified bytes={verified} failures=0 halted=(true|false)$"
        ),
        format!(
            "^disk-queue: lanes core 1 lane=1 verified bytes={verified} failures=0 halted=(true|false)$"
        ),
        r"^ingot: disk 0 commands=\d+ most-in-flight=8$".to_string(),
        "^ingot: program exited status=0$".to_string(),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut s = scenario(name, qemu, &refs, exit_status_for(0));
    s.timeout = std::time::Duration::from_secs(120);
    s.host_check = Some(Box::new(move |log| check_images(log, std::slice::from_ref(&image))));
    s
}
