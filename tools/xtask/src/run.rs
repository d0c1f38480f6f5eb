//! `cargo xtask run`: boot Ingot in QEMU with the serial console on this terminal.
//!
//! [`qemu_config`] turns the options into a QEMU configuration (the scenarios in
//! `scenarios/front_door.rs` boot exactly what it builds); [`exit_code`] maps QEMU's
//! status back to the program's, so `run` can be used in scripts.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::build::{Artifacts, PROGRAMS, build_all, output_dir};
use crate::qemu::{Machine, QEMU, QemuConfig};
use crate::scenarios::boot_images::{OVMF, disk_boot};

const HELP: &str = "usage: cargo xtask run [options] [-- extra QEMU arguments]
  --machine pc|q35|microvm   machine model (default q35)
  --cores N                  number of cores (default 1)
  --memory SIZE              RAM, QEMU syntax (default 128M)
  --cpu MODEL                QEMU CPU model
  --program NAME|PATH        program to load: a built program name (hello) or a flat binary
                             (default: the monitor, with the disk image attached for its files)
  --append TEXT              kernel command line
  --pvh                      boot through PVH instead of Multiboot
  --image                    boot a disk image (BIOS loader, VGA; add -- -display gtk to see it)
  --uefi                     boot the disk image under OVMF (implies --image; machine q35)
Quit QEMU with Ctrl-A X. With --append exit=qemu, run exits with the program's status.";

/// What `run` was asked to boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOptions {
    /// Machine model.
    pub machine: Machine,
    /// Number of cores.
    pub cores: u32,
    /// Guest RAM, QEMU syntax.
    pub memory: String,
    /// QEMU CPU model.
    pub cpu: Option<String>,
    /// A built program's name or a flat binary's path.
    pub program: Option<String>,
    /// Kernel command line.
    pub append: Option<String>,
    /// Boot through PVH instead of Multiboot.
    pub pvh: bool,
    /// Boot a disk image under SeaBIOS.
    pub image: bool,
    /// Boot a disk image under OVMF.
    pub uefi: bool,
    /// Raw QEMU arguments after `--`.
    pub extra: Vec<String>,
}

impl RunOptions {
    /// Parses `run`'s arguments; `Ok(None)` when help was asked for (and printed).
    pub fn parse(args: &[String]) -> Result<Option<Self>, String> {
        let mut options = RunOptions {
            machine: Machine::Q35,
            cores: 1,
            memory: "128M".into(),
            cpu: None,
            program: None,
            append: None,
            pvh: false,
            image: false,
            uefi: false,
            extra: Vec::new(),
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || args.next().cloned().ok_or(format!("{arg} needs a value\n{HELP}"));
            match arg.as_str() {
                "--machine" => {
                    let name = value()?;
                    options.machine =
                        Machine::parse(&name).ok_or(format!("unknown machine {name}"))?;
                }
                "--cores" => {
                    options.cores = value()?.parse().map_err(|_| "--cores needs a number")?
                }
                "--memory" => options.memory = value()?,
                "--cpu" => options.cpu = Some(value()?),
                "--program" => options.program = Some(value()?),
                "--append" => options.append = Some(value()?),
                "--pvh" => options.pvh = true,
                "--image" => options.image = true,
                "--uefi" => (options.image, options.uefi) = (true, true),
                "--help" | "-h" => {
                    println!("{HELP}");
                    return Ok(None);
                }
                "--" => options.extra.extend(args.by_ref().cloned()),
                other => return Err(format!("unknown option {other}\n{HELP}")),
            }
        }
        Ok(Some(options))
    }
}

/// Parses the options, builds, runs QEMU in the foreground and returns the exit code
/// `cargo xtask run` ends with.
pub fn run(args: &[String]) -> Result<u8, String> {
    let Some(options) = RunOptions::parse(args)? else { return Ok(0) };
    let artifacts = build_all()?;
    let config = qemu_config(&options, &artifacts, &output_dir().join("run.img"))?;
    let args: Vec<String> = config
        .args()
        .into_iter()
        .map(|arg| if arg == "stdio" { "mon:stdio".to_string() } else { arg })
        .collect();
    let status =
        Command::new(QEMU).args(&args).status().map_err(|e| format!("cannot start {QEMU}: {e}"))?;
    exit_code(status.code())
}

/// The path of the program `--program` names: a built program, else an existing file.
pub fn program_path(artifacts: &Artifacts, program: &str) -> Result<PathBuf, String> {
    if PROGRAMS.contains(&program) {
        return Ok(artifacts.program(program));
    }
    if Path::new(program).is_file() {
        return Ok(program.into());
    }
    Err(format!(
        "--program {program}: no such file, and no built program of that name (built: {})",
        PROGRAMS.join(", ")
    ))
}

/// The QEMU configuration for `options`; a disk-image boot first writes its image, with
/// the program as `init.app` and the command line as `cmdline`, to `image_path`.
pub fn qemu_config(
    options: &RunOptions,
    artifacts: &Artifacts,
    image_path: &Path,
) -> Result<QemuConfig, String> {
    let program = options.program.as_deref().map(|p| program_path(artifacts, p)).transpose()?;
    let mut config = if options.image {
        let image_options = crate::image::ImageOptions {
            cmdline: options.append.clone().unwrap_or_default(),
            init: program.map(|path| path.display().to_string()),
            ..crate::image::ImageOptions::for_tests()
        };
        crate::image::write_image(artifacts, &image_options, image_path)?;
        let machine = if options.uefi { Machine::Q35 } else { options.machine };
        let config = disk_boot(machine, image_path).extra_args(["-vga", "std"]);
        if options.uefi { config.extra_args(["-bios", OVMF]) } else { config }
    } else {
        let kernel = if options.pvh { &artifacts.kernel_pvh } else { &artifacts.kernel };
        let mut config = QemuConfig::new(options.machine).kernel(kernel);
        match program {
            Some(program) => config = config.initrd(program),
            None => {
                // No program named: the monitor, with the disk image's files to work on.
                let image_options = crate::image::ImageOptions {
                    cmdline: String::new(),
                    ..crate::image::ImageOptions::for_tests()
                };
                crate::image::write_image(artifacts, &image_options, image_path)?;
                config = config
                    .initrd(artifacts.program("monitor"))
                    .arg("-drive")
                    .arg(format!("file={},format=raw,if=virtio", image_path.display()));
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
    Ok(config.extra_args(options.extra.iter().cloned()))
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

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

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
    fn direct_boot_passes_program_and_command_line() {
        let options =
            RunOptions::parse(&args("--machine microvm --program hello --append exit=qemu"))
                .unwrap()
                .unwrap();
        let config = qemu_config(&options, &artifacts(), Path::new("/unused.img")).unwrap();
        assert_eq!(config.machine, Machine::Microvm);
        assert_eq!(config.initrd, Some(artifacts().program("hello")));
        assert_eq!(config.append.as_deref(), Some("exit=qemu"));
    }
}
