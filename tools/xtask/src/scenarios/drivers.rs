//! Driver families (`cargo xtask build --drivers`): a kernel built with the virtio
//! family only. On microvm its disk and NIC come over virtio-mmio (from the DSDT), on
//! q35 over virtio-pci; `disk-test` writes and reads back its pattern (the host then
//! compares the image file) and `net-test` gets ARP and DHCP answers through the NIC.
//! On q35 the devices of families left out (the chipset's AHCI controller, an NVMe
//! disk, an e1000 NIC) must each get the not-supported line and no driver.
//!
//! A kernel without any driver family, on microvm with a virtio-mmio disk and NIC,
//! must say of each that it is not supported, start neither, and still run a program.
//!
//! Each kernel is built by the first of these scenarios that needs it (in its
//! `prepare`, once per `xtask` run), so other test runs do not pay for it.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::net::{answered, mac, nic_args};
use super::storage::{check_images, disk_line, fresh_image};
use super::{BANNER, exit_status_for, ready, scenario};
use crate::build::{Artifacts, KernelVariant, kernel_variant};
use crate::drivers::DriverSet;
use crate::harness::{Prepare, Scenario};
use crate::qemu::{Machine, QemuConfig};

/// Builds the kernel with `drivers` once per run; scenarios needing a kernel wait
/// while one is built (one build at a time, so no file is copied while QEMU reads it).
fn build_once(drivers: DriverSet) -> Prepare {
    static BUILT: Mutex<BTreeMap<String, Result<(), String>>> = Mutex::new(BTreeMap::new());
    Box::new(move || {
        let mut built = BUILT.lock().map_err(|_| "an earlier kernel build panicked")?;
        built
            .entry(drivers.to_string())
            .or_insert_with(|| kernel_variant(&drivers).map(|_| ()))
            .clone()
            .map(|()| Box::new(()) as Box<dyn Send>)
    })
}

/// The not-supported line for a device of `family` at a PCI address.
fn left_out(family: &str) -> String {
    format!(
        r"^ingot: {family} 0000:00:[0-9a-f]{{2}}\.\d: not supported by this kernel \(built without the {family} driver family\)$"
    )
}

/// The lines of q35's left-out devices: the PCI lines say no driver took them.
fn left_out_lines() -> Vec<String> {
    vec![
        left_out("nvme"),
        r"^ingot: pci 0000:00:\d\d\.0 1b36:0010 class=01\.08 driver=none$".into(),
        left_out("intel-nic"),
        r"^ingot: pci 0000:00:\d\d\.0 8086:100e class=02\.00 driver=none$".into(),
        left_out("ahci"),
        r"^ingot: pci 0000:00:1f\.2 8086:2922 class=01\.06 driver=none$".into(),
    ]
}

/// A virtio-only kernel on `machine` running `program` with one virtio disk and one
/// virtio NIC (on q35 also an NVMe disk and an e1000 NIC, left-out families).
fn virtio_only(name: &str, machine: Machine, program: &str, artifacts: &Artifacts) -> Scenario {
    let kernel = KernelVariant::of(&DriverSet::virtio_only()).elf;
    let image = fresh_image(name, 0);
    let (disk_device, nic_device) = match machine {
        Machine::Microvm => ("virtio-blk-device", "virtio-net-device"),
        _ => ("virtio-blk-pci", "virtio-net-pci"),
    };
    let mut qemu = QemuConfig::new(machine)
        .kernel(kernel)
        .initrd(artifacts.program(program))
        .append("exit=qemu")
        .extra_args([
            "-drive".to_string(),
            format!("file={},format=raw,if=none,id=d0", image.display()),
            "-device".into(),
            format!("{disk_device},drive=d0"),
        ])
        .extra_args(nic_args(0, nic_device));
    let mut lines: Vec<String> = vec![BANNER.into()];
    if machine == Machine::Microvm {
        lines.push(r"^ingot: virtio-mmio 0x[0-9a-f]+ size=0x200 irq=\d+ type=2 version=1 driver=virtio-blk$".into());
        lines.push(r"^ingot: virtio-mmio 0x[0-9a-f]+ size=0x200 irq=\d+ type=1 version=1 driver=virtio-net$".into());
    } else {
        let spare = fresh_image(name, 1);
        qemu = qemu
            .extra_args([
                "-drive".to_string(),
                format!("file={},format=raw,if=none,id=d1", spare.display()),
                "-device".into(),
                "nvme,drive=d1,serial=left-out".into(),
            ])
            .extra_args(nic_args(1, "e1000"));
        lines.push(r"^ingot: pci 0000:00:\d\d\.0 1af4:1001 class=01\.00 driver=virtio-blk$".into());
        lines.push(r"^ingot: pci 0000:00:\d\d\.0 1af4:1000 class=02\.00 driver=virtio-net$".into());
    }
    lines.push(disk_line(0, "virtio-blk", 512));
    lines.push(format!("^ingot: net 0 virtio-net mac={} link=up$", mac(0)));
    lines.push(ready("multiboot"));
    match program {
        "disk-test" => {
            lines.push("^disk-test: disks=1$".into());
            lines.push(
                r"^disk-test: disk 0 verified bytes=\d+ bad-requests-refused=true bounced=0$"
                    .into(),
            );
            lines.push("^disk-test: all 1 disks verified$".into());
        }
        _ => {
            lines.push("^net-test: nics=1$".into());
            lines.push(format!(
                "^net-test: nic 0 driver=virtio-net mac={} mtu=1500 link=up$",
                mac(0)
            ));
            lines.extend(answered(0));
            lines.push("^net-test: done$".into());
        }
    }
    lines.push("^ingot: program exited status=0$".into());
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut s = scenario(name, qemu, &refs, exit_status_for(0));
    if machine != Machine::Microvm {
        // The PCI lines come in bus order, so the left-out lines are checked apart
        // from the ordered ones: each must appear somewhere, and nothing may take them.
        let left: Vec<regex::Regex> =
            left_out_lines().iter().map(|l| regex::Regex::new(l).expect("valid regex")).collect();
        s.host_check = Some(Box::new(move |log| {
            for (pattern, regex) in left_out_lines().iter().zip(&left) {
                if !log.lines().any(|line| regex.is_match(line.trim_end())) {
                    return Err(format!("no line matches `{pattern}`"));
                }
            }
            Ok(())
        }));
        s.forbid.push(r"^ingot: (disk 1|net 1) ".into());
    }
    if program == "disk-test" {
        let previous = s.host_check.take();
        s.host_check = Some(Box::new(move |log| {
            if let Some(check) = &previous {
                check(log)?;
            }
            check_images(log, std::slice::from_ref(&image))
        }));
    }
    s.prepare = Some(build_once(DriverSet::virtio_only()));
    s.timeout = std::time::Duration::from_secs(90);
    s
}

/// A kernel without driver families on microvm with a virtio-mmio disk and NIC (from
/// the DSDT): both reported as not supported, neither started, `hello` still runs.
fn no_drivers_microvm(artifacts: &Artifacts) -> Scenario {
    let name = "drivers-none-microvm-left-out";
    let image = fresh_image(name, 0);
    let qemu = QemuConfig::new(Machine::Microvm)
        .kernel(KernelVariant::of(&DriverSet::none()).elf)
        .initrd(artifacts.program("hello"))
        .append("exit=qemu")
        .extra_args([
            "-drive".to_string(),
            format!("file={},format=raw,if=none,id=d0", image.display()),
            "-device".into(),
            "virtio-blk-device,drive=d0".into(),
        ])
        .extra_args(nic_args(0, "virtio-net-device"));
    let left_out = r"^ingot: virtio mmio@0x[0-9a-f]+: not supported by this kernel \(built without the virtio driver family\)$";
    let ready = ready("multiboot");
    let expect = [
        BANNER,
        left_out,
        left_out,
        &ready,
        "^hello from an Ingot program$",
        "^ingot: program exited status=42$",
    ];
    let mut s = scenario(name, qemu, &expect, exit_status_for(42));
    s.forbid.extend([r"^ingot: (disk|net) \d".to_string(), "^ingot: virtio-mmio ".into()]);
    s.prepare = Some(build_once(DriverSet::none()));
    s
}

/// The driver-family scenarios.
pub fn scenarios(artifacts: &Artifacts) -> Vec<Scenario> {
    vec![
        virtio_only("drivers-virtio-only-microvm-disk", Machine::Microvm, "disk-test", artifacts),
        virtio_only("drivers-virtio-only-microvm-net", Machine::Microvm, "net-test", artifacts),
        virtio_only("drivers-virtio-only-q35-disk", Machine::Q35, "disk-test", artifacts),
        virtio_only("drivers-virtio-only-q35-net", Machine::Q35, "net-test", artifacts),
        no_drivers_microvm(artifacts),
    ]
}
