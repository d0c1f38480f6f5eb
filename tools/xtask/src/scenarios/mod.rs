//! Every QEMU scenario `cargo xtask test` runs, as data, one file per area.
//!
//! A program's status `s` makes QEMU exit with `2s + 1` through `isa-debug-exit`; the
//! kernel's failure exit is 255.

mod api_examples;
pub mod boot_images;
mod cmdline;
mod compat;
mod cores;
mod drivers;
mod ecam;
mod failures;
mod fixed_address;
mod foundation;
mod front_door;
pub mod httpd;
pub mod httpd_checks;
mod idle;
mod loader_checks;
mod monitor;
mod net;
mod programs;
mod sound;
mod storage;
mod storage_queue;
mod stress;
mod time;
mod virtio_mmio;

use std::time::Duration;

use crate::build::Artifacts;
use crate::harness::Scenario;
use crate::qemu::QemuConfig;

pub use httpd_checks::netns_client;

/// Every scenario, in the order they are reported.
pub fn all(artifacts: &Artifacts) -> Vec<Scenario> {
    // Each area's scenarios, chained in report order.
    [
        foundation::scenarios(artifacts),
        cmdline::scenarios(artifacts),
        time::scenarios(artifacts),
        sound::scenarios(artifacts),
        cores::scenarios(artifacts),
        storage::scenarios(artifacts),
        storage_queue::scenarios(artifacts),
        ecam::scenarios(artifacts),
        net::scenarios(artifacts),
        virtio_mmio::scenarios(artifacts),
        drivers::scenarios(artifacts),
        httpd::scenarios(artifacts),
        idle::scenarios(artifacts),
        boot_images::scenarios(artifacts),
        stress::scenarios(artifacts),
        front_door::scenarios(artifacts),
        failures::scenarios(artifacts),
        loader_checks::scenarios(artifacts),
        compat::scenarios(artifacts),
        programs::scenarios(artifacts),
        api_examples::scenarios(artifacts),
        monitor::scenarios(artifacts),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// QEMU exit status for a program that returned `status` (with `exit=qemu`).
pub const fn exit_status_for(status: u8) -> i32 {
    ((status as i32) << 1) | 1
}

/// QEMU exit status after an exception, panic or fatal error.
pub const KERNEL_FAILURE: i32 = 255;

/// The banner, first line of every boot.
pub const BANNER: &str = r"^Ingot \d+\.\d+\.\d+";
const NO_FAILURES: [&str; 3] = ["ingot: panic", "ingot: exception", "ingot: fatal"];

/// The ready line for a boot path, any core count and memory size.
pub fn ready(boot: &str) -> String {
    format!(r"^ingot: ready cores=\d+ mem=\d+MiB boot={boot}$")
}

/// A scenario with the usual forbidden lines (none of panic/exception/fatal unless the
/// expected exit is the kernel's failure exit) and a 60 s timeout.
pub fn scenario(name: &str, qemu: QemuConfig, expect: &[&str], exit_status: i32) -> Scenario {
    Scenario {
        name: name.to_string(),
        qemu,
        expect: expect.iter().map(|line| line.to_string()).collect(),
        forbid: if exit_status == KERNEL_FAILURE {
            vec!["ingot: panic".into()]
        } else {
            NO_FAILURES.iter().map(|line| line.to_string()).collect()
        },
        exit_status,
        timeout: Duration::from_secs(60),
        host_check: None,
        live_check: None,
        serial_input: Vec::new(),
        prepare: None,
    }
}
