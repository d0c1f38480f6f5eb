//! `cargo xtask bench disk`: per storage controller, sequential read and write MB/s
//! with 1 MiB requests and 4 KiB random-read IOPS, measured by `apps/disk-bench` on
//! a fresh 64 MiB image. The program prints a line at the start and end of each
//! phase; the host takes the phase time from the arrival of those lines (so one
//! serial line's latency, well under a millisecond, is in each number). Results go
//! to `target/ingot/bench/disk.json`.
//!
//! Not yet done: the Linux peer (`bench/peer.rs`) doing the same with direct I/O under
//! identical QEMU flags, for the ratios the issue asks for; this reports Ingot alone.

use std::fmt::Write as _;
use std::fs;
use std::time::{Duration, Instant};

use crate::build::{build_all, output_dir};
use crate::harness::{Event, Running};
use crate::qemu::{Machine, QemuConfig};

const IMAGE_BYTES: u64 = 64 << 20;
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// (name, machine, `-device` options using drive `d0`).
const CONTROLLERS: [(&str, Machine, &[&str]); 4] = [
    ("virtio-blk", Machine::Q35, &["virtio-blk-pci,drive=d0"]),
    ("nvme", Machine::Q35, &["nvme,drive=d0,serial=bench"]),
    ("ahci", Machine::Q35, &["ahci,id=ahci0", "ide-hd,drive=d0,bus=ahci0.0"]),
    ("ide", Machine::Pc, &["ide-hd,drive=d0,bus=ide.0,unit=0"]),
];

/// Phase results of one controller.
struct DiskResult {
    controller: &'static str,
    write_mb_s: f64,
    read_mb_s: f64,
    random_iops: f64,
}

/// Runs every controller once and writes the report.
pub fn bench_disk(_options: &super::Options) -> Result<(), String> {
    let artifacts = build_all()?;
    let dir = output_dir().join("bench");
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut results = Vec::new();
    for (name, machine, devices) in CONTROLLERS {
        let image = output_dir().join("disks").join(format!("bench-{name}.img"));
        fs::create_dir_all(image.parent().unwrap_or(&dir)).map_err(|e| e.to_string())?;
        fs::File::create(&image)
            .and_then(|f| f.set_len(IMAGE_BYTES))
            .map_err(|e| format!("{}: {e}", image.display()))?;
        let mut qemu = QemuConfig::new(machine)
            .memory("256M")
            .kernel(&artifacts.kernel)
            .initrd(artifacts.program("disk-bench"))
            .append("exit=qemu")
            .extra_args([
                "-drive".to_string(),
                format!("file={},format=raw,if=none,id=d0,cache=none,aio=threads", image.display()),
            ]);
        for device in devices {
            qemu = qemu.extra_args(["-device", device]);
        }
        let result = run_one(name, &qemu)?;
        println!(
            "{name:>10}: seq-write {:.1} MB/s, seq-read {:.1} MB/s, 4 KiB random read {:.0} IOPS",
            result.write_mb_s, result.read_mb_s, result.random_iops
        );
        results.push(result);
        let _ = fs::remove_file(&image);
    }
    let mut json = String::from("{\n  \"linux_peer\": null,\n  \"controllers\": [\n");
    for (i, r) in results.iter().enumerate() {
        let comma = if i + 1 < results.len() { "," } else { "" };
        let _ = writeln!(
            json,
            "    {{\"controller\": \"{}\", \"seq_write_mb_s\": {:.2}, \"seq_read_mb_s\": {:.2}, \"rand_read_4k_iops\": {:.1}}}{comma}",
            r.controller, r.write_mb_s, r.read_mb_s, r.random_iops
        );
    }
    json.push_str("  ]\n}\n");
    let path = dir.join("disk.json");
    fs::write(&path, json).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("wrote {} (Linux peer not available yet: no ratios)", path.display());
    Ok(())
}

fn run_one(name: &'static str, qemu: &QemuConfig) -> Result<DiskResult, String> {
    let mut running = Running::spawn(qemu)?;
    let deadline = Instant::now() + RUN_TIMEOUT;
    let mut marks: Vec<(String, Instant, u64)> = Vec::new();
    while let Event::Line(at, line) = running.next_line(deadline) {
        if let Some(rest) = line.strip_prefix("disk-bench: ") {
            let amount = rest.rsplit('=').next().and_then(|v| v.parse().ok()).unwrap_or(0);
            marks.push((rest.split(' ').take(2).collect::<Vec<_>>().join(" "), at, amount));
            if rest.starts_with("rand-read done") {
                break;
            }
        }
        if line.starts_with("ingot: program exited") {
            break;
        }
    }
    running.kill();
    let phase = |phase: &str| -> Result<(f64, u64), String> {
        let start = marks.iter().find(|m| m.0 == format!("{phase} start"));
        let done = marks.iter().find(|m| m.0 == format!("{phase} done"));
        match (start, done) {
            (Some(s), Some(d)) => Ok((d.1.duration_since(s.1).as_secs_f64(), s.2)),
            _ => Err(format!(
                "{name}: phase {phase} did not complete (marks: {:?})",
                marks.iter().map(|m| &m.0).collect::<Vec<_>>()
            )),
        }
    };
    let (write_s, write_bytes) = phase("seq-write")?;
    let (read_s, read_bytes) = phase("seq-read")?;
    let (random_s, ops) = phase("rand-read")?;
    Ok(DiskResult {
        controller: name,
        write_mb_s: write_bytes as f64 / 1e6 / write_s,
        read_mb_s: read_bytes as f64 / 1e6 / read_s,
        random_iops: ops as f64 / random_s,
    })
}
