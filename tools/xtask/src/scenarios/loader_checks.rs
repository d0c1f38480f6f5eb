//! The disk loaders' checks: a `kernel.bin` cut short or changed is refused by both
//! loaders (its header's length and checksum, `kernel_header.rs`), the UEFI loader
//! refuses a Multiboot header whose `bss_end_addr` lies below the file's end, and the BIOS loader
//! refuses a GPT entry count it would have to scan the disk for and a BMFS block
//! number whose sector address would wrap. Each machine prints the loader's error and
//! stops ([`STAYS_RUNNING`]); the kernel must never start.

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use super::boot_images::{damaged_copy, disk_boot, uefi_boot};
use super::scenario;
use crate::build::{Artifacts, output_dir};
use crate::harness::{STAYS_RUNNING, Scenario};
use crate::image::{ImageOptions, write_image};
use crate::qemu::{Machine, QemuConfig};

const BIOS_CORRUPT: &str = r"^ingot-bios: kernel\.bin truncated or corrupt$";
/// OVMF's terminal escapes may precede it on the same line, so it is not anchored.
const UEFI_CORRUPT: &str = r"ingot-uefi: kernel\.bin truncated or corrupt$";

/// The loader-check scenarios.
pub fn scenarios(artifacts: &Artifacts) -> Vec<Scenario> {
    let truncated = image_with_kernel(artifacts, "kernel-truncated", |kernel| {
        kernel.truncate(kernel.len() / 2);
    });
    let changed = image_with_kernel(artifacts, "kernel-changed", |kernel| {
        let middle = kernel.len() / 2;
        kernel[middle] ^= 0x01;
    });
    // bss_end_addr (0x68) below load_end_addr: the UEFI loader could not tell how far
    // to allocate for `.bss`.
    let no_bss = image_with_kernel(artifacts, "kernel-no-bss", |kernel| {
        let load_end = u32::from_le_bytes([kernel[0x64], kernel[0x65], kernel[0x66], kernel[0x67]]);
        kernel[0x68..0x6C].copy_from_slice(&(load_end - 0x100).to_le_bytes());
    });
    let image = &artifacts.test_image;
    let gpt_count = damaged_copy(image, "gpt-entry-count", |image| {
        image[512 + 80..512 + 84].copy_from_slice(&u32::MAX.to_le_bytes());
    });
    let far_block = damaged_copy(image, "bmfs-block-wraps", |image| {
        set_kernel_block(image, 0x10_0000 + 1);
    });
    vec![
        stopped("bios-kernel-truncated", disk_boot(Machine::Pc, &truncated), BIOS_CORRUPT),
        stopped("bios-kernel-changed", disk_boot(Machine::Pc, &changed), BIOS_CORRUPT),
        stopped("uefi-kernel-truncated", uefi_boot(&truncated), UEFI_CORRUPT),
        stopped("uefi-kernel-changed", uefi_boot(&changed), UEFI_CORRUPT),
        stopped(
            "uefi-kernel-bss-end-wrong",
            uefi_boot(&no_bss),
            r"ingot-uefi: kernel\.bin's Multiboot header does not describe the file and its \.bss$",
        ),
        stopped(
            "bios-gpt-entry-count-corrupt",
            disk_boot(Machine::Pc, &gpt_count),
            r"^ingot-bios: the GPT lists more than 1024 partition entries; refused$",
        ),
        stopped(
            "bios-bmfs-block-wraps",
            disk_boot(Machine::Pc, &far_block),
            r"^ingot-bios: a file on the BMFS partition lies beyond LBA 2\^32; refused$",
        ),
    ]
}

/// A scenario whose loader prints `expect` and stops before the kernel starts.
fn stopped(name: &str, qemu: QemuConfig, expect: &str) -> Scenario {
    let mut s = scenario(name, qemu, &[expect], STAYS_RUNNING);
    s.forbid.push(r"^Ingot \d".into());
    // The errors come before any disk scan: a loader that wanders the disk fails here.
    s.timeout = Duration::from_secs(40);
    s
}

/// The test image's layout with a `kernel.bin` changed by `edit` (on both the ESP
/// and the BMFS partition).
fn image_with_kernel(artifacts: &Artifacts, name: &str, edit: fn(&mut Vec<u8>)) -> PathBuf {
    let kernel = output_dir().join(format!("{name}.bin"));
    let path = output_dir().join(format!("{name}.img"));
    let written = fs::read(&artifacts.kernel_flat)
        .map_err(|e| e.to_string())
        .and_then(|mut bytes| {
            edit(&mut bytes);
            fs::write(&kernel, bytes).map_err(|e| e.to_string())
        })
        .and_then(|()| {
            let edited = Artifacts { kernel_flat: kernel.clone(), ..artifacts.clone() };
            write_image(&edited, &ImageOptions::for_tests(), &path)
        });
    if let Err(error) = written {
        eprintln!("xtask: cannot write {}: {error}", path.display());
    }
    path
}

/// Sets the starting block in the BMFS directory entry of `kernel.bin`.
fn set_kernel_block(image: &mut [u8], block: u64) {
    let directory = ingot_mkimage::BMFS_START as usize + ingot_bmfs::DIRECTORY_OFFSET;
    if let Some(slots) = image.get_mut(directory..directory + 64 * 64) {
        for entry in slots.chunks_mut(64) {
            if entry.starts_with(b"kernel.bin\0") {
                entry[32..40].copy_from_slice(&block.to_le_bytes());
            }
        }
    }
}
