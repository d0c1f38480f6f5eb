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

/// Submits one request per piece of `buffers` (4 KiB each) at LBA `8 * i`,
/// returning the tags in order.
fn submit_each(
    disk: &mut impl BlockDevice,
    write: bool,
    segments: &[DmaSegment],
) -> Vec<Result<u64, BlockError>> {
    segments
        .iter()
        .enumerate()
        .map(|(i, segment)| {
            let pieces = [*segment];
            let mut cursor = SegmentCursor::new(&pieces);
            disk.submit(write, 8 * i as u64, &mut cursor, 100 + i as u64)
        })
        .collect()
}

/// Polls until `count` completions came back; returns them in the device's order.
fn collect(disk: &mut impl BlockDevice, count: usize) -> Vec<Completion> {
    let mut done = Vec::new();
    while done.len() < count {
        done.push(disk.poll().expect("a completion"));
    }
    assert_eq!(disk.poll(), None);
    assert_eq!(disk.in_flight(), 0);
    done
}

#[test]
fn thirty_two_requests_are_in_flight_and_complete_out_of_order() {
    let (model, memory, mut disk) = modern_with_memory();
    assert_eq!(disk.queue_depth(), QUEUE_DEPTH);
    let pieces = scattered(&memory, QUEUE_DEPTH + 1, 4096);
    let data = pattern(QUEUE_DEPTH * 4096, 7);
    for (piece, chunk) in pieces.iter().zip(data.chunks(4096)) {
        piece.write_bytes(0, chunk);
    }
    let segments = segments_of(&pieces);
    model.state().held = true;
    let submitted = submit_each(&mut disk, true, &segments[..QUEUE_DEPTH]);
    assert!(submitted.iter().all(|s| *s == Ok(4096)));
    assert_eq!(disk.in_flight(), QUEUE_DEPTH);
    // The queue is full: the next one is refused and its cursor left as it was.
    let extra = [segments[QUEUE_DEPTH]];
    let mut cursor = SegmentCursor::new(&extra);
    assert_eq!(disk.submit(true, 0, &mut cursor, 1), Err(BlockError::Busy));
    assert!(!cursor.is_done());
    assert_eq!(disk.poll(), None);
    assert_eq!(model.state().finish_held(), QUEUE_DEPTH);
    let done = collect(&mut disk, QUEUE_DEPTH);
    // Last submitted, first finished; each tag exactly once.
    assert_eq!(done[0].tag, 100 + QUEUE_DEPTH as u64 - 1);
    let mut tags: Vec<u64> = done.iter().map(|c| c.tag).collect();
    tags.sort();
    assert_eq!(tags, (100..100 + QUEUE_DEPTH as u64).collect::<Vec<_>>());
    assert!(done.iter().all(|c| c.result.is_ok()));
    for i in 0..QUEUE_DEPTH {
        let on_disk = &model.state().disk[i * 4096..(i + 1) * 4096];
        assert_eq!(on_disk, &data[i * 4096..(i + 1) * 4096], "request {i}");
    }
    // And back into fresh memory.
    let targets = scattered(&memory, QUEUE_DEPTH, 4096);
    let submitted = submit_each(&mut disk, false, &segments_of(&targets));
    assert!(submitted.iter().all(|s| *s == Ok(4096)));
    assert_eq!(model.state().finish_held(), QUEUE_DEPTH);
    collect(&mut disk, QUEUE_DEPTH);
    for (i, target) in targets.iter().enumerate() {
        let mut back = vec![0; 4096];
        target.read_bytes(0, &mut back);
        assert_eq!(back, &data[i * 4096..(i + 1) * 4096], "request {i}");
    }
}

#[test]
fn one_failing_request_of_thirty_two_fails_alone() {
    let (model, memory, mut disk) = modern_with_memory();
    model.state().disk.iter_mut().enumerate().for_each(|(i, b)| *b = (i % 253) as u8);
    // Request 17 covers sectors 136..144.
    model.state().fail_sector = Some(140);
    model.state().held = true;
    let targets = scattered(&memory, QUEUE_DEPTH, 4096);
    assert!(submit_each(&mut disk, false, &segments_of(&targets)).iter().all(|s| s.is_ok()));
    model.state().finish_held();
    for completion in collect(&mut disk, QUEUE_DEPTH) {
        let index = (completion.tag - 100) as usize;
        if index == 17 {
            assert_eq!(completion.result, Err(BlockError::Device(1)));
            continue;
        }
        assert_eq!(completion.result, Ok(()), "request {index}");
        let mut back = vec![0; 4096];
        targets[index].read_bytes(0, &mut back);
        let start = index * 4096;
        assert!(back.iter().enumerate().all(|(i, &b)| b == ((start + i) % 253) as u8));
    }
}

#[test]
fn a_scatter_list_over_discontiguous_memory_is_cut_into_requests() {
    let (model, memory, mut disk) = modern_with_memory();
    // Five pieces of odd sizes far apart; the model's queue gives each slot two data
    // descriptors, so the list takes several requests, each whole sectors.
    let pieces = scattered(&memory, 5, 8192);
    let lens = [1536u64, 8192, 512, 3584, 2560];
    let segments: Vec<DmaSegment> = pieces
        .iter()
        .zip(lens)
        .map(|(p, len)| DmaSegment { physical: p.physical() + 8192 - len, len })
        .collect();
    let total: u64 = lens.iter().sum();
    let data = pattern(total as usize, 5);
    let mut at = 0;
    for (piece, len) in pieces.iter().zip(lens) {
        piece.write_bytes(8192 - len as usize, &data[at..at + len as usize]);
        at += len as usize;
    }
    let mut cursor = SegmentCursor::new(&segments);
    let (mut lba, mut tag) = (33, 0);
    while !cursor.is_done() {
        let bytes = disk.submit(true, lba, &mut cursor, tag).unwrap();
        assert_eq!(bytes % 512, 0);
        lba += bytes / 512;
        tag += 1;
    }
    assert!(tag > 1);
    assert!(collect(&mut disk, tag as usize).iter().all(|c| c.result.is_ok()));
    assert_eq!(&model.state().disk[33 * 512..33 * 512 + data.len()], &data[..]);
}

#[test]
fn submitted_requests_of_a_silent_device_time_out() {
    let (model, memory, mut disk) = modern_with_memory();
    model.state().stalled = true;
    let targets = scattered(&memory, 3, 4096);
    assert!(submit_each(&mut disk, false, &segments_of(&targets)).iter().all(|s| s.is_ok()));
    let mut polls = 0;
    let mut timed_out = 0;
    while disk.in_flight() > 0 {
        polls += 1;
        if let Some(completion) = disk.poll() {
            assert_eq!(completion.result, Err(BlockError::Timeout));
            timed_out += 1;
        }
    }
    assert_eq!(timed_out, 3);
    assert!(polls > 1000, "gave up after {polls} polls");
    // A failed device refuses new requests before touching the queue.
    let one = segments_of(&targets[..1]);
    assert_eq!(disk.submit(false, 0, &mut SegmentCursor::new(&one), 0), Err(BlockError::Timeout));
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
