//! ARP (RFC 826) and DHCP (RFC 2131, over BOOTP, UDP and IPv4) frames written and
//! read by hand: enough for the test, not a network stack.

use core::fmt;

/// A MAC address that prints as `aa:bb:cc:dd:ee:ff`.
pub struct Mac(pub [u8; 6]);

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

const BROADCAST: [u8; 6] = [0xFF; 6];
const ETHERTYPE_ARP: u16 = 0x0806;
const ETHERTYPE_IPV4: u16 = 0x0800;

fn ethernet(frame: &mut [u8], destination: [u8; 6], source: [u8; 6], ethertype: u16) {
    frame[..6].copy_from_slice(&destination);
    frame[6..12].copy_from_slice(&source);
    frame[12..14].copy_from_slice(&ethertype.to_be_bytes());
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]))
}

fn array_at<const N: usize>(bytes: &[u8], at: usize) -> Option<[u8; N]> {
    bytes.get(at..at + N)?.try_into().ok()
}

/// Who has `target`? Tell `sender` (`mac`), broadcast. 60 bytes (the minimum frame).
pub fn arp_request(mac: [u8; 6], sender: [u8; 4], target: [u8; 4]) -> [u8; 60] {
    let mut frame = [0u8; 60];
    ethernet(&mut frame, BROADCAST, mac, ETHERTYPE_ARP);
    let arp = &mut frame[14..];
    arp[..8].copy_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]); // Ethernet, IPv4, request
    arp[8..14].copy_from_slice(&mac);
    arp[14..18].copy_from_slice(&sender);
    arp[24..28].copy_from_slice(&target);
    frame
}

/// The MAC in an ARP reply from `target` addressed to `mac`.
pub fn parse_arp_reply(frame: &[u8], target: [u8; 4], mac: [u8; 6]) -> Option<[u8; 6]> {
    if u16_at(frame, 12)? != ETHERTYPE_ARP || array_at::<6>(frame, 0)? != mac {
        return None;
    }
    let is_reply = u16_at(frame, 14 + 6)? == 2;
    (is_reply && array_at::<4>(frame, 14 + 14)? == target).then(|| array_at(frame, 14 + 8))?
}

/// The IPv4 header checksum (RFC 791): ones' complement of the ones' complement sum.
fn checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header.chunks(2).map(|w| u32::from(u16::from_be_bytes([w[0], w[1]]))).sum();
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
}

const IP: usize = 14;
const UDP: usize = IP + 20;
const BOOTP: usize = UDP + 8;
const OPTIONS: usize = BOOTP + 236;
const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
/// Length of the discover frame: BOOTP's fixed part, the cookie and 10 option bytes.
pub const DISCOVER_BYTES: usize = OPTIONS + 4 + 10;

/// A DHCPDISCOVER from 0.0.0.0:68 to 255.255.255.255:67 asking for a broadcast reply.
pub fn dhcp_discover(mac: [u8; 6], transaction: u32) -> [u8; DISCOVER_BYTES] {
    let mut frame = [0u8; DISCOVER_BYTES];
    ethernet(&mut frame, BROADCAST, mac, ETHERTYPE_IPV4);
    let ip_len = (DISCOVER_BYTES - IP) as u16;
    let udp_len = (DISCOVER_BYTES - UDP) as u16;
    let ip = &mut frame[IP..UDP];
    ip[0] = 0x45; // IPv4, 20-byte header
    ip[2..4].copy_from_slice(&ip_len.to_be_bytes());
    ip[8] = 64; // TTL
    ip[9] = 17; // UDP
    ip[16..20].copy_from_slice(&[255; 4]);
    let sum = checksum(ip);
    ip[10..12].copy_from_slice(&sum.to_be_bytes());
    let udp = &mut frame[UDP..BOOTP];
    udp[..2].copy_from_slice(&68u16.to_be_bytes());
    udp[2..4].copy_from_slice(&67u16.to_be_bytes());
    udp[4..6].copy_from_slice(&udp_len.to_be_bytes()); // checksum 0: none (IPv4)
    let bootp = &mut frame[BOOTP..];
    bootp[..4].copy_from_slice(&[1, 1, 6, 0]); // request, Ethernet, 6-byte address
    bootp[4..8].copy_from_slice(&transaction.to_be_bytes());
    bootp[10] = 0x80; // broadcast flag
    bootp[28..34].copy_from_slice(&mac);
    let options = &mut frame[OPTIONS..];
    options[..4].copy_from_slice(&MAGIC_COOKIE);
    // Message type DISCOVER; parameter request: subnet mask, router, DNS; end.
    options[4..14].copy_from_slice(&[53, 1, 1, 55, 3, 1, 3, 6, 255, 0]);
    frame
}

/// The offered address and the server's address from a DHCPOFFER for `transaction`.
pub fn parse_dhcp_offer(frame: &[u8], transaction: u32) -> Option<([u8; 4], [u8; 4])> {
    let is_udp = u16_at(frame, 12)? == ETHERTYPE_IPV4 && *frame.get(IP + 9)? == 17;
    let header = usize::from(frame.get(IP)? & 0x0F) * 4;
    let udp = IP + header;
    if !is_udp || u16_at(frame, udp)? != 67 || u16_at(frame, udp + 2)? != 68 {
        return None;
    }
    let bootp = udp + 8;
    let ours = *frame.get(bootp)? == 2
        && array_at::<4>(frame, bootp + 4)? == transaction.to_be_bytes()
        && array_at::<4>(frame, bootp + 236)? == MAGIC_COOKIE;
    if !ours {
        return None;
    }
    let mut at = bootp + 240;
    let mut offer = false;
    let mut server = array_at::<4>(frame, IP + 12)?;
    while let Some(&code) = frame.get(at) {
        match code {
            0 => at += 1,
            255 => break,
            _ => {
                let len = usize::from(*frame.get(at + 1)?);
                let value = frame.get(at + 2..at + 2 + len)?;
                match (code, value) {
                    (53, [2]) => offer = true,
                    (54, &[a, b, c, d]) => server = [a, b, c, d],
                    _ => {}
                }
                at += 2 + len;
            }
        }
    }
    offer.then(|| array_at(frame, bootp + 16).map(|offered| (offered, server)))?
}
