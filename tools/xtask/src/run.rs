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
Quit QEMU with Ctrl-A X.";

/// Parses the options, builds, and runs QEMU in the foreground.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut machine = Machine::Q35;
    let (mut cores, mut memory, mut cpu, mut program, mut append, mut pvh) =
        (1, "128M".to_string(), None, None, None, false);
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
    let mut config = QemuConfig::new(machine).memory(memory).cores(cores).kernel(kernel);
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
