//! The driver against the IDE controller model.

extern crate std;

use std::vec;
use std::vec::Vec;

use ingot_device_models::ide::{BUS_MASTER_BASE, IdeDrive, IdeModel};
use ingot_device_models::{HostMemory, StepClock};

use super::*;

/// Primary master (LBA48), primary slave (LBA28) and secondary slave; secondary master empty.
fn controller() -> (IdeModel, HostMemory) {
    let memory = HostMemory::new(2 << 20);
    let drives = vec![
        (0, 0, IdeDrive { data: vec![0; 4 << 20], lba48: true }),
        (0, 1, IdeDrive { data: vec![0; 1 << 20], lba48: false }),
        (1, 1, IdeDrive { data: vec![0; 2 << 20], lba48: true }),
    ];
    (IdeModel::new(memory.clone(), drives), memory)
}

fn channels(dma: bool) -> [ChannelPorts; 2] {
    let mut channels = LEGACY_CHANNELS;
    if dma {
        channels[0].bus_master = Some(BUS_MASTER_BASE);
        channels[1].bus_master = Some(BUS_MASTER_BASE + 8);
    }
    channels
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(11) ^ seed ^ (i >> 9) as u8).collect()
}

#[test]
fn both_channels_master_and_slave_are_found() {
    let (model, memory) = controller();
    let disks = start(model, &channels(true), &mut memory.dma(), StepClock::new()).unwrap();
    let found: Vec<_> = disks.iter().map(|d| (d.position(), d.identity().sectors)).collect();
    assert_eq!(found, [((0, 0), 8192), ((0, 1), 2048), ((1, 1), 4096)]);
    assert_eq!(&disks[0].identity().model[..20], b"Ingot IDE model disk");
}

fn round_trip(dma: bool) {
    let (model, memory) = controller();
    let mut disks =
        start(model.clone(), &channels(dma), &mut memory.dma(), StepClock::new()).unwrap();
    for (index, disk) in disks.iter_mut().enumerate() {
        let data = pattern(150 * 512, index as u8);
        disk.write(7, &data).unwrap();
        disk.flush().unwrap();
        let position = disk.position();
        let image = model.data(position.0, usize::from(position.1));
        assert_eq!(&image[7 * 512..157 * 512], &data[..], "disk {index} at {position:?}");
        assert!(image[..7 * 512].iter().all(|&b| b == 0));
        let mut back = vec![0; data.len()];
        disk.read(7, &mut back).unwrap();
        assert_eq!(back, data);
    }
    let commands = model.state().commands.clone();
    if dma {
        assert!(
            commands.contains(&command::WRITE_DMA_EXT) && commands.contains(&command::READ_DMA)
        );
        assert_eq!(model.state().most_prd_entries, CHUNK_BYTES / PRD_ENTRY_BYTES);
    } else {
        assert!(commands.contains(&pio::WRITE_EXT) && commands.contains(&pio::READ));
    }
}

#[test]
fn pio_moves_many_sectors_on_every_drive() {
    round_trip(false);
}

#[test]
fn bus_master_dma_moves_many_sectors_on_every_drive() {
    round_trip(true);
}

#[test]
fn device_errors_timeouts_and_bad_requests() {
    let (model, memory) = controller();
    let mut disks =
        start(model.clone(), &channels(true), &mut memory.dma(), StepClock::new()).unwrap();
    assert_eq!(disks[1].write(2047, &[1; 1024]), Err(BlockError::OutOfRange));
    assert_eq!(disks[1].write(0, &[1; 10]), Err(BlockError::Misaligned));
    assert!(model.data(0, 1).iter().all(|&b| b == 0));
    model.state().fail = Some((0, 0, 3));
    let mut buffer = vec![0; 4096];
    assert_eq!(disks[0].read(0, &mut buffer), Err(BlockError::Device(0x4051)));
    model.state().fail = None;
    disks[0].read(0, &mut buffer).unwrap();
    model.state().stalled = true;
    assert_eq!(disks[2].read(0, &mut buffer), Err(BlockError::Timeout));
    assert_eq!(disks[2].read(0, &mut buffer), Err(BlockError::Timeout));
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
fn zero_copy_dma_splits_prd_entries_at_64_kib_boundaries() {
    let (model, memory) = controller();
    let mut disks =
        start(model.clone(), &channels(true), &mut memory.dma(), StepClock::new()).unwrap();
    // Six 24 KiB pieces: some cross a 64 KiB boundary, which a PRD entry may not.
    let source = scattered(&memory, 6, 24 * 1024);
    let data = pattern(6 * 24 * 1024, 5);
    for (piece, chunk) in source.iter().zip(data.chunks(24 * 1024)) {
        piece.write_bytes(0, chunk);
    }
    disks[0].write_segments(9, &segments_of(&source)).unwrap();
    assert_eq!(&model.data(0, 0)[9 * 512..9 * 512 + data.len()], &data[..]);
    // 144 KiB in one LBA48 command (the bounced path moves 64 KiB per command).
    assert_eq!(model.state().largest_transfer, data.len());
    assert!(model.state().most_prd_entries > 6);

    let target = scattered(&memory, 6, 24 * 1024);
    disks[0].read_segments(9, &segments_of(&target)).unwrap();
    let mut back = vec![0; data.len()];
    for (piece, chunk) in target.iter().zip(back.chunks_mut(24 * 1024)) {
        piece.read_bytes(0, chunk);
    }
    assert_eq!(back, data);

    // LBA28 drive: at most 256 sectors per command.
    disks[1].write_segments(0, &segments_of(&source)).unwrap();
    assert_eq!(model.state().largest_transfer, data.len());
    assert_eq!(&model.data(0, 1)[..data.len()], &data[..]);
}

#[test]
fn memory_bus_mastering_cannot_reach_is_refused_for_the_caller_to_bounce() {
    let (model, memory) = controller();
    let mut disks =
        start(model.clone(), &channels(true), &mut memory.dma(), StepClock::new()).unwrap();
    let commands = model.state().commands.len();
    let high = [Segment { physical: 1 << 32, len: 4096 }];
    let odd = [Segment { physical: 0x20_0001, len: 512 }];
    assert_eq!(disks[0].read_segments(0, &high), Err(BlockError::Unsupported));
    assert_eq!(disks[0].read_segments(0, &odd), Err(BlockError::Unsupported));
    assert_eq!(model.state().commands.len(), commands);
    // PIO-only controllers refuse every scatter list.
    let (model, memory) = controller();
    let mut disks = start(model, &channels(false), &mut memory.dma(), StepClock::new()).unwrap();
    let piece = scattered(&memory, 1, 4096);
    assert_eq!(disks[0].write_segments(0, &segments_of(&piece)), Err(BlockError::Unsupported));
}
