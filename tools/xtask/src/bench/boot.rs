//! `cargo xtask bench boot`: Ingot's boot beside the Linux peer's, in wall time and in
//! exact guest instructions.
//!
//! Guests, all under the same QEMU flags per machine ([`crate::qemu::QemuConfig`]:
//! `-m 128M -smp 1 -nodefaults …`): the floor (an empty kernel, same boot stub), Ingot
//! (`kernel.elf`), Linux as a PVH ELF (`vmlinux`) and Linux as Debian ships it (bzImage).
//! Wall time: one discarded warm-up round, then `--runs` rounds in a fixed interleaved
//! order (floor, Ingot, Linux PVH, Linux bzImage, floor, …), so host noise hits all
//! alike; reported as min/median/max, the median of the per-round ratios and the ratio
//! of the mins. Instructions: each guest twice under `-icount` at one core with the
//! counting plugin; the floor's count (firmware + QEMU's loaders) is subtracted. On pc
//! and q35 the floor and Ingot also boot with four cores (wall and count), for the
//! multi-core target.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use super::chart::{self, Bar};
use super::measure::{self, count_instructions, counted, time_to_marker};
use super::peer::{self, Peer};
use super::stats::{self, load1, median, min, thousands, unix_now};
use super::{Options, write_output, write_report_section};
use crate::build::Artifacts;
use crate::qemu::{Machine, QemuConfig};

const INGOT_READY: &str = "ingot: ready";
/// Machines the comparison runs on. On microvm only the floor and Ingot: Debian's
/// kernel boots there but its userspace console output stalls (seen with `quiet`:
/// nothing within 60 s), so the peer never reports ready.
const MACHINES: [Machine; 3] = [Machine::Pc, Machine::Q35, Machine::Microvm];

/// On microvm both guests boot with a virtio-mmio disk and NIC attached (QEMU puts
/// the first `-device` on its last transport, the second below it); Ingot is told
/// where they are, so its ready line comes after both were found and started.
fn microvm_devices(config: QemuConfig) -> QemuConfig {
    let image = crate::build::output_dir().join("disks").join("bench-boot-microvm.img");
    let made = std::fs::create_dir_all(image.parent().unwrap_or(&image))
        .and_then(|()| std::fs::File::create(&image))
        .and_then(|file| file.set_len(8 << 20));
    if let Err(error) = made {
        eprintln!("cannot create {}: {error}", image.display());
    }
    config.extra_args([
        "-drive".to_string(),
        format!("file={},format=raw,if=none,id=d0", image.display()),
        "-device".into(),
        "virtio-blk-device,drive=d0".into(),
        "-netdev".into(),
        "user,id=n0,restrict=on".into(),
        "-device".into(),
        "virtio-net-device,netdev=n0".into(),
    ])
}

/// Ingot's command-line entries for [`microvm_devices`].
const MICROVM_ENTRIES: &str =
    "virtio_mmio.device=512@0xfeb02e00:47 virtio_mmio.device=512@0xfeb02c00:46";
const ICOUNT_RUNS: usize = 2;
/// Cores of the multi-core rows (floor and Ingot only, on pc and q35).
const MANY_CORES: u32 = 4;

/// The floor and Ingot again at [`MANY_CORES`] cores (keys `floor_4`, `ingot_4`), for
/// the multi-core targets: Ingot starts its other cores before ready.
fn many_core_guests(machine: Machine, one_core: &[Guest]) -> Vec<Guest> {
    if machine == Machine::Microvm {
        return Vec::new();
    }
    one_core
        .iter()
        .filter_map(|g| {
            let (key, label) = match g.key {
                "floor" => ("floor_4", "floor, 4 cores"),
                "ingot" => ("ingot_4", "Ingot, 4 cores"),
                _ => return None,
            };
            let config = g.config.clone().cores(MANY_CORES);
            Some(Guest { key, label, config, marker: g.marker, timeout: g.timeout })
        })
        .collect()
}

/// The floor row a guest's count is taken above: the floor with as many cores.
fn floor_of(key: &str) -> &'static str {
    if key.ends_with("_4") { "floor_4" } else { "floor" }
}

/// One guest to boot: a key for JSON, a label for humans, its config and ready marker.
pub struct Guest {
    pub key: &'static str,
    pub label: &'static str,
    pub config: QemuConfig,
    pub marker: &'static str,
    pub timeout: Duration,
}

/// The four guests on `machine`; `ingot_append` is Ingot's command line (the floor has none).
pub fn guests(
    machine: Machine,
    artifacts: &Artifacts,
    peer: &Peer,
    ingot_append: Option<&str>,
) -> Vec<Guest> {
    let mut base = QemuConfig::new(machine);
    let mut ingot_append = ingot_append.map(String::from);
    if machine == Machine::Microvm {
        base = microvm_devices(base);
        ingot_append = Some(match ingot_append {
            Some(append) => format!("{append} {MICROVM_ENTRIES}"),
            None => MICROVM_ENTRIES.to_string(),
        });
    }
    let linux = |kernel: &std::path::Path| {
        base.clone().kernel(kernel).initrd(&peer.initramfs).append(peer::BOOT_APPEND)
    };
    let mut ingot = base.clone().kernel(&artifacts.kernel);
    if let Some(append) = ingot_append {
        ingot = ingot.append(append);
    }
    let guest = |key, label, config, marker, secs| Guest {
        key,
        label,
        config,
        marker,
        timeout: Duration::from_secs(secs),
    };
    let mut all = vec![
        guest("floor", "floor", base.clone().kernel(&artifacts.floor), INGOT_READY, 20),
        guest("ingot", "Ingot", ingot, INGOT_READY, 20),
    ];
    if machine != Machine::Microvm {
        all.push(guest("linux_pvh", "Linux PVH", linux(&peer.vmlinux), peer::READY, 90));
        all.push(guest("linux_bzimage", "Linux bzImage", linux(&peer.vmlinuz), peer::READY, 120));
    }
    all
}

/// One wall-clock boot.
struct Sample {
    round: usize,
    seconds: f64,
    load1: f64,
    unix_time: f64,
}

/// One guest's results on one machine.
struct Row {
    /// The guest as booted for wall time.
    guest: Guest,
    samples: Vec<Sample>,
    /// Instruction counts, one per counting run.
    counts: Vec<u64>,
    /// QEMU arguments of the counting runs.
    counting_args: Vec<String>,
}

/// Per-machine results, one row per guest.
struct MachineResult {
    machine: Machine,
    rows: Vec<Row>,
}

impl MachineResult {
    fn times(&self, key: &str) -> Vec<f64> {
        self.rows
            .iter()
            .find(|r| r.guest.key == key)
            .map_or(Vec::new(), |r| r.samples.iter().map(|s| s.seconds).collect())
    }

    /// Instructions above the floor (first run of each; runs are identical when exact).
    fn above_floor(&self, key: &str) -> f64 {
        let first = |k: &str| {
            self.rows.iter().find(|r| r.guest.key == k).and_then(|r| r.counts.first().copied())
        };
        match (first(key), first(floor_of(key))) {
            (Some(n), Some(f)) => n.saturating_sub(f) as f64,
            _ => f64::NAN,
        }
    }
}

/// `83 (4.7), 91 (4.6), …`: each wall run in ms with the 1-minute load average.
fn every_run(r: &MachineResult, key: &str) -> String {
    let Some(row) = r.rows.iter().find(|row| row.guest.key == key) else { return String::new() };
    let runs: Vec<String> =
        row.samples.iter().map(|s| format!("{:.0} ({:.1})", s.seconds * 1000.0, s.load1)).collect();
    runs.join(", ")
}

pub fn bench_boot(options: &Options) -> Result<(), String> {
    let artifacts = crate::build::build_all()?;
    let peer = peer::prepare()?;
    let plugin = measure::plugin()?;
    let started = unix_now();
    let mut results = Vec::new();
    for machine in MACHINES {
        let mut wall_guests = guests(machine, &artifacts, &peer, None);
        wall_guests.extend(many_core_guests(machine, &wall_guests));
        eprintln!("bench boot: {machine}: warm-up round, then {} timed rounds", options.runs);
        for g in &wall_guests {
            time_to_marker(&g.config, g.marker, g.timeout)
                .map_err(|e| format!("{machine} {} warm-up: {e}", g.key))?;
        }
        let mut samples: Vec<Vec<Sample>> = wall_guests.iter().map(|_| Vec::new()).collect();
        for round in 0..options.runs {
            for (g, out) in wall_guests.iter().zip(&mut samples) {
                let (load1, unix_time) = (load1(), unix_now());
                let seconds = time_to_marker(&g.config, g.marker, g.timeout)
                    .map_err(|e| format!("{machine} {} round {round}: {e}", g.key))?;
                out.push(Sample { round, seconds, load1, unix_time });
            }
        }
        // Counting runs: Ingot ends QEMU after ready with `exit=qemu`; the floor and the
        // peer (peer=boot) always do.
        let mut counted_guests = guests(machine, &artifacts, &peer, Some("exit=qemu"));
        counted_guests.extend(many_core_guests(machine, &counted_guests));
        let mut rows = Vec::new();
        for ((guest, samples), g) in wall_guests.into_iter().zip(samples).zip(&counted_guests) {
            // `counted` runs one core; the many-core rows keep theirs (icount runs the
            // vCPUs in turn on one thread, so the count stays exact).
            let config = counted(&g.config, &plugin).cores(g.config.cores);
            let mut counts = Vec::new();
            for _ in 0..ICOUNT_RUNS {
                eprintln!("bench boot: {machine}: counting {}", g.key);
                counts.push(
                    count_instructions(&config, g.marker, g.timeout * 3)
                        .map_err(|e| format!("{machine} {} icount: {e}", g.key))?,
                );
            }
            rows.push(Row { guest, samples, counts, counting_args: config.args() });
        }
        results.push(MachineResult { machine, rows });
    }
    let finished = unix_now();
    let md = report(&results, options, started, &peer)?;
    write_report_section("boot", &md)?;
    let json = write_output("boot.json", to_json(&results, started, finished, &peer).as_bytes())?;
    println!("wrote {}", json.display());
    Ok(())
}

fn report(
    results: &[MachineResult],
    options: &Options,
    started: f64,
    peer: &Peer,
) -> Result<String, String> {
    let ms = |s: f64| format!("{:.1} ms", s * 1000.0);
    let mut md = format!(
        "## Boot (`cargo xtask bench boot`)\n\n\
         Measured {} (load average {:.2} at start). Linux peer: Debian `linux-image-{}` \
         with a busybox initramfs whose `/init` prints `{}` first. Ingot boots Multiboot \
         (`kernel.elf`), the floor likewise; Linux boots as PVH (`vmlinux`) and as the \
         shipped bzImage (`vmlinuz`). Every guest gets the same machine flags; only \
         `-kernel`, `-initrd` and `-append` differ (flags below, per-run numbers and load in \
         `boot.json`).\n\n\
         ### Wall time, QEMU spawn → ready line ({} interleaved rounds after a warm-up)\n\n\
         | machine | guest | min | median | max | Ingot ÷ guest, median of paired ratios | Ingot ÷ guest, ratio of mins | guest ÷ Ingot, median of paired ratios | every run (ms), load average |\n\
         |---|---|---|---|---|---|---|---|---|\n",
        stats::utc_string(started),
        results
            .first()
            .and_then(|r| r.rows.first())
            .and_then(|row| row.samples.first())
            .map_or(f64::NAN, |s| s.load1),
        peer.release,
        peer::READY,
        options.runs,
    );
    let mut wall_bars = Vec::new();
    let mut insn_bars = Vec::new();
    for r in results {
        let ingot = r.times("ingot");
        for g in r.rows.iter().map(|row| &row.guest) {
            let t = r.times(g.key);
            let paired = median(&stats::ratios(&ingot, &t));
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {:.3}× | {:.3}× | {:.1}× | {} |",
                r.machine,
                g.label,
                ms(min(&t)),
                ms(median(&t)),
                ms(stats::max(&t)),
                paired,
                min(&ingot) / min(&t),
                median(&stats::ratios(&t, &ingot)),
                every_run(r, g.key),
            );
            wall_bars.push(Bar {
                group: r.machine.name().to_string(),
                series: g.label.to_string(),
                value: median(&t),
            });
        }
    }
    md.push_str(
        "\n### Guest instructions, reset → ready (exact: `-icount shift=0,align=off,sleep=off \
         -rtc clock=vm,…`, one core, counting plugin `tools/qemu-plugins/insncount.c`)\n\n\
         Above floor = the guest's count minus the floor's on the same machine (firmware and \
         QEMU's loaders cost the same for both). Ingot runs with `exit=qemu` here so that QEMU \
         ends right after ready.\n\n\
         | machine | guest | runs (total instructions) | above floor | Ingot ÷ guest (above floor) | guest ÷ Ingot (above floor) |\n\
         |---|---|---|---|---|---|\n",
    );
    for r in results {
        for Row { guest: g, counts, .. } in &r.rows {
            let runs: Vec<String> = counts.iter().map(|&c| thousands(c)).collect();
            let above = r.above_floor(g.key);
            let is_floor = g.key.starts_with("floor");
            let ratio = if is_floor {
                "— | —".to_string()
            } else {
                let ingot = r.above_floor("ingot");
                format!("{} | {:.0}×", stats::ratio(ingot / above), above / ingot)
            };
            let above_text = if is_floor { "—".to_string() } else { thousands(above as u64) };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {above_text} | {ratio} |",
                r.machine,
                g.label,
                runs.join(" / ")
            );
            if !is_floor {
                insn_bars.push(Bar {
                    group: r.machine.name().to_string(),
                    series: g.label.to_string(),
                    value: above,
                });
            }
        }
    }
    md.push_str(&targets(results));
    chart::bars(
        "boot-wall.png",
        "Boot wall time to ready (median, log scale)",
        "wall time",
        chart::Scale::Log,
        chart::seconds,
        &wall_bars,
    )?;
    chart::bars(
        "boot-instructions.png",
        "Guest instructions to ready, above floor (log scale)",
        "instructions",
        chart::Scale::Log,
        chart::count,
        &insn_bars,
    )?;
    md.push_str("\n![wall time](boot-wall.png) ![instructions](boot-instructions.png)\n\n### QEMU command lines (wall runs; the counting runs add the icount flags and `-plugin`)\n\n```\n");
    for r in results {
        for row in &r.rows {
            let _ = writeln!(md, "{}", row.guest.config.command_line());
        }
    }
    md.push_str("```\n");
    Ok(md)
}

/// Ingot against its floor at 1 and [`MANY_CORES`] cores: the boot targets' figures.
fn targets(results: &[MachineResult]) -> String {
    let mut md = String::from(
        "\n### Ingot against the floor (targets: wall ≤ 1.05× on one core, ≤ 1.10× on four; \
         ≤ 2 M instructions above the floor)\n\n\
         | machine | cores | wall, median of paired ratios Ingot ÷ floor | instructions above the floor |\n\
         |---|---|---|---|\n",
    );
    for r in results.iter().filter(|r| r.rows.iter().any(|row| row.guest.key == "ingot_4")) {
        for (cores, ingot, floor) in [(1, "ingot", "floor"), (MANY_CORES, "ingot_4", "floor_4")] {
            let ratio = median(&stats::ratios(&r.times(ingot), &r.times(floor)));
            let above = thousands(r.above_floor(ingot) as u64);
            let _ = writeln!(md, "| {} | {cores} | {ratio:.3}× | {above} |", r.machine);
        }
    }
    md
}

fn to_json(results: &[MachineResult], started: f64, finished: f64, peer: &Peer) -> String {
    let machines: Vec<Value> = results
        .iter()
        .map(|r| {
            let guests: Vec<Value> = r
                .rows
                .iter()
                .map(|Row { guest: g, samples, counts, counting_args }| {
                    let runs: Vec<Value> = samples
                        .iter()
                        .map(|s| {
                            json!({"round": s.round, "seconds": s.seconds, "load1": s.load1,
                                   "unix_time": s.unix_time})
                        })
                        .collect();
                    json!({
                        "guest": g.key,
                        "ready_marker": g.marker,
                        "qemu_args_wall": g.config.args(),
                        "qemu_args_counting": counting_args,
                        "wall_runs": runs,
                        "instructions": counts,
                        "instructions_above_floor": r.above_floor(g.key),
                    })
                })
                .collect();
            json!({"machine": r.machine.name(), "guests": guests})
        })
        .collect();
    stats::to_json(&json!({
        "bench": "boot",
        "started_unix": started,
        "finished_unix": finished,
        "accel": "tcg",
        "linux_release": peer.release,
        "icount_args": measure::ICOUNT_ARGS,
        "machines": machines,
    }))
}
