//! The driver against the RTL8139 model.

extern crate std;

use std::vec;
use std::vec::Vec;

use ingot_device_models::memory::HostBuffer;
use ingot_device_models::rtl8139::{Rtl8139Model, TSD_TABT};
use ingot_device_models::{HostDma, HostMemory, StepClock};
use ingot_net::{MAX_SEGMENTS, SliceSink};

use super::*;

const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];

/// The CPU's view of simulated RAM, for the transmit copy.
struct Ram(HostMemory);

impl PhysicalMemory for Ram {
    fn read(&self, address: u64, buffer: &mut [u8]) -> bool {
        self.0.read(address, buffer).is_some()
    }
}

type Driver = Rtl8139<Rtl8139Model, HostBuffer, StepClock, Ram>;

struct Bench {
    model: Rtl8139Model,
    memory: HostMemory,
    dma: HostDma,
    nic: Driver,
}

fn bench() -> Bench {
    let memory = HostMemory::new(4 << 20);
    let model = Rtl8139Model::new(memory.clone(), MAC);
    let mut dma = memory.dma();
    let nic = start(model.clone(), &mut dma, StepClock::new(), Ram(memory.clone())).unwrap();
    Bench { model, memory, dma, nic }
}

/// A frame to `destination` of `len` bytes whose contents depend on `seed`.
fn frame(destination: [u8; 6], len: usize, seed: u8) -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(29) ^ seed).collect();
    bytes[..6].copy_from_slice(&destination);
    bytes[6..12].copy_from_slice(&[0x52, 0x54, 0, 9, 9, seed]);
    bytes
}

/// Places `bytes` in simulated RAM as `pieces` segments at odd addresses.
fn segments(dma: &mut HostDma, bytes: &[u8], pieces: usize) -> (Vec<HostBuffer>, Vec<Segment>) {
    let size = bytes.len().div_ceil(pieces);
    let mut buffers = Vec::new();
    let mut list = Vec::new();
    for chunk in bytes.chunks(size) {
        let buffer = dma.allocate(chunk.len() + 5).unwrap();
        buffer.write_bytes(5, chunk);
        list.push(Segment { physical: buffer.physical() + 5, len: chunk.len() });
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
    assert_eq!(matches(0x10EC, 0x8139).map(|v| v.register_bar), Some(1));
    assert_eq!(matches(0x10EC, 0x8169), None);
    let mut b = bench();
    assert_eq!(b.nic.mac(), MacAddress(MAC));
    assert_eq!(b.nic.driver(), "rtl8139");
    assert!(b.nic.link_up());
    b.model.state().link_up = false;
    assert!(!b.nic.link_up());
    b.model.state().link_up = true;
    assert!(b.nic.link_up());
}

#[test]
fn frames_are_copied_out_byte_for_byte_through_the_four_slots_in_turn() {
    let mut b = bench();
    let mut expected = Vec::new();
    for n in 0..23 {
        let bytes = frame([0xFF; 6], 20 + n * 61, n as u8);
        let (_memory, list) = segments(&mut b.dma, &bytes, 1 + n % MAX_SEGMENTS);
        b.nic.transmit(&list).unwrap();
        expected.push(bytes);
    }
    let state = b.model.state();
    assert_eq!(state.sent.len(), 23);
    assert_eq!(state.out_of_turn, 0);
    for (n, bytes) in expected.iter().enumerate() {
        let sent = &state.sent[n];
        // Short frames go out padded with zeros to 60 bytes.
        assert_eq!(sent.len(), bytes.len().max(60), "frame {n}");
        assert_eq!(&sent[..bytes.len()], &bytes[..], "frame {n}");
        assert!(sent[bytes.len()..].iter().all(|&b| b == 0), "frame {n}");
    }
    let counters = b.nic.counters();
    assert_eq!(counters.tx_frames, 23);
    assert_eq!(counters.tx_bytes, expected.iter().map(|f| f.len() as u64).sum::<u64>());
}

#[test]
fn frames_come_in_byte_for_byte_as_the_ring_wraps() {
    let mut b = bench();
    assert_eq!(receive_one(&mut b.nic), Err(NetError::WouldBlock));
    // One at a time: 40 frames of 300-1500 bytes go round the 8 KiB ring several
    // times, some split across its end.
    for n in 0..40 {
        let f = frame(MAC, 300 + (n * 173) % 1200, n as u8);
        assert!(b.model.deliver(&f));
        assert_eq!(receive_one(&mut b.nic).unwrap(), f, "frame {n}");
    }
    // Filled until the MAC has no room, then drained: the space comes back.
    for round in 0..3u8 {
        let mut queued = Vec::new();
        while queued.len() < 20 {
            let f = frame(MAC, 700 + queued.len() * 11, round * 20 + queued.len() as u8);
            if !b.model.deliver(&f) {
                break;
            }
            queued.push(f);
        }
        assert!(queued.len() >= 8 && queued.len() < 20, "round {round}: {}", queued.len());
        for f in &queued {
            assert_eq!(&receive_one(&mut b.nic).unwrap(), f);
        }
        assert_eq!(receive_one(&mut b.nic), Err(NetError::WouldBlock));
    }
    // The frames the full ring missed are counted as dropped.
    assert_eq!(b.nic.counters().rx_dropped, 3);
    assert!(!b.model.deliver(&frame([2, 0, 0, 0, 0, 1], 100, 1)));
    assert!(b.model.deliver(&frame([0xFF; 6], 100, 2)));
    assert_eq!(receive_one(&mut b.nic).unwrap(), frame([0xFF; 6], 100, 2));
    // Multicast passes the hash filter the driver opened (IPv6 all-nodes here).
    let multicast = frame([0x33, 0x33, 0, 0, 0, 1], 90, 3);
    assert!(b.model.deliver(&multicast));
    assert_eq!(receive_one(&mut b.nic).unwrap(), multicast);
}

#[test]
fn oversize_and_errored_frames_are_dropped_and_counted() {
    let mut b = bench();
    let good = frame(MAC, 200, 7);
    let largest = frame(MAC, STANDARD_MTU + ETHERNET_HEADER, 3);
    assert!(b.model.deliver(&frame(MAC, STANDARD_MTU + ETHERNET_HEADER + 1, 1)));
    assert!(b.model.deliver_with_crc_error(&frame(MAC, 300, 2)));
    assert!(b.model.deliver(&good));
    assert!(b.model.deliver(&largest));
    assert_eq!(receive_one(&mut b.nic).unwrap(), good);
    assert_eq!(receive_one(&mut b.nic).unwrap(), largest);
    let counters = b.nic.counters();
    assert_eq!((counters.rx_dropped, counters.rx_errors, counters.rx_frames), (1, 1, 2));
    assert!(b.model.deliver(&good));
    let mut small = [0; 100];
    assert_eq!(b.nic.receive(&mut SliceSink { buffer: &mut small }), Ok(0));
    assert_eq!(b.nic.counters().rx_dropped, 2);
    assert_eq!(receive_one(&mut b.nic), Err(NetError::WouldBlock));
}

#[test]
fn a_corrupt_ring_header_resets_the_receiver() {
    let mut b = bench();
    assert!(b.model.deliver(&frame(MAC, 100, 1)));
    let ring = u64::from(b.model.read_u32(0x30));
    // A length no frame can have: the ring is out of step with the MAC.
    b.memory.write_u32(ring, 0x7000_0001);
    assert_eq!(receive_one(&mut b.nic), Err(NetError::WouldBlock));
    assert_eq!(b.nic.counters().rx_errors, 1);
    let after = frame(MAC, 400, 2);
    assert!(b.model.deliver(&after));
    assert_eq!(receive_one(&mut b.nic).unwrap(), after);
}

#[test]
fn four_frames_in_flight_make_the_ring_busy_and_nothing_is_overwritten() {
    let mut b = bench();
    b.model.state().hold_transmit = true;
    let frames: Vec<_> = (0..TX_SLOTS + 1).map(|n| frame([0xFF; 6], 100, n as u8)).collect();
    for f in &frames[..TX_SLOTS] {
        let (_memory, list) = segments(&mut b.dma, f, 2);
        b.nic.post(&list).unwrap();
    }
    let (_memory, last) = segments(&mut b.dma, &frames[TX_SLOTS], 1);
    assert_eq!(b.nic.post(&last), Err(NetError::Busy));
    assert_eq!(b.nic.transmit(&last), Err(NetError::Busy));
    b.model.release_transmit();
    b.nic.wait_transmitted().unwrap();
    assert_eq!(b.model.state().sent, frames[..TX_SLOTS]);
    b.nic.transmit(&last).unwrap();
    assert_eq!(b.model.state().sent.last(), Some(&frames[TX_SLOTS]));
    assert_eq!(b.model.state().out_of_turn, 0);
    assert_eq!(b.nic.counters().tx_frames, TX_SLOTS as u64 + 1);
}

#[test]
fn an_aborted_frame_is_a_device_error_and_the_next_one_goes() {
    let mut b = bench();
    b.model.state().abort_next = true;
    let (_m, list) = segments(&mut b.dma, &frame([0xFF; 6], 100, 1), 1);
    let status = match b.nic.transmit(&list) {
        Err(NetError::Device(status)) => status,
        other => panic!("expected a device error, got {other:?}"),
    };
    assert_ne!(status & TSD_TABT, 0);
    assert_eq!(b.nic.counters().tx_errors, 1);
    b.nic.transmit(&list).unwrap();
    assert_eq!(b.model.state().sent, [frame([0xFF; 6], 100, 1)]);
}

#[test]
fn an_underrun_frame_counts_as_sent_when_resent_and_as_an_error_when_not() {
    let mut b = bench();
    let bytes = frame([0xFF; 6], 300, 4);
    let (_m, list) = segments(&mut b.dma, &bytes, 3);
    b.model.state().underrun_next = true;
    b.nic.transmit(&list).unwrap();
    assert_eq!(b.model.state().sent, std::slice::from_ref(&bytes));
    assert_eq!((b.nic.counters().tx_frames, b.nic.counters().tx_errors), (1, 0));
    b.model.state().underrun_next = true;
    b.model.state().abort_next = true;
    assert!(matches!(b.nic.transmit(&list), Err(NetError::Device(_))));
    assert_eq!((b.nic.counters().tx_frames, b.nic.counters().tx_errors), (1, 1));
    // The error was acknowledged: the next underrun that is resent counts as sent.
    b.model.state().underrun_next = true;
    b.nic.transmit(&list).unwrap();
    assert_eq!((b.nic.counters().tx_frames, b.nic.counters().tx_errors), (2, 1));
    assert_eq!(b.model.state().sent.len(), 2);
}

#[test]
fn bad_frames_are_refused_before_the_device_sees_them() {
    let mut b = bench();
    let long = frame([0xFF; 6], STANDARD_MTU + ETHERNET_HEADER + 1, 0);
    let (_m, list) = segments(&mut b.dma, &long, 2);
    assert_eq!(b.nic.transmit(&list), Err(NetError::TooLong));
    assert_eq!(b.nic.transmit(&[]), Err(NetError::BadSegments));
    let nowhere = [Segment { physical: 0x10, len: 100 }];
    assert_eq!(b.nic.transmit(&nowhere), Err(NetError::BadSegments));
    assert!(b.model.state().sent.is_empty());
    // Nothing was started, so the next frame takes slot 0 in turn.
    let (_m, list) = segments(&mut b.dma, &frame([0xFF; 6], 64, 0), 1);
    b.nic.transmit(&list).unwrap();
    assert_eq!(b.model.state().out_of_turn, 0);
}

#[test]
fn a_device_that_stops_answering_times_out_and_is_failed() {
    let mut b = bench();
    b.model.state().dead = true;
    let (_m, list) = segments(&mut b.dma, &frame([0xFF; 6], 100, 0), 1);
    assert_eq!(b.nic.transmit(&list), Err(NetError::Timeout));
    assert_eq!(b.model.read_u8(0x37) & 0x0C, 0);
    assert_eq!(b.nic.transmit(&list), Err(NetError::Failed));
    assert_eq!(receive_one(&mut b.nic), Err(NetError::Failed));
    assert!(!b.nic.link_up());

    let memory = HostMemory::new(1 << 20);
    let silent = Rtl8139Model::new(memory.clone(), MAC);
    silent.state().dead = true;
    let clock = StepClock::new();
    let result = start(silent, &mut memory.dma(), clock.clone(), Ram(memory.clone()));
    assert!(result.is_err_and(|e| e == NetError::Timeout));
    assert!(clock.elapsed_ns() >= RESET_TIMEOUT_MS * 1_000_000);
}

#[test]
fn a_blank_station_address_is_refused() {
    let memory = HostMemory::new(1 << 20);
    let blank = Rtl8139Model::new(memory.clone(), [0xFF; 6]);
    let result = start(blank, &mut memory.dma(), StepClock::new(), Ram(memory.clone()));
    assert!(result.is_err_and(|e| e == NetError::Device(0)));
}

#[test]
fn the_receive_interrupt_asserts_while_frames_wait_and_drops_once_they_are_taken() {
    let mut b = bench();
    b.model.deliver(&frame(MAC, 100, 1));
    assert!(!b.model.interrupt_asserted(), "masked after start");
    b.nic.enable_receive_interrupt();
    assert!(!b.model.interrupt_asserted(), "the stale cause was cleared");
    b.model.deliver(&frame(MAC, 120, 2));
    assert!(b.model.interrupt_asserted());
    assert_eq!(receive_one(&mut b.nic).unwrap(), frame(MAC, 100, 1));
    // The cause was acknowledged with the first frame, but the second still waits:
    // the driver looks at the ring after acknowledging, so the caller drains it.
    assert_eq!(receive_one(&mut b.nic).unwrap(), frame(MAC, 120, 2));
    assert_eq!(receive_one(&mut b.nic), Err(NetError::WouldBlock));
    assert!(!b.model.interrupt_asserted(), "nothing waits: the line is low");
    b.model.deliver(&frame(MAC, 90, 3));
    assert!(b.model.interrupt_asserted(), "a new frame raises it again");
}
