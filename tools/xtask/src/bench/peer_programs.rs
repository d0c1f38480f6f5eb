//! `/bin/disk-bench` for the Linux peer's `initramfs-disk.cpio` and `/bin/udp-echo` for
//! `bench net`'s `initramfs-net.cpio`: built from `tools/bench-peer/disk_bench.c` and
//! `udp_echo.c` with the host's gcc as a stripped static glibc binary
//! (`gcc -O2 -static -s`: the initramfs has no libc; static glibc is in libc6-dev),
//! rebuilt when older than its source.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Linux side of `bench disk`, relative to the workspace root.
const DISK_BENCH_SOURCE: &str = "tools/bench-peer/disk_bench.c";

/// Builds `disk-bench` (when needed) and returns the binary's path.
pub fn build_disk_bench() -> Result<PathBuf, String> {
    let out_dir = crate::build::output_dir().join("linux-peer");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let out = out_dir.join("disk-bench");
    compile(&crate::build::workspace_root().join(DISK_BENCH_SOURCE), &out)?;
    Ok(out)
}

/// The Linux side of `bench net`'s UDP echo.
const UDP_ECHO_SOURCE: &str = "tools/bench-peer/udp_echo.c";

/// Builds `udp-echo` (when needed) and returns the binary's path.
pub fn build_udp_echo() -> Result<PathBuf, String> {
    let out_dir = crate::build::output_dir().join("linux-peer");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let out = out_dir.join("udp-echo");
    compile(&crate::build::workspace_root().join(UDP_ECHO_SOURCE), &out)?;
    Ok(out)
}

fn compile(source: &Path, out: &Path) -> Result<(), String> {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(out).is_some() && modified(out) >= modified(source) {
        return Ok(());
    }
    let output = Command::new("gcc")
        .args(["-O2", "-static", "-s", "-Wall", "-Wextra", "-Werror", "-o"])
        .arg(out)
        .arg(source)
        .output()
        .map_err(|e| format!("cannot run gcc to build {}: {e} (install gcc)", source.display()))?;
    if !output.status.success() {
        return Err(format!(
            "gcc -static {} failed (static glibc is in libc6-dev): {}",
            source.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(())
}
