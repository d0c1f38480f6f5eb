//! The driver against the AHCI model.

extern crate std;

use std::vec;
use std::vec::Vec;

use ingot_device_models::ahci::{AhciModel, ModelDisk, TFD_MEDIA_ERROR};
use ingot_device_models::{HostMemory, StepClock};

use super::*;

/// Ports 0, 2 and 5 implemented; disks on 2 (LBA48) and 5 (LBA28 only); 0 empty.
fn hba() -> (AhciModel, HostMemory) {
    let memory = HostMemory::new(4 << 20);
    let disks = vec![
        (2, ModelDisk { data: vec![0; 8 << 20], lba48: true }),
        (5, ModelDisk { data: vec![0; 1 << 20], lba48: false }),
    ];
    (AhciModel::new(memory.clone(), 0b10_0101, disks), memory)
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(7) ^ seed ^ (i >> 10) as u8).collect()
}

#[test]
fn every_port_with_a_disk_is_found() {
    let (model, memory) = hba();
    let disks = start(model, &mut memory.dma(), StepClock::new()).unwrap();
    let found: Vec<_> = disks.iter().map(|d| (d.port(), d.identity().sectors)).collect();
    assert_eq!(found, [(2, 16384), (5, 2048)]);
    assert_eq!(&disks[0].identity().model[..21], b"Ingot AHCI model disk");
    assert_eq!(&disks[1].identity().serial[..10], b"AHCI-SN-05");
}

#[test]
fn lba48_and_lba28_disks_move_many_sectors_with_multi_entry_prdts() {
    let (model, memory) = hba();
    let mut disks = start(model.clone(), &mut memory.dma(), StepClock::new()).unwrap();
    let data = pattern(200 * 1024, 1);
    disks[0].write(4090, &data).unwrap();
    assert_eq!(
        &model.state().ports[2].disk.as_ref().unwrap().data[4090 * 512..][..data.len()],
        &data[..]
    );
    assert_eq!(model.state().most_prdt_entries, CHUNK_BYTES / PRDT_ENTRY_BYTES);
    let mut back = vec![0; data.len()];
    disks[0].read(4090, &mut back).unwrap();
    assert_eq!(back, data);
    assert!(model.state().commands.contains(&command::WRITE_DMA_EXT));
    let small = pattern(3 * 512, 2);
    disks[1].write(7, &small).unwrap();
    disks[1].flush().unwrap();
    assert!(model.state().commands.contains(&command::WRITE_DMA));
    assert!(model.state().commands.contains(&command::FLUSH_CACHE));
    let mut back = vec![0; small.len()];
    disks[1].read(7, &mut back).unwrap();
    assert_eq!(back, small);
}

#[test]
fn device_errors_are_reported_and_the_port_recovers() {
    let (model, memory) = hba();
    let mut disks = start(model.clone(), &mut memory.dma(), StepClock::new()).unwrap();
    model.state().fail = Some((2, 10));
    let mut buffer = vec![0; 512 * 20];
    assert_eq!(disks[0].read(0, &mut buffer), Err(BlockError::Device(TFD_MEDIA_ERROR)));
    model.state().fail = None;
    disks[0].read(0, &mut buffer).unwrap();
}

#[test]
fn bad_requests_write_nothing_and_silence_times_out() {
    let (model, memory) = hba();
    let mut disks = start(model.clone(), &mut memory.dma(), StepClock::new()).unwrap();
    assert_eq!(disks[1].write(2047, &[1; 1024]), Err(BlockError::OutOfRange));
    assert_eq!(disks[1].write(0, &[1; 100]), Err(BlockError::Misaligned));
    assert_eq!(disks[1].write(0, &[]), Err(BlockError::Empty));
    assert!(model.state().ports[5].disk.as_ref().unwrap().data.iter().all(|&b| b == 0));
    model.state().stalled = true;
    assert_eq!(disks[1].read(0, &mut [0; 512]), Err(BlockError::Timeout));
    assert_eq!(disks[1].read(0, &mut [0; 512]), Err(BlockError::Timeout));
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

fn segments_of(buffers: &[ingot_device_models::HostBuffer]) -> Vec<Segment> {
    buffers.iter().map(|b| Segment { physical: b.physical(), len: b.len() as u64 }).collect()
}

#[test]
fn zero_copy_commands_put_discontiguous_memory_in_one_prdt() {
    let (model, memory) = hba();
    let mut disks = start(model.clone(), &mut memory.dma(), StepClock::new()).unwrap();
    // 1 MiB in 64 discontiguous 16 KiB pieces: one command, 64 PRDT entries.
    let source = scattered(&memory, 64, 16 * 1024);
    let data = pattern(1 << 20, 8);
    for (piece, chunk) in source.iter().zip(data.chunks(16 * 1024)) {
        piece.write_bytes(0, chunk);
    }
    let commands_before = model.state().commands.len();
    disks[0].write_segments(5, &segments_of(&source)).unwrap();
    assert_eq!(model.state().commands.len(), commands_before + 1);
    assert_eq!(model.state().most_prdt_entries, 64);
    assert_eq!(model.state().largest_transfer, 1 << 20);
    assert_eq!(
        &model.state().ports[2].disk.as_ref().unwrap().data[5 * 512..][..1 << 20],
        &data[..]
    );

    let target = scattered(&memory, 64, 16 * 1024);
    disks[0].read_segments(5, &segments_of(&target)).unwrap();
    let mut back = vec![0; 1 << 20];
    for (piece, chunk) in target.iter().zip(back.chunks_mut(16 * 1024)) {
        piece.read_bytes(0, chunk);
    }
    assert_eq!(back, data);
}

#[test]
fn lba28_zero_copy_commands_stop_at_255_sectors() {
    let (model, memory) = hba();
    let mut disks = start(model.clone(), &mut memory.dma(), StepClock::new()).unwrap();
    let source = scattered(&memory, 1, 256 * 1024);
    let data = pattern(256 * 1024, 2);
    source[0].write_bytes(0, &data);
    disks[1].write_segments(100, &segments_of(&source)).unwrap();
    // 512 sectors: 255 + 255 + 2.
    assert_eq!(model.state().largest_transfer, 255 * 512);
    assert_eq!(
        &model.state().ports[5].disk.as_ref().unwrap().data[100 * 512..][..data.len()],
        &data[..]
    );
}

#[test]
fn odd_addresses_are_refused_and_a_failing_command_is_reported() {
    let (model, memory) = hba();
    let mut disks = start(model.clone(), &mut memory.dma(), StepClock::new()).unwrap();
    let pieces = scattered(&memory, 1, 8192);
    let odd = [Segment { physical: pieces[0].physical() + 1, len: 512 }];
    let commands_before = model.state().commands.len();
    assert_eq!(disks[0].read_segments(0, &odd), Err(BlockError::Unsupported));
    assert_eq!(disks[1].read_segments(2047, &segments_of(&pieces)), Err(BlockError::OutOfRange));
    assert_eq!(model.state().commands.len(), commands_before);
    model.state().fail = Some((2, 9));
    assert_eq!(
        disks[0].read_segments(0, &segments_of(&pieces)),
        Err(BlockError::Device(TFD_MEDIA_ERROR & 0xFFFF))
    );
    model.state().fail = None;
    disks[0].read_segments(0, &segments_of(&pieces)).unwrap();
}

/// Polls `disk` until `count` completions came back.
fn collect(disk: &mut impl BlockDevice, count: usize) -> Vec<Completion> {
    let mut done = Vec::new();
    while done.len() < count {
        done.push(disk.poll().expect("a completion"));
    }
    assert_eq!(disk.poll(), None);
    assert_eq!(disk.in_flight(), 0);
    done
}

/// Submits one 4 KiB read or write per buffer at LBA `8 * i`, tag `i`.
fn submit_each(disk: &mut impl BlockDevice, write: bool, segments: &[Segment]) {
    for (i, segment) in segments.iter().enumerate() {
        let piece = [*segment];
        let taken = disk.submit(write, 8 * i as u64, &mut SegmentCursor::new(&piece), i as u64);
        assert_eq!(taken, Ok(4096), "request {i}");
    }
}

#[test]
fn thirty_two_ncq_commands_are_queued_and_finish_out_of_order() {
    let (model, memory) = hba();
    let mut disks = start(model.clone(), &mut memory.dma(), StepClock::new()).unwrap();
    // The LBA48 disk queues 32 tags; the LBA28 one has no NCQ.
    assert_eq!((disks[0].queue_depth(), disks[1].queue_depth()), (QUEUE_DEPTH, 0));
    let source = scattered(&memory, QUEUE_DEPTH + 1, 4096);
    let data = pattern(QUEUE_DEPTH * 4096, 3);
    for (piece, chunk) in source.iter().zip(data.chunks(4096)) {
        piece.write_bytes(0, chunk);
    }
    let segments = segments_of(&source);
    model.state().held = true;
    submit_each(&mut disks[0], true, &segments[..QUEUE_DEPTH]);
    assert_eq!(model.state().most_queued, QUEUE_DEPTH);
    let extra = [segments[QUEUE_DEPTH]];
    assert_eq!(
        disks[0].submit(true, 0, &mut SegmentCursor::new(&extra), 99),
        Err(BlockError::Busy)
    );
    assert_eq!(disks[0].poll(), None);
    assert_eq!(model.state().finish_held(), QUEUE_DEPTH);
    let done = collect(&mut disks[0], QUEUE_DEPTH);
    let mut tags: Vec<u64> = done.iter().map(|c| c.tag).collect();
    tags.sort();
    assert_eq!(tags, (0..QUEUE_DEPTH as u64).collect::<Vec<_>>());
    assert!(done.iter().all(|c| c.result.is_ok()));
    assert_eq!(&model.state().ports[2].disk.as_ref().unwrap().data[..data.len()], &data[..]);
    assert!(model.state().commands.iter().all(|&c| c == 0xEC || c == 0x61));
}

#[test]
fn one_failing_ncq_command_of_thirty_two_fails_alone() {
    let (model, memory) = hba();
    let mut disks = start(model.clone(), &mut memory.dma(), StepClock::new()).unwrap();
    let disk_bytes = {
        let mut state = model.state();
        let data = &mut state.ports[2].disk.as_mut().unwrap().data;
        data.iter_mut().enumerate().for_each(|(i, b)| *b = (i % 251) as u8);
        data.len()
    };
    assert!(disk_bytes >= QUEUE_DEPTH * 4096);
    // Tag 20 covers sectors 160..168. Finishing runs the last issued first, so tags
    // 31..21 complete, 20 fails, and the disk aborts 19..0.
    model.state().fail = Some((2, 163));
    model.state().held = true;
    let targets = scattered(&memory, QUEUE_DEPTH, 4096);
    submit_each(&mut disks[0], false, &segments_of(&targets));
    model.state().finish_held();
    for completion in collect(&mut disks[0], QUEUE_DEPTH) {
        let i = completion.tag as usize;
        if i == 20 {
            assert_eq!(completion.result, Err(BlockError::Device(TFD_MEDIA_ERROR)));
            continue;
        }
        assert_eq!(completion.result, Ok(()), "request {i}");
        let mut back = vec![0; 4096];
        targets[i].read_bytes(0, &mut back);
        assert!(back.iter().enumerate().all(|(k, &b)| b == ((i * 4096 + k) % 251) as u8), "{i}");
    }
    // The aborted ones ran again unqueued (READ DMA EXT), the failing one too.
    let retried = model.state().commands.iter().filter(|&&c| c == 0x25).count();
    assert_eq!(retried, 21);
    // The port works on afterwards.
    model.state().fail = None;
    model.state().held = false;
    submit_each(&mut disks[0], false, &segments_of(&targets[..2]));
    assert!(collect(&mut disks[0], 2).iter().all(|c| c.result.is_ok()));
}

#[test]
fn queued_commands_of_a_silent_disk_time_out() {
    let (model, memory) = hba();
    let mut disks = start(model.clone(), &mut memory.dma(), StepClock::new()).unwrap();
    model.state().stalled = true;
    let targets = scattered(&memory, 2, 4096);
    submit_each(&mut disks[0], false, &segments_of(&targets));
    let mut timed_out = 0;
    while disks[0].in_flight() > 0 {
        if let Some(completion) = disks[0].poll() {
            assert_eq!(completion.result, Err(BlockError::Timeout));
            timed_out += 1;
        }
    }
    assert_eq!(timed_out, 2);
    let one = segments_of(&targets[..1]);
    assert_eq!(
        disks[0].submit(false, 0, &mut SegmentCursor::new(&one), 0),
        Err(BlockError::Timeout)
    );
}
