//! One measured boot: wall time to a ready marker, or an exact instruction count.
//!
//! [`time_to_marker`] spawns QEMU and takes the time from just before spawning to the
//! moment the serial line starting with the marker was read. [`count_instructions`] boots
//! under the deterministic flags ([`ICOUNT_ARGS`], one core) with the counting plugin and
//! reads its total after the guest ends QEMU right behind the marker (isa-debug-exit).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::harness::{Event, Running};
use crate::qemu::QemuConfig;

/// Flags that make virtual time follow the instruction count (1 ns per instruction), so
/// the guest sees the same timer values every run: performance.md §4.
pub const ICOUNT_ARGS: [&str; 4] =
    ["-icount", "shift=0,align=off,sleep=off", "-rtc", "clock=vm,base=2024-01-01T00:00:00"];
const PLUGIN_SOURCE: &str = "tools/qemu-plugins/insncount.c";
const PLUGIN_LINE: &str = "insncount: total=";

fn failure(config: &QemuConfig, qemu: Running, why: String, mut tail: Vec<String>) -> String {
    let (rest, stderr) = qemu.finish();
    tail.extend(rest);
    let start = tail.len().saturating_sub(10);
    format!(
        "{why}\n  command: {}\n  serial tail:\n    {}\n  qemu stderr: {}",
        config.command_line(),
        tail[start..].join("\n    "),
        stderr.trim()
    )
}

/// Seconds from spawning QEMU to the first serial line starting with `marker`; QEMU is
/// killed then. An error (with the serial tail) if it exits or times out first.
pub fn time_to_marker(config: &QemuConfig, marker: &str, timeout: Duration) -> Result<f64, String> {
    let mut qemu = Running::spawn(config)?;
    let deadline = qemu.started + timeout;
    let mut tail = Vec::new();
    loop {
        match qemu.next_line(deadline) {
            Event::Line(at, line) if line.starts_with(marker) => {
                let seconds = at.duration_since(qemu.started).as_secs_f64();
                qemu.kill();
                return Ok(seconds);
            }
            Event::Line(_, line) => tail.push(line),
            Event::Eof | Event::Timeout => {
                let why = if Instant::now() >= deadline {
                    format!("no `{marker}` line within {} s", timeout.as_secs())
                } else {
                    format!("QEMU exited before `{marker}`")
                };
                return Err(failure(config, qemu, why, tail));
            }
        }
    }
}

/// Builds the counting plugin with gcc (when missing or older than its source) and
/// returns the path of the shared object.
pub fn plugin() -> Result<PathBuf, String> {
    build_plugin(PLUGIN_SOURCE, "libinsncount.so")
}

/// The environment variable that makes [`counting_args`] profile: a directory.
const PROFILE_VARIABLE: &str = "INGOT_INSN_PROFILE";
const PROFILE_SOURCE: &str = "tools/qemu-plugins/insnprofile.c";

/// QEMU flags that load the counting plugin. With `INGOT_INSN_PROFILE=DIR` in the
/// environment it is `insnprofile` instead, which prints the same total and also writes
/// `DIR/<label>.txt`: executed instructions and executions per translated block.
pub fn counting_args(label: &str) -> Result<[String; 4], String> {
    let plugin = match std::env::var_os(PROFILE_VARIABLE) {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let plugin = build_plugin(PROFILE_SOURCE, "libinsnprofile.so")?;
            format!("{},out={}", plugin.display(), dir.join(format!("{label}.txt")).display())
        }
        None => plugin()?.display().to_string(),
    };
    Ok(["-plugin".to_string(), plugin, "-d".to_string(), "plugin".to_string()])
}

fn build_plugin(source: &str, name: &str) -> Result<PathBuf, String> {
    let source = crate::build::workspace_root().join(source);
    let out_dir = crate::build::output_dir().join("qemu-plugins");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let out = out_dir.join(name);
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(&out).is_some() && modified(&out) >= modified(&source) {
        return Ok(out);
    }
    let output = Command::new("gcc")
        .args([
            "-O2",
            "-shared",
            "-fPIC",
            "-fvisibility=hidden",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-o",
        ])
        .arg(&out)
        .arg(&source)
        .output()
        .map_err(|e| format!("cannot run gcc to build the QEMU plugin: {e} (install gcc)"))?;
    if !output.status.success() {
        return Err(format!(
            "gcc {} failed: {}",
            source.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(out)
}

/// `config` with the deterministic flags and the plugin added, on one core.
pub fn counted(config: &QemuConfig, plugin: &Path) -> QemuConfig {
    config.clone().cores(1).extra_args(ICOUNT_ARGS).extra_args([
        "-plugin".to_string(),
        plugin.display().to_string(),
        "-d".to_string(),
        "plugin".to_string(),
    ])
}

/// The plugin's total from QEMU's log (stderr).
pub fn parse_total(stderr: &str) -> Option<u64> {
    stderr.lines().rev().find_map(|l| l.trim().strip_prefix(PLUGIN_LINE)?.parse().ok())
}

/// Guest instructions from reset until the guest ends QEMU; `config` must come from
/// [`counted`] and the guest must print `marker` and then exit through isa-debug-exit.
pub fn count_instructions(
    config: &QemuConfig,
    marker: &str,
    timeout: Duration,
) -> Result<u64, String> {
    let qemu = Running::spawn(config)?;
    let deadline = qemu.started + timeout;
    let mut tail = Vec::new();
    let mut seen = false;
    loop {
        match qemu.next_line(deadline) {
            Event::Line(_, line) => {
                seen |= line.starts_with(marker);
                tail.push(line);
            }
            Event::Timeout => {
                let why = format!("QEMU still running after {} s", timeout.as_secs());
                return Err(failure(config, qemu, why, tail));
            }
            Event::Eof => break,
        }
    }
    let (_, stderr) = qemu.finish();
    match (seen, parse_total(&stderr)) {
        (true, Some(total)) => Ok(total),
        (false, _) => Err(format!(
            "no `{marker}` before QEMU exited\n  command: {}\n  serial tail: {}\n  stderr: {}",
            config.command_line(),
            tail.join(" | "),
            stderr.trim()
        )),
        (true, None) => Err(format!(
            "no `{PLUGIN_LINE}` line from the plugin\n  command: {}\n  stderr: {}",
            config.command_line(),
            stderr.trim()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_total;

    #[test]
    fn plugin_total_is_read_from_the_log() {
        assert_eq!(parse_total("qemu: warning x\ninsncount: total=8806487\n"), Some(8_806_487));
        assert_eq!(parse_total("insncount: total=\n"), None);
        assert_eq!(parse_total(""), None);
    }
}
