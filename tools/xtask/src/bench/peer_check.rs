//! `cargo xtask bench peer`: boots the Linux peer with its NIC and proves it serves HTTP.
//!
//! Not a benchmark: a check that the peer the network benchmarks will use works. It
//! boots `vmlinux` on q35 with `peer=net` and a virtio-net NIC on QEMU's user network
//! (host port forwarded to the guest's port 80), waits for `/init`'s
//! `ingot-peer: http-ready`, fetches `/` from busybox httpd and checks the body.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use super::peer;
use crate::harness::{Event, Running};
use crate::qemu::{Machine, QemuConfig};

const HTTP_READY: &str = "ingot-peer: http-ready";
const EXPECTED_BODY: &str = "ingot-peer: busybox httpd";

fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free loopback port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

fn http_get(port: u16) -> Result<String, String> {
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
    stream.write_all(b"GET / HTTP/1.0\r\nHost: peer\r\n\r\n").map_err(|e| format!("send: {e}"))?;
    let mut response = String::new();
    stream.read_to_string(&mut response).map_err(|e| format!("receive: {e}"))?;
    Ok(response)
}

pub fn peer_check() -> Result<(), String> {
    let peer = peer::prepare()?;
    let port = free_port()?;
    let config = QemuConfig::new(Machine::Q35)
        .kernel(&peer.vmlinux)
        .initrd(&peer.initramfs)
        .append("console=ttyS0 quiet panic=-1 peer=net")
        .extra_args([
            "-netdev".to_string(),
            format!("user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:80"),
            "-device".to_string(),
            "virtio-net-pci,netdev=n0,romfile=".to_string(),
        ]);
    println!("{}", config.command_line());
    let qemu = Running::spawn(&config)?;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match qemu.next_line(deadline) {
            Event::Line(at, line) => {
                println!("[{:7.3}] {line}", at.duration_since(qemu.started).as_secs_f64());
                if line.starts_with(HTTP_READY) {
                    break;
                }
            }
            Event::Eof | Event::Timeout => {
                let (_, stderr) = qemu.finish();
                return Err(format!(
                    "the peer never printed `{HTTP_READY}`; qemu stderr: {}",
                    stderr.trim()
                ));
            }
        }
    }
    let response = http_get(port);
    drop(qemu);
    let response = response?;
    let status = response.lines().next().unwrap_or("");
    println!("GET / → {status}");
    if !status.contains(" 200 ") || !response.contains(EXPECTED_BODY) {
        return Err(format!("unexpected HTTP response:\n{response}"));
    }
    println!("peer ok: eth0 configured, busybox httpd served `{EXPECTED_BODY}`");
    Ok(())
}
