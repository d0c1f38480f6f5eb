//! Command lines the kernel cannot keep whole: a 4 KiB `-append` (the kernel keeps 1024
//! bytes) must be reported with the kept length and still end the run. `exit=qemu` comes
//! first, so the run ends through the kernel, not the harness's timeout; the filler is
//! a valid option (`ide=dma`), so the only notice is the cut.

use super::{BANNER, exit_status_for, ready, scenario};
use crate::build::Artifacts;
use crate::harness::Scenario;
use crate::qemu::{Machine, QemuConfig};

/// Bytes of command line the kernel keeps (`ingot_bootinfo::MAX_CMDLINE`).
const KEPT_BY_KERNEL: usize = 1024;

/// `exit=qemu` followed by ` ide=dma` up to `len` bytes.
fn long_line(len: usize) -> String {
    let mut line = String::from("exit=qemu");
    while line.len() < len {
        line.push_str(" ide=dma");
    }
    line.truncate(len);
    line
}

/// What the kernel keeps of `line`: the first [`KEPT_BY_KERNEL`] bytes, less an
/// incomplete last word and trailing spaces.
fn kept_length(line: &str) -> usize {
    let bytes = line.as_bytes();
    if bytes.len() <= KEPT_BY_KERNEL {
        return bytes.len();
    }
    let mut kept = KEPT_BY_KERNEL;
    if bytes[kept] != b' ' {
        while kept > 0 && bytes[kept - 1] != b' ' {
            kept -= 1;
        }
    }
    while kept > 0 && bytes[kept - 1] == b' ' {
        kept -= 1;
    }
    kept
}

/// The command-line scenarios.
pub fn scenarios(artifacts: &Artifacts) -> Vec<Scenario> {
    let line = long_line(4096);
    // PVH hands over the line exactly as given, so the kept length is known here;
    // Multiboot puts the kernel's path in front, which the kernel then removes.
    let pvh_cut = format!(
        r"^ingot: cmdline: longer than the 1024 bytes the kernel keeps; kept the first {} bytes, the rest is ignored$",
        kept_length(&line)
    );
    let multiboot_cut = r"^ingot: cmdline: longer than the 1024 bytes the kernel keeps; kept the first \d+ bytes, the rest is ignored$";
    let pvh_ready = ready("pvh");
    let multiboot_ready = ready("multiboot");
    let cases = [
        ("cmdline-4k-cut-pvh", &artifacts.kernel_pvh, pvh_cut.as_str(), &pvh_ready),
        ("cmdline-4k-cut-multiboot", &artifacts.kernel, multiboot_cut, &multiboot_ready),
    ];
    cases
        .into_iter()
        .map(|(name, kernel, cut, ready_line)| {
            let qemu = QemuConfig::new(Machine::Q35).kernel(kernel).append(line.clone());
            let mut s = scenario(name, qemu, &[BANNER, cut, ready_line], exit_status_for(0));
            s.forbid.push("^ingot: cmdline: (unknown key|bad value|skipped)".into());
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kept_length_stops_before_a_cut_word() {
        let line = long_line(4096);
        assert_eq!(line.len(), 4096);
        // "exit=qemu" then " ide=dma" words end at 9 + 8k; 1017 is the last end ≤ 1024.
        assert_eq!(kept_length(&line), 1017);
        assert_eq!(kept_length("exit=qemu"), 9);
    }
}
