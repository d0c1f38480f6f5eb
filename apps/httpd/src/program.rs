//! The program: heap, site, interface, then the server loop until a `quit` datagram.

use core::fmt::Write;

use ingot_sdk::println;
use ingot_tcpip::{Net, NetError};

use httpd::config::Config;
use httpd::server::{Server, Step};
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
    let net = match config.ipv4 {
        Some(settings) => Net::up_static(config.nic, settings),
        None => Net::up(config.nic),
    };
    let mut net = match net {
        Ok(net) => net,
        Err(NetError::NoInterface) => {
            println!("httpd: no network interface {}", config.nic);
            return 1;
        }
        Err(error) => {
            println!("httpd: interface {} not configured: {error:?}", config.nic);
            return 1;
        }
    };
    if let Some(settings) = net.settings() {
        match settings.gateway {
            Some(gateway) => {
                println!("httpd: nic {} address {} gateway {gateway}", config.nic, settings.address)
            }
            None => println!("httpd: nic {} address {}", config.nic, settings.address),
        }
    }
    let mut server = match Server::start(&mut net, config.clone()) {
        Ok(server) => server,
        Err(error) => {
            println!("httpd: cannot listen: {error:?}");
            return 1;
        }
    };
    println!(
        "httpd: listening port={} echo-port={} log={} wait={}",
        config.port,
        config.echo_port,
        if config.log { "on" } else { "off" },
        if config.poll { "poll" } else { "halt" }
    );
    let mut console = Console;
    while server.step(&mut net, &site, &mut console) == Step::Running {
        if !config.poll {
            // Connections have timeouts to check; with none, only frames and the
            // stack's own timers matter.
            let within_ms = (server.clients() > 0).then_some(100);
            net.wait(within_ms);
        }
    }
    server.stop(&mut net, 2_000);
    let stats = server.stats;
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
    let tcp = net.tcp_stats();
    println!(
        "httpd: sockets total={} listening={} open={} closing={} connections={} forced={} clients={}",
        tcp.sockets,
        tcp.listening,
        tcp.open,
        tcp.closing,
        tcp.connections,
        tcp.forced,
        server.clients()
    );
    println!("httpd: nic {}", net.counters());
    let interrupts =
        ingot_sdk::events::interrupt_events() & ingot_sdk::events::net(config.nic) != 0;
    let halted_ms = ingot_sdk::events::core_halted_ns(0).unwrap_or(0) / 1_000_000;
    println!(
        "httpd: core 0 halted={halted_ms}ms nic-interrupts={}",
        if interrupts { "on" } else { "off" }
    );
    0
}
