//! `bench disk`'s parallel phase: 1 MiB sequential reads of 32 MiB per core on N
//! cores at once (N = 2 and 4), Ingot beside the Linux peer, in two layouts:
//!
//! - N virtio-blk disks, core `k` reading disk `k`: Ingot's `disk-bench` sees more
//!   than one disk and reads disk `k` on core `k` (`run_on_core`); the peer
//!   (`peer=disks peerdisks=N`) runs `disk-bench --parallel` with one O_DIRECT
//!   reader process per disk, pinned to CPU `k`.
//! - one NVMe namespace, core `k` reading its `k`-th 32 MiB: Ingot's `disk-bench`
//!   sees one disk and several cores, and each core submits on its own lane (queue
//!   pair); the peer (`peershared=1`) runs `disk-bench --parallel` with the device
//!   named N times, so reader `k`, pinned to CPU `k`, reads the `k`-th 32 MiB
//!   (Linux's NVMe driver also has a queue pair per CPU).
//!
//! Both guests get the same QEMU flags (`-smp N`, the drives with `cache=none,
//! aio=threads` on fresh sparse images); the host times `par-read start` to `done`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::disk::{Phase, fresh_image, fresh_image_of, phase, run_lines};
use super::peer::{DISKS_APPEND, Peer};
use crate::build::Artifacts;
use crate::qemu::{Machine, QemuConfig};

/// How the cores' reads are laid out on the disks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One virtio-blk disk per core.
    DiskPerCore,
    /// One NVMe namespace, a 32 MiB region per core.
    SharedNvme,
}

/// (name, layout, cores).
pub const PARALLEL: [(&str, Layout, usize); 4] = [
    ("virtio-blk x2", Layout::DiskPerCore, 2),
    ("virtio-blk x4", Layout::DiskPerCore, 4),
    ("nvme 1 disk, 2 cores", Layout::SharedNvme, 2),
    ("nvme 1 disk, 4 cores", Layout::SharedNvme, 4),
];
/// Bytes each core reads.
const PER_CORE_BYTES: u64 = 32 << 20;
const MEMORY: &str = "256M";
const INGOT_TIMEOUT: Duration = Duration::from_secs(120);
const LINUX_TIMEOUT: Duration = Duration::from_secs(240);

/// One parallel run.
pub struct ParallelRun {
    pub round: usize,
    pub name: &'static str,
    pub guest: &'static str,
    pub phase: Phase,
    pub load1: f64,
    pub config: QemuConfig,
}

impl ParallelRun {
    /// MB/s (10^6 bytes per second) over all disks.
    pub fn rate(&self) -> f64 {
        self.phase.amount as f64 / self.phase.seconds / 1e6
    }
}

/// The image paths of a config of `layout` on `cores` cores.
pub fn images(dir: &Path, layout: Layout, cores: usize) -> Vec<PathBuf> {
    let disks = if layout == Layout::SharedNvme { 1 } else { cores };
    (0..disks).map(|k| dir.join(format!("bench-parallel-{k}.img"))).collect()
}

/// Ingot's and Linux's configs (in that order) for `layout` on `cores` cores.
pub fn configs(
    layout: Layout,
    cores: usize,
    images: &[PathBuf],
    artifacts: &Artifacts,
    peer: &Peer,
) -> [QemuConfig; 2] {
    let mut base = QemuConfig::new(Machine::Q35).memory(MEMORY).cores(cores as u32);
    for (k, image) in images.iter().enumerate() {
        let device = match layout {
            Layout::DiskPerCore => format!("virtio-blk-pci,drive=d{k}"),
            Layout::SharedNvme => format!("nvme,drive=d{k},serial=bench-parallel-{k}"),
        };
        base = base.extra_args([
            "-drive".to_string(),
            format!("file={},format=raw,if=none,id=d{k},cache=none,aio=threads", image.display()),
            "-device".to_string(),
            device,
        ]);
    }
    let shared = if layout == Layout::SharedNvme { " peershared=1" } else { "" };
    [
        base.clone()
            .kernel(&artifacts.kernel)
            .initrd(artifacts.program("disk-bench"))
            .append("exit=qemu"),
        base.kernel(&peer.vmlinux)
            .initrd(&peer.disk_initramfs)
            .append(format!("{DISKS_APPEND} peerdisks={cores}{shared}")),
    ]
}

/// Runs one guest of one parallel config on fresh images.
pub fn run(
    config: &QemuConfig,
    layout: Layout,
    cores: usize,
    images: &[PathBuf],
    guest: &str,
) -> Result<Phase, String> {
    for image in images {
        match layout {
            Layout::DiskPerCore => fresh_image(image)?,
            Layout::SharedNvme => fresh_image_of(image, PER_CORE_BYTES * cores as u64)?,
        }
    }
    let timeout = if guest == "Ingot" { INGOT_TIMEOUT } else { LINUX_TIMEOUT };
    let lines = run_lines(config, timeout, "disk-bench: par-read done")?;
    let done = lines.iter().find_map(|(_, l)| l.strip_prefix("disk-bench: par-read done"));
    if !done.is_some_and(|rest| rest.split_whitespace().any(|w| w == "failures=0")) {
        return Err(format!("{guest}: parallel reads failed or did not finish: {done:?}"));
    }
    phase(&lines, "par-read")
}
