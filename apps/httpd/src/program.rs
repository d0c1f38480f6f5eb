//! The program: heap, site, interfaces (one server on each), then the server loops
//! until a `quit` datagram on any of them.

use alloc::vec::Vec;
use core::fmt::Write;

use ingot_sdk::println;
use ingot_tcpip::{Ipv4Settings, KernelNic, Net, NetError, TcpStats};

use httpd::config::Config;
use httpd::server::{Server, Stats, Step};
use httpd::site::Site;

ingot_sdk::entry!(main);

/// Heap size: the site's files, socket buffers and the stack's tables.
const HEAP_BYTES: usize = 256 << 20;

/// Console output for the access log.
struct Console;

impl Write for Console {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        ingot_sdk::write(text.as_bytes()).map(|_| ()).map_err(|_| core::fmt::Error)
    }
}

fn main() -> u64 {
    let Some(memory) = ingot_sdk::scratch::take() else {
        println!("httpd: no free memory");
        return 1;
    };
    let heap_bytes = memory.len().min(HEAP_BYTES);
    if !ingot_sdk::heap::claim(&mut memory[..heap_bytes]) {
        println!("httpd: heap of {heap_bytes} bytes refused");
        return 1;
    }
    let site = match crate::disks::find_site() {
        Some((site, disk, first)) => {
            println!(
                "httpd: site from BMFS on disk {disk} at sector {first}: files={} bytes={}",
                site.len(),
                site.bytes()
            );
            for name in &site.skipped {
                println!("httpd: skipped {name} (too large or unreadable)");
            }
            site
        }
        None => {
            println!("httpd: no BMFS disk; serving the built-in site");
            Site::built_in()
        }
    };
    let (config, problems) = Config::parse(site.config.as_deref().unwrap_or(""));
    for problem in &problems {
        println!("httpd: httpd.cfg {problem}");
    }
    let mut interfaces = Vec::new();
    for &nic in &config.nics {
        let Some(net) = bring_up(nic, config.ipv4) else { return 1 };
        interfaces.push(net);
    }
    let mut servers = Vec::new();
    for net in &mut interfaces {
        match Server::start(net, config.clone()) {
            Ok(server) => servers.push(server),
            Err(error) => {
                println!("httpd: cannot listen: {error:?}");
                return 1;
            }
        }
    }
    println!(
        "httpd: listening port={} echo-port={} log={} wait={}",
        config.port,
        config.echo_port,
        if config.log { "on" } else { "off" },
        if config.poll { "poll" } else { "halt" }
    );
    let mut console = Console;
    'serving: loop {
        for (server, net) in servers.iter_mut().zip(&mut interfaces) {
            if server.step(net, &site, &mut console) == Step::Quit {
                break 'serving;
            }
        }
        if !config.poll {
            // Connections have timeouts to check; with none, only frames and the
            // stack's own timers matter. A wait covers one interface's events, so with
            // several the halt is cut to 1 ms and the others are polled after it.
            let open = servers.iter().any(|server| server.clients() > 0);
            let within_ms = if interfaces.len() > 1 { Some(1) } else { open.then_some(100) };
            if let Some(net) = interfaces.first_mut() {
                net.wait(within_ms);
            }
        }
    }
    let mut stats = Stats::default();
    let mut tcp = TcpStats::default();
    let mut clients = 0;
    for (server, net) in servers.iter_mut().zip(&mut interfaces) {
        server.stop(net, 2_000);
        stats.add(&server.stats);
        let sockets = net.tcp_stats();
        tcp.sockets += sockets.sockets;
        tcp.listening += sockets.listening;
        tcp.open += sockets.open;
        tcp.closing += sockets.closing;
        tcp.connections += sockets.connections;
        tcp.forced += sockets.forced;
        clients += server.clients();
    }
    println!(
        "httpd: stats accepted={} requests={} ok={} not-found={} refused={} timed-out={} aborted={} closed={} echoed={} body-bytes={}",
        stats.accepted,
        stats.requests,
        stats.ok,
        stats.not_found,
        stats.refused,
        stats.timed_out,
        stats.aborted,
        stats.closed,
        stats.echoed,
        stats.body_bytes
    );
    println!(
        "httpd: sockets total={} listening={} open={} closing={} connections={} forced={} clients={clients}",
        tcp.sockets, tcp.listening, tcp.open, tcp.closing, tcp.connections, tcp.forced,
    );
    for net in &interfaces {
        println!("httpd: nic {}", net.counters());
    }
    let events = ingot_sdk::events::interrupt_events();
    let interrupts = config.nics.iter().all(|&nic| events & ingot_sdk::events::net(nic) != 0);
    let halted_ms = ingot_sdk::events::core_halted_ns(0).unwrap_or(0) / 1_000_000;
    println!(
        "httpd: core 0 halted={halted_ms}ms nic-interrupts={}",
        if interrupts { "on" } else { "off" }
    );
    0
}

/// Interface `nic` with `ipv4` or by DHCP; prints its address, or why it has none.
fn bring_up(nic: u64, ipv4: Option<Ipv4Settings>) -> Option<Net<KernelNic>> {
    let net = match ipv4 {
        Some(settings) => Net::up_static(nic, settings),
        None => Net::up(nic),
    };
    let net = match net {
        Ok(net) => net,
        Err(NetError::NoInterface) => {
            println!("httpd: no network interface {nic}");
            return None;
        }
        Err(error) => {
            println!("httpd: interface {nic} not configured: {error:?}");
            return None;
        }
    };
    if let Some(settings) = net.settings() {
        match settings.gateway {
            Some(gateway) => {
                println!("httpd: nic {nic} address {} gateway {gateway}", settings.address)
            }
            None => println!("httpd: nic {nic} address {}", settings.address),
        }
    }
    Some(net)
}
