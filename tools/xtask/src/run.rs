//! `cargo xtask run`: boot Ingot in QEMU with the serial console on this terminal.

use std::process::Command;

use crate::build::build_all;
use crate::qemu::{Machine, QEMU, QemuConfig};

const HELP: &str = "usage: cargo xtask run [options] [-- extra QEMU arguments]
  --machine pc|q35|microvm   machine model (default q35)
  --cores N                  number of cores (default 1)
  --memory SIZE              RAM, QEMU syntax (default 128M)
  --cpu MODEL                QEMU CPU model
  --program NAME|PATH        program to load: a built program name (hello) or a flat binary
  --append TEXT              kernel command line
  --pvh                      boot through PVH instead of Multiboot
  --image                    boot a disk image (BIOS loader, VGA; add -- -display gtk to see it)
  --uefi                     boot the disk image under OVMF (implies --image; machine q35)
Quit QEMU with Ctrl-A X.";

/// Parses the options, builds, and runs QEMU in the foreground.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut machine = Machine::Q35;
    let (mut cores, mut memory, mut cpu, mut program, mut append, mut pvh) =
        (1, "128M".to_string(), None, None, None, false);
    let (mut image, mut uefi) = (false, false);
    let mut extra = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().cloned().ok_or(format!("{arg} needs a value\n{HELP}"));
        match arg.as_str() {
            "--machine" => {
                let name = value()?;
                machine = Machine::parse(&name).ok_or(format!("unknown machine {name}"))?;
            }
            "--cores" => cores = value()?.parse().map_err(|_| "--cores needs a number")?,
            "--memory" => memory = value()?,
            "--cpu" => cpu = Some(value()?),
            "--program" => program = Some(value()?),
            "--append" => append = Some(value()?),
            "--pvh" => pvh = true,
            "--image" => image = true,
            "--uefi" => (image, uefi) = (true, true),
            "--help" | "-h" => {
                println!("{HELP}");
                return Ok(());
            }
            "--" => extra.extend(args.by_ref().cloned()),
            other => return Err(format!("unknown option {other}\n{HELP}")),
        }
    }
    let artifacts = build_all()?;
    let kernel = if pvh { &artifacts.kernel_pvh } else { &artifacts.kernel };
    let mut config = if image {
        if program.is_some() {
            return Err(
                "--program is not supported with --image (the loaders pass no module yet)".into()
            );
        }
        let path = crate::build::output_dir().join("run.img");
        let options = crate::image::ImageOptions {
            cmdline: append.take().unwrap_or_default(),
            init: program.take(),
            ..crate::image::ImageOptions::for_tests()
        };
        crate::image::write_image(&artifacts, &options, &path)?;
        let machine = if uefi { Machine::Q35 } else { machine };
        let config =
            crate::scenarios::boot_images::disk_boot(machine, &path).extra_args(["-vga", "std"]);
        if uefi {
            config.extra_args(["-bios", crate::scenarios::boot_images::OVMF])
        } else {
            config
        }
    } else {
        QemuConfig::new(machine).kernel(kernel)
    };
    config = config.memory(memory).cores(cores);
    if let Some(cpu) = cpu {
        config = config.cpu(cpu);
    }
    if let Some(program) = program {
        let built = artifacts.program(&program);
        config = config.initrd(if built.exists() { built } else { program.into() });
    }
    if let Some(append) = append {
        config = config.append(append);
    }
    let args: Vec<String> = config
        .args()
        .into_iter()
        .map(|arg| if arg == "stdio" { "mon:stdio".to_string() } else { arg })
        .chain(extra)
        .collect();
    let status =
        Command::new(QEMU).args(&args).status().map_err(|e| format!("cannot start {QEMU}: {e}"))?;
    println!("qemu exited with {status}");
    Ok(())
}
