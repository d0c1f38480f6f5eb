//! httpd scenarios, one set per NIC model (add a model to [`NIC_MODELS`] to test it),
//! and `httpd-microvm-virtio-mmio`, the hostfwd checks on microvm with its disk and NIC
//! over virtio-mmio:
//!
//! - `httpd-<nic>`: QEMU's user network with `hostfwd` on 127.0.0.1; the program
//!   takes its address by DHCP and serves a BMFS disk this file writes; curl fetches
//!   `/` and a 1 MiB file (bytes compared with the disk's), a missing file (404), a
//!   HEAD, 20 requests on one keep-alive connection, a malformed request then a good
//!   one on the next connection ([`super::httpd_checks`]).
//! - `httpd-tap-<nic>`: a tap device inside a network namespace made for the run;
//!   the program has a fixed address from `httpd.cfg`; `ping` from the namespace gets
//!   replies and a UDP datagram comes back from the echo port.
//! - `httpd-two-nics`: one program on an e1000e and an rtl8139 at once, each on a user
//!   network of its own; both serve the page and the 1 MiB file.
//! - `httpd-soak`: over tap as well, 64 concurrent clients for a bounded time, with
//!   malformed, abandoned and stalled requests among them; every good request must be
//!   answered and the program's end-of-run counts must show nothing left open. (Over
//!   QEMU's user network the soak failed now and then under host load: bursts of
//!   connections through `hostfwd` sometimes got no answer for a minute while the
//!   program had no connection open, so the path, not the program, was being tested.)
//!
//! Each run ends with a `quit` datagram to the program's quit port, so its final
//! counters are printed and checked.

use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ingot_bmfs::{Bmfs, SliceDisk};
use regex::Regex;

use super::httpd_checks::{self, Site};
use super::{BANNER, exit_status_for, ready, scenario};
use crate::build::{Artifacts, output_dir};
use crate::harness::Scenario;
use crate::qemu::{Machine, QemuConfig};

/// A NIC model QEMU offers and the kernel drives.
#[derive(Clone, Copy, Debug)]
pub struct NicModel {
    /// Short name used in scenario names.
    pub name: &'static str,
    /// The `-device` option (without `netdev=` and `mac=`).
    pub device: &'static str,
    /// The driver name the kernel reports.
    pub driver: &'static str,
}

/// Every NIC model the httpd scenarios run on.
pub const NIC_MODELS: &[NicModel] = &[
    NicModel {
        name: "virtio-modern",
        device: "virtio-net-pci,disable-legacy=on",
        driver: "virtio-net",
    },
    NicModel {
        name: "virtio-legacy",
        device: "virtio-net-pci,disable-modern=on",
        driver: "virtio-net",
    },
    NicModel { name: "e1000", device: "e1000", driver: "e1000" },
    NicModel { name: "e1000-82544gc", device: "e1000-82544gc", driver: "e1000" },
    NicModel { name: "e1000-82545em", device: "e1000-82545em", driver: "e1000" },
    NicModel { name: "e1000e", device: "e1000e", driver: "e1000e" },
    NicModel { name: "rtl8139", device: "rtl8139", driver: "rtl8139" },
];

/// The guest's MAC in every scenario.
const MAC: &str = "52:54:00:12:34:56";
/// The quit port httpd.cfg names.
const QUIT_PORT: u16 = 9;
/// The namespace side of the tap link and the guest's fixed address on it.
pub const TAP_HOST: &str = "10.0.3.1";
/// The guest's address on the tap link.
pub const TAP_GUEST: &str = "10.0.3.2";

/// Writes a fresh 16 MiB BMFS disk `<name>-site.img` holding `files`.
pub fn write_site_disk(name: &str, files: &[(&str, &[u8])]) -> Result<PathBuf, String> {
    let mut bytes = vec![0u8; 16 << 20];
    let mut fs = Bmfs::format(SliceDisk::new(&mut bytes)).map_err(|e| format!("{e:?}"))?;
    for (file, data) in files {
        fs.write(file, data).map_err(|e| format!("writing {file}: {e:?}"))?;
    }
    let dir = output_dir().join("disks");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(format!("{name}-site.img"));
    std::fs::write(&path, &bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// The site every scenario serves: a 612-byte page and a 1 MiB file of pseudo-random
/// bytes, written to a fresh BMFS disk with `config` as `httpd.cfg`.
pub fn site_disk(name: &str, config: &str) -> Result<(PathBuf, Site), String> {
    let site = Site::standard();
    let files: [(&str, &[u8]); 3] =
        [("index.html", &site.index), ("big.bin", &site.big), ("httpd.cfg", config.as_bytes())];
    Ok((write_site_disk(name, &files)?, site))
}

/// Where [`free_ports`] starts: below Linux's ephemeral range (32768–60999), so no
/// client connection of the tests (curl, ab, std sockets) can be holding a chosen port
/// as its local end when QEMU binds it.
const FIRST_TEST_PORT: u16 = 20_000;
/// How many ports [`free_ports`] cycles through.
const TEST_PORTS: u16 = 12_000;
/// The next candidate, shared by every scenario of this process, so two scenarios
/// running at once never choose the same port (a port the OS hands out for `:0` is
/// released before QEMU binds it, so two choices could otherwise meet).
static NEXT_TEST_PORT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(0);

/// `count` distinct free ports on 127.0.0.1 (TCP and UDP both free at the time of the
/// check), each used once per run of xtask; the start depends on the process id so two
/// xtask processes on one machine begin far apart.
pub fn free_ports(count: usize) -> Vec<u16> {
    use std::sync::atomic::Ordering;
    let offset = (std::process::id() % u32::from(TEST_PORTS / 100)) as u16 * 100;
    let mut ports = Vec::new();
    for _ in 0..TEST_PORTS {
        if ports.len() == count {
            break;
        }
        let step = NEXT_TEST_PORT.fetch_add(1, Ordering::Relaxed) % TEST_PORTS;
        let port = FIRST_TEST_PORT + (offset + step) % TEST_PORTS;
        let free = TcpListener::bind(("127.0.0.1", port)).is_ok()
            && UdpSocket::bind(("127.0.0.1", port)).is_ok();
        if free {
            ports.push(port);
        }
    }
    ports
}

fn httpd_qemu(artifacts: &Artifacts, disk: &Path) -> QemuConfig {
    httpd_qemu_on(Machine::Q35, "virtio-blk-pci", artifacts, disk)
}

/// httpd on `machine` with its site disk on `disk_device`.
fn httpd_qemu_on(
    machine: Machine,
    disk_device: &str,
    artifacts: &Artifacts,
    disk: &Path,
) -> QemuConfig {
    QemuConfig::new(machine)
        .memory("256M")
        .kernel(&artifacts.kernel)
        .initrd(artifacts.program("httpd"))
        .append("exit=qemu")
        .extra_args([
            "-drive".to_string(),
            format!("file={},format=raw,if=none,id=d0", disk.display()),
            "-device".into(),
            format!("{disk_device},drive=d0"),
        ])
}

/// The microVM model: no PCI, so the disk and the NIC are virtio-mmio devices (found
/// through QEMU microvm's ACPI DSDT).
const MICROVM_NIC: NicModel =
    NicModel { name: "microvm-virtio-mmio", device: "virtio-net-device", driver: "virtio-net" };

/// NICs on QEMU's `pc` (PIIX), whose INTx lines the kernel routes through the I/O
/// APIC from the interrupt-line register.
const PC_INTX_NICS: [NicModel; 2] = [
    NicModel { name: "pc-e1000", device: "e1000", driver: "e1000" },
    NicModel { name: "pc-rtl8139", device: "rtl8139", driver: "rtl8139" },
];

/// Scenario names of the NICs that interrupt (MSI-X, MSI, INTx on `pc`); httpd must
/// report `nic-interrupts=on` there and `off` elsewhere.
const INTERRUPTING_NICS: [&str; 4] = ["virtio-modern", "e1000e", "pc-e1000", "pc-rtl8139"];

/// The lines up to "listening", for a site of two files.
fn start_lines(nic: &NicModel, address: &str) -> Vec<String> {
    vec![
        BANNER.into(),
        format!("^ingot: net 0 {} mac={MAC} link=up$", nic.driver),
        ready("multiboot"),
        "^httpd: site from BMFS on disk 0 at sector 0: files=2 bytes=1049188$".into(),
        format!("^httpd: nic 0 address {}", regex::escape(address)),
        "^httpd: listening port=80 echo-port=7 log=on wait=halt$".into(),
    ]
}

/// Checks the end-of-run lines: request counts as expected, every socket back to
/// listening, no client left, no frame dropped as malformed.
fn check_end(log: &str, requests: &str) -> Result<(), String> {
    let patterns = [
        format!(r"(?m)^httpd: stats accepted=\d+ {requests} "),
        r"(?m)^httpd: sockets total=(\d+) listening=(\d+) open=0 closing=0 connections=\d+ forced=0 clients=0$".into(),
        r"(?m)^httpd: nic rx=\d+ .* malformed=0 ".into(),
        // The core halted between rounds (waiting for frames or timers).
        r"(?m)^httpd: core 0 halted=[1-9]\d*ms nic-interrupts=(?:on|off)$".into(),
        r"(?m)^ingot: program exited status=0$".into(),
    ];
    for pattern in &patterns {
        let regex = Regex::new(pattern).map_err(|e| e.to_string())?;
        let Some(found) = regex.captures(log) else {
            return Err(format!("no line matching `{pattern}`"));
        };
        if let (Some(total), Some(listening)) = (found.get(1), found.get(2))
            && total.as_str() != listening.as_str()
        {
            return Err(format!("sockets not all listening again: {}", &found[0]));
        }
    }
    Ok(())
}

fn hostfwd_scenario(artifacts: &Artifacts, nic: &NicModel) -> Scenario {
    hostfwd_scenario_on(artifacts, nic, Machine::Q35, "virtio-blk-pci")
}

fn hostfwd_scenario_on(
    artifacts: &Artifacts,
    nic: &NicModel,
    machine: Machine,
    disk_device: &str,
) -> Scenario {
    let name = format!("httpd-{}", nic.name);
    let ports = free_ports(2);
    let (http, quit) = (ports.first().copied().unwrap_or(0), ports.get(1).copied().unwrap_or(0));
    let disk = site_disk(&name, &format!("quit-port={QUIT_PORT}\n"));
    let (disk_path, site) = match disk {
        Ok(made) => made,
        Err(e) => (PathBuf::from(format!("/nonexistent: {e}")), Site::standard()),
    };
    let qemu = httpd_qemu_on(machine, disk_device, artifacts, &disk_path).extra_args([
        "-netdev".to_string(),
        format!("user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:{http}-:80,hostfwd=udp:127.0.0.1:{quit}-:{QUIT_PORT}"),
        "-device".into(),
        format!("{},netdev=n0,mac={MAC}", nic.device),
    ]);
    let lines = start_lines(nic, "10.0.2.15/24");
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut s = scenario(&name, qemu, &refs, exit_status_for(0));
    s.timeout = Duration::from_secs(180);
    s.live_check = Some(Box::new(move |_| {
        let result = httpd_checks::hostfwd_suite(http, &site);
        httpd_checks::send_quit(&format!("127.0.0.1:{quit}"))?;
        if result.is_err() {
            std::thread::sleep(Duration::from_secs(5));
        }
        result
    }));
    let interrupts = if INTERRUPTING_NICS.contains(&nic.name) { "on" } else { "off" };
    s.host_check = Some(Box::new(move |log| {
        let wanted = format!("nic-interrupts={interrupts}");
        if !log
            .lines()
            .any(|line| line.starts_with("httpd: core 0 halted=") && line.ends_with(&wanted))
        {
            return Err(format!("httpd did not report {wanted}"));
        }
        for line in [
            r"(?m)^httpd: 10\.0\.2\.2:\d+ GET / 200 612$",
            r"(?m)^httpd: 10\.0\.2\.2:\d+ GET /big\.bin 200 1048576$",
            r"(?m)^httpd: 10\.0\.2\.2:\d+ HEAD /index\.html 200 0$",
            r"(?m)^httpd: 10\.0\.2\.2:\d+ GET /missing\.html 404 14$",
            r"(?m)^httpd: 10\.0\.2\.2:\d+ GARBAGE - 400 16$",
        ] {
            if !Regex::new(line).map_err(|e| e.to_string())?.is_match(log) {
                return Err(format!("no access-log line matching `{line}`"));
            }
        }
        check_end(log, "requests=26 ok=24 not-found=1 refused=1 timed-out=0 aborted=0")
    }));
    s
}

/// `httpd-two-nics`: one program serving on two interfaces of different models at once
/// (`nic=0,1`), each with its own stack, user network and address by DHCP; both serve
/// `/` and the 1 MiB file, and the end-of-run counts cover both.
fn two_nics_scenario(artifacts: &Artifacts) -> Scenario {
    let name = "httpd-two-nics";
    let ports = free_ports(3);
    let port = |i: usize| ports.get(i).copied().unwrap_or(0);
    let (http0, http1, quit) = (port(0), port(1), port(2));
    let disk = site_disk(name, &format!("nic=0,1\nquit-port={QUIT_PORT}\n"));
    let (disk_path, site) = match disk {
        Ok(made) => made,
        Err(e) => (PathBuf::from(format!("/nonexistent: {e}")), Site::standard()),
    };
    let nics = [
        NicModel { name: "e1000e", device: "e1000e", driver: "e1000e" },
        NicModel { name: "rtl8139", device: "rtl8139", driver: "rtl8139" },
    ];
    let mut qemu = httpd_qemu(artifacts, &disk_path);
    for (index, (nic, http)) in nics.iter().zip([http0, http1]).enumerate() {
        let quit_rule = if index == 0 {
            format!(",hostfwd=udp:127.0.0.1:{quit}-:{QUIT_PORT}")
        } else {
            String::new()
        };
        qemu = qemu.extra_args([
            "-netdev".to_string(),
            format!("user,id=n{index},restrict=on,hostfwd=tcp:127.0.0.1:{http}-:80{quit_rule}"),
            "-device".into(),
            format!("{},netdev=n{index},mac={}", nic.device, super::net::mac(index)),
        ]);
    }
    let mut lines = vec![BANNER.to_string()];
    for (index, nic) in nics.iter().enumerate() {
        lines.push(format!(
            "^ingot: net {index} {} mac={} link=up$",
            nic.driver,
            super::net::mac(index)
        ));
    }
    lines.push(ready("multiboot"));
    lines.push("^httpd: site from BMFS on disk 0 at sector 0: files=2 bytes=1049188$".into());
    lines.push(r"^httpd: nic 0 address 10\.0\.2\.15/24".into());
    lines.push(r"^httpd: nic 1 address 10\.0\.2\.15/24".into());
    lines.push("^httpd: listening port=80 echo-port=7 log=on wait=halt$".into());
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut s = scenario(name, qemu, &refs, exit_status_for(0));
    s.timeout = Duration::from_secs(180);
    s.live_check = Some(Box::new(move |_| {
        let result = httpd_checks::fetch_both(http0, &site)
            .and_then(|()| httpd_checks::fetch_both(http1, &site));
        httpd_checks::send_quit(&format!("127.0.0.1:{quit}"))?;
        if result.is_err() {
            std::thread::sleep(Duration::from_secs(5));
        }
        result
    }));
    s.host_check = Some(Box::new(|log| {
        let served = Regex::new(r"(?m)^httpd: 10\.0\.2\.2:\d+ GET /big\.bin 200 1048576$")
            .map_err(|e| e.to_string())?;
        let count = served.find_iter(log).count();
        if count != 2 {
            return Err(format!("{count} access-log lines for /big.bin, expected 2 (one per NIC)"));
        }
        // Both interfaces sent a 1 MiB file (over 700 frames each) and dropped nothing.
        let counters = Regex::new(r"(?m)^httpd: nic rx=\d+ rx_bytes=\d+ tx=(\d+) .*malformed=0 ")
            .map_err(|e| e.to_string())?;
        let busy = counters
            .captures_iter(log)
            .filter(|c| c[1].parse::<u64>().is_ok_and(|tx| tx > 700))
            .count();
        if busy != 2 {
            return Err(format!("{busy} interfaces with traffic at the end, expected 2"));
        }
        check_end(log, "requests=4 ok=4 not-found=0 refused=0 timed-out=0 aborted=0")
    }));
    s
}

/// A network namespace with a tap device `tap0` at 10.0.3.1/24, removed on drop.
pub struct Namespace(String);

fn ip(args: &[&str]) -> Result<(), String> {
    let output =
        Command::new("ip").args(args).output().map_err(|e| format!("cannot run ip: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("ip {}: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim()))
    }
}

impl Namespace {
    /// Creates namespace `name` (replacing a stale one of that name).
    pub fn create(name: &str) -> Result<Self, String> {
        let _ = ip(&["netns", "del", name]);
        ip(&["netns", "add", name])?;
        let namespace = Namespace(name.to_string());
        ip(&["-n", name, "link", "set", "lo", "up"])?;
        ip(&["-n", name, "tuntap", "add", "dev", "tap0", "mode", "tap"])?;
        ip(&["-n", name, "addr", "add", &format!("{TAP_HOST}/24"), "dev", "tap0"])?;
        ip(&["-n", name, "link", "set", "tap0", "up"])?;
        Ok(namespace)
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = ip(&["netns", "del", &self.0]);
    }
}

fn tap_scenario(artifacts: &Artifacts, nic: &NicModel) -> Scenario {
    let name = format!("httpd-tap-{}", nic.name);
    let namespace = format!("ingot-{name}-{}", std::process::id());
    let config = format!("address={TAP_GUEST}/24\nquit-port={QUIT_PORT}\n");
    let disk_path = site_disk(&name, &config)
        .map(|(path, _)| path)
        .unwrap_or_else(|e| PathBuf::from(format!("/nonexistent: {e}")));
    let qemu = httpd_qemu(artifacts, &disk_path).netns(&namespace).extra_args([
        "-netdev".to_string(),
        "tap,id=n0,ifname=tap0,script=no,downscript=no".into(),
        "-device".into(),
        format!("{},netdev=n0,mac={MAC}", nic.device),
    ]);
    let lines = start_lines(nic, &format!("{TAP_GUEST}/24"));
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut s = scenario(&name, qemu, &refs, exit_status_for(0));
    s.timeout = Duration::from_secs(120);
    let prepare_name = namespace.clone();
    s.prepare = Some(Box::new(move || {
        Namespace::create(&prepare_name).map(|ns| Box::new(ns) as Box<dyn Send>)
    }));
    s.live_check = Some(Box::new(move |_| {
        let result = httpd_checks::tap_suite(&namespace, TAP_GUEST);
        httpd_checks::in_namespace(
            &namespace,
            &["udp-send", &format!("{TAP_GUEST}:{QUIT_PORT}"), "quit"],
        )?;
        result
    }));
    s.host_check = Some(Box::new(|log| {
        if !Regex::new(r"(?m)^httpd: stats .* echoed=3 ").map_err(|e| e.to_string())?.is_match(log)
        {
            return Err("the end-of-run stats do not show 3 datagrams echoed".into());
        }
        check_end(log, "requests=1 ok=1 not-found=0 refused=0 timed-out=0 aborted=0")
    }));
    s
}

fn soak_scenario(artifacts: &Artifacts) -> Scenario {
    let name = "httpd-soak";
    let namespace = format!("ingot-{name}-{}", std::process::id());
    // The request timeout is far above any stall a loaded host gives a good client
    // between connecting and sending (a shorter one made the server close, correctly,
    // connections whose clients the host had not yet run, and the soak count them as
    // unanswered); the stalled clients wait it out for their 408.
    let config = format!(
        "address={TAP_GUEST}/24\nquit-port={QUIT_PORT}\nlog=off\nrequest-timeout-ms=10000\n"
    );
    let disk_path = site_disk(name, &config)
        .map(|(path, _)| path)
        .unwrap_or_else(|e| PathBuf::from(format!("/nonexistent: {e}")));
    let nic = NIC_MODELS[0];
    let qemu = httpd_qemu(artifacts, &disk_path).netns(&namespace).extra_args([
        "-netdev".to_string(),
        "tap,id=n0,ifname=tap0,script=no,downscript=no".into(),
        "-device".into(),
        format!("{},netdev=n0,mac={MAC}", nic.device),
    ]);
    let mut lines = start_lines(&nic, &format!("{TAP_GUEST}/24"));
    lines[5] = "^httpd: listening port=80 echo-port=7 log=off wait=halt$".into();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut s = scenario(name, qemu, &refs, exit_status_for(0));
    s.timeout = Duration::from_secs(240);
    let prepare_name = namespace.clone();
    s.prepare = Some(Box::new(move || {
        Namespace::create(&prepare_name).map(|ns| Box::new(ns) as Box<dyn Send>)
    }));
    let expected = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let seen = expected.clone();
    s.live_check = Some(Box::new(move |_| {
        let server = format!("{TAP_GUEST}:80");
        let result = httpd_checks::in_namespace(&namespace, &["soak", &server, "64", "40"]);
        let quit = format!("{TAP_GUEST}:{QUIT_PORT}");
        httpd_checks::in_namespace(&namespace, &["udp-send", &quit, "quit"])?;
        if result.is_err() {
            // Let the program print its end-of-run counts into the failure report.
            std::thread::sleep(Duration::from_secs(5));
        }
        let summary = result?.trim().to_string();
        *seen.lock().unwrap_or_else(|e| e.into_inner()) = summary;
        Ok(())
    }));
    s.host_check = Some(Box::new(move |log| {
        let requests = expected.lock().unwrap_or_else(|e| e.into_inner()).clone();
        check_end(log, &requests)
    }));
    s
}

/// The httpd scenarios.
pub fn scenarios(artifacts: &Artifacts) -> Vec<Scenario> {
    let mut all = Vec::new();
    for nic in NIC_MODELS {
        all.push(hostfwd_scenario(artifacts, nic));
        all.push(tap_scenario(artifacts, nic));
    }
    all.push(hostfwd_scenario_on(artifacts, &MICROVM_NIC, Machine::Microvm, "virtio-blk-device"));
    all.push(two_nics_scenario(artifacts));
    for nic in &PC_INTX_NICS {
        all.push(hostfwd_scenario_on(artifacts, nic, Machine::Pc, "virtio-blk-pci"));
    }
    all.push(soak_scenario(artifacts));
    all
}
