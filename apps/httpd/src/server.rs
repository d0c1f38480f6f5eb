//! The server loop over one interface: accept connections, read request heads, send
//! responses (head, then the file streamed as the send buffer drains), keep-alive,
//! timeouts, and the UDP echo. Generic over the frame interface, so host tests run it
//! against a client stack through an in-memory wire.
//!
//! No client can hold the loop: every call is non-blocking and each connection only
//! moves what its socket takes now. A head that does not finish within the request
//! timeout gets 408; a response the peer stops reading is aborted after
//! [`SEND_TIMEOUT_MS`].

use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write;

use ingot_tcpip::smoltcp::wire::IpEndpoint;
use ingot_tcpip::{Connection, FrameIo, Listener, Net, NetError, TcpOptions, UdpPort};

use crate::config::Config;
use crate::http::{self, Body, MAX_HEAD, Parsed, Response};
use crate::site::Site;

/// A response that makes no progress this long is given up (the connection reset).
pub const SEND_TIMEOUT_MS: u64 = 30_000;

/// Send buffer per connection: a response up to this size is queued whole at once, so
/// its segments go out as the peer's window opens without waiting for the program to
/// refill the buffer between acknowledgements.
pub const SEND_BUFFER: usize = 128 * 1024;

/// What the server has done, printed at the end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Connections accepted.
    pub accepted: u64,
    /// Requests answered (every status).
    pub requests: u64,
    /// Of those, answered 200.
    pub ok: u64,
    /// Answered 404.
    pub not_found: u64,
    /// Answered 400, 405, 414 or 431.
    pub refused: u64,
    /// Answered 408.
    pub timed_out: u64,
    /// Body bytes queued for sending.
    pub body_bytes: u64,
    /// Connections closed (by either side, after a timeout or a reset).
    pub closed: u64,
    /// Responses given up because the client stopped reading.
    pub aborted: u64,
    /// UDP datagrams echoed.
    pub echoed: u64,
}

impl Stats {
    /// Adds `other`'s counts (a server per interface, one total).
    pub fn add(&mut self, other: &Stats) {
        self.accepted += other.accepted;
        self.requests += other.requests;
        self.ok += other.ok;
        self.not_found += other.not_found;
        self.refused += other.refused;
        self.timed_out += other.timed_out;
        self.body_bytes += other.body_bytes;
        self.closed += other.closed;
        self.aborted += other.aborted;
        self.echoed += other.echoed;
    }
}

struct Sending {
    response: Response,
    head_sent: usize,
    body_sent: usize,
}

struct Client {
    connection: Connection,
    remote: Option<IpEndpoint>,
    head: Vec<u8>,
    filled: usize,
    sending: Option<Sending>,
    last_ms: u64,
    peer_done: bool,
}

/// What one step of the loop decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Keep going.
    Running,
    /// A `quit` datagram arrived on the quit port.
    Quit,
}

/// The web server's state.
pub struct Server {
    config: Config,
    listener: Listener,
    echo: Option<UdpPort>,
    quit: Option<UdpPort>,
    clients: Vec<Client>,
    spare_heads: Vec<Vec<u8>>,
    /// Counts so far.
    pub stats: Stats,
}

enum Next {
    Keep,
    Done,
}

impl Server {
    /// Listens on the configured ports of `net`.
    pub fn start<F: FrameIo>(net: &mut Net<F>, config: Config) -> Result<Self, NetError> {
        // The stack resets a connection silent for its socket timeout; that must come
        // after the request timeout, or a slow client gets a reset instead of its 408.
        let defaults = TcpOptions::default();
        let options = TcpOptions {
            sockets: config.sockets,
            max_sockets: config.max_sockets,
            tx_buffer: SEND_BUFFER,
            timeout_ms: defaults.timeout_ms.max(config.request_timeout_ms.saturating_add(5_000)),
            ..defaults
        };
        let listener = net.listen_with(config.port, options)?;
        let echo = match config.echo_port {
            0 => None,
            port => Some(net.udp_bind(port, 64)?),
        };
        let quit = match config.quit_port {
            0 => None,
            port => Some(net.udp_bind(port, 4)?),
        };
        Ok(Self {
            config,
            listener,
            echo,
            quit,
            clients: Vec::new(),
            spare_heads: Vec::new(),
            stats: Stats::default(),
        })
    }

    /// Connections being served now.
    pub fn clients(&self) -> usize {
        self.clients.len()
    }

    /// One round: poll the interface, accept, serve every connection, echo datagrams.
    pub fn step<F: FrameIo>(&mut self, net: &mut Net<F>, site: &Site, log: &mut dyn Write) -> Step {
        net.poll();
        let now = net.now_ms();
        while let Some(connection) = net.accept(self.listener) {
            let head = self.spare_heads.pop().unwrap_or_else(|| vec![0; MAX_HEAD]);
            let remote = net.remote(connection).ok();
            self.clients.push(Client {
                connection,
                remote,
                head,
                filled: 0,
                sending: None,
                last_ms: now,
                peer_done: false,
            });
            self.stats.accepted += 1;
        }
        let mut index = 0;
        while index < self.clients.len() {
            match self.serve(net, site, index, now, log) {
                Next::Keep => index += 1,
                Next::Done => {
                    let client = self.clients.swap_remove(index);
                    // Already closed on most paths (then BadHandle); after a reset or a
                    // read error this hands the socket back to its listener.
                    let _ = net.close(client.connection);
                    self.spare_heads.push(client.head);
                    self.stats.closed += 1;
                }
            }
        }
        self.echo(net);
        if self.quit_asked(net) { Step::Quit } else { Step::Running }
    }

    /// Closes every connection (for a clean stop), then polls until they are gone or
    /// `linger_ms` has passed.
    pub fn stop<F: FrameIo>(&mut self, net: &mut Net<F>, linger_ms: u64) {
        for client in self.clients.drain(..) {
            let _ = net.close(client.connection);
            self.stats.closed += 1;
        }
        let deadline = net.now_ms() + linger_ms;
        while net.now_ms() < deadline && net.tcp_stats().closing > 0 {
            net.poll();
        }
    }

    fn echo<F: FrameIo>(&mut self, net: &mut Net<F>) {
        let Some(port) = self.echo else { return };
        let mut datagram = [0u8; 1472];
        while let Some((length, from)) = net.udp_receive(port, &mut datagram) {
            if net.udp_send(port, &datagram[..length], from).is_ok() {
                self.stats.echoed += 1;
            }
        }
    }

    fn quit_asked<F: FrameIo>(&mut self, net: &mut Net<F>) -> bool {
        let Some(port) = self.quit else { return false };
        let mut datagram = [0u8; 16];
        let mut asked = false;
        while let Some((length, _)) = net.udp_receive(port, &mut datagram) {
            asked |= datagram[..length].trim_ascii() == b"quit";
        }
        asked
    }

    fn serve<F: FrameIo>(
        &mut self,
        net: &mut Net<F>,
        site: &Site,
        index: usize,
        now: u64,
        log: &mut dyn Write,
    ) -> Next {
        let timeout = self.config.request_timeout_ms;
        let client = &mut self.clients[index];
        loop {
            if let Some(sending) = &mut client.sending {
                match send_some(net, client.connection, sending, site) {
                    Err(_) => return Next::Done,
                    Ok(progress) => {
                        if progress {
                            client.last_ms = now;
                        }
                    }
                }
                let finished = sending.head_sent == sending.response.head.len()
                    && sending.body_sent == sending.response.body_len;
                if !finished {
                    if now.saturating_sub(client.last_ms) > SEND_TIMEOUT_MS {
                        let _ = net.abort(client.connection);
                        self.stats.aborted += 1;
                        return Next::Done;
                    }
                    return Next::Keep;
                }
                let keep_alive = sending.response.keep_alive;
                client.sending = None;
                if !keep_alive {
                    let _ = net.close(client.connection);
                    return Next::Done;
                }
            }
            if client.filled < MAX_HEAD && !client.peer_done {
                match net.read(client.connection, &mut client.head[client.filled..]) {
                    Ok(0) => {}
                    Ok(read) => {
                        client.filled += read;
                        client.last_ms = now;
                    }
                    Err(NetError::Closed) => client.peer_done = true,
                    Err(_) => return Next::Done,
                }
            }
            if client.filled == 0 {
                let idle = now.saturating_sub(client.last_ms) > timeout;
                if client.peer_done || idle {
                    let _ = net.close(client.connection);
                    return Next::Done;
                }
                return Next::Keep;
            }
            let (consumed, response, line) = match http::parse(&client.head[..client.filled], site)
            {
                Parsed::Partial => {
                    if client.peer_done {
                        let _ = net.close(client.connection);
                        return Next::Done;
                    }
                    if now.saturating_sub(client.last_ms) <= timeout {
                        return Next::Keep;
                    }
                    (client.filled, http::error(408, false, false), Default::default())
                }
                Parsed::Complete { consumed, request, response } => (consumed, response, request),
                Parsed::Refused { request, response } => (client.filled, response, request),
            };
            client.head.copy_within(consumed..client.filled, 0);
            client.filled -= consumed;
            let stats = &mut self.stats;
            stats.requests += 1;
            stats.body_bytes += response.body_len as u64;
            match response.status {
                200 => stats.ok += 1,
                404 => stats.not_found += 1,
                408 => stats.timed_out += 1,
                _ => stats.refused += 1,
            }
            if self.config.log {
                let _ = match client.remote {
                    Some(remote) => write!(log, "httpd: {remote} "),
                    None => write!(log, "httpd: - "),
                };
                let _ = writeln!(
                    log,
                    "{} {} {} {}",
                    if line.method.as_str().is_empty() { "-" } else { line.method.as_str() },
                    if line.target.as_str().is_empty() { "-" } else { line.target.as_str() },
                    response.status,
                    response.body_len
                );
            }
            client.sending = Some(Sending { response, head_sent: 0, body_sent: 0 });
        }
    }
}

/// Writes what the socket takes of the head, then of the body. `Ok(true)` if any byte
/// went.
fn send_some<F: FrameIo>(
    net: &mut Net<F>,
    connection: Connection,
    sending: &mut Sending,
    site: &Site,
) -> Result<bool, NetError> {
    let mut progress = false;
    let head = &sending.response.head;
    if sending.head_sent < head.len() {
        let written = net.write(connection, &head[sending.head_sent..])?;
        sending.head_sent += written;
        progress |= written > 0;
        if sending.head_sent < head.len() {
            return Ok(progress);
        }
    }
    let body: &[u8] = match sending.response.body {
        Body::None => &[],
        Body::File(index) => site.file(index),
        Body::Text(text) => text.as_bytes(),
    };
    let end = sending.response.body_len.min(body.len());
    if sending.body_sent < end {
        let written = net.write(connection, &body[sending.body_sent..end])?;
        sending.body_sent += written;
        progress |= written > 0;
    }
    Ok(progress)
}
