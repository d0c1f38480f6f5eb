//! `bench disk`'s parallel phase: 1 MiB sequential reads on N cores to N disks at
//! once (N = 2 and 4, virtio-blk), Ingot beside the Linux peer.
//!
//! Ingot's `disk-bench` sees more than one disk and reads disk `k` on core `k`
//! (`run_on_core`), 32 MiB each; the peer (`peer=disks peerdisks=N`) runs
//! `disk-bench --parallel` with one O_DIRECT reader process per disk, pinned to CPU
//! `k`. Both guests get the same QEMU flags (`-smp N`, N drives with `cache=none,
//! aio=threads`, fresh 64 MiB images); the host times `par-read start` to `done`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::disk::{Phase, fresh_image, phase, run_lines};
use super::peer::{DISKS_APPEND, Peer};
use crate::build::Artifacts;
use crate::qemu::{Machine, QemuConfig};

/// (name, disks and cores).
pub const PARALLEL: [(&str, usize); 2] = [("virtio-blk x2", 2), ("virtio-blk x4", 4)];
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

/// The image paths of a config with `disks` disks.
pub fn images(dir: &Path, disks: usize) -> Vec<PathBuf> {
    (0..disks).map(|k| dir.join(format!("bench-parallel-{k}.img"))).collect()
}

/// Ingot's and Linux's configs (in that order) for `disks` disks and cores.
pub fn configs(
    disks: usize,
    images: &[PathBuf],
    artifacts: &Artifacts,
    peer: &Peer,
) -> [QemuConfig; 2] {
    let mut base = QemuConfig::new(Machine::Q35).memory(MEMORY).cores(disks as u32);
    for (k, image) in images.iter().enumerate() {
        base = base.extra_args([
            "-drive".to_string(),
            format!("file={},format=raw,if=none,id=d{k},cache=none,aio=threads", image.display()),
            "-device".to_string(),
            format!("virtio-blk-pci,drive=d{k}"),
        ]);
    }
    [
        base.clone()
            .kernel(&artifacts.kernel)
            .initrd(artifacts.program("disk-bench"))
            .append("exit=qemu"),
        base.kernel(&peer.vmlinux)
            .initrd(&peer.disk_initramfs)
            .append(format!("{DISKS_APPEND} peerdisks={disks}")),
    ]
}

/// Runs one guest of one parallel config on fresh images.
pub fn run(config: &QemuConfig, images: &[PathBuf], guest: &str) -> Result<Phase, String> {
    for image in images {
        fresh_image(image)?;
    }
    let timeout = if guest == "Ingot" { INGOT_TIMEOUT } else { LINUX_TIMEOUT };
    let lines = run_lines(config, timeout, "disk-bench: par-read done")?;
    let done = lines.iter().find_map(|(_, l)| l.strip_prefix("disk-bench: par-read done"));
    if !done.is_some_and(|rest| rest.split_whitespace().any(|w| w == "failures=0")) {
        return Err(format!("{guest}: parallel reads failed or did not finish: {done:?}"));
    }
    phase(&lines, "par-read")
}
