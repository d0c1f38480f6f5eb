//! `cargo xtask image`: the hybrid BIOS/UEFI disk image, `target/ingot/ingot.img`.
//!
//! The layout is `ingot_mkimage`'s (protective MBR + GPT, BIOS stage 2 before the
//! first partition, an EFI system partition with the UEFI loader and the kernel, a
//! BMFS partition with the kernel, the command line and the programs). The scenarios
//! boot `ingot-test.img`, built by the same code from the same artifacts with
//! `exit=qemu` as the command line so that QEMU exits with the kernel's status.
use std::fs;
use std::path::Path;

use crate::build::{Artifacts, build_all, output_dir};
use crate::cli::ImageArgs;
use crate::programs::programs;

/// What varies between images.
pub struct ImageOptions {
    /// Size in MiB.
    pub size_mib: u64,
    /// Kernel command line.
    pub cmdline: String,
    /// The boot program the loaders pass to the kernel (`boot.app`), if any: a built
    /// program's name or a file's path.
    pub boot: Option<String>,
    /// The program stored as `init.app` (the monitor runs it at start), if any.
    pub init: Option<String>,
}

impl ImageOptions {
    /// The scenarios' image: default size, `exit=qemu`, no boot program (the kernel
    /// boots, finds nothing to run and ends QEMU).
    pub fn for_tests() -> Self {
        Self {
            size_mib: ingot_mkimage::DEFAULT_SIZE_MIB,
            cmdline: "exit=qemu".into(),
            boot: None,
            init: None,
        }
    }

    /// `for_tests` booting the monitor, with `init` as `init.app`.
    pub fn monitor(init: Option<&str>) -> Self {
        Self { boot: Some("monitor".into()), init: init.map(String::from), ..Self::for_tests() }
    }
}

/// Programs stored on the image's BMFS partition as `<name>.app`: the ones a user runs.
/// Test-only programs (the fault probes, disk fault/benchmark loads) stay off it, so the
/// default 32 MiB image (11 files of at most 2 MiB each) has room.
pub const IMAGE_PROGRAMS: &[&str] = &["hello", "echo", "smp-demo", "smp-bench", "disk-test"];

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
    let program = |option: &str, given: &Option<String>| match given {
        Some(name) if programs().contains(name) => read(&artifacts.program_file(name)).map(Some),
        Some(path) if Path::new(path).is_file() => read(Path::new(path)).map(Some),
        Some(name) => Err(format!(
            "--{option} {name}: no such file, and no built program of that name (built: {})",
            programs().join(", ")
        )),
        None => Ok(None),
    };
    let boot = program("boot", &options.boot)?;
    let init = program("init", &options.init)?;
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
        boot: boot.as_deref(),
        init: init.as_deref(),
    };
    ingot_mkimage::write_file(&spec, out)
}

/// `cargo xtask image`: builds, then writes the image `args` describe.
pub fn image(args: &ImageArgs) -> Result<(), String> {
    let options = ImageOptions {
        size_mib: args.size,
        cmdline: args.cmdline.clone(),
        boot: Some(args.boot.clone()),
        init: args.init.clone(),
    };
    let out = args.out.clone().unwrap_or_else(|| output_dir().join("ingot.img"));
    let artifacts = build_all()?;
    write_image(&artifacts, &options, &out)?;
    println!("{:>8} bytes  {}", options.size_mib << 20, out.display());
    Ok(())
}
