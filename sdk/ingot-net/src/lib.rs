//! TCP/IP for Ingot programs: in an exokernel the protocol stack is a library linked
//! into the program, and this is it. [smoltcp] does the protocols (Ethernet, ARP,
//! IPv4 with ICMP echo answered, UDP, TCP, DHCP; IPv6 addresses when configured); this
//! crate gives it frames through the kernel's raw-frame calls in batches ([`device`]),
//! time from the kernel's clock, and a small API for programs:
//!
//! ```ignore
//! let mut net = ingot_tcpip::Net::up(0)?;            // interface 0, address by DHCP
//! let web = net.listen(80)?;
//! loop {
//!     net.poll();
//!     while let Some(connection) = net.accept(web) {
//!         // net.read(connection, ..), net.write(connection, ..), net.close(connection)
//!     }
//! }
//! ```
//!
//! One [`Net`] per interface: a program opens as many as it wants and chooses which
//! one each socket lives on. Everything in smoltcp stays reachable ([`Net::parts`]).
//! Nothing here is unsafe and nothing panics on what arrives from the wire; the
//! counters ([`Counters`]) say what was received, sent and dropped at which layer.
//! Needs `alloc`: a program claims memory for the SDK's heap (`ingot_sdk::heap`).
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod counters;
pub mod device;
pub mod inspect;
pub mod io;
pub mod stack;
pub mod tcp;
pub mod udp;

#[cfg(test)]
mod tests;

pub use counters::Counters;
pub use io::FrameIo;
pub use smoltcp;
pub use stack::{Ipv4Settings, Net, NetError, parse_cidr};
pub use tcp::{Connection, Listener, TcpOptions, TcpStats};
pub use udp::UdpPort;

#[cfg(target_os = "none")]
pub use io::KernelNic;

#[cfg(target_os = "none")]
impl Net<KernelNic> {
    /// Interface `nic` with its address from DHCP (waiting up to 10 s).
    pub fn up(nic: u64) -> Result<Self, NetError> {
        let mut net = Self::new(KernelNic::open(nic).map_err(|_| NetError::NoInterface)?);
        net.start_dhcp();
        net.wait_configured(10_000)?;
        Ok(net)
    }

    /// Interface `nic` with fixed settings.
    pub fn up_static(nic: u64, settings: Ipv4Settings) -> Result<Self, NetError> {
        let mut net = Self::new(KernelNic::open(nic).map_err(|_| NetError::NoInterface)?);
        net.set_static(settings);
        Ok(net)
    }
}
