//! Builds Ingot's hybrid disk image (`cargo xtask image`).
//!
//! One image boots on BIOS and on UEFI machines and can be written to a USB stick with
//! `dd`. Sector layout (512-byte sectors):
//!
//! | LBA | Content |
//! |---|---|
//! | 0 | BIOS boot sector (446 bytes of code) + protective MBR partition table |
//! | 1–33 | GPT header and entries ([`gpt`]) |
//! | 34–2047 | BIOS stage 2 (outside every partition; the boot sector loads it from LBA 34) |
//! | 2048– | EFI system partition, [`ESP_BYTES`]: `EFI/BOOT/BOOTX64.EFI`, `ingot/kernel.bin`, `ingot/cmdline`, optional `ingot/init.app` |
//! | 6 MiB– | BMFS partition (Ingot's type GUID [`gpt::BMFS_TYPE`]) up to the backup GPT: `kernel.bin`, `cmdline`, programs as `<name>.app`, optional `init.app` (the boot program) |
//!
//! `kernel.bin` is the kernel's `PT_LOAD` segment laid out flat from 1 MiB with `.bss`
//! stored as zeros, so neither loader needs an ELF parser or a separate zeroing step:
//! each copies the file to 1 MiB and jumps to the 64-bit entry whose address is the
//! quad at 1 MiB + 8 (`docs/architecture.md`, "Boot from disk").
#![forbid(unsafe_code)]

pub mod esp;
pub mod gpt;

use gpt::{Guid, Partition, SECTOR};

const MIB: u64 = 1024 * 1024;
/// Size of the EFI system partition.
pub const ESP_BYTES: u64 = 4 * MIB;
const ESP_FIRST_LBA: u64 = 2048;
/// Where the BMFS partition starts (2 MiB aligned, after the ESP).
pub const BMFS_START: u64 = 6 * MIB;
/// First LBA of the BIOS stage 2 (must match `boot/bios`).
pub const STAGE2_LBA: u64 = gpt::FIRST_USABLE_LBA;
/// Smallest image: the ESP, the BMFS minimum of 3 blocks, the backup GPT.
pub const MIN_SIZE_MIB: u64 = 14;
/// Default image size (the mission's 32 MiB disk): 12 BMFS blocks of 2 MiB, so the
/// directory and up to 11 files; `xtask` stores only the user-facing programs.
pub const DEFAULT_SIZE_MIB: u64 = 32;

/// What goes into the image.
pub struct ImageSpec<'a> {
    /// Image size in MiB.
    pub size_mib: u64,
    /// The BIOS boot sector (512 bytes; its partition table area is overwritten).
    pub boot_sector: &'a [u8],
    /// The BIOS stage 2, written from LBA 34.
    pub stage2: &'a [u8],
    /// The UEFI loader (`BOOTX64.EFI`), if built.
    pub uefi_loader: Option<&'a [u8]>,
    /// The flat kernel image (see the module docs).
    pub kernel: &'a [u8],
    /// The kernel command line both loaders pass on.
    pub cmdline: &'a str,
    /// Programs for the BMFS partition, by name (stored as `<name>.app`).
    pub programs: Vec<(String, Vec<u8>)>,
    /// The boot program both loaders pass to the kernel (`init.app` on BMFS and
    /// `ingot/init.app` on the ESP), if any.
    pub init: Option<&'a [u8]>,
}

/// Builds the whole image in memory.
pub fn build(spec: &ImageSpec<'_>) -> Result<Vec<u8>, String> {
    if spec.size_mib < MIN_SIZE_MIB {
        return Err(format!(
            "image size {} MiB is below the minimum {MIN_SIZE_MIB} MiB",
            spec.size_mib
        ));
    }
    if spec.boot_sector.len() != SECTOR {
        return Err(format!("boot sector is {} bytes, not 512", spec.boot_sector.len()));
    }
    let stage2_room = (ESP_FIRST_LBA - STAGE2_LBA) as usize * SECTOR;
    if spec.stage2.len() > stage2_room {
        return Err(format!(
            "stage 2 is {} bytes; only {stage2_room} fit before the ESP",
            spec.stage2.len()
        ));
    }
    let bytes = spec.size_mib * MIB;
    let mut disk = vec![0u8; bytes as usize];
    let sectors = bytes / SECTOR as u64;
    disk[..446].copy_from_slice(&spec.boot_sector[..446]);
    let at = STAGE2_LBA as usize * SECTOR;
    disk[at..at + spec.stage2.len()].copy_from_slice(spec.stage2);

    // The ESP.
    let mut esp_files: Vec<(&str, &[u8])> =
        vec![("ingot/kernel.bin", spec.kernel), ("ingot/cmdline", spec.cmdline.as_bytes())];
    if let Some(loader) = spec.uefi_loader {
        esp_files.push(("EFI/BOOT/BOOTX64.EFI", loader));
    }
    if let Some(init) = spec.init {
        esp_files.push(("ingot/init.app", init));
    }
    let esp = esp::build(ESP_BYTES as usize, &esp_files)?;
    let at = ESP_FIRST_LBA as usize * SECTOR;
    disk[at..at + esp.len()].copy_from_slice(&esp);

    // The BMFS partition: whole blocks between its start and the backup GPT.
    let last_usable = sectors - 34;
    let blocks = ((last_usable + 1) * SECTOR as u64 - BMFS_START) / ingot_bmfs::BLOCK_BYTES;
    let bmfs_bytes = blocks * ingot_bmfs::BLOCK_BYTES;
    let base = BMFS_START as usize;
    let region = &mut disk[base..base + bmfs_bytes as usize];
    let mut bmfs = ingot_bmfs::Bmfs::format(ingot_bmfs::SliceDisk::new(region))
        .map_err(|e| format!("BMFS: {e}"))?;
    let mut files: Vec<(String, &[u8])> =
        vec![("kernel.bin".into(), spec.kernel), ("cmdline".into(), spec.cmdline.as_bytes())];
    for (name, bytes) in &spec.programs {
        files.push((format!("{name}.app"), bytes));
    }
    if let Some(init) = spec.init {
        files.push(("init.app".into(), init));
    }
    for (name, contents) in files {
        bmfs.write(&name, contents).map_err(|e| format!("BMFS: {name}: {e}"))?;
    }

    let guid =
        |n: u8| Guid(0x1D60_7000 + u32::from(n), 0x1A60, 0x4000, [0x80, 0, 0, 0, 0, 0, 0, n]);
    let partitions = [
        Partition {
            kind: gpt::ESP_TYPE,
            unique: guid(1),
            first_lba: ESP_FIRST_LBA,
            last_lba: ESP_FIRST_LBA + ESP_BYTES / SECTOR as u64 - 1,
            name: "EFI system",
        },
        Partition {
            kind: gpt::BMFS_TYPE,
            unique: guid(2),
            first_lba: BMFS_START / SECTOR as u64,
            last_lba: (BMFS_START + bmfs_bytes) / SECTOR as u64 - 1,
            name: "BMFS",
        },
    ];
    gpt::write(&mut disk, guid(0), &partitions)?;
    Ok(disk)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(size_mib: u64) -> ImageSpec<'static> {
        ImageSpec {
            size_mib,
            boot_sector: &[0x90; 512],
            stage2: b"stage two",
            uefi_loader: Some(b"MZ"),
            kernel: b"INGOT\0\0\0kernel",
            cmdline: "exit=qemu",
            programs: vec![("hello".into(), vec![7; 3000])],
            init: None,
        }
    }

    #[test]
    fn layout_of_a_32_mib_image() {
        let mut disk = build(&spec(32)).unwrap();
        assert_eq!(disk.len(), 32 << 20);
        assert_eq!(disk[0], 0x90, "boot code kept");
        assert_eq!(&disk[510..512], &[0x55, 0xAA]);
        assert_eq!(&disk[34 * 512..34 * 512 + 9], b"stage two");
        // BMFS partition entry: second GPT entry, start 6 MiB, 12 whole blocks.
        let entry = &disk[2 * 512 + 128..2 * 512 + 256];
        assert_eq!(entry[..16], gpt::BMFS_TYPE.to_bytes());
        assert_eq!(u64::from_le_bytes(entry[32..40].try_into().unwrap()), 12288);
        assert_eq!(u64::from_le_bytes(entry[40..48].try_into().unwrap()), 12288 + 12 * 4096 - 1);
        let bmfs = &mut disk[6 << 20..(6 << 20) + (12 << 21)];
        assert_eq!(&bmfs[1024..1028], b"BMFS");
        let mut fs = ingot_bmfs::Bmfs::open(ingot_bmfs::SliceDisk::new(bmfs)).unwrap();
        assert_eq!(fs.disk_blocks(), 12);
        assert_eq!(fs.check(), Ok(()));
        let kernel = fs.find("kernel.bin").unwrap();
        let hello = fs.find("hello.app").unwrap();
        assert_eq!((kernel.starting_block, kernel.file_size), (1, 14));
        assert_eq!((hello.starting_block, hello.file_size), (3, 3000));
        assert_eq!(fs.read_to_vec("hello.app").unwrap(), vec![7; 3000]);
        assert_eq!(fs.read_to_vec("cmdline").unwrap(), b"exit=qemu");
        let at = (3 << 21) as usize;
        assert_eq!(&bmfs[at..at + 3000], &[7; 3000][..]);
        let at = 2 << 21;
        assert_eq!(&bmfs[at..at + 9], b"exit=qemu");
    }

    #[test]
    fn the_boot_program_goes_to_both_partitions() {
        let mut s = spec(32);
        s.init = Some(b"program bytes");
        let mut disk = build(&s).unwrap();
        let esp = disk[1 << 20..(1 << 20) + ESP_BYTES as usize].to_vec();
        let fs =
            fatfs::FileSystem::new(std::io::Cursor::new(esp), fatfs::FsOptions::new()).unwrap();
        let mut text = String::new();
        use std::io::Read;
        fs.root_dir().open_file("ingot/init.app").unwrap().read_to_string(&mut text).unwrap();
        assert_eq!(text, "program bytes");
        let bmfs = &mut disk[6 << 20..];
        let fs = ingot_bmfs::Bmfs::open(ingot_bmfs::SliceDisk::new(bmfs)).unwrap();
        let init = fs.find("init.app").unwrap();
        assert_eq!(init.file_size, 13);
        let at = (init.starting_block << 21) as usize;
        assert_eq!(&bmfs[at..at + 13], b"program bytes");
    }

    #[test]
    fn too_small_or_oversized_parts_are_refused() {
        assert!(build(&spec(8)).unwrap_err().contains("below the minimum"));
        let big = vec![0u8; 2 << 20];
        let mut s = spec(32);
        s.stage2 = &big;
        assert!(build(&s).unwrap_err().contains("stage 2"));
    }
}
