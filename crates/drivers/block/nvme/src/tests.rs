//! The driver against the NVMe controller model.

extern crate std;

use std::vec;
use std::vec::Vec;

use ingot_device_models::nvme::{ModelNamespace, NvmeModel, STATUS_MEDIA_ERROR};
use ingot_device_models::{HostMemory, StepClock};

use super::*;

fn controller() -> (NvmeModel, HostMemory) {
    let memory = HostMemory::new(8 << 20);
    // Namespaces 1 (512-byte sectors) and 3 (4 KiB sectors); 2 is inactive.
    let namespaces = vec![
        ModelNamespace { nsid: 1, lba_shift: 9, data: vec![0; 8 << 20] },
        ModelNamespace { nsid: 3, lba_shift: 12, data: vec![0; 2 << 20] },
    ];
    (NvmeModel::new(memory.clone(), namespaces), memory)
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(13) ^ seed ^ (i >> 12) as u8).collect()
}

#[test]
fn every_active_namespace_is_a_disk() {
    let (model, memory) = controller();
    let disks = start(model.clone(), &mut memory.dma(), StepClock::new()).unwrap();
    let ids: Vec<_> =
        disks.iter().map(|d| (d.nsid(), d.identity().sectors, d.identity().sector_size)).collect();
    assert_eq!(ids, [(1, 16384, 512), (3, 512, 4096)]);
    assert_eq!(&disks[0].identity().model[..16], b"Ingot NVMe model");
    assert_eq!(&disks[0].identity().serial[..18], b"NVME-MODEL-SN-0001");
}

#[test]
fn multi_sector_io_uses_prp_lists_and_several_commands_in_flight() {
    let (model, memory) = controller();
    let mut disks = start(model.clone(), &mut memory.dma(), StepClock::new()).unwrap();
    let data = pattern(1 << 20, 5);
    disks[0].write(3, &data).unwrap();
    assert_eq!(&model.state().namespaces[0].data[3 * 512..3 * 512 + (1 << 20)], &data[..]);
    assert!(model.state().namespaces[0].data[..3 * 512].iter().all(|&b| b == 0));
    assert!(model.state().longest_prp_list >= 15);
    assert_eq!(model.state().most_outstanding, MAX_IN_FLIGHT);
    let mut back = vec![0; data.len()];
    disks[0].read(3, &mut back).unwrap();
    assert_eq!(back, data);
    // The 4 KiB namespace, a two-page transfer (PRP2 is the second page).
    let small = pattern(8192, 7);
    disks[1].write(10, &small).unwrap();
    assert_eq!(&model.state().namespaces[1].data[40960..49152], &small[..]);
    disks[1].flush().unwrap();
    assert_eq!(model.state().flushes, 1);
}

#[test]
fn the_phase_tag_survives_many_wraps() {
    let (model, memory) = controller();
    let mut disks = start(model, &mut memory.dma(), StepClock::new()).unwrap();
    // 200 single-sector commands wrap the 32-entry completion queue several times.
    for lba in 0..200u64 {
        disks[0].write(lba, &[lba as u8; 512]).unwrap();
    }
    let mut back = vec![0; 200 * 512];
    disks[0].read(0, &mut back).unwrap();
    assert!(back.chunks(512).enumerate().all(|(i, s)| s.iter().all(|&b| b == i as u8)));
}

#[test]
fn errors_and_bad_requests() {
    let (model, memory) = controller();
    let mut disks = start(model.clone(), &mut memory.dma(), StepClock::new()).unwrap();
    model.state().fail_lba = Some((1, 50));
    let mut buffer = vec![0; 512 * 100];
    assert_eq!(
        disks[0].read(0, &mut buffer),
        Err(BlockError::Device(u32::from(STATUS_MEDIA_ERROR)))
    );
    assert_eq!(disks[0].write(16383, &buffer[..1024]), Err(BlockError::OutOfRange));
    assert_eq!(disks[0].write(0, &[]), Err(BlockError::Empty));
    assert_eq!(disks[1].write(0, &buffer[..512]), Err(BlockError::Misaligned));
    assert!(model.state().namespaces.iter().all(|ns| ns.data.iter().all(|&b| b == 0)));
}

#[test]
fn a_silent_controller_times_out() {
    let (model, memory) = controller();
    let mut disks = start(model.clone(), &mut memory.dma(), StepClock::new()).unwrap();
    model.state().stalled = true;
    let mut buffer = vec![0; 512];
    assert_eq!(disks[0].read(0, &mut buffer), Err(BlockError::Timeout));
    assert_eq!(disks[1].read(0, &mut vec![0; 4096]), Err(BlockError::Timeout));
}

#[test]
fn a_controller_that_never_gets_ready_is_an_error() {
    let (model, memory) = controller();
    model.state().never_ready = true;
    let outcome = start(model, &mut memory.dma(), StepClock::new());
    assert_eq!(outcome.err(), Some(InitError::NotReady));
}

/// `pieces` buffers of `pages` pages each from `memory`, handed out in reverse
/// order so neighbouring segments are never physically adjacent.
fn scattered(
    memory: &HostMemory,
    pieces: usize,
    pages: usize,
) -> Vec<ingot_device_models::HostBuffer> {
    let mut dma = memory.dma();
    let mut buffers: Vec<_> = (0..pieces).map(|_| dma.allocate(pages * PAGE).unwrap()).collect();
    buffers.reverse();
    buffers
}

fn segments_of(buffers: &[ingot_device_models::HostBuffer]) -> Vec<Segment> {
    buffers.iter().map(|b| Segment { physical: b.physical(), len: b.len() as u64 }).collect()
}

#[test]
fn zero_copy_io_goes_straight_to_discontiguous_memory_in_large_commands() {
    let (model, memory) = controller();
    let mut disks = start(model.clone(), &mut memory.dma(), StepClock::new()).unwrap();
    // 1 MiB over 16 discontiguous 64 KiB pieces.
    let source = scattered(&memory, 16, 16);
    let data = pattern(1 << 20, 9);
    for (piece, chunk) in source.iter().zip(data.chunks(16 * PAGE)) {
        piece.write_bytes(0, chunk);
    }
    disks[0].write_segments(7, &segments_of(&source)).unwrap();
    assert_eq!(&model.state().namespaces[0].data[7 * 512..7 * 512 + (1 << 20)], &data[..]);
    // Commands as large as MDTS allows: 1 MiB in 8 commands of 128 KiB.
    assert_eq!(model.state().largest_transfer, ingot_device_models::nvme::MAX_TRANSFER);
    assert_eq!(model.state().io_commands, 8);
    assert_eq!(model.state().longest_prp_list, 31);

    let target = scattered(&memory, 16, 16);
    disks[0].read_segments(7, &segments_of(&target)).unwrap();
    let mut back = vec![0; 1 << 20];
    for (piece, chunk) in target.iter().zip(back.chunks_mut(16 * PAGE)) {
        piece.read_bytes(0, chunk);
    }
    assert_eq!(back, data);
}

#[test]
fn a_buffer_starting_inside_a_page_is_described_by_prps() {
    let (model, memory) = controller();
    let mut disks = start(model.clone(), &mut memory.dma(), StepClock::new()).unwrap();
    // 3 sectors starting 0x200 into one page, ending inside another page elsewhere.
    let pieces = scattered(&memory, 2, 1);
    let segments = [
        Segment { physical: pieces[0].physical() + 0x200, len: PAGE as u64 - 0x200 },
        Segment { physical: pieces[1].physical(), len: 0x400 + 0x200 },
    ];
    let data = pattern(PAGE + 0x400, 3);
    pieces[0].write_bytes(0x200, &data[..PAGE - 0x200]);
    pieces[1].write_bytes(0, &data[PAGE - 0x200..]);
    disks[0].write_segments(40, &segments).unwrap();
    assert_eq!(&model.state().namespaces[0].data[40 * 512..40 * 512 + data.len()], &data[..]);
}

#[test]
fn segments_prps_cannot_describe_are_refused_before_the_device_is_touched() {
    let (model, memory) = controller();
    let mut disks = start(model.clone(), &mut memory.dma(), StepClock::new()).unwrap();
    let pieces = scattered(&memory, 2, 1);
    let odd_start = [Segment { physical: pieces[0].physical() + 2, len: 512 }];
    let gap_inside = [
        Segment { physical: pieces[0].physical(), len: 512 },
        Segment { physical: pieces[1].physical(), len: 512 },
    ];
    pieces[0].write_bytes(0, &[0xAA; 1024]);
    let before = model.state().io_commands;
    assert_eq!(disks[0].write_segments(0, &odd_start), Err(BlockError::Unsupported));
    assert_eq!(disks[0].write_segments(0, &gap_inside), Err(BlockError::Unsupported));
    assert_eq!(disks[1].write_segments(0, &gap_inside), Err(BlockError::Misaligned));
    assert_eq!(disks[0].write_segments(16384, &gap_inside), Err(BlockError::OutOfRange));
    assert_eq!(model.state().io_commands, before);
    assert!(model.state().namespaces.iter().all(|ns| ns.data.iter().all(|&b| b == 0)));
}

#[test]
fn a_failing_command_among_large_ones_fails_the_request() {
    let (model, memory) = controller();
    let mut disks = start(model.clone(), &mut memory.dma(), StepClock::new()).unwrap();
    model.state().fail_lba = Some((1, 1000));
    let target = scattered(&memory, 1, 256);
    assert_eq!(
        disks[0].read_segments(0, &segments_of(&target)),
        Err(BlockError::Device(u32::from(STATUS_MEDIA_ERROR)))
    );
    // The controller is still usable afterwards.
    model.state().fail_lba = None;
    disks[0].read_segments(0, &segments_of(&target)).unwrap();
}

/// Polls `disk` until `count` completions came back.
fn collect(disk: &mut impl BlockDevice, count: usize) -> Vec<ingot_block::Completion> {
    let mut done = Vec::new();
    while done.len() < count {
        done.push(disk.poll().expect("a completion"));
    }
    assert_eq!(disk.in_flight(), 0);
    done
}

#[test]
fn thirty_two_queued_commands_of_two_namespaces_complete_out_of_order() {
    let (model, memory) = controller();
    let mut disks = start(model.clone(), &mut memory.dma(), StepClock::new()).unwrap();
    assert_eq!(disks[0].queue_depth(), QUEUE_DEPTH);
    model.state().namespaces[0].data.iter_mut().enumerate().for_each(|(i, b)| *b = (i % 251) as u8);
    model.state().namespaces[1].data.iter_mut().enumerate().for_each(|(i, b)| *b = (i % 241) as u8);
    // Namespace 1 request 9 (LBA 72..80) fails; the other 31 succeed.
    model.state().fail_lba = Some((1, 75));
    model.state().held = true;
    let targets = scattered(&memory, QUEUE_DEPTH + 1, 2);
    let segments = segments_of(&targets);
    for (i, segment) in segments[..QUEUE_DEPTH].iter().enumerate() {
        // Even requests to namespace 1 (16 sectors of 512), odd ones to namespace 3
        // (2 sectors of 4 KiB); all 8 KiB over two discontiguous pages.
        let disk = i % 2;
        let piece = [*segment];
        let lba = if disk == 0 { 8 * i as u64 } else { 2 * i as u64 };
        let taken = disks[disk].submit(false, lba, &mut SegmentCursor::new(&piece), i as u64);
        assert_eq!(taken, Ok(8192), "request {i}");
    }
    let extra = [segments[QUEUE_DEPTH]];
    assert_eq!(
        disks[0].submit(false, 0, &mut SegmentCursor::new(&extra), 99),
        Err(BlockError::Busy)
    );
    assert_eq!(model.state().most_outstanding, QUEUE_DEPTH);
    assert_eq!(disks[0].poll(), None);
    assert_eq!(model.state().finish_held(), QUEUE_DEPTH);
    let mut done = collect(&mut disks[1], QUEUE_DEPTH / 2);
    done.extend(collect(&mut disks[0], QUEUE_DEPTH / 2));
    let mut tags: Vec<u64> = done.iter().map(|c| c.tag).collect();
    tags.sort();
    assert_eq!(tags, (0..QUEUE_DEPTH as u64).collect::<Vec<_>>());
    for completion in done {
        let i = completion.tag as usize;
        if i == 8 {
            let failure = Err(BlockError::Device(u32::from(STATUS_MEDIA_ERROR)));
            assert_eq!(completion.result, failure);
            continue;
        }
        assert_eq!(completion.result, Ok(()), "request {i}");
        let mut back = vec![0; 8192];
        targets[i].read_bytes(0, &mut back);
        let (start, modulus) =
            if i.is_multiple_of(2) { (8 * i * 512, 251) } else { (2 * i * 4096, 241) };
        assert!(back.iter().enumerate().all(|(k, &b)| b == ((start + k) % modulus) as u8), "{i}");
    }
}

#[test]
fn queued_commands_refuse_memory_prps_cannot_describe_and_time_out_when_silent() {
    let (model, memory) = controller();
    let mut disks = start(model.clone(), &mut memory.dma(), StepClock::new()).unwrap();
    let pieces = scattered(&memory, 2, 1);
    let gap_inside = [
        Segment { physical: pieces[0].physical(), len: 512 },
        Segment { physical: pieces[1].physical(), len: 512 },
    ];
    let mut cursor = SegmentCursor::new(&gap_inside);
    assert_eq!(disks[0].submit(true, 0, &mut cursor, 1), Err(BlockError::Unsupported));
    let whole = segments_of(&pieces[..1]);
    assert_eq!(
        disks[0].submit(true, 16383, &mut SegmentCursor::new(&whole), 1),
        Err(BlockError::OutOfRange)
    );
    assert_eq!(model.state().io_commands, 0);
    model.state().stalled = true;
    assert_eq!(disks[0].submit(false, 0, &mut SegmentCursor::new(&whole), 5), Ok(4096));
    let completion = loop {
        if let Some(completion) = disks[0].poll() {
            break completion;
        }
    };
    assert_eq!(completion, ingot_block::Completion { tag: 5, result: Err(BlockError::Timeout) });
    assert_eq!(
        disks[1].submit(false, 0, &mut SegmentCursor::new(&whole), 6),
        Err(BlockError::Timeout)
    );
}

/// The core the per-queue test pretends to run on.
static CORE: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

fn pretend_core() -> usize {
    CORE.load(core::sync::atomic::Ordering::Relaxed)
}

#[test]
fn each_core_submits_on_its_own_queue_pair() {
    let (model, memory) = controller();
    let mut disks =
        start_with_queues(model.clone(), &mut memory.dma(), StepClock::new(), 2, pretend_core)
            .unwrap();
    assert_eq!(disks[0].queue_pairs(), 2);
    model.state().namespaces[0].data.iter_mut().enumerate().for_each(|(i, b)| *b = (i % 251) as u8);
    model.state().held = true;
    // Core 0 and core 1 each fill their pair: 64 commands in flight, 32 per pair;
    // every fourth is 16 KiB (four pages: a PRP list page from the shared pool).
    let targets = scattered(&memory, 2 * QUEUE_DEPTH, 4);
    let mut expected = Vec::new();
    for (i, target) in targets.iter().enumerate() {
        CORE.store(i / QUEUE_DEPTH, core::sync::atomic::Ordering::Relaxed);
        let bytes = if i % 4 == 0 { 4 * PAGE } else { PAGE } as u64;
        let piece = [Segment { physical: target.physical(), len: bytes }];
        let lba = 40 * i as u64;
        let taken = disks[0].submit(false, lba, &mut SegmentCursor::new(&piece), i as u64);
        assert_eq!(taken, Ok(bytes), "request {i}");
        expected.push(((lba * 512) as usize, bytes as usize));
    }
    // Both pairs are full; the next submission on either is refused.
    let spare = [Segment { physical: targets[0].physical(), len: 512 }];
    assert_eq!(
        disks[0].submit(false, 0, &mut SegmentCursor::new(&spare), 99),
        Err(BlockError::Busy)
    );
    assert_eq!(disks[0].in_flight(), 2 * QUEUE_DEPTH);
    assert_eq!(model.state().finish_held(), 2 * QUEUE_DEPTH);
    // SQ 1 is the blocking calls' pair; 2 and 3 the two cores'.
    let per_queue: Vec<(u16, usize)> =
        model.state().commands_per_queue.iter().map(|(q, n)| (*q, *n)).collect();
    assert_eq!(per_queue, [(2, QUEUE_DEPTH), (3, QUEUE_DEPTH)]);
    // Whichever core polls collects all of them.
    CORE.store(0, core::sync::atomic::Ordering::Relaxed);
    let done = collect(&mut disks[0], 2 * QUEUE_DEPTH);
    for completion in done {
        let i = completion.tag as usize;
        assert_eq!(completion.result, Ok(()), "request {i}");
        let (start, len) = expected[i];
        let mut back = vec![0; len];
        targets[i].read_bytes(0, &mut back);
        assert!(back.iter().enumerate().all(|(k, &b)| b == ((start + k) % 251) as u8), "{i}");
    }
    // The pool's list pages came back: 16 more four-page commands fit at once.
    for (i, target) in targets.iter().take(16).enumerate() {
        let piece = [Segment { physical: target.physical(), len: 4 * PAGE as u64 }];
        assert!(disks[0].submit(false, 0, &mut SegmentCursor::new(&piece), i as u64).is_ok());
    }
}

#[test]
fn every_io_completion_queue_interrupts_on_vector_0_for_msix_entry_0() {
    let (model, memory) = controller();
    start(model.clone(), &mut memory.dma(), StepClock::new()).unwrap();
    // The blocking calls' queue (1) and the pair for submitted commands (2).
    assert_eq!(model.state().completion_interrupts, [(1, true, 0), (2, true, 0)]);
}

#[test]
fn two_lanes_of_one_namespace_run_their_commands_side_by_side() {
    let (model, memory) = controller();
    // Whatever core this runs on (the pretend core is always 1), a lane submits on
    // its own pair.
    let disks =
        start_with_queues(model.clone(), &mut memory.dma(), StepClock::new(), 2, || 1).unwrap();
    assert!(disks[0].lane(2).is_none());
    let mut lanes = [disks[0].lane(0).unwrap(), disks[0].lane(1).unwrap()];
    model.state().namespaces[0].data.iter_mut().enumerate().for_each(|(i, b)| *b = (i % 251) as u8);
    model.state().held = true;
    // Lane 0 writes 12 pages at LBA 0.., lane 1 reads 12 pages at LBA 4096..,
    // submitted alternately so both pairs hold commands at once.
    let sources = scattered(&memory, 12, 1);
    let targets = scattered(&memory, 12, 1);
    for i in 0..12 {
        let written = pattern(PAGE, i as u8);
        sources[i].write_bytes(0, &written);
        let source = [Segment { physical: sources[i].physical(), len: PAGE as u64 }];
        let lba = 8 * i as u64;
        assert_eq!(
            lanes[0].submit(true, lba, &mut SegmentCursor::new(&source), i as u64),
            Ok(4096)
        );
        let target = [Segment { physical: targets[i].physical(), len: PAGE as u64 }];
        let lba = 4096 + 8 * i as u64;
        let tag = 100 + i as u64;
        assert_eq!(lanes[1].submit(false, lba, &mut SegmentCursor::new(&target), tag), Ok(4096));
    }
    assert_eq!((lanes[0].in_flight(), lanes[1].in_flight(), disks[0].in_flight()), (12, 12, 24));
    assert_eq!(model.state().finish_held(), 24);
    let per_queue: Vec<(u16, usize)> =
        model.state().commands_per_queue.iter().map(|(q, n)| (*q, *n)).collect();
    assert_eq!(per_queue, [(2, 12), (3, 12)]);
    // Each lane gets back only its own commands, whichever polls first.
    let mut read_tags: Vec<u64> = collect(&mut lanes[1], 12).iter().map(|c| c.tag).collect();
    assert_eq!(lanes[1].poll(), None);
    assert_eq!(lanes[0].in_flight(), 12);
    let mut write_tags: Vec<u64> = collect(&mut lanes[0], 12).iter().map(|c| c.tag).collect();
    read_tags.sort();
    write_tags.sort();
    assert_eq!(read_tags, (100..112).collect::<Vec<_>>());
    assert_eq!(write_tags, (0..12).collect::<Vec<_>>());
    for (i, target) in targets.iter().enumerate() {
        let at = 8 * i * 512;
        assert_eq!(&model.state().namespaces[0].data[at..at + PAGE], &pattern(PAGE, i as u8)[..]);
        let mut back = vec![0; PAGE];
        target.read_bytes(0, &mut back);
        let start = (4096 + 8 * i) * 512;
        assert!(back.iter().enumerate().all(|(k, &b)| b == ((start + k) % 251) as u8), "{i}");
    }
}

#[test]
fn with_a_vector_per_pair_pair_k_interrupts_on_vector_k_plus_1() {
    let (model, memory) = controller();
    start_with_queue_vectors(model.clone(), &mut memory.dma(), StepClock::new(), 3, || 0).unwrap();
    // The blocking calls' queue (1) keeps vector 0; the three pairs (2, 3, 4) 1, 2, 3.
    assert_eq!(
        model.state().completion_interrupts,
        [(1, true, 0), (2, true, 1), (3, true, 2), (4, true, 3)]
    );
}
