//! The client side of the httpd scenarios, run while the guest serves: curl for the
//! acceptance fetches, plain std sockets for malformed requests and the soak, and
//! `ping` plus this program itself (`xtask netns-client ...`) inside a network
//! namespace for the tap checks.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream, UdpSocket};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The files every httpd scenario serves.
#[derive(Clone)]
pub struct Site {
    /// `index.html`: 612 bytes of HTML.
    pub index: Vec<u8>,
    /// `big.bin`: 1 MiB of pseudo-random bytes.
    pub big: Vec<u8>,
}

impl Site {
    /// The standard site (the same bytes every time).
    pub fn standard() -> Self {
        let mut index = b"<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to Ingot httpd</title>\n</head>\n<body>\n<h1>Welcome to Ingot httpd</h1>\n<p>This page is served from a BMFS disk by a program running on the Ingot exokernel, over a TCP/IP stack linked into the program.</p>\n".to_vec();
        while index.len() < 612 - 16 {
            index.extend_from_slice(b"<p>Ingot.</p>\n");
        }
        index.resize(612 - 15, b' ');
        index.extend_from_slice(b"</body></html>\n");
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let big = (0..1 << 20)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 32) as u8
            })
            .collect();
        Self { index, big }
    }
}

/// Runs curl with `args`; returns stdout.
fn curl(args: &[&str]) -> Result<Vec<u8>, String> {
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "60"])
        .args(args)
        .output()
        .map_err(|e| format!("cannot run curl (apt-get install curl): {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "curl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(output.stdout)
}

/// Fetches `url` with curl into memory: (status, body).
fn fetch(url: &str) -> Result<(u16, Vec<u8>), String> {
    let file =
        std::env::temp_dir().join(format!("ingot-httpd-{}-{}", std::process::id(), unique()));
    let path = file.display().to_string();
    let status = curl(&["--output", &path, "--write-out", "%{http_code}", url])?;
    let body = std::fs::read(&file).unwrap_or_default();
    let _ = std::fs::remove_file(&file);
    let status = String::from_utf8_lossy(&status).trim().parse().unwrap_or(0);
    Ok((status, body))
}

fn unique() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn expect_body(what: &str, got: (u16, Vec<u8>), want: &[u8]) -> Result<(), String> {
    if got.0 != 200 {
        return Err(format!("{what}: status {}", got.0));
    }
    if got.1 != want {
        let first =
            got.1.iter().zip(want).position(|(a, b)| a != b).unwrap_or(got.1.len().min(want.len()));
        return Err(format!(
            "{what}: {} bytes received, {} expected, first difference at byte {first}",
            got.1.len(),
            want.len()
        ));
    }
    Ok(())
}

/// The acceptance checks through `hostfwd` on 127.0.0.1:`port` (26 requests).
pub fn hostfwd_suite(port: u16, site: &Site) -> Result<(), String> {
    let base = format!("http://127.0.0.1:{port}");
    expect_body("GET /", fetch(&format!("{base}/"))?, &site.index)?;
    expect_body("GET /big.bin", fetch(&format!("{base}/big.bin"))?, &site.big)?;
    let (status, _) = fetch(&format!("{base}/missing.html"))?;
    if status != 404 {
        return Err(format!("GET /missing.html: status {status}, expected 404"));
    }
    let head =
        String::from_utf8_lossy(&curl(&["--head", &format!("{base}/index.html")])?).into_owned();
    if !head.starts_with("HTTP/1.1 200")
        || !head.to_ascii_lowercase().contains("content-length: 612\r\n")
    {
        return Err(format!("HEAD /index.html answered: {head:?}"));
    }
    keep_alive(&base, &site.index)?;
    malformed_then_good(port, &base, &site.index)
}

/// `/` and the 1 MiB file through `hostfwd` on 127.0.0.1:`port`, bytes compared with
/// the site's (2 requests).
pub fn fetch_both(port: u16, site: &Site) -> Result<(), String> {
    let base = format!("http://127.0.0.1:{port}");
    expect_body(&format!("{base}/"), fetch(&format!("{base}/"))?, &site.index)?;
    expect_body(&format!("{base}/big.bin"), fetch(&format!("{base}/big.bin"))?, &site.big)
}

/// 20 requests on one connection: curl reports one connect for the first transfer and
/// none for the rest, and every body is the page.
fn keep_alive(base: &str, index: &[u8]) -> Result<(), String> {
    let url = format!("{base}/index.html");
    let mut args: Vec<&str> =
        vec!["--write-out", "%{http_code} %{num_connects} %{size_download}\\n"];
    for _ in 0..20 {
        args.extend([url.as_str(), "--output", "/dev/null"]);
    }
    let report = String::from_utf8_lossy(&curl(&args)?).into_owned();
    let lines: Vec<&str> = report.lines().collect();
    let size = index.len();
    let good = lines.len() == 20
        && lines
            .iter()
            .enumerate()
            .all(|(i, line)| *line == format!("200 {} {size}", usize::from(i == 0)));
    if good { Ok(()) } else { Err(format!("keep-alive: 20 transfers reported {lines:?}")) }
}

/// A request httparse rejects gets 400 and a close; the next connection is served.
fn malformed_then_good(port: u16, base: &str, index: &[u8]) -> Result<(), String> {
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).map_err(|e| e.to_string())?;
    stream.write_all(b"GARBAGE\r\n\r\n").map_err(|e| format!("send: {e}"))?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(|e| format!("reading the 400: {e}"))?;
    if !answer.starts_with(b"HTTP/1.1 400 ") {
        return Err(format!("malformed request answered {:?}", String::from_utf8_lossy(&answer)));
    }
    expect_body("GET / after a malformed request", fetch(&format!("{base}/"))?, index)
}

/// Sends `quit` to the program's quit port at `address` (through hostfwd).
pub fn send_quit(address: &str) -> Result<(), String> {
    let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    socket.send_to(b"quit", address).map_err(|e| format!("quit to {address}: {e}"))?;
    Ok(())
}

/// Runs this program's `netns-client` inside `namespace`.
pub fn in_namespace(namespace: &str, args: &[&str]) -> Result<String, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let output = Command::new("ip")
        .args(["netns", "exec", namespace])
        .arg(me)
        .arg("netns-client")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run ip netns exec: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        Ok(text)
    } else {
        Err(format!(
            "netns-client {}: {}{}",
            args.join(" "),
            text,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// Over the tap link: `ping` gets 3 replies, 3 UDP datagrams come back from the echo
/// port, and the page is served (1 request).
pub fn tap_suite(namespace: &str, guest: &str) -> Result<(), String> {
    let output = Command::new("ip")
        .args(["netns", "exec", namespace, "ping", "-c", "3", "-W", "5", "-i", "0.5", guest])
        .output()
        .map_err(|e| format!("cannot run ping (apt-get install iputils-ping): {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !text.contains("3 packets transmitted, 3 received") {
        return Err(format!(
            "ping {guest}: {}{}",
            text.trim(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    in_namespace(namespace, &["udp-echo", &format!("{guest}:7"), "3"])?;
    let page = Command::new("ip")
        .args([
            "netns",
            "exec",
            namespace,
            "curl",
            "--silent",
            "--max-time",
            "30",
            &format!("http://{guest}/"),
        ])
        .output()
        .map_err(|e| format!("curl in the namespace: {e}"))?;
    if page.stdout != Site::standard().index {
        return Err(format!("GET / over tap: {} bytes, not the page", page.stdout.len()));
    }
    Ok(())
}

/// `xtask netns-client udp-echo ADDR COUNT | udp-send ADDR TEXT | soak ADDR CLIENTS
/// SECONDS | udp-rate ADDR SECONDS WINDOW`: the client side of the tap checks, the soak
/// and `bench net`'s UDP echo rate, run inside the namespace.
pub fn netns_client(args: &[String]) -> Result<(), String> {
    let socket = UdpSocket::bind("0.0.0.0:0").map_err(|e| e.to_string())?;
    socket.set_read_timeout(Some(Duration::from_secs(5))).map_err(|e| e.to_string())?;
    match args {
        [command, address, count] if command == "udp-echo" => {
            let count: usize = count.parse().map_err(|_| format!("bad count {count}"))?;
            for index in 0..count {
                let datagram = format!("ingot echo {index} {}", "x".repeat(index * 100));
                socket.send_to(datagram.as_bytes(), address.as_str()).map_err(|e| e.to_string())?;
                let mut buffer = [0u8; 2048];
                let (length, from) =
                    socket.recv_from(&mut buffer).map_err(|e| format!("echo {index}: {e}"))?;
                if &buffer[..length] != datagram.as_bytes() {
                    return Err(format!(
                        "echo {index} from {from}: {length} bytes, not the datagram"
                    ));
                }
            }
            println!("echoed {count}");
            Ok(())
        }
        [command, address, text] if command == "udp-send" => {
            socket.send_to(text.as_bytes(), address.as_str()).map_err(|e| e.to_string())?;
            Ok(())
        }
        [command, address, clients, seconds] if command == "soak" => {
            let clients = clients.parse().map_err(|_| format!("bad client count {clients}"))?;
            let seconds = seconds.parse().map_err(|_| format!("bad seconds {seconds}"))?;
            let summary = soak(address, &Site::standard(), clients, Duration::from_secs(seconds))?;
            println!("{summary}");
            Ok(())
        }
        [command, address, seconds, window] if command == "udp-rate" => {
            let seconds: u64 = seconds.parse().map_err(|_| format!("bad seconds {seconds}"))?;
            let window: usize = window.parse().map_err(|_| format!("bad window {window}"))?;
            let (rate, stalls) = udp_rate(&socket, address, Duration::from_secs(seconds), window)?;
            println!("udp-rate packets_per_s={rate:.1} stalls={stalls}");
            Ok(())
        }
        _ => Err("usage: netns-client udp-echo ADDR COUNT | udp-send ADDR TEXT | soak ADDR CLIENTS SECONDS | udp-rate ADDR SECONDS WINDOW".into()),
    }
}

/// Echoed 64-byte datagrams per second with `window` in flight for `duration`; a
/// 200 ms silence (datagrams lost) refills the window and counts a stall.
fn udp_rate(
    socket: &UdpSocket,
    address: &str,
    duration: Duration,
    window: usize,
) -> Result<(f64, u64), String> {
    socket.connect(address).map_err(|e| format!("{address}: {e}"))?;
    socket.set_read_timeout(Some(Duration::from_millis(200))).map_err(|e| e.to_string())?;
    let datagram = [0x49u8; 64];
    let send = || socket.send(&datagram).map_err(|e| format!("send: {e}"));
    for _ in 0..window {
        send()?;
    }
    let (start, mut echoed, mut stalls) = (Instant::now(), 0u64, 0u64);
    let mut buffer = [0u8; 2048];
    while start.elapsed() < duration {
        match socket.recv(&mut buffer) {
            Ok(64) => {
                echoed += 1;
                send()?;
            }
            Ok(_) => {}
            Err(_) => {
                stalls += 1;
                for _ in 0..window {
                    send()?;
                }
            }
        }
    }
    Ok((echoed as f64 / start.elapsed().as_secs_f64(), stalls))
}

/// Reads one response (head and `Content-Length` body) from `stream`.
fn read_response(stream: &mut TcpStream) -> Result<(u16, Vec<u8>), String> {
    let mut data = Vec::new();
    let mut chunk = [0u8; 16384];
    let head_end = loop {
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let read = stream.read(&mut chunk).map_err(|e| format!("reading a response: {e}"))?;
        if read == 0 {
            return Err(format!("connection closed after {} bytes of head", data.len()));
        }
        data.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let length: usize = head
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string())
        })
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no Content-Length in {head:?}"))?;
    let mut body = data[head_end..].to_vec();
    while body.len() < length {
        let read = stream.read(&mut chunk).map_err(|e| format!("reading a body: {e}"))?;
        if read == 0 {
            return Err(format!("body cut at {} of {length} bytes", body.len()));
        }
        body.extend_from_slice(&chunk[..read]);
    }
    Ok((status, body))
}

/// What the soak's clients did.
#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    refused: AtomicU64,
    timed_out: AtomicU64,
    abandoned: AtomicU64,
}

/// One soak client's turn number `turn`: mostly three keep-alive GETs, sometimes a
/// malformed request, an abandoned one, or (for a few clients, once) a stalled one.
fn soak_turn(
    server: &str,
    site: &Site,
    client: usize,
    turn: usize,
    tally: &Tally,
) -> Result<(), String> {
    let mut stream = TcpStream::connect(server).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(60))).map_err(|e| e.to_string())?;
    let send = |stream: &mut TcpStream, bytes: &[u8]| {
        stream.write_all(bytes).map_err(|e| format!("send: {e}"))
    };
    match (client + turn) % 10 {
        0 => {
            send(&mut stream, b"GET /index.html HTTP/1.1\r\nBad Header\r\n\r\n")?;
            let (status, _) = read_response(&mut stream)?;
            if status != 400 {
                return Err(format!("malformed request answered {status}"));
            }
            tally.refused.fetch_add(1, Ordering::Relaxed);
        }
        1 => {
            send(&mut stream, b"GET /index.html HTTP/1.1\r\nHost: ingot\r\n")?;
            let _ = stream.shutdown(Shutdown::Both);
            tally.abandoned.fetch_add(1, Ordering::Relaxed);
        }
        2 if client.is_multiple_of(16) && turn < 10 => {
            send(&mut stream, b"GET /index.html HTTP/1.1\r\n")?;
            let (status, _) = read_response(&mut stream)?;
            if status != 408 {
                return Err(format!("stalled request answered {status}"));
            }
            tally.timed_out.fetch_add(1, Ordering::Relaxed);
        }
        _ => {
            for request in 0..3 {
                let (path, want) = if turn % 5 == 4 && request == 0 {
                    ("/big.bin", &site.big)
                } else {
                    ("/", &site.index)
                };
                let close = if request == 2 { "Connection: close\r\n" } else { "" };
                send(
                    &mut stream,
                    format!("GET {path} HTTP/1.1\r\nHost: ingot\r\n{close}\r\n").as_bytes(),
                )?;
                let (status, body) = read_response(&mut stream)?;
                if status != 200 || &body != want {
                    return Err(format!("GET {path}: status {status}, {} bytes", body.len()));
                }
                tally.ok.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    Ok(())
}

/// `clients` concurrent clients for `duration`; every good request must be answered.
/// Returns the counts the program's end-of-run line must show.
pub fn soak(
    server: &str,
    site: &Site,
    clients: usize,
    duration: Duration,
) -> Result<String, String> {
    let tally = Tally::default();
    let deadline = Instant::now() + duration;
    let failures: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..clients)
            .map(|client| {
                let tally = &tally;
                scope.spawn(move || {
                    let mut turn = 0;
                    while Instant::now() < deadline && turn < 40 {
                        soak_turn(server, site, client, turn, tally)
                            .map_err(|e| format!("client {client} turn {turn}: {e}"))?;
                        turn += 1;
                    }
                    Ok::<(), String>(())
                })
            })
            .collect();
        workers
            .into_iter()
            .filter_map(|w| w.join().unwrap_or(Err("client panicked".into())).err())
            .collect()
    });
    if let Some(first) = failures.first() {
        return Err(format!("{} of {clients} clients failed; first: {first}", failures.len()));
    }
    let (ok, refused, timed_out) = (
        tally.ok.load(Ordering::Relaxed),
        tally.refused.load(Ordering::Relaxed),
        tally.timed_out.load(Ordering::Relaxed),
    );
    if ok == 0 || refused == 0 || timed_out == 0 || tally.abandoned.load(Ordering::Relaxed) == 0 {
        return Err(format!(
            "the soak did not exercise every case: ok={ok} refused={refused} timed-out={timed_out}"
        ));
    }
    Ok(format!(
        "requests={} ok={ok} not-found=0 refused={refused} timed-out={timed_out} aborted=0",
        ok + refused + timed_out
    ))
}
