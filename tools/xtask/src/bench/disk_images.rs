//! Disk-image boot times for `cargo xtask bench boot` (also `bench disk-boot`): the hybrid image under SeaBIOS
//! and under OVMF, each paired with a firmware-only floor under identical flags.
//!
//! The floors are the same image with the loader replaced: for BIOS a boot sector that
//! prints `ingot: ready` at once (`boot/bios/src/bin/floor.rs`), for UEFI a
//! `BOOTX64.EFI` that does the same (`boot/uefi/src/bin/floor.rs`). So the floor is
//! the firmware's own time to start our first instruction, and ingot − floor is what
//! our loader and kernel add. Flags follow the reference measurements
//! (`reference/baremetal.md` §12.2): q35, 4 cores, 256 MiB, a VGA (VBE / GOP).
//! Targets: BIOS image to ready under the reference's 0.166 s median; UEFI loader and
//! kernel adding under 0.1 s to OVMF's own time.
//!
//! OVMF takes 3–5 s under TCG and varies by ±1 s with host load, so the paired
//! wall-clock difference for UEFI is mostly noise. Each Ingot run therefore also
//! records the interval from the loader's first serial line (printed on entry, at the
//! point where the floor prints its marker) to `ingot: ready`: what the loader and the
//! kernel add, measured inside one run. The UEFI verdict uses the median of that
//! interval; the paired difference is reported beside it.
use std::fmt::Write as _;
use std::fs;

use std::time::Duration;

use serde_json::{Value, json};

use super::measure::time_to_marker;
use super::stats::{load1, median, min, unix_now};
use crate::build::{Artifacts, output_dir};
use crate::harness::{Event, Running};
use crate::image::{ImageOptions, write_image};
use crate::qemu::{Machine, QemuConfig};
use crate::scenarios::boot_images::{OVMF, disk_boot};

/// Reference BIOS (VBE) median to ready, seconds.
const BIOS_REFERENCE_S: f64 = 0.166;
/// Most the UEFI loader and kernel may add to OVMF's own time, seconds.
const UEFI_ADDED_TARGET_S: f64 = 0.1;

/// One timed boot.
struct Sample {
    kind: &'static str,
    pair: usize,
    seconds: f64,
    load1: f64,
}

struct Summary {
    floor_median: f64,
    ingot_median: f64,
    ingot_min: f64,
}

impl Summary {
    fn of(samples: &[Sample]) -> Self {
        let times = |kind| samples.iter().filter(|s| s.kind == kind).map(|s| s.seconds).collect();
        let (floor, ingot): (Vec<f64>, Vec<f64>) = (times("floor"), times("ingot"));
        Self { floor_median: median(&floor), ingot_median: median(&ingot), ingot_min: min(&ingot) }
    }
}

fn pass(ok: bool) -> &'static str {
    if ok { "PASS" } else { "MISS" }
}

fn time_to_ready(config: &QemuConfig) -> Result<f64, String> {
    time_to_marker(config, "ingot: ready", Duration::from_secs(60))
}

/// Seconds from the line containing `first` to the line starting `ingot: ready`.
fn loader_to_ready(config: &QemuConfig, first: &str) -> Result<f64, String> {
    let mut qemu = Running::spawn(config)?;
    let deadline = qemu.started + Duration::from_secs(30);
    let mut loader = None;
    loop {
        match qemu.next_line(deadline) {
            Event::Line(at, line) if line.contains(first) => loader = Some(at),
            Event::Line(at, line) if line.starts_with("ingot: ready") => {
                qemu.kill();
                let start = loader.ok_or(format!("`ingot: ready` without a `{first}` line"))?;
                return Ok(at.duration_since(start).as_secs_f64());
            }
            Event::Line(..) => {}
            Event::Eof | Event::Timeout => {
                qemu.kill();
                return Err(format!("no `ingot: ready` line: {}", config.command_line()));
            }
        }
    }
}

fn flags(config: QemuConfig) -> QemuConfig {
    config.memory("256M").cores(4).extra_args(["-vga", "std"])
}

/// Runs both firmware pairs and writes `boot-disk.json` and the report section.
pub fn bench(options: &super::Options) -> Result<(), String> {
    let artifacts = crate::build::build_all()?;
    let started = unix_now();
    let (md, json) = bench_disk_boot(&artifacts, options.runs)?;
    let json = super::stats::to_json(
        &json!({"bench": "disk-boot", "started_unix": started, "firmwares": json}),
    );
    let path = super::write_output("boot-disk.json", json.as_bytes())?;
    super::write_report_section("disk-boot", &md)?;
    println!("wrote {}", path.display());
    Ok(())
}

/// Runs both firmware pairs; returns the markdown section and the JSON body.
fn bench_disk_boot(artifacts: &Artifacts, runs: usize) -> Result<(String, Value), String> {
    let out = output_dir();
    let image = out.join("bench-ingot.img");
    let options = ImageOptions { cmdline: String::new(), ..ImageOptions::for_tests() };
    write_image(artifacts, &options, &image)?;
    // BIOS floor: the same image, the floor boot sector in place of ours.
    let bios_floor_image = out.join("bench-bios-floor.img");
    let mut bytes = fs::read(&image).map_err(|e| format!("{}: {e}", image.display()))?;
    let floor = fs::read(&artifacts.bios_floor)
        .map_err(|e| format!("{}: {e}", artifacts.bios_floor.display()))?;
    bytes[..446].copy_from_slice(floor.get(..446).ok_or("BIOS floor shorter than 446 bytes")?);
    fs::write(&bios_floor_image, bytes)
        .map_err(|e| format!("{}: {e}", bios_floor_image.display()))?;
    // UEFI floor: the floor application as BOOTX64.EFI.
    let uefi_floor_image = out.join("bench-uefi-floor.img");
    let floor_artifacts =
        Artifacts { uefi_loader: Some(artifacts.uefi_floor.clone()), ..artifacts.clone() };
    write_image(&floor_artifacts, &options, &uefi_floor_image)?;

    let pairs = [
        (
            "bios",
            "ingot-bios: loading",
            flags(disk_boot(Machine::Q35, &bios_floor_image)),
            flags(disk_boot(Machine::Q35, &image)),
        ),
        (
            "uefi",
            "ingot-uefi: loading",
            flags(disk_boot(Machine::Q35, &uefi_floor_image)).extra_args(["-bios", OVMF]),
            flags(disk_boot(Machine::Q35, &image)).extra_args(["-bios", OVMF]),
        ),
    ];
    let mut md = format!(
        "## Disk-image boot time (`cargo xtask bench boot`)\n\n\
         `target/ingot/ingot.img` layout, `-M q35 -smp 4 -m 256M -vga std`, TCG; wall time from \
         spawning QEMU to the first serial line starting `ingot: ready`; {runs} pairs per firmware \
         (floor and ingot alternating, after one warm-up pair). The floor is the same image whose \
         loader only prints the marker: the firmware's own time.\n\n\
         | firmware | floor median | ingot median | ingot min | median paired difference | loader line → ready (median) | target | verdict |\n\
         |---|---|---|---|---|---|---|---|\n"
    );
    let mut json = Vec::new();
    for (firmware, first_line, floor, ingot) in &pairs {
        eprintln!("bench boot: disk image, {firmware}: 1 warm-up pair + {runs} measured pairs");
        time_to_ready(floor).map_err(|e| format!("bench boot: {firmware} floor warm-up: {e}"))?;
        time_to_ready(ingot).map_err(|e| format!("bench boot: {firmware} ingot warm-up: {e}"))?;
        let mut samples = Vec::new();
        let mut intervals = Vec::new();
        for pair in 0..runs {
            intervals.push(
                loader_to_ready(ingot, first_line)
                    .map_err(|e| format!("bench boot: {firmware} interval run {pair}: {e}"))?,
            );
            for (kind, config) in [("floor", floor), ("ingot", ingot)] {
                let load1 = load1();
                let seconds = time_to_ready(config)
                    .map_err(|e| format!("bench boot: {firmware} {kind} run {pair}: {e}"))?;
                samples.push(Sample { kind, pair, seconds, load1 });
            }
        }
        let summary = Summary::of(&samples);
        let times = |kind: &str| {
            samples.iter().filter(move |s| s.kind == kind).map(|s| s.seconds).collect::<Vec<_>>()
        };
        let differences: Vec<f64> =
            times("floor").iter().zip(times("ingot")).map(|(f, i)| i - f).collect();
        let difference = median(&differences);
        let interval = median(&intervals);
        let (target, ok) = match *firmware {
            "bios" => (
                format!("ingot median < {BIOS_REFERENCE_S} s (reference)"),
                summary.ingot_median < BIOS_REFERENCE_S,
            ),
            _ => (
                format!("loader line → ready < {UEFI_ADDED_TARGET_S} s"),
                interval < UEFI_ADDED_TARGET_S,
            ),
        };
        let ms = |s: f64| format!("{:.1} ms", s * 1000.0);
        println!(
            "disk {firmware:<5} floor med {:>9}  ingot med {:>9}  ingot min {:>9}  added {:>9}  loader→ready {:>8}  {target}: {}",
            ms(summary.floor_median),
            ms(summary.ingot_median),
            ms(summary.ingot_min),
            ms(difference),
            ms(interval),
            pass(ok)
        );
        let _ = writeln!(
            md,
            "| {firmware} | {} | {} | {} | {} | {} | {target} | {} |",
            ms(summary.floor_median),
            ms(summary.ingot_median),
            ms(summary.ingot_min),
            ms(difference),
            ms(interval),
            pass(ok)
        );
        let runs_json: Vec<Value> = samples
            .iter()
            .map(
                |r| json!({"pair": r.pair, "kind": r.kind, "seconds": r.seconds, "load1": r.load1}),
            )
            .collect();
        json.push(json!({
            "firmware": firmware,
            "floor_median_s": summary.floor_median,
            "ingot_median_s": summary.ingot_median,
            "ingot_min_s": summary.ingot_min,
            "paired_difference_median_s": difference,
            "loader_to_ready_median_s": interval,
            "loader_to_ready_s": intervals,
            "within_target": ok,
            "runs": runs_json,
        }));
    }
    Ok((md, Value::Array(json)))
}
