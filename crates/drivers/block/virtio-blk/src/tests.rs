//! The driver against the virtio-blk model, over both PCI interfaces and both
//! virtio-mmio versions.

extern crate std;

use std::vec;
use std::vec::Vec;

use ingot_device_models::virtio_blk::{VirtioBlkModel, WindowKind};
use ingot_device_models::{HostMemory, StepClock};

use super::*;

const SECTORS: usize = 8192;

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed ^ (i >> 9) as u8)).collect()
}

fn legacy() -> (VirtioBlkModel, impl BlockDevice) {
    let memory = HostMemory::new(4 << 20);
    let model = VirtioBlkModel::new(memory.clone(), SECTORS);
    let transport = transport::LegacyTransport::new(model.legacy(0xC000), 0xC000);
    let disk = VirtioBlk::new(transport, &mut memory.dma(), StepClock::new()).unwrap();
    (model, disk)
}

fn modern() -> (VirtioBlkModel, impl BlockDevice) {
    let memory = HostMemory::new(4 << 20);
    let model = VirtioBlkModel::new(memory.clone(), SECTORS);
    let transport = transport::ModernTransport::new(
        model.window(WindowKind::Common),
        model.window(WindowKind::Notify),
        4,
        model.window(WindowKind::Device),
    );
    let disk = VirtioBlk::new(transport, &mut memory.dma(), StepClock::new()).unwrap();
    (model, disk)
}

fn mmio(version: u32) -> (VirtioBlkModel, impl BlockDevice) {
    let memory = HostMemory::new(4 << 20);
    let model = VirtioBlkModel::new(memory.clone(), SECTORS);
    let (transport, identity) = ingot_virtio::mmio::probe(model.mmio(version)).unwrap();
    assert_eq!((identity.version, identity.device_type), (version, 2));
    let disk = VirtioBlk::new(transport, &mut memory.dma(), StepClock::new()).unwrap();
    (model, disk)
}

fn round_trip(model: &VirtioBlkModel, disk: &mut impl BlockDevice) {
    assert_eq!(disk.identity().sectors, SECTORS as u64);
    assert_eq!(disk.identity().sector_size, 512);
    // 300 sectors from LBA 7: crosses 4 KiB boundaries and spans several requests.
    let data = pattern(300 * 512, 3);
    disk.write(7, &data).unwrap();
    assert_eq!(&model.state().disk[7 * 512..307 * 512], &data[..]);
    assert!(model.state().disk[..7 * 512].iter().all(|&b| b == 0));
    assert!(model.state().disk[307 * 512..].iter().all(|&b| b == 0));
    let mut back = vec![0; data.len()];
    disk.read(7, &mut back).unwrap();
    assert_eq!(back, data);
    disk.flush().unwrap();
    assert_eq!(model.state().flushes, 1);
}

#[test]
fn legacy_interface_writes_and_reads_many_sectors() {
    let (model, mut disk) = legacy();
    round_trip(&model, &mut disk);
    // Legacy devices never see VERSION_1.
    assert_eq!(model.state().core.driver_features & (1 << 32), 0);
}

#[test]
fn modern_interface_writes_and_reads_many_sectors() {
    let (model, mut disk) = modern();
    round_trip(&model, &mut disk);
    assert_ne!(model.state().core.driver_features & (1 << 32), 0);
    assert_eq!(&disk.identity().serial[..14], b"MODEL-SERIAL-1");
}

#[test]
fn virtio_mmio_versions_1_and_2_write_and_read_many_sectors() {
    for version in [1, 2] {
        let (model, mut disk) = mmio(version);
        round_trip(&model, &mut disk);
        let version_1_accepted = model.state().core.driver_features & (1 << 32) != 0;
        assert_eq!(version_1_accepted, version == 2, "version {version}");
        // 1 MiB in 32 KiB requests, 8 in flight, through the MMIO notify register.
        let data = pattern(1 << 20, version as u8);
        disk.write(1000, &data).unwrap();
        assert_eq!(model.state().most_pending, MAX_IN_FLIGHT);
        let mut back = vec![0; data.len()];
        disk.read(1000, &mut back).unwrap();
        assert_eq!(back, data);
    }
}

#[test]
fn several_requests_are_in_flight_at_once() {
    let (model, mut disk) = modern();
    // size_max is 32 KiB in the model: 1 MiB is 32 requests, 8 at a time.
    let data = pattern(1 << 20, 9);
    disk.write(0, &data).unwrap();
    assert_eq!(model.state().most_pending, MAX_IN_FLIGHT);
    assert_eq!(&model.state().disk[..1 << 20], &data[..]);
}

#[test]
fn bad_requests_write_nothing() {
    let (model, mut disk) = legacy();
    let data = pattern(1024, 1);
    assert_eq!(disk.write(SECTORS as u64 - 1, &data), Err(BlockError::OutOfRange));
    assert_eq!(disk.write(0, &[]), Err(BlockError::Empty));
    assert_eq!(disk.write(0, &data[..100]), Err(BlockError::Misaligned));
    assert!(model.state().disk.iter().all(|&b| b == 0));
}

#[test]
fn a_device_error_is_reported() {
    let (model, mut disk) = modern();
    model.state().fail_sector = Some(200);
    let mut buffer = vec![0; 512 * 256];
    assert_eq!(disk.read(100, &mut buffer), Err(BlockError::Device(1)));
    // The device still works for other sectors.
    disk.read(0, &mut buffer[..512]).unwrap();
}

#[test]
fn a_silent_device_times_out() {
    let (model, mut disk) = legacy();
    model.state().stalled = true;
    let mut buffer = vec![0; 512];
    assert_eq!(disk.read(0, &mut buffer), Err(BlockError::Timeout));
    // After a timeout the device is failed and refuses work at once.
    assert_eq!(disk.read(0, &mut buffer), Err(BlockError::Timeout));
    assert_ne!(model.state().core.status & transport::status::FAILED, 0);
}

/// A modern disk and the memory it lives in, for zero-copy requests.
fn modern_with_memory() -> (VirtioBlkModel, HostMemory, impl BlockDevice) {
    let memory = HostMemory::new(4 << 20);
    let model = VirtioBlkModel::new(memory.clone(), SECTORS);
    let transport = transport::ModernTransport::new(
        model.window(WindowKind::Common),
        model.window(WindowKind::Notify),
        4,
        model.window(WindowKind::Device),
    );
    let disk = VirtioBlk::new(transport, &mut memory.dma(), StepClock::new()).unwrap();
    (model, memory, disk)
}

/// `count` buffers of `bytes` each, in reverse order of address (never adjacent).
fn scattered(
    memory: &HostMemory,
    count: usize,
    bytes: usize,
) -> Vec<ingot_device_models::HostBuffer> {
    let mut dma = memory.dma();
    let mut buffers: Vec<_> = (0..count).map(|_| dma.allocate(bytes).unwrap()).collect();
    buffers.reverse();
    buffers
}

fn segments_of(buffers: &[ingot_device_models::HostBuffer]) -> Vec<DmaSegment> {
    buffers.iter().map(|b| DmaSegment { physical: b.physical(), len: b.len() as u64 }).collect()
}

#[test]
fn zero_copy_requests_chain_discontiguous_memory_within_seg_max_and_size_max() {
    use ingot_device_models::virtio_blk::SIZE_MAX;
    let (model, memory, mut disk) = modern_with_memory();
    // 16 pieces of 16 KiB: 14 data descriptors fit a slot of the 128-entry queue
    // (16 descriptors per slot), so 256 KiB is two requests.
    let source = scattered(&memory, 16, 16 * 1024);
    let data = pattern(256 * 1024, 4);
    for (piece, chunk) in source.iter().zip(data.chunks(16 * 1024)) {
        piece.write_bytes(0, chunk);
    }
    disk.write_segments(11, &segments_of(&source)).unwrap();
    assert_eq!(&model.state().disk[11 * 512..11 * 512 + data.len()], &data[..]);
    assert_eq!(model.state().most_segments, 14);
    assert_eq!(model.state().largest_request, 14 * 16 * 1024);

    let target = scattered(&memory, 16, 16 * 1024);
    disk.read_segments(11, &segments_of(&target)).unwrap();
    let mut back = vec![0; data.len()];
    for (piece, chunk) in target.iter().zip(back.chunks_mut(16 * 1024)) {
        piece.read_bytes(0, chunk);
    }
    assert_eq!(back, data);

    // One contiguous 1 MiB piece: descriptors of size_max, one request per MiB.
    let big = scattered(&memory, 1, 1 << 20);
    let data = pattern(1 << 20, 6);
    big[0].write_bytes(0, &data);
    disk.write_segments(1000, &segments_of(&big)).unwrap();
    assert_eq!(&model.state().disk[1000 * 512..1000 * 512 + data.len()], &data[..]);
    assert_eq!(model.state().largest_request, (1 << 20).min(14 * SIZE_MAX as usize));
}

#[test]
fn a_failing_zero_copy_request_fails_the_call_and_the_others_complete() {
    let (model, memory, mut disk) = modern_with_memory();
    let target = scattered(&memory, 32, 32 * 1024);
    model.state().disk[..].iter_mut().enumerate().for_each(|(i, b)| *b = (i % 251) as u8);
    model.state().fail_sector = Some(1500);
    assert_eq!(disk.read_segments(0, &segments_of(&target)), Err(BlockError::Device(1)));
    // Requests before the failing one delivered their data.
    let mut first = vec![0; 32 * 1024];
    target[0].read_bytes(0, &mut first);
    assert!(first.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
    model.state().fail_sector = None;
    disk.read_segments(0, &segments_of(&target)).unwrap();
}

#[test]
fn scatter_lists_the_device_cannot_take_are_refused_untouched() {
    let (model, memory, mut disk) = modern_with_memory();
    let pieces = scattered(&memory, 32, 4096);
    // 32 pieces of 32 bytes: 14 descriptors carry 448 bytes, never a whole sector.
    let tiny: Vec<DmaSegment> =
        pieces.iter().map(|p| DmaSegment { physical: p.physical(), len: 32 }).collect();
    assert_eq!(disk.write_segments(0, &tiny), Err(BlockError::Unsupported));
    assert_eq!(
        disk.write_segments(SECTORS as u64, &segments_of(&pieces)),
        Err(BlockError::OutOfRange)
    );
    assert!(model.state().disk.iter().all(|&b| b == 0));
    assert_eq!(model.state().largest_request, 0);
}

#[test]
fn completions_signal_through_the_msix_entry_asked_for() {
    let memory = HostMemory::new(4 << 20);
    let model = VirtioBlkModel::new(memory.clone(), SECTORS);
    let transport = transport::ModernTransport::new(
        model.window(WindowKind::Common),
        model.window(WindowKind::Notify),
        4,
        model.window(WindowKind::Device),
    );
    let mut disk = VirtioBlk::new(transport, &mut memory.dma(), StepClock::new()).unwrap();
    disk.write(0, &pattern(512, 1)).unwrap();
    assert_eq!(model.state().core.queues[0].msix_signals, 0, "silent until asked");
    assert!(disk.use_request_vector(1));
    assert_eq!(model.state().core.queues[0].msix_entry, Some(1));
    disk.write(8, &pattern(4096, 2)).unwrap();
    let mut back = vec![0; 4096];
    disk.read(8, &mut back).unwrap();
    assert_eq!(back, pattern(4096, 2));
    assert_eq!(model.state().core.queues[0].msix_signals, 2, "one per completed request");
    let (_, mut legacy) = legacy_disk();
    assert!(!legacy.use_request_vector(0), "the legacy interface has no MSI-X");
}

fn legacy_disk() -> (
    VirtioBlkModel,
    VirtioBlk<
        transport::LegacyTransport<
            ingot_device_models::virtio::LegacyPorts<
                ingot_device_models::virtio_blk::VirtioBlkState,
            >,
        >,
        ingot_device_models::HostBuffer,
        StepClock,
    >,
) {
    let memory = HostMemory::new(4 << 20);
    let model = VirtioBlkModel::new(memory.clone(), SECTORS);
    let transport = transport::LegacyTransport::new(model.legacy(0xC000), 0xC000);
    let disk = VirtioBlk::new(transport, &mut memory.dma(), StepClock::new()).unwrap();
    (model, disk)
}
