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
