//! `cargo xtask image`: the hybrid BIOS/UEFI disk image, `target/ingot/ingot.img`.
//!
//! The layout is `ingot_mkimage`'s (protective MBR + GPT, BIOS stage 2 before the
//! first partition, an EFI system partition with the UEFI loader and the kernel, a
//! BMFS partition with the kernel, the command line and the programs). The scenarios
//! boot `ingot-test.img`, built by the same code from the same artifacts with
//! `exit=qemu` as the command line so that QEMU exits with the kernel's status.
use std::fs;
use std::path::{Path, PathBuf};

use crate::build::{Artifacts, build_all, output_dir};
use crate::programs::programs;

const USAGE: &str =
    "usage: cargo xtask image [--size MiB] [--cmdline TEXT] [--init PROGRAM] [--out PATH]

  --size MiB      image size (default 32; at least what the files need, about 24,
                  named when too small; written sparsely, so large sizes cost nothing)
  --cmdline TEXT  kernel command line stored in the image (default empty, at most 1023 bytes)
  --init PROGRAM  the boot program the loaders pass: a built program (e.g. hello) or a file
  --out PATH      where to write it (default target/ingot/ingot.img)
";

/// What varies between images.
pub struct ImageOptions {
    /// Size in MiB.
    pub size_mib: u64,
    /// Kernel command line.
    pub cmdline: String,
    /// The program stored as `init.app`, if any: a built program's name or a file's path.
    pub init: Option<String>,
}

impl ImageOptions {
    /// The scenarios' image: default size, `exit=qemu`.
    pub fn for_tests() -> Self {
        Self { size_mib: ingot_mkimage::DEFAULT_SIZE_MIB, cmdline: "exit=qemu".into(), init: None }
    }
}

/// Programs stored on the image's BMFS partition as `<name>.app`: the ones a user runs.
/// Test-only programs (the fault probes, disk fault/benchmark loads) stay off it, so the
/// default 32 MiB image (11 files of at most 2 MiB each) has room.
pub const IMAGE_PROGRAMS: &[&str] = &["hello", "smp-demo", "smp-bench", "disk-test"];

/// Writes an image made from `artifacts` to `out`.
pub fn write_image(
    artifacts: &Artifacts,
    options: &ImageOptions,
    out: &Path,
) -> Result<(), String> {
    let read =
        |path: &Path| fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()));
    let bios = read(&artifacts.bios_loader)?;
    if bios.len() < 512 {
        return Err(format!("{} is shorter than a boot sector", artifacts.bios_loader.display()));
    }
    let kernel = read(&artifacts.kernel_flat)?;
    let uefi = artifacts.uefi_loader.as_deref().map(read).transpose()?;
    let init = match &options.init {
        Some(name) if programs().contains(name) => Some(read(&artifacts.program_file(name))?),
        Some(path) if Path::new(path).is_file() => Some(read(Path::new(path))?),
        Some(name) => {
            return Err(format!(
                "--init {name}: no such file, and no built program of that name (built: {})",
                programs().join(", ")
            ));
        }
        None => None,
    };
    let mut programs = Vec::new();
    for name in IMAGE_PROGRAMS {
        programs.push((name.to_string(), read(&artifacts.program(name))?));
    }
    let spec = ingot_mkimage::ImageSpec {
        size_mib: options.size_mib,
        boot_sector: &bios[..512],
        stage2: &bios[512..],
        uefi_loader: uefi.as_deref(),
        kernel: &kernel,
        cmdline: &options.cmdline,
        programs,
        init: init.as_deref(),
    };
    ingot_mkimage::write_file(&spec, out)
}

/// `cargo xtask image [--size MiB] [--cmdline TEXT] [--out PATH]`.
pub fn image(args: &[String]) -> Result<(), String> {
    let mut options = ImageOptions {
        size_mib: ingot_mkimage::DEFAULT_SIZE_MIB,
        cmdline: String::new(),
        init: None,
    };
    let mut out: PathBuf = output_dir().join("ingot.img");
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value =
            || args.next().cloned().ok_or_else(|| format!("{arg} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--size" => {
                let text = value()?;
                options.size_mib =
                    text.parse().map_err(|_| format!("--size: `{text}` is not a number of MiB"))?;
            }
            "--cmdline" => options.cmdline = value()?,
            "--init" => options.init = Some(value()?),
            "--out" => out = PathBuf::from(value()?),
            "--help" | "-h" => {
                print!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown option `{other}`\n{USAGE}")),
        }
    }
    if options.cmdline.len() > ingot_mkimage::MAX_CMDLINE_BYTES {
        return Err(format!(
            "--cmdline is {} bytes; the loaders carry at most {}",
            options.cmdline.len(),
            ingot_mkimage::MAX_CMDLINE_BYTES
        ));
    }
    let artifacts = build_all()?;
    write_image(&artifacts, &options, &out)?;
    println!("{:>8} bytes  {}", options.size_mib << 20, out.display());
    Ok(())
}
