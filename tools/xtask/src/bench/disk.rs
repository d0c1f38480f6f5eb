//! `cargo xtask bench disk`: per storage controller, sequential read and write MB/s
//! with 1 MiB requests and 4 KiB random-read IOPS one at a time and with 32 in flight,
//! for Ingot (`apps/disk-bench`, the queued phase through `disk_submit`/`disk_poll`)
//! and for the Linux peer doing the same with `O_DIRECT` (`tools/bench-peer/disk_bench.c`,
//! Linux AIO for the queued phase; `/init` mode `peer=disk`), as Ingot ÷ Linux ratios.
//!
//! Both guests get identical QEMU flags per controller (machine, `-m`, the `-drive …
//! cache=none,aio=threads` and `-device` lines); only `-kernel`, `-initrd` and `-append`
//! differ. Every run gets a fresh, zero-filled 64 MiB raw image. `--runs` rounds (default 5), each
//! running every controller with Ingot and then Linux, so host load hits both alike.
//!
//! Timing is like for like: both programs print the same `disk-bench: <phase>
//! start|done` lines and the host takes each phase's time from the arrival of those two
//! lines ([`phases`]), so each number includes one serial line's latency in either guest.
//! After every run the host checks that the image holds the written pattern. The Linux
//! program's own `CLOCK_MONOTONIC` durations (`ns=` on its done lines) are kept
//! in `disk.json` as a cross-check. The report is written by [`super::disk_report`].

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::disk_icount;
use super::disk_parallel::{self, PARALLEL, ParallelRun};
use super::disk_report::{self, Run};
use super::peer::{self, Peer};
use super::stats::{load1, unix_now};
use crate::build::{Artifacts, build_all, output_dir};
use crate::harness::{Event, Running};
use crate::qemu::{Machine, QemuConfig};

const IMAGE_BYTES: u64 = 64 << 20;
/// Guest RAM for both guests (the Linux peer needs about 86 MiB to boot).
const MEMORY: &str = "256M";
const INGOT_TIMEOUT: Duration = Duration::from_secs(120);
const LINUX_TIMEOUT: Duration = Duration::from_secs(240);
/// The peer's command line in disk mode.
pub const LINUX_APPEND: &str = peer::DISK_APPEND;
/// Phases, in the order the programs run them.
const PHASES: [&str; 4] = ["seq-write", "seq-read", "rand-read", "rand-read-qd32"];
/// The last phase's done line, after which a run is over.
const LAST_DONE: &str = "disk-bench: rand-read-qd32 done";

/// (name, machine, `-device` options using drive `d0`). On microvm only Ingot runs:
/// the Linux peer's console stalls there (see `bench boot`).
pub const CONTROLLERS: [(&str, Machine, &[&str]); 5] = [
    ("virtio-blk", Machine::Q35, &["virtio-blk-pci,drive=d0"]),
    ("virtio-mmio", Machine::Microvm, &["virtio-blk-device,drive=d0"]),
    ("nvme", Machine::Q35, &["nvme,drive=d0,serial=bench"]),
    ("ahci", Machine::Q35, &["ahci,id=ahci0", "ide-hd,drive=d0,bus=ahci0.0"]),
    ("ide", Machine::Pc, &["ide-hd,drive=d0,bus=ide.0,unit=0"]),
];

/// One phase as seen from the host.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    /// Seconds between the start and done lines' arrival.
    pub seconds: f64,
    /// Bytes (sequential phases) or operations (random reads), from the start line.
    pub amount: u64,
    /// The guest's own duration (`ns=` on the done line), when it printed one.
    pub guest_ns: Option<u64>,
}

/// Write MB/s, read MB/s (10^6 bytes per second), random-read IOPS one at a time
/// and 32 in flight, of one run.
pub fn rates(phases: &[Phase; 4]) -> [f64; 4] {
    let per_second = |p: &Phase| p.amount as f64 / p.seconds;
    [
        per_second(&phases[0]) / 1e6,
        per_second(&phases[1]) / 1e6,
        per_second(&phases[2]),
        per_second(&phases[3]),
    ]
}

/// One phase (`disk-bench: <name> start|done` lines) from timestamped serial lines
/// (seconds since any fixed instant). Lines not starting with `disk-bench: ` are ignored.
pub fn phase(lines: &[(f64, String)], name: &str) -> Result<Phase, String> {
    let find = |what: &str| {
        lines.iter().find_map(|(at, line)| {
            let rest = line.strip_prefix("disk-bench: ")?.strip_prefix(name)?;
            let rest = rest.strip_prefix(' ')?.strip_prefix(what)?;
            let value = |key: &str| {
                rest.split_whitespace().find_map(|w| w.strip_prefix(key)?.parse::<u64>().ok())
            };
            Some((*at, value("bytes=").or(value("ops=")), value("ns=")))
        })
    };
    let seen: Vec<&str> =
        lines.iter().filter_map(|(_, l)| l.strip_prefix("disk-bench: ")).collect();
    let (Some((t0, amount, _)), Some((t1, _, guest_ns))) = (find("start"), find("done")) else {
        return Err(format!("phase {name} did not complete (lines: {seen:?})"));
    };
    let amount = amount.ok_or(format!("phase {name}: start line without bytes=/ops="))?;
    if t1 <= t0 || amount == 0 {
        return Err(format!("phase {name}: no time or no work ({t0}..{t1}, {amount})"));
    }
    Ok(Phase { seconds: t1 - t0, amount, guest_ns })
}

/// The four phases of one run, in [`PHASES`] order.
pub fn phases(lines: &[(f64, String)]) -> Result<[Phase; 4], String> {
    Ok([
        phase(lines, PHASES[0])?,
        phase(lines, PHASES[1])?,
        phase(lines, PHASES[2])?,
        phase(lines, PHASES[3])?,
    ])
}

/// The bounce count Ingot's program prints on its last line (`bounced=`); `None`
/// for the Linux peer, which has no such count.
pub fn bounced(lines: &[(f64, String)]) -> Option<u64> {
    lines.iter().find_map(|(_, line)| {
        let rest = line.strip_prefix(LAST_DONE)?;
        rest.split_whitespace().find_map(|w| w.strip_prefix("bounced=")?.parse().ok())
    })
}

/// QEMU flags shared by both guests for one controller, on `image`.
fn base_config(machine: Machine, devices: &[&str], image: &Path) -> QemuConfig {
    let mut qemu = QemuConfig::new(machine).memory(MEMORY).extra_args([
        "-drive".to_string(),
        format!("file={},format=raw,if=none,id=d0,cache=none,aio=threads", image.display()),
    ]);
    for device in devices {
        qemu = qemu.extra_args(["-device", device]);
    }
    qemu
}

/// Ingot's and Linux's configs (in that order) for one controller.
pub fn configs(
    machine: Machine,
    devices: &[&str],
    image: &Path,
    artifacts: &Artifacts,
    peer: &Peer,
) -> [QemuConfig; 2] {
    let base = base_config(machine, devices, image);
    // The one device sits on QEMU's last virtio-mmio transport.
    let append = match machine {
        Machine::Microvm => "exit=qemu virtio_mmio.device=512@0xfeb02e00:47",
        _ => "exit=qemu",
    };
    [
        base.clone()
            .kernel(&artifacts.kernel)
            .initrd(artifacts.program("disk-bench"))
            .append(append),
        base.kernel(&peer.vmlinux).initrd(&peer.disk_initramfs).append(LINUX_APPEND),
    ]
}

/// A fresh, zero-filled (sparse) image of [`IMAGE_BYTES`] at `path`.
pub fn fresh_image(path: &Path) -> Result<(), String> {
    fresh_image_of(path, IMAGE_BYTES)
}

/// A fresh, zero-filled (sparse) image of `bytes` at `path`.
pub fn fresh_image_of(path: &Path, bytes: u64) -> Result<(), String> {
    let _ = fs::remove_file(path);
    fs::File::create(path)
        .and_then(|f| f.set_len(bytes))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Whether `bytes` (a multiple of 1 MiB long) hold the programs' write pattern: every
/// 1 MiB request writes byte `i` of the request as `i * 7` (mod 256).
pub fn holds_write_pattern(bytes: &[u8]) -> bool {
    !bytes.is_empty() && bytes.iter().enumerate().all(|(i, &b)| b == ((i % (1 << 20)) * 7) as u8)
}

/// After a run: the image's first 32 MiB must hold what the guest wrote, so a guest
/// that skipped or lost its writes cannot report a rate.
fn check_written(image: &Path) -> Result<(), String> {
    let bytes = fs::read(image).map_err(|e| format!("{}: {e}", image.display()))?;
    match bytes.get(..32 << 20) {
        Some(written) if holds_write_pattern(written) => Ok(()),
        _ => Err(format!("{}: the written pattern is not on the disk image", image.display())),
    }
}

/// Boots `config` and collects its timestamped serial lines until `last` (or the
/// program's or the peer's end) arrives, QEMU exits or `timeout` passes.
pub fn run_lines(
    config: &QemuConfig,
    timeout: Duration,
    last: &str,
) -> Result<Vec<(f64, String)>, String> {
    let mut running = Running::spawn(config)?;
    let deadline = Instant::now() + timeout;
    let mut lines = Vec::new();
    while let Event::Line(at, line) = running.next_line(deadline) {
        let done = line.starts_with(last)
            || line.starts_with("ingot: program exited")
            || line.starts_with("ingot-peer: disk-bench exit")
            || line.starts_with("ingot-peer: no disk");
        lines.push((at.duration_since(running.started).as_secs_f64(), line));
        if done {
            break;
        }
    }
    running.kill();
    Ok(lines)
}

/// Boots `config` until the last phase is done (or the guest gives up).
fn run_one(config: &QemuConfig, timeout: Duration) -> Result<([Phase; 4], Option<u64>), String> {
    let lines = run_lines(config, timeout, LAST_DONE)?;
    phases(&lines).map(|phases| (phases, bounced(&lines))).map_err(|e| {
        let tail: Vec<&str> = lines.iter().rev().take(8).rev().map(|(_, l)| l.as_str()).collect();
        format!("{e}; last lines: {tail:?}")
    })
}

/// Runs `options.runs` interleaved rounds and writes the report.
pub fn bench_disk(options: &super::Options) -> Result<(), String> {
    let artifacts = build_all()?;
    let peer = peer::prepare()?;
    let disks_dir: PathBuf = output_dir().join("disks");
    fs::create_dir_all(&disks_dir).map_err(|e| format!("{}: {e}", disks_dir.display()))?;
    if options.instructions_only {
        let image = disks_dir.join("bench-icount.img");
        let load_before = load1();
        let measured = disk_icount::measure(&artifacts, &peer, &image);
        let _ = fs::remove_file(&image);
        return disk_report::instructions_only(&measured?, load_before, load1());
    }
    let started = unix_now();
    let mut runs = Vec::new();
    let mut parallel = Vec::new();
    for round in 0..options.runs {
        for (controller, machine, devices) in CONTROLLERS {
            let image = disks_dir.join(format!("bench-{controller}.img"));
            let configs = configs(machine, devices, &image, &artifacts, &peer);
            for (guest, config) in ["Ingot", "Linux"].into_iter().zip(configs) {
                if guest == "Linux" && machine == Machine::Microvm {
                    continue;
                }
                fresh_image(&image)?;
                let load = load1();
                let timeout = if guest == "Ingot" { INGOT_TIMEOUT } else { LINUX_TIMEOUT };
                let (phases, bounced) = run_one(&config, timeout)
                    .and_then(|outcome| check_written(&image).map(|()| outcome))
                    .map_err(|e| format!("{guest} on {controller}: {e}"))?;
                let [write, read, iops, iops_32] = rates(&phases);
                println!(
                    "round {}/{} {controller:>10} {guest:>5}: write {write:.1} MB/s, \
                     read {read:.1} MB/s, 4 KiB random read {iops:.0} IOPS, {iops_32:.0} IOPS \
                     at depth 32 (load {load:.2})",
                    round + 1,
                    options.runs,
                );
                runs.push(Run { round, controller, guest, phases, bounced, load1: load, config });
            }
            let _ = fs::remove_file(&image);
        }
        for (name, layout, cores) in PARALLEL {
            let images = disk_parallel::images(&disks_dir, layout, cores);
            let configs = disk_parallel::configs(layout, cores, &images, &artifacts, &peer);
            for (guest, config) in ["Ingot", "Linux"].into_iter().zip(configs) {
                let load = load1();
                let phase = disk_parallel::run(&config, layout, cores, &images, guest)
                    .map_err(|e| format!("{guest} on {name}: {e}"))?;
                let run = ParallelRun { round, name, guest, phase, load1: load, config };
                println!(
                    "round {}/{} {name:>14} {guest:>5}: parallel read {:.1} MB/s (load {load:.2})",
                    round + 1,
                    options.runs,
                    run.rate()
                );
                parallel.push(run);
            }
            for image in images {
                let _ = fs::remove_file(image);
            }
        }
    }
    disk_report::write(&runs, &parallel, started, unix_now(), &peer)
}

#[cfg(test)]
mod tests {
    use super::{bounced, holds_write_pattern, phases, rates};

    #[test]
    fn write_pattern() {
        let mut bytes: Vec<u8> = (0..2usize << 20).map(|i| ((i % (1 << 20)) * 7) as u8).collect();
        assert!(holds_write_pattern(&bytes));
        bytes[(1 << 20) + 5] ^= 1;
        assert!(!holds_write_pattern(&bytes));
        assert!(!holds_write_pattern(&[]));
        assert!(!holds_write_pattern(&vec![0; 1 << 20]));
    }

    fn lines(v: &[(f64, &str)]) -> Vec<(f64, String)> {
        v.iter().map(|(t, l)| (*t, l.to_string())).collect()
    }

    #[test]
    fn phases_from_timed_lines() {
        let seen = lines(&[
            (0.5, "ingot-peer: disk /dev/vda"),
            (1.0, "disk-bench: seq-write start bytes=33554432"),
            (1.5, "disk-bench: seq-write done ns=480000000"),
            (1.5, "disk-bench: seq-read start bytes=33554432"),
            (1.75, "disk-bench: seq-read done"),
            (2.0, "disk-bench: rand-read start ops=4000"),
            (4.0, "disk-bench: rand-read done ns=1990000000"),
            (4.0, "disk-bench: rand-read-qd32 start ops=4000"),
            (4.5, "disk-bench: rand-read-qd32 done ns=490000000"),
        ]);
        assert_eq!(bounced(&seen), None);
        let ingot = lines(&[(4.0, "disk-bench: rand-read-qd32 done bounced=3")]);
        assert_eq!(bounced(&ingot), Some(3));
        let all = phases(&seen).unwrap();
        let [write, read, random, queued] = &all;
        assert_eq!(write.seconds, 0.5);
        assert_eq!(write.amount, 32 << 20);
        assert_eq!(write.guest_ns, Some(480_000_000));
        assert_eq!(read.guest_ns, None);
        assert_eq!(random.amount, 4000);
        assert_eq!(random.guest_ns, Some(1_990_000_000));
        assert_eq!(queued.guest_ns, Some(490_000_000));
        let [write_mb_s, read_mb_s, iops, iops_32] = rates(&all);
        assert!((write_mb_s - 67.108864).abs() < 1e-9);
        assert!((read_mb_s - 134.217728).abs() < 1e-9);
        assert_eq!(iops, 2000.0);
        assert_eq!(iops_32, 8000.0);
    }

    #[test]
    fn incomplete_or_malformed_runs_are_errors() {
        let partial = lines(&[
            (1.0, "disk-bench: seq-write start bytes=1048576"),
            (2.0, "disk-bench: seq-write done"),
        ]);
        let err = phases(&partial).unwrap_err();
        assert!(err.contains("seq-read did not complete"), "{err}");
        let no_amount =
            lines(&[(1.0, "disk-bench: seq-write start"), (2.0, "disk-bench: seq-write done")]);
        assert!(phases(&no_amount).unwrap_err().contains("without bytes="));
        let backwards = lines(&[
            (2.0, "disk-bench: seq-write start bytes=1048576"),
            (2.0, "disk-bench: seq-write done"),
        ]);
        assert!(phases(&backwards).unwrap_err().contains("no time"));
    }
}
