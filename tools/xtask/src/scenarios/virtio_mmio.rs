//! virtio-mmio on `-M microvm` (no PCI): disks and NICs named on the command line as
//! `virtio_mmio.device=<size>@<base>:<irq>` or described in the ACPI DSDT. QEMU
//! 7.2's microvm adds the entries itself only when it boots a kernel through PVH with
//! ACPI off (it changes the command line in fw_cfg, which Multiboot never reads, and
//! with ACPI on it describes the devices in the DSDT instead); so most scenarios pass
//! them explicitly, the `acpi` ones rely on the DSDT alone, and one checks QEMU's own
//! entries. QEMU puts the first `-device` on the last of
//! its transports (24 of 512 bytes from 0xfeb00000 with ACPI, GSI 24 + slot; 8 without,
//! GSI 5 + slot) and the next ones below it.
//!
//! The disk scenarios run `disk-test` and compare the image files from the host like
//! the PCI storage scenarios; the NIC scenarios run `net-test` (ARP and DHCP against
//! QEMU's user network; with several cores also two cores sending at once). The curl
//! fetch of a page waits for the web server.

use super::net::{SHARED, answered, mac, nic_args};
use super::storage::{check_images, fresh_image};
use super::{BANNER, exit_status_for, ready, scenario};
use crate::build::Artifacts;
use crate::harness::Scenario;
use crate::qemu::{Machine, QemuConfig};

/// Transports QEMU's microvm creates with ACPI on.
const TRANSPORTS: u64 = 24;

/// Base address and GSI of the transport QEMU gives the `order`-th `-device`
/// (ACPI on).
fn transport(order: usize) -> (u64, u64) {
    let slot = TRANSPORTS - 1 - order as u64;
    (0xFEB0_0000 + 0x200 * slot, 24 + slot)
}

/// The command-line entries for the first `count` devices.
fn entries(count: usize) -> String {
    (0..count)
        .map(|order| {
            let (base, irq) = transport(order);
            format!(" virtio_mmio.device=512@{base:#x}:{irq}")
        })
        .collect()
}

/// The kernel's lines for device `order` of virtio type `kind` taken by `driver`.
fn device_lines(order: usize, kind: u32, driver: &str, version: u32) -> [String; 2] {
    let (base, irq) = transport(order);
    let interface = if version == 2 { "modern" } else { "legacy" };
    [
        format!("^ingot: {driver} mmio@{base:#x} interface={interface}$"),
        format!(
            "^ingot: virtio-mmio {base:#x} size=0x200 irq={irq} type={kind} version={version} driver={driver}$"
        ),
    ]
}

/// QEMU's virtio-mmio transports speak version 1 unless told otherwise.
fn version_args(version: u32) -> Vec<String> {
    match version {
        2 => vec!["-global".into(), "virtio-mmio.force-legacy=false".into()],
        _ => Vec::new(),
    }
}

/// `disk-test` on `disks` virtio-mmio disks, on `cores` cores.
fn disk_scenario(
    artifacts: &Artifacts,
    name: &str,
    disks: usize,
    version: u32,
    cores: u32,
) -> Scenario {
    let mut qemu = QemuConfig::new(Machine::Microvm)
        .cores(cores)
        .kernel(&artifacts.kernel)
        .initrd(artifacts.program("disk-test"))
        .append(format!("exit=qemu{}", entries(disks)))
        .extra_args(version_args(version));
    let mut images = Vec::new();
    let mut lines: Vec<String> = vec![BANNER.into()];
    for index in 0..disks {
        let image = fresh_image(name, index);
        qemu = qemu.extra_args([
            "-drive".to_string(),
            format!("file={},format=raw,if=none,id=d{index}", image.display()),
            "-device".into(),
            format!("virtio-blk-device,drive=d{index}"),
        ]);
        images.push(image);
        lines.extend(device_lines(index, 2, "virtio-blk", version));
    }
    lines.extend((0..disks).map(|n| super::storage::disk_line(n, "virtio-blk", 512)));
    lines.push(format!(r"^ingot: ready cores={cores} mem=\d+MiB boot=multiboot$"));
    lines.push(format!("^disk-test: disks={disks}$"));
    for disk in 0..disks {
        lines.push(format!(
            r"^disk-test: disk {disk} verified bytes=\d+ bad-requests-refused=true bounced=0$"
        ));
    }
    lines.push(format!("^disk-test: all {disks} disks verified$"));
    lines.push("^ingot: program exited status=0$".into());
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut s = scenario(name, qemu, &refs, exit_status_for(0));
    s.timeout = std::time::Duration::from_secs(90);
    s.host_check = Some(Box::new(move |log| check_images(log, &images)));
    s
}

/// `net-test` on `nics` virtio-mmio NICs, on `cores` cores.
fn net_scenario(
    artifacts: &Artifacts,
    name: &str,
    nics: usize,
    version: u32,
    cores: u32,
) -> Scenario {
    let mut qemu = QemuConfig::new(Machine::Microvm)
        .cores(cores)
        .kernel(&artifacts.kernel)
        .initrd(artifacts.program("net-test"))
        .append(format!("exit=qemu{}", entries(nics)))
        .extra_args(version_args(version));
    let mut lines: Vec<String> = vec![BANNER.into()];
    for index in 0..nics {
        qemu = qemu.extra_args(nic_args(index, "virtio-net-device"));
        lines.extend(device_lines(index, 1, "virtio-net", version));
    }
    for index in 0..nics {
        lines.push(format!("^ingot: net {index} virtio-net mac={} link=up$", mac(index)));
    }
    lines.push(format!(r"^ingot: ready cores={cores} mem=\d+MiB boot=multiboot$"));
    lines.push(format!("^net-test: nics={nics}$"));
    for index in 0..nics {
        lines.push(format!(
            "^net-test: nic {index} driver=virtio-net mac={} mtu=1500 link=up$",
            mac(index)
        ));
    }
    if cores >= 2 {
        lines.push(SHARED.into());
    }
    for index in 0..nics {
        lines.extend(answered(index));
    }
    lines.push("^net-test: done$".into());
    lines.push("^ingot: program exited status=0$".into());
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut s = scenario(name, qemu, &refs, exit_status_for(0));
    s.timeout = std::time::Duration::from_secs(90);
    s
}

/// QEMU's own entries (PVH, ACPI off): a disk and a NIC are found without any
/// entry on our command line, on the transports of the 8-transport layout.
fn qemu_entries(artifacts: &Artifacts) -> Scenario {
    let name = "virtio-mmio-entries-from-qemu";
    let image = fresh_image(name, 0);
    let qemu = QemuConfig::new(Machine::Microvm)
        .kernel(&artifacts.kernel_pvh)
        .append("exit=qemu")
        .extra_args(["-machine", "acpi=off"])
        .extra_args([
            "-drive".to_string(),
            format!("file={},format=raw,if=none,id=d0", image.display()),
            "-device".into(),
            "virtio-blk-device,drive=d0".into(),
        ])
        .extra_args(nic_args(0, "virtio-net-device"));
    let expect = [
        BANNER,
        "^ingot: virtio-mmio 0xfeb00e00 size=0x200 irq=12 type=2 version=1 driver=virtio-blk$",
        "^ingot: virtio-mmio 0xfeb00c00 size=0x200 irq=11 type=1 version=1 driver=virtio-net$",
        &super::storage::disk_line(0, "virtio-blk", 512),
        &format!("^ingot: net 0 virtio-net mac={} link=up$", mac(0)),
        &ready("pvh"),
    ];
    scenario(name, qemu, &expect, exit_status_for(0))
}

/// Entries that must not become devices: malformed ones are reported by the command
/// line parser and never mapped; a transport without a device, a window of RAM and a
/// repeated base are refused with the reason; the real disk after them still works.
fn bad_entries(artifacts: &Artifacts) -> Scenario {
    let name = "virtio-mmio-bad-entries";
    let image = fresh_image(name, 0);
    let (disk, disk_irq) = transport(0);
    let (empty, empty_irq) = transport(5);
    let append = format!(
        "exit=qemu virtio_mmio.device=512@0xfeb0zz00:5 virtio_mmio.device=16@{disk:#x}:{disk_irq} \
         virtio_mmio.device=4K@0x1000000:5 virtio_mmio.device=512@{empty:#x}:{empty_irq} \
         virtio_mmio.device=512@{disk:#x}:{disk_irq} virtio_mmio.device=512@{disk:#x}:{disk_irq}"
    );
    let qemu = QemuConfig::new(Machine::Microvm)
        .kernel(&artifacts.kernel)
        .initrd(artifacts.program("disk-test"))
        .append(append)
        .extra_args([
            "-drive".to_string(),
            format!("file={},format=raw,if=none,id=d0", image.display()),
            "-device".into(),
            "virtio-blk-device,drive=d0".into(),
        ]);
    let lines = [
        BANNER.to_string(),
        "^ingot: cmdline: virtio_mmio.device '512@0xfeb0zz00:5' skipped: a number does not parse$"
            .into(),
        format!(
            "^ingot: cmdline: virtio_mmio.device '16@{disk:#x}:{disk_irq}' skipped: window smaller than the 0x100-byte registers$"
        ),
        format!(
            "^ingot: cmdline: virtio_mmio.device '512@{disk:#x}:{disk_irq}' skipped: same base as an earlier entry$"
        ),
        // Usable RAM: refused by the platform's device-window check; a platform
        // without that check still finds no device there.
        "^ingot: virtio-mmio 0x1000000 size=0x1000 irq=5: (refused: not a device window .*|not a virtio-mmio device .*)$".into(),
        format!(
            "^ingot: virtio-mmio {empty:#x} size=0x200 irq={empty_irq}: no device behind the transport$"
        ),
        format!(
            "^ingot: virtio-mmio {disk:#x} size=0x200 irq={disk_irq} type=2 version=1 driver=virtio-blk$"
        ),
        super::storage::disk_line(0, "virtio-blk", 512),
        ready("multiboot"),
        "^disk-test: disks=1$".into(),
        "^disk-test: all 1 disks verified$".into(),
        "^ingot: program exited status=0$".into(),
    ];
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut s = scenario(name, qemu, &refs, exit_status_for(0));
    s.forbid.push("^ingot: disk 1 ".into());
    s.host_check = Some(Box::new(move |log| check_images(log, std::slice::from_ref(&image))));
    s
}

/// The work queue on 4 cores (`smp-demo`: 10,000 tasks, nested groups, per-core
/// assignment) with a virtio-mmio disk and NIC found from the DSDT.
fn work_queue(artifacts: &Artifacts) -> Scenario {
    let name = "virtio-mmio-work-queue-smp4";
    let image = fresh_image(name, 0);
    let mut s = super::cores::smp_demo(artifacts, Machine::Microvm, 4, None);
    s.name = name.into();
    s.qemu = s
        .qemu
        .extra_args([
            "-drive".to_string(),
            format!("file={},format=raw,if=none,id=d0", image.display()),
            "-device".into(),
            "virtio-blk-device,drive=d0".into(),
        ])
        .extra_args(nic_args(0, "virtio-net-device"));
    let mut found: Vec<String> = device_lines(0, 2, "virtio-blk", 1).into();
    found.extend(device_lines(1, 1, "virtio-net", 1));
    s.expect.splice(1..1, found);
    s
}

/// `scenario` with no entries on the command line: the devices come from the DSDT.
fn from_acpi(mut scenario: Scenario) -> Scenario {
    scenario.qemu = scenario.qemu.append("exit=qemu");
    scenario
}

/// The virtio-mmio scenarios.
pub fn scenarios(artifacts: &Artifacts) -> Vec<Scenario> {
    vec![
        from_acpi(disk_scenario(artifacts, "virtio-mmio-acpi-two-disks-smp4", 2, 1, 4)),
        from_acpi(net_scenario(artifacts, "virtio-mmio-acpi-net", 1, 2, 1)),
        work_queue(artifacts),
        disk_scenario(artifacts, "virtio-mmio-disk", 1, 1, 1),
        disk_scenario(artifacts, "virtio-mmio-disk-modern", 1, 2, 1),
        disk_scenario(artifacts, "virtio-mmio-three-disks-smp4", 3, 1, 4),
        disk_scenario(artifacts, "virtio-mmio-three-disks-modern-smp4", 3, 2, 4),
        net_scenario(artifacts, "virtio-mmio-net", 1, 1, 1),
        net_scenario(artifacts, "virtio-mmio-net-modern-smp4", 1, 2, 4),
        net_scenario(artifacts, "virtio-mmio-two-nics-smp4", 2, 1, 4),
        qemu_entries(artifacts),
        bad_entries(artifacts),
    ]
}
