//! `cargo xtask bench`: measurements behind the README's performance targets.
//!
//! `boot` times QEMU spawn → `ingot: ready` for the real kernel against the "floor" (an
//! empty kernel with the same boot stub), in alternating pairs so that host noise hits
//! both alike; the target is judged on the median of the per-pair ratios. Results go to
//! `target/ingot/bench/boot.json` (every run) and a section of `report.md`.
//! Benchmarks are never run by `cargo xtask test`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::harness::{Event, Running};
use crate::qemu::{Machine, QemuConfig};

const SUBCOMMANDS: &str = "boot, disk, all";
const READY: &str = "ingot: ready";
const RUN_TIMEOUT: Duration = Duration::from_secs(30);
const TARGET_RATIO: f64 = 1.5;
const TARGET_KERNEL_BYTES: u64 = 64 * 1024;
const REPORT_HEADER: &str = "# Ingot benchmark report";

/// Entry point: `bench [boot|all] [--runs N]`.
pub fn bench(args: &[String]) -> Result<(), String> {
    let (sub, rest) = match args.first() {
        Some(s) if !s.starts_with('-') => (s.as_str(), &args[1..]),
        _ => ("all", args),
    };
    match sub {
        "boot" | "all" => bench_boot(rest),
        "disk" => crate::bench_disk::bench_disk(),
        other => Err(format!("unknown bench `{other}`; valid: {SUBCOMMANDS}")),
    }
}

fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().and_then(Path::parent).unwrap_or(manifest).to_path_buf()
}

fn bench_dir() -> PathBuf {
    workspace_root().join("target/ingot/bench")
}

fn parse_runs(args: &[String]) -> Result<usize, String> {
    let mut runs = 7;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let value = match arg.strip_prefix("--runs=") {
            Some(v) => v.to_string(),
            None if arg == "--runs" => it.next().ok_or("--runs needs a number")?.clone(),
            None => return Err(format!("unknown bench option `{arg}` (valid: --runs N)")),
        };
        runs = value.parse().map_err(|_| format!("--runs: `{value}` is not a number"))?;
    }
    if runs < 5 {
        return Err(format!("--runs must be at least 5 (got {runs})"));
    }
    Ok(runs)
}

fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

fn load1() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|f| f.parse().ok()))
        .unwrap_or(f64::NAN)
}

/// One timed boot.
struct Sample {
    kind: &'static str,
    pair: usize,
    seconds: f64,
    load1: f64,
    unix_time: f64,
}

/// Boots `config` once and returns seconds from spawn to the first `ingot: ready` line.
fn time_to_ready(config: &QemuConfig) -> Result<f64, String> {
    let mut qemu = Running::spawn(config)?;
    let deadline = qemu.started + RUN_TIMEOUT;
    let mut tail: Vec<String> = Vec::new();
    loop {
        match qemu.next_line(deadline) {
            Event::Line(at, line) if line.starts_with(READY) => {
                let seconds = at.duration_since(qemu.started).as_secs_f64();
                qemu.kill();
                return Ok(seconds);
            }
            Event::Line(_, line) => tail.push(line),
            Event::Eof | Event::Timeout => {
                let timed_out = Instant::now() >= deadline;
                qemu.kill();
                let (rest, stderr) = qemu.finish();
                tail.extend(rest);
                let why = if timed_out {
                    format!("no `{READY}` line within {} s", RUN_TIMEOUT.as_secs())
                } else {
                    format!("QEMU exited before `{READY}`")
                };
                let start = tail.len().saturating_sub(10);
                return Err(format!(
                    "{why}\n  command: {}\n  serial tail:\n    {}\n  qemu stderr: {}",
                    config.command_line(),
                    tail[start..].join("\n    "),
                    stderr.trim()
                ));
            }
        }
    }
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn min(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

fn pass(ok: bool) -> &'static str {
    if ok { "PASS" } else { "MISS" }
}

/// Per-machine summary of one boot benchmark.
struct Summary {
    floor_median: f64,
    floor_min: f64,
    ingot_median: f64,
    ingot_min: f64,
    ratio_median: f64,
    min_ratio: f64,
}

impl Summary {
    fn of(samples: &[Sample]) -> Self {
        let times = |kind| samples.iter().filter(|s| s.kind == kind).map(|s| s.seconds).collect();
        let (floor, ingot): (Vec<f64>, Vec<f64>) = (times("floor"), times("ingot"));
        let ratios: Vec<f64> = floor.iter().zip(&ingot).map(|(f, i)| i / f).collect();
        Summary {
            floor_median: median(&floor),
            floor_min: min(&floor),
            ingot_median: median(&ingot),
            ingot_min: min(&ingot),
            ratio_median: median(&ratios),
            min_ratio: min(&ingot) / min(&floor),
        }
    }

    fn within_target(&self) -> bool {
        self.ratio_median <= TARGET_RATIO
    }
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// JSON number; NaN/infinity (e.g. unreadable loadavg) become null.
fn json_num(x: f64) -> String {
    if x.is_finite() { format!("{x:.6}") } else { "null".to_string() }
}

fn json_args(args: &[String]) -> String {
    format!("[{}]", args.iter().map(|a| json_str(a)).collect::<Vec<_>>().join(", "))
}

fn bench_boot(args: &[String]) -> Result<(), String> {
    let runs = parse_runs(args)?;
    let artifacts = crate::build::build_all()?;
    let kernel_bytes = std::fs::metadata(&artifacts.kernel)
        .map_err(|e| format!("{}: {e}", artifacts.kernel.display()))?
        .len();
    let started = unix_now();
    let machines = [Machine::Microvm, Machine::Q35];
    let mut results = Vec::new();
    for machine in machines {
        let floor = QemuConfig::new(machine).kernel(&artifacts.floor);
        let ingot = QemuConfig::new(machine).kernel(&artifacts.kernel);
        eprintln!("bench boot: {machine}: 1 warm-up pair + {runs} measured pairs");
        // Warm-up pair (page cache, QEMU's first start); not recorded.
        time_to_ready(&floor).map_err(|e| format!("bench boot: {machine} floor warm-up: {e}"))?;
        time_to_ready(&ingot).map_err(|e| format!("bench boot: {machine} ingot warm-up: {e}"))?;
        let mut samples = Vec::new();
        for pair in 0..runs {
            for (kind, config) in [("floor", &floor), ("ingot", &ingot)] {
                let (load1, unix_time) = (load1(), unix_now());
                let seconds = time_to_ready(config)
                    .map_err(|e| format!("bench boot: {machine} {kind} run {pair}: {e}"))?;
                samples.push(Sample { kind, pair, seconds, load1, unix_time });
            }
        }
        let summary = Summary::of(&samples);
        results.push((machine, floor.args(), ingot.args(), samples, summary));
    }
    let finished = unix_now();
    let kernel_ok = kernel_bytes <= TARGET_KERNEL_BYTES;

    // Table on stdout, and the same numbers as markdown for report.md.
    let ms = |s: f64| format!("{:.1} ms", s * 1000.0);
    let mut table = format!(
        "{:<8} {:>11} {:>11} {:>11} {:>11} {:>10} {:>10}  ready <= {TARGET_RATIO}x floor\n",
        "machine", "floor med", "floor min", "ingot med", "ingot min", "ratio med", "min ratio"
    );
    let mut md = format!(
        "## Boot time (`cargo xtask bench boot`)\n\n\
         Wall time from spawning QEMU to the first serial line starting `{READY}`, \
         {runs} paired runs per machine (floor and ingot alternating, after one warm-up pair), \
         `-m 128M`, 1 core, TCG, boot path Multiboot. The floor is an empty kernel with the \
         same boot stub. Measured {} (load average {:.2} at start).\n\n\
         | machine | floor median | floor min | ingot median | ingot min | median paired ratio | ratio of mins | ready ≤ {TARGET_RATIO}× floor |\n\
         |---|---|---|---|---|---|---|---|\n",
        utc_string(started),
        results.first().and_then(|r| r.3.first()).map_or(f64::NAN, |s| s.load1),
    );
    for (machine, _, _, _, s) in &results {
        let verdict = pass(s.within_target());
        let _ = writeln!(
            table,
            "{:<8} {:>11} {:>11} {:>11} {:>11} {:>9.2}x {:>9.2}x  {verdict}",
            machine.name(),
            ms(s.floor_median),
            ms(s.floor_min),
            ms(s.ingot_median),
            ms(s.ingot_min),
            s.ratio_median,
            s.min_ratio,
        );
        let _ = writeln!(
            md,
            "| {machine} | {} | {} | {} | {} | {:.2}× | {:.2}× | {verdict} |",
            ms(s.floor_median),
            ms(s.floor_min),
            ms(s.ingot_median),
            ms(s.ingot_min),
            s.ratio_median,
            s.min_ratio,
        );
    }
    let size_line = format!(
        "kernel ELF: {kernel_bytes} bytes (target <= {TARGET_KERNEL_BYTES}: {})",
        pass(kernel_ok)
    );
    let _ = writeln!(table, "{size_line}");
    let _ = writeln!(
        md,
        "\nKernel ELF (`{}`): {kernel_bytes} bytes; target ≤ 64 KiB ({TARGET_KERNEL_BYTES} bytes): {}.",
        artifacts.kernel.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        pass(kernel_ok)
    );
    print!("{table}");

    // boot.json: every run.
    let mut json = format!(
        "{{\n  \"bench\": \"boot\",\n  \"started_unix\": {},\n  \"finished_unix\": {},\n  \
         \"runs_per_kind\": {runs},\n  \"warmup_pairs_discarded\": 1,\n  \"boot_path\": \"multiboot\",\n  \
         \"accel\": \"tcg\",\n  \"ready_marker\": {},\n  \"timeout_s\": {},\n  \
         \"kernel\": {{\"path\": {}, \"size_bytes\": {kernel_bytes}, \"target_bytes\": {TARGET_KERNEL_BYTES}, \"within_target\": {kernel_ok}}},\n  \
         \"floor\": {{\"path\": {}}},\n  \"target_ratio\": {TARGET_RATIO},\n  \"machines\": [",
        json_num(started),
        json_num(finished),
        json_str(READY),
        RUN_TIMEOUT.as_secs(),
        json_str(&artifacts.kernel.display().to_string()),
        json_str(&artifacts.floor.display().to_string()),
    );
    for (i, (machine, floor_args, ingot_args, samples, s)) in results.iter().enumerate() {
        let runs_json: Vec<String> = samples
            .iter()
            .map(|r| {
                format!(
                    "        {{\"pair\": {}, \"kind\": \"{}\", \"seconds\": {}, \"load1\": {}, \"unix_time\": {}}}",
                    r.pair,
                    r.kind,
                    json_num(r.seconds),
                    json_num(r.load1),
                    json_num(r.unix_time)
                )
            })
            .collect();
        let _ = write!(
            json,
            "{}\n    {{\n      \"machine\": \"{}\",\n      \"qemu\": {},\n      \
             \"qemu_args\": {{\"floor\": {}, \"ingot\": {}}},\n      \"runs\": [\n{}\n      ],\n      \
             \"summary\": {{\"floor_median_s\": {}, \"floor_min_s\": {}, \"ingot_median_s\": {}, \
             \"ingot_min_s\": {}, \"paired_ratio_median\": {}, \"min_ratio\": {}, \"within_target\": {}}}\n    }}",
            if i == 0 { "" } else { "," },
            machine.name(),
            json_str(crate::qemu::QEMU),
            json_args(floor_args),
            json_args(ingot_args),
            runs_json.join(",\n"),
            json_num(s.floor_median),
            json_num(s.floor_min),
            json_num(s.ingot_median),
            json_num(s.ingot_min),
            json_num(s.ratio_median),
            json_num(s.min_ratio),
            s.within_target(),
        );
    }
    json.push_str("\n  ]\n}\n");
    let dir = bench_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let json_path = dir.join("boot.json");
    std::fs::write(&json_path, json).map_err(|e| format!("{}: {e}", json_path.display()))?;
    write_report_section("boot", &md)?;
    println!("wrote {} and {}", json_path.display(), dir.join("report.md").display());
    Ok(())
}

/// Replaces (or appends) the section `name` of `target/ingot/bench/report.md`, keeping
/// every other section. Sections sit between `<!-- section:NAME -->` and
/// `<!-- /section:NAME -->` lines, after a header line.
pub fn write_report_section(name: &str, markdown: &str) -> Result<(), String> {
    let dir = bench_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join("report.md");
    let existing = std::fs::read_to_string(&path).unwrap_or_default();
    std::fs::write(&path, replace_section(&existing, name, markdown))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The pure part of [`write_report_section`].
fn replace_section(existing: &str, name: &str, markdown: &str) -> String {
    let (begin, end) = (format!("<!-- section:{name} -->"), format!("<!-- /section:{name} -->"));
    let block = format!("{begin}\n{}\n{end}\n", markdown.trim_end());
    let mut doc = if existing.trim().is_empty() {
        format!("{REPORT_HEADER}\n")
    } else {
        existing.to_string()
    };
    if let Some(start) = doc.find(&begin)
        && let Some(stop) = doc[start..].find(&end).map(|i| start + i + end.len())
    {
        let stop = if doc[stop..].starts_with('\n') { stop + 1 } else { stop };
        doc.replace_range(start..stop, &block);
        return doc;
    }
    if !doc.ends_with('\n') {
        doc.push('\n');
    }
    doc.push('\n');
    doc.push_str(&block);
    doc
}

/// `YYYY-MM-DD HH:MM:SS UTC` for a unix time (civil-from-days, proleptic Gregorian).
fn utc_string(unix: f64) -> String {
    let secs = unix as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::{median, parse_runs, replace_section, utc_string};

    #[test]
    fn sections_are_replaced_in_place() {
        let doc = replace_section("", "boot", "## Boot\nold");
        assert!(doc.starts_with("# Ingot benchmark report\n"));
        let doc = replace_section(&doc, "size", "## Size\n1");
        let doc = replace_section(&doc, "boot", "## Boot\nnew\n");
        assert!(doc.contains("new") && !doc.contains("old"), "{doc}");
        assert!(doc.find("## Boot").unwrap() < doc.find("## Size").unwrap());
        assert_eq!(doc.matches("<!-- section:boot -->").count(), 1);
        assert_eq!(replace_section(&doc, "boot", "## Boot\nnew"), doc);
    }

    #[test]
    fn helpers() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(utc_string(0.0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_string(1_709_251_199.0), "2024-02-29 23:59:59 UTC");
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(parse_runs(&args(&[])), Ok(7));
        assert_eq!(parse_runs(&args(&["--runs", "9"])), Ok(9));
        assert_eq!(parse_runs(&args(&["--runs=5"])), Ok(5));
        assert!(parse_runs(&args(&["--runs", "4"])).is_err());
    }
}
