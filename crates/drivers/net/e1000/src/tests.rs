//! The driver against the 8254x model.

extern crate std;

use std::vec;
use std::vec::Vec;

use ingot_device_models::e1000::{E1000Model, Generation, eeprom_with_mac};
use ingot_device_models::{HostMemory, StepClock};
use ingot_hal::{DmaAllocator, DmaBuffer};
use ingot_net::{NetDevice, NetError, Segment, SliceSink};

use super::*;
use crate::legacy::{RX_SLOTS, TX_SLOTS};

const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
const QEMU_82540EM: u16 = 0x100E;

type Driver = Nic<E1000Model, ingot_device_models::memory::HostBuffer, StepClock>;

fn device(generation: Generation) -> (E1000Model, HostMemory) {
    let memory = HostMemory::new(8 << 20);
    (E1000Model::new(memory.clone(), generation, MAC), memory)
}

fn started(model: &E1000Model, memory: &HostMemory) -> Driver {
    let variant = matches(INTEL, QEMU_82540EM).unwrap();
    start(model.clone(), &mut memory.dma(), StepClock::new(), variant).unwrap()
}

fn frame(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect()
}

/// Places `data` in DMA memory split at `cuts`; returns its segments.
fn segments(memory: &HostMemory, data: &[u8], cuts: &[usize]) -> Vec<Segment> {
    let buffer = memory.dma().allocate(data.len() + 64 * cuts.len()).unwrap();
    let mut pieces = Vec::new();
    let mut start = 0;
    for (i, &end) in cuts.iter().chain([data.len()].iter()).enumerate() {
        // A gap between pieces proves the device gathers, not reads one run.
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
    assert_eq!(matches(INTEL, 0x100E).map(|v| v.name), Some("82540EM"));
    assert_eq!(matches(INTEL, 0x100F).map(|v| v.name), Some("82545EM copper"));
    assert_eq!(matches(INTEL, 0x100C).unwrap().family().eerd, None);
    assert_eq!(matches(INTEL, 0x1076).unwrap().family().eerd, Some(EERD_LATER));
    assert_eq!(matches(INTEL, 0x10D3), None, "the 82574L is e1000e's");
    assert_eq!(matches(0x10EC, 0x100E), None);
    assert!(PCI_IDS.len() > 30);
}

#[test]
fn mac_comes_from_the_receive_address_registers() {
    let (model, memory) = device(Generation::I8254x);
    let nic = started(&model, &memory);
    assert_eq!(nic.mac().0, MAC);
    assert_eq!(nic.driver(), "e1000");
    assert_eq!(model.state().resets, 2, "one reset at power-on, one by the driver");
}

#[test]
fn mac_comes_from_the_eeprom_when_the_registers_hold_none() {
    let (model, memory) = device(Generation::I8254x);
    model.state().loads_receive_address = false;
    let nic = started(&model, &memory);
    assert_eq!(nic.mac().0, MAC);
    // Written back so the receive filter takes frames to it.
    assert_eq!(model.register(regs::RAL0), 0x1200_5452);
    assert_eq!(model.register(regs::RAH0), 0x8000_5634);
}

#[test]
fn a_corrupt_eeprom_or_none_at_all_is_refused() {
    let (model, memory) = device(Generation::I8254x);
    model.state().loads_receive_address = false;
    model.state().eeprom[5] ^= 0x0100;
    let variant = matches(INTEL, QEMU_82540EM).unwrap();
    let result = start(model.clone(), &mut memory.dma(), StepClock::new(), variant);
    assert_eq!(result.err(), Some(NetError::Device(0xBBBA)));

    let (model, memory) = device(Generation::I8254xWithoutEerd);
    model.state().loads_receive_address = false;
    let variant = matches(INTEL, 0x100C).unwrap();
    let result = start(model.clone(), &mut memory.dma(), StepClock::new(), variant);
    assert_eq!(result.err(), Some(NetError::Device(0)));
    assert_eq!(eeprom_with_mac(MAC).iter().fold(0u16, |a, &w| a.wrapping_add(w)), 0xBABA);
}

#[test]
fn frames_round_trip_both_ways() {
    let (model, memory) = device(Generation::I8254x);
    let mut nic = started(&model, &memory);
    let out = frame(1514, 1);
    nic.transmit(&segments(&memory, &out, &[14, 600])).unwrap();
    assert_eq!(model.state().sent, vec![out.clone()]);
    assert_eq!(model.state().most_segments, 3);

    let incoming = frame(60, 2);
    assert!(model.receive(&incoming));
    assert_eq!(receive(&mut nic), Ok(incoming));
    assert_eq!(receive(&mut nic), Err(NetError::WouldBlock));
    let counters = nic.counters();
    assert_eq!((counters.tx_frames, counters.tx_bytes), (1, 1514));
    assert_eq!((counters.rx_frames, counters.rx_bytes), (1, 60));
}

#[test]
fn both_rings_wrap_around() {
    let (model, memory) = device(Generation::I8254x);
    let mut nic = started(&model, &memory);
    let count = 2 * TX_SLOTS + 5;
    for i in 0..count {
        let data = frame(64 + i, i as u8);
        nic.transmit(&segments(&memory, &data, &[])).unwrap();
        assert_eq!(model.state().sent.last(), Some(&data));
    }
    assert_eq!(model.state().sent.len(), count);
    for i in 0..2 * RX_SLOTS + 5 {
        let data = frame(100 + i, !(i as u8));
        assert!(model.receive(&data));
        assert_eq!(receive(&mut nic).as_ref(), Ok(&data), "frame {i}");
    }
    assert_eq!(nic.counters().rx_frames, 2 * RX_SLOTS as u64 + 5);
}

#[test]
fn a_full_transmit_ring_is_busy_and_nothing_is_overwritten() {
    let (model, memory) = device(Generation::I8254x);
    let mut nic = started(&model, &memory);
    model.state().hold_transmit = true;
    let frames: Vec<Vec<u8>> = (0..TX_SLOTS).map(|i| frame(80, i as u8)).collect();
    for data in &frames[..TX_SLOTS - 1] {
        nic.queue(&segments(&memory, data, &[])).unwrap();
    }
    let last = segments(&memory, &frames[TX_SLOTS - 1], &[]);
    assert_eq!(nic.queue(&last), Err(NetError::Busy));
    assert_eq!(nic.transmit(&last), Err(NetError::Busy));
    model.release_transmit();
    nic.wait_transmitted().unwrap();
    assert_eq!(model.state().sent, frames[..TX_SLOTS - 1]);
    nic.transmit(&last).unwrap();
    assert_eq!(model.state().sent.last(), frames.last());
    assert_eq!(nic.counters().tx_frames, TX_SLOTS as u64);
}

#[test]
fn receive_buffers_are_given_back() {
    let (model, memory) = device(Generation::I8254x);
    let mut nic = started(&model, &memory);
    // The ring holds one frame fewer than it has slots; the next one is missed.
    for i in 0..RX_SLOTS - 1 {
        assert!(model.receive(&frame(70, i as u8)));
    }
    assert!(!model.receive(&frame(70, 0xEE)));
    assert_eq!(model.register(regs::MPC), 1);
    assert_eq!(nic.counters().rx_dropped, 1, "the missed frame is counted");
    assert_eq!(nic.counters().rx_dropped, 1, "and only once");
    for i in 0..RX_SLOTS - 1 {
        assert_eq!(receive(&mut nic), Ok(frame(70, i as u8)));
    }
    // Every buffer is back: the ring takes a full load again.
    let (head, tail) = (model.register(regs::RDH), model.register(regs::RDT));
    assert_eq!((tail + 1) % RX_SLOTS as u32, head);
    for i in 0..RX_SLOTS - 1 {
        assert!(model.receive(&frame(90, i as u8)), "slot {i}");
    }
    assert_eq!(receive(&mut nic), Ok(frame(90, 0)));
}

#[test]
fn oversize_frames_and_error_descriptors_are_dropped_and_counted() {
    let (model, memory) = device(Generation::I8254x);
    let mut nic = started(&model, &memory);
    // 1518 bytes is a frame the MAC takes (VLAN-tagged size) but longer than MTU 1500.
    assert!(model.receive(&frame(1518, 1)));
    assert!(model.receive_with_errors(&frame(200, 2), 0x01)); // CRC error
    assert!(model.receive_with_errors(&frame(200, 3), 0x80)); // RX data error
    assert!(model.receive(&frame(1514, 4)));
    assert_eq!(receive(&mut nic), Ok(frame(1514, 4)));
    let counters = nic.counters();
    assert_eq!((counters.rx_dropped, counters.rx_errors, counters.rx_frames), (1, 2, 1));
    // A sink too small refuses the frame: counted as dropped, buffer still recycled.
    assert!(model.receive(&frame(300, 5)));
    let mut small = [0u8; 100];
    assert_eq!(nic.receive(&mut SliceSink { buffer: &mut small }), Err(NetError::WouldBlock));
    assert_eq!(nic.counters().rx_dropped, 2);
}

#[test]
fn bad_frames_are_refused_before_the_device_sees_them() {
    let (model, memory) = device(Generation::I8254x);
    let mut nic = started(&model, &memory);
    assert_eq!(nic.transmit(&segments(&memory, &frame(13, 0), &[])), Err(NetError::TooShort));
    assert_eq!(nic.transmit(&segments(&memory, &frame(1515, 0), &[])), Err(NetError::TooLong));
    let five = segments(&memory, &frame(100, 0), &[10, 20, 30, 40]);
    assert_eq!(nic.transmit(&five), Err(NetError::BadSegments));
    assert!(model.state().sent.is_empty());
    assert_eq!(model.register(regs::TDT), 0);
}

#[test]
fn a_silent_device_times_out_and_is_failed() {
    let (model, memory) = device(Generation::I8254x);
    let mut nic = started(&model, &memory);
    model.state().stalled = true;
    let data = segments(&memory, &frame(64, 0), &[]);
    assert_eq!(nic.transmit(&data), Err(NetError::Timeout));
    assert!(nic.is_failed());
    // DMA stopped, and later calls fail at once.
    assert_eq!(model.register(regs::TCTL) & regs::TCTL_EN, 0);
    assert_eq!(model.register(regs::RCTL) & regs::RCTL_EN, 0);
    assert_eq!(nic.transmit(&data), Err(NetError::Failed));
    assert_eq!(receive(&mut nic), Err(NetError::Failed));
    assert!(!nic.link_up());

    // A device that never finishes its reset is not started.
    let (model, memory) = device(Generation::I8254x);
    model.state().stalled = true;
    let variant = matches(INTEL, QEMU_82540EM).unwrap();
    let result = start(model, &mut memory.dma(), StepClock::new(), variant);
    assert_eq!(result.err(), Some(NetError::Timeout));
}

#[test]
fn link_state_follows_the_status_register() {
    let (model, memory) = device(Generation::I8254x);
    let mut nic = started(&model, &memory);
    assert!(nic.link_up());
    model.state().link = false;
    assert!(!nic.link_up());
    model.state().link = true;
    assert!(nic.link_up());
}

#[test]
fn a_frame_spread_over_several_buffers_is_dropped_whole() {
    let (model, memory) = device(Generation::I8254x);
    let mut nic = started(&model, &memory);
    // The driver never enables long frames; forcing RCTL.LPE makes the device
    // split a jumbo frame over buffers, which the driver must drop as one frame.
    let rctl = ingot_hal::Mmio::read_u32(&model, regs::RCTL);
    ingot_hal::Mmio::write_u32(&model, regs::RCTL, rctl | (1 << 5));
    assert!(model.receive(&frame(5000, 1)));
    assert!(model.receive(&frame(99, 2)));
    assert_eq!(receive(&mut nic), Ok(frame(99, 2)));
    let counters = nic.counters();
    assert_eq!((counters.rx_dropped, counters.rx_frames), (1, 1));
}

#[test]
fn a_frame_the_device_gives_up_on_is_an_error_not_a_success() {
    let (model, memory) = device(Generation::I8254x);
    let mut nic = started(&model, &memory);
    model.state().excessive_collisions = true;
    let data = segments(&memory, &frame(100, 1), &[]);
    let status = u32::from(legacy::tx_status::DD | legacy::tx_status::EC);
    assert_eq!(nic.transmit(&data), Err(NetError::Device(status)));
    assert!(model.state().sent.is_empty());
    model.state().excessive_collisions = false;
    nic.transmit(&data).unwrap();
    let counters = nic.counters();
    assert_eq!((counters.tx_errors, counters.tx_frames, counters.tx_bytes), (1, 1, 100));
}

#[test]
fn receive_interrupts_assert_on_a_frame_and_a_receive_lowers_them() {
    let (model, memory) = device(Generation::I8254x);
    let mut nic = started(&model, &memory);
    model.receive(&frame(64, 1));
    assert!(!model.interrupt_asserted(), "masked until enabled");
    assert_eq!(receive(&mut nic).unwrap(), frame(64, 1));
    nic.enable_receive_interrupt();
    assert!(!model.interrupt_asserted(), "a stale cause is cleared when enabling");
    model.receive(&frame(70, 2));
    assert!(model.interrupt_asserted(), "a stored frame raises the interrupt");
    assert_eq!(receive(&mut nic).unwrap(), frame(70, 2));
    assert!(!model.interrupt_asserted(), "the receive read ICR: the line is low again");
    // Two frames: one receive takes the first, the cause was cleared before it.
    model.receive(&frame(80, 3));
    model.receive(&frame(90, 4));
    assert_eq!(receive(&mut nic).unwrap(), frame(80, 3));
    assert!(!model.interrupt_asserted());
    assert_eq!(receive(&mut nic).unwrap(), frame(90, 4));
    assert_eq!(receive(&mut nic), Err(NetError::WouldBlock));
}
