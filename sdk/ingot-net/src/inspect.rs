//! A look at every received frame before the stack sees it, layer by layer, so the
//! counters can say what was dropped and why: smoltcp drops bad frames silently.
//!
//! The checks are smoltcp's own parsers (`new_checked` plus `Repr::parse`, with
//! checksums), so a frame counted as malformed here is one the stack drops too.

use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{
    ArpPacket, ArpRepr, DhcpPacket, DhcpRepr, EthernetFrame, EthernetProtocol, Icmpv4Packet,
    Icmpv4Repr, IpAddress, IpProtocol, Ipv4Packet, Ipv4Repr, Ipv6Packet, TcpPacket, TcpRepr,
    UdpPacket, UdpRepr,
};

/// The layer at which a frame was found unusable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drop {
    /// Shorter than an Ethernet header.
    Ethernet,
    /// A truncated or inconsistent ARP packet.
    Arp,
    /// A bad IPv4 header: length fields, version, options, checksum.
    Ipv4,
    /// A bad IPv6 header.
    Ipv6,
    /// A bad TCP segment: header length, checksum, options.
    Tcp,
    /// A bad UDP datagram: length field, checksum.
    Udp,
    /// A bad ICMPv4 message.
    Icmp,
    /// A bad DHCP message (UDP port 67/68): truncated, bad options.
    Dhcp,
    /// An IPv4 fragment: this stack does not reassemble.
    Fragment,
    /// A protocol the stack does not handle (another EtherType or IP protocol).
    Unsupported,
}

/// Checks one frame; `Err` names the layer that made it unusable.
pub fn inspect(frame: &[u8]) -> Result<(), Drop> {
    let ethernet = EthernetFrame::new_checked(frame).map_err(|_| Drop::Ethernet)?;
    match ethernet.ethertype() {
        EthernetProtocol::Arp => {
            let packet = ArpPacket::new_checked(ethernet.payload()).map_err(|_| Drop::Arp)?;
            ArpRepr::parse(&packet).map(|_| ()).map_err(|_| Drop::Arp)
        }
        EthernetProtocol::Ipv4 => ipv4(ethernet.payload()),
        EthernetProtocol::Ipv6 => {
            Ipv6Packet::new_checked(ethernet.payload()).map(|_| ()).map_err(|_| Drop::Ipv6)
        }
        _ => Err(Drop::Unsupported),
    }
}

fn ipv4(bytes: &[u8]) -> Result<(), Drop> {
    let caps = ChecksumCapabilities::default();
    let packet = Ipv4Packet::new_checked(bytes).map_err(|_| Drop::Ipv4)?;
    if packet.more_frags() || packet.frag_offset() != 0 {
        return Err(Drop::Fragment);
    }
    let repr = Ipv4Repr::parse(&packet, &caps).map_err(|_| Drop::Ipv4)?;
    let (source, destination) = (IpAddress::Ipv4(repr.src_addr), IpAddress::Ipv4(repr.dst_addr));
    let payload = packet.payload();
    match repr.next_header {
        IpProtocol::Tcp => {
            let segment = TcpPacket::new_checked(payload).map_err(|_| Drop::Tcp)?;
            TcpRepr::parse(&segment, &source, &destination, &caps)
                .map(|_| ())
                .map_err(|_| Drop::Tcp)
        }
        IpProtocol::Udp => {
            let datagram = UdpPacket::new_checked(payload).map_err(|_| Drop::Udp)?;
            UdpRepr::parse(&datagram, &source, &destination, &caps).map_err(|_| Drop::Udp)?;
            if matches!(datagram.dst_port(), 67 | 68) {
                let dhcp = DhcpPacket::new_checked(datagram.payload()).map_err(|_| Drop::Dhcp)?;
                DhcpRepr::parse(&dhcp).map_err(|_| Drop::Dhcp)?;
            }
            Ok(())
        }
        IpProtocol::Icmp => {
            let message = Icmpv4Packet::new_checked(payload).map_err(|_| Drop::Icmp)?;
            Icmpv4Repr::parse(&message, &caps).map(|_| ()).map_err(|_| Drop::Icmp)
        }
        _ => Err(Drop::Unsupported),
    }
}
