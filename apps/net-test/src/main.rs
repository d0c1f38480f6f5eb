//! Network test: for every interface the kernel found, prints what it is, asks the
//! gateway of QEMU's user network (10.0.2.2) for its MAC with a hand-made ARP request
//! and prints the reply, then broadcasts a hand-made DHCP discover and prints the
//! address offered. Before that, it calls every `net_*` call with bad arguments on
//! interface 0 and prints the error each one returned, then checks that nothing was
//! sent and that the next good call still works.
//!
//! Lines (the scenarios in `tools/xtask/src/scenarios/net.rs` expect them):
//! `net-test: nics=<n>`, `net-test: nic <n> driver=<d> mac=<mac> mtu=<m> link=<up|down>`,
//! `net-test: refused <call> <case> <Error>`, `net-test: bad arguments sent=<frames>`,
//! `net-test: nic 0 shared by 2 cores sent=<n> failed=<n> arp-replies=<n> tx_frames+=<n>`
//! (with two cores or more: both send ARP requests on interface 0 at once),
//! `net-test: nic <n> arp 10.0.2.2 is-at <mac>`, `net-test: nic <n> dhcp offer <ip> from <ip>`.
//! Exit status 0 when every interface answered.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

mod frames;

use core::sync::atomic::{AtomicU64, Ordering};

use ingot_sdk::abi::{Error, NetInfo};
use ingot_sdk::net::{self, Frames};
use ingot_sdk::{cores, println};

use frames::{Mac, arp_request, dhcp_discover, parse_arp_reply, parse_dhcp_offer};

ingot_sdk::entry!(main);

/// How long to wait for an answer (QEMU under load without KVM can be slow).
const ANSWER_TIMEOUT_NS: u64 = 10_000_000_000;
/// The gateway of QEMU's user network.
const GATEWAY: [u8; 4] = [10, 0, 2, 2];
/// The address QEMU's user network gives the first guest.
const GUEST: [u8; 4] = [10, 0, 2, 15];

fn main() -> u64 {
    let count = net::count();
    println!("net-test: nics={count}");
    if count == 0 {
        return 10;
    }
    let mut infos = [NetInfo::default(); 8];
    for nic in 0..count.min(8) {
        let Ok(info) = net::info(nic) else { return 11 };
        println!(
            "net-test: nic {nic} driver={} mac={} mtu={} link={}",
            net::driver_name(&info),
            Mac(info.mac),
            info.mtu,
            if info.link_up == 1 { "up" } else { "down" }
        );
        infos[nic as usize] = info;
    }
    if let Err(code) = bad_arguments(&infos[0]) {
        return code;
    }
    if cores::core_count() >= 2
        && let Err(code) = shared_interface(&infos[0])
    {
        return code;
    }
    for nic in 0..count.min(8) {
        if let Err(code) = ask_gateway(nic, &infos[nic as usize]) {
            return code;
        }
    }
    println!("net-test: done");
    0
}

fn show(result: Result<u64, Error>) -> &'static str {
    match result {
        Ok(_) => "accepted",
        Err(Error::InvalidArgument) => "InvalidArgument",
        Err(Error::BadAddress) => "BadAddress",
        Err(Error::NotFound) => "NotFound",
        Err(Error::WouldBlock) => "WouldBlock",
        Err(Error::Busy) => "Busy",
        Err(Error::TimedOut) => "TimedOut",
        Err(Error::DeviceError) => "DeviceError",
        Err(_) => "other",
    }
}

/// Every call with bad interface numbers, pointers and lengths on interface 0.
fn bad_arguments(info: &NetInfo) -> Result<(), u64> {
    let memory = ingot_sdk::memory_info().map_err(|_| 20u64)?;
    let end = memory.window_base + memory.window_bytes;
    let mut frame = [0u8; 64];
    let frame_at = frame.as_mut_ptr() as u64;
    let max = u64::from(info.mtu) + 14;
    let before = info.tx_frames;
    let cases: [(&str, &str, Result<u64, Error>); 22] = [
        ("net_info", "nic=99", net::raw::info(99, frame_at)),
        ("net_info", "info=null", net::raw::info(0, 0)),
        ("net_info", "info=window-end", net::raw::info(0, end - 8)),
        ("net_send", "nic=99", net::raw::send(99, frame_at, 60)),
        ("net_send", "frame=null", net::raw::send(0, 0, 60)),
        ("net_send", "frame=window-end", net::raw::send(0, end - 30, 60)),
        ("net_send", "len=0", net::raw::send(0, frame_at, 0)),
        ("net_send", "len=13", net::raw::send(0, frame_at, 13)),
        ("net_send", "len=mtu+15", net::raw::send(0, frame_at, max + 1)),
        ("net_send", "len=max", net::raw::send(0, frame_at, u64::MAX)),
        ("net_receive", "nic=99", net::raw::receive(99, frame_at, 64)),
        ("net_receive", "buffer=null", net::raw::receive(0, 0, 64)),
        ("net_receive", "buffer=window-end", net::raw::receive(0, end - 30, 64)),
        ("net_receive", "capacity=13", net::raw::receive(0, frame_at, 13)),
        ("net_send_batch", "nic=99", net::raw::send_batch(99, frame_at, 1)),
        ("net_send_batch", "frames=null", net::raw::send_batch(0, 0, 1)),
        ("net_send_batch", "count=33", net::raw::send_batch(0, frame_at, 33)),
        ("net_send_batch", "frame-len=13", batch_with(0, frame_at, 13)),
        ("net_send_batch", "frame=null", batch_with(0, 0, 60)),
        ("net_receive_batch", "nic=99", net::raw::receive_batch(99, frame_at, 1)),
        ("net_receive_batch", "frames=null", net::raw::receive_batch(0, 0, 1)),
        ("net_receive_batch", "count=33", net::raw::receive_batch(0, frame_at, 33)),
    ];
    for (call, case, result) in cases {
        println!("net-test: refused {call} {case} {}", show(result));
    }
    let after = net::info(0).map_err(|_| 21u64)?.tx_frames;
    println!("net-test: bad arguments sent={}", after - before);
    Ok(())
}

/// `net_send_batch` with one good frame followed by one at `address` of `len` bytes:
/// the whole batch must be refused.
fn batch_with(nic: u64, address: u64, len: u64) -> Result<u64, Error> {
    let mut good = [0xFFu8; 60];
    let records: [u64; 4] = [good.as_mut_ptr() as u64, 60, address, len];
    net::raw::send_batch(nic, records.as_ptr() as u64, 2)
}

/// Waits for a frame `accept` recognises, polling with batch receives.
fn wait_for<T>(nic: u64, mut accept: impl FnMut(&[u8]) -> Option<T>) -> Option<T> {
    let start = cores::time_ns();
    let mut buffers = [[0u8; 1514]; 4];
    while cores::time_ns() - start < ANSWER_TIMEOUT_NS {
        let mut frames = Frames::new();
        for buffer in buffers.iter_mut() {
            frames.push(buffer);
        }
        let received = match net::receive_batch(nic, &mut frames) {
            Ok(received) => received,
            Err(Error::WouldBlock) => continue,
            Err(error) => {
                println!("net-test: nic {nic} receive failed: {error:?}");
                return None;
            }
        };
        for index in 0..received {
            if let Some(found) = accept(frames.frame(index)) {
                return Some(found);
            }
        }
    }
    None
}

/// Frames each of two cores sends at once on interface 0.
const SHARED_FRAMES: u64 = 20;
static OTHER_CORE_SENT: AtomicU64 = AtomicU64::new(0);
static OTHER_CORE_FAILED: AtomicU64 = AtomicU64::new(0);

/// Runs on core 1: sends the 60-byte frame at `frame` (in program memory)
/// `SHARED_FRAMES` times on interface 0.
extern "sysv64" fn send_from_other_core(frame: u64) {
    for _ in 0..SHARED_FRAMES {
        let counter = match net::raw::send(0, frame, 60) {
            Ok(_) => &OTHER_CORE_SENT,
            Err(_) => &OTHER_CORE_FAILED,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Two cores send ARP requests on the same interface at the same time; every request
/// must go out (the counters) and be answered (the replies).
fn shared_interface(info: &NetInfo) -> Result<(), u64> {
    let before = net::info(0).map_err(|_| 40u64)?;
    let request = arp_request(info.mac, GUEST, GATEWAY);
    cores::run_on_core(1, send_from_other_core, request.as_ptr() as u64).map_err(|_| 41u64)?;
    let mut failed = 0;
    for _ in 0..SHARED_FRAMES {
        failed += u64::from(net::send(0, &request).is_err());
    }
    while cores::cores_busy() {
        core::hint::spin_loop();
    }
    let failed = failed + OTHER_CORE_FAILED.load(Ordering::Relaxed);
    let sent = SHARED_FRAMES - failed + OTHER_CORE_SENT.load(Ordering::Relaxed);
    let mut replies = 0;
    let _ = wait_for(0, |frame| {
        replies += u64::from(parse_arp_reply(frame, GATEWAY, info.mac).is_some());
        (replies == 2 * SHARED_FRAMES).then_some(())
    });
    let after = net::info(0).map_err(|_| 42u64)?;
    println!(
        "net-test: nic 0 shared by 2 cores sent={sent} failed={failed} arp-replies={replies} tx_frames+={}",
        after.tx_frames - before.tx_frames
    );
    Ok(())
}

fn ask_gateway(nic: u64, info: &NetInfo) -> Result<(), u64> {
    let mac = info.mac;
    let before = net::info(nic).map_err(|_| 29u64)?;
    let request = arp_request(mac, GUEST, GATEWAY);
    net::send(nic, &request).map_err(|error| {
        println!("net-test: nic {nic} arp send failed: {error:?}");
        30u64
    })?;
    let Some(gateway_mac) = wait_for(nic, |frame| parse_arp_reply(frame, GATEWAY, mac)) else {
        println!("net-test: nic {nic} no arp reply");
        return Err(31);
    };
    println!("net-test: nic {nic} arp 10.0.2.2 is-at {}", Mac(gateway_mac));

    let transaction = 0x1A60_0000 | nic as u32;
    let mut discover = dhcp_discover(mac, transaction);
    let mut batch = Frames::new();
    batch.push(&mut discover);
    match net::send_batch(nic, &mut batch) {
        Ok(1) => {}
        other => {
            println!("net-test: nic {nic} dhcp send failed: {other:?}");
            return Err(32);
        }
    }
    let Some((offered, server)) = wait_for(nic, |frame| parse_dhcp_offer(frame, transaction))
    else {
        println!("net-test: nic {nic} no dhcp offer");
        return Err(33);
    };
    let [a, b, c, d] = offered;
    let [e, f, g, h] = server;
    println!("net-test: nic {nic} dhcp offer {a}.{b}.{c}.{d} from {e}.{f}.{g}.{h}");
    let after = net::info(nic).map_err(|_| 34u64)?;
    println!(
        "net-test: nic {nic} counters tx_frames+={} rx_frames+={}",
        after.tx_frames - before.tx_frames,
        after.rx_frames - before.rx_frames
    );
    Ok(())
}
