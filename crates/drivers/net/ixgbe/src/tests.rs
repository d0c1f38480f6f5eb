//! The driver against the 82599 model (the only place it has ever run).

extern crate std;

use std::vec;
use std::vec::Vec;

use ingot_device_models::ixgbe::{ERROR_RXE, IxgbeModel};
use ingot_device_models::memory::HostBuffer;
use ingot_device_models::{HostMemory, StepClock};
use ingot_hal::{DmaAllocator, DmaBuffer};
use ingot_net::{NetDevice, NetError, Segment, SliceSink};

use super::*;
use crate::rings::{RX_SLOTS, TX_SLOTS};

const MAC: [u8; 6] = [0x90, 0xE2, 0xBA, 0x01, 0x02, 0x03];

type Driver = Nic<IxgbeModel, HostBuffer, StepClock>;

fn device() -> (IxgbeModel, HostMemory) {
    let memory = HostMemory::new(8 << 20);
    (IxgbeModel::new(memory.clone(), MAC), memory)
}

fn started(model: &IxgbeModel, memory: &HostMemory) -> Driver {
    start(model.clone(), &mut memory.dma(), StepClock::new()).unwrap()
}

fn frame(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(29) ^ seed).collect()
}

/// Places `data` in DMA memory split at `cuts`, with gaps between the pieces.
fn segments(memory: &HostMemory, data: &[u8], cuts: &[usize]) -> Vec<Segment> {
    let buffer = memory.dma().allocate(data.len() + 64 * cuts.len()).unwrap();
    let mut pieces = Vec::new();
    let mut start = 0;
    for (i, &end) in cuts.iter().chain([data.len()].iter()).enumerate() {
        let offset = start + 64 * i;
        buffer.write_bytes(offset, &data[start..end]);
        pieces.push(Segment { physical: buffer.physical() + offset as u64, len: end - start });
        start = end;
    }
    pieces
}

fn receive(nic: &mut Driver) -> Result<Vec<u8>, NetError> {
    let mut buffer = vec![0; 2048];
    let len = nic.receive(&mut SliceSink { buffer: &mut buffer })?;
    buffer.truncate(len);
    Ok(buffer)
}

#[test]
fn the_family_is_matched_by_id() {
    assert_eq!(matches(INTEL, 0x10FB).map(|v| v.name), Some("82599ES SFP+ (X520)"));
    assert!(matches(INTEL, 0x1514).is_some());
    assert_eq!(matches(INTEL, 0x10ED), None, "the virtual function is not driven");
    assert_eq!(matches(INTEL, 0x100E), None);
    assert_eq!(matches(0x15B3, 0x10FB), None);
}

#[test]
fn bring_up_follows_the_datasheet_and_reads_the_mac() {
    let (model, memory) = device();
    let nic = started(&model, &memory);
    assert_eq!(nic.driver(), "ixgbe");
    assert_eq!(nic.mac().0, MAC);
    assert_eq!(model.state().resets, 2);
    assert_eq!(model.state().resets_while_mastering, 0);
    assert_ne!(model.register(regs::AUTOC) & regs::AUTOC_RESTART_AN, 0);
    assert_ne!(model.register(regs::CTRL_EXT) & regs::CTRL_EXT_DRV_LOAD, 0);
    assert_eq!(model.register(regs::HLREG0) & 0x403, 0x403, "CRC strip/insert, padding");
    assert_ne!(model.register(regs::RDRXCTL) & regs::RDRXCTL_CRC_STRIP, 0);
    assert_eq!(model.register(regs::RDT), RX_SLOTS as u32 - 1);
}

#[test]
fn an_eeprom_without_an_address_is_refused() {
    let (model, memory) = device();
    model.state().loads_receive_address = false;
    let result = start(model, &mut memory.dma(), StepClock::new());
    assert_eq!(result.err(), Some(NetError::Device(0)));
}

#[test]
fn frames_round_trip_with_advanced_descriptors() {
    let (model, memory) = device();
    let mut nic = started(&model, &memory);
    let out = frame(1514, 7);
    nic.transmit(&segments(&memory, &out, &[14, 34, 1000])).unwrap();
    assert_eq!(model.state().sent, vec![out]);
    assert_eq!(model.state().most_segments, 4);
    assert_eq!(model.state().malformed_descriptors, 0);
    let incoming = frame(342, 8);
    assert!(model.receive(&incoming));
    assert_eq!(receive(&mut nic), Ok(incoming));
    assert_eq!(receive(&mut nic), Err(NetError::WouldBlock));
    let counters = nic.counters();
    assert_eq!((counters.tx_frames, counters.tx_bytes), (1, 1514));
    assert_eq!((counters.rx_frames, counters.rx_bytes), (1, 342));
}

#[test]
fn both_rings_wrap_around() {
    let (model, memory) = device();
    let mut nic = started(&model, &memory);
    // Two-segment frames: the ring wraps inside a frame too.
    for i in 0..TX_SLOTS + 7 {
        let data = frame(60 + i, i as u8);
        nic.transmit(&segments(&memory, &data, &[14])).unwrap();
        assert_eq!(model.state().sent.last(), Some(&data));
    }
    assert_eq!(model.state().sent.len(), TX_SLOTS + 7);
    assert_eq!(model.state().malformed_descriptors, 0);
    for i in 0..2 * RX_SLOTS + 3 {
        let data = frame(64 + i, !(i as u8));
        assert!(model.receive(&data));
        assert_eq!(receive(&mut nic).as_ref(), Ok(&data), "frame {i}");
    }
}

#[test]
fn a_full_transmit_ring_is_busy_and_nothing_is_overwritten() {
    let (model, memory) = device();
    let mut nic = started(&model, &memory);
    model.state().hold_transmit = true;
    let frames: Vec<Vec<u8>> = (0..TX_SLOTS / 2).map(|i| frame(100, i as u8)).collect();
    // Two descriptors per frame: 63 frames fill 126 of the 127 usable slots.
    for data in &frames[..TX_SLOTS / 2 - 1] {
        nic.queue(&segments(&memory, data, &[50])).unwrap();
    }
    let last = segments(&memory, &frames[TX_SLOTS / 2 - 1], &[50]);
    assert_eq!(nic.transmit(&last), Err(NetError::Busy));
    model.release_transmit();
    nic.wait_transmitted().unwrap();
    assert_eq!(model.state().sent, frames[..TX_SLOTS / 2 - 1]);
    nic.transmit(&last).unwrap();
    assert_eq!(model.state().sent.last(), frames.last());
    assert_eq!(nic.counters().tx_frames, (TX_SLOTS / 2) as u64);
}

#[test]
fn receive_buffers_are_given_back() {
    let (model, memory) = device();
    let mut nic = started(&model, &memory);
    for round in 0..3u8 {
        for i in 0..RX_SLOTS - 1 {
            assert!(model.receive(&frame(80, i as u8 ^ round)), "round {round} slot {i}");
        }
        assert!(!model.receive(&frame(80, 0)), "every buffer is taken");
        for i in 0..RX_SLOTS - 1 {
            assert_eq!(receive(&mut nic), Ok(frame(80, i as u8 ^ round)));
        }
    }
    assert_eq!(nic.counters().rx_dropped, 3, "one dropped frame per round");
    assert_eq!(nic.counters().rx_frames, 3 * (RX_SLOTS as u64 - 1));
}

#[test]
fn oversize_frames_and_error_descriptors_are_dropped_and_counted() {
    let (model, memory) = device();
    let mut nic = started(&model, &memory);
    assert!(model.receive(&frame(1518, 1)));
    assert!(model.receive_with_errors(&frame(300, 2), ERROR_RXE));
    assert!(model.receive(&frame(64, 3)));
    assert_eq!(receive(&mut nic), Ok(frame(64, 3)));
    let counters = nic.counters();
    assert_eq!((counters.rx_dropped, counters.rx_errors, counters.rx_frames), (1, 1, 1));
}

#[test]
fn a_silent_device_times_out_and_is_failed() {
    let (model, memory) = device();
    let mut nic = started(&model, &memory);
    model.state().stalled = true;
    let data = segments(&memory, &frame(64, 0), &[]);
    assert_eq!(nic.transmit(&data), Err(NetError::Timeout));
    assert!(nic.is_failed());
    assert_eq!(model.register(regs::RXCTRL) & regs::RXCTRL_RXEN, 0);
    assert_eq!(nic.transmit(&data), Err(NetError::Failed));
    assert_eq!(receive(&mut nic), Err(NetError::Failed));
    assert!(!nic.link_up());

    let (model, memory) = device();
    model.state().stalled = true;
    assert_eq!(start(model, &mut memory.dma(), StepClock::new()).err(), Some(NetError::Timeout));
}

#[test]
fn link_state_follows_the_links_register() {
    let (model, memory) = device();
    let mut nic = started(&model, &memory);
    assert!(nic.link_up());
    model.state().link = false;
    assert!(!nic.link_up());
    model.state().link = true;
    assert!(nic.link_up());
}
