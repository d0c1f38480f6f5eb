//! `cargo xtask bench smp`: the shared work queue on 1, 2 and 4 cores beside a pthread
//! pool on the Linux peer, under identical QEMU flags (`-M q35 -m 256M -smp N`, TCG,
//! QEMU's default CPU model).
//!
//! Ingot runs `apps/smp-bench`; Linux (the peer's PVH `vmlinux`, `peer=smp`) runs
//! `tools/bench-peer/smp_bench.c`, which mirrors the program's queue, workload and
//! printed lines. Both report submit-to-start latency (median and p99 of 2000 samples,
//! in TSC cycles: the host's TSC as QEMU passes it through, the same clock for both)
//! and throughput (tasks per second) of 20,000 empty tasks and 2,000 10 µs busy tasks.
//! Rounds interleave the guests (Ingot 1, Linux 1, Ingot 2, …) so host noise hits
//! both alike; each number is the median over rounds, each round records the host's
//! 1-minute load. Ratios: Linux latency / Ingot latency and Ingot throughput / Linux
//! throughput, so above 1 means Ingot is better. Then each guest runs once more on one
//! core under `-icount shift=0` (one TSC cycle per guest instruction): its cycle
//! figures become exact instruction counts per task, independent of the host's load.
//! Output: `smp.json`, `smp.png` (the scaling curves) and the `smp` section of
//! `report.md`.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::chart::{self, Curve, Panel};
use super::stats::{load1, median, unix_now, utc_string};
use super::{Options, write_output, write_report_section};
use super::{measure, peer};
use crate::build::build_all;
use crate::harness::{Event, Running};
use crate::qemu::{Machine, QemuConfig};

const CORES: [u32; 3] = [1, 2, 4];
const MEMORY: &str = "256M";
const RUN_TIMEOUT: Duration = Duration::from_secs(180);
const PREFIX: &str = "smp-bench: ";
/// Guests: JSON key and label.
const GUESTS: [(&str, &str); 2] = [("ingot", "Ingot"), ("linux", "Linux")];

/// What one run printed.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RunResult {
    pub cores: u64,
    pub latency_median: f64,
    pub latency_p99: f64,
    /// Tasks per second, empty tasks.
    pub empty_per_s: f64,
    /// Tasks per second, 10 µs tasks.
    pub busy_per_s: f64,
    /// TSC cycles the empty tasks took, all together (under `-icount shift=0` one
    /// cycle is one guest instruction).
    pub empty_cycles: f64,
    /// How many empty tasks that was.
    pub empty_tasks: f64,
}

/// The `key=value` words of a line.
fn fields(rest: &str) -> impl Iterator<Item = (&str, &str)> {
    rest.split_whitespace().filter_map(|w| w.split_once('='))
}

fn field(rest: &str, key: &str) -> Result<f64, String> {
    fields(rest)
        .find(|(k, _)| *k == key)
        .ok_or(format!("no `{key}=` in `{rest}`"))?
        .1
        .parse()
        .map_err(|_| format!("`{key}=` is not a number in `{rest}`"))
}

/// Folds one serial line into `result`; `Ok(true)` once the run is complete
/// (`smp-bench: done`), an error for a failed step or a malformed line.
pub fn parse_line(line: &str, result: &mut RunResult) -> Result<bool, String> {
    let Some(rest) = line.trim().strip_prefix(PREFIX) else { return Ok(false) };
    if let Some(rest) = rest.strip_prefix("latency ") {
        result.cores = field(rest, "cores")? as u64;
        result.latency_median = field(rest, "median")?;
        result.latency_p99 = field(rest, "p99")?;
    } else if let Some(rest) = rest.strip_prefix("throughput ") {
        let (tasks, ns) = (field(rest, "tasks")?, field(rest, "ns")?);
        if ns <= 0.0 {
            return Err(format!("zero duration in `{line}`"));
        }
        let per_s = tasks / (ns / 1e9);
        match fields(rest).find(|(k, _)| *k == "kind").map(|(_, v)| v) {
            Some("empty") => {
                result.empty_per_s = per_s;
                result.empty_cycles = field(rest, "cycles")?;
                result.empty_tasks = tasks;
            }
            Some("10us") => result.busy_per_s = per_s,
            _ => return Err(format!("unknown throughput kind in `{line}`")),
        }
    } else if rest == "done" {
        let complete = result.cores > 0 && result.empty_per_s > 0.0 && result.busy_per_s > 0.0;
        return if complete { Ok(true) } else { Err("`done` before every result".to_string()) };
    } else if rest.contains("failed") || rest.contains(" of ") {
        return Err(format!("guest reported: {line}"));
    }
    Ok(false)
}

/// One measured run.
struct Sample {
    round: usize,
    result: RunResult,
    load1: f64,
    unix_time: f64,
}

fn run_guest(config: &QemuConfig) -> Result<RunResult, String> {
    let mut qemu = Running::spawn(config)?;
    let deadline = Instant::now() + RUN_TIMEOUT;
    let mut result = RunResult::default();
    let mut tail = Vec::new();
    loop {
        match qemu.next_line(deadline) {
            Event::Line(_, line) => {
                let parsed = parse_line(&line, &mut result);
                tail.push(line);
                match parsed {
                    Ok(true) => break,
                    Ok(false) => {}
                    Err(e) => {
                        qemu.kill();
                        return Err(format!("{e}\n  command: {}", config.command_line()));
                    }
                }
            }
            Event::Eof | Event::Timeout => {
                let (_, stderr) = qemu.finish();
                let start = tail.len().saturating_sub(10);
                return Err(format!(
                    "no `smp-bench: done` (exited or timed out)\n  command: {}\n  serial tail:\n    {}\n  stderr: {}",
                    config.command_line(),
                    tail[start..].join("\n    "),
                    stderr.trim()
                ));
            }
        }
    }
    qemu.kill();
    Ok(result)
}

/// The medians over rounds of one guest at one core count.
fn medians(samples: &[Sample]) -> RunResult {
    let of = |f: fn(&RunResult) -> f64| {
        median(&samples.iter().map(|s| f(&s.result)).collect::<Vec<_>>())
    };
    RunResult {
        cores: samples.first().map_or(0, |s| s.result.cores),
        latency_median: of(|r| r.latency_median),
        latency_p99: of(|r| r.latency_p99),
        empty_per_s: of(|r| r.empty_per_s),
        busy_per_s: of(|r| r.busy_per_s),
        empty_cycles: of(|r| r.empty_cycles),
        empty_tasks: of(|r| r.empty_tasks),
    }
}

/// Ratios where above 1 means Ingot is better: latency Linux/Ingot, throughput Ingot/Linux.
fn ratios(ingot: &RunResult, linux: &RunResult) -> [f64; 4] {
    [
        linux.latency_median / ingot.latency_median,
        linux.latency_p99 / ingot.latency_p99,
        ingot.empty_per_s / linux.empty_per_s,
        ingot.busy_per_s / linux.busy_per_s,
    ]
}

pub fn bench_smp(options: &Options) -> Result<(), String> {
    let artifacts = build_all()?;
    let peer = peer::prepare()?;
    let config = |cores: u32, guest: &str| {
        let base = QemuConfig::new(Machine::Q35).memory(MEMORY).cores(cores);
        if guest == "ingot" {
            base.kernel(&artifacts.kernel)
                .initrd(artifacts.program("smp-bench"))
                .append("exit=qemu")
        } else {
            base.kernel(&peer.vmlinux).initrd(&peer.smp_initramfs).append(peer::SMP_APPEND)
        }
    };
    let rounds = options.runs;
    // samples[core index][guest index]
    let mut samples: Vec<[Vec<Sample>; 2]> =
        CORES.iter().map(|_| [Vec::new(), Vec::new()]).collect();
    for round in 0..rounds {
        for (c, &cores) in CORES.iter().enumerate() {
            for (g, (key, label)) in GUESTS.iter().enumerate() {
                let (load, unix_time) = (load1(), unix_now());
                let result = run_guest(&config(cores, key))
                    .map_err(|e| format!("{label} on {cores} cores: {e}"))?;
                if result.cores != u64::from(cores) {
                    return Err(format!(
                        "{label}: asked for {cores} cores, the guest saw {}",
                        result.cores
                    ));
                }
                eprintln!(
                    "  round {}/{rounds} {label:>5} cores={cores}: latency median {:.0} p99 {:.0} cycles, {:.0} empty/s, {:.0} 10us/s (load {load:.2})",
                    round + 1,
                    result.latency_median,
                    result.latency_p99,
                    result.empty_per_s,
                    result.busy_per_s
                );
                samples[c][g].push(Sample { round, result, load1: load, unix_time });
            }
        }
    }
    let exact = count_per_task(&config)?;
    let summary: Vec<(u32, RunResult, RunResult)> =
        CORES.iter().zip(&samples).map(|(&n, [i, l])| (n, medians(i), medians(l))).collect();
    let ingot_args = config(1, "ingot").args();
    let linux_args = config(1, "linux").args();
    let json = to_json(rounds, &samples, &summary, &exact, &ingot_args, &linux_args, &peer.release);
    let path = write_output("smp.json", json.as_bytes())?;
    draw(&summary)?;
    let mut md = report(rounds, &summary, &samples, &ingot_args, &linux_args);
    md.push_str(&exact_report(&exact));
    write_report_section("smp", &md)?;
    println!("wrote {} and smp.png", path.display());
    Ok(())
}

/// One core under `-icount shift=0` (one TSC cycle per guest instruction), per guest:
/// the run's results, whose cycle figures are exact instruction counts.
struct Exact {
    key: &'static str,
    label: &'static str,
    result: RunResult,
    args: Vec<String>,
}

impl Exact {
    /// Guest instructions per empty task (the program's submit loop and wait included).
    fn per_task(&self) -> f64 {
        self.result.empty_cycles / self.result.empty_tasks
    }
}

/// Runs each guest once on one core under the deterministic flags.
fn count_per_task(config: &dyn Fn(u32, &str) -> QemuConfig) -> Result<Vec<Exact>, String> {
    GUESTS
        .iter()
        .map(|&(key, label)| {
            let counted = config(1, key).extra_args(measure::ICOUNT_ARGS);
            eprintln!("  {label}: 1 core under -icount");
            let result = run_guest(&counted).map_err(|e| format!("{label} under -icount: {e}"))?;
            Ok(Exact { key, label, result, args: counted.args() })
        })
        .collect()
}

fn exact_report(exact: &[Exact]) -> String {
    let mut md = String::from(
        "\n### Exact, one core (`-icount shift=0,align=off,sleep=off`: one TSC cycle per guest \
         instruction)\n\n\
         | guest | instructions per empty task (submit loop and wait included) | submit + take, latency sample (instructions) |\n\
         |---|---|---|\n",
    );
    for e in exact {
        let _ =
            writeln!(md, "| {} | {:.1} | {:.0} |", e.label, e.per_task(), e.result.latency_median);
    }
    if let [ingot, linux] = exact {
        let _ = writeln!(
            md,
            "\nLinux ÷ Ingot, instructions per empty task: {:.2} (above 1: Ingot needs fewer).",
            linux.per_task() / ingot.per_task()
        );
    }
    md
}

/// Tasks per second for labels: 944107 → "944k", 2368000 → "2.37M".
fn rate(value: f64) -> String {
    match value {
        v if v >= 1e6 => format!("{:.2}M", v / 1e6),
        v if v >= 1e3 => format!("{:.0}k", v / 1e3),
        v => format!("{v:.0}"),
    }
}

fn result_json(r: &RunResult) -> Value {
    json!({
        "latency_median_cycles": r.latency_median,
        "latency_p99_cycles": r.latency_p99,
        "empty_tasks_per_s": r.empty_per_s,
        "busy_10us_tasks_per_s": r.busy_per_s,
    })
}

fn to_json(
    rounds: usize,
    samples: &[[Vec<Sample>; 2]],
    summary: &[(u32, RunResult, RunResult)],
    exact: &[Exact],
    ingot_args: &[String],
    linux_args: &[String],
    release: &str,
) -> String {
    let configs: Vec<Value> = summary
        .iter()
        .zip(samples)
        .map(|((cores, ingot, linux), per_guest)| {
            let r = ratios(ingot, linux);
            let runs: Vec<Value> = GUESTS
                .iter()
                .zip(per_guest)
                .flat_map(|((key, _), list)| {
                    list.iter().map(move |s| {
                        json!({"guest": key, "round": s.round, "load1": s.load1,
                               "unix_time": s.unix_time, "result": result_json(&s.result)})
                    })
                })
                .collect();
            json!({
                "cores": cores,
                "ingot": result_json(ingot),
                "linux": result_json(linux),
                "ratios": {"latency_median": r[0], "latency_p99": r[1],
                           "empty_throughput": r[2], "busy_10us_throughput": r[3]},
                "runs": runs,
            })
        })
        .collect();
    super::stats::to_json(&json!({
        "command": format!("cargo xtask bench smp --runs {rounds}"),
        "rounds": rounds,
        "linux_release": release,
        "qemu_args_ingot_1_core": ingot_args,
        "qemu_args_linux_1_core": linux_args,
        "ratio_meaning": "above 1 = Ingot better (latency: linux/ingot; throughput: ingot/linux)",
        "configs": configs,
        "exact_one_core": exact.iter().map(|e| json!({
            "guest": e.key,
            "instructions_per_empty_task": e.per_task(),
            "latency_median_instructions": e.result.latency_median,
            "qemu_args": e.args,
        })).collect::<Vec<_>>(),
    }))
}

fn draw(summary: &[(u32, RunResult, RunResult)]) -> Result<(), String> {
    let curve = |name: &str, guest: usize, f: fn(&RunResult) -> f64| Curve {
        name: name.to_string(),
        points: summary
            .iter()
            .map(|(n, i, l)| (f64::from(*n), f(if guest == 0 { i } else { l })))
            .collect(),
    };
    let panel = |title: &str, f: fn(&RunResult) -> f64| Panel {
        title: title.to_string(),
        x_desc: "cores (-smp)".to_string(),
        y_desc: "tasks per second".to_string(),
        curves: vec![curve("Ingot", 0, f), curve("Linux", 1, f)],
    };
    chart::line_panels(
        "smp.png",
        "Work-queue throughput vs cores (QEMU TCG, q35; median of rounds)",
        rate,
        &[panel("empty tasks", |r| r.empty_per_s), panel("10 µs tasks", |r| r.busy_per_s)],
    )
}

fn report(
    rounds: usize,
    summary: &[(u32, RunResult, RunResult)],
    samples: &[[Vec<Sample>; 2]],
    ingot_args: &[String],
    linux_args: &[String],
) -> String {
    let loads: Vec<f64> =
        samples.iter().flat_map(|g| g.iter().flatten().map(|s| s.load1)).collect();
    let times: Vec<f64> =
        samples.iter().flat_map(|g| g.iter().flatten().map(|s| s.unix_time)).collect();
    let mut md = String::from("## SMP work queue (`cargo xtask bench smp`)\n\n");
    let _ = writeln!(
        md,
        "{rounds} interleaved rounds, medians over rounds; runs started {} to {}, host load {:.2}–{:.2}. \
         Latency is submit-to-start in TSC cycles (median / p99 of 2000 samples, the submitter \
         spinning; on 1 core it runs the task itself); throughput in tasks/s. Ratios above 1 \
         mean Ingot is better.\n",
        utc_string(super::stats::min(&times)),
        utc_string(super::stats::max(&times)),
        super::stats::min(&loads),
        super::stats::max(&loads)
    );
    md.push_str("| cores | latency median Ingot / Linux (ratio) | latency p99 Ingot / Linux (ratio) | empty tasks/s Ingot / Linux (ratio) | 10 µs tasks/s Ingot / Linux (ratio) |\n");
    md.push_str("|---|---|---|---|---|\n");
    for (cores, i, l) in summary {
        let r = ratios(i, l);
        let _ = writeln!(
            md,
            "| {cores} | {:.0} / {:.0} ({:.2}) | {:.0} / {:.0} ({:.2}) | {} / {} ({:.2}) | {} / {} ({:.2}) |",
            i.latency_median,
            l.latency_median,
            r[0],
            i.latency_p99,
            l.latency_p99,
            r[1],
            rate(i.empty_per_s),
            rate(l.empty_per_s),
            r[2],
            rate(i.busy_per_s),
            rate(l.busy_per_s),
            r[3]
        );
    }
    let _ = writeln!(
        md,
        "\n![throughput vs cores](smp.png)\n\nQEMU (1 core; `-smp` varies): Ingot `{}`; Linux `{}`.",
        ingot_args.join(" "),
        linux_args.join(" ")
    );
    md
}

#[cfg(test)]
mod tests {
    use super::{RunResult, Sample, parse_line, rate, ratios, to_json};

    #[test]
    fn json_holds_every_run_and_the_ratios() {
        let ingot =
            RunResult { cores: 2, latency_median: 100.0, empty_per_s: 4e5, ..Default::default() };
        let linux =
            RunResult { cores: 2, latency_median: 300.0, empty_per_s: 8e5, ..Default::default() };
        let sample = |result, load1| Sample { round: 0, result, load1, unix_time: 1.0 };
        let samples = [[vec![sample(ingot, 1.5)], vec![sample(linux, f64::NAN)]]];
        let text = to_json(5, &samples, &[(2, ingot, linux)], &[], &["-M".into()], &[], "6.1");
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let config = &json["configs"][0];
        assert_eq!(config["cores"], 2);
        assert_eq!(config["ratios"]["latency_median"], 3.0);
        assert_eq!(config["ratios"]["empty_throughput"], 0.5);
        assert_eq!(config["runs"][0]["guest"], "ingot");
        assert_eq!(config["runs"][1]["load1"], serde_json::Value::Null);
        assert_eq!(json["command"], "cargo xtask bench smp --runs 5");
        assert_eq!(json["qemu_args_ingot_1_core"][0], "-M");
    }

    #[test]
    fn lines_fold_into_a_result() {
        let mut r = RunResult::default();
        let lines = [
            "ingot: ready cores=2",
            "smp-bench: tsc-mhz=2596",
            "smp-bench: latency cores=2 samples=2000 median=38544 p99=107020",
            "smp-bench: throughput cores=2 kind=empty tasks=20000 ns=2000000 cycles=5192000",
            "smp-bench: throughput cores=2 kind=10us tasks=2000 ns=40000000 cycles=1",
        ];
        for line in lines {
            assert_eq!(parse_line(line, &mut r), Ok(false), "{line}");
        }
        assert_eq!(parse_line("smp-bench: done\r", &mut r), Ok(true));
        assert_eq!(r.cores, 2);
        assert_eq!((r.latency_median, r.latency_p99), (38544.0, 107020.0));
        assert_eq!(r.empty_per_s, 10_000_000.0);
        assert_eq!((r.empty_cycles, r.empty_tasks), (5_192_000.0, 20_000.0));
        assert_eq!(r.busy_per_s, 50_000.0);
        let linux = RunResult { latency_median: 77088.0, busy_per_s: 25_000.0, ..r };
        assert_eq!(ratios(&r, &linux), [2.0, 1.0, 1.0, 2.0]);
        assert_eq!(
            (rate(944_107.0), rate(2_368_000.0), rate(12.4)),
            ("944k".into(), "2.37M".into(), "12".into())
        );
    }

    #[test]
    fn failures_and_bad_lines_are_errors() {
        let mut r = RunResult::default();
        assert!(parse_line("smp-bench: done", &mut r).is_err(), "done without results");
        assert!(parse_line("smp-bench: step 12 failed", &mut r).is_err());
        assert!(parse_line("smp-bench: latency cores=1 median=x p99=3", &mut r).is_err());
        assert!(
            parse_line("smp-bench: throughput cores=1 kind=huge tasks=1 ns=1", &mut r).is_err()
        );
        assert!(
            parse_line("smp-bench: throughput cores=1 kind=empty tasks=1 ns=0", &mut r).is_err()
        );
        assert!(parse_line("smp-bench: empty: 3 of 9 tasks ran", &mut r).is_err());
    }
}
