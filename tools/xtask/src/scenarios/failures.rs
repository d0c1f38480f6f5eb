//! Failures reported as failures: a program that was named but cannot run, and the
//! boot programs the disk loaders refuse, must end with the kernel's failure status
//! (255) and one line saying why, never with the status of a program that returned 0.
//! RAM too small for the kernel is said in one fatal line by the entry stub.
//! And what once failed silently must work: a 48 MiB program loads and runs, and 18
//! disks on three kinds of controller at `-m 128M` all come up.
//!
//! The images here are copies of a test image booting `hello` whose `boot.app` was
//! made empty or too large on the host (the BMFS directory entry's size, the ESP's FAT
//! directory entry's size), so the loaders' own checks are what is tested.

use std::fs;
use std::path::PathBuf;

use object::{Object, ObjectSection};

use super::boot_images::{damaged_copy, disk_boot, uefi_boot};
use super::storage::{disk_line, storage_scenario};
use super::{BANNER, KERNEL_FAILURE, exit_status_for, ready, scenario};
use crate::build::{Artifacts, output_dir};
use crate::harness::Scenario;
use crate::image::{ImageOptions, write_image};
use crate::qemu::{Machine, QemuConfig};

const EMPTY_MODULE: &str = r"^ingot: program not run: the boot module is empty \(0 bytes\)$";

/// The scenarios for programs that never ran.
pub fn scenarios(artifacts: &Artifacts) -> Vec<Scenario> {
    let empty = output_dir().join("empty.bin");
    if let Err(error) = fs::write(&empty, []) {
        eprintln!("xtask: cannot write {}: {error}", empty.display());
    }
    // (QEMU's PVH loader passes no module at all for an empty -initrd, so only
    // Multiboot can hand the kernel an empty one.)
    let mut scenarios = vec![
        scenario(
            "program-empty-module-pc",
            QemuConfig::new(Machine::Pc)
                .kernel(&artifacts.kernel)
                .initrd(&empty)
                .append("exit=qemu"),
            &[BANNER, &ready("multiboot"), EMPTY_MODULE],
            KERNEL_FAILURE,
        ),
        // An ELF file linked outside the window (the floor kernel) is refused, not executed.
        scenario(
            "program-elf-module",
            QemuConfig::new(Machine::Pc)
                .kernel(&artifacts.kernel)
                .initrd(&artifacts.floor)
                .append("exit=qemu"),
            &[
                BANNER,
                r"^ingot: program not run: ELF file refused: program header \d+: 0x[0-9a-f]+ bytes at 0x100000 do not fit the program window \(link a fixed-address program at 0xffff800000000000, or as a static PIE\)$",
            ],
            KERNEL_FAILURE,
        ),
    ];

    let hello_image = hello_image(artifacts);
    let bios = |name: &str, damage: fn(&mut Vec<u8>), loader_line: Option<&str>| {
        let path = damaged_copy(&hello_image, name, damage);
        let mut expect: Vec<&str> = loader_line.into_iter().collect();
        expect.extend([BANNER, EMPTY_MODULE]);
        scenario(name, disk_boot(Machine::Pc, &path), &expect, KERNEL_FAILURE)
    };
    scenarios.push(bios("bios-init-empty", |image| set_bmfs_init_size(image, 0), None));
    scenarios.push(bios(
        "bios-init-too-large",
        |image| set_bmfs_init_size(image, 128 * 1024 + 1),
        Some(r"^ingot-bios: boot\.app is larger than 128 KiB; passed on as empty$"),
    ));
    let path = damaged_copy(&hello_image, "uefi-init-empty", |image| set_esp_init_size(image, 0));
    scenarios.push(scenario(
        "uefi-init-empty",
        uefi_boot(&path),
        &[BANNER, &ready("uefi"), EMPTY_MODULE],
        KERNEL_FAILURE,
    ));
    scenarios.extend(too_little_ram(artifacts));
    scenarios.push(large_program(artifacts));
    scenarios.push(eighteen_disks(artifacts));
    scenarios
}

/// RAM that ends inside the kernel's `.bss`, or at the end of its image without the
/// page after it (also under the BIOS loader, which copies the kernel to 1 MiB without
/// looking at the memory map): the entry stub says so in one fatal line before it touches its stack
/// or any `.bss` (no exception, no triple fault, no banner). The RAM sizes come from the
/// kernel ELF's own layout, so the cases stay where they are as the kernel grows. QEMU
/// rounds `-m` up to 8 KiB, so the sizes are multiples of 8 KiB rounded down.
fn too_little_ram(artifacts: &Artifacts) -> Vec<Scenario> {
    let layout = match KernelLayout::read(&artifacts.kernel) {
        Ok(layout) => layout,
        Err(error) => {
            eprintln!("xtask: {error}");
            KernelLayout { bss_start: 0, image_end: 0 }
        }
    };
    let expected = format!(
        r"^ingot: fatal: RAM too small for the kernel image and \.bss \(needs RAM to {:#x}\)$",
        layout.image_end + 4096
    );
    let in_bss = memory_size(layout.bss_start + (layout.image_end - layout.bss_start) / 2);
    let image_only = memory_size(layout.image_end);
    let mut bios = scenario(
        "memory-image-only-bios",
        disk_boot(Machine::Pc, &artifacts.test_image).memory(&image_only),
        &[r"^ingot-bios: loading kernel\.bin$", &expected],
        KERNEL_FAILURE,
    );
    bios.forbid.extend([BANNER.into(), "^ingot: exception".into()]);
    let direct = [
        ("memory-in-bss-pc", Machine::Pc, &artifacts.kernel, &in_bss),
        ("memory-in-bss-pvh-microvm", Machine::Microvm, &artifacts.kernel_pvh, &in_bss),
        ("memory-image-only-pc", Machine::Pc, &artifacts.kernel, &image_only),
        ("memory-image-only-pvh-microvm", Machine::Microvm, &artifacts.kernel_pvh, &image_only),
    ]
    .into_iter()
    .map(|(name, machine, kernel, memory)| {
        let qemu = QemuConfig::new(machine).kernel(kernel).memory(memory).append("exit=qemu");
        let mut s = scenario(name, qemu, &[&expected], KERNEL_FAILURE);
        s.forbid.extend([BANNER.into(), "^ingot: exception".into()]);
        s
    });
    direct.chain([bios]).collect()
}

/// `-m` for RAM ending at or below `end` (QEMU's 8 KiB granule).
fn memory_size(end: u64) -> String {
    format!("{}K", (end & !0x1FFF) / 1024)
}

/// Where the kernel's `.bss` starts and its image ends (`__image_end`: `.bss`'s end
/// rounded up to a page, as the linker script places it).
pub(super) struct KernelLayout {
    pub(super) bss_start: u64,
    pub(super) image_end: u64,
}

impl KernelLayout {
    pub(super) fn read(kernel: &std::path::Path) -> Result<Self, String> {
        let bytes =
            fs::read(kernel).map_err(|e| format!("cannot read {}: {e}", kernel.display()))?;
        let elf = object::File::parse(&*bytes)
            .map_err(|e| format!("{}: not an ELF file: {e}", kernel.display()))?;
        let bss = elf
            .section_by_name(".bss")
            .ok_or_else(|| format!("{}: no .bss section", kernel.display()))?;
        let bss_end = bss.address() + bss.size();
        Ok(Self { bss_start: bss.address(), image_end: bss_end.next_multiple_of(4096) })
    }
}

/// `hello` padded with zeros to 48 MiB: its page tables must fit the pool, and the
/// machine keeps its disks (a failed window once kept all free RAM, so no driver got
/// DMA memory).
fn large_program(artifacts: &Artifacts) -> Scenario {
    const BYTES: usize = 48 << 20;
    let path = output_dir().join("hello-48M.bin");
    let written = fs::read(artifacts.program("hello")).and_then(|mut program| {
        program.resize(BYTES, 0);
        fs::write(&path, program)
    });
    if let Err(error) = written {
        eprintln!("xtask: cannot write {}: {error}", path.display());
    }
    let qemu = QemuConfig::new(Machine::Q35)
        .memory("1G")
        .kernel(&artifacts.kernel)
        .initrd(&path)
        .append("exit=qemu")
        .extra_args(["-drive", "if=none,id=d0,format=raw,file=null-co://,file.size=8M"])
        .extra_args(["-device", "virtio-blk-pci,drive=d0"]);
    let expect = [
        BANNER,
        &disk_line(0, "virtio-blk", 512),
        r"^ingot: memory usable=\d+KiB window=\d+KiB kernel-free=\d+KiB identity-end=0x[0-9a-f]+$",
        &ready("multiboot"),
        "^ingot: program loaded bytes=50331648 at 0xffff800000000000$",
        "^hello from an Ingot program$",
        "^hello: bad pointers refused=true$",
        "^ingot: program exited status=42$",
    ];
    let mut s = scenario("program-48M", qemu, &expect, exit_status_for(42));
    s.timeout = std::time::Duration::from_secs(120);
    s
}

/// 8 virtio-blk, 4 NVMe and 6 AHCI disks at `-m 128M`: every one comes up (in PCI
/// order) and `disk-test` writes and reads back each.
fn eighteen_disks(artifacts: &Artifacts) -> Scenario {
    let mut devices: Vec<String> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    for i in 0..8 {
        devices.push(format!("virtio-blk-pci,drive=d{i},addr={:02x}.0", 3 + i));
        lines.push(disk_line(i, "virtio-blk", 512));
    }
    for i in 8..12 {
        devices.push(format!("nvme,drive=d{i},serial=ingot-{i},addr={:02x}.0", 3 + i));
        lines.push(disk_line(i, "nvme", 512));
    }
    devices.push("ahci,id=ahci0,addr=0f.0".into());
    for (port, i) in (12..18).enumerate() {
        devices.push(format!("ide-hd,drive=d{i},bus=ahci0.{port}"));
        lines.push(disk_line(i, "ahci", 512));
    }
    let devices: Vec<&str> = devices.iter().map(String::as_str).collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut s =
        storage_scenario(artifacts, "storage-18-disks-128M", Machine::Q35, 18, &devices, &lines);
    s.qemu = s.qemu.memory("128M");
    s.forbid.push("out of DMA memory".into());
    s.timeout = std::time::Duration::from_secs(300);
    s
}

/// The test image with `hello` as its boot program `boot.app`, written for these scenarios.
fn hello_image(artifacts: &Artifacts) -> PathBuf {
    let path = output_dir().join("failures-hello.img");
    let options = ImageOptions { boot: Some("hello".into()), ..ImageOptions::for_tests() };
    if let Err(error) = write_image(artifacts, &options, &path) {
        eprintln!("xtask: cannot write {}: {error}", path.display());
    }
    path
}

/// Sets the size recorded in the BMFS directory entry of `boot.app`.
fn set_bmfs_init_size(image: &mut [u8], size: u64) {
    let directory = ingot_mkimage::BMFS_START as usize + ingot_bmfs::DIRECTORY_OFFSET;
    if let Some(slots) = image.get_mut(directory..directory + 64 * 64) {
        for entry in slots.chunks_mut(64) {
            if entry.starts_with(b"boot.app\0") {
                entry[48..56].copy_from_slice(&size.to_le_bytes());
            }
        }
    }
}

/// Sets the size in the ESP's FAT directory entry of `ingot/boot.app` (8.3 name
/// `BOOT    APP`, size at byte 28).
fn set_esp_init_size(image: &mut [u8], size: u32) {
    let esp = 1 << 20;
    let region = &mut image[esp..esp + ingot_mkimage::ESP_BYTES as usize];
    let mut at = 0;
    while at + 32 <= region.len() {
        if &region[at..at + 11] == b"BOOT    APP" {
            region[at + 28..at + 32].copy_from_slice(&size.to_le_bytes());
        }
        at += 32;
    }
}
