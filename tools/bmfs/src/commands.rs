//! The commands, each over the BMFS disk found in the image file.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use ingot_bmfs::{
    BLOCK_BYTES, BOOT_OFFSET, Bmfs, Error, FileDisk, MIN_BLOCKS, SECTOR_BYTES, SectorDevice,
};

use crate::Command;
use crate::gpt;

const MIB: u64 = 1024 * 1024;

type Fs = Bmfs<FileDisk>;

/// Runs `command` on `disk`; the error is the message for stderr.
pub fn run(disk: &Path, command: Command) -> Result<(), String> {
    match command {
        Command::List => list(&mut open(disk, false)?),
        Command::Check => {
            let fs = open(disk, false)?;
            fs.check().map_err(|e| e.to_string())?;
            println!("{} files, directory consistent", fs.entries().count());
            Ok(())
        }
        Command::Read { name, output } => {
            let contents = open(disk, false)?.read_to_vec(&name).map_err(|e| named(&name, e))?;
            match output {
                Some(path) if path.as_os_str() == "-" => {
                    std::io::stdout().write_all(&contents).map_err(|e| e.to_string())
                }
                output => {
                    let path = local_path(&name, output)?;
                    std::fs::write(&path, contents)
                        .map_err(|e| format!("cannot write {}: {e}", path.display()))
                }
            }
        }
        Command::Write { name, input } => {
            let path = local_path(&name, input)?;
            let contents = std::fs::read(&path)
                .map_err(|e| format!("cannot read local file {}: {e}", path.display()))?;
            open(disk, true)?.write(&name, &contents).map_err(|e| named(&name, e))?;
            Ok(())
        }
        Command::Create { name, mib } => {
            let mib = match mib {
                Some(mib) => mib,
                None => ask_mib()?,
            };
            open(disk, true)?.create(&name, mib).map_err(|e| named(&name, e))?;
            Ok(())
        }
        Command::Delete { name } => {
            open(disk, true)?.delete(&name).map_err(|e| named(&name, e))?;
            Ok(())
        }
        Command::Format { force } => format(disk, force.as_deref()),
        Command::Initialize { size, mbr, boot, kernel } => {
            initialize(disk, &size, mbr.as_deref(), boot.as_deref(), kernel.as_deref())
        }
    }
}

fn named(name: &str, error: Error<std::io::Error>) -> String {
    format!("{name}: {error}")
}

/// The BMFS disk in the image at `path` as a sector device.
fn device(path: &Path, writable: bool) -> Result<FileDisk, String> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(writable)
        .open(path)
        .map_err(|e| format!("cannot open: {e}"))?;
    let window = gpt::locate(&mut file)?;
    Ok(FileDisk::window(file, window.base, window.bytes))
}

fn open(path: &Path, writable: bool) -> Result<Fs, String> {
    Bmfs::open(device(path, writable)?).map_err(|e| e.to_string())
}

/// The reference tool's listing.
fn list(fs: &mut Fs) -> Result<(), String> {
    // As the reference tool: the disk's (or partition's) whole size, not only its blocks.
    println!("Disk Size: {} MiB", fs.device().sector_count() * SECTOR_BYTES as u64 / MIB);
    println!("Name                            |            Size (B)|      Reserved (MiB)");
    println!("{}", "=".repeat(74));
    for entry in fs.entries() {
        let name = entry.name.to_string();
        println!("{name:<32} {:>20} {:>20}", entry.file_size, entry.reserved_blocks * 2);
    }
    fs.check().map_err(|e| e.to_string())
}

/// The local file for BMFS file `name`: `given`, or `name` in the current directory.
fn local_path(name: &str, given: Option<PathBuf>) -> Result<PathBuf, String> {
    match given {
        Some(path) => Ok(path),
        None if name.contains('/') || name == ".." || name == "." => {
            Err(format!("{name}: name cannot be a local file name; give the local path too"))
        }
        None => Ok(PathBuf::from(name)),
    }
}

fn ask_mib() -> Result<u64, String> {
    print!("Maximum file size in MiB: ");
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| e.to_string())?;
    line.trim().parse().map_err(|_| format!("invalid file size '{}'", line.trim()))
}

fn format(path: &Path, force: Option<&str>) -> Result<(), String> {
    let forced = match force {
        None => false,
        Some(flag) if flag.eq_ignore_ascii_case("/force") || flag == "--force" => true,
        Some(other) => return Err(format!("unknown format option '{other}' (use /force)")),
    };
    let disk = match Bmfs::open(device(path, true)?) {
        Ok(_) if !forced => {
            return Err("format aborted: the disk holds BMFS already (add /force)".into());
        }
        Ok(fs) => fs.into_device(),
        Err(Error::NotBmfs) => device(path, true)?,
        Err(error) => return Err(error.to_string()),
    };
    Bmfs::format(disk).map(|_| ()).map_err(|e| e.to_string())
}

/// Parses BareMetal's disk size: digits with an optional K, M, G, T or P.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let invalid =
        || format!("invalid disk size '{text}' (digits, then optionally K, M, G, T or P)");
    let (digits, unit) = match text.char_indices().last() {
        Some((at, c)) if c.is_ascii_alphabetic() => (&text[..at], Some(c.to_ascii_uppercase())),
        _ => (text, None),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let shift = match unit {
        None => 0,
        Some('K') => 10,
        Some('M') => 20,
        Some('G') => 30,
        Some('T') => 40,
        Some('P') => 50,
        Some(_) => return Err(invalid()),
    };
    let too_large = || format!("disk size '{text}' is too large");
    let value: u64 = digits.parse().map_err(|_| too_large())?;
    value.checked_mul(1 << shift).ok_or_else(too_large)
}

fn initialize(
    path: &Path,
    size: &str,
    mbr: Option<&Path>,
    boot: Option<&Path>,
    kernel: Option<&Path>,
) -> Result<(), String> {
    let bytes = parse_size(size)?;
    let minimum = MIN_BLOCKS * BLOCK_BYTES;
    if bytes < minimum {
        return Err(format!("disk size must be at least {minimum} bytes (6 MiB)"));
    }
    let read = |file: Option<&Path>| -> Result<Vec<u8>, String> {
        file.map_or(Ok(Vec::new()), |p| {
            std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
        })
    };
    let mbr_bytes = read(mbr)?;
    if mbr.is_some() && mbr_bytes.len() < 512 {
        return Err(format!("MBR file is {} bytes, not at least 512", mbr_bytes.len()));
    }
    let mut boot_code = read(boot)?;
    boot_code.extend(read(kernel)?);
    if BOOT_OFFSET + boot_code.len() as u64 > BLOCK_BYTES {
        return Err(format!(
            "boot and kernel files ({} bytes) do not fit block 0 after byte 8192",
            boot_code.len()
        ));
    }
    let file = File::create(path).map_err(|e| format!("cannot create: {e}"))?;
    file.set_len(bytes).map_err(|e| format!("cannot size the disk: {e}"))?;
    let fs =
        Bmfs::format(FileDisk::new(file).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let mut file = fs.into_device().into_file();
    let mut put = |at: u64, data: &[u8]| {
        file.seek(SeekFrom::Start(at)).and_then(|_| file.write_all(data)).map_err(|e| e.to_string())
    };
    if mbr.is_some() {
        put(0, &mbr_bytes[..512])?;
    }
    put(BOOT_OFFSET, &boot_code)?;
    file.sync_all().map_err(|e| e.to_string())?;
    println!("Disk initialization complete.");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn disk_sizes_parse_like_the_reference() {
        assert_eq!(parse_size("6291456"), Ok(6 << 20));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert_eq!(parse_size("1P"), Ok(1 << 50));
        for bad in ["", "M", "12Q", "1.5G", "12MB", "-3"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert!(parse_size("99999999999999999999").unwrap_err().contains("too large"));
        assert!(parse_size("20000000P").unwrap_err().contains("too large"));
    }
}
