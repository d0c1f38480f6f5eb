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
//! | 2048– | EFI system partition, [`ESP_BYTES`]: `EFI/BOOT/BOOTX64.EFI`, `ingot/kernel.bin`, `ingot/cmdline`, optional `ingot/boot.app` |
//! | 6 MiB– | BMFS partition (Ingot's type GUID [`gpt::BMFS_TYPE`]) up to the backup GPT: `kernel.bin`, `cmdline`, programs as `<name>.app`, optional `boot.app` (the boot program) and `init.app` (what the monitor runs at start) |
//!
//! `kernel.bin` is the kernel's `PT_LOAD` segment laid out flat from 1 MiB without its
//! trailing `.bss` (the kernel's entry zeroes it), so neither loader needs an ELF
//! parser: each copies the file to 1 MiB and jumps to the 64-bit entry whose address is the
//! quad at 1 MiB + 0x78 (`docs/architecture.md`, "Boot from disk").
//!
//! [`write_file`] sizes the file first and writes only the parts with content at their
//! offsets (the ESP, the BMFS header and files, the GPT), so an image of any size costs
//! neither memory nor disk space for its empty blocks. A spec the layout cannot hold is
//! refused with the limit named: a size below [`ImageSpec::minimum_size_mib`], a command
//! line longer than the loaders' [`MAX_CMDLINE_BYTES`].
#![forbid(unsafe_code)]

pub mod esp;
pub mod gpt;

use std::fs::File;
use std::io::{Cursor, Seek, SeekFrom, Write};
use std::path::Path;

use gpt::{Guid, Partition, SECTOR};

const MIB: u64 = 1024 * 1024;
/// Size of the EFI system partition.
pub const ESP_BYTES: u64 = 4 * MIB;
const ESP_FIRST_LBA: u64 = 2048;
/// Where the BMFS partition starts (2 MiB aligned, after the ESP).
pub const BMFS_START: u64 = 6 * MIB;
/// First LBA of the BIOS stage 2 (must match `boot/bios`).
pub const STAGE2_LBA: u64 = gpt::FIRST_USABLE_LBA;
/// Default image size (the mission's 32 MiB disk): 12 BMFS blocks of 2 MiB, so the
/// directory and up to 11 files; `xtask` stores only the user-facing programs.
pub const DEFAULT_SIZE_MIB: u64 = 32;
/// Longest command line both loaders carry (each keeps 1023 bytes and a NUL).
pub const MAX_CMDLINE_BYTES: usize = 1023;

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
    /// The boot program both loaders pass to the kernel (`boot.app` on BMFS and
    /// `ingot/boot.app` on the ESP), if any: the monitor on a user's image.
    pub boot: Option<&'a [u8]>,
    /// `init.app` on BMFS, if any: the program the monitor runs at start (loaders
    /// leave it alone).
    pub init: Option<&'a [u8]>,
}

impl ImageSpec<'_> {
    /// The files of the BMFS partition, in directory order.
    fn bmfs_files(&self) -> Vec<(String, &[u8])> {
        let mut files: Vec<(String, &[u8])> =
            vec![("kernel.bin".into(), self.kernel), ("cmdline".into(), self.cmdline.as_bytes())];
        for (name, bytes) in &self.programs {
            files.push((format!("{name}.app"), bytes));
        }
        if let Some(boot) = self.boot {
            files.push(("boot.app".into(), boot));
        }
        if let Some(init) = self.init {
            files.push(("init.app".into(), init));
        }
        files
    }

    /// The smallest image, in whole MiB, that holds this spec: the BMFS partition
    /// needs its directory block, every file's blocks and the last block (which BMFS
    /// never allocates), and the backup GPT follows it.
    pub fn minimum_size_mib(&self) -> u64 {
        let file_blocks: u64 = self
            .bmfs_files()
            .iter()
            .map(|(_, contents)| ingot_bmfs::blocks_for_write(contents.len() as u64))
            .sum();
        let blocks = (1 + file_blocks + 1).max(ingot_bmfs::MIN_BLOCKS);
        let bytes =
            BMFS_START + blocks * ingot_bmfs::BLOCK_BYTES + gpt::BACKUP_SECTORS * SECTOR as u64;
        bytes.div_ceil(MIB)
    }
}

/// Builds the whole image in memory (for tests and small images).
pub fn build(spec: &ImageSpec<'_>) -> Result<Vec<u8>, String> {
    let mut disk = Cursor::new(Vec::new());
    write_to(spec, &mut disk)?;
    Ok(disk.into_inner())
}

/// Writes the image to the file `out`, sparsely: the file is sized first, then only
/// the parts with content are written, so a large image costs neither memory nor disk
/// space for its empty blocks.
pub fn write_file(spec: &ImageSpec<'_>, out: &Path) -> Result<(), String> {
    check(spec)?;
    let error = |e: std::io::Error| format!("cannot write {}: {e}", out.display());
    let mut file = File::create(out).map_err(error)?;
    file.set_len(spec.size_mib * MIB).map_err(error)?;
    write_to(spec, &mut file)?;
    file.sync_all().map_err(error)
}

/// Refuses a spec the layout or the loaders cannot carry, naming the limit.
fn check(spec: &ImageSpec<'_>) -> Result<(), String> {
    if spec.size_mib.checked_mul(MIB).is_none() {
        return Err(format!("image size {} MiB does not fit in 64 bits of bytes", spec.size_mib));
    }
    let minimum = spec.minimum_size_mib();
    if spec.size_mib < minimum {
        return Err(format!(
            "image size {} MiB is below the minimum of {minimum} MiB for these files \
             (EFI partition to {} MiB, then the BMFS directory block, every file's 2 MiB blocks, a spare block and the backup GPT)",
            spec.size_mib,
            BMFS_START / MIB
        ));
    }
    if spec.cmdline.len() > MAX_CMDLINE_BYTES {
        return Err(format!(
            "command line is {} bytes; the loaders carry at most {MAX_CMDLINE_BYTES}",
            spec.cmdline.len()
        ));
    }
    if spec.cmdline.contains('\0') {
        return Err("command line contains a NUL byte, which would end it early".into());
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
    Ok(())
}

/// Writes `bytes` at byte offset `at` of `disk`.
fn put<W: Write + Seek>(disk: &mut W, at: u64, bytes: &[u8]) -> Result<(), String> {
    disk.seek(SeekFrom::Start(at))
        .and_then(|_| disk.write_all(bytes))
        .map_err(|e| format!("cannot write the image at byte {at}: {e}"))
}

/// The BMFS partition of an image being written: sector writes land at `start` of
/// the disk. The image builder only formats and writes, so reading is refused.
struct PartitionWriter<'a, W> {
    disk: &'a mut W,
    start: u64,
    sectors: u64,
}

impl<W: Write + Seek> ingot_bmfs::SectorDevice for PartitionWriter<'_, W> {
    type Error = String;

    fn sector_count(&self) -> u64 {
        self.sectors
    }

    fn read_sectors(&mut self, first: u64, _: &mut [u8]) -> Result<(), String> {
        Err(format!("the image writer cannot read back BMFS sector {first}"))
    }

    fn write_sectors(&mut self, first: u64, buffer: &[u8]) -> Result<(), String> {
        put(self.disk, self.start + first * SECTOR as u64, buffer)
    }
}

/// Writes the image into `disk` (empty or zero-filled), at offsets: the boot code,
/// stage 2, the ESP, the BMFS header and files, the GPT. Bytes not written stay zero.
pub fn write_to<W: Write + Seek>(spec: &ImageSpec<'_>, disk: &mut W) -> Result<(), String> {
    check(spec)?;
    let bytes = spec.size_mib * MIB;
    let sectors = bytes / SECTOR as u64;
    put(disk, 0, &spec.boot_sector[..446])?;
    put(disk, STAGE2_LBA * SECTOR as u64, spec.stage2)?;

    // The ESP.
    let mut esp_files: Vec<(&str, &[u8])> =
        vec![("ingot/kernel.bin", spec.kernel), ("ingot/cmdline", spec.cmdline.as_bytes())];
    if let Some(loader) = spec.uefi_loader {
        esp_files.push(("EFI/BOOT/BOOTX64.EFI", loader));
    }
    if let Some(boot) = spec.boot {
        esp_files.push(("ingot/boot.app", boot));
    }
    let esp = esp::build(ESP_BYTES as usize, &esp_files)?;
    put(disk, ESP_FIRST_LBA * SECTOR as u64, &esp)?;

    // The BMFS partition: whole blocks between its start and the backup GPT.
    let last_usable = sectors - gpt::BACKUP_SECTORS - 1;
    let blocks = ((last_usable + 1) * SECTOR as u64 - BMFS_START) / ingot_bmfs::BLOCK_BYTES;
    let bmfs_bytes = blocks * ingot_bmfs::BLOCK_BYTES;
    let partition =
        PartitionWriter { disk, start: BMFS_START, sectors: bmfs_bytes / SECTOR as u64 };
    let mut bmfs = ingot_bmfs::Bmfs::format(partition).map_err(|e| format!("BMFS: {e}"))?;
    for (name, contents) in spec.bmfs_files() {
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
    for (at, bytes) in gpt::tables(sectors, guid(0), &partitions)? {
        put(disk, at, &bytes)?;
    }
    Ok(())
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
            boot: None,
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
    fn the_boot_program_goes_to_both_partitions_and_init_app_to_bmfs_only() {
        let mut s = spec(32);
        s.boot = Some(b"program bytes");
        s.init = Some(b"init bytes");
        let mut disk = build(&s).unwrap();
        let esp = disk[1 << 20..(1 << 20) + ESP_BYTES as usize].to_vec();
        let fs =
            fatfs::FileSystem::new(std::io::Cursor::new(esp), fatfs::FsOptions::new()).unwrap();
        let mut text = String::new();
        use std::io::Read;
        fs.root_dir().open_file("ingot/boot.app").unwrap().read_to_string(&mut text).unwrap();
        assert_eq!(text, "program bytes");
        assert!(fs.root_dir().open_file("ingot/init.app").is_err(), "init.app is BMFS's only");
        let bmfs = &mut disk[6 << 20..];
        let mut fs = ingot_bmfs::Bmfs::open(ingot_bmfs::SliceDisk::new(bmfs)).unwrap();
        let boot = fs.find("boot.app").unwrap();
        assert_eq!(boot.file_size, 13);
        assert_eq!(fs.read_to_vec("boot.app").unwrap(), b"program bytes");
        assert_eq!(fs.read_to_vec("init.app").unwrap(), b"init bytes");
    }

    #[test]
    fn the_minimum_size_is_exactly_what_the_files_need() {
        // Directory + kernel + cmdline + hello + the never-used last block = 5 blocks
        // of 2 MiB after the 6 MiB of MBR, GPT, stage 2 and ESP; then the backup GPT.
        let s = spec(32);
        assert_eq!(s.minimum_size_mib(), 17);
        let disk = build(&ImageSpec { size_mib: 17, ..spec(32) }).unwrap();
        assert_eq!(disk.len(), 17 << 20);
        let error = build(&ImageSpec { size_mib: 16, ..spec(32) }).unwrap_err();
        assert!(error.contains("16 MiB is below the minimum of 17 MiB"), "{error}");
        // A 5 MiB file takes 3 blocks (BareMetal's rounding), so 4 more MiB.
        let mut big = spec(32);
        big.programs.push(("big".into(), vec![1; 5 << 20]));
        assert_eq!(big.minimum_size_mib(), 23);
        assert!(build(&ImageSpec { size_mib: 23, ..big }).is_ok());
    }

    #[test]
    fn command_lines_the_loaders_cannot_carry_are_refused() {
        let longest = "x".repeat(MAX_CMDLINE_BYTES);
        assert!(build(&ImageSpec { cmdline: &longest, ..spec(32) }).is_ok());
        let too_long = "x".repeat(MAX_CMDLINE_BYTES + 1);
        let error = build(&ImageSpec { cmdline: &too_long, ..spec(32) }).unwrap_err();
        assert!(error.contains("1024 bytes") && error.contains("at most 1023"), "{error}");
        assert!(build(&ImageSpec { cmdline: "a\0b", ..spec(32) }).unwrap_err().contains("NUL"));
    }

    #[test]
    fn a_large_image_is_written_sparsely_and_reads_back() {
        use std::os::unix::fs::MetadataExt;
        let path = std::env::temp_dir().join(format!("ingot-mkimage-{}.img", std::process::id()));
        let size_mib = 100_000;
        write_file(&spec(size_mib), &path).unwrap();
        let metadata = std::fs::metadata(&path).unwrap();
        let disk_bytes = metadata.blocks() * 512;
        let mut file = std::fs::File::open(&path).unwrap();
        let mut backup = vec![0u8; 512];
        use std::io::{Read, Seek, SeekFrom};
        file.seek(SeekFrom::Start((size_mib << 20) - 512)).unwrap();
        file.read_exact(&mut backup).unwrap();
        let mut head = vec![0u8; 8 << 20];
        file.seek(SeekFrom::Start(0)).unwrap();
        file.read_exact(&mut head).unwrap();
        let bmfs_bytes = (size_mib << 20) - (6 << 20) - (1 << 20);
        let fs = ingot_bmfs::Bmfs::open(ingot_bmfs::FileDisk::window(file, 6 << 20, bmfs_bytes))
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(metadata.len(), size_mib << 20);
        assert!(disk_bytes < 64 << 20, "{disk_bytes} bytes allocated for a sparse image");
        assert_eq!(&backup[..8], b"EFI PART");
        assert_eq!(&head[510..512], &[0x55, 0xAA]);
        assert_eq!(&head[34 * 512..34 * 512 + 9], b"stage two");
        assert_eq!(fs.find("hello.app").map(|e| e.file_size), Some(3000));
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
