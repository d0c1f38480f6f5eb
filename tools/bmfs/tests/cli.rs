//! The `bmfs` binary run as a process on temporary images: round trips with bytes
//! compared, images made by the library read by the tool and the other way round, an
//! Ingot image from `ingot-mkimage`, and the errors.

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ingot_bmfs::{Bmfs, FileDisk};

const MIB: usize = 1 << 20;

/// A fresh directory for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ingot-bmfs-tool-{}-{test}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn bmfs(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bmfs")).current_dir(dir).args(args).output().unwrap()
}

/// Runs the tool and insists on success; returns stdout.
fn ok(dir: &Path, args: &[&str]) -> String {
    let out = bmfs(dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bmfs {args:?} failed: {stderr}");
    String::from_utf8(out.stdout).unwrap()
}

/// Runs the tool and insists on exit status 1; returns stderr.
fn fails(dir: &Path, args: &[&str]) -> String {
    let out = bmfs(dir, args);
    assert_eq!(out.status.code(), Some(1), "bmfs {args:?}: {out:?}");
    String::from_utf8(out.stderr).unwrap()
}

fn pattern(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 13) as u8)
        .collect()
}

fn library(path: &Path) -> Bmfs<FileDisk> {
    let file = OpenOptions::new().read(true).write(true).open(path).unwrap();
    Bmfs::open(FileDisk::new(file).unwrap()).unwrap()
}

#[test]
fn write_list_read_delete_round_trip() {
    let dir = scratch("round-trip");
    assert!(ok(&dir, &["disk.img", "initialize", "16M"]).contains("complete"));
    assert_eq!(fs::metadata(dir.join("disk.img")).unwrap().len(), 16 * MIB as u64);
    let files = [("empty", Vec::new()), ("one", vec![0x41]), ("big.bin", pattern(2 * MIB + 1, 1))];
    for (name, contents) in &files {
        fs::write(dir.join(name), contents).unwrap();
        ok(&dir, &["disk.img", "write", name]);
    }
    let listing = ok(&dir, &["disk.img", "list"]);
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines[0], "Disk Size: 16 MiB");
    assert_eq!(lines[3], format!("{:<32} {:>20} {:>20}", "empty", 0, 2));
    assert_eq!(lines[4], format!("{:<32} {:>20} {:>20}", "one", 1, 2));
    assert_eq!(lines[5], format!("{:<32} {:>20} {:>20}", "big.bin", 2 * MIB + 1, 4));
    assert_eq!(lines.len(), 6);
    for (name, contents) in &files {
        let copy = format!("{name}.copy");
        ok(&dir, &["disk.img", "read", name, &copy]);
        assert_eq!(&fs::read(dir.join(&copy)).unwrap(), contents, "{name}");
    }
    // The tool's image read by the library.
    let mut fs_lib = library(&dir.join("disk.img"));
    assert_eq!(fs_lib.read_to_vec("big.bin").unwrap(), files[2].1);
    assert_eq!(fs_lib.find("one").unwrap().starting_block, 2);
    drop(fs_lib);
    ok(&dir, &["disk.img", "delete", "one"]);
    assert!(!ok(&dir, &["disk.img", "list"]).contains("one "));
    assert!(fails(&dir, &["disk.img", "read", "one"]).contains("one: file not found"));
    // The freed block is reused first fit; stdout as output.
    ok(&dir, &["disk.img", "write", "again", "one"]);
    assert_eq!(ok(&dir, &["disk.img", "read", "again", "-"]).as_bytes(), b"A");
    assert_eq!(library(&dir.join("disk.img")).find("again").unwrap().starting_block, 2);
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn library_images_read_by_the_tool() {
    let dir = scratch("library");
    let path = dir.join("made.img");
    let file = fs::File::create(&path).unwrap();
    // 17 MiB: 8 blocks and a spare MiB, which `list` counts in the disk size.
    file.set_len(17 * MIB as u64).unwrap();
    let mut fs_lib = Bmfs::format(FileDisk::new(file).unwrap()).unwrap();
    let program = pattern(5000, 9);
    fs_lib.write("program.app", &program).unwrap();
    fs_lib.create("reserved", 3).unwrap();
    drop(fs_lib);
    let listing = ok(&dir, &["made.img", "list"]);
    assert!(listing.starts_with("Disk Size: 17 MiB\n"), "{listing}");
    assert!(listing.contains(&format!("{:<32} {:>20} {:>20}", "program.app", 5000, 2)));
    assert!(listing.contains(&format!("{:<32} {:>20} {:>20}", "reserved", 0, 4)));
    ok(&dir, &["made.img", "read", "program.app"]);
    assert_eq!(fs::read(dir.join("program.app")).unwrap(), program);
    // create: MiB on the command line or on stdin, as the reference tool asks.
    ok(&dir, &["made.img", "create", "more", "1"]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_bmfs"))
        .current_dir(&dir)
        .args(["made.img", "create", "asked"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"1\n").unwrap();
    assert!(child.wait_with_output().unwrap().status.success());
    let fs_lib = library(&path);
    assert_eq!(fs_lib.find("more").unwrap().starting_block, 4);
    let asked = fs_lib.find("asked");
    let asked = asked.map(|e| (e.starting_block, e.reserved_blocks, e.file_size));
    assert_eq!(asked, Some((5, 1, 0)), "size asked for on stdin");
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn works_on_the_bmfs_partition_of_an_ingot_image() {
    let dir = scratch("mkimage");
    let spec = ingot_mkimage::ImageSpec {
        size_mib: 32,
        boot_sector: &[0x90; 512],
        stage2: b"stage two",
        uefi_loader: Some(b"MZ"),
        kernel: b"INGOT\0\0\0kernel",
        cmdline: "exit=qemu",
        programs: vec![("hello".into(), pattern(3000, 3))],
        boot: None,
        init: None,
    };
    let image = ingot_mkimage::build(&spec).unwrap();
    fs::write(dir.join("ingot.img"), &image).unwrap();
    let listing = ok(&dir, &["ingot.img", "list"]);
    assert!(listing.starts_with("Disk Size: 24 MiB\n"), "{listing}");
    assert!(listing.contains(&format!("{:<32} {:>20} {:>20}", "kernel.bin", 14, 2)));
    assert!(listing.contains(&format!("{:<32} {:>20} {:>20}", "hello.app", 3000, 2)));
    assert_eq!(ok(&dir, &["ingot.img", "read", "cmdline", "-"]), "exit=qemu");
    ok(&dir, &["ingot.img", "read", "hello.app", "hello.out"]);
    assert_eq!(fs::read(dir.join("hello.out")).unwrap(), pattern(3000, 3));
    fs::write(dir.join("new.app"), pattern(70_000, 5)).unwrap();
    ok(&dir, &["ingot.img", "write", "new.app"]);
    ok(&dir, &["ingot.img", "delete", "cmdline"]);
    assert_eq!(ok(&dir, &["ingot.img", "check"]), "3 files, directory consistent\n");
    // Only the BMFS partition changed: GPT, stage 2 and ESP are as built.
    let after = fs::read(dir.join("ingot.img")).unwrap();
    let bmfs = ingot_mkimage::BMFS_START as usize..ingot_mkimage::BMFS_START as usize + 24 * MIB;
    assert_eq!(after.len(), image.len());
    assert!(after[..bmfs.start] == image[..bmfs.start], "bytes before BMFS changed");
    assert!(after[bmfs.end..] == image[bmfs.end..], "bytes after BMFS changed");
    let mut part = after[bmfs].to_vec();
    let mut fs_lib = Bmfs::open(ingot_bmfs::SliceDisk::new(&mut part)).unwrap();
    assert_eq!(fs_lib.read_to_vec("new.app").unwrap(), pattern(70_000, 5));
    assert!(fs_lib.find("cmdline").is_none());
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn clear_errors_and_exit_codes() {
    let dir = scratch("errors");
    fs::write(dir.join("zeros.img"), vec![0u8; 8 * MIB]).unwrap();
    assert!(fails(&dir, &["zeros.img", "list"]).contains("not a BMFS disk"));
    assert!(fails(&dir, &["missing.img", "list"]).contains("cannot open"));
    // format: an unformatted disk needs no /force, a BMFS one does.
    ok(&dir, &["zeros.img", "format"]);
    assert!(fails(&dir, &["zeros.img", "format"]).contains("add /force"));
    ok(&dir, &["zeros.img", "create", "a", "2"]);
    ok(&dir, &["zeros.img", "format", "/force"]);
    assert!(!ok(&dir, &["zeros.img", "list"]).contains("a "));
    // Arguments the library refuses.
    assert!(fails(&dir, &["zeros.img", "create", "z", "0"]).contains("at least 1 MiB"));
    let long = "n".repeat(32);
    assert!(fails(&dir, &["zeros.img", "create", &long, "1"]).contains("longer than 31"));
    ok(&dir, &["zeros.img", "create", "small", "1"]);
    fs::write(dir.join("big"), vec![1u8; 2 * MIB + 1]).unwrap();
    let error = fails(&dir, &["zeros.img", "write", "small", "big"]);
    assert!(error.contains("small: 2097153 B do not fit"), "{error}");
    assert!(fails(&dir, &["zeros.img", "write", "x"]).contains("cannot read local file"));
    assert_eq!(bmfs(&dir, &["zeros.img", "frobnicate"]).status.code(), Some(2));
    // A corrupt directory: the check names the entry; nothing allocates on it.
    let mut image = fs::read(dir.join("zeros.img")).unwrap();
    image[4096 + 32..4096 + 40].copy_from_slice(&3u64.to_le_bytes()); // "small" now 3..4
    image[4096 + 40..4096 + 48].copy_from_slice(&9u64.to_le_bytes());
    fs::write(dir.join("zeros.img"), &image).unwrap();
    let error = fails(&dir, &["zeros.img", "check"]);
    assert!(error.contains("entry 0 ('small')") && error.contains("outside"), "{error}");
    assert!(fails(&dir, &["zeros.img", "create", "c", "1"]).contains("entry 0 ('small')"));
    assert_eq!(fs::read(dir.join("zeros.img")).unwrap(), image, "nothing written");
    // A damaged GPT and an initialize that cannot work.
    let mut ingot = vec![0u8; 16 * MIB];
    ingot[512..520].copy_from_slice(b"EFI PART");
    ingot[512 + 12..512 + 16].copy_from_slice(&92u32.to_le_bytes());
    fs::write(dir.join("gpt.img"), ingot).unwrap();
    assert!(fails(&dir, &["gpt.img", "list"]).contains("GPT header checksum"));
    assert!(fails(&dir, &["new.img", "initialize", "5M"]).contains("at least"));
    assert!(fails(&dir, &["new.img", "initialize", "6X"]).contains("invalid disk size"));
    assert!(!dir.join("new.img").exists(), "a refused initialize creates nothing");
    fs::remove_dir_all(dir).unwrap();
}

#[test]
fn initialize_places_mbr_and_boot_files() {
    let dir = scratch("initialize");
    fs::write(dir.join("mbr.sys"), pattern(600, 1)).unwrap();
    fs::write(dir.join("boot.sys"), pattern(3000, 2)).unwrap();
    fs::write(dir.join("kernel.sys"), pattern(1000, 3)).unwrap();
    ok(&dir, &["disk.img", "initialize", "6m", "mbr.sys", "boot.sys", "kernel.sys"]);
    let disk = fs::read(dir.join("disk.img")).unwrap();
    assert_eq!(disk.len(), 6 * MIB);
    assert_eq!(&disk[..512], &pattern(600, 1)[..512]);
    assert_eq!(&disk[1024..1029], b"BMFS\0");
    assert_eq!(&disk[8192..11192], &pattern(3000, 2)[..]);
    assert_eq!(&disk[11192..12192], &pattern(1000, 3)[..]);
    assert!(disk[12192..].iter().all(|&b| b == 0));
    assert_eq!(library(&dir.join("disk.img")).entries().count(), 0);
    fs::write(dir.join("huge.sys"), vec![1u8; 2 * MIB]).unwrap();
    assert!(fails(&dir, &["x.img", "initialize", "6M", "mbr.sys", "huge.sys"]).contains("block 0"));
    fs::remove_dir_all(dir).unwrap();
}
