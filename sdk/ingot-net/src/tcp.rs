//! TCP for programs: servers (`listen`, `accept`) and clients (`connect`), then `read`,
//! `write`, `close` on a [`Connection`].
//!
//! A listener is a pool of smoltcp sockets listening on one port (smoltcp accepts a
//! connection on the listening socket itself). `accept` hands out a socket whose
//! handshake finished; once the program closes it and the close completes (or lingers
//! past the socket timeout) the same socket, with its buffers, listens again. So a
//! server allocates its buffers once and a connection costs no allocation. When every
//! socket of a listener is taken, a new one is added, up to the listener's maximum.

use alloc::vec;
use alloc::vec::Vec;

use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::tcp::{self, State};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{IpEndpoint, Ipv4Address};

use crate::io::FrameIo;
use crate::stack::{Net, NetError};

/// Sizes and limits of a listener's sockets.
#[derive(Clone, Copy, Debug)]
pub struct TcpOptions {
    /// Receive buffer per socket.
    pub rx_buffer: usize,
    /// Send buffer per socket.
    pub tx_buffer: usize,
    /// Sockets listening at once (kept topped up while below the maximum).
    pub sockets: usize,
    /// Most sockets the listener may grow to.
    pub max_sockets: usize,
    /// A connection whose peer stops acknowledging (or a close that does not finish)
    /// is dropped after this long.
    pub timeout_ms: u64,
}

impl Default for TcpOptions {
    fn default() -> Self {
        Self {
            rx_buffer: 8192,
            tx_buffer: 65536,
            sockets: 16,
            max_sockets: 128,
            timeout_ms: 10_000,
        }
    }
}

/// A listening port, from [`Net::listen`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Listener(usize);

/// A connection, from [`Net::accept`] or [`Net::connect`]. Stale once closed: calls
/// with it then return `BadHandle`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Connection {
    slot: usize,
    generation: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Use {
    Listening,
    Open,
    Closing(Instant),
    Free,
}

struct Slot {
    handle: SocketHandle,
    listener: Option<usize>,
    generation: u32,
    state: Use,
}

struct ListenerInfo {
    port: u16,
    options: TcpOptions,
}

/// Socket counts, to show that nothing leaked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpStats {
    /// Sockets allocated (each with its buffers).
    pub sockets: usize,
    /// Listening for a connection.
    pub listening: usize,
    /// Handed to the program and not closed.
    pub open: usize,
    /// Closed by the program, finishing.
    pub closing: usize,
    /// Connections accepted or opened since the start.
    pub connections: u64,
    /// Closes that did not finish in time and were aborted.
    pub forced: u64,
}

/// Every TCP socket of an interface.
#[derive(Default)]
pub(crate) struct TcpTable {
    slots: Vec<Slot>,
    listeners: Vec<ListenerInfo>,
    next_port: u16,
    connections: u64,
    forced: u64,
}

fn new_socket(options: &TcpOptions) -> tcp::Socket<'static> {
    let rx = tcp::SocketBuffer::new(vec![0; options.rx_buffer]);
    let tx = tcp::SocketBuffer::new(vec![0; options.tx_buffer]);
    let mut socket = tcp::Socket::new(rx, tx);
    socket.set_timeout(Some(Duration::from_millis(options.timeout_ms)));
    socket.set_nagle_enabled(false);
    socket
}

impl TcpTable {
    fn add_listening(&mut self, sockets: &mut SocketSet<'static>, listener: usize) -> bool {
        let info = &self.listeners[listener];
        let mut socket = new_socket(&info.options);
        if socket.listen(info.port).is_err() {
            return false;
        }
        let handle = sockets.add(socket);
        self.slots.push(Slot {
            handle,
            listener: Some(listener),
            generation: 0,
            state: Use::Listening,
        });
        true
    }

    fn open_slot(&self, connection: Connection) -> Result<SocketHandle, NetError> {
        match self.slots.get(connection.slot) {
            Some(slot) if slot.generation == connection.generation && slot.state == Use::Open => {
                Ok(slot.handle)
            }
            _ => Err(NetError::BadHandle),
        }
    }

    /// Adds listening sockets to every listener with fewer than it started with (up to
    /// its maximum).
    pub(crate) fn top_up(&mut self, sockets: &mut SocketSet<'static>) {
        for listener in 0..self.listeners.len() {
            let (mut listening, mut total) = (0, 0);
            for slot in self.slots.iter().filter(|slot| slot.listener == Some(listener)) {
                total += 1;
                if slot.state == Use::Listening
                    && sockets.get::<tcp::Socket<'_>>(slot.handle).state() == State::Listen
                {
                    listening += 1;
                }
            }
            let options = self.listeners[listener].options;
            while listening < options.sockets && total < options.max_sockets {
                if !self.add_listening(sockets, listener) {
                    break;
                }
                listening += 1;
                total += 1;
            }
        }
    }

    /// Returns finished sockets to their listener (or frees client sockets).
    pub(crate) fn recycle(&mut self, sockets: &mut SocketSet<'static>, now: Instant) {
        for index in 0..self.slots.len() {
            let slot = &mut self.slots[index];
            let socket = sockets.get_mut::<tcp::Socket<'_>>(slot.handle);
            let done = match slot.state {
                Use::Closing(since) => {
                    let timeout =
                        slot.listener.map_or(10_000, |l| self.listeners[l].options.timeout_ms);
                    let finished = matches!(socket.state(), State::Closed | State::TimeWait);
                    if !finished && now - since > Duration::from_millis(timeout) {
                        self.forced += 1;
                    }
                    finished || now - since > Duration::from_millis(timeout)
                }
                Use::Listening => socket.state() == State::Closed,
                Use::Open | Use::Free => false,
            };
            if !done {
                continue;
            }
            socket.abort();
            match slot.listener {
                Some(listener) => {
                    let _ = socket.listen(self.listeners[listener].port);
                    slot.state = Use::Listening;
                }
                None => {
                    sockets.remove(slot.handle);
                    slot.state = Use::Free;
                }
            }
        }
        self.slots.retain(|slot| slot.state != Use::Free || slot.listener.is_some());
    }
}

impl<F: FrameIo> Net<F> {
    /// Listens on `port` with the default options (16 sockets growing to 128, 8 KiB
    /// receive and 64 KiB send buffers).
    pub fn listen(&mut self, port: u16) -> Result<Listener, NetError> {
        self.listen_with(port, TcpOptions::default())
    }

    /// Listens on `port` with `options`.
    pub fn listen_with(&mut self, port: u16, options: TcpOptions) -> Result<Listener, NetError> {
        if port == 0
            || options.sockets == 0
            || options.max_sockets < options.sockets
            || self.tcp.listeners.iter().any(|l| l.port == port)
        {
            return Err(NetError::InvalidArgument);
        }
        let listener = self.tcp.listeners.len();
        self.tcp.listeners.push(ListenerInfo { port, options });
        for _ in 0..options.sockets {
            self.tcp.add_listening(&mut self.sockets, listener);
        }
        Ok(Listener(listener))
    }

    /// A connection that finished its handshake on `listener`, if any.
    pub fn accept(&mut self, listener: Listener) -> Option<Connection> {
        self.tcp.listeners.get(listener.0)?;
        let table = &mut self.tcp;
        let mut found = None;
        for (index, slot) in table.slots.iter_mut().enumerate() {
            if slot.listener != Some(listener.0) || slot.state != Use::Listening {
                continue;
            }
            let state = self.sockets.get::<tcp::Socket<'_>>(slot.handle).state();
            if !matches!(state, State::Listen | State::SynReceived | State::Closed) {
                slot.state = Use::Open;
                slot.generation = slot.generation.wrapping_add(1);
                table.connections += 1;
                found = Some(Connection { slot: index, generation: slot.generation });
                break;
            }
        }
        // Keep as many sockets listening as the listener started with.
        self.tcp.top_up(&mut self.sockets);
        found
    }

    /// Opens a connection to `address:port` from a free local port.
    pub fn connect(&mut self, address: Ipv4Address, port: u16) -> Result<Connection, NetError> {
        let table = &mut self.tcp;
        table.next_port = if table.next_port < 49152 {
            49152
        } else {
            table.next_port.wrapping_add(1).max(49152)
        };
        let mut socket = new_socket(&TcpOptions::default());
        socket
            .connect(self.iface.context(), IpEndpoint::new(address.into(), port), table.next_port)
            .map_err(|_| NetError::InvalidArgument)?;
        let handle = self.sockets.add(socket);
        let slot = table.slots.len();
        table.slots.push(Slot { handle, listener: None, generation: 1, state: Use::Open });
        table.connections += 1;
        Ok(Connection { slot, generation: 1 })
    }

    /// Reads what has arrived into `buffer`: `Ok(0)` when nothing has yet,
    /// `Err(Closed)` once the peer has finished sending and everything was read.
    pub fn read(&mut self, connection: Connection, buffer: &mut [u8]) -> Result<usize, NetError> {
        let handle = self.tcp.open_slot(connection)?;
        let socket = self.sockets.get_mut::<tcp::Socket<'_>>(handle);
        if socket.can_recv() {
            return socket.recv_slice(buffer).map_err(|_| NetError::Closed);
        }
        match socket.state() {
            State::SynSent | State::SynReceived => Ok(0),
            _ if socket.may_recv() => Ok(0),
            _ => Err(NetError::Closed),
        }
    }

    /// Queues as much of `data` as the send buffer takes; returns how much (0 when it
    /// is full), or `Err(Closed)` when the connection can no longer send.
    pub fn write(&mut self, connection: Connection, data: &[u8]) -> Result<usize, NetError> {
        let handle = self.tcp.open_slot(connection)?;
        let socket = self.sockets.get_mut::<tcp::Socket<'_>>(handle);
        match socket.state() {
            State::SynSent | State::SynReceived => Ok(0),
            _ if socket.may_send() => socket.send_slice(data).map_err(|_| NetError::Closed),
            _ => Err(NetError::Closed),
        }
    }

    /// Free room in the send buffer.
    pub fn write_room(&self, connection: Connection) -> Result<usize, NetError> {
        let handle = self.tcp.open_slot(connection)?;
        let socket = self.sockets.get::<tcp::Socket<'_>>(handle);
        Ok(socket.send_capacity() - socket.send_queue())
    }

    /// Bytes written and not yet acknowledged by the peer.
    pub fn unacknowledged(&self, connection: Connection) -> Result<usize, NetError> {
        let handle = self.tcp.open_slot(connection)?;
        Ok(self.sockets.get::<tcp::Socket<'_>>(handle).send_queue())
    }

    /// The peer's address and port.
    pub fn remote(&self, connection: Connection) -> Result<IpEndpoint, NetError> {
        let handle = self.tcp.open_slot(connection)?;
        self.sockets.get::<tcp::Socket<'_>>(handle).remote_endpoint().ok_or(NetError::Closed)
    }

    /// Whether the handshake is done (clients: `connect` returns at once).
    pub fn is_established(&self, connection: Connection) -> bool {
        self.tcp.open_slot(connection).is_ok_and(|handle| {
            !matches!(
                self.sockets.get::<tcp::Socket<'_>>(handle).state(),
                State::SynSent | State::SynReceived | State::Closed | State::Listen
            )
        })
    }

    /// Closes gracefully: what was written is still sent, then FIN. The handle is stale
    /// afterwards.
    pub fn close(&mut self, connection: Connection) -> Result<(), NetError> {
        self.finish(connection, false)
    }

    /// Resets the connection at once. The handle is stale afterwards.
    pub fn abort(&mut self, connection: Connection) -> Result<(), NetError> {
        self.finish(connection, true)
    }

    fn finish(&mut self, connection: Connection, reset: bool) -> Result<(), NetError> {
        let handle = self.tcp.open_slot(connection)?;
        let socket = self.sockets.get_mut::<tcp::Socket<'_>>(handle);
        if reset {
            socket.abort();
        } else {
            socket.close();
        }
        let now = self.device.now();
        let slot = &mut self.tcp.slots[connection.slot];
        slot.state = Use::Closing(now);
        slot.generation = slot.generation.wrapping_add(1);
        Ok(())
    }

    /// How many sockets are in which use.
    pub fn tcp_stats(&self) -> TcpStats {
        let mut stats = TcpStats {
            connections: self.tcp.connections,
            forced: self.tcp.forced,
            ..TcpStats::default()
        };
        for slot in &self.tcp.slots {
            match slot.state {
                Use::Listening => stats.listening += 1,
                Use::Open => stats.open += 1,
                Use::Closing(_) => stats.closing += 1,
                Use::Free => continue,
            }
            stats.sockets += 1;
        }
        stats
    }
}
