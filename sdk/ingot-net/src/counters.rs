//! What an interface moved and what it dropped, for programs to print and tests to
//! check ("counters say what was dropped").

use core::fmt;

use crate::inspect::Drop;

/// Counts since the interface was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Frames received (good or not).
    pub rx_frames: u64,
    /// Bytes in them.
    pub rx_bytes: u64,
    /// Frames sent.
    pub tx_frames: u64,
    /// Bytes in them.
    pub tx_bytes: u64,
    /// Frames the device did not take (a failed interface).
    pub tx_failed: u64,
    /// Received frames shorter than an Ethernet header.
    pub drop_ethernet: u64,
    /// Bad ARP packets.
    pub drop_arp: u64,
    /// Bad IPv4 headers.
    pub drop_ipv4: u64,
    /// Bad IPv6 headers.
    pub drop_ipv6: u64,
    /// Bad TCP segments.
    pub drop_tcp: u64,
    /// Bad UDP datagrams.
    pub drop_udp: u64,
    /// Bad ICMPv4 messages.
    pub drop_icmp: u64,
    /// Bad DHCP messages.
    pub drop_dhcp: u64,
    /// IPv4 fragments (not reassembled).
    pub drop_fragment: u64,
    /// Other EtherTypes and IP protocols.
    pub unsupported: u64,
}

impl Counters {
    /// Counts one dropped frame.
    pub fn count_drop(&mut self, drop: Drop) {
        let counter = match drop {
            Drop::Ethernet => &mut self.drop_ethernet,
            Drop::Arp => &mut self.drop_arp,
            Drop::Ipv4 => &mut self.drop_ipv4,
            Drop::Ipv6 => &mut self.drop_ipv6,
            Drop::Tcp => &mut self.drop_tcp,
            Drop::Udp => &mut self.drop_udp,
            Drop::Icmp => &mut self.drop_icmp,
            Drop::Dhcp => &mut self.drop_dhcp,
            Drop::Fragment => &mut self.drop_fragment,
            Drop::Unsupported => &mut self.unsupported,
        };
        *counter += 1;
    }

    /// Malformed frames in all (not counting unsupported protocols).
    pub fn malformed(&self) -> u64 {
        self.drop_ethernet
            + self.drop_arp
            + self.drop_ipv4
            + self.drop_ipv6
            + self.drop_tcp
            + self.drop_udp
            + self.drop_icmp
            + self.drop_dhcp
            + self.drop_fragment
    }
}

impl fmt::Display for Counters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rx={} rx_bytes={} tx={} tx_bytes={} tx_failed={} malformed={} (eth={} arp={} ipv4={} ipv6={} tcp={} udp={} icmp={} dhcp={} frag={}) unsupported={}",
            self.rx_frames,
            self.rx_bytes,
            self.tx_frames,
            self.tx_bytes,
            self.tx_failed,
            self.malformed(),
            self.drop_ethernet,
            self.drop_arp,
            self.drop_ipv4,
            self.drop_ipv6,
            self.drop_tcp,
            self.drop_udp,
            self.drop_icmp,
            self.drop_dhcp,
            self.drop_fragment,
            self.unsupported
        )
    }
}
