//! The driver against the virtio-net model, over both PCI interfaces and both
//! virtio-mmio versions.

extern crate alloc;
extern crate std;

use std::format;
use std::vec;
use std::vec::Vec;

use ingot_device_models::virtio::{NOTIFY_MULTIPLIER, WindowKind};
use ingot_device_models::virtio_net::{F_MAC, F_MRG_RXBUF, F_STATUS, F_VERSION_1, VirtioNetModel};
use ingot_device_models::{HostBuffer, HostMemory, StepClock};
use ingot_hal::DmaAllocator;
use ingot_net::SliceSink;
use ingot_virtio::transport::{LegacyTransport, ModernTransport};

use super::*;

const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
const ALL: u64 = F_MAC | F_MRG_RXBUF | F_STATUS | F_VERSION_1;

type Nic = VirtioNet<alloc::boxed::Box<dyn Transport>, HostBuffer, StepClock>;

fn modern(features: u64) -> (HostMemory, VirtioNetModel, Nic) {
    let memory = HostMemory::new(8 << 20);
    let model = VirtioNetModel::new(memory.clone(), MAC, features);
    let transport = ModernTransport::new(
        model.window(WindowKind::Common),
        model.window(WindowKind::Notify),
        NOTIFY_MULTIPLIER,
        model.window(WindowKind::Device),
    );
    let nic = VirtioNet::new(
        alloc::boxed::Box::new(transport) as alloc::boxed::Box<dyn Transport>,
        &mut memory.dma(),
        StepClock::new(),
    )
    .unwrap();
    (memory, model, nic)
}

fn legacy(features: u64) -> (HostMemory, VirtioNetModel, Nic) {
    let memory = HostMemory::new(8 << 20);
    let model = VirtioNetModel::new(memory.clone(), MAC, features);
    let transport = LegacyTransport::new(model.legacy(0xC000), 0xC000);
    let nic = VirtioNet::new(
        alloc::boxed::Box::new(transport) as alloc::boxed::Box<dyn Transport>,
        &mut memory.dma(),
        StepClock::new(),
    )
    .unwrap();
    (memory, model, nic)
}

fn mmio(version: u32, features: u64) -> (HostMemory, VirtioNetModel, Nic) {
    let memory = HostMemory::new(8 << 20);
    let model = VirtioNetModel::new(memory.clone(), MAC, features);
    let (transport, identity) = ingot_virtio::mmio::probe(model.mmio(version)).unwrap();
    assert_eq!((identity.version, identity.device_type), (version, 1));
    let nic = VirtioNet::new(
        alloc::boxed::Box::new(transport) as alloc::boxed::Box<dyn Transport>,
        &mut memory.dma(),
        StepClock::new(),
    )
    .unwrap();
    (memory, model, nic)
}

fn frame(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed)).collect()
}

/// `bytes` placed in DMA memory, split in two physical pieces far apart.
fn in_memory(memory: &HostMemory, bytes: &[u8]) -> [Segment; 2] {
    let split = bytes.len() / 3;
    let first = memory.dma().allocate(4096).unwrap();
    let _gap = memory.dma().allocate(4096).unwrap();
    let second = memory.dma().allocate(4096).unwrap();
    first.write_bytes(0, &bytes[..split]);
    second.write_bytes(100, &bytes[split..]);
    [
        Segment { physical: first.physical(), len: split },
        Segment { physical: second.physical() + 100, len: bytes.len() - split },
    ]
}

fn receive(nic: &mut Nic) -> Result<Vec<u8>, NetError> {
    let mut buffer = vec![0; 2048];
    let len = nic.receive(&mut SliceSink { buffer: &mut buffer })?;
    buffer.truncate(len);
    Ok(buffer)
}

fn round_trip(memory: &HostMemory, model: &VirtioNetModel, nic: &mut Nic) {
    assert_eq!(nic.mac(), MacAddress(MAC));
    assert_eq!(nic.driver(), "virtio-net");
    let out = frame(1514, 1);
    nic.transmit(&in_memory(memory, &out)).unwrap();
    assert_eq!(model.state().sent, vec![out.clone()]);
    assert_eq!(receive(nic), Err(NetError::WouldBlock));
    let incoming = frame(60, 9);
    model.deliver(&incoming);
    assert_eq!(receive(nic).unwrap(), incoming);
    assert_eq!(receive(nic), Err(NetError::WouldBlock));
    let counters = nic.counters();
    assert_eq!((counters.tx_frames, counters.tx_bytes), (1, 1514));
    assert_eq!((counters.rx_frames, counters.rx_bytes), (1, 60));
}

#[test]
fn modern_interface_sends_and_receives() {
    let (memory, model, mut nic) = modern(ALL);
    assert!(nic.merged_receive_buffers());
    round_trip(&memory, &model, &mut nic);
    assert_ne!(model.state().core.driver_features & F_VERSION_1, 0);
}

#[test]
fn legacy_interface_sends_and_receives_with_and_without_merged_buffers() {
    let (memory, model, mut nic) = legacy(ALL);
    assert!(nic.merged_receive_buffers());
    round_trip(&memory, &model, &mut nic);
    assert_eq!(model.state().core.driver_features & F_VERSION_1, 0);
    // Without merged buffers the legacy header is 10 bytes; the model strips what
    // the negotiated features say, so equal bytes prove both sides agree.
    let (memory, model, mut nic) = legacy(F_MAC | F_STATUS);
    assert!(!nic.merged_receive_buffers());
    assert_eq!(model.state().header_len(), 10);
    round_trip(&memory, &model, &mut nic);
}

#[test]
fn virtio_mmio_versions_1_and_2_send_and_receive() {
    for version in [1, 2] {
        let (memory, model, mut nic) = mmio(version, ALL);
        assert!(nic.merged_receive_buffers());
        round_trip(&memory, &model, &mut nic);
        let version_1_accepted = model.state().core.driver_features & F_VERSION_1 != 0;
        assert_eq!(version_1_accepted, version == 2, "version {version}");
        // 100 frames each way through the 64-entry rings.
        let frames: Vec<Vec<u8>> = (0..100).map(|i| frame(60 + 3 * i, i as u8)).collect();
        for f in &frames {
            nic.transmit(&in_memory(&memory, f)).unwrap();
            model.deliver(f);
            assert_eq!(&receive(&mut nic).unwrap(), f, "version {version}");
        }
        assert_eq!(model.state().sent[1..], frames[..]);
    }
    // The legacy header without merged buffers is 10 bytes over MMIO too.
    let (memory, model, mut nic) = mmio(1, F_MAC | F_STATUS);
    assert_eq!(model.state().header_len(), 10);
    round_trip(&memory, &model, &mut nic);
}

#[test]
fn the_mac_and_the_link_come_from_the_device() {
    let (_, model, mut nic) = modern(ALL);
    assert_eq!(format!("{}", nic.mac()), "52:54:00:12:34:56");
    assert!(nic.link_up());
    model.state().link_up = false;
    assert!(!nic.link_up());
    model.state().link_up = true;
    assert!(nic.link_up());
    // Without VIRTIO_NET_F_STATUS there is no link field: the link counts as up.
    let (_, model, mut nic) = modern(F_MAC | F_VERSION_1);
    model.state().link_up = false;
    assert!(nic.link_up());
}

#[test]
fn a_device_without_a_mac_is_refused() {
    let memory = HostMemory::new(1 << 20);
    let model = VirtioNetModel::new(memory.clone(), MAC, F_VERSION_1);
    let transport = LegacyTransport::new(model.legacy(0xC000), 0xC000);
    let outcome = VirtioNet::new(transport, &mut memory.dma(), StepClock::new());
    assert_eq!(outcome.err(), Some(InitError::NoMac));
}

#[test]
fn more_frames_than_ring_slots_wrap_around_both_ways() {
    let (memory, model, mut nic) = modern(ALL);
    let frames: Vec<Vec<u8>> = (0..200).map(|i| frame(60 + i, i as u8)).collect();
    let placed: Vec<_> = frames.iter().map(|f| in_memory(&memory, f)).collect();
    for segments in &placed {
        nic.transmit(segments).unwrap();
    }
    assert_eq!(model.state().sent, frames);
    // 200 frames through 64 receive buffers: each is recycled after its copy.
    for (i, incoming) in frames.iter().enumerate() {
        model.deliver(incoming);
        assert_eq!(&receive(&mut nic).unwrap(), incoming, "frame {i}");
    }
    assert_eq!(nic.counters().rx_frames, 200);
}

#[test]
fn received_buffers_are_recycled_for_later_frames() {
    let (_, model, mut nic) = legacy(ALL);
    // Fill every posted buffer, drain, and fill them all again.
    for round in 0..3u8 {
        let frames: Vec<Vec<u8>> =
            (0..MAX_RECEIVE_BUFFERS).map(|i| frame(100, i as u8 ^ round)).collect();
        for f in &frames {
            model.deliver(f);
        }
        assert!(model.state().incoming.is_empty(), "round {round}: buffers were posted");
        // One more has to wait for a recycled buffer.
        model.deliver(&frame(42, round));
        assert_eq!(model.state().incoming.len(), 1);
        for f in &frames {
            assert_eq!(&receive(&mut nic).unwrap(), f);
        }
        assert_eq!(receive(&mut nic).unwrap(), frame(42, round));
    }
}

#[test]
fn a_batch_larger_than_the_ring_sends_what_fits_and_nothing_is_overwritten() {
    let (memory, model, mut nic) = modern(ALL);
    let slots = nic.transmit_slots();
    assert_eq!(slots, 32); // 256 descriptors, 5 per frame: the kernel's largest batch
    let frames: Vec<Vec<u8>> = (0..40).map(|i| frame(64, i)).collect();
    let placed: Vec<_> = frames.iter().map(|f| in_memory(&memory, f)).collect();
    let batch: Vec<&[Segment]> = placed.iter().map(|p| &p[..]).collect();
    assert_eq!(nic.transmit_batch(&batch), Ok(slots));
    assert_eq!(model.state().most_tx_pending, slots);
    assert_eq!(model.state().sent, frames[..slots]);
    assert_eq!(nic.transmit_batch(&batch[slots..]), Ok(40 - slots));
    assert_eq!(model.state().sent, frames);
}

#[test]
fn oversize_and_broken_frames_are_dropped_and_counted() {
    let (_, model, mut nic) = modern(ALL);
    // 3000 bytes spread over two merged buffers: dropped, both buffers recycled.
    model.deliver(&frame(3000, 1));
    model.deliver_runt();
    model.deliver(&frame(80, 2));
    assert_eq!(receive(&mut nic).unwrap(), frame(80, 2));
    let counters = nic.counters();
    assert_eq!((counters.rx_dropped, counters.rx_errors, counters.rx_frames), (1, 1, 1));
    // Without merged buffers a 1600-byte frame fits a buffer but not the MTU.
    let (_, model, mut nic) = legacy(F_MAC);
    model.deliver(&frame(1600, 3));
    model.deliver(&frame(1514, 4));
    assert_eq!(receive(&mut nic).unwrap(), frame(1514, 4));
    assert_eq!(nic.counters().rx_dropped, 1);
    // A sink without room refuses the frame: dropped, counted, buffer recycled.
    model.deliver(&frame(500, 5));
    let mut small = [0u8; 100];
    assert_eq!(nic.receive(&mut SliceSink { buffer: &mut small }), Err(NetError::WouldBlock));
    assert_eq!(nic.counters().rx_dropped, 2);
}

#[test]
fn bad_frames_are_refused_before_the_device_sees_them() {
    let (memory, model, mut nic) = modern(ALL);
    let short = in_memory(&memory, &frame(13, 0));
    assert_eq!(nic.transmit(&short), Err(NetError::TooShort));
    let long = in_memory(&memory, &frame(1515, 0));
    assert_eq!(nic.transmit(&long), Err(NetError::TooLong));
    let good = in_memory(&memory, &frame(60, 0));
    assert_eq!(nic.transmit_batch(&[&good, &long]), Err(NetError::TooLong));
    assert_eq!(nic.transmit(&[]), Err(NetError::BadSegments));
    assert!(model.state().sent.is_empty());
    nic.transmit(&good).unwrap();
    assert_eq!(model.state().sent.len(), 1);
}

#[test]
fn a_silent_device_times_out_and_is_failed() {
    let (memory, model, mut nic) = legacy(ALL);
    model.state().stalled = true;
    let good = in_memory(&memory, &frame(60, 0));
    assert_eq!(nic.transmit(&good), Err(NetError::Timeout));
    assert_eq!(nic.transmit(&good), Err(NetError::Failed));
    assert_eq!(receive(&mut nic), Err(NetError::Failed));
    assert_ne!(model.state().core.status & status::FAILED, 0);
}

#[test]
fn receive_interrupts_go_through_the_msix_entry_asked_for_and_transmits_stay_silent() {
    let (memory, model, mut nic) = modern(ALL);
    assert!(nic.use_receive_vector(0));
    assert_eq!(model.state().core.queues[0].msix_entry, Some(0));
    assert_eq!(model.state().core.queues[1].msix_entry, None, "transmit queue has no vector");
    let out = frame(200, 4);
    nic.transmit(&in_memory(&memory, &out)).unwrap();
    assert_eq!(model.state().core.queues[1].msix_signals, 0);
    for seed in 0..3 {
        model.deliver(&frame(80, seed));
    }
    assert_eq!(model.state().core.queues[0].msix_signals, 3, "one per received frame");
    for seed in 0..3 {
        assert_eq!(receive(&mut nic).unwrap(), frame(80, seed));
    }
    // An entry past the function's table reads back as "no vector": refused.
    assert!(!nic.use_receive_vector(ingot_device_models::virtio::MSIX_ENTRIES));
}

#[test]
fn legacy_and_virtio_mmio_transports_have_no_msix() {
    let (_memory, _model, mut nic) = legacy(ALL);
    assert!(!nic.use_receive_vector(0));
    let (_memory, _model, mut nic) = mmio(2, ALL);
    assert!(!nic.use_receive_vector(0));
}
