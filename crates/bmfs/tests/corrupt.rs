//! Corrupted directories: random damage never panics or hangs, the check names an
//! entry, and nothing that allocates or writes runs on a directory that fails it.

mod rng;

use ingot_bmfs::{Bmfs, Error, SliceDisk};
use rng::Rng;

const MIB: usize = 1 << 20;

/// A disk with a few files, then `damage` random bytes or words written over the
/// directory.
fn damaged(rng: &mut Rng) -> Vec<u8> {
    let mut disk = vec![0u8; 24 * MIB];
    let mut fs = Bmfs::format(SliceDisk::new(&mut disk)).unwrap();
    for n in 0..rng.below(5) {
        let size = rng.below(3 * MIB as u64) as usize;
        fs.write(&format!("file{n}"), &rng.bytes(size)).unwrap();
    }
    let _ = fs.into_device();
    for _ in 0..1 + rng.below(6) {
        let slot = 4096 + 64 * rng.below(8) as usize;
        let at = slot + rng.below(64) as usize;
        match rng.below(3) {
            0 => disk[at] = rng.next() as u8,
            1 => {
                // A plausible small number into one of the three u64 fields.
                let field = slot + 32 + 8 * rng.below(3) as usize;
                let value = rng.below(12) * if rng.below(2) == 0 { 1 } else { 2 * MIB as u64 };
                disk[field..field + 8].copy_from_slice(&value.to_le_bytes());
            }
            _ => {
                let word = rng.next().to_le_bytes();
                let at = at.min(8192 - 8);
                disk[at..at + 8].copy_from_slice(&word);
            }
        }
    }
    disk
}

#[test]
fn damaged_directories_never_panic_or_write_out_of_place() {
    let mut corrupt = 0;
    for seed in 0..200 {
        let mut rng = Rng::new(seed);
        let mut disk = damaged(&mut rng);
        let data_before = disk[2 * MIB..].to_vec();
        let mut fs = Bmfs::open(SliceDisk::new(&mut disk)).unwrap();
        let checked = fs.check();
        if let Err(error) = &checked {
            assert!(matches!(error, Error::Corrupt { .. }), "seed {seed}: {error:?}");
            assert!(error.to_string().contains("entry "), "seed {seed}: {error}");
        }
        let entries: Vec<_> = fs.entries().collect();
        for entry in &entries {
            let _ = entry.name.to_string();
            if let Some(name) = entry.name.to_str() {
                let _ = fs.read_to_vec(name);
                let _ = fs.read_at(name, entry.file_size / 2, &mut [0u8; 700]);
            }
        }
        let created = fs.create("new-file", 3);
        let written = fs.write("file0", b"overwrite");
        if checked.is_err() {
            corrupt += 1;
            assert_eq!(created, Err(checked.clone().unwrap_err()), "seed {seed}");
            assert_eq!(written, Err(checked.clone().unwrap_err()), "seed {seed}");
            let _ = fs.into_device();
            assert!(disk[2 * MIB..] == data_before[..], "seed {seed}: data changed");
        } else {
            assert_eq!(fs.check(), Ok(()), "seed {seed}: an operation broke the directory");
        }
    }
    // Both kinds of outcome are exercised.
    assert!((40..160).contains(&corrupt), "{corrupt} of 200 directories failed the check");
}

#[test]
fn a_random_directory_block_never_panics() {
    for seed in 0..300 {
        let mut rng = Rng::new(1000 + seed);
        let mut disk = vec![0u8; 8 * MIB];
        disk[1024..1028].copy_from_slice(b"BMFS");
        let noise = rng.bytes(4096);
        disk[4096..8192].copy_from_slice(&noise);
        let mut fs = Bmfs::open(SliceDisk::new(&mut disk)).unwrap();
        let checked = fs.check();
        let names: Vec<String> =
            fs.entries().filter_map(|e| e.name.to_str().map(String::from)).collect();
        for name in &names {
            let _ = fs.read_to_vec(name);
        }
        if checked.is_err() {
            assert!(fs.write("x", b"y").is_err(), "seed {seed}");
        }
        for name in &names {
            let _ = fs.delete(name);
        }
    }
}
