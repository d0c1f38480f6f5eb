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

#[test]
fn the_io_completion_queue_interrupts_on_vector_0_for_msix_entry_0() {
    let (model, memory) = controller();
    start(model.clone(), &mut memory.dma(), StepClock::new()).unwrap();
    assert_eq!(model.state().completion_interrupts, [(1, true, 0)]);
}
