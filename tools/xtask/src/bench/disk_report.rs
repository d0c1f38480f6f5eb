//! Output of `cargo xtask bench disk` ([`super::disk`]): `disk.json` (every run with its
//! phases, host load and QEMU flags), the `disk` section of `report.md` (medians and
//! Ingot ÷ Linux ratios per controller) and two PNG charts.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::chart::{self, Bar};
use super::disk::{CONTROLLERS, LINUX_APPEND, Phase, rates};
use super::disk_parallel::{PARALLEL, ParallelRun};
use super::peer::Peer;
use super::stats::{max, median, min, ratios, thousands, to_json as to_json_text, utc_string};
use super::{write_output, write_report_section};
use crate::qemu::QemuConfig;

/// Metric names, in the order of [`rates`].
const METRICS: [(&str, &str); 4] = [
    ("seq_write_mb_s", "seq write MB/s"),
    ("seq_read_mb_s", "seq read MB/s"),
    ("rand_read_4k_iops", "4 KiB random-read IOPS"),
    ("rand_read_4k_qd32_iops", "4 KiB random-read IOPS, 32 in flight"),
];

/// One guest's run on one controller.
pub struct Run {
    pub round: usize,
    pub controller: &'static str,
    pub guest: &'static str,
    pub phases: [Phase; 4],
    /// Transfers that went through a kernel bounce buffer (Ingot only).
    pub bounced: Option<u64>,
    pub load1: f64,
    pub config: QemuConfig,
}

/// Per controller and metric: Ingot's and Linux's per-round values (round order).
fn series(runs: &[Run], controller: &str, guest: &str, metric: usize) -> Vec<f64> {
    let mut chosen: Vec<&Run> =
        runs.iter().filter(|r| r.controller == controller && r.guest == guest).collect();
    chosen.sort_by_key(|r| r.round);
    chosen.iter().map(|r| rates(&r.phases)[metric]).collect()
}

/// Chart labels: whole numbers with thousands separators (MB/s and IOPS need no more).
fn whole(value: f64) -> String {
    thousands(value.round().max(0.0) as u64)
}

/// Writes `disk.json`, the report section and the charts.
pub fn write(
    runs: &[Run],
    parallel: &[ParallelRun],
    started: f64,
    finished: f64,
    peer: &Peer,
) -> Result<(), String> {
    let text = to_json(runs, parallel, started, finished, peer);
    let json = write_output("disk.json", text.as_bytes())?;
    let mut throughput = Vec::new();
    let mut iops = Vec::new();
    for (controller, _, _) in CONTROLLERS {
        for guest in ["Ingot", "Linux"] {
            for (metric, short) in [(0, "write"), (1, "read")] {
                let value = median(&series(runs, controller, guest, metric));
                let group = format!("{controller} {short}");
                throughput.push(Bar { group, series: guest.to_string(), value });
            }
            for (metric, depth) in [(2, "qd1"), (3, "qd32")] {
                let value = median(&series(runs, controller, guest, metric));
                let group = format!("{controller} {depth}");
                iops.push(Bar { group, series: guest.to_string(), value });
            }
        }
    }
    chart::bars(
        "disk-throughput.png",
        "Sequential 1 MiB requests, median MB/s (Linux: O_DIRECT)",
        "MB/s",
        chart::Scale::Linear,
        whole,
        &throughput,
    )?;
    chart::bars(
        "disk-iops.png",
        "4 KiB random reads, 1 and 32 in flight, median IOPS (Linux: O_DIRECT, AIO)",
        "IOPS",
        chart::Scale::Linear,
        whole,
        &iops,
    )?;
    let mut md = markdown(runs, started, peer);
    md.push_str(&parallel_markdown(parallel));
    write_report_section("disk", &md)?;
    println!("wrote {}", json.display());
    Ok(())
}

/// How many rounds `runs` spans.
fn rounds(runs: &[Run]) -> usize {
    runs.iter().map(|r| r.round + 1).max().unwrap_or(0)
}

fn markdown(runs: &[Run], started: f64, peer: &Peer) -> String {
    let rounds = rounds(runs);
    let loads: Vec<f64> = runs.iter().map(|r| r.load1).filter(|l| l.is_finite()).collect();
    let mut md = String::new();
    let _ = writeln!(
        md,
        "## Disk: sequential MB/s and random IOPS per controller, beside Linux with O_DIRECT\n\n\
         `cargo xtask bench disk`, {}, {rounds} interleaved rounds (each: every controller, \
         Ingot then Linux, fresh 64 MiB image per run); host load average {:.2}–{:.2}. \
         Linux peer: Debian `linux-image-{}` (PVH `vmlinux`), `{LINUX_APPEND}`. \
         Ratios are Ingot ÷ Linux (above 1: Ingot faster): the median of the per-round \
         ratios, with their range.\n",
        utc_string(started),
        min(&loads),
        max(&loads),
        peer.release
    );
    md.push_str(
        "| Controller | metric | Ingot (median) | Linux (median) | Ingot ÷ Linux | range |\n",
    );
    md.push_str("|---|---|---|---|---|---|\n");
    for (controller, _, _) in CONTROLLERS {
        for (metric, (_, label)) in METRICS.iter().enumerate() {
            let ingot = series(runs, controller, "Ingot", metric);
            let linux = series(runs, controller, "Linux", metric);
            let r = ratios(&ingot, &linux);
            if linux.is_empty() {
                let _ = writeln!(
                    md,
                    "| {controller} | {label} | {:.0} | — (no peer on this machine) | — | — |",
                    median(&ingot)
                );
                continue;
            }
            let _ = writeln!(
                md,
                "| {controller} | {label} | {:.0} | {:.0} | **{:.2}** | {:.2}–{:.2} |",
                median(&ingot),
                median(&linux),
                median(&r),
                min(&r),
                max(&r)
            );
        }
    }
    let counts: Vec<String> = runs
        .iter()
        .filter(|r| r.guest == "Ingot")
        .map(|r| format!("{} {}", r.controller, r.bounced.map_or("?".into(), |n| n.to_string())))
        .collect();
    let _ = writeln!(
        md,
        "\nIngot's bounce-buffer count per run (`DiskInfo::bounced` after all phases; 0 = \
         every transfer by DMA straight to the program's buffer): {}.",
        counts.join(", ")
    );
    md.push_str("\n![throughput](disk-throughput.png) ![iops](disk-iops.png)\n\nQEMU command lines (image path varies):\n\n```\n");
    for run in runs.iter().filter(|r| r.round == 0) {
        let _ = writeln!(md, "{}", run.config.command_line());
    }
    md.push_str("```\n");
    md
}

/// Per parallel config: Ingot's and Linux's per-round MB/s (round order).
fn parallel_series(runs: &[ParallelRun], name: &str, guest: &str) -> Vec<f64> {
    let mut chosen: Vec<&ParallelRun> =
        runs.iter().filter(|r| r.name == name && r.guest == guest).collect();
    chosen.sort_by_key(|r| r.round);
    chosen.iter().map(|r| r.rate()).collect()
}

fn parallel_markdown(runs: &[ParallelRun]) -> String {
    let mut md = String::from(
        "\n### Parallel sequential reads: N cores\n\n\
         Each core reads 32 MiB in 1 MiB requests, all at once: on `virtio-blk xN` its own \
         virtio-blk disk's first 32 MiB, on `nvme 1 disk, N cores` its own 32 MiB of one \
         NVMe namespace (Ingot: `run_on_core`, each core on its own lane and queue pair; \
         Linux: one O_DIRECT reader process per core, pinned to a CPU); MB/s over all \
         readers, host-timed.\n\n\
         | Config | Ingot MB/s (median) | Linux MB/s (median) | Ingot ÷ Linux | range |\n\
         |---|---|---|---|---|\n",
    );
    for (name, _, _) in PARALLEL {
        let ingot = parallel_series(runs, name, "Ingot");
        let linux = parallel_series(runs, name, "Linux");
        let r = ratios(&ingot, &linux);
        let _ = writeln!(
            md,
            "| {name} | {:.0} | {:.0} | **{:.2}** | {:.2}–{:.2} |",
            median(&ingot),
            median(&linux),
            median(&r),
            min(&r),
            max(&r)
        );
    }
    md
}

fn to_json(
    runs: &[Run],
    parallel: &[ParallelRun],
    started: f64,
    finished: f64,
    peer: &Peer,
) -> String {
    let mut summary = Vec::new();
    for (controller, _, _) in CONTROLLERS {
        for (metric, (key, _)) in METRICS.iter().enumerate() {
            let ingot = series(runs, controller, "Ingot", metric);
            let linux = series(runs, controller, "Linux", metric);
            summary.push(json!({
                "controller": controller,
                "metric": key,
                "ingot_median": median(&ingot),
                "linux_median": median(&linux),
                "ratio_median": median(&ratios(&ingot, &linux)),
            }));
        }
    }
    let runs_json: Vec<Value> = runs
        .iter()
        .map(|r| {
            let phases: Vec<Value> = r
                .phases
                .iter()
                .map(|p| json!({"seconds": p.seconds, "amount": p.amount, "guest_ns": p.guest_ns}))
                .collect();
            let [w, rd, io, io_32] = rates(&r.phases);
            json!({
                "round": r.round,
                "controller": r.controller,
                "guest": r.guest,
                "load1": r.load1,
                "seq_write_mb_s": w,
                "seq_read_mb_s": rd,
                "rand_read_4k_iops": io,
                "rand_read_4k_qd32_iops": io_32,
                "bounced": r.bounced,
                "phases": phases,
                "qemu_args": r.config.args(),
            })
        })
        .collect();
    to_json_text(&json!({
        "benchmark": "disk",
        "started_unix": started,
        "finished_unix": finished,
        "rounds": rounds(runs),
        "linux_peer": {"release": peer.release, "append": LINUX_APPEND, "io": "O_DIRECT; Linux AIO at depth 32"},
        "timing": "host: arrival of the start and done serial lines of each phase",
        "summary": summary,
        "runs": runs_json,
        "parallel": parallel
            .iter()
            .map(|r| json!({
                "round": r.round,
                "config": r.name,
                "guest": r.guest,
                "load1": r.load1,
                "read_mb_s": r.rate(),
                "seconds": r.phase.seconds,
                "bytes": r.phase.amount,
                "guest_ns": r.phase.guest_ns,
                "qemu_args": r.config.args(),
            }))
            .collect::<Vec<Value>>(),
    }))
}

/// `bench disk --instructions-only`: the instructions per read alone, in their own
/// report section (`disk-instructions`) and `disk-instructions.json`, leaving the last
/// full run's `disk` section and `disk.json` as they were.
pub fn instructions_only(
    measured: &[super::disk_icount::PerRead],
    load_before: f64,
    load_after: f64,
) -> Result<(), String> {
    let mut md = String::from(
        "## Disk: instructions per 4 KiB read (`cargo xtask bench disk --instructions-only`)\n",
    );
    md.push_str(&super::disk_icount::markdown(measured));
    let _ = writeln!(
        md,
        "\nInstruction counts are exact (host load (1 min) {load_before:.2} before, {load_after:.2} after, which does not change them)."
    );
    let json = format!(
        "{{\"bench\":\"disk-instructions\",\"load_before\":{load_before},\"load_after\":{load_after},\"instructions_per_read\":{}}}\n",
        super::disk_icount::json(measured)
    );
    write_output("disk-instructions.json", json.as_bytes())?;
    write_report_section("disk-instructions", &md)?;
    println!("{md}");
    Ok(())
}
