//! `cargo xtask run`: boot Ingot in QEMU with the serial console on this terminal.
//!
//! It says what it does (building, then the QEMU command and how to leave QEMU) before
//! the guest's output. [`qemu_config`] turns the options into a QEMU configuration (the
//! scenarios in `scenarios/front_door.rs` boot exactly what it builds); [`exit_code`]
//! maps QEMU's status back to the program's, so `run` can be used in scripts.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::build::{Artifacts, build_with, output_dir};
use crate::cli::{DiskModel, DiskSpec, NetModel, NetSpec, RunArgs};
use crate::programs::programs;
use crate::qemu::{Machine, QEMU, QemuConfig};
use crate::scenarios::boot_images::{OVMF, disk_boot};

/// Printed before the guest's output: the serial console is this terminal, so QEMU's
/// own keys are the only way out.
const HOW_TO_LEAVE: &str =
    "xtask: quit QEMU with Ctrl-A X (Ctrl-A H lists QEMU's other keys); guest output follows";

/// Builds, runs QEMU in the foreground and returns the exit code `cargo xtask run` ends
/// with.
pub fn run(options: &RunArgs) -> Result<u8, String> {
    let artifacts = build_with(options.drivers.as_ref())?;
    create_missing_disks(&options.disk, options.disk_size)?;
    let config = qemu_config(options, &artifacts, &output_dir().join("run.img"))?;
    let args: Vec<String> = config
        .args()
        .into_iter()
        .map(|arg| if arg == "stdio" { "mon:stdio".to_string() } else { arg })
        .collect();
    let shown: Vec<String> =
        args.iter().map(|a| if a.contains(' ') { format!("'{a}'") } else { a.clone() }).collect();
    eprintln!("xtask: {QEMU} {}", shown.join(" "));
    eprintln!("{HOW_TO_LEAVE}");
    let status = Command::new(QEMU).args(&args).status().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!(
            "`{QEMU}` not found on PATH (install it, e.g. `apt-get install qemu-system-x86`)"
        ),
        _ => format!("cannot start {QEMU}: {e}"),
    })?;
    exit_code(status.code())
}

/// The path of the program `--program` names: a built program, else an existing file.
pub fn program_path(artifacts: &Artifacts, program: &str) -> Result<PathBuf, String> {
    if programs().iter().any(|name| name == program) {
        return Ok(artifacts.program_file(program));
    }
    if Path::new(program).is_file() {
        return Ok(program.into());
    }
    Err(format!(
        "--program {program}: no such file, and no built program of that name (built: {})",
        programs().join(", ")
    ))
}

/// Creates each `--disk` file that does not exist as an empty (sparse) image of
/// `size_mib` MiB, saying so.
fn create_missing_disks(disks: &[DiskSpec], size_mib: u64) -> Result<(), String> {
    for disk in disks.iter().filter(|disk| !disk.path.exists()) {
        let error = |e: std::io::Error| format!("--disk {}: {e}", disk.path.display());
        let file =
            OpenOptions::new().write(true).create_new(true).open(&disk.path).map_err(error)?;
        file.set_len(size_mib << 20).map_err(error)?;
        eprintln!("xtask: created {} ({size_mib} MiB, empty)", disk.path.display());
    }
    Ok(())
}

/// The QEMU arguments attaching `nets` on `machine`, each on a user network of its own
/// (`-netdev user,id=net<n>` with its `hostfwd` rules); the MACs are QEMU's defaults.
pub fn net_args(machine: Machine, nets: &[NetSpec]) -> Result<Vec<String>, String> {
    let mut args = Vec::new();
    for (index, net) in nets.iter().enumerate() {
        let device = match (machine, net.model) {
            (Machine::Microvm, NetModel::VirtioNet) => "virtio-net-device",
            (Machine::Microvm, _) => {
                return Err(
                    "--net: microvm has no PCI bus; there only virtio-net (over virtio-mmio) attaches".into()
                );
            }
            (_, NetModel::VirtioNet) => "virtio-net-pci",
            (_, NetModel::E1000) => "e1000",
            (_, NetModel::E1000e) => "e1000e",
            (_, NetModel::Rtl8139) => "rtl8139",
        };
        let mut netdev = format!("user,id=net{index}");
        for rule in &net.hostfwd {
            netdev.push_str(&format!(",hostfwd={rule}"));
        }
        args.extend(["-netdev".to_string(), netdev]);
        args.extend(["-device".to_string(), format!("{device},netdev=net{index}")]);
    }
    Ok(args)
}

/// The QEMU arguments attaching `disks` on `machine` (drive ids `disk0`, `disk1`, …);
/// IDE disks take the PIIX slots from `first_ide_slot` on (a disk-image boot holds 0).
pub fn disk_args(
    machine: Machine,
    disks: &[DiskSpec],
    first_ide_slot: usize,
) -> Result<Vec<String>, String> {
    let mut args = Vec::new();
    for (index, disk) in disks.iter().enumerate() {
        let id = format!("disk{index}");
        let device = match (machine, disk.model) {
            (Machine::Microvm, DiskModel::VirtioBlk) => {
                vec![format!("virtio-blk-device,drive={id}")]
            }
            (Machine::Microvm, _) => {
                return Err(
                    "--disk: microvm has no PCI bus; there only virtio-blk (over virtio-mmio) attaches".into()
                );
            }
            (Machine::Q35, DiskModel::Ide) => {
                return Err("--disk ...,ide: q35's disk controller is AHCI; use --machine pc for IDE, or ahci".into());
            }
            (_, DiskModel::VirtioBlk) => vec![format!("virtio-blk-pci,drive={id}")],
            (_, DiskModel::Nvme) => vec![format!("nvme,drive={id},serial=ingot-{id}")],
            (_, DiskModel::Ahci) => {
                vec![format!("ahci,id=ahci{index}"), format!("ide-hd,drive={id},bus=ahci{index}.0")]
            }
            (_, DiskModel::Ide) => {
                let slot = first_ide_slot
                    + disks[..index].iter().filter(|d| d.model == DiskModel::Ide).count();
                if slot >= 4 {
                    return Err("--disk: the PIIX IDE controller has room for 4 disks (the boot image takes one)".into());
                }
                vec![format!("ide-hd,drive={id},bus=ide.{},unit={}", slot / 2, slot % 2)]
            }
        };
        args.push("-drive".to_string());
        args.push(format!("file={},format=raw,if=none,id={id}", disk.path.display()));
        for device in device {
            args.extend(["-device".to_string(), device]);
        }
    }
    Ok(args)
}

/// The QEMU configuration for `options`; a disk-image boot first writes its image, with
/// the program (default: the monitor) as `boot.app` and the command line as `cmdline`,
/// to `image_path`.
pub fn qemu_config(
    options: &RunArgs,
    artifacts: &Artifacts,
    image_path: &Path,
) -> Result<QemuConfig, String> {
    let program = options.program.as_deref().map(|p| program_path(artifacts, p)).transpose()?;
    let machine = if options.uefi { Machine::Q35 } else { options.machine };
    let image = options.image || options.uefi;
    if image && machine == Machine::Microvm {
        return Err("--image: microvm's firmware boots no disks; use --machine pc or q35".into());
    }
    let disks = disk_args(machine, &options.disk, usize::from(image))?;
    let nics = net_args(machine, &options.net)?;
    let mut config = if image {
        let image_options = crate::image::ImageOptions {
            cmdline: options.append.clone().unwrap_or_default(),
            boot: Some(
                program.unwrap_or_else(|| artifacts.program("monitor")).display().to_string(),
            ),
            ..crate::image::ImageOptions::for_tests()
        };
        crate::image::write_image(artifacts, &image_options, image_path)?;
        let config = disk_boot(machine, image_path).extra_args(["-vga", "std"]);
        if options.uefi { config.extra_args(["-bios", OVMF]) } else { config }
    } else {
        let kernel = if options.pvh { &artifacts.kernel_pvh } else { &artifacts.kernel };
        let mut config = QemuConfig::new(machine).kernel(kernel);
        match program {
            Some(program) => config = config.initrd(program),
            None => {
                // No program named: the monitor, with the disk image's files to work on.
                let image_options = crate::image::ImageOptions {
                    cmdline: String::new(),
                    ..crate::image::ImageOptions::for_tests()
                };
                crate::image::write_image(artifacts, &image_options, image_path)?;
                config = config.initrd(artifacts.program("monitor")).extra_args([
                    "-drive".to_string(),
                    format!("file={},format=raw,if=virtio", image_path.display()),
                ]);
            }
        }
        if let Some(append) = &options.append {
            config = config.append(append.clone());
        }
        config
    };
    config = config.memory(options.memory.clone()).cores(options.cores);
    if let Some(cpu) = &options.cpu {
        config = config.cpu(cpu.clone());
    }
    Ok(config.extra_args(disks).extra_args(nics).extra_args(options.qemu_args.iter().cloned()))
}

/// QEMU's exit status mapped to `run`'s: a program's status `n` (which `exit=qemu`
/// turns into QEMU status 2n + 1) becomes `n`; the kernel's failure exit (255) is an
/// error; 0 (QEMU quit, or a reset under `-no-reboot`) stays 0; anything else is QEMU's
/// own failure.
pub fn exit_code(status: Option<i32>) -> Result<u8, String> {
    match status {
        Some(0) => Ok(0),
        Some(255) => {
            Err("the kernel stopped on an exception, panic or fatal error (QEMU exit status 255)"
                .into())
        }
        Some(code @ 1..=253) if code % 2 == 1 => Ok(((code - 1) / 2) as u8),
        Some(code) => Err(format!("QEMU failed (exit status {code})")),
        None => Err("QEMU was killed by a signal".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::parse_run;

    #[test]
    fn a_programs_status_comes_back_from_qemus() {
        assert_eq!(exit_code(Some(85)), Ok(42));
        assert_eq!(exit_code(Some(1)), Ok(0));
        assert_eq!(exit_code(Some(253)), Ok(126));
        assert_eq!(exit_code(Some(0)), Ok(0));
        let fault = exit_code(Some(255)).unwrap_err();
        assert!(fault.contains("exception") && fault.contains("255"), "{fault}");
        assert!(exit_code(Some(2)).unwrap_err().contains("QEMU failed (exit status 2)"));
        assert!(exit_code(None).is_err());
    }

    fn artifacts() -> Artifacts {
        crate::build::artifacts_in(&std::env::temp_dir().join("ingot-run-test"))
    }

    #[test]
    fn a_missing_program_is_named() {
        let error = program_path(&artifacts(), "no-such-program.bin").unwrap_err();
        assert!(error.contains("--program no-such-program.bin: no such file"), "{error}");
        assert!(error.contains("hello"), "{error}");
        assert_eq!(program_path(&artifacts(), "hello"), Ok(artifacts().program("hello")));
    }

    #[test]
    fn direct_boot_passes_program_command_line_and_disks() {
        let options = parse_run(&[
            "--machine",
            "microvm",
            "--program",
            "hello",
            "--append",
            "exit=qemu",
            "--",
            "-S",
        ])
        .unwrap();
        let config = qemu_config(&options, &artifacts(), Path::new("/unused.img")).unwrap();
        assert_eq!(config.machine, Machine::Microvm);
        assert_eq!(config.initrd, Some(artifacts().program("hello")));
        assert_eq!(config.append.as_deref(), Some("exit=qemu"));
        assert_eq!(config.extra, vec!["-S".to_string()]);

        let options = parse_run(&[
            "--machine",
            "pc",
            "--program",
            "hello",
            "--disk",
            "a.img,nvme",
            "--disk",
            "b.img,ide",
        ])
        .unwrap();
        let config = qemu_config(&options, &artifacts(), Path::new("/unused.img")).unwrap();
        assert_eq!(
            config.extra.join(" "),
            "-drive file=a.img,format=raw,if=none,id=disk0 -device nvme,drive=disk0,serial=ingot-disk0 \
             -drive file=b.img,format=raw,if=none,id=disk1 -device ide-hd,drive=disk1,bus=ide.0,unit=0"
        );
    }

    #[test]
    fn a_disk_image_boot_on_microvm_is_refused() {
        let options = parse_run(&["--image", "--machine", "microvm"]).unwrap();
        let error = qemu_config(&options, &artifacts(), Path::new("/unused.img")).unwrap_err();
        assert!(error.contains("use --machine pc or q35"), "{error}");
    }

    #[test]
    fn disks_a_machine_cannot_carry_are_refused() {
        let disk = |text: &str| vec![text.parse::<DiskSpec>().unwrap()];
        assert!(
            disk_args(Machine::Microvm, &disk("a.img,nvme"), 0).unwrap_err().contains("no PCI")
        );
        let mmio = disk_args(Machine::Microvm, &disk("a.img"), 0).unwrap().join(" ");
        assert!(mmio.ends_with("-device virtio-blk-device,drive=disk0"), "{mmio}");
        assert!(disk_args(Machine::Q35, &disk("a.img,ide"), 0).unwrap_err().contains("machine pc"));
        let four: Vec<DiskSpec> = (0..4).map(|i| format!("{i}.img,ide").parse().unwrap()).collect();
        assert!(disk_args(Machine::Pc, &four, 0).is_ok());
        assert!(disk_args(Machine::Pc, &four, 1).unwrap_err().contains("room for 4 disks"));
        let ahci = disk_args(Machine::Q35, &disk("a.img,ahci"), 0).unwrap().join(" ");
        assert!(ahci.ends_with("-device ahci,id=ahci0 -device ide-hd,drive=disk0,bus=ahci0.0"));
    }

    #[test]
    fn nics_get_a_user_network_each_with_their_forwards() {
        let net = |text: &str| text.parse::<NetSpec>();
        let nets = vec![net("e1000,hostfwd=tcp:127.0.0.1:8080-:80").unwrap(), net("").unwrap()];
        assert_eq!(
            net_args(Machine::Q35, &nets).unwrap().join(" "),
            "-netdev user,id=net0,hostfwd=tcp:127.0.0.1:8080-:80 -device e1000,netdev=net0 \
             -netdev user,id=net1 -device virtio-net-pci,netdev=net1"
        );
        let forward_only = net("hostfwd=udp::7007-:7").unwrap();
        assert_eq!(forward_only.model, NetModel::VirtioNet);
        assert_eq!(forward_only.hostfwd, ["udp::7007-:7"]);
        assert!(net("ne2000").unwrap_err().contains("valid: virtio-net, e1000, e1000e, rtl8139"));
        assert!(net("e1000,mac=1").unwrap_err().contains("hostfwd=RULE"));
        let microvm = net_args(Machine::Microvm, &[net("virtio-net").unwrap()]).unwrap();
        assert_eq!(microvm.last().map(String::as_str), Some("virtio-net-device,netdev=net0"));
        assert!(
            net_args(Machine::Microvm, &[net("rtl8139").unwrap()]).unwrap_err().contains("no PCI")
        );
    }

    #[test]
    fn a_missing_disk_file_is_created_empty_at_the_size_asked() {
        let path = std::env::temp_dir().join(format!("ingot-run-disk-{}.img", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let disks = vec![DiskSpec { path: path.clone(), model: DiskModel::Nvme }];
        create_missing_disks(&disks, 3).unwrap();
        let length = std::fs::metadata(&path).map(|m| m.len());
        std::fs::write(&path, b"kept").unwrap();
        create_missing_disks(&disks, 3).unwrap();
        let kept = std::fs::read(&path);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(length.unwrap(), 3 << 20);
        assert_eq!(kept.unwrap(), b"kept", "an existing disk is used as it is");
    }
}
