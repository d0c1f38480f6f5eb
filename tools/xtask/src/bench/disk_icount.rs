//! Guest instructions per 4 KiB random read at depth 1 for `bench disk
//! --instructions-only`, Ingot beside the Linux peer, on virtio-blk, NVMe and AHCI: each
//! guest boots on one core under `-icount` with the counting plugin
//! (`tools/qemu-plugins/insncount.c`), runs only the first N random reads of the
//! benchmark (Ingot: `init=disk-bench --random N`; Linux: `peerreads=N`, which `/init`
//! passes on as `disk-bench --random N`; `O_DIRECT`) and ends QEMU, which prints the
//! total. The slope (total(N₂) − total(N₁)) ÷ (N₂ − N₁) leaves boot and shutdown out.
//!
//! As in `bench net` (`net_icount.rs`) the runs use `sleep=on`: both guests halt while
//! a read is in QEMU's block layer, and a halted guest's virtual clock then follows the
//! wall clock, so waiting costs only the timer interrupts that fall into it.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use super::disk::{CONTROLLERS, LINUX_APPEND, configs, fresh_image};
use super::measure::{self, count_instructions};
use super::peer::Peer;
use crate::build::Artifacts;

/// The two read counts of the slope.
const LOW: u32 = 500;
const HIGH: u32 = 2500;
/// The controllers measured (the Linux peer has all three; IDE has no queue and
/// microvm no peer).
const MEASURED: [&str; 3] = ["virtio-blk", "nvme", "ahci"];
/// The deterministic flags with `sleep=on` (see the module comment).
const ICOUNT_SLEEPING: [&str; 4] =
    ["-icount", "shift=0,align=off,sleep=on", "-rtc", "clock=vm,base=2024-01-01T00:00:00"];
/// The line both programs print after their last read.
const DONE: &str = "disk-bench: rand-read done";
const TIMEOUT: Duration = Duration::from_secs(600);

/// One guest on one controller.
pub struct PerRead {
    pub controller: &'static str,
    pub guest: &'static str,
    /// Totals after LOW and after HIGH reads.
    pub totals: [u64; 2],
}

impl PerRead {
    /// The slope: instructions per read.
    pub fn per_read(&self) -> f64 {
        (self.totals[1] as f64 - self.totals[0] as f64) / f64::from(HIGH - LOW)
    }
}

/// Measures every controller of [`MEASURED`], Ingot then Linux, on a fresh image each.
pub fn measure(artifacts: &Artifacts, peer: &Peer, image: &Path) -> Result<Vec<PerRead>, String> {
    let mut measured = Vec::new();
    for (controller, machine, devices) in CONTROLLERS {
        if !MEASURED.contains(&controller) {
            continue;
        }
        let [ingot, linux] = configs(machine, devices, image, artifacts, peer);
        for (guest, config) in [("Ingot", ingot), ("Linux", linux)] {
            let config = config.cores(1).extra_args(ICOUNT_SLEEPING);
            let mut totals = [0; 2];
            for (total, reads) in totals.iter_mut().zip([LOW, HIGH]) {
                let append = if guest == "Ingot" {
                    format!("exit=qemu init=disk-bench --random {reads}")
                } else {
                    format!("{LINUX_APPEND} peerreads={reads}")
                };
                let label = format!("disk-{controller}-{}-{reads}", guest.to_lowercase());
                let config =
                    config.clone().append(append).extra_args(measure::counting_args(&label)?);
                fresh_image(image)?;
                *total = count_instructions(&config, DONE, TIMEOUT)
                    .map_err(|e| format!("{guest} on {controller}, {reads} reads: {e}"))?;
                eprintln!("bench disk: {controller} {guest} icount {reads} reads: {total}");
            }
            measured.push(PerRead { controller, guest, totals });
        }
    }
    Ok(measured)
}

/// The report's section on instructions per read.
pub fn markdown(measured: &[PerRead]) -> String {
    let mut md = format!(
        "\n### Guest instructions per 4 KiB random read, one at a time (`-icount shift=0,sleep=on`, counting plugin, one core; slope between {LOW} and {HIGH} reads)\n\n\
         | Controller | Guest | total after {LOW} | after {HIGH} | per read | Ingot ÷ Linux |\n|---|---|---|---|---|---|\n"
    );
    for m in measured {
        let linux = measured
            .iter()
            .find(|o| o.controller == m.controller && o.guest == "Linux")
            .map(PerRead::per_read);
        let ratio = match (m.guest, linux) {
            ("Ingot", Some(linux)) if linux > 0.0 => format!("{:.3}", m.per_read() / linux),
            _ => "–".to_string(),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {:.0} | {ratio} |",
            m.controller,
            m.guest,
            m.totals[0],
            m.totals[1],
            m.per_read()
        );
    }
    md
}

/// The measurements as JSON.
pub fn json(measured: &[PerRead]) -> String {
    let items: Vec<String> = measured
        .iter()
        .map(|m| {
            format!(
                "{{\"controller\":\"{}\",\"guest\":\"{}\",\"reads\":[{LOW},{HIGH}],\"totals\":{:?},\"per_read\":{:.1}}}",
                m.controller,
                m.guest,
                m.totals,
                m.per_read()
            )
        })
        .collect();
    format!("[{}]", items.join(","))
}

#[cfg(test)]
mod tests {
    use super::{HIGH, LOW, PerRead, markdown};

    #[test]
    fn slope_and_ratio() {
        let reads = u64::from(HIGH - LOW);
        let ingot = PerRead {
            controller: "nvme",
            guest: "Ingot",
            totals: [10_000_000, 10_000_000 + 3_000 * reads],
        };
        let linux = PerRead {
            controller: "nvme",
            guest: "Linux",
            totals: [900_000_000, 900_000_000 + 30_000 * reads],
        };
        assert_eq!(ingot.per_read(), 3_000.0);
        assert_eq!(linux.per_read(), 30_000.0);
        let md = markdown(&[ingot, linux]);
        assert!(md.contains("| nvme | Ingot | 10000000 |"), "{md}");
        assert!(md.contains("| 3000 | 0.100 |"), "{md}");
        assert!(md.contains("| 30000 | – |"), "{md}");
    }
}
