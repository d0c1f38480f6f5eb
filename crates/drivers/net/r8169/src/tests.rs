//! The driver against the RTL8169-family model.

extern crate std;

use std::vec;
use std::vec::Vec;

use ingot_device_models::memory::HostBuffer;
use ingot_device_models::r8169::R8169Model;
use ingot_device_models::{HostDma, HostMemory, StepClock};
use ingot_net::{MAX_SEGMENTS, SliceSink};

use super::*;

const MAC: [u8; 6] = [0x00, 0xE0, 0x4C, 0x68, 0x01, 0x02];

type Driver = R8169<R8169Model, HostBuffer, StepClock>;

struct Bench {
    model: R8169Model,
    dma: HostDma,
    nic: Driver,
}

fn bench() -> Bench {
    let memory = HostMemory::new(4 << 20);
    let model = R8169Model::new(memory.clone(), MAC);
    let mut dma = memory.dma();
    let nic = start(model.clone(), &mut dma, StepClock::new()).unwrap();
    Bench { model, dma, nic }
}

/// A frame to `destination` of `len` bytes whose contents depend on `seed`.
fn frame(destination: [u8; 6], len: usize, seed: u8) -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(13) ^ seed).collect();
    bytes[..6].copy_from_slice(&destination);
    bytes[6..12].copy_from_slice(&[0x52, 0x54, 0, 0, 0, seed]);
    bytes
}

/// Places `bytes` in simulated RAM as `pieces` segments, each in its own buffer.
fn segments(dma: &mut HostDma, bytes: &[u8], pieces: usize) -> (Vec<HostBuffer>, Vec<Segment>) {
    let size = bytes.len().div_ceil(pieces);
    let mut buffers = Vec::new();
    let mut list = Vec::new();
    for chunk in bytes.chunks(size) {
        let buffer = dma.allocate(chunk.len()).unwrap();
        // Start off a page boundary: segments need not be aligned.
        buffer.write_bytes(3, chunk);
        list.push(Segment { physical: buffer.physical() + 3, len: chunk.len() });
        buffers.push(buffer);
    }
    (buffers, list)
}

fn receive_one(nic: &mut Driver) -> Result<Vec<u8>, NetError> {
    let mut buffer = vec![0; 2048];
    let len = nic.receive(&mut SliceSink { buffer: &mut buffer })?;
    buffer.truncate(len);
    Ok(buffer)
}

#[test]
fn pci_ids_mac_and_link_state_come_from_the_device() {
    assert_eq!(matches(0x10EC, 0x8168).map(|v| v.register_bar), Some(2));
    assert_eq!(matches(0x10EC, 0x8169).map(|v| v.register_bar), Some(1));
    assert_eq!(matches(0x10EC, 0x8139), None);
    let mut b = bench();
    assert_eq!(b.nic.mac(), MacAddress(MAC));
    assert_eq!(b.nic.driver(), "r8169");
    assert!(b.nic.link_up());
    b.model.state().link_up = false;
    assert!(!b.nic.link_up());
    b.model.state().link_up = true;
    assert!(b.nic.link_up());
    // A function gone from the bus reads all ones: that is no link.
    b.model.state().absent = true;
    assert!(!b.nic.link_up());
}

#[test]
fn frames_go_out_byte_for_byte_across_ring_wrap_with_split_segments() {
    let mut b = bench();
    let mut expected = Vec::new();
    // 40 frames of one to four segments: the 16-descriptor ring wraps several times.
    for n in 0..40 {
        let bytes = frame([0xFF; 6], 60 + n * 37, n as u8);
        let pieces = 1 + n % MAX_SEGMENTS;
        let (_memory, list) = segments(&mut b.dma, &bytes, pieces);
        b.nic.transmit(&list).unwrap();
        expected.push((bytes, pieces));
    }
    let state = b.model.state();
    assert_eq!(state.sent.len(), 40);
    for (n, (bytes, pieces)) in expected.iter().enumerate() {
        assert_eq!(&state.sent[n], bytes, "frame {n}");
        assert_eq!(state.segments_per_frame[n], *pieces, "frame {n}");
    }
    let counters = b.nic.counters();
    assert_eq!(counters.tx_frames, 40);
    assert_eq!(counters.tx_bytes, expected.iter().map(|(f, _)| f.len() as u64).sum::<u64>());
}

#[test]
fn frames_come_in_byte_for_byte_and_buffers_are_recycled() {
    let mut b = bench();
    assert_eq!(receive_one(&mut b.nic), Err(NetError::WouldBlock));
    // Three rounds of a full ring: each round only lands if the last one's
    // descriptors were handed back.
    for round in 0..3u8 {
        let frames: Vec<_> =
            (0..RX_DESCRIPTORS).map(|n| frame(MAC, 64 + n * 90, round * 16 + n as u8)).collect();
        for f in &frames {
            assert!(b.model.deliver(f));
        }
        for f in &frames {
            assert_eq!(&receive_one(&mut b.nic).unwrap(), f);
        }
        assert_eq!(receive_one(&mut b.nic), Err(NetError::WouldBlock));
    }
    // Broadcasts are accepted, frames for another station are not.
    assert!(b.model.deliver(&frame([0xFF; 6], 100, 1)));
    assert!(!b.model.deliver(&frame([2, 0, 0, 0, 0, 1], 100, 1)));
    assert_eq!(receive_one(&mut b.nic).unwrap(), frame([0xFF; 6], 100, 1));
    // Multicast passes the hash filter the driver opened (IPv6 all-nodes here).
    let multicast = frame([0x33, 0x33, 0, 0, 0, 1], 90, 2);
    assert!(b.model.deliver(&multicast));
    assert_eq!(receive_one(&mut b.nic).unwrap(), multicast);
    let counters = b.nic.counters();
    assert_eq!(counters.rx_frames, 3 * RX_DESCRIPTORS as u64 + 2);
    assert_eq!(counters.rx_dropped, 0);
}

#[test]
fn a_full_receive_ring_misses_frames_and_counts_them() {
    let mut b = bench();
    for n in 0..RX_DESCRIPTORS {
        assert!(b.model.deliver(&frame(MAC, 100, n as u8)));
    }
    assert!(!b.model.deliver(&frame(MAC, 100, 99)));
    for n in 0..RX_DESCRIPTORS {
        assert_eq!(receive_one(&mut b.nic).unwrap(), frame(MAC, 100, n as u8));
    }
    assert_eq!(b.nic.counters().rx_dropped, 1);
    assert!(b.model.deliver(&frame(MAC, 100, 100)));
    assert_eq!(receive_one(&mut b.nic).unwrap(), frame(MAC, 100, 100));
}

#[test]
fn oversize_and_errored_frames_are_dropped_and_counted() {
    let mut b = bench();
    let good = frame(MAC, 200, 7);
    assert!(b.model.deliver(&frame(MAC, STANDARD_MTU + ETHERNET_HEADER + 1, 1)));
    assert!(b.model.deliver_with_crc_error(&frame(MAC, 300, 2)));
    assert!(b.model.deliver(&good));
    // The largest legal frame still passes.
    let largest = frame(MAC, STANDARD_MTU + ETHERNET_HEADER, 3);
    assert!(b.model.deliver(&largest));
    assert_eq!(receive_one(&mut b.nic).unwrap(), good);
    assert_eq!(receive_one(&mut b.nic).unwrap(), largest);
    let counters = b.nic.counters();
    assert_eq!((counters.rx_dropped, counters.rx_errors, counters.rx_frames), (1, 1, 2));
    // A sink too small for a frame refuses it: dropped, counted, buffer recycled.
    assert!(b.model.deliver(&good));
    let mut small = [0; 100];
    assert_eq!(b.nic.receive(&mut SliceSink { buffer: &mut small }), Ok(0));
    assert_eq!(b.nic.counters().rx_dropped, 2);
    for n in 0..RX_DESCRIPTORS {
        assert!(b.model.deliver(&frame(MAC, 80, n as u8)), "descriptor {n} recycled");
    }
}

#[test]
fn a_full_transmit_ring_is_busy_and_nothing_is_overwritten() {
    let mut b = bench();
    b.model.state().hold_transmit = true;
    let frames: Vec<_> = (0..TX_DESCRIPTORS + 1).map(|n| frame([0xFF; 6], 100, n as u8)).collect();
    let mut keep = Vec::new();
    for f in &frames[..TX_DESCRIPTORS] {
        let (memory, list) = segments(&mut b.dma, f, 1);
        b.nic.post(&list).unwrap();
        keep.push(memory);
    }
    let (_memory, last) = segments(&mut b.dma, &frames[TX_DESCRIPTORS], 1);
    assert_eq!(b.nic.post(&last), Err(NetError::Busy));
    assert_eq!(b.nic.transmit(&last), Err(NetError::Busy));
    assert!(b.model.state().sent.is_empty());
    b.model.release_transmit();
    b.nic.wait_transmitted().unwrap();
    assert_eq!(b.model.state().sent, frames[..TX_DESCRIPTORS]);
    assert_eq!(b.nic.counters().tx_frames, TX_DESCRIPTORS as u64);
    // Room again: the frame refused before goes out now.
    b.nic.transmit(&last).unwrap();
    assert_eq!(b.model.state().sent.last(), Some(&frames[TX_DESCRIPTORS]));
}

#[test]
fn bad_frames_are_refused_before_the_device_sees_them() {
    let mut b = bench();
    let long = frame([0xFF; 6], STANDARD_MTU + ETHERNET_HEADER + 1, 0);
    let (_m, list) = segments(&mut b.dma, &long, 2);
    assert_eq!(b.nic.transmit(&list), Err(NetError::TooLong));
    assert_eq!(b.nic.transmit(&[]), Err(NetError::BadSegments));
    let (_m, five) = segments(&mut b.dma, &frame([0xFF; 6], 100, 0), 5);
    assert_eq!(b.nic.transmit(&five), Err(NetError::BadSegments));
    let (_m, short) = segments(&mut b.dma, &[0xFF; 10], 1);
    assert_eq!(b.nic.transmit(&short), Err(NetError::TooShort));
    assert!(b.model.state().sent.is_empty());
}

#[test]
fn a_device_that_stops_answering_times_out_and_is_failed() {
    let mut b = bench();
    b.model.state().dead = true;
    let (_m, list) = segments(&mut b.dma, &frame([0xFF; 6], 100, 0), 1);
    assert_eq!(b.nic.transmit(&list), Err(NetError::Timeout));
    // Stopped so it can never read the caller's memory later.
    assert_eq!(b.model.read_u8(0x37) & 0x0C, 0);
    assert_eq!(b.nic.transmit(&list), Err(NetError::Failed));
    assert_eq!(receive_one(&mut b.nic), Err(NetError::Failed));
    assert!(!b.nic.link_up());

    let memory = HostMemory::new(1 << 20);
    let silent = R8169Model::new(memory.clone(), MAC);
    silent.state().dead = true;
    let clock = StepClock::new();
    assert!(start(silent, &mut memory.dma(), clock.clone()).is_err_and(|e| e == NetError::Timeout));
    assert!(clock.elapsed_ns() >= RESET_TIMEOUT_MS * 1_000_000);
}

#[test]
fn a_blank_station_address_is_refused() {
    let memory = HostMemory::new(1 << 20);
    let blank = R8169Model::new(memory.clone(), [0; 6]);
    assert!(
        start(blank, &mut memory.dma(), StepClock::new()).is_err_and(|e| e == NetError::Device(0))
    );
}

#[test]
fn a_frame_spanning_two_buffers_is_dropped_whole() {
    let mut b = bench();
    // A chip whose RMS lets frames longer than one buffer through.
    b.model.write_u16(0xDA, 4000);
    assert!(b.model.deliver(&frame(MAC, 3000, 1)));
    let after = frame(MAC, 500, 2);
    assert!(b.model.deliver(&after));
    assert_eq!(receive_one(&mut b.nic).unwrap(), after);
    assert_eq!(b.nic.counters().rx_dropped, 1);
    assert_eq!(b.nic.counters().rx_frames, 1);
    // Both pieces' descriptors came back: a full ring's worth lands again.
    for n in 0..RX_DESCRIPTORS {
        assert!(b.model.deliver(&frame(MAC, 80, n as u8)), "descriptor {n}");
    }
}
