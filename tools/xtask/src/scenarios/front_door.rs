//! The front door's own boots: `cargo xtask run` command lines, turned into QEMU
//! configurations by the same code `run` uses ([`crate::run::qemu_config`]), so what a
//! user types is what is tested. Each boots hello from a disk image (the loaders pass
//! it as `boot.app`) and ends QEMU with hello's status, which `run` maps back to 42.

use super::{BANNER, exit_status_for, ready, scenario};
use crate::build::{Artifacts, output_dir};
use crate::cli::parse_run;
use crate::harness::Scenario;
use crate::run::qemu_config;

/// The `run` scenarios.
pub fn scenarios(artifacts: &Artifacts) -> Vec<Scenario> {
    let hello_lines = [
        "^ingot: program loaded bytes=",
        "^hello from an Ingot program$",
        "^ingot: program exited status=42$",
    ];
    let mut scenarios = Vec::new();
    for (name, command_line, boot) in [
        ("run-image-program-hello", "--image --program hello --append exit=qemu", "bios"),
        ("run-uefi-program-hello", "--uefi --program hello --append exit=qemu", "uefi"),
    ] {
        let args: Vec<&str> = command_line.split(' ').collect();
        let image = output_dir().join(format!("{name}.img"));
        let config = parse_run(&args).and_then(|options| qemu_config(&options, artifacts, &image));
        let config = match config {
            Ok(config) => config,
            Err(error) => {
                // The scenario then fails on the missing image, with this message above it.
                eprintln!("xtask: {name}: cargo xtask run {command_line}: {error}");
                crate::scenarios::boot_images::disk_boot(crate::qemu::Machine::Pc, &image)
            }
        };
        let ready_line = ready(boot);
        let expect: Vec<&str> = [BANNER, &ready_line].into_iter().chain(hello_lines).collect();
        scenarios.push(scenario(name, config, &expect, exit_status_for(42)));
    }
    scenarios
}
