//! Unit tests: the bytes on disk, the reference tool's placement rules, the errors.

use super::*;

const MIB: usize = 1 << 20;

fn formatted(mib: usize) -> Vec<u8> {
    let mut disk = vec![0u8; mib * MIB];
    Bmfs::format(SliceDisk::new(&mut disk)).unwrap();
    disk
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
}

#[test]
fn format_writes_only_the_info_record_and_the_directory() {
    let mut disk = vec![0xAAu8; 8 * MIB];
    let fs = Bmfs::format(SliceDisk::new(&mut disk)).unwrap();
    assert_eq!(fs.disk_blocks(), 4);
    assert_eq!(fs.entries().count(), 0);
    assert_eq!(&disk[1024..1028], b"BMFS");
    assert!(disk[1028..1536].iter().all(|&b| b == 0));
    assert!(disk[4096..8192].iter().all(|&b| b == 0));
    assert!(disk[..1024].iter().chain(&disk[1536..4096]).chain(&disk[8192..]).all(|&b| b == 0xAA));
}

#[test]
fn entries_are_bit_exact() {
    let mut disk = formatted(32);
    let mut fs = Bmfs::open(SliceDisk::new(&mut disk)).unwrap();
    fs.write("kernel.bin", &vec![0x5A; 5 * MIB]).unwrap();
    let slot = &disk[4096..4160];
    assert_eq!(&slot[..11], b"kernel.bin\0");
    assert!(slot[11..32].iter().all(|&b| b == 0));
    assert_eq!(u64_at(slot, 32), 1);
    // 5 MiB: 5 + 1 = 6 MiB = 3 blocks.
    assert_eq!(u64_at(slot, 40), 3);
    assert_eq!(u64_at(slot, 48), 5 * MIB as u64);
    assert_eq!(u64_at(slot, 56), 0);
    assert_eq!(disk[4160], 0, "directory ends after one entry");
    assert!(disk[2 * MIB..7 * MIB].iter().all(|&b| b == 0x5A));
}

#[test]
fn reference_sizes_for_create_and_write() {
    assert_eq!([1, 2, 3, 4, 5].map(blocks_for_mib), [1, 1, 2, 2, 3]);
    let m = MIB as u64;
    assert_eq!(blocks_for_write(0), 1);
    assert_eq!(blocks_for_write(2 * m - 1), 1);
    // 2 MiB: 2 + 1 = 3 MiB → 4 MiB; 3 MiB + 1: ⌊3⌋ + 1 = 4 MiB (integer division).
    assert_eq!(blocks_for_write(2 * m), 2);
    assert_eq!(blocks_for_write(2 * m + 1), 2);
    assert_eq!(blocks_for_write(3 * m + 1), 2);
    assert_eq!(blocks_for_write(4 * m), 3);
    for bytes in [2 * m, 3 * m, 4 * m - 1, 4 * m, 100 * m + 7] {
        assert!(blocks_for_write(bytes) * BLOCK_BYTES >= bytes, "{bytes}");
    }
}

#[test]
fn create_reserves_and_first_fit_fills_gaps() {
    let mut disk = formatted(16); // 8 blocks; data blocks 1..=6.
    let mut fs = Bmfs::open(SliceDisk::new(&mut disk)).unwrap();
    let a = fs.create("a", 1).unwrap();
    let b = fs.create("b", 3).unwrap();
    let c = fs.create("c", 2).unwrap();
    assert_eq!([a.starting_block, b.starting_block, c.starting_block], [1, 2, 4]);
    assert_eq!([a.reserved_blocks, b.reserved_blocks, c.file_size], [1, 2, 0]);
    assert_eq!(fs.create("a", 1), Err(Error::Exists));
    assert_eq!(fs.create("z", 0), Err(Error::ZeroSize));
    assert_eq!(fs.create("d", 6), Err(Error::NoSpace { blocks: 3 }));
    fs.delete("b").unwrap();
    // The freed gap (blocks 2–3) takes a 2-block file; the next one goes after c.
    assert_eq!(fs.create("e", 4).unwrap().starting_block, 2);
    assert_eq!(fs.create("f", 3).unwrap().starting_block, 5);
    // Block 7 is the reserved copy of block 0.
    assert_eq!(fs.create("g", 1), Err(Error::NoSpace { blocks: 1 }));
    let names: Vec<_> = fs.entries().map(|e| e.name.to_string()).collect();
    assert_eq!(names, ["a", "e", "c", "f"], "e reused b's slot");
}

#[test]
fn a_reused_slot_keeps_the_bytes_the_reference_tool_keeps() {
    let mut disk = formatted(16);
    let mut fs = Bmfs::open(SliceDisk::new(&mut disk)).unwrap();
    fs.write("a-longer-name", b"first").unwrap();
    fs.delete("a-longer-name").unwrap();
    let _ = fs.into_device();
    disk[4096 + 56] = 0x99; // Something in the unused word.
    let mut fs = Bmfs::open(SliceDisk::new(&mut disk)).unwrap();
    fs.create("x", 1).unwrap();
    let _ = fs.into_device();
    // The reference tool strcpy()s the name and sets the three fields, nothing else.
    assert_eq!(&disk[4096..4096 + 14], b"x\0longer-name\0");
    assert_eq!(u64_at(&disk, 4096 + 32), 1);
    assert_eq!(u64_at(&disk, 4096 + 48), 0);
    assert_eq!(disk[4096 + 56], 0x99);
    let fs = Bmfs::open(SliceDisk::new(&mut disk)).unwrap();
    assert_eq!(fs.find("x").unwrap().name.as_bytes(), b"x");
}

#[test]
fn names_are_checked() {
    let mut disk = formatted(8);
    let mut fs = Bmfs::open(SliceDisk::new(&mut disk)).unwrap();
    for bad in ["", "nul\0inside", "\u{1}deleted", &"x".repeat(32)] {
        assert_eq!(fs.create(bad, 1), Err(Error::BadName), "{bad:?}");
        assert_eq!(fs.write(bad, b"x"), Err(Error::BadName), "{bad:?}");
    }
    assert_eq!(fs.create(&"x".repeat(31), 1).unwrap().name.as_bytes(), "x".repeat(31).as_bytes());
}

#[test]
fn write_pads_the_last_block_and_keeps_the_reservation() {
    let mut disk = formatted(16);
    disk[2 * MIB..6 * MIB].fill(0xEE);
    let mut fs = Bmfs::open(SliceDisk::new(&mut disk)).unwrap();
    fs.create("log", 4).unwrap();
    fs.write("log", b"hello").unwrap();
    let entry = fs.find("log").unwrap();
    assert_eq!((entry.reserved_blocks, entry.file_size), (2, 5));
    let mut read = [0u8; 16];
    assert_eq!(fs.read_at("log", 0, &mut read).unwrap(), 5);
    assert_eq!(&read[..5], b"hello");
    let too_big = vec![1u8; 4 * MIB + 1];
    assert_eq!(
        fs.write("log", &too_big),
        Err(Error::TooLarge { bytes: 4 * MIB as u64 + 1, reserved_blocks: 2 })
    );
    let _ = fs.into_device();
    assert_eq!(&disk[2 * MIB..2 * MIB + 5], b"hello");
    assert!(disk[2 * MIB + 5..4 * MIB].iter().all(|&b| b == 0), "first block padded");
    assert!(disk[4 * MIB..6 * MIB].iter().all(|&b| b == 0xEE), "second block untouched");
}

#[test]
fn read_at_an_offset() {
    let mut disk = formatted(16);
    let mut fs = Bmfs::open(SliceDisk::new(&mut disk)).unwrap();
    let data: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 251) as u8).collect();
    fs.write("data", &data).unwrap();
    let mut part = [0u8; 1000];
    assert_eq!(fs.read_at("data", 700, &mut part).unwrap(), 1000);
    assert_eq!(&part[..], &data[700..1700]);
    assert_eq!(fs.read_at("data", 2500, &mut part).unwrap(), 500);
    assert_eq!(&part[..500], &data[2500..]);
    assert_eq!(fs.read_at("data", 3000, &mut part).unwrap(), 0);
    assert_eq!(
        fs.read_at("data", 3001, &mut part),
        Err(Error::OffsetBeyondEnd { offset: 3001, file_size: 3000 })
    );
    assert_eq!(fs.read_at("nothing", 0, &mut part), Err(Error::NotFound));
    assert_eq!(fs.read_to_vec("data").unwrap(), data);
}

#[test]
fn a_full_directory_is_refused() {
    let mut disk = vec![0u8; 140 * MIB];
    let mut fs = Bmfs::format(SliceDisk::new(&mut disk)).unwrap();
    for n in 0..64 {
        fs.write(&format!("f{n}"), &[n as u8]).unwrap();
    }
    assert_eq!(fs.write("one-more", b"x"), Err(Error::DirectoryFull));
    assert_eq!(fs.entries().count(), 64);
    fs.delete("f10").unwrap();
    assert_eq!(fs.write("one-more", b"x").unwrap().slot, 10);
}

#[test]
fn open_refuses_untagged_and_small_disks() {
    let mut disk = vec![0u8; 8 * MIB];
    assert!(matches!(Bmfs::open(SliceDisk::new(&mut disk)), Err(Error::NotBmfs)));
    disk[1024..1028].copy_from_slice(b"bmfs");
    assert!(Bmfs::open(SliceDisk::new(&mut disk)).is_ok(), "the tag is compared without case");
    disk[1028] = b'!';
    assert!(matches!(Bmfs::open(SliceDisk::new(&mut disk)), Err(Error::NotBmfs)));
    let mut small = vec![0u8; 6 * MIB - 512];
    let error = Bmfs::format(SliceDisk::new(&mut small)).err().unwrap();
    assert_eq!(error, Error::DiskTooSmall { bytes: 6 * MIB as u64 - 512 });
}

/// Writes raw entry `slot` into a formatted disk.
fn put_entry(disk: &mut [u8], slot: usize, name: &[u8], start: u64, reserved: u64, size: u64) {
    let at = 4096 + slot * 64;
    disk[at..at + 32].fill(0);
    disk[at..at + name.len()].copy_from_slice(name);
    disk[at + 32..at + 40].copy_from_slice(&start.to_le_bytes());
    disk[at + 40..at + 48].copy_from_slice(&reserved.to_le_bytes());
    disk[at + 48..at + 56].copy_from_slice(&size.to_le_bytes());
}

#[test]
fn the_check_names_each_kind_of_problem() {
    let cases: [(&[u8], u64, u64, u64, Problem); 4] = [
        (
            b"outside",
            7,
            2,
            0,
            Problem::OutsideDisk { starting_block: 7, reserved_blocks: 2, disk_blocks: 8 },
        ),
        (
            b"header",
            0,
            1,
            0,
            Problem::OutsideDisk { starting_block: 0, reserved_blocks: 1, disk_blocks: 8 },
        ),
        (
            b"wrap",
            u64::MAX,
            2,
            0,
            Problem::OutsideDisk { starting_block: u64::MAX, reserved_blocks: 2, disk_blocks: 8 },
        ),
        (
            b"big",
            4,
            1,
            2 * MIB as u64 + 1,
            Problem::SizeBeyondReserved { file_size: 2 * MIB as u64 + 1, reserved_blocks: 1 },
        ),
    ];
    for (name, start, reserved, size, problem) in cases {
        let mut disk = formatted(16);
        put_entry(&mut disk, 0, b"good", 1, 2, 10);
        put_entry(&mut disk, 1, name, start, reserved, size);
        let mut fs = Bmfs::open(SliceDisk::new(&mut disk)).unwrap();
        let expected = Error::Corrupt {
            slot: 1,
            name: Name::new(core::str::from_utf8(name).unwrap()).unwrap(),
            problem,
        };
        assert_eq!(fs.check(), Err(expected.clone()));
        assert_eq!(
            fs.create("new", 1),
            Err(expected.clone()),
            "no allocation on a corrupt directory"
        );
        assert_eq!(fs.write("good", b"x"), Err(expected.clone()));
        assert_eq!(fs.read_at(core::str::from_utf8(name).unwrap(), 0, &mut [0; 4]), Err(expected));
        assert_eq!(fs.read_to_vec("good").unwrap(), vec![0; 10], "other files still read");
        fs.delete(core::str::from_utf8(name).unwrap()).unwrap();
        assert_eq!(fs.check(), Ok(()), "deleting the bad entry repairs the directory");
    }
}

#[test]
fn the_check_finds_overlaps_duplicates_and_unterminated_names() {
    let mut disk = formatted(16);
    put_entry(&mut disk, 0, b"a", 1, 3, 0);
    put_entry(&mut disk, 1, b"b", 3, 1, 0);
    let fs = Bmfs::open(SliceDisk::new(&mut disk)).unwrap();
    let a = Name::new("a").unwrap();
    let overlap = Problem::Overlaps { other_slot: 0, other: a };
    assert_eq!(
        fs.check(),
        Err(Error::Corrupt { slot: 1, name: Name::new("b").unwrap(), problem: overlap })
    );
    let mut disk = formatted(16);
    put_entry(&mut disk, 0, b"a", 1, 1, 0);
    put_entry(&mut disk, 1, b"a", 2, 1, 0);
    let fs = Bmfs::open(SliceDisk::new(&mut disk)).unwrap();
    let duplicate = Problem::DuplicateName { other_slot: 0 };
    assert_eq!(fs.check(), Err(Error::Corrupt { slot: 1, name: a, problem: duplicate }));
    let mut disk = formatted(16);
    put_entry(&mut disk, 0, &[b'n'; 32], 1, 1, 0);
    let fs = Bmfs::open(SliceDisk::new(&mut disk)).unwrap();
    let Err(Error::Corrupt { slot: 0, name, problem: Problem::NameNotTerminated }) = fs.check()
    else {
        panic!("unterminated name not found: {:?}", fs.check());
    };
    assert_eq!(name.as_bytes(), &[b'n'; 32]);
    let text = format!("{}", fs.check().unwrap_err());
    assert!(text.contains("entry 0 ('nnnn") && text.contains("no terminating NUL"), "{text}");
}

#[test]
fn a_partial_last_block_is_not_counted() {
    let mut disk = formatted(8);
    let mut fs = Bmfs::open(SliceDisk::new(&mut disk[..7 * MIB])).unwrap();
    assert_eq!(fs.disk_blocks(), 3);
    fs.write("a", b"x").unwrap();
    assert_eq!(fs.write("b", b"x"), Err(Error::NoSpace { blocks: 1 }), "block 2 is the last");
}

/// A disk whose writes fail from sector `fail_from` on.
struct FailingDisk {
    bytes: Vec<u8>,
    fail_from: u64,
}

impl SectorDevice for FailingDisk {
    type Error = &'static str;
    fn sector_count(&self) -> u64 {
        (self.bytes.len() / SECTOR_BYTES) as u64
    }
    fn read_sectors(&mut self, first: u64, buffer: &mut [u8]) -> Result<(), &'static str> {
        SliceDisk::new(&mut self.bytes).read_sectors(first, buffer).map_err(|_| "range")
    }
    fn write_sectors(&mut self, first: u64, buffer: &[u8]) -> Result<(), &'static str> {
        if first + (buffer.len() / SECTOR_BYTES) as u64 > self.fail_from {
            return Err("medium error");
        }
        SliceDisk::new(&mut self.bytes).write_sectors(first, buffer).map_err(|_| "range")
    }
}

#[test]
fn device_errors_are_passed_on_and_the_size_is_not_recorded() {
    let disk = FailingDisk { bytes: formatted(8), fail_from: 4096 + 10 };
    let mut fs = Bmfs::open(disk).unwrap();
    // The data write of block 1 (sectors 4096..) fails part way: the entry made for
    // the new file stays with size 0, as the reference tool leaves it.
    assert_eq!(fs.write("f", &[7u8; 6000]), Err(Error::Device("medium error")));
    assert_eq!(fs.find("f").map(|e| e.file_size), Some(0));
    let text = fs.write("f", &[7u8; 6000]).unwrap_err().to_string();
    assert_eq!(text, "disk error: medium error");
}
