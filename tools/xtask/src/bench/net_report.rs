//! `bench net`'s report: the table of medians (`report.md`), every run (`net.json`),
//! the instructions per request, and two charts: requests per second of every case
//! (log scale: the cases span two orders of magnitude) and MB/s of the 100 KiB file.

use std::fmt::Write as _;

use super::chart::{self, Bar};
use super::net::{CASES, Measured, Route};
use super::net_icount::{self, PerRequest};
use super::stats::median;
use super::{write_output, write_report_section};
use crate::qemu::QemuConfig;

/// Everything measured, for the report.
pub(super) struct Results<'a> {
    /// results[side][case]: one `ab` result per round (side 0 Ingot, 1 Linux).
    pub results: &'a [Vec<Vec<Measured>>],
    /// UDP echo packets per second per round, Ingot then Linux.
    pub udp: &'a [Vec<f64>; 2],
    /// Instructions per request, or why they were not measured.
    pub instructions: &'a Result<Vec<PerRequest>, String>,
}

/// Writes `report.md`'s section, `net.json` and the charts.
pub(super) fn report(
    all: &Results<'_>,
    path: &Route,
    rounds: usize,
    load_before: f64,
    load_after: f64,
    ingot: &QemuConfig,
    linux: &QemuConfig,
) -> Result<(), String> {
    let (results, udp) = (all.results, all.udp);
    let mut md = String::new();
    let _ = writeln!(md, "## Network: httpd against the Linux peer (`cargo xtask bench net`)\n");
    let _ = writeln!(
        md,
        "Path: {}. {rounds} interleaved rounds; medians shown. Host load (1 min) {load_before:.2} before, {load_after:.2} after.\n",
        path.describe()
    );
    let _ = writeln!(
        md,
        "| Case | Ingot req/s | Linux req/s | Ingot ÷ Linux | Ingot MB/s | Linux MB/s | Ingot p50/p99 ms | Linux p50/p99 ms | errors (Ingot/Linux) |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|");
    let mut json = String::from("{\"bench\":\"net\",\"cases\":[");
    for (index, case) in CASES.iter().enumerate() {
        let pick = |side: usize, f: fn(&Measured) -> f64| -> f64 {
            let values: Vec<f64> =
                results[side][index].iter().map(f).filter(|v| v.is_finite()).collect();
            if values.is_empty() { f64::NAN } else { median(&values) }
        };
        let errors = |side: usize| results[side][index].iter().map(|m| m.errors).sum::<u64>();
        let (ir, lr) = (pick(0, |m| m.requests_per_s), pick(1, |m| m.requests_per_s));
        let ratio = if lr.is_nan() { "–".to_string() } else { format!("{:.2}", ir / lr) };
        let linux_cell = |v: f64, digits: usize| {
            if v.is_nan() { "–".to_string() } else { format!("{v:.digits$}") }
        };
        let _ = writeln!(
            md,
            "| {} | {:.0} | {} | {} | {:.2} | {} | {:.0}/{:.0} | {}/{} | {}/{} |",
            case.name,
            ir,
            linux_cell(lr, 0),
            ratio,
            pick(0, |m| m.mb_per_s),
            linux_cell(pick(1, |m| m.mb_per_s), 2),
            pick(0, |m| m.p50_ms),
            pick(0, |m| m.p99_ms),
            linux_cell(pick(1, |m| m.p50_ms), 0),
            linux_cell(pick(1, |m| m.p99_ms), 0),
            errors(0),
            if results[1][index].is_empty() { "–".to_string() } else { errors(1).to_string() },
        );
        let runs = |side: usize| {
            results[side][index]
                .iter()
                .map(|m| format!("{{\"rps\":{},\"mbps\":{},\"p50_ms\":{},\"p99_ms\":{},\"complete\":{},\"errors\":{}}}", number(m.requests_per_s, 1), number(m.mb_per_s, 3), number(m.p50_ms, 0), number(m.p99_ms, 0), m.complete, m.errors))
                .collect::<Vec<_>>()
                .join(",")
        };
        if index > 0 {
            json.push(',');
        }
        let _ = write!(
            json,
            "{{\"case\":\"{}\",\"ingot\":[{}],\"linux\":[{}]}}",
            case.name,
            runs(0),
            runs(1)
        );
    }
    let _ = write!(
        json,
        "],\"udp_echo_pps\":{{\"ingot\":{:?},\"linux\":{:?}}},\"path\":\"{}\",\"load_before\":{load_before},\"load_after\":{load_after},\"ingot_qemu\":\"{}\",\"linux_qemu\":\"{}\",\"instructions_per_request\":{}}}",
        udp[0],
        udp[1],
        path.describe(),
        ingot.command_line().replace('"', "'"),
        linux.command_line().replace('"', "'"),
        all.instructions.as_ref().map_or("null".to_string(), |m| net_icount::json(m))
    );
    let udp_median = |side: usize| if udp[side].is_empty() { f64::NAN } else { median(&udp[side]) };
    let (ingot_udp, linux_udp) = (udp_median(0), udp_median(1));
    if ingot_udp.is_nan() {
        let _ = writeln!(md, "\nUDP echo: not measured (only over tap).");
    } else {
        let _ = writeln!(
            md,
            "\nUDP echo (64-byte datagrams, 32 in flight, 5 s, median of the rounds): Ingot {ingot_udp:.0} packets/s, Linux {linux_udp:.0} packets/s, Ingot ÷ Linux {:.2}.",
            ingot_udp / linux_udp
        );
    }
    match all.instructions {
        Ok(measured) => md.push_str(&net_icount::markdown(measured)),
        Err(why) => {
            let _ = writeln!(md, "\nInstructions per request: not measured ({why}).");
        }
    }
    charts(all)?;
    let _ = writeln!(
        md,
        "\n![requests per second](net-requests.png)\n\n![MB/s, 100 KiB file](net-throughput.png)"
    );
    let _ =
        writeln!(md, "\nIngot: `{}`\n\nLinux: `{}`", ingot.command_line(), linux.command_line());
    json.push('\n');
    write_output("net.json", json.as_bytes())?;
    write_report_section("net", &md)?;
    println!("{md}");
    Ok(())
}

/// The median of one measure of `case` for `side`, NaN when not run.
fn median_of(all: &Results<'_>, side: usize, case: usize, f: fn(&Measured) -> f64) -> f64 {
    let values: Vec<f64> =
        all.results[side][case].iter().map(f).filter(|v| v.is_finite()).collect();
    if values.is_empty() { f64::NAN } else { median(&values) }
}

fn charts(all: &Results<'_>) -> Result<(), String> {
    let mut requests = Vec::new();
    let mut throughput = Vec::new();
    for (index, case) in CASES.iter().enumerate() {
        for (side, guest) in ["Ingot", "Linux"].into_iter().enumerate() {
            let value = median_of(all, side, index, |m| m.requests_per_s);
            if value.is_nan() {
                continue; // Linux has no keep-alive cases
            }
            requests.push(Bar { group: case.name.to_string(), series: guest.into(), value });
            if case.path.contains("100k") {
                let value = median_of(all, side, index, |m| m.mb_per_s);
                throughput.push(Bar { group: case.name.to_string(), series: guest.into(), value });
            }
        }
    }
    chart::bars(
        "net-requests.png",
        "HTTP requests per second, median of the rounds (ab; busybox httpd has no keep-alive)",
        "requests/s",
        chart::Scale::Log,
        chart::count,
        &requests,
    )?;
    chart::bars(
        "net-throughput.png",
        "100 KiB file, median MB/s",
        "MB/s",
        chart::Scale::Linear,
        megabytes,
        &throughput,
    )
}

/// A JSON number, or `null` for a rate a failed run does not have.
fn number(value: f64, digits: usize) -> String {
    if value.is_finite() { format!("{value:.digits$}") } else { "null".into() }
}

fn megabytes(value: f64) -> String {
    format!("{value:.1}")
}

/// `bench net --instructions-only`: the instruction counts alone, in their own report
/// section (`net-instructions`) and `net-instructions.json`, leaving the last full
/// run's `net` section and `net.json` as they were.
pub(super) fn instructions_only(
    measured: &[PerRequest],
    load_before: f64,
    load_after: f64,
) -> Result<(), String> {
    let mut md = String::from(
        "## Network: instructions per request (`cargo xtask bench net --instructions-only`)\n",
    );
    md.push_str(&net_icount::markdown(measured));
    let _ = writeln!(
        md,
        "\nInstruction counts are exact; the idle rate and waiting share use wall seconds (host load (1 min) {load_before:.2} before, {load_after:.2} after)."
    );
    let json = format!(
        "{{\"bench\":\"net-instructions\",\"load_before\":{load_before},\"load_after\":{load_after},\"instructions_per_request\":{}}}\n",
        net_icount::json(measured)
    );
    write_output("net-instructions.json", json.as_bytes())?;
    write_report_section("net-instructions", &md)?;
    println!("{md}");
    Ok(())
}
