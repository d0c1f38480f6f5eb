//! TSC frequency: microvm (no port 0x61, no PM timer; the PIT's channel 0 is read with
//! latch commands) must report what the same kernel measures on q35 against the ACPI
//! PM timer, within 10 %. Comparing two of the kernel's own measurements against two
//! different reference clocks does not depend on how loaded the host is (a stall
//! stretches both clocks alike), unlike a comparison with host wall time. Without any
//! clock to measure against, the kernel must say that its frequency is a guess. On q35
//! the quick PM-timer measurement must be refined over the boot's own work.

use std::process::Stdio;

use regex::Regex;

use super::{BANNER, exit_status_for, ready, scenario};
use crate::build::Artifacts;
use crate::harness::Scenario;
use crate::qemu::{Machine, QemuConfig};

const MICROVM_PIT: &str = r"^ingot: tsc (\d+) MHz \(pit\)$";

/// The frequency in the first `ingot: tsc <MHz> MHz (<source>)` line of `log` whose
/// source matches `source`.
fn reported_mhz(log: &str, source: &str) -> Result<u64, String> {
    let line = Regex::new(&format!(r"(?m)^ingot: tsc (\d+) MHz \({source}\)\r?$"))
        .map_err(|e| e.to_string())?;
    let found = line.captures(log).ok_or_else(|| format!("no `ingot: tsc … ({source})` line"))?;
    found[1].parse().map_err(|e| format!("{e}"))
}

/// Boots the same kernel on q35 and returns what it measured against the PM timer.
fn q35_pm_timer_mhz(kernel: &std::path::Path) -> Result<u64, String> {
    let output = QemuConfig::new(Machine::Q35)
        .kernel(kernel)
        .append("exit=qemu")
        .command()
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("q35 reference boot: {e}"))?;
    reported_mhz(&String::from_utf8_lossy(&output.stdout), "acpi pm timer")
        .map_err(|e| format!("q35 reference boot: {e}"))
}

/// The time scenarios.
pub fn scenarios(artifacts: &Artifacts) -> Vec<Scenario> {
    let pvh_ready = ready("pvh");
    let mut scenarios = Vec::new();
    for (name, machine_options) in [
        ("time-tsc-microvm-matches-q35", None),
        ("time-tsc-microvm-acpi-off-matches-q35", Some("acpi=off")),
    ] {
        let mut qemu =
            QemuConfig::new(Machine::Microvm).kernel(&artifacts.kernel_pvh).append("exit=qemu");
        if let Some(options) = machine_options {
            // QEMU merges a second -machine into the first.
            qemu = qemu.extra_args(["-machine", options]);
        }
        let mut s = scenario(name, qemu, &[BANNER, MICROVM_PIT, &pvh_ready], exit_status_for(0));
        let kernel = artifacts.kernel.clone();
        s.host_check = Some(Box::new(move |log: &str| {
            let microvm = reported_mhz(log, "pit")?;
            let q35 = q35_pm_timer_mhz(&kernel)?;
            if microvm.abs_diff(q35) * 10 > q35 {
                return Err(format!(
                    "microvm reports {microvm} MHz, q35 {q35} MHz: over 10 % apart"
                ));
            }
            Ok(())
        }));
        scenarios.push(s);
    }
    let refined = r"^ingot: tsc refined to (\d+) kHz over (\d+) us$";
    let qemu = QemuConfig::new(Machine::Q35).kernel(&artifacts.kernel).append("exit=qemu");
    let mut s = scenario(
        "time-tsc-q35-refined-over-the-boot",
        qemu,
        &[BANNER, r"^ingot: tsc \d+ MHz \(acpi pm timer\)$", refined, &ready("multiboot")],
        exit_status_for(0),
    );
    s.host_check = Some(Box::new(check_refinement));
    scenarios.push(s);
    let qemu = QemuConfig::new(Machine::Microvm)
        .kernel(&artifacts.kernel_pvh)
        .append("exit=qemu")
        .extra_args(["-machine", "acpi=off,pit=off"]);
    let guess = r"^ingot: tsc 1000 MHz \(guess: no clock to measure against\)$";
    scenarios.push(scenario(
        "time-tsc-microvm-no-clock-says-guess",
        qemu,
        &[BANNER, guess, &pvh_ready],
        exit_status_for(0),
    ));
    scenarios
}

/// The refined frequency agrees with the quick measurement within 2 % and was taken
/// over at least 500 µs, many times the quick measurement's 100 µs windows.
fn check_refinement(log: &str) -> Result<(), String> {
    let quick_mhz = reported_mhz(log, "acpi pm timer")?;
    let line = Regex::new(r"(?m)^ingot: tsc refined to (\d+) kHz over (\d+) us\r?$")
        .map_err(|e| e.to_string())?;
    let found = line.captures(log).ok_or("no `ingot: tsc refined …` line")?;
    let number = |i: usize| found[i].parse::<u64>().map_err(|e| format!("{e}"));
    let (khz, us) = (number(1)?, number(2)?);
    if (khz / 1000).abs_diff(quick_mhz) * 50 > quick_mhz {
        return Err(format!("refined to {khz} kHz, measured {quick_mhz} MHz: over 2 % apart"));
    }
    if us < 500 {
        return Err(format!("refined over {us} us only"));
    }
    Ok(())
}
