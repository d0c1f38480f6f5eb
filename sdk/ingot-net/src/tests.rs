//! Host tests: two stacks joined by an in-memory wire (TCP and UDP both ways, ping),
//! and the fuzz tests: frames captured from real exchanges, truncated, extended and
//! corrupted at every layer, fed to a stack that must not panic or hang, must count
//! what it dropped, and must still serve a clean connection afterwards.

extern crate std;

use alloc::collections::VecDeque;
use alloc::rc::Rc;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

use smoltcp::wire::{
    EthernetAddress, EthernetFrame, EthernetProtocol, EthernetRepr, Icmpv4Packet, Icmpv4Repr,
    IpAddress, IpEndpoint, IpProtocol, Ipv4Address, Ipv4Cidr, Ipv4Packet, Ipv4Repr,
};

use crate::inspect::{Drop, inspect};
use crate::io::FrameIo;
use crate::{Ipv4Settings, Net, NetError, TcpOptions};

type Queue = Rc<RefCell<VecDeque<Vec<u8>>>>;

/// One end of a wire: frames sent land in the peer's queue; every frame sent is also
/// recorded for the fuzz tests.
struct End {
    mac: [u8; 6],
    inbox: Queue,
    outbox: Queue,
    sent: Rc<RefCell<Vec<Vec<u8>>>>,
    clock: Rc<Cell<u64>>,
    /// Deadlines `wait_frames` was called with.
    waits: Rc<RefCell<Vec<u64>>>,
}

impl FrameIo for End {
    fn mac(&self) -> [u8; 6] {
        self.mac
    }
    fn receive(&mut self, buffers: &mut [&mut [u8]], lengths: &mut [usize]) -> usize {
        let mut inbox = self.inbox.borrow_mut();
        let mut count = 0;
        while count < buffers.len() {
            let Some(frame) = inbox.pop_front() else { break };
            if frame.len() > buffers[count].len() {
                continue; // as the kernel does: too long for the buffer, dropped
            }
            buffers[count][..frame.len()].copy_from_slice(&frame);
            lengths[count] = frame.len();
            count += 1;
        }
        count
    }
    fn send(&mut self, frames: &mut [&mut [u8]]) -> usize {
        for frame in frames.iter() {
            self.outbox.borrow_mut().push_back(frame.to_vec());
            self.sent.borrow_mut().push(frame.to_vec());
        }
        frames.len()
    }
    fn now_ns(&self) -> u64 {
        self.clock.get()
    }
    fn wait_frames(&mut self, deadline_ns: u64) -> bool {
        self.waits.borrow_mut().push(deadline_ns);
        true
    }
}

const SERVER: [u8; 4] = [10, 0, 0, 1];
const CLIENT: [u8; 4] = [10, 0, 0, 2];

struct Pair {
    server: Net<End>,
    client: Net<End>,
    clock: Rc<Cell<u64>>,
    server_inbox: Queue,
    client_inbox: Queue,
    sent_to_server: Rc<RefCell<Vec<Vec<u8>>>>,
}

fn settings(address: [u8; 4]) -> Ipv4Settings {
    Ipv4Settings {
        address: Ipv4Cidr::new(Ipv4Address::from(address), 24),
        gateway: None,
        dns: None,
    }
}

fn pair() -> Pair {
    let clock = Rc::new(Cell::new(1_000_000_000));
    let (a, b): (Queue, Queue) = (Rc::default(), Rc::default());
    let sent_to_server = Rc::new(RefCell::new(Vec::new()));
    let server_end = End {
        mac: [2, 0, 0, 0, 0, 1],
        inbox: a.clone(),
        outbox: b.clone(),
        sent: Rc::default(),
        clock: clock.clone(),
        waits: Rc::default(),
    };
    let client_end = End {
        mac: [2, 0, 0, 0, 0, 2],
        inbox: b.clone(),
        outbox: a.clone(),
        sent: sent_to_server.clone(),
        clock: clock.clone(),
        waits: Rc::default(),
    };
    let mut server = Net::new(server_end);
    server.set_static(settings(SERVER));
    let mut client = Net::new(client_end);
    client.set_static(settings(CLIENT));
    Pair { server, client, clock, server_inbox: a, client_inbox: b, sent_to_server }
}

impl Pair {
    /// Polls both sides, advancing the clock 1 ms each round.
    fn run(&mut self, rounds: usize) {
        for _ in 0..rounds {
            self.server.poll();
            self.client.poll();
            self.clock.set(self.clock.get() + 1_000_000);
        }
    }
}

/// Connects, sends `request` to the server, echoes it back in upper case, reads it.
fn exchange(pair: &mut Pair, port: u16, request: &[u8]) -> Result<Vec<u8>, NetError> {
    let listener = pair.server.listen(port)?;
    let connection = pair.client.connect(Ipv4Address::from(SERVER), port)?;
    let mut accepted = None;
    for _ in 0..200 {
        pair.run(1);
        if accepted.is_none() {
            accepted = pair.server.accept(listener);
        }
        if accepted.is_some() && pair.client.is_established(connection) {
            break;
        }
    }
    let accepted = accepted.ok_or(NetError::TimedOut)?;
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let mut sent = 0;
    for _ in 0..5000 {
        if sent < request.len() {
            sent += pair.client.write(connection, &request[sent..])?;
        }
        pair.run(1);
        let read = pair.server.read(accepted, &mut buffer)?;
        received.extend_from_slice(&buffer[..read]);
        if received.len() == request.len() {
            break;
        }
    }
    let reply: Vec<u8> = received.to_ascii_uppercase();
    let mut written = 0;
    let mut answer = Vec::new();
    for _ in 0..5000 {
        if written < reply.len() {
            written += pair.server.write(accepted, &reply[written..])?;
        }
        pair.run(1);
        let read = pair.client.read(connection, &mut buffer)?;
        answer.extend_from_slice(&buffer[..read]);
        if answer.len() == reply.len() {
            break;
        }
    }
    pair.server.close(accepted)?;
    pair.client.close(connection)?;
    pair.run(50);
    Ok(answer)
}

#[test]
fn tcp_request_and_reply_larger_than_the_buffers() {
    let mut pair = pair();
    let request: Vec<u8> = (0..200_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let answer = exchange(&mut pair, 80, &request).unwrap();
    assert_eq!(answer, request.to_ascii_uppercase());
    let stats = pair.server.tcp_stats();
    assert_eq!((stats.open, stats.closing, stats.connections), (0, 0, 1));
    assert_eq!(stats.listening, stats.sockets);
}

#[test]
fn stale_handles_and_bad_arguments_are_errors() {
    let mut pair = pair();
    assert_eq!(pair.server.listen(0), Err(NetError::InvalidArgument));
    let listener = pair.server.listen(8080).unwrap();
    assert_eq!(pair.server.listen(8080), Err(NetError::InvalidArgument));
    let options = TcpOptions { sockets: 4, max_sockets: 2, ..TcpOptions::default() };
    assert_eq!(pair.server.listen_with(81, options), Err(NetError::InvalidArgument));
    let connection = pair.client.connect(Ipv4Address::from(SERVER), 8080).unwrap();
    pair.client.close(connection).unwrap();
    assert_eq!(pair.client.read(connection, &mut [0; 8]), Err(NetError::BadHandle));
    assert_eq!(pair.client.write(connection, b"x"), Err(NetError::BadHandle));
    assert_eq!(pair.client.close(connection), Err(NetError::BadHandle));
    pair.run(20);
    assert!(pair.server.accept(listener).is_none() || pair.server.tcp_stats().open == 1);
}

#[test]
fn udp_datagrams_both_ways_and_ping_answered() {
    let mut pair = pair();
    let server_port = pair.server.udp_bind(7, 4).unwrap();
    let client_port = pair.client.udp_bind(5000, 4).unwrap();
    let to = IpEndpoint::new(IpAddress::Ipv4(Ipv4Address::from(SERVER)), 7);
    pair.client.udp_send(client_port, b"echo me", to).unwrap();
    let mut buffer = [0u8; 64];
    let mut got = None;
    for _ in 0..100 {
        pair.run(1);
        if let Some(received) = pair.server.udp_receive(server_port, &mut buffer) {
            got = Some(received);
            break;
        }
    }
    let (length, from) = got.expect("datagram arrived");
    assert_eq!(&buffer[..length], b"echo me");
    assert_eq!(from.port, 5000);
    // A hand-made echo request gets an echo reply from the server's address.
    pair.run(5);
    pair.client_inbox.borrow_mut().clear();
    pair.server_inbox.borrow_mut().push_back(echo_request(64));
    pair.server.poll();
    let replies: Vec<Vec<u8>> = pair.client_inbox.borrow().iter().cloned().collect();
    assert_eq!(replies.len(), 1);
    let frame = EthernetFrame::new_checked(&replies[0][..]).unwrap();
    let packet = Ipv4Packet::new_checked(frame.payload()).unwrap();
    assert_eq!(packet.src_addr(), Ipv4Address::from(SERVER));
    let message = Icmpv4Packet::new_checked(packet.payload()).unwrap();
    assert_eq!(message.msg_type(), smoltcp::wire::Icmpv4Message::EchoReply);
    assert_eq!(message.data(), &[0x5a; 64][..]);
}

fn echo_request(payload: usize) -> Vec<u8> {
    let data = vec![0x5a; payload];
    let icmp = Icmpv4Repr::EchoRequest { ident: 1, seq_no: 1, data: &data };
    let ip = Ipv4Repr {
        src_addr: Ipv4Address::from(CLIENT),
        dst_addr: Ipv4Address::from(SERVER),
        next_header: IpProtocol::Icmp,
        payload_len: icmp.buffer_len(),
        hop_limit: 64,
    };
    let ethernet = EthernetRepr {
        src_addr: EthernetAddress([2, 0, 0, 0, 0, 2]),
        dst_addr: EthernetAddress([2, 0, 0, 0, 0, 1]),
        ethertype: EthernetProtocol::Ipv4,
    };
    let mut frame = vec![0u8; 14 + ip.buffer_len() + icmp.buffer_len()];
    let mut eth = EthernetFrame::new_unchecked(&mut frame);
    ethernet.emit(&mut eth);
    let mut packet = Ipv4Packet::new_unchecked(eth.payload_mut());
    ip.emit(&mut packet, &smoltcp::phy::ChecksumCapabilities::default());
    let mut message = Icmpv4Packet::new_unchecked(packet.payload_mut());
    icmp.emit(&mut message, &smoltcp::phy::ChecksumCapabilities::default());
    frame
}

#[test]
fn inspection_names_the_layer() {
    let good = echo_request(8);
    assert_eq!(inspect(&good), Ok(()));
    assert_eq!(inspect(&good[..10]), Err(Drop::Ethernet));
    assert_eq!(inspect(&good[..20]), Err(Drop::Ipv4));
    let mut bad_checksum = good.clone();
    bad_checksum[14 + 10] ^= 0xff;
    assert_eq!(inspect(&bad_checksum), Err(Drop::Ipv4));
    let mut bad_icmp = good.clone();
    bad_icmp[14 + 20 + 8] ^= 0xff;
    assert_eq!(inspect(&bad_icmp), Err(Drop::Icmp));
    let mut fragment = good.clone();
    fragment[14 + 6] |= 0x20; // more fragments
    let checksum = {
        let mut packet = Ipv4Packet::new_unchecked(&mut fragment[14..]);
        packet.fill_checksum();
        packet.checksum()
    };
    assert_ne!(checksum, 0);
    assert_eq!(inspect(&fragment), Err(Drop::Fragment));
    let mut other = good.clone();
    other[12..14].copy_from_slice(&0x88b5u16.to_be_bytes());
    assert_eq!(inspect(&other), Err(Drop::Unsupported));
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Where each layer starts in an IPv4 frame captured on the wire.
fn layers(frame: &[u8]) -> (usize, usize) {
    let ip = 14;
    let header = frame.get(ip).map_or(20, |b| usize::from(b & 0x0f) * 4);
    (ip, ip + header)
}

/// One mutation of a captured frame, aimed at a layer.
fn mutate(frame: &[u8], random: &mut Random) -> Vec<u8> {
    let mut out = frame.to_vec();
    let (ip, transport) = layers(frame);
    match random.below(9) {
        0 => out.truncate(random.below(frame.len() + 1)),
        1 => out.extend((0..random.below(1600)).map(|_| random.next() as u8)),
        2 => {
            for _ in 0..1 + random.below(4) {
                let at = random.below(out.len());
                out[at] ^= 1 << random.below(8);
            }
        }
        3 if out.len() > ip + 20 => {
            // IPv4 header length and total length fields, checksum kept valid.
            out[ip] = 0x40 | (random.below(16) as u8);
            let total = random.below(2000) as u16;
            out[ip + 2..ip + 4].copy_from_slice(&total.to_be_bytes());
            if usize::from(out[ip] & 0x0f) * 4 <= out.len() - ip {
                Ipv4Packet::new_unchecked(&mut out[ip..]).fill_checksum();
            }
        }
        4 if out.len() > ip + 20 => {
            // IPv4 options: grow the header with random option bytes.
            let options: Vec<u8> =
                (0..4 * (1 + random.below(10))).map(|_| random.next() as u8).collect();
            out.splice(ip + 20..ip + 20, options.iter().copied());
            let words = ((20 + options.len()) / 4).min(15) as u8;
            out[ip] = 0x40 | words;
            let total = (out.len() - ip) as u16;
            out[ip + 2..ip + 4].copy_from_slice(&total.to_be_bytes());
            let mut packet = Ipv4Packet::new_unchecked(&mut out[ip..]);
            packet.fill_checksum();
        }
        5 if out.len() > transport + 14 && out.get(ip + 9) == Some(&6) => {
            // TCP flags, data offset and options.
            out[transport + 13] = random.next() as u8;
            out[transport + 12] = (random.below(16) as u8) << 4;
            let options = transport + 20;
            for byte in out.iter_mut().skip(options).take(random.below(40)) {
                *byte = random.next() as u8;
            }
        }
        6 if out.len() > transport + 8 && out.get(ip + 9) == Some(&17) => {
            // The UDP length field.
            let length = random.below(3000) as u16;
            out[transport + 4..transport + 6].copy_from_slice(&length.to_be_bytes());
        }
        7 if out.len() > transport + 8 + 240 && out.get(ip + 9) == Some(&17) => {
            // DHCP options: random bytes after the magic cookie.
            let options = transport + 8 + 240;
            for byte in out.iter_mut().skip(options) {
                *byte = random.next() as u8;
            }
        }
        _ => {
            // ARP and anything else: random bytes over the payload.
            for byte in out.iter_mut().skip(14) {
                if random.below(8) == 0 {
                    *byte = random.next() as u8;
                }
            }
        }
    }
    out
}

#[test]
fn fuzzed_frames_never_panic_and_are_counted() {
    // Capture a real exchange's frames to the server (ARP, handshake, data, FIN).
    let mut pair = pair();
    let request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(50);
    exchange(&mut pair, 80, &request).unwrap();
    let udp = pair.client.udp_bind(68, 2).unwrap();
    let mut dhcp = vec![0u8; 300];
    dhcp[236..240].copy_from_slice(&[99, 130, 83, 99]);
    let to = IpEndpoint::new(IpAddress::Ipv4(Ipv4Address::from(SERVER)), 67);
    pair.client.udp_send(udp, &dhcp, to).unwrap();
    pair.run(5);
    let mut captured: Vec<Vec<u8>> = pair.sent_to_server.borrow().clone();
    captured.push(echo_request(100));
    assert!(captured.len() > 5, "captured {}", captured.len());

    let mut random = Random(0x1234_5678_9abc_def1);
    let before = pair.server.counters();
    let mut fed = 0u64;
    for round in 0..20_000 {
        let frame = &captured[round % captured.len()];
        let mutated = mutate(frame, &mut random);
        pair.server_inbox.borrow_mut().push_back(mutated);
        fed += 1;
        if round % 16 == 0 {
            pair.server.poll();
            pair.clock.set(pair.clock.get() + 100_000);
        }
    }
    pair.server.poll();
    let after = pair.server.counters();
    // Every frame short enough for the buffer was received and looked at.
    let received = after.rx_frames - before.rx_frames;
    assert!(received > fed / 2 && received <= fed, "received {received} of {fed}");
    for (layer, count) in [
        ("ethernet", after.drop_ethernet),
        ("ipv4", after.drop_ipv4),
        ("tcp", after.drop_tcp),
        ("udp", after.drop_udp),
        ("icmp", after.drop_icmp),
        ("arp", after.drop_arp),
    ] {
        assert!(count > 0, "no {layer} drops counted: {after}");
    }
    // The stack still serves a clean connection after the storm, once the neighbour
    // entries the forged ARP frames planted have expired (a minute in smoltcp).
    pair.clock.set(pair.clock.get() + 120_000_000_000);
    pair.run(100);
    let answer = exchange(&mut pair, 81, b"still alive").unwrap();
    assert_eq!(answer, b"STILL ALIVE");
}

#[test]
fn wait_halts_until_the_stacks_next_timer_or_the_bound_and_not_with_work_pending() {
    let mut pair = pair();
    let listener = pair.server.listen(80).unwrap();
    pair.run(3);
    let waits = pair.server.io().waits.clone();
    let now = pair.clock.get();
    // Idle and listening: no timer of its own, so the caller's bound decides.
    assert!(pair.server.wait(Some(250)));
    assert!(pair.server.wait(None));
    assert_eq!(waits.borrow()[0], now + 250_000_000);
    assert_eq!(waits.borrow()[1], u64::MAX, "nothing to time: no deadline");
    // A connection attempt: the client's SYN is on the wire but not yet received, so
    // the server's wait is the one that must end on the frame (the kernel's event);
    // the client itself has a retransmission timer, which bounds its wait.
    let connection = pair.client.connect(Ipv4Address::from(SERVER), 80);
    assert!(connection.is_ok());
    pair.client.poll();
    let client_waits = pair.client.io().waits.clone();
    assert!(pair.client.wait(None));
    let deadline = client_waits.borrow()[0];
    assert!(deadline > now && deadline < u64::MAX, "retransmission timer bounds the wait");
    // Frames fetched but not yet processed: no wait.
    pair.server.poll();
    let _ = listener;
    let waited = waits.borrow().len();
    pair.server_inbox.borrow_mut().extend((0..600).map(|_| vec![0u8; 60]));
    pair.server.poll();
    assert!(!pair.server.wait(None), "16 full batches in one poll: more may be waiting");
    assert_eq!(waits.borrow().len(), waited);
}
