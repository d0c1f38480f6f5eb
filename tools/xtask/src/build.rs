//! Builds the kernel ELF, its PVH-only twin, the empty "floor" kernel and every
//! program under `apps/` into `target/ingot/`.
//!
//! Everything for the machine is built in one `cargo build --release --target
//! x86_64-unknown-none` call, so crates shared by the kernel and the programs are
//! compiled once. Programs are turned from ELF into flat binaries here (their
//! `PT_LOAD` segments laid out from the lowest address), which is the format the
//! kernel loads at `ingot_abi::PROGRAM_BASE`.
//!
//! With `--drivers` the kernel is built in a second call, alone, with only those
//! driver families (`drivers.rs`); [`kernel_variant`] builds such a kernel beside the
//! full one (`bench size`, the `drivers-*` scenarios). The linker writes a map of every
//! kernel it links, kept as `kernel.map` (`kernel-<families>.map` for a variant).
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use object::{Object, ObjectSegment};

use crate::drivers::DriverSet;

const MACHINE_TARGET: &str = "x86_64-unknown-none";
/// The package whose `ingot-kernel` binary is the kernel image.
const KERNEL_PACKAGE: &str = "ingot-boot-direct";
const MULTIBOOT_MAGIC: [u8; 4] = 0x1BAD_B002u32.to_le_bytes();
/// The Multiboot header must lie in the first 8 KiB of the file.
const MULTIBOOT_SEARCH_BYTES: usize = 8192;

/// Paths of everything `build_all` produced.
#[derive(Clone)]
pub struct Artifacts {
    /// The kernel: ELF64 with a Multiboot1 header and a PVH note (QEMU picks Multiboot).
    pub kernel: PathBuf,
    /// The same kernel with the Multiboot header disabled, so QEMU boots it through PVH.
    pub kernel_pvh: PathBuf,
    /// An empty kernel with the same boot stub that prints the ready marker at once (benchmark floor).
    pub floor: PathBuf,
    /// Directory holding the flat program binaries, `<name>.bin`.
    pub programs: PathBuf,
    /// The kernel laid out flat from 1 MiB without its trailing `.bss` (what disk loaders
    /// copy), its length and checksum written into its header (`kernel_header.rs`).
    pub kernel_flat: PathBuf,
    /// The BIOS loader: boot sector (512 bytes) followed by stage 2.
    pub bios_loader: PathBuf,
    /// The UEFI loader (`BOOTX64.EFI`), when it was built.
    pub uefi_loader: Option<PathBuf>,
    /// Benchmark floor for BIOS disk boots: a boot sector that prints the ready marker.
    pub bios_floor: PathBuf,
    /// Benchmark floor for UEFI disk boots: an EFI application that prints the marker.
    pub uefi_floor: PathBuf,
    /// The disk image the scenarios boot: `ingot.img`'s layout with `exit=qemu` as its
    /// command line (see `image.rs`).
    pub test_image: PathBuf,
    /// The linker's map of the kernel.
    pub kernel_map: PathBuf,
}

impl Artifacts {
    /// Flat binary of the named program.
    pub fn program(&self, name: &str) -> PathBuf {
        self.programs.join(format!("{name}.bin"))
    }

    /// The file to boot for the named program: its flat binary, or its ELF file for a
    /// program that has none (Linux programs).
    pub fn program_file(&self, name: &str) -> PathBuf {
        let flat = self.program(name);
        let elf = self.program_elf(name);
        if !flat.exists() && elf.exists() { elf } else { flat }
    }

    /// The named program as the linker wrote it (an ELF file the kernel loads too).
    pub fn program_elf(&self, name: &str) -> PathBuf {
        self.programs.join(format!("{name}.elf"))
    }

    /// Prints where everything went.
    pub fn print_summary(&self) {
        for path in
            [&self.kernel, &self.kernel_pvh, &self.floor, &self.kernel_flat, &self.bios_loader]
                .into_iter()
                .chain(&self.uefi_loader)
                .chain([&self.test_image])
        {
            let size = fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            println!("{:>8} bytes  {}", size, path.display());
        }
        for name in crate::programs::programs() {
            let path = self.program_file(&name);
            let size = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            println!("{:>8} bytes  {}", size, path.display());
        }
    }
}

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).expect("workspace root").to_path_buf()
}

/// Cargo's target directory (`CARGO_TARGET_DIR` if set, else `target/`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| if dir.is_absolute() { dir } else { workspace_root().join(dir) })
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// `<target>/ingot`, where artifacts, images and benchmark results go.
pub fn output_dir() -> PathBuf {
    target_dir().join("ingot")
}

/// Runs `cargo` with `args` in the workspace root, failing with a message if it fails.
pub fn cargo(args: &[&str]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(args)
        .current_dir(workspace_root())
        .status()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if status.success() { Ok(()) } else { Err(format!("cargo {} failed", args.join(" "))) }
}

/// Builds everything (release profile, every driver family) into `target/ingot/`.
pub fn build_all() -> Result<Artifacts, String> {
    build_with(None)
}

/// Builds everything into `target/ingot/`, the kernel with only the driver families
/// `drivers` when given (all otherwise).
pub fn build_with(drivers: Option<&DriverSet>) -> Result<Artifacts, String> {
    eprintln!(
        "xtask: building the kernel, its loaders and the programs (cargo build --release --target {MACHINE_TARGET})"
    );
    let workspace = crate::workspace::workspace()?;
    let mut args = vec!["build", "--release", "--target", MACHINE_TARGET];
    for package in &workspace.machine_packages {
        if drivers.is_none() || package != KERNEL_PACKAGE {
            args.extend(["-p", package]);
        }
    }
    let kernel_out = match drivers {
        None => cargo_kernel_build(&args)?,
        Some(drivers) => {
            cargo(&args)?;
            build_kernel(drivers)?
        }
    };
    let built = release_dir();
    let out = output_dir();
    let programs = out.join("programs");
    fs::create_dir_all(&programs)
        .map_err(|e| format!("cannot create {}: {e}", programs.display()))?;

    let artifacts = artifacts_in(&out);
    copy(&built.join("ingot-kernel"), &artifacts.kernel)?;
    copy(&kernel_out.join("ingot-kernel.map"), &artifacts.kernel_map)?;
    copy(&built.join("ingot-floor"), &artifacts.floor)?;
    write_pvh_only(&artifacts.kernel, &artifacts.kernel_pvh)?;
    for name in crate::programs::rust_programs() {
        let flat = flat_binary(&built.join(&name))?;
        write(&artifacts.program(&name), &flat)?;
        copy(&built.join(&name), &artifacts.program_elf(&name))?;
    }
    for program in crate::c_programs::c_programs() {
        let elf = artifacts.program_elf(&program.name);
        crate::c_programs::build(&program, &elf)?;
        if !program.linux {
            write(&artifacts.program(&program.name), &flat_binary(&elf)?)?;
        }
    }
    crate::compat_suite::build(&programs)?;
    let kernel_elf = fs::read(&artifacts.kernel)
        .map_err(|e| format!("cannot read {}: {e}", artifacts.kernel.display()))?;
    let mut kernel_flat = crate::kernel_flat::image_without_bss(&kernel_elf)?;
    crate::kernel_header::seal(&mut kernel_flat)?;
    crate::kernel_flat::check(&kernel_elf, &kernel_flat)?;
    write(&artifacts.kernel_flat, &kernel_flat)?;
    write(&artifacts.bios_loader, &flat_binary(&built.join("ingot-bios"))?)?;
    let loader_elf = built.join("ingot-uefi");
    let loader_elf =
        fs::read(&loader_elf).map_err(|e| format!("cannot read {}: {e}", loader_elf.display()))?;
    if let Some(efi) = &artifacts.uefi_loader {
        write(efi, &crate::pe::elf_to_efi(&loader_elf)?)?;
    }
    write(&artifacts.bios_floor, &flat_binary(&built.join("ingot-bios-floor"))?)?;
    let floor_elf = built.join("ingot-uefi-floor");
    let floor_elf =
        fs::read(&floor_elf).map_err(|e| format!("cannot read {}: {e}", floor_elf.display()))?;
    write(&artifacts.uefi_floor, &crate::pe::elf_to_efi(&floor_elf)?)?;
    let options = crate::image::ImageOptions::for_tests();
    crate::image::write_image(&artifacts, &options, &artifacts.test_image)?;
    Ok(artifacts)
}

/// Cargo's output directory for the machine's release build.
fn release_dir() -> PathBuf {
    target_dir().join(MACHINE_TARGET).join("release")
}

/// Builds the kernel package alone with only the driver families `drivers`; returns
/// its build script's OUT_DIR (see [`cargo_kernel_build`]).
fn build_kernel(drivers: &DriverSet) -> Result<PathBuf, String> {
    eprintln!("xtask: building the kernel with the driver families {drivers}");
    let features = drivers.cargo_features();
    let mut args = vec!["build", "--release", "--target", MACHINE_TARGET, "-p", KERNEL_PACKAGE];
    args.extend(features.iter().map(String::as_str));
    cargo_kernel_build(&args)
}

/// Runs `cargo build` (`args`, which must build the kernel package) with JSON
/// messages on stdout and returns the OUT_DIR of the kernel package's build script,
/// where the linker map lies (`boot/direct/build.rs`). Cargo reports it on every
/// build, also when nothing had to be rebuilt.
fn cargo_kernel_build(args: &[&str]) -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(args)
        .arg("--message-format=json-render-diagnostics")
        .current_dir(workspace_root())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if !output.status.success() {
        return Err(format!("cargo {} failed", args.join(" ")));
    }
    kernel_out_dir(&String::from_utf8_lossy(&output.stdout)).ok_or_else(|| {
        format!("cargo {} did not report {KERNEL_PACKAGE}'s OUT_DIR", args.join(" "))
    })
}

/// The `out_dir` of the kernel package's `build-script-executed` message.
fn kernel_out_dir(messages: &str) -> Option<PathBuf> {
    messages.lines().find_map(|line| {
        let message: serde_json::Value = serde_json::from_str(line).ok()?;
        let package = message["package_id"].as_str()?;
        let ours = package.contains(&format!("#{KERNEL_PACKAGE}@"))
            || package.starts_with(&format!("{KERNEL_PACKAGE} "));
        let out_dir = message["out_dir"].as_str()?;
        (message["reason"] == "build-script-executed" && ours).then(|| PathBuf::from(out_dir))
    })
}

/// A kernel built with some driver families only, beside the full one.
pub struct KernelVariant {
    /// The kernel ELF, `target/ingot/kernel-<families>.elf`.
    pub elf: PathBuf,
    /// Its linker map, `kernel-<families>.map`.
    pub map: PathBuf,
    /// What a disk loader would copy (the image without `.bss`), `kernel-<families>.bin`.
    pub flat: PathBuf,
}

impl KernelVariant {
    /// Where [`kernel_variant`] puts the kernel with `drivers`.
    pub fn of(drivers: &DriverSet) -> KernelVariant {
        let out = output_dir();
        let stem = format!("kernel-{}", drivers.file_stem());
        KernelVariant {
            elf: out.join(format!("{stem}.elf")),
            map: out.join(format!("{stem}.map")),
            flat: out.join(format!("{stem}.bin")),
        }
    }
}

/// Builds a kernel with only `drivers` into `target/ingot/kernel-<families>.*`, leaving
/// the other artifacts as they are. Not safe to call for the same set from two
/// threads at once: callers share one result (`scenarios/drivers.rs`).
pub fn kernel_variant(drivers: &DriverSet) -> Result<KernelVariant, String> {
    let kernel_out = build_kernel(drivers)?;
    let variant = KernelVariant::of(drivers);
    let built = release_dir();
    copy(&built.join("ingot-kernel"), &variant.elf)?;
    copy(&kernel_out.join("ingot-kernel.map"), &variant.map)?;
    let elf = fs::read(&variant.elf)
        .map_err(|e| format!("cannot read {}: {e}", variant.elf.display()))?;
    let mut flat = crate::kernel_flat::image_without_bss(&elf)?;
    crate::kernel_header::seal(&mut flat)?;
    write(&variant.flat, &flat)?;
    Ok(variant)
}

/// Where [`build_all`] puts each artifact under `out`.
pub fn artifacts_in(out: &Path) -> Artifacts {
    Artifacts {
        kernel: out.join("kernel.elf"),
        kernel_pvh: out.join("kernel-pvh.elf"),
        floor: out.join("floor.elf"),
        programs: out.join("programs"),
        kernel_flat: out.join("kernel.bin"),
        bios_loader: out.join("bios.bin"),
        uefi_loader: Some(out.join("BOOTX64.EFI")),
        bios_floor: out.join("bios-floor.bin"),
        uefi_floor: out.join("floor.efi"),
        test_image: out.join("ingot-test.img"),
        kernel_map: out.join("kernel.map"),
    }
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    fs::copy(from, to).map(|_| ()).map_err(|e| format!("cannot copy {}: {e}", from.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Writes a copy of the kernel whose Multiboot magic is zeroed: QEMU tries Multiboot
/// before PVH, so only without the header does it take the PVH note.
fn write_pvh_only(kernel: &Path, out: &Path) -> Result<(), String> {
    let mut bytes =
        fs::read(kernel).map_err(|e| format!("cannot read {}: {e}", kernel.display()))?;
    let window = &bytes[..bytes.len().min(MULTIBOOT_SEARCH_BYTES)];
    let offset = (0..window.len().saturating_sub(3))
        .step_by(4)
        .find(|&at| window[at..at + 4] == MULTIBOOT_MAGIC)
        .ok_or("kernel has no Multiboot header in its first 8 KiB")?;
    bytes[offset..offset + 4].fill(0);
    write(out, &bytes)
}

/// Lays out an ELF's loadable segments as one flat image starting at the lowest
/// segment address (zero-filled gaps; trailing `.bss` is not stored).
pub fn flat_binary(elf: &Path) -> Result<Vec<u8>, String> {
    let data = fs::read(elf).map_err(|e| format!("cannot read {}: {e}", elf.display()))?;
    let file = object::File::parse(&*data).map_err(|e| format!("{}: {e}", elf.display()))?;
    let mut segments = Vec::new();
    for segment in file.segments() {
        let bytes = segment.data().map_err(|e| format!("{}: {e}", elf.display()))?;
        if !bytes.is_empty() {
            segments.push((segment.address(), bytes));
        }
    }
    let base = segments.iter().map(|(address, _)| *address).min().ok_or("no loadable segments")?;
    if file.entry() != base {
        return Err(format!(
            "{}: entry {:#x} is not the first byte {base:#x}",
            elf.display(),
            file.entry()
        ));
    }
    let mut image = Vec::new();
    for (address, bytes) in segments {
        let offset = usize::try_from(address - base).map_err(|_| "segment too far")?;
        if image.len() < offset + bytes.len() {
            image.resize(offset + bytes.len(), 0);
        }
        image[offset..offset + bytes.len()].copy_from_slice(bytes);
    }
    Ok(image)
}

#[cfg(test)]
mod tests {
    use super::kernel_out_dir;

    #[test]
    fn the_kernel_packages_out_dir_is_found_among_cargo_messages() {
        let messages = r#"{"reason":"build-script-executed","package_id":"path+file:///w/boot/bios#ingot-boot-bios@0.1.0","out_dir":"/t/bios/out"}
not json
{"reason":"compiler-artifact","package_id":"path+file:///w/boot/direct#ingot-boot-direct@0.1.0"}
{"reason":"build-script-executed","package_id":"path+file:///w/boot/direct#ingot-boot-direct@0.1.0","out_dir":"/t/direct-1/out"}"#;
        assert_eq!(kernel_out_dir(messages), Some("/t/direct-1/out".into()));
        assert_eq!(kernel_out_dir("{}"), None);
    }
}
