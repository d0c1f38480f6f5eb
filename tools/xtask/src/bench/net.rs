//! `cargo xtask bench net`: Ingot's httpd against the Linux peer's busybox httpd,
//! same QEMU flags, same NIC model (virtio-net, modern), same files (a 612-byte page
//! and a 100 KiB file), loaded by ApacheBench (`ab`, Debian's apache2-utils).
//!
//! The network is a tap device inside a network namespace this benchmark creates and
//! removes; QEMU and `ab` both run inside it, so no traffic leaves it and QEMU's user
//! network (slirp) is not in the path. Where namespaces cannot be made, QEMU's user
//! network with `hostfwd` on 127.0.0.1 is used instead and the report says so.
//!
//! Rounds are interleaved: each round boots Ingot, runs every case, stops it, then
//! does the same with Linux, so slow phases of the shared host hit both. Each `ab` run
//! is bounded in requests and time. Cases: both pages with one and 32 connections,
//! a new connection per request (busybox closes every connection), and for Ingot the
//! same with keep-alive. Then, over tap, UDP echo packets per second (64-byte datagrams,
//! 32 in flight) against httpd's echo port and the peer's `udp-echo`.

use std::process::Command;
use std::time::{Duration, Instant};

use super::net_icount::{Quit, measure_guest};
use super::net_report::{self, Results, report};
use super::stats::load1;
use super::{Options, peer};
use crate::build::{build_all, output_dir};
use crate::harness::{Event, Running};
use crate::qemu::{Machine, QemuConfig};
use crate::scenarios::httpd::{Namespace, TAP_GUEST, free_ports, write_site_disk};
use crate::scenarios::httpd_checks::Site;

/// Bytes of the large file.
const LARGE: usize = 100 * 1024;

/// One load case.
#[derive(Clone, Copy)]
pub(super) struct Case {
    pub name: &'static str,
    pub path: &'static str,
    connections: u32,
    keep_alive: bool,
    requests: u32,
}

pub(super) const CASES: &[Case] = &[
    Case {
        name: "612 B, 1 conn, new conn/req",
        path: "/index.html",
        connections: 1,
        keep_alive: false,
        requests: 500,
    },
    Case {
        name: "612 B, 32 conns, new conn/req",
        path: "/index.html",
        connections: 32,
        keep_alive: false,
        requests: 2000,
    },
    Case {
        name: "100 KiB, 1 conn, new conn/req",
        path: "/file100k.bin",
        connections: 1,
        keep_alive: false,
        requests: 100,
    },
    Case {
        name: "100 KiB, 32 conns, new conn/req",
        path: "/file100k.bin",
        connections: 32,
        keep_alive: false,
        requests: 300,
    },
    Case {
        name: "612 B, 1 conn, keep-alive",
        path: "/index.html",
        connections: 1,
        keep_alive: true,
        requests: 1000,
    },
    Case {
        name: "612 B, 32 conns, keep-alive",
        path: "/index.html",
        connections: 32,
        keep_alive: true,
        requests: 4000,
    },
];

/// What one `ab` run measured.
#[derive(Clone, Copy, Default)]
pub(super) struct Measured {
    pub requests_per_s: f64,
    pub mb_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub complete: u64,
    pub errors: u64,
}

/// The pure part: `ab`'s report to numbers.
fn parse_ab(text: &str) -> Option<Measured> {
    let value = |prefix: &str| -> Option<f64> {
        text.lines()
            .find_map(|line| line.trim_start().strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|number| number.parse().ok())
    };
    Some(Measured {
        requests_per_s: value("Requests per second:")?,
        mb_per_s: value("Transfer rate:")? * 1024.0 / 1e6,
        p50_ms: value("50%").unwrap_or(f64::NAN),
        p99_ms: value("99%").unwrap_or(f64::NAN),
        complete: value("Complete requests:")? as u64,
        errors: (value("Failed requests:").unwrap_or(0.0)
            + value("Non-2xx responses:").unwrap_or(0.0)) as u64,
    })
}

/// Where the guests are reached.
pub(super) enum Route {
    /// The namespace (kept alive for the run, removed on drop) and its name.
    Tap(
        #[allow(dead_code, reason = "held for its Drop, which removes the namespace")] Namespace,
        String,
    ),
    HostForward(u16),
}

impl Route {
    pub(super) fn url(&self, path: &str) -> String {
        match self {
            Route::Tap(_, _) => format!("http://{TAP_GUEST}{path}"),
            Route::HostForward(port) => format!("http://127.0.0.1:{port}{path}"),
        }
    }

    /// A command run where the guests are reachable.
    pub(super) fn command(&self, program: &str) -> Command {
        match self {
            Route::Tap(_, name) => {
                let mut command = Command::new("ip");
                command.args(["netns", "exec", name, program]);
                command
            }
            Route::HostForward(_) => Command::new(program),
        }
    }

    /// Sends one UDP datagram to `address` (`ip:port` on the tap link).
    pub(super) fn udp_send(&self, address: &str, text: &str) -> Result<(), String> {
        match self {
            Route::Tap(_, name) => {
                crate::scenarios::httpd_checks::in_namespace(name, &["udp-send", address, text])
                    .map(|_| ())
            }
            Route::HostForward(_) => Err("UDP to the guest needs the tap path".into()),
        }
    }

    fn netdev(&self) -> String {
        match self {
            Route::Tap(_, _) => "tap,id=n0,ifname=tap0,script=no,downscript=no".into(),
            Route::HostForward(port) => format!("user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:80"),
        }
    }

    pub(super) fn describe(&self) -> &'static str {
        match self {
            Route::Tap(_, _) => "tap device in a network namespace (traffic stays inside it)",
            Route::HostForward(_) => {
                "FALLBACK: QEMU user network with hostfwd on 127.0.0.1 (namespaces unavailable); slirp's cost is in every number"
            }
        }
    }
}

fn run_ab(path: &Route, case: &Case) -> Result<Measured, String> {
    let mut command = path.command("ab");
    command.args(["-q", "-s", "30", "-t", "20", "-n", &case.requests.to_string()]);
    command.args(["-c", &case.connections.to_string()]);
    if case.keep_alive {
        command.arg("-k");
    }
    command.arg(path.url(case.path));
    let output = command
        .output()
        .map_err(|e| format!("cannot run ab (apt-get install apache2-utils): {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    parse_ab(&text)
        .or_else(|| gave_up(&format!("{text}{stderr}"), case.requests))
        .ok_or_else(|| format!("ab {}: no result: {}{}", case.name, text.trim(), stderr.trim()))
}

/// `ab` that stopped on its per-request timeout (`-s`) prints no statistics, only how
/// many requests completed: the round counts as failed for this case, with the missing
/// requests as errors and no rates (left out of the medians).
fn gave_up(text: &str, requests: u32) -> Option<Measured> {
    let completed: u64 = text.split("Total of ").nth(1)?.split_whitespace().next()?.parse().ok()?;
    Some(Measured {
        requests_per_s: f64::NAN,
        mb_per_s: f64::NAN,
        p50_ms: f64::NAN,
        p99_ms: f64::NAN,
        complete: completed,
        errors: u64::from(requests).saturating_sub(completed),
    })
}

/// Boots `config`, waits for `marker`, waits until `/index.html` answers. With `typed`
/// QEMU's stdin (the serial console) is kept open for [`Running::type_text`].
pub(super) fn boot_guest(
    config: &QemuConfig,
    marker: &str,
    path: &Route,
    typed: bool,
) -> Result<Running, String> {
    let qemu = Running::spawn_with_stdin(config, typed)?;
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        match qemu.next_line(deadline) {
            Event::Line(_, line) if line.starts_with(marker) => break,
            Event::Line(_, _) => {}
            Event::Eof | Event::Timeout => {
                let (lines, stderr) = qemu.finish();
                return Err(format!("no `{marker}`: {:?} {}", lines.last(), stderr.trim()));
            }
        }
    }
    for _ in 0..60 {
        let ok = path
            .command("curl")
            .args([
                "--silent",
                "--max-time",
                "5",
                "--output",
                "/dev/null",
                &path.url("/index.html"),
            ])
            .status()
            .is_ok_and(|status| status.success());
        if ok {
            return Ok(qemu);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    Err("the guest never answered /index.html".into())
}

/// `bench net`.
pub fn bench_net(options: &Options) -> Result<(), String> {
    let artifacts = build_all()?;
    let linux = peer::prepare()?;
    let site = Site::standard();
    let large: Vec<u8> = site.big[..LARGE].to_vec();
    let config = format!("log=off\naddress={TAP_GUEST}/24\nquit-port={QUIT_PORT}\n");
    let namespace = format!("ingot-bench-net-{}", std::process::id());
    let path = match Namespace::create(&namespace) {
        Ok(ns) => Route::Tap(ns, namespace),
        Err(error) => {
            eprintln!("bench net: no network namespace ({error}); falling back to hostfwd");
            Route::HostForward(free_ports(1).first().copied().ok_or("no free port")?)
        }
    };
    let config = if matches!(path, Route::Tap(..)) { config } else { "log=off\n".to_string() };
    let files: [(&str, &[u8]); 3] =
        [("index.html", &site.index), ("file100k.bin", &large), ("httpd.cfg", config.as_bytes())];
    let disk = write_site_disk("bench-net", &files)?;
    let initramfs = output_dir().join("linux-peer").join("initramfs-net.cpio");
    peer::www_initramfs(&[("index.html", &site.index), ("file100k.bin", &large)], &initramfs)?;
    let nic = "virtio-net-pci,disable-legacy=on,romfile=,mac=52:54:00:12:34:56,netdev=n0";
    let base = |kernel: &std::path::Path, initrd: &std::path::Path| {
        let mut qemu = QemuConfig::new(Machine::Q35)
            .memory("256M")
            .kernel(kernel)
            .initrd(initrd)
            .extra_args(["-netdev".to_string(), path.netdev(), "-device".into(), nic.into()]);
        if let Route::Tap(_, name) = &path {
            qemu = qemu.netns(name.clone());
        }
        qemu
    };
    let ingot =
        base(&artifacts.kernel, &artifacts.program("httpd")).append("exit=qemu").extra_args([
            "-drive".to_string(),
            format!("file={},format=raw,if=none,id=d0", disk.display()),
            "-device".into(),
            "virtio-blk-pci,drive=d0".into(),
        ]);
    let peer_ip =
        if matches!(path, Route::Tap(..)) { "peerip=10.0.3.2/24 peergw=10.0.3.1" } else { "" };
    let linux_config = base(&linux.vmlinux, &initramfs)
        .append(format!("console=ttyS0 quiet nokaslr panic=-1 peer=net {peer_ip}"));

    let load_before = load1();
    let rounds = if options.instructions_only { 0 } else { options.runs };
    // results[side][case] = one Measured per round.
    let mut results = vec![vec![Vec::new(); CASES.len()]; 2];
    let mut udp: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for round in 0..rounds {
        for (side, (config, marker)) in
            [(&ingot, "httpd: listening"), (&linux_config, "ingot-peer: http-ready")]
                .into_iter()
                .enumerate()
        {
            let qemu = boot_guest(config, marker, &path, false)
                .map_err(|e| format!("round {round}: {e}"))?;
            for (index, case) in CASES.iter().enumerate() {
                if side == 1 && case.keep_alive {
                    continue; // busybox httpd closes every connection
                }
                let measured = run_ab(&path, case)?;
                eprintln!(
                    "bench net: round {round} {} {}: {:.0} req/s {:.2} MB/s p50 {} ms p99 {} ms errors {}",
                    ["ingot", "linux"][side],
                    case.name,
                    measured.requests_per_s,
                    measured.mb_per_s,
                    measured.p50_ms,
                    measured.p99_ms,
                    measured.errors
                );
                results[side][index].push(measured);
            }
            if let Route::Tap(_, name) = &path {
                let rate = udp_rate(name)?;
                eprintln!(
                    "bench net: round {round} {} UDP echo: {rate:.0} packets/s",
                    ["ingot", "linux"][side]
                );
                udp[side].push(rate);
            }
            drop(qemu);
        }
    }
    let load_after = load1();
    // A failure here leaves the rounds' results standing; the report says why.
    let instructions = match &path {
        Route::Tap(..) => {
            let quit = Quit::Datagram(format!("{TAP_GUEST}:{QUIT_PORT}"));
            measure_guest("Ingot", &ingot, "httpd: listening", &path, &quit).and_then(|ingot| {
                let serial = Quit::Serial("q\n");
                measure_guest("Linux", &linux_config, "ingot-peer: http-ready", &path, &serial)
                    .map(|linux| vec![ingot, linux])
            })
        }
        Route::HostForward(_) => Err("needs the tap path".to_string()),
    };
    if let Err(error) = &instructions {
        eprintln!("bench net: instructions per request not measured: {error}");
    }
    if options.instructions_only {
        return net_report::instructions_only(&instructions?, load_before, load_after);
    }
    let all = Results { results: &results, udp: &udp, instructions: &instructions };
    report(&all, &path, rounds, load_before, load_after, &ingot, &linux_config)
}

/// The UDP port httpd.cfg names for `quit` (the icount runs stop the guest with it).
const QUIT_PORT: u16 = 9;

/// 64-byte UDP echoes per second with 32 in flight for 5 s, measured from inside the
/// namespace by `xtask netns-client udp-rate`.
fn udp_rate(namespace: &str) -> Result<f64, String> {
    let address = format!("{TAP_GUEST}:7");
    let output = crate::scenarios::httpd_checks::in_namespace(
        namespace,
        &["udp-rate", &address, "5", "32"],
    )?;
    output
        .split_whitespace()
        .find_map(|word| word.strip_prefix("packets_per_s="))
        .and_then(|value| value.parse().ok())
        .ok_or_else(|| format!("udp-rate printed {output:?}"))
}

#[cfg(test)]
mod tests {
    use super::parse_ab;

    #[test]
    fn ab_report_parsed() {
        let text = "Complete requests:      1000\nFailed requests:        2\nNon-2xx responses:      3\nRequests per second:    1234.56 [#/sec] (mean)\nTransfer rate:          976.56 [Kbytes/sec] received\n  50%     12\n  99%     40\n 100%     55 (longest request)\n";
        let m = parse_ab(text).unwrap();
        assert_eq!((m.complete, m.errors), (1000, 5));
        assert!((m.requests_per_s - 1234.56).abs() < 1e-9);
        assert!((m.mb_per_s - 1.0).abs() < 1e-3);
        assert_eq!((m.p50_ms, m.p99_ms), (12.0, 40.0));
        assert!(parse_ab("nothing").is_none());
        let timed_out = "Benchmarking 10.0.3.2 (be patient)...Total of 298 requests completed\napr_pollset_poll: The timeout specified has expired (70007)";
        let failed = super::gave_up(timed_out, 300).unwrap();
        assert_eq!((failed.complete, failed.errors), (298, 2));
        assert!(failed.requests_per_s.is_nan());
        assert!(super::gave_up("nothing", 300).is_none());
    }
}
