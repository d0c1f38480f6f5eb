//! The driver against the model in its 8257x generation.

extern crate std;

use std::vec;
use std::vec::Vec;

use ingot_device_models::e1000::{E1000Model, Generation};
use ingot_device_models::memory::HostBuffer;
use ingot_device_models::{HostMemory, StepClock};
use ingot_e1000::legacy::{RX_SLOTS, TX_SLOTS};
use ingot_e1000::regs;
use ingot_hal::{DmaAllocator, DmaBuffer};
use ingot_net::{NetDevice, NetError, Segment, SliceSink};

use super::*;

const MAC: [u8; 6] = [0x00, 0x1B, 0x21, 0xAB, 0xCD, 0xEF];

type Driver = Nic<E1000Model, HostBuffer, StepClock>;

fn device() -> (E1000Model, HostMemory) {
    let memory = HostMemory::new(8 << 20);
    (E1000Model::new(memory.clone(), Generation::I8257x, MAC), memory)
}

fn started(model: &E1000Model, memory: &HostMemory) -> Driver {
    start(model.clone(), &mut memory.dma(), StepClock::new()).unwrap()
}

fn frame(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(13) ^ seed).collect()
}

fn segments(memory: &HostMemory, data: &[u8], cut: Option<usize>) -> Vec<Segment> {
    let buffer = memory.dma().allocate(data.len() + 64).unwrap();
    let base = buffer.physical();
    match cut {
        None => {
            buffer.write_bytes(0, data);
            vec![Segment { physical: base, len: data.len() }]
        }
        Some(cut) => {
            buffer.write_bytes(0, &data[..cut]);
            buffer.write_bytes(cut + 64, &data[cut..]);
            vec![
                Segment { physical: base, len: cut },
                Segment { physical: base + cut as u64 + 64, len: data.len() - cut },
            ]
        }
    }
}

fn receive(nic: &mut Driver) -> Result<Vec<u8>, NetError> {
    let mut buffer = vec![0; 2048];
    let len = nic.receive(&mut SliceSink { buffer: &mut buffer })?;
    buffer.truncate(len);
    Ok(buffer)
}

#[test]
fn the_family_is_matched_by_id() {
    assert_eq!(matches(0x8086, 0x10D3).map(|v| v.name), Some("82574L"));
    assert_eq!(matches(0x8086, 0x105E).map(|v| v.name), Some("82571EB copper"));
    assert_eq!(matches(0x8086, 0x100E), None, "the 82540EM is e1000's");
    assert_eq!(matches(0x1AF4, 0x10D3), None);
}

#[test]
fn bring_up_follows_the_8257x_sequence() {
    let (model, memory) = device();
    let nic = started(&model, &memory);
    assert_eq!(nic.driver(), "e1000e");
    assert_eq!(nic.mac().0, MAC);
    let state = model.state();
    assert_eq!(state.resets, 2);
    assert_eq!(state.resets_while_mastering, 0, "bus mastering quiesced before the reset");
    drop(state);
    assert_ne!(model.register(regs::CTRL_EXT) & regs::CTRL_EXT_DRV_LOAD, 0);
    assert_ne!(model.register(regs::TXDCTL) & regs::TXDCTL_8257X_MUST_BE_ONE, 0);
    assert_eq!(model.register(regs::CTRL) & regs::CTRL_GIO_MASTER_DISABLE, 0);
    assert_ne!(model.register(regs::CTRL) & regs::CTRL_SLU, 0);
}

#[test]
fn mac_comes_from_the_nvm_through_the_later_eerd_layout() {
    let (model, memory) = device();
    model.state().loads_receive_address = false;
    let nic = started(&model, &memory);
    assert_eq!(nic.mac().0, MAC);
    assert_eq!(model.register(regs::RAH0), 0x8000_EFCD);
}

#[test]
fn frames_round_trip_and_both_rings_wrap() {
    let (model, memory) = device();
    let mut nic = started(&model, &memory);
    for i in 0..TX_SLOTS + 10 {
        let data = frame(60 + i, i as u8);
        nic.transmit(&segments(&memory, &data, Some(14))).unwrap();
        assert_eq!(model.state().sent.last(), Some(&data));
    }
    assert_eq!(model.state().most_segments, 2);
    for i in 0..RX_SLOTS + 10 {
        let data = frame(1514 - i, i as u8);
        assert!(model.receive(&data));
        assert_eq!(receive(&mut nic).as_ref(), Ok(&data));
    }
    let counters = nic.counters();
    assert_eq!(
        (counters.tx_frames, counters.rx_frames),
        (TX_SLOTS as u64 + 10, RX_SLOTS as u64 + 10)
    );
}

#[test]
fn a_full_ring_is_busy_and_receive_buffers_come_back() {
    let (model, memory) = device();
    let mut nic = started(&model, &memory);
    model.state().hold_transmit = true;
    for i in 0..TX_SLOTS - 1 {
        nic.queue(&segments(&memory, &frame(64, i as u8), None)).unwrap();
    }
    let one_more = segments(&memory, &frame(64, 0xFF), None);
    assert_eq!(nic.transmit(&one_more), Err(NetError::Busy));
    model.release_transmit();
    nic.wait_transmitted().unwrap();
    let sent = model.state().sent.clone();
    assert_eq!(sent.len(), TX_SLOTS - 1);
    assert!(sent.iter().enumerate().all(|(i, f)| *f == frame(64, i as u8)));

    for round in 0..3u8 {
        for i in 0..RX_SLOTS - 1 {
            assert!(model.receive(&frame(64, i as u8 ^ round)), "round {round} slot {i}");
        }
        assert!(!model.receive(&frame(64, 0)), "ring full");
        for i in 0..RX_SLOTS - 1 {
            assert_eq!(receive(&mut nic), Ok(frame(64, i as u8 ^ round)));
        }
    }
    assert_eq!(nic.counters().rx_dropped, 3, "one missed frame per round");
}

#[test]
fn bad_frames_are_dropped_and_counted() {
    let (model, memory) = device();
    let mut nic = started(&model, &memory);
    assert!(model.receive(&frame(1516, 1)));
    assert!(model.receive_with_errors(&frame(100, 2), 0x02)); // symbol error
    assert!(model.receive(&frame(100, 3)));
    assert_eq!(receive(&mut nic), Ok(frame(100, 3)));
    let counters = nic.counters();
    assert_eq!((counters.rx_dropped, counters.rx_errors, counters.rx_frames), (1, 1, 1));
}

#[test]
fn a_silent_device_times_out_and_is_failed() {
    let (model, memory) = device();
    let mut nic = started(&model, &memory);
    model.state().stalled = true;
    let data = segments(&memory, &frame(64, 0), None);
    assert_eq!(nic.transmit(&data), Err(NetError::Timeout));
    assert_eq!(nic.transmit(&data), Err(NetError::Failed));
    assert_eq!(receive(&mut nic), Err(NetError::Failed));

    let (model, memory) = device();
    model.state().stalled = true;
    assert_eq!(start(model, &mut memory.dma(), StepClock::new()).err(), Some(NetError::Timeout));
}

#[test]
fn link_state_follows_the_status_register() {
    let (model, memory) = device();
    let mut nic = started(&model, &memory);
    assert!(nic.link_up());
    model.state().link = false;
    assert!(!nic.link_up());
}
