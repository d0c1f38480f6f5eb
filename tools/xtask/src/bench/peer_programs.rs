//! Static C programs for the Linux peer's initramfs (`/bin/<name>`), from
//! `tools/bench-peer/`. Each is built with the host's gcc as a static glibc binary
//! (`gcc -O2 -static`: the initramfs has no libc), rebuilt when older than its source.
//! A program for another benchmark is one more line in [`PROGRAMS`].

use std::path::{Path, PathBuf};
use std::process::Command;

/// (name in `/bin`, source under the workspace root).
const PROGRAMS: &[(&str, &str)] = &[("disk-bench", "tools/bench-peer/disk_bench.c")];

/// Builds every program (when needed) and returns (name, path of the binary).
pub fn build() -> Result<Vec<(&'static str, PathBuf)>, String> {
    let out_dir = crate::build::output_dir().join("linux-peer").join("bin");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    PROGRAMS
        .iter()
        .map(|(name, source)| {
            let source = crate::build::workspace_root().join(source);
            let out = out_dir.join(name);
            compile(&source, &out)?;
            Ok((*name, out))
        })
        .collect()
}

fn compile(source: &Path, out: &Path) -> Result<(), String> {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(out).is_some() && modified(out) >= modified(source) {
        return Ok(());
    }
    let output = Command::new("gcc")
        .args(["-O2", "-static", "-Wall", "-Wextra", "-Werror", "-o"])
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
