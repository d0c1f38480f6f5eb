//! `bmfs`: BareMetal's BMFS host tool, rebuilt on Ingot's `ingot-bmfs` library.
//!
//! Same commands and arguments as BareMetal's `bmfs DISK COMMAND ...`: `list`,
//! `read`, `write`, `create NAME [MiB]`, `delete`, `format [/force]` and
//! `initialize SIZE [MBR] [BOOT] [KERNEL]`, plus `check`. DISK is a raw BMFS disk or
//! an Ingot disk image, whose BMFS partition is found through its GPT ([`gpt`]).
//! Exit status: 0 on success, 1 when the operation fails (the reason on stderr),
//! 2 for bad usage.
#![forbid(unsafe_code)]

mod commands;
mod gpt;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// BMFS disk tool: works on a raw BMFS disk or on the BMFS partition of an Ingot image.
#[derive(Parser)]
#[command(name = "bmfs", version)]
struct Cli {
    /// The disk: a raw BMFS disk image, or an Ingot disk image (GPT with a BMFS partition).
    disk: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the files: name, size in bytes, reserved MiB.
    List,
    /// Copy a file out of BMFS (into OUTPUT, by default a file of the same name here; `-` is stdout).
    Read {
        /// File name on the disk.
        name: String,
        /// Where to write it.
        output: Option<PathBuf>,
    },
    /// Copy a local file into BMFS (from INPUT, by default the file of the same name here),
    /// creating it if needed.
    Write {
        /// File name on the disk.
        name: String,
        /// What to write.
        input: Option<PathBuf>,
    },
    /// Create an empty file reserving MIB MiB (rounded up to whole 2 MiB blocks; asked for
    /// on stdin when left out).
    Create {
        /// File name on the disk (1 to 31 bytes).
        name: String,
        /// Space to reserve in MiB.
        mib: Option<u64>,
    },
    /// Delete a file.
    Delete {
        /// File name on the disk.
        name: String,
    },
    /// Write an empty file system; a disk that already holds BMFS needs `/force`.
    Format {
        /// `/force` (or `--force`) to format over an existing BMFS.
        #[arg(allow_hyphen_values = true)]
        force: Option<String>,
    },
    /// Create DISK as a zero-filled raw BMFS disk of SIZE (bytes, or with K, M, G, T or P),
    /// formatted, with an optional MBR (its first 512 bytes at byte 0) and boot and kernel
    /// files stored one after the other from byte 8192.
    Initialize {
        /// Disk size, at least 6M.
        size: String,
        /// Master boot record file.
        mbr: Option<PathBuf>,
        /// Boot loader (or combined system) file.
        boot: Option<PathBuf>,
        /// Kernel file, stored right after the boot loader.
        kernel: Option<PathBuf>,
    },
    /// Check the directory: entries outside the disk, overlapping files, sizes beyond the
    /// reservation, names without NUL, duplicate names.
    Check,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::run(&cli.disk, cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bmfs: {}: {message}", cli.disk.display());
            ExitCode::from(1)
        }
    }
}
