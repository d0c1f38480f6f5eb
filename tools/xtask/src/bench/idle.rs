//! `cargo xtask bench idle`: what an idle guest costs the host, and what halting
//! between requests costs httpd.
//!
//! Host CPU time of the QEMU process (`/proc/PID/stat` utime + stime) over
//! [`WINDOW`] once the guest is ready and has settled: Ingot at the monitor prompt,
//! Ingot's httpd waiting for requests (halting, the default, and `poll=on`), and the
//! Linux peer with busybox httpd waiting. All on q35 with one vCPU, TCG, the same NIC
//! (modern virtio-net on QEMU's user network, no traffic). Then httpd request latency
//! and requests per second, halting against polling: sequential GETs of the 612-byte
//! page on one keep-alive connection through `hostfwd` (slirp is in every number, for
//! both modes alike). Rounds are interleaved (every configuration once per round).

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::stats::{load1, median};
use super::{Options, peer, write_output, write_report_section};
use crate::build::{build_all, output_dir};
use crate::harness::{Event, Running};
use crate::qemu::{Machine, QemuConfig};
use crate::scenarios::httpd::{free_ports, write_site_disk};
use crate::scenarios::httpd_checks::Site;

/// How long host CPU time is measured for, once the guest is ready.
const WINDOW: Duration = Duration::from_secs(20);
/// Left to settle after the ready line (boot's tail, DHCP) before measuring.
const SETTLE: Duration = Duration::from_secs(3);
/// Sequential requests per latency measurement.
const REQUESTS: usize = 400;

/// One idle configuration.
struct Guest {
    name: &'static str,
    config: QemuConfig,
    ready: &'static str,
    /// HTTP port forwarded to the guest's port 80, for the latency phase.
    http: Option<u16>,
}

/// `/proc/PID/stat`'s utime + stime, in clock ticks (fields 14 and 15; counted after
/// the command name's closing parenthesis, which may itself hold spaces).
pub fn cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

fn ticks_per_second() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
        .unwrap_or(100)
}

fn process_ticks(pid: u32) -> Result<u64, String> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    cpu_ticks(&stat).ok_or(format!("{path}: unreadable"))
}

fn boot(config: &QemuConfig, ready: &str) -> Result<Running, String> {
    let qemu = Running::spawn(config)?;
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        match qemu.next_line(deadline) {
            Event::Line(_, line) if line.starts_with(ready) => return Ok(qemu),
            Event::Line(_, _) => {}
            Event::Eof | Event::Timeout => {
                let (lines, stderr) = qemu.finish();
                return Err(format!("no `{ready}`: {:?} {}", lines.last(), stderr.trim()));
            }
        }
    }
}

/// Host CPU used over [`WINDOW`], as a percentage of one host core.
fn idle_cpu_percent(qemu: &Running, hz: u64) -> Result<f64, String> {
    std::thread::sleep(SETTLE);
    let before = process_ticks(qemu.pid())?;
    let start = Instant::now();
    std::thread::sleep(WINDOW);
    let used = process_ticks(qemu.pid())? - before;
    Ok(100.0 * used as f64 / hz as f64 / start.elapsed().as_secs_f64())
}

/// Median and 99th-percentile latency (ms) and requests per second of [`REQUESTS`]
/// sequential keep-alive GETs of `/index.html`.
fn latency(port: u16, body_len: usize) -> Result<(f64, f64, f64), String> {
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let request = b"GET /index.html HTTP/1.1\r\nHost: bench\r\n\r\n";
    let mut times = Vec::with_capacity(REQUESTS);
    let mut buffer = vec![0u8; 4096];
    let all = Instant::now();
    for _ in 0..REQUESTS {
        let start = Instant::now();
        stream.write_all(request).map_err(|e| format!("send: {e}"))?;
        let mut got = Vec::new();
        loop {
            let n = stream.read(&mut buffer).map_err(|e| format!("receive: {e}"))?;
            if n == 0 {
                return Err("connection closed".into());
            }
            got.extend_from_slice(&buffer[..n]);
            if let Some(head) = got.windows(4).position(|w| w == b"\r\n\r\n")
                && got.len() >= head + 4 + body_len
            {
                break;
            }
        }
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let rate = REQUESTS as f64 / all.elapsed().as_secs_f64();
    times.sort_by(f64::total_cmp);
    Ok((median(&times), times[times.len() * 99 / 100], rate))
}

/// 4 KiB random reads at depth 1 (`apps/disk-bench`'s third phase, 4000 reads):
/// reads per second and the QEMU process's host CPU over that phase.
fn disk_reads(config: &QemuConfig, hz: u64) -> Result<(f64, f64), String> {
    let qemu = Running::spawn(config)?;
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut start = None;
    loop {
        match qemu.next_line(deadline) {
            Event::Line(at, line) if line.starts_with("disk-bench: rand-read start") => {
                start = Some((at, process_ticks(qemu.pid())?));
            }
            Event::Line(at, line) if line.starts_with("disk-bench: rand-read done") => {
                let (began, ticks) = start.ok_or("no rand-read start line")?;
                let seconds = at.duration_since(began).as_secs_f64();
                let used = process_ticks(qemu.pid())?.saturating_sub(ticks);
                let cpu = 100.0 * used as f64 / hz as f64 / seconds;
                let _ = qemu.finish();
                return Ok((4000.0 / seconds, cpu));
            }
            Event::Line(_, _) => {}
            Event::Eof | Event::Timeout => {
                let (lines, stderr) = qemu.finish();
                return Err(format!("disk-bench: {:?} {}", lines.last(), stderr.trim()));
            }
        }
    }
}

/// `bench idle`.
pub fn bench_idle(options: &Options) -> Result<(), String> {
    let artifacts = build_all()?;
    let linux = peer::prepare()?;
    let site = Site::standard();
    let ports = free_ports(2);
    let (halt_port, poll_port) = (ports[0], ports[1]);
    let disk = |name: &str, config: &str| {
        write_site_disk(name, &[("index.html", &site.index), ("httpd.cfg", config.as_bytes())])
    };
    let halt_disk = disk("bench-idle-halt", "log=off\n")?;
    let poll_disk = disk("bench-idle-poll", "log=off\npoll=on\n")?;
    let initramfs = output_dir().join("linux-peer").join("initramfs-net.cpio");
    peer::www_initramfs(&[("index.html", &site.index)], &initramfs)?;
    let nic = "virtio-net-pci,disable-legacy=on,romfile=,mac=52:54:00:12:34:56,netdev=n0";
    let base = |kernel: &std::path::Path, initrd: &std::path::Path, forward: Option<u16>| {
        let netdev = match forward {
            Some(port) => format!("user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:80"),
            None => "user,id=n0".into(),
        };
        QemuConfig::new(Machine::Q35).memory("256M").kernel(kernel).initrd(initrd).extra_args([
            "-netdev".to_string(),
            netdev,
            "-device".into(),
            nic.into(),
        ])
    };
    let httpd = |disk: &std::path::Path, port: u16| {
        base(&artifacts.kernel, &artifacts.program("httpd"), Some(port)).extra_args([
            "-drive".to_string(),
            format!("file={},format=raw,if=none,id=d0", disk.display()),
            "-device".into(),
            "virtio-blk-pci,drive=d0".into(),
        ])
    };
    let guests = [
        Guest {
            name: "Ingot, monitor prompt",
            config: base(&artifacts.kernel, &artifacts.program("monitor"), None),
            ready: "Ingot monitor",
            http: None,
        },
        Guest {
            name: "Ingot httpd, halting (default)",
            config: httpd(&halt_disk, halt_port),
            ready: "httpd: listening",
            http: Some(halt_port),
        },
        Guest {
            name: "Ingot httpd, poll=on",
            config: httpd(&poll_disk, poll_port),
            ready: "httpd: listening",
            http: Some(poll_port),
        },
        Guest {
            name: "Linux peer, busybox httpd",
            config: base(&linux.vmlinux, &initramfs, None)
                .append("console=ttyS0 quiet nokaslr panic=-1 peer=net"),
            ready: "ingot-peer: http-ready",
            http: None,
        },
    ];
    let disk_image = output_dir().join("disks").join("bench-idle-disk.img");
    std::fs::create_dir_all(output_dir().join("disks")).map_err(|e| e.to_string())?;
    std::fs::File::create(&disk_image)
        .and_then(|file| file.set_len(128 << 20))
        .map_err(|e| format!("{}: {e}", disk_image.display()))?;
    let disk_bench = |append: &str| {
        QemuConfig::new(Machine::Q35)
            .memory("256M")
            .kernel(&artifacts.kernel)
            .initrd(artifacts.program("disk-bench"))
            .append(append)
            .extra_args([
                "-drive".to_string(),
                format!(
                    "file={},format=raw,if=none,id=d0,cache=none,aio=threads",
                    disk_image.display()
                ),
                "-device".into(),
                "virtio-blk-pci,drive=d0,disable-legacy=on".into(),
            ])
    };
    let disk_modes = [
        ("interrupts (default)", disk_bench("exit=qemu")),
        ("irq=off (polled)", disk_bench("exit=qemu irq=off")),
    ];
    let mut disk: Vec<Vec<(f64, f64)>> = vec![Vec::new(); disk_modes.len()];
    let hz = ticks_per_second();
    let load_before = load1();
    let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); guests.len()];
    let mut lat: Vec<Vec<(f64, f64, f64)>> = vec![Vec::new(); guests.len()];
    for round in 0..options.runs {
        for (index, guest) in guests.iter().enumerate() {
            let qemu =
                boot(&guest.config, guest.ready).map_err(|e| format!("{}: {e}", guest.name))?;
            let percent = idle_cpu_percent(&qemu, hz)?;
            eprintln!("bench idle: round {round} {}: {percent:.2} % of a host core", guest.name);
            cpu[index].push(percent);
            if let Some(port) = guest.http {
                let measured = latency(port, site.index.len())?;
                eprintln!(
                    "bench idle: round {round} {}: p50 {:.3} ms p99 {:.3} ms {:.0} req/s",
                    guest.name, measured.0, measured.1, measured.2
                );
                lat[index].push(measured);
            }
            drop(qemu);
        }
        for (index, (name, config)) in disk_modes.iter().enumerate() {
            let (rate, cpu) = disk_reads(config, hz)?;
            eprintln!(
                "bench idle: round {round} disk {name}: {rate:.0} reads/s, host CPU {cpu:.1} %"
            );
            disk[index].push((rate, cpu));
        }
    }
    let load_after = load1();
    let mut md = String::from("## Idle\n\n");
    let _ = writeln!(
        md,
        "`cargo xtask bench idle --runs {}`: host CPU time of the QEMU process over {} s after \
         ready (+{} s settling), q35, 1 vCPU, TCG, modern virtio-net on the user network, no \
         traffic. Host load (1-min average) {load_before:.2} before, {load_after:.2} after.\n",
        options.runs,
        WINDOW.as_secs(),
        SETTLE.as_secs()
    );
    md += "| Guest | host CPU, median % of one core | min | max |\n|---|---:|---:|---:|\n";
    let mut json = String::from("{\"bench\":\"idle\",\"guests\":[");
    for (index, guest) in guests.iter().enumerate() {
        let values = &cpu[index];
        let (min, max) = values.iter().fold((f64::MAX, 0f64), |(a, b), &v| (a.min(v), b.max(v)));
        let _ = writeln!(md, "| {} | {:.2} | {min:.2} | {max:.2} |", guest.name, median(values));
        let lat_json: Vec<String> =
            lat[index].iter().map(|(p50, p99, rate)| format!("[{p50},{p99},{rate}]")).collect();
        let _ = write!(
            json,
            "{}{{\"name\":\"{}\",\"cpu_percent\":{:?},\"latency_p50_p99_rate\":[{}]}}",
            if index == 0 { "" } else { "," },
            guest.name,
            values,
            lat_json.join(",")
        );
    }
    json += "]";
    md += "\nhttpd, 612-byte page, one keep-alive connection through hostfwd, ";
    let _ = writeln!(md, "{REQUESTS} sequential requests per round:\n");
    md += "| Mode | p50 ms | p99 ms | requests/s |\n|---|---:|---:|---:|\n";
    for (index, guest) in guests.iter().enumerate().filter(|(i, _)| !lat[*i].is_empty()) {
        let column = |pick: fn(&(f64, f64, f64)) -> f64| {
            median(&lat[index].iter().map(pick).collect::<Vec<_>>())
        };
        let _ = writeln!(
            md,
            "| {} | {:.3} | {:.3} | {:.0} |",
            guest.name,
            column(|m| m.0),
            column(|m| m.1),
            column(|m| m.2)
        );
    }
    md += "\n4 KiB random reads at depth 1 (`disk-bench`, 4000 reads), modern virtio-blk \
           (`cache=none`), interrupts against `irq=off`:\n\n";
    md += "| Mode | reads/s | µs per read | host CPU % of one core |\n|---|---:|---:|---:|\n";
    for (index, (name, _)) in disk_modes.iter().enumerate() {
        let rate = median(&disk[index].iter().map(|d| d.0).collect::<Vec<_>>());
        let cpu = median(&disk[index].iter().map(|d| d.1).collect::<Vec<_>>());
        let _ = writeln!(md, "| {name} | {rate:.0} | {:.1} | {cpu:.1} |", 1e6 / rate);
    }
    let disk_json: Vec<String> = disk_modes
        .iter()
        .enumerate()
        .map(|(i, (name, _))| format!("{{\"mode\":\"{name}\",\"reads_per_s_cpu\":{:?}}}", disk[i]))
        .collect();
    let _ = writeln!(json, ",\"disk\":[{}]}}", disk_json.join(","));
    write_output("idle.json", json.as_bytes())?;
    write_report_section("idle", &md)?;
    println!("{md}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::cpu_ticks;

    #[test]
    fn cpu_ticks_are_utime_plus_stime_even_with_spaces_in_the_name() {
        let stat =
            "4242 (qemu system x86) S 1 4242 4242 0 -1 4194560 9876 0 0 0 1234 567 0 0 20 0 5 0";
        assert_eq!(cpu_ticks(stat), Some(1234 + 567));
        assert_eq!(cpu_ticks("4242 (qemu) S 1"), None);
    }
}
