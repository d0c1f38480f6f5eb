//! [`Net`]: one interface with its IPv4 settings (static or by DHCP), its sockets and
//! the poll that moves frames between them.

use alloc::vec;

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::socket::dhcpv4;
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpCidr, Ipv4Address, Ipv4Cidr};

use crate::counters::Counters;
use crate::device::NicDevice;
use crate::io::FrameIo;
use crate::tcp::TcpTable;

/// An interface's IPv4 settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Settings {
    /// Address and prefix length.
    pub address: Ipv4Cidr,
    /// Default gateway.
    pub gateway: Option<Ipv4Address>,
    /// DNS server.
    pub dns: Option<Ipv4Address>,
}

/// What went wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetError {
    /// No DHCP answer (or no settings) before the deadline.
    TimedOut,
    /// The connection is closed (by the peer, a reset or a timeout) or was never open.
    Closed,
    /// A handle this interface did not give out, or one already closed.
    BadHandle,
    /// A port already in use or 0, an address that cannot be used.
    InvalidArgument,
    /// No room: a buffer or socket table is full.
    Exhausted,
    /// The kernel has no such interface.
    NoInterface,
}

/// One interface and everything on it.
pub struct Net<F: FrameIo> {
    pub(crate) device: NicDevice<F>,
    pub(crate) iface: Interface,
    pub(crate) sockets: SocketSet<'static>,
    pub(crate) tcp: TcpTable,
    dhcp: Option<SocketHandle>,
    settings: Option<Ipv4Settings>,
}

impl<F: FrameIo> Net<F> {
    /// The stack over `io`, with no address yet: call [`Net::set_static`] or
    /// [`Net::start_dhcp`].
    pub fn new(io: F) -> Self {
        let mac = EthernetAddress(io.mac());
        let mut device = NicDevice::new(io);
        let now = device.now();
        let mut config = Config::new(HardwareAddress::Ethernet(mac));
        config.random_seed = now.total_micros() as u64
            ^ u64::from_le_bytes([
                mac.0[0], mac.0[1], mac.0[2], mac.0[3], mac.0[4], mac.0[5], 0x49, 0x4e,
            ]);
        let iface = Interface::new(config, &mut device, now);
        Self {
            device,
            iface,
            sockets: SocketSet::new(vec![]),
            tcp: TcpTable::default(),
            dhcp: None,
            settings: None,
        }
    }

    /// Uses fixed settings (and stops DHCP).
    pub fn set_static(&mut self, settings: Ipv4Settings) {
        if let Some(handle) = self.dhcp.take() {
            self.sockets.remove(handle);
        }
        self.apply(Some(settings));
    }

    /// Starts asking for settings by DHCP; [`Net::poll`] applies them when they come.
    pub fn start_dhcp(&mut self) {
        if self.dhcp.is_none() {
            self.dhcp = Some(self.sockets.add(dhcpv4::Socket::new()));
        }
    }

    /// Polls until the interface has settings or `timeout_ms` has passed.
    pub fn wait_configured(&mut self, timeout_ms: u64) -> Result<Ipv4Settings, NetError> {
        let deadline = self.now_ms() + timeout_ms;
        loop {
            self.poll();
            if let Some(settings) = self.settings {
                return Ok(settings);
            }
            if self.now_ms() >= deadline {
                return Err(NetError::TimedOut);
            }
        }
    }

    /// The settings in use.
    pub fn settings(&self) -> Option<Ipv4Settings> {
        self.settings
    }

    /// Moves frames: receives what arrived, runs the protocols, sends what they
    /// produced, applies DHCP events and recycles finished connections. Returns whether
    /// anything happened (a socket may have data or room).
    pub fn poll(&mut self) -> bool {
        let now = self.device.now();
        let mut changed = false;
        // One received batch per round; between rounds the listeners get fresh
        // listening sockets, so a burst of connection requests finds one (a SYN that
        // finds none is answered with RST). Bounded: a busy interface must not keep the
        // program inside one poll.
        for _ in 0..16 {
            self.device.allow_fetch();
            let result = self.iface.poll(now, &mut self.device, &mut self.sockets);
            self.device.flush();
            self.tcp.top_up(&mut self.sockets);
            changed |= result == smoltcp::iface::PollResult::SocketStateChanged;
            if !self.device.last_batch_full() && result == smoltcp::iface::PollResult::None {
                break;
            }
        }
        self.dhcp_events();
        self.tcp.recycle(&mut self.sockets, now);
        changed
    }

    /// Between polls, when the program has nothing else to do: halts (through
    /// [`FrameIo::wait_frames`]) until a frame may have arrived, the stack's next
    /// timer (a retransmission, DHCP) or `within_ms` from now, whichever is first.
    /// Returns at once, `false`, when frames may still be waiting in the interface (the
    /// last batch was full) or the stack has work now; `true` after a wait.
    pub fn wait(&mut self, within_ms: Option<u64>) -> bool {
        if self.device.last_batch_full() || self.device.has_pending() {
            return false;
        }
        let now = self.device.now();
        let stack_us = self.iface.poll_delay(now, &self.sockets).map(|delay| delay.total_micros());
        let within_us = within_ms.map(|ms| ms.saturating_mul(1000));
        let delay_us = match (stack_us, within_us) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if delay_us == Some(0) {
            return false;
        }
        let now_ns = self.device.io().now_ns();
        let deadline_ns =
            delay_us.map_or(u64::MAX, |us| now_ns.saturating_add(us.saturating_mul(1000)));
        self.device.io_mut().wait_frames(deadline_ns)
    }

    /// Milliseconds on the interface's clock.
    pub fn now_ms(&self) -> u64 {
        self.device.now().total_millis() as u64
    }

    /// The time now, in smoltcp's type.
    pub fn now(&self) -> Instant {
        self.device.now()
    }

    /// Frames moved and dropped so far.
    pub fn counters(&self) -> Counters {
        self.device.counters()
    }

    /// Turns the per-frame inspection (which feeds the drop counters) on or off.
    pub fn set_inspect(&mut self, on: bool) {
        self.device.set_inspect(on);
    }

    /// The frame interface underneath.
    pub fn io(&self) -> &F {
        self.device.io()
    }

    /// The smoltcp objects, for programs that want more than this API offers: the
    /// interface, the device and the socket set (add your own sockets and call
    /// [`Net::poll`] as usual).
    pub fn parts(&mut self) -> (&mut Interface, &mut NicDevice<F>, &mut SocketSet<'static>) {
        (&mut self.iface, &mut self.device, &mut self.sockets)
    }

    fn dhcp_events(&mut self) {
        let Some(handle) = self.dhcp else { return };
        let event = self.sockets.get_mut::<dhcpv4::Socket<'_>>(handle).poll();
        match event {
            Some(dhcpv4::Event::Configured(config)) => {
                let settings = Ipv4Settings {
                    address: config.address,
                    gateway: config.router,
                    dns: config.dns_servers.first().copied(),
                };
                self.apply(Some(settings));
            }
            Some(dhcpv4::Event::Deconfigured) => self.apply(None),
            None => {}
        }
    }

    fn apply(&mut self, settings: Option<Ipv4Settings>) {
        self.iface.update_ip_addrs(|addresses| {
            addresses.clear();
            if let Some(settings) = settings {
                let _ = addresses.push(IpCidr::Ipv4(settings.address));
            }
        });
        self.iface.routes_mut().remove_default_ipv4_route();
        if let Some(gateway) = settings.and_then(|s| s.gateway) {
            let _ = self.iface.routes_mut().add_default_ipv4_route(gateway);
        }
        self.settings = settings;
    }
}

/// Parses `a.b.c.d/len`.
pub fn parse_cidr(text: &str) -> Option<Ipv4Cidr> {
    let (address, prefix) = text.split_once('/')?;
    let prefix: u8 = prefix.parse().ok().filter(|&p| p <= 32)?;
    Some(Ipv4Cidr::new(address.parse().ok()?, prefix))
}
