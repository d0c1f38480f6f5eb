//! The command line of `cargo xtask`, declared with `clap`'s derive API.
//!
//! One declaration gives every subcommand the same `-h`/`--help` layout, errors that
//! name the valid options and values, and `--version`. The subcommands' modules take
//! these structs; the host tests in `doc_check.rs` check that every command line in the
//! README and docs parses and that every option here is documented there.

use std::path::PathBuf;
use std::str::FromStr;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::drivers::DriverSet;
use crate::qemu::Machine;

/// The front door to building, running, testing and measuring Ingot.
#[derive(Parser, Debug)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Build the kernel, its loaders and the programs into target/ingot/.
    Build(BuildArgs),
    /// Build target/ingot/ingot.img, the hybrid BIOS/UEFI disk image.
    Image(ImageArgs),
    /// Boot Ingot in QEMU with serial on this terminal (Ctrl-A X quits).
    Run(RunArgs),
    /// Host unit tests, then the QEMU scenarios; ends with "N passed, N failed".
    Test(TestArgs),
    /// Benchmarks beside a Linux peer; results in target/ingot/bench/.
    Bench(BenchArgs),
    /// rustfmt, clippy -D warnings and the unsafe allow-list audit.
    Check,
    /// Start a new Rust program in apps/NAME (it builds and runs at once).
    New(NewArgs),
    /// The client side of the network scenarios and `bench net`, run inside a network
    /// namespace (not for people).
    #[command(hide = true)]
    NetnsClient(NetnsClientArgs),
}

/// `cargo xtask netns-client` (hidden).
#[derive(Args, Debug, Clone, PartialEq, Eq)]
pub struct NetnsClientArgs {
    /// `udp-echo ADDR COUNT`, `udp-send ADDR TEXT`, `soak ADDR CLIENTS SECONDS` or
    /// `udp-rate ADDR SECONDS WINDOW`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

/// `cargo xtask new`.
#[derive(Args, Debug, Clone, PartialEq, Eq)]
pub struct NewArgs {
    /// The program's name: 1-26 lower-case letters, digits and '-', starting with a letter.
    pub name: String,
}

/// `cargo xtask build`.
#[derive(Args, Debug, Clone, PartialEq, Eq)]
pub struct BuildArgs {
    /// Driver families the kernel carries: a comma-separated list of virtio, nvme, ahci,
    /// ide, intel-nic, realtek, xhci, or all, or none [default: all].
    #[arg(long, value_name = "FAMILIES")]
    pub drivers: Option<DriverSet>,
}

/// `cargo xtask image`.
#[derive(Args, Debug, Clone, PartialEq, Eq)]
pub struct ImageArgs {
    /// Image size in MiB; at least what the files need (about 27), named when too small.
    /// Written sparsely, so a large size costs no memory or disk space.
    #[arg(long, value_name = "MiB", default_value_t = ingot_mkimage::DEFAULT_SIZE_MIB)]
    pub size: u64,
    /// Kernel command line stored in the image (at most 1023 bytes, what the loaders carry).
    #[arg(long, value_name = "TEXT", default_value = "", value_parser = command_line)]
    pub cmdline: String,
    /// Boot program the loaders pass to the kernel, stored as boot.app: a built program
    /// (hello) or a file.
    #[arg(long, value_name = "PROGRAM", default_value = "monitor")]
    pub boot: String,
    /// Program stored as init.app, which the monitor runs at start: a built program or a file.
    #[arg(long, value_name = "PROGRAM")]
    pub init: Option<String>,
    /// Where to write the image [default: target/ingot/ingot.img].
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
}

/// `cargo xtask run`.
#[derive(Args, Debug, Clone, PartialEq, Eq)]
pub struct RunArgs {
    /// Machine model.
    #[arg(long, value_enum, default_value_t = Machine::Q35)]
    pub machine: Machine,
    /// Number of cores.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=255))]
    pub cores: u32,
    /// Guest RAM, QEMU syntax (128M, 1G).
    #[arg(long, value_name = "SIZE", default_value = "128M")]
    pub memory: String,
    /// QEMU CPU model (qemu64, max, ...).
    #[arg(long, value_name = "MODEL")]
    pub cpu: Option<String>,
    /// Program to run: a built program's name (hello), a flat binary or an ELF file
    /// (default: the monitor, with the disk image attached for its files).
    #[arg(long, value_name = "NAME|PATH")]
    pub program: Option<String>,
    /// Kernel command line; with exit=qemu, run exits with the program's status.
    #[arg(long, value_name = "TEXT")]
    pub append: Option<String>,
    /// Boot through PVH instead of Multiboot.
    #[arg(long, conflicts_with_all = ["image", "uefi"])]
    pub pvh: bool,
    /// Boot from a disk image under SeaBIOS (the program, default the monitor, becomes its boot.app).
    #[arg(long)]
    pub image: bool,
    /// Boot from a disk image under OVMF (machine q35).
    #[arg(long)]
    pub uefi: bool,
    /// Attach a disk: FILE[,MODEL], MODEL one of virtio-blk (default), nvme, ahci, ide
    /// (ide: machine pc). A missing FILE is created empty (--disk-size). Repeatable.
    #[arg(long, value_name = "FILE[,MODEL]")]
    pub disk: Vec<DiskSpec>,
    /// Size of the scratch image --disk creates when FILE does not exist.
    #[arg(long, value_name = "MiB", default_value_t = 64,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub disk_size: u64,
    /// Attach a NIC on QEMU's user network: MODEL[,hostfwd=RULE]..., MODEL one of
    /// virtio-net (default), e1000, e1000e, rtl8139 (microvm: virtio-net only); RULE is
    /// QEMU's, e.g. tcp:127.0.0.1:8080-:80. Repeatable.
    #[arg(long, value_name = "MODEL[,hostfwd=RULE]")]
    pub net: Vec<NetSpec>,
    /// Driver families the kernel carries: a comma-separated list of virtio, nvme, ahci,
    /// ide, intel-nic, realtek, xhci, or all, or none [default: all].
    #[arg(long, value_name = "FAMILIES")]
    pub drivers: Option<DriverSet>,
    /// Further QEMU arguments, after `--`.
    #[arg(last = true, value_name = "QEMU ARGS")]
    pub qemu_args: Vec<String>,
}

/// `cargo xtask test`.
#[derive(Args, Debug, Clone, PartialEq, Eq)]
pub struct TestArgs {
    /// Run only the QEMU scenarios whose names contain this (the host tests always run).
    #[arg(value_name = "FILTER", default_value = "")]
    pub filter: String,
}

/// `cargo xtask bench`.
#[derive(Args, Debug, Clone, PartialEq, Eq)]
pub struct BenchArgs {
    /// Which benchmark: peer is not one, it checks the Linux peer's NIC and httpd.
    #[arg(value_enum, default_value_t = Bench::All)]
    pub which: Bench,
    /// Paired rounds per measurement: at least 5, so a median and its spread mean something.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = rounds)]
    pub runs: usize,
    /// net and disk: only the exact guest instruction counts, without the wall-clock rounds.
    #[arg(long)]
    pub instructions_only: bool,
}

/// The benchmarks `bench` runs.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bench {
    /// Direct boot beside Linux, disk-image boot beside firmware-only floors.
    Boot,
    /// Kernel and image bytes (full, virtio-only and driverless kernels, bytes per crate),
    /// least RAM to boot.
    Size,
    /// Disk throughput and IOPS beside Linux.
    Disk,
    /// Work-queue latency and throughput beside a Linux pthread pool.
    Smp,
    /// httpd and UDP echo beside the Linux peer's busybox httpd (tap in a namespace).
    Net,
    /// Host CPU time of idle guests (Ingot halting, polling; Linux), httpd latency.
    Idle,
    /// boot, size, disk, smp, net and idle in turn.
    All,
    /// Not a benchmark: boot the Linux peer with a NIC and check its httpd answers.
    Peer,
}

/// A disk `run --disk` attaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskSpec {
    /// Raw image file.
    pub path: PathBuf,
    /// The controller QEMU emulates for it.
    pub model: DiskModel,
}

/// Disk controllers Ingot drives.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskModel {
    /// virtio-blk on PCI.
    VirtioBlk,
    /// An NVMe controller.
    Nvme,
    /// An AHCI (SATA) controller.
    Ahci,
    /// The PIIX IDE controller of machine pc.
    Ide,
}

impl FromStr for DiskSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (path, model) = match text.rsplit_once(',') {
            Some((path, model)) => {
                let model = DiskModel::from_str(model, true).map_err(|_| {
                    format!("unknown disk model `{model}`; valid: virtio-blk, nvme, ahci, ide")
                })?;
                (path, model)
            }
            None => (text, DiskModel::VirtioBlk),
        };
        if path.is_empty() {
            return Err("--disk needs a file name (FILE[,MODEL])".into());
        }
        Ok(DiskSpec { path: path.into(), model })
    }
}

/// A NIC `run --net` attaches, on a QEMU user network of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetSpec {
    /// The NIC model.
    pub model: NetModel,
    /// QEMU `hostfwd` rules (`tcp:127.0.0.1:8080-:80`).
    pub hostfwd: Vec<String>,
}

/// NICs Ingot drives that QEMU here emulates.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetModel {
    /// virtio-net (on PCI, or virtio-mmio on microvm).
    VirtioNet,
    /// Intel 82540EM.
    E1000,
    /// Intel 82574L.
    E1000e,
    /// Realtek RTL8139.
    Rtl8139,
}

impl FromStr for NetSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let mut parts = text.split(',');
        let first = parts.next().unwrap_or_default();
        let (model, rest): (NetModel, Vec<&str>) = match first.strip_prefix("hostfwd=") {
            Some(_) => (NetModel::VirtioNet, text.split(',').collect()),
            None if first.is_empty() => (NetModel::VirtioNet, parts.collect()),
            None => (
                NetModel::from_str(first, true).map_err(|_| {
                    format!(
                        "unknown NIC model `{first}`; valid: virtio-net, e1000, e1000e, rtl8139"
                    )
                })?,
                parts.collect(),
            ),
        };
        let mut hostfwd = Vec::new();
        for option in rest {
            match option.strip_prefix("hostfwd=") {
                Some(rule) if !rule.is_empty() => hostfwd.push(rule.to_string()),
                _ => {
                    return Err(format!(
                        "unknown --net option `{option}`; valid: hostfwd=RULE (QEMU's, e.g. tcp:127.0.0.1:8080-:80)"
                    ));
                }
            }
        }
        Ok(NetSpec { model, hostfwd })
    }
}

/// A command line the loaders can carry.
fn command_line(text: &str) -> Result<String, String> {
    if text.len() > ingot_mkimage::MAX_CMDLINE_BYTES {
        return Err(format!(
            "{} bytes; the loaders carry at most {}",
            text.len(),
            ingot_mkimage::MAX_CMDLINE_BYTES
        ));
    }
    Ok(text.to_string())
}

/// A number of benchmark rounds, at least 5.
fn rounds(text: &str) -> Result<usize, String> {
    let runs: usize = text.parse().map_err(|_| format!("`{text}` is not a number"))?;
    if runs < 5 {
        return Err(format!(
            "{runs} is too few: at least 5 paired rounds are needed for a median and its spread"
        ));
    }
    Ok(runs)
}

/// Parses `cargo xtask run` arguments (what follows `run`), for code that builds the
/// same configuration `run` would (the front-door scenarios).
pub fn parse_run(args: &[&str]) -> Result<RunArgs, String> {
    let line = ["cargo xtask", "run"].iter().chain(args);
    match Cli::try_parse_from(line).map_err(|e| e.to_string())?.command {
        Command::Run(args) => Ok(args),
        _ => Err("not a run command".into()),
    }
}

#[cfg(test)]
mod tests {
    use clap::error::ErrorKind;

    use super::*;

    fn parse(line: &str) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(["cargo xtask"].into_iter().chain(line.split_whitespace()))
    }

    fn error(line: &str) -> String {
        parse(line).unwrap_err().to_string()
    }

    #[test]
    fn every_subcommand_has_help_and_version_exists() {
        for sub in ["build", "image", "run", "test", "bench", "check"] {
            let help = parse(&format!("{sub} --help")).unwrap_err();
            assert_eq!(help.kind(), ErrorKind::DisplayHelp, "{sub}");
            assert!(help.to_string().contains(&format!("Usage: cargo xtask {sub}")), "{help}");
            assert_eq!(parse(&format!("{sub} -h")).unwrap_err().kind(), ErrorKind::DisplayHelp);
        }
        assert_eq!(parse("--version").unwrap_err().kind(), ErrorKind::DisplayVersion);
    }

    #[test]
    fn bad_values_name_the_valid_ones() {
        let machine = error("run --machine foo");
        assert!(machine.contains("pc") && machine.contains("q35") && machine.contains("microvm"));
        let bench = error("bench fast");
        for name in ["boot", "size", "disk", "smp", "all", "peer"] {
            assert!(bench.contains(name), "{bench}");
        }
        assert!(error("bench --runs 3").contains("at least 5 paired rounds"));
        assert!(error("run --fast").contains("unexpected argument '--fast'"));
        assert!(error("run --disk a.img,floppy").contains("valid: virtio-blk, nvme, ahci, ide"));
        assert!(error("run --pvh --image").contains("cannot be used with"));
        assert!(error("build --drivers virtio,floppy").contains("valid: virtio, nvme, ahci"));
        let long = format!("image --cmdline {}", "x".repeat(1024));
        assert!(error(&long).contains("at most 1023"));
    }

    #[test]
    fn run_options_parse_into_values() {
        let args = parse_run(&[
            "--machine",
            "pc",
            "--cores",
            "4",
            "--disk",
            "a.img,nvme",
            "--disk",
            "b.img",
            "--",
            "-S",
        ])
        .unwrap();
        assert_eq!(args.machine, Machine::Pc);
        assert_eq!(args.cores, 4);
        assert_eq!(
            args.disk,
            vec![
                DiskSpec { path: "a.img".into(), model: DiskModel::Nvme },
                DiskSpec { path: "b.img".into(), model: DiskModel::VirtioBlk },
            ]
        );
        assert_eq!(args.qemu_args, vec!["-S".to_string()]);
        assert_eq!(args.drivers, None);
        let virtio = parse_run(&["--machine", "microvm", "--drivers", "virtio"]).unwrap();
        assert_eq!(virtio.drivers, Some(DriverSet::virtio_only()));
        let bench = parse("bench smp --runs 7").unwrap();
        assert!(matches!(
            bench.command,
            Command::Bench(BenchArgs { which: Bench::Smp, runs: 7, instructions_only: false })
        ));
        let counted = parse("bench net --instructions-only").unwrap();
        assert!(matches!(
            counted.command,
            Command::Bench(BenchArgs { which: Bench::Net, runs: 5, instructions_only: true })
        ));
        let test = parse("test ready").unwrap();
        assert!(matches!(test.command, Command::Test(TestArgs { filter }) if filter == "ready"));
    }
}
