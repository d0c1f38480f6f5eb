//! Random operations on a BMFS disk against an in-memory model of what the reference
//! tool does: first-fit placement (stated as "lowest block with a free run"), slot
//! reuse, the create and write size rules, contents read back byte for byte.

mod rng;

use ingot_bmfs::{BLOCK_BYTES, Bmfs, Error, SliceDisk, blocks_for_mib, blocks_for_write};
use rng::Rng;

const MIB: u64 = 1 << 20;

#[derive(Clone, Debug, PartialEq)]
enum Slot {
    End,
    Deleted,
    Live { name: String, start: u64, reserved: u64, data: Vec<u8> },
}

struct Model {
    slots: Vec<Slot>,
    blocks: u64,
}

impl Model {
    fn find(&self, name: &str) -> Option<usize> {
        let end = self.slots.iter().position(|s| *s == Slot::End).unwrap_or(64);
        (0..end).find(|&i| matches!(&self.slots[i], Slot::Live { name: n, .. } if n == name))
    }

    fn used(&self, block: u64) -> bool {
        self.slots.iter().any(|s| {
            matches!(s, Slot::Live { start, reserved, .. } if *start <= block && block < start + reserved)
        })
    }

    /// The lowest data block starting `n` free blocks that end before the last block.
    fn first_fit(&self, n: u64) -> Option<u64> {
        (1..self.blocks).find(|&s| s + n < self.blocks && (s..s + n).all(|b| !self.used(b)))
    }

    fn create(&mut self, name: &str, blocks: u64) -> Result<usize, &'static str> {
        if self.find(name).is_some() {
            return Err("exists");
        }
        let slot = self.slots.iter().position(|s| *s != Slot::End && *s == Slot::Deleted);
        let slot = slot.or_else(|| self.slots.iter().position(|s| *s == Slot::End));
        let slot = slot.ok_or("full")?;
        let start = self.first_fit(blocks).ok_or("space")?;
        self.slots[slot] =
            Slot::Live { name: name.into(), start, reserved: blocks, data: Vec::new() };
        Ok(slot)
    }
}

fn kind<E: std::fmt::Debug>(error: &Error<E>) -> &'static str {
    match error {
        Error::Exists => "exists",
        Error::DirectoryFull => "full",
        Error::NoSpace { .. } => "space",
        Error::NotFound => "missing",
        Error::TooLarge { .. } => "large",
        Error::ZeroSize => "zero",
        other => panic!("unexpected error {other:?}"),
    }
}

fn interesting_size(rng: &mut Rng) -> usize {
    let b = BLOCK_BYTES as usize;
    let any = rng.below(5 * MIB) as usize;
    *rng.pick(&[0, 1, 511, 512, 513, b - 1, b, b + 1, 2 * b, any])
}

fn run(seed: u64) {
    let mut rng = Rng::new(seed);
    let disk_mib = 6 + rng.below(30);
    let mut disk = vec![0u8; (disk_mib * MIB) as usize];
    let mut fs = Bmfs::format(SliceDisk::new(&mut disk)).unwrap();
    let mut model = Model { slots: vec![Slot::End; 64], blocks: disk_mib / 2 };
    assert_eq!(fs.disk_blocks(), model.blocks);
    let names = ["a", "bb", "kernel.bin", "init.app", "x.y", "31-bytes-long-name-0123456789ab"];
    for step in 0..40 {
        let name = *rng.pick(&names);
        let context = format!("seed {seed} step {step}");
        match rng.below(4) {
            0 => {
                let mib = rng.below(7);
                let got = fs.create(name, mib);
                let expected =
                    if mib == 0 { Err("zero") } else { model.create(name, blocks_for_mib(mib)) };
                assert_eq!(got.as_ref().map(|e| e.slot).map_err(kind), expected, "{context}");
            }
            1 => {
                let size = interesting_size(&mut rng);
                let data = rng.bytes(size);
                let got = fs.write(name, &data);
                let slot = match model.find(name) {
                    Some(slot) => Ok(slot),
                    None => model.create(name, blocks_for_write(data.len() as u64)),
                };
                let expected = slot.and_then(|slot| match &mut model.slots[slot] {
                    Slot::Live { reserved, data: stored, .. } => {
                        if *reserved * BLOCK_BYTES < data.len() as u64 {
                            Err("large")
                        } else {
                            *stored = data.clone();
                            Ok(slot)
                        }
                    }
                    _ => unreachable!(),
                });
                assert_eq!(got.as_ref().map(|e| e.slot).map_err(kind), expected, "{context}");
            }
            2 => {
                let got = fs.delete(name).map(|e| e.slot);
                let expected = model.find(name).ok_or("missing");
                if let Ok(slot) = expected {
                    model.slots[slot] = Slot::Deleted;
                }
                assert_eq!(got.map_err(|e| kind(&e)), expected, "{context}");
            }
            _ => {
                if let Some(slot) = model.find(name) {
                    let Slot::Live { data, .. } = &model.slots[slot] else { unreachable!() };
                    let offset = rng.below(data.len() as u64 + 1);
                    let mut buffer = vec![0u8; rng.below(3 * MIB) as usize];
                    let read = fs.read_at(name, offset, &mut buffer).unwrap();
                    let end = (offset as usize + buffer.len()).min(data.len());
                    assert_eq!(&buffer[..read], &data[offset as usize..end], "{context}");
                }
            }
        }
        assert_eq!(fs.check(), Ok(()), "{context}");
        let listed: Vec<_> = fs
            .entries()
            .map(|e| (e.slot, e.name.to_string(), e.starting_block, e.reserved_blocks, e.file_size))
            .collect();
        let modelled: Vec<_> = (0..64)
            .filter_map(|slot| match &model.slots[slot] {
                Slot::Live { name, start, reserved, data } => {
                    Some((slot, name.clone(), *start, *reserved, data.len() as u64))
                }
                _ => None,
            })
            .collect();
        assert_eq!(listed, modelled, "{context}");
    }
    for slot in &model.slots {
        if let Slot::Live { name, data, .. } = slot {
            assert_eq!(&fs.read_to_vec(name).unwrap(), data, "seed {seed}: {name}");
        }
    }
    // Reopening from the bytes gives the same directory.
    let listed: Vec<_> = fs.entries().collect();
    let _ = fs.into_device();
    let reopened = Bmfs::open(SliceDisk::new(&mut disk)).unwrap();
    assert_eq!(reopened.entries().collect::<Vec<_>>(), listed, "seed {seed}");
}

#[test]
fn random_operations_match_the_model() {
    for seed in 0..48 {
        run(seed);
    }
}

#[test]
fn boundary_file_sizes_round_trip() {
    let b = BLOCK_BYTES as usize;
    let mut rng = Rng::new(7);
    for size in [0, 1, b, b + 1] {
        let mut disk = vec![0xCCu8; 16 * MIB as usize];
        let mut fs = Bmfs::format(SliceDisk::new(&mut disk)).unwrap();
        let data = rng.bytes(size);
        let entry = fs.write("f", &data).unwrap();
        assert_eq!(entry.reserved_blocks, blocks_for_write(size as u64), "{size}");
        assert_eq!(fs.read_to_vec("f").unwrap(), data, "{size}");
        let _ = fs.into_device();
        // Written blocks are padded with zeros; nothing past them is touched.
        let start = b;
        let written = size.div_ceil(b) * b;
        assert_eq!(&disk[start..start + size], &data[..]);
        assert!(disk[start + size..start + written].iter().all(|&x| x == 0), "{size}");
        assert!(disk[start + written..].iter().all(|&x| x == 0xCC), "{size}");
    }
}

#[test]
fn a_full_disk() {
    // 10 blocks: data blocks 1..=8, block 9 kept for the copy of block 0.
    let mut disk = vec![0u8; 20 * MIB as usize];
    let mut fs = Bmfs::format(SliceDisk::new(&mut disk)).unwrap();
    let big = vec![0x42u8; 3 * BLOCK_BYTES as usize]; // 6 MiB → 7 → 8 MiB: 4 blocks.
    assert_eq!(fs.write("big", &big).unwrap().reserved_blocks, 4);
    for n in 0..4 {
        assert_eq!(fs.write(&format!("small{n}"), &[n]).unwrap().starting_block, 5 + u64::from(n));
    }
    assert_eq!(fs.write("more", b"x"), Err(Error::NoSpace { blocks: 1 }));
    assert_eq!(fs.create("more", 1), Err(Error::NoSpace { blocks: 1 }));
    assert_eq!(fs.find("more"), None, "a failed create leaves no entry");
    // A file exactly filling its reservation can be rewritten in place.
    let full = vec![0x17u8; 4 * BLOCK_BYTES as usize];
    fs.write("big", &full).unwrap();
    assert_eq!(fs.read_to_vec("big").unwrap(), full);
    assert_eq!(fs.read_to_vec("small3").unwrap(), [3]);
    assert_eq!(fs.check(), Ok(()));
}
