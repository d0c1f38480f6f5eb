//! `cargo xtask bench [boot|size|disk|smp|net|idle|all|peer]`: measurements of Ingot beside a Linux peer.
//!
//! Each benchmark builds what it needs, runs, writes `target/ingot/bench/<name>.json`
//! (every run's numbers, the QEMU flags, the host load) and its own section of
//! `report.md`, plus PNG charts. Files: [`boot`], [`disk_images`], [`disk`], [`size`] and
//! [`smp`] are the benchmarks ([`disk_report`] writes disk's output), [`peer`] builds the
//! Linux peer from Debian packages ([`peer_programs`]: its disk program), [`measure`] runs one boot (wall
//! time or exact instruction count), [`chart`] draws, [`stats`] and [`cpio`] are pure
//! helpers. A new benchmark is one more file, one line in [`BENCHES`] and one value of
//! [`Bench`].
//! Benchmarks never run in `cargo xtask test` (their pure helpers are unit-tested there).

mod boot;
mod chart;
mod cpio;
mod disk;
mod disk_icount;
mod disk_images;
mod disk_parallel;
mod disk_report;
mod idle;
mod linker_map;
mod measure;
mod net;
mod net_icount;
mod net_report;
mod peer;
mod peer_check;
mod peer_programs;
mod size;
mod size_kernels;
mod smp;
mod stats;

use std::path::PathBuf;

use crate::cli::{Bench, BenchArgs};

/// A benchmark's entry point.
type BenchFn = fn(&Options) -> Result<(), String>;

/// Every benchmark `all` runs, in order, with its entry point.
const BENCHES: &[(Bench, BenchFn)] = &[
    (Bench::Boot, boot_all),
    (Bench::Size, size::bench_size),
    (Bench::Disk, disk::bench_disk),
    (Bench::Smp, smp::bench_smp),
    (Bench::Net, net::bench_net),
    (Bench::Idle, idle::bench_idle),
];

/// `bench boot`: direct boot beside the Linux peer, then the disk image under both
/// firmwares beside their firmware-only floors.
fn boot_all(options: &Options) -> Result<(), String> {
    boot::bench_boot(options)?;
    disk_images::bench(options)
}
const REPORT_HEADER: &str = "# Ingot benchmark report\n\n\
    Written by `cargo xtask bench`; every section names its command, QEMU flags and host load.";

/// Options shared by the benchmarks.
pub struct Options {
    /// Paired wall-clock rounds (at least 5).
    pub runs: usize,
    /// net and disk: only the exact instruction counts (`--instructions-only`).
    pub instructions_only: bool,
}

/// Entry point: `bench [boot|size|disk|smp|all|peer] [--runs N]`.
pub fn bench(args: &BenchArgs) -> Result<(), String> {
    if args.which == Bench::Peer {
        return peer_check::peer_check();
    }
    let options = Options { runs: args.runs, instructions_only: args.instructions_only };
    let chosen =
        BENCHES.iter().filter(|(which, _)| args.which == Bench::All || *which == args.which);
    for (which, run) in chosen {
        let name = format!("{which:?}").to_lowercase();
        eprintln!("bench {name}: start");
        run(&options).map_err(|e| format!("bench {name}: {e}"))?;
    }
    println!("report: {}", bench_dir().join("report.md").display());
    Ok(())
}

/// `target/ingot/bench/`.
pub fn bench_dir() -> PathBuf {
    crate::build::output_dir().join("bench")
}

/// Writes `name` (e.g. `boot.json`) into [`bench_dir`].
pub fn write_output(name: &str, bytes: &[u8]) -> Result<PathBuf, String> {
    let dir = bench_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// Replaces (or appends) the section `name` of `target/ingot/bench/report.md`, keeping
/// every other section. Sections sit between `<!-- section:NAME -->` and
/// `<!-- /section:NAME -->` lines, after a header line.
pub fn write_report_section(name: &str, markdown: &str) -> Result<(), String> {
    let path = bench_dir().join("report.md");
    let existing = std::fs::read_to_string(&path).unwrap_or_default();
    write_output("report.md", replace_section(&existing, name, markdown).as_bytes()).map(drop)
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

#[cfg(test)]
mod tests {
    use super::replace_section;

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
}
