//! httpd's settings: defaults, overridden by `httpd.cfg` on the BMFS disk (lines of
//! `key=value`; `#` starts a comment). Programs have no command line, so this file is
//! where a benchmark turns the access log off or a deployment gives a fixed address.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use ingot_tcpip::smoltcp::wire::Ipv4Address;
use ingot_tcpip::{Ipv4Settings, parse_cidr};

/// Everything httpd can be told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The interfaces to serve on (`nic=0` or `nic=0,1`), each with its own stack.
    pub nics: Vec<u64>,
    /// Fixed IPv4 settings (one interface only); `None` means DHCP.
    pub ipv4: Option<Ipv4Settings>,
    /// The HTTP port.
    pub port: u16,
    /// The UDP echo port (0: none).
    pub echo_port: u16,
    /// A UDP datagram `quit` to this port stops the server (0: never stops).
    pub quit_port: u16,
    /// One access-log line per request.
    pub log: bool,
    /// TCP sockets kept listening (a burst of more connection requests than this is
    /// refused).
    pub sockets: usize,
    /// Most TCP sockets at once.
    pub max_sockets: usize,
    /// A request head not finished in this long gets 408; an idle keep-alive
    /// connection is closed after it.
    pub request_timeout_ms: u64,
    /// Poll the interface without pause (`poll=on`) instead of halting the core
    /// between rounds until a frame or a timer (the default).
    pub poll: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            nics: alloc::vec![0],
            ipv4: None,
            port: 80,
            echo_port: 7,
            quit_port: 0,
            log: true,
            sockets: 64,
            max_sockets: 192,
            request_timeout_ms: 5_000,
            poll: false,
        }
    }
}

impl Config {
    /// The defaults changed by `text`; returns the config and one message per line
    /// that was not understood (those lines are ignored).
    pub fn parse(text: &str) -> (Self, Vec<String>) {
        let mut config = Self::default();
        let mut problems = Vec::new();
        let mut address = None;
        let mut gateway = None;
        let mut dns = None;
        for (number, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                problems.push(format!("line {}: no '=' in `{line}`", number + 1));
                continue;
            };
            let (key, value) = (key.trim(), value.trim());
            let ok = match key {
                "nic" => parse_nics(value).map(|nics| config.nics = nics).is_some(),
                "port" => value.parse().ok().filter(|&p| p != 0).map(|p| config.port = p).is_some(),
                "echo-port" => value.parse().map(|p| config.echo_port = p).is_ok(),
                "quit-port" => value.parse().map(|p| config.quit_port = p).is_ok(),
                "log" => match value {
                    "on" => {
                        config.log = true;
                        true
                    }
                    "off" => {
                        config.log = false;
                        true
                    }
                    _ => false,
                },
                "poll" => match value {
                    "on" => {
                        config.poll = true;
                        true
                    }
                    "off" => {
                        config.poll = false;
                        true
                    }
                    _ => false,
                },
                "sockets" => {
                    value.parse().ok().filter(|&n| n > 0).map(|n| config.sockets = n).is_some()
                }
                "max-sockets" => {
                    value.parse().ok().filter(|&n| n > 0).map(|n| config.max_sockets = n).is_some()
                }
                "request-timeout-ms" => {
                    value.parse().map(|v| config.request_timeout_ms = v).is_ok()
                }
                "address" => parse_cidr(value).map(|a| address = Some(a)).is_some(),
                "gateway" => value.parse::<Ipv4Address>().map(|g| gateway = Some(g)).is_ok(),
                "dns" => value.parse::<Ipv4Address>().map(|d| dns = Some(d)).is_ok(),
                _ => {
                    problems.push(format!("line {}: unknown key `{key}`", number + 1));
                    continue;
                }
            };
            if !ok {
                problems.push(format!("line {}: bad value for {key}: `{value}`", number + 1));
            }
        }
        config.max_sockets = config.max_sockets.max(config.sockets);
        config.ipv4 = address.map(|address| Ipv4Settings { address, gateway, dns });
        if config.ipv4.is_some() && config.nics.len() > 1 {
            problems.push(format!(
                "address= is for one interface, nic= names {}: every interface uses DHCP",
                config.nics.len()
            ));
            config.ipv4 = None;
        }
        (config, problems)
    }
}

/// `0` or `0,1,...`: distinct interface numbers, at least one.
fn parse_nics(value: &str) -> Option<Vec<u64>> {
    let mut nics = Vec::new();
    for part in value.split(',') {
        let nic: u64 = part.trim().parse().ok()?;
        if nics.contains(&nic) {
            return None;
        }
        nics.push(nic);
    }
    Some(nics)
}
