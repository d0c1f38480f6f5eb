//! Storage scenarios: each boots with one or more disks backed by fresh sparse
//! image files in `target/ingot/disks/`, runs `disk-test` (which writes a known
//! pattern with multi-sector calls across 4 KiB and 2 MiB boundaries and reads it
//! back through the kernel), and then checks from the host that every image holds
//! exactly the pattern bytes at the offsets the program reported, and zeros where
//! nothing should have been written (the last sector, target of a refused write).

use std::fs;
use std::path::PathBuf;

use regex::Regex;

use super::{BANNER, exit_status_for, ready, scenario};
use crate::build::{Artifacts, output_dir};
use crate::harness::Scenario;
use crate::qemu::{Machine, QemuConfig};

/// Size of each disk image (sparse).
const IMAGE_BYTES: u64 = 8 << 20;

/// The pattern byte at byte `offset` of disk `disk`; the same function as
/// `pattern_byte` in `apps/disk-test/src/main.rs`.
pub fn pattern_byte(disk: u64, offset: u64) -> u8 {
    let x = (offset ^ (disk << 56) ^ 0x5DEE_CE66_D1CE_4E5B).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    ((x >> 56) ^ (x >> 24)) as u8
}

/// The boot line for disk `number` on an image of [`IMAGE_BYTES`] with `sector_size`.
pub(super) fn disk_line(number: usize, driver: &str, sector_size: u64) -> String {
    let sectors = IMAGE_BYTES / sector_size;
    format!("^ingot: disk {number} {driver} sectors={sectors} sector_size={sector_size}$")
}

/// A fresh all-zero image for `scenario`'s disk `index`.
pub(super) fn fresh_image(scenario: &str, index: usize) -> PathBuf {
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

/// Builds a storage scenario with `drives` fresh images (drive ids `d0`, `d1`, …, in
/// the order the kernel numbers the disks) and the `-device` options in `devices`.
pub(super) fn storage_scenario(
    artifacts: &Artifacts,
    name: &str,
    machine: Machine,
    drives: usize,
    devices: &[&str],
    expect: &[&str],
) -> Scenario {
    let mut qemu = QemuConfig::new(machine)
        .kernel(&artifacts.kernel)
        .initrd(artifacts.program("disk-test"))
        .append("exit=qemu");
    let mut images = Vec::new();
    for index in 0..drives {
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
    let count = drives;
    let mut lines: Vec<String> = vec![BANNER.into()];
    lines.extend(expect.iter().map(|line| line.to_string()));
    lines.push(ready("multiboot"));
    lines.push(format!("^disk-test: disks={count}$"));
    for disk in 0..count {
        lines.push(format!(
            r"^disk-test: disk {disk} verified bytes=\d+ bad-requests-refused=true bounced=0$"
        ));
    }
    lines.push(format!("^disk-test: all {count} disks verified$"));
    lines.push("^ingot: program exited status=0$".into());
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut s = scenario(name, qemu, &refs, exit_status_for(0));
    s.timeout = std::time::Duration::from_secs(90);
    s.host_check = Some(Box::new(move |log| check_images(log, &images)));
    s
}

/// Checks every region `disk-test` (or `disk-queue`) reported against the image files.
pub(super) fn check_images(log: &str, images: &[PathBuf]) -> Result<(), String> {
    let wrote = Regex::new(
        r"disk-(?:test|queue): disk (\d+) wrote lba=(\d+) count=(\d+) sector_size=(\d+)",
    )
    .map_err(|e| e.to_string())?;
    let mut regions = vec![0usize; images.len()];
    let mut contents: Vec<Vec<u8>> = Vec::new();
    for image in images {
        contents.push(fs::read(image).map_err(|e| format!("{}: {e}", image.display()))?);
    }
    let mut sector_sizes = vec![512u64; images.len()];
    for found in wrote.captures_iter(log) {
        let number = |i: usize| found[i].parse::<u64>().map_err(|e| e.to_string());
        let (disk, lba, count, size) = (number(1)?, number(2)?, number(3)?, number(4)?);
        let image = contents
            .get(disk as usize)
            .ok_or_else(|| format!("disk {disk} reported but only {} images", images.len()))?;
        let start = lba * size;
        let end = start + count * size;
        let bytes = image
            .get(start as usize..end as usize)
            .ok_or_else(|| format!("disk {disk}: region {start}..{end} past the image"))?;
        if let Some(bad) =
            (0..bytes.len()).find(|&i| bytes[i] != pattern_byte(disk, start + i as u64))
        {
            return Err(format!(
                "disk {disk}: byte {} is {:#04x} in the image",
                start + bad as u64,
                bytes[bad]
            ));
        }
        regions[disk as usize] += 1;
        sector_sizes[disk as usize] = size;
    }
    for (disk, image) in contents.iter().enumerate() {
        if regions[disk] < 4 {
            return Err(format!("disk {disk}: {} regions reported, expected 4", regions[disk]));
        }
        let last = &image[image.len() - sector_sizes[disk] as usize..];
        if last.iter().any(|&b| b != 0) {
            return Err(format!("disk {disk}: the last sector was written by a refused request"));
        }
        if image[..512].iter().any(|&b| b != 0) {
            return Err(format!("disk {disk}: sector 0 was written by a refused request"));
        }
    }
    Ok(())
}

/// The storage scenarios.
pub fn scenarios(artifacts: &Artifacts) -> Vec<Scenario> {
    let virtio = |name: &str, device: &str, id: &str, interface: &str| {
        let pci = format!(r"^ingot: pci 0000:00:\d\d\.0 1af4:{id} class=01\.00 driver=virtio-blk$");
        // Modern devices complete by MSI-X (the request halts); legacy ones are polled.
        let irq = if interface == "modern" { r" irq=msix vector=0x[0-9a-f]+" } else { "" };
        let iface = format!(r"^ingot: virtio-blk 0000:00:\d\d\.0 interface={interface}{irq}$");
        let disk = &disk_line(0, "virtio-blk", 512);
        storage_scenario(artifacts, name, Machine::Q35, 1, &[device], &[&iface, &pci, disk])
    };
    // 4 KiB logical sectors (virtio BLK_SIZE feature, NVMe LBA format): 2048 sectors.
    let four_k = |name: &str, device: &str, driver: &str| {
        let disk = disk_line(0, driver, 4096);
        storage_scenario(artifacts, name, Machine::Q35, 1, &[device], &[&disk])
    };
    let mut scenarios = vec![
        four_k(
            "storage-virtio-blk-4k",
            "virtio-blk-pci,drive=d0,logical_block_size=4096,physical_block_size=4096",
            "virtio-blk",
        ),
        four_k(
            "storage-nvme-4k",
            "nvme,drive=d0,serial=ingot-4k,logical_block_size=4096,physical_block_size=4096",
            "nvme",
        ),
        virtio("storage-virtio-blk", "virtio-blk-pci,drive=d0", "1001", "modern"),
        virtio(
            "storage-virtio-blk-legacy",
            "virtio-blk-pci,drive=d0,disable-modern=on",
            "1001",
            "legacy",
        ),
        {
            let mut s = virtio(
                "storage-virtio-blk-modern",
                "virtio-blk-pci,drive=d0,disable-legacy=on",
                "1042",
                "modern",
            );
            // Its requests complete by MSI-X: the blocking calls halted core 0.
            let at = s.expect.len() - 1;
            s.expect
                .insert(at, r"^disk-test: core 0 halted-us=[1-9]\d* interrupting-disks=1$".into());
            s
        },
        // One NVMe controller with two namespaces: both become disks, in NSID order;
        // both complete through MSI-X entry 0, so the blocking calls halted core 0.
        {
            let mut s = storage_scenario(
                artifacts,
                "storage-nvme",
                Machine::Q35,
                2,
                &[
                    "nvme,id=nvme0,serial=ingot-nvme",
                    "nvme-ns,drive=d0,bus=nvme0",
                    "nvme-ns,drive=d1,bus=nvme0",
                ],
                &[
                    r"^ingot: nvme 0000:00:\d\d\.0 irq=msix vector=0x[0-9a-f]+$",
                    r"^ingot: pci 0000:00:\d\d\.0 1b36:0010 class=01\.08 driver=nvme$",
                    &disk_line(0, "nvme", 512),
                    &disk_line(1, "nvme", 512),
                ],
            );
            let at = s.expect.len() - 1;
            s.expect
                .insert(at, r"^disk-test: core 0 halted-us=[1-9]\d* interrupting-disks=2$".into());
            s
        },
        // An added AHCI controller with disks on ports 0 and 2 (q35's own AHCI at
        // 00:1f.2 is claimed too, with no disks).
        // Both disks complete by the controller's MSI: the blocking calls halted core 0.
        {
            let mut s = storage_scenario(
                artifacts,
                "storage-ahci",
                Machine::Q35,
                2,
                &["ahci,id=ahci0", "ide-hd,drive=d0,bus=ahci0.0", "ide-hd,drive=d1,bus=ahci0.2"],
                &[
                    r"^ingot: ahci 0000:00:\d\d\.0 irq=msi vector=0x[0-9a-f]+$",
                    r"^ingot: pci 0000:00:\d\d\.0 8086:2922 class=01\.06 driver=ahci$",
                    r"^ingot: pci 0000:00:1f\.2 8086:2922 class=01\.06 driver=ahci$",
                    &disk_line(0, "ahci", 512),
                    &disk_line(1, "ahci", 512),
                ],
            );
            let at = s.expect.len() - 1;
            s.expect
                .insert(at, r"^disk-test: core 0 halted-us=[1-9]\d* interrupting-disks=2$".into());
            s
        },
        // -M pc's PIIX3 IDE: master and slave on both channels, bus-master DMA.
        ide_scenario(artifacts, "storage-ide-pc", "dma"),
        ide_scenario(artifacts, "storage-ide-pc-pio", "pio"),
        // Two controllers of different kinds at once: both disks, in PCI order.
        storage_scenario(
            artifacts,
            "storage-two-controllers",
            Machine::Q35,
            2,
            &["virtio-blk-pci,drive=d0,addr=03.0", "nvme,drive=d1,serial=ingot-two,addr=04.0"],
            &[
                r"^ingot: pci 0000:00:03\.0 1af4:1001 class=01\.00 driver=virtio-blk$",
                r"^ingot: pci 0000:00:04\.0 1b36:0010 class=01\.08 driver=nvme$",
                &disk_line(0, "virtio-blk", 512),
                &disk_line(1, "nvme", 512),
            ],
        ),
    ];
    // An NVMe controller behind a PCIe root port (bus 1), found by following the
    // bridge, once through mechanism #1 and once through ECAM (q35's MMCONFIG window).
    let behind_bridge =
        ["pcie-root-port,id=rp0,chassis=1", "nvme,drive=d0,serial=ingot-rp,bus=rp0"];
    let bridge_lines = [
        r"^ingot: pci 0000:00:\d\d\.0 1b36:000c class=06\.04 driver=none$",
        r"^ingot: pci 0000:01:00\.0 1b36:0010 class=01\.08 driver=nvme$",
        &disk_line(0, "nvme", 512),
    ];
    let name = "storage-nvme-behind-bridge";
    scenarios.push(storage_scenario(
        artifacts,
        name,
        Machine::Q35,
        1,
        &behind_bridge,
        &bridge_lines,
    ));
    let name = "storage-nvme-behind-bridge-ecam";
    let ecam_lines: Vec<&str> =
        [r"^ingot: pci ecam segment=0 buses=0-255$"].into_iter().chain(bridge_lines).collect();
    let mut ecam = storage_scenario(artifacts, name, Machine::Q35, 1, &behind_bridge, &ecam_lines);
    ecam.qemu = ecam.qemu.append("exit=qemu pci-ecam=0xb0000000");
    scenarios.push(ecam);
    scenarios.extend(fault_scenarios(artifacts));
    scenarios
}

/// -M pc's PIIX3 IDE with master and slave on both channels, in `mode` (`dma`, the
/// default where the controller has a bus master, or `pio` through `ide=pio`).
fn ide_scenario(artifacts: &Artifacts, name: &str, mode: &str) -> Scenario {
    let drives = [(0, 0), (0, 1), (1, 0), (1, 1)];
    let devices: Vec<String> = drives
        .iter()
        .enumerate()
        .map(|(i, (bus, unit))| format!("ide-hd,drive=d{i},bus=ide.{bus},unit={unit}"))
        .collect();
    let mut lines: Vec<String> = drives
        .iter()
        .map(|(channel, drive)| {
            format!(r"^ingot: ide 0000:00:01\.1 channel={channel} drive={drive} mode={mode}$")
        })
        .collect();
    lines.push(r"^ingot: pci 0000:00:01\.1 8086:7010 class=01\.01 driver=ide$".into());
    lines.extend((0..4).map(|n| disk_line(n, "ide", 512)));
    let devices: Vec<&str> = devices.iter().map(String::as_str).collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut s = storage_scenario(artifacts, name, Machine::Pc, 4, &devices, &lines);
    s.qemu = s.qemu.append(format!("exit=qemu ide={mode}"));
    if mode == "pio" {
        // PIO cannot reach program memory by DMA: every transfer is bounced.
        for line in &mut s.expect {
            *line = line.replace("bounced=0$", r"bounced=[1-9]\d*$");
        }
    }
    s
}

/// blkdebug rule: every read touching 512-byte sector 2048 fails with EIO on the host.
const BLKDEBUG_RULE: &str =
    "[inject-error]\nevent = \"read_aio\"\nerrno = \"5\"\nsector = \"2048\"\n";

/// Device-error propagation, one per controller: QEMU's blkdebug fails reads of
/// sector 2048, and `disk-fault` must get `DeviceError` for a read across it and
/// still be able to read elsewhere.
fn fault_scenarios(artifacts: &Artifacts) -> Vec<Scenario> {
    let controllers: [(&str, Machine, &[&str], &str); 7] = [
        ("virtio-blk", Machine::Q35, &["virtio-blk-pci,drive=d0"], ""),
        // On microvm the DSDT names the transport, so no command-line entry is needed.
        ("virtio-mmio", Machine::Microvm, &["virtio-blk-device,drive=d0"], ""),
        ("virtio-blk-legacy", Machine::Q35, &["virtio-blk-pci,drive=d0,disable-modern=on"], ""),
        ("nvme", Machine::Q35, &["nvme,drive=d0,serial=ingot-fault"], ""),
        ("ahci", Machine::Q35, &["ahci,id=ahci0", "ide-hd,drive=d0,bus=ahci0.0"], ""),
        ("ide", Machine::Pc, &["ide-hd,drive=d0,bus=ide.0"], ""),
        ("ide-pio", Machine::Pc, &["ide-hd,drive=d0,bus=ide.0"], " ide=pio"),
    ];
    let mut scenarios = Vec::new();
    for (controller, machine, devices, options) in controllers {
        let name = format!("storage-fault-{controller}");
        let image = fresh_image(&name, 0);
        let rule = image.with_extension("blkdebug");
        if let Err(error) = fs::write(&rule, BLKDEBUG_RULE) {
            eprintln!("cannot write {}: {error}", rule.display());
        }
        let mut qemu = QemuConfig::new(machine)
            .kernel(&artifacts.kernel)
            .initrd(artifacts.program("disk-fault"))
            .append(format!("exit=qemu{options}"))
            .extra_args([
                "-drive".to_string(),
                format!(
                    "file=blkdebug:{}:{},format=raw,if=none,id=d0",
                    rule.display(),
                    image.display()
                ),
            ]);
        for device in devices {
            qemu = qemu.extra_args(["-device", device]);
        }
        let expect = [
            BANNER,
            &ready("multiboot"),
            r"^disk-fault: read lba=2044 count=8 across the failing sector: error=DeviceError$",
            r"^disk-fault: disk usable after the error=true$",
            r"^ingot: program exited status=0$",
        ];
        scenarios.push(scenario(&name, qemu, &expect, exit_status_for(0)));
    }
    scenarios
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_with_the_pattern_pass_and_others_fail() {
        let dir = std::env::temp_dir().join(format!("ingot-storage-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("d.img");
        let mut image = vec![0u8; IMAGE_BYTES as usize];
        for lba in [14u64, 4093, 8092, 10240] {
            for i in 0..512 {
                image[(lba * 512 + i) as usize] = pattern_byte(0, lba * 512 + i);
            }
        }
        fs::write(&path, &image).unwrap();
        let log = "disk-test: disk 0 wrote lba=14 count=1 sector_size=512\n\
                   disk-test: disk 0 wrote lba=4093 count=1 sector_size=512\n\
                   disk-test: disk 0 wrote lba=8092 count=1 sector_size=512\n\
                   disk-test: disk 0 wrote lba=10240 count=1 sector_size=512\n";
        assert_eq!(check_images(log, std::slice::from_ref(&path)), Ok(()));
        // Three regions are not enough: disk-test writes four.
        let three = log.rsplit_once("disk-test: disk 0 wrote lba=10240").unwrap().0;
        assert!(check_images(three, std::slice::from_ref(&path)).is_err());
        image[4093 * 512 + 7] ^= 1;
        fs::write(&path, &image).unwrap();
        assert!(check_images(log, std::slice::from_ref(&path)).is_err());
        let _ = fs::remove_dir_all(&dir);
    }
}
