//! `cargo xtask bench size`: bytes on disk and the least guest RAM that reaches ready,
//! for Ingot beside the Linux peer; the full and the virtio-only kernel with their
//! bytes per section and per crate (`size_kernels.rs`).
//!
//! The least `-m` is found by bisection over whole MiB between [`LOW_MIB`] and
//! [`HIGH_MIB`], assuming that more RAM never stops a guest from booting; every probe
//! (RAM, reached ready or not, why not) goes into `size.json` and the report. The peer
//! is booted with `panic=-1`, so an out-of-memory panic ends QEMU at once.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use super::boot::guests;
use super::chart::{self, Bar};
use super::measure::time_to_marker;
use super::stats::{load1, ratio, thousands, unix_now, utc_string};
use super::{Options, peer, write_output, write_report_section};
use crate::qemu::Machine;

const LOW_MIB: u32 = 1;
const HIGH_MIB: u32 = 256;
const MACHINE: Machine = Machine::Q35;

/// One bisection step: RAM tried and the outcome (`Err` holds why it did not reach ready).
pub struct Probe {
    pub mib: u32,
    pub outcome: Result<f64, String>,
}

/// The least value in `lo..=hi` for which `reaches` succeeds, given that success is
/// monotone; `None` if even `hi` fails. Every probe is kept, in order.
pub fn least_passing(
    lo: u32,
    hi: u32,
    mut reaches: impl FnMut(u32) -> Result<f64, String>,
) -> (Option<u32>, Vec<Probe>) {
    let mut probes = Vec::new();
    let mut probe = |mib: u32, probes: &mut Vec<Probe>| {
        let outcome = reaches(mib);
        let ok = outcome.is_ok();
        probes.push(Probe { mib, outcome });
        ok
    };
    if !probe(hi, &mut probes) {
        return (None, probes);
    }
    let (mut fail, mut pass) = (lo - 1, hi); // invariant: fail fails (or is below range), pass passes
    while pass - fail > 1 {
        let mid = fail + (pass - fail) / 2;
        if probe(mid, &mut probes) { pass = mid } else { fail = mid }
    }
    (Some(pass), probes)
}

fn bytes_of(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}

fn first_line(reason: &str) -> String {
    reason.lines().next().unwrap_or("").chars().take(100).collect()
}

pub fn bench_size(_options: &Options) -> Result<(), String> {
    let artifacts = crate::build::build_all()?;
    let (kernels_md, kernels_json) = super::size_kernels::measure(&artifacts)?;
    let peer = peer::prepare()?;
    let started = unix_now();
    let load_at_start = load1();
    let mut rows = Vec::new();
    for g in guests(MACHINE, &artifacts, &peer, None).into_iter().filter(|g| g.key != "floor") {
        eprintln!("bench size: bisecting -m for {} on {MACHINE}", g.key);
        // Short limits: a guest short of RAM may hang instead of failing.
        let timeout = Duration::from_secs(if g.key == "ingot" { 10 } else { 45 });
        let (least, probes) = least_passing(LOW_MIB, HIGH_MIB, |mib| {
            time_to_marker(&g.config.clone().memory(format!("{mib}M")), g.marker, timeout)
        });
        rows.push((g, least, probes));
    }
    // The default image, as `cargo xtask image` writes it.
    let image = crate::build::output_dir().join("ingot.img");
    let options = crate::image::ImageOptions {
        size_mib: ingot_mkimage::DEFAULT_SIZE_MIB,
        cmdline: String::new(),
        boot: Some("monitor".into()),
        init: None,
    };
    crate::image::write_image(&artifacts, &options, &image)?;
    let files: Vec<(&str, &Path)> = vec![
        ("Ingot kernel (`kernel.elf`)", &artifacts.kernel),
        ("Ingot kernel, PVH-only (`kernel-pvh.elf`)", &artifacts.kernel_pvh),
        ("floor (`floor.elf`)", &artifacts.floor),
        ("Ingot disk image (`ingot.img`)", &image),
        ("Linux bzImage (`vmlinuz`, as shipped)", &peer.vmlinuz),
        ("Linux uncompressed ELF (`vmlinux`)", &peer.vmlinux),
        ("Linux peer initramfs (busybox + modules)", &peer.initramfs),
    ];
    let ingot_bytes = bytes_of(&artifacts.kernel).unwrap_or(0) as f64;
    let mut md = format!(
        "## Size (`cargo xtask bench size`)\n\nMeasured {} (load average {load_at_start:.2}). \
         Linux peer: Debian `linux-image-{}`.\n\n\
         | file | bytes | Ingot kernel ÷ this |\n|---|---|---|\n",
        utc_string(started),
        peer.release
    );
    let mut byte_bars = Vec::new();
    for (label, path) in &files {
        match bytes_of(path) {
            Some(n) => {
                let _ = writeln!(
                    md,
                    "| {label} | {} | {} |",
                    thousands(n),
                    ratio(ingot_bytes / n as f64)
                );
                byte_bars.push(Bar {
                    group: "bytes".into(),
                    series: label.split(" (").next().unwrap_or(label).into(),
                    value: n as f64,
                });
            }
            None => {
                let _ = writeln!(md, "| {label} | not built | — |");
            }
        }
    }
    md.push('\n');
    md.push_str(&kernels_md);
    let _ = write!(
        md,
        "\n### Least guest RAM that reaches ready (`-m`, bisected over MiB in {LOW_MIB}..={HIGH_MIB}, machine {MACHINE})\n\n\
         | guest | least `-m` | Ingot ÷ guest | probes (MiB: result) |\n|---|---|---|---|\n"
    );
    let ingot_least = rows.iter().find(|r| r.0.key == "ingot").and_then(|r| r.1);
    let mut mem_bars = Vec::new();
    for (g, least, probes) in &rows {
        let probes_text: Vec<String> = probes
            .iter()
            .map(|p| match &p.outcome {
                Ok(s) => format!("{}: ready {:.2} s", p.mib, s),
                Err(e) => format!("{}: no ({})", p.mib, first_line(e)),
            })
            .collect();
        let (least_text, ratio) = match (least, ingot_least) {
            (Some(l), Some(i)) => (format!("{l} MiB"), ratio(f64::from(i) / f64::from(*l))),
            (Some(l), None) => (format!("{l} MiB"), "—".into()),
            (None, _) => (format!("> {HIGH_MIB} MiB"), "—".into()),
        };
        let _ =
            writeln!(md, "| {} | {least_text} | {ratio} | {} |", g.label, probes_text.join("; "));
        if let Some(l) = least {
            mem_bars.push(Bar {
                group: "least -m".into(),
                series: g.label.into(),
                value: f64::from(*l),
            });
        }
    }
    chart::bars(
        "size-bytes.png",
        "Image bytes (log scale)",
        "bytes",
        chart::Scale::Log,
        chart::count,
        &byte_bars,
    )?;
    chart::bars(
        "size-memory.png",
        "Least guest RAM reaching ready (log scale)",
        "guest RAM",
        chart::Scale::Log,
        chart::mib,
        &mem_bars,
    )?;
    md.push_str("\n![bytes](size-bytes.png) ![memory](size-memory.png)\n\nQEMU command lines (with `-m` varied):\n\n```\n");
    for (g, _, _) in &rows {
        let _ = writeln!(md, "{}", g.config.command_line());
    }
    md.push_str("```\n");
    write_report_section("size", &md)?;

    let files: Vec<Value> = files
        .iter()
        .map(|(label, path)| {
            json!({"what": label, "path": path.display().to_string(), "bytes": bytes_of(path)})
        })
        .collect();
    let least_memory: Vec<Value> = rows
        .iter()
        .map(|(g, least, probes)| {
            let probes: Vec<Value> = probes
                .iter()
                .map(|p| match &p.outcome {
                    Ok(seconds) => json!({"mib": p.mib, "ready": true, "seconds": seconds}),
                    Err(e) => json!({"mib": p.mib, "ready": false, "why": first_line(e)}),
                })
                .collect();
            json!({"guest": g.key, "least_mib": least, "qemu_args": g.config.args(), "probes": probes})
        })
        .collect();
    let json = super::stats::to_json(&json!({
        "bench": "size",
        "started_unix": started,
        "load1": load_at_start,
        "machine": MACHINE.name(),
        "files": files,
        "kernels": kernels_json,
        "least_memory": least_memory,
    }));
    let path = write_output("size.json", json.as_bytes())?;
    println!("wrote {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::least_passing;

    #[test]
    fn bisection_finds_the_least_passing_value() {
        let boots =
            |need: u32| move |mib: u32| if mib >= need { Ok(0.1) } else { Err("no".to_string()) };
        for need in [1, 2, 3, 17, 100, 255, 256] {
            let (least, probes) = least_passing(1, 256, boots(need));
            assert_eq!(least, Some(need), "need {need}");
            assert!(probes.len() <= 10, "{} probes", probes.len());
        }
        let (least, probes) = least_passing(1, 256, boots(300));
        assert_eq!((least, probes.len()), (None, 1));
    }
}
