//! Idle means idle: cores halt while they wait, and interrupts wake them.
//!
//! - `idle-monitor-ps2-key-wakes`: the monitor waits for input halted; after a second
//!   of that, `info` and `exit` are typed through QMP `send-key` on the PS/2 keyboard
//!   only. Input is interrupt-driven (IRQ 1 and IRQ 4 routed), so the monitor's wait
//!   has no poll fallback: only IRQ 1 can wake it. `info` must then show core 0 halted
//!   for most of that second.
//! - `idle-cores-halted-smp4`: four cores; `info` typed on serial shows every
//!   application core's halted time above zero (they halted from boot on).
//!
//! NIC interrupts are checked by the httpd scenarios (`httpd: core 0 halted=…
//! nic-interrupts=on` on modern virtio-net).

use std::time::Duration;

use regex::Regex;

use super::{BANNER, exit_status_for, scenario};
use crate::build::{Artifacts, output_dir};
use crate::harness::Scenario;
use crate::qemu::{Machine, QemuConfig};
use crate::screenshot;

const MONITOR_BANNER: &str = r"^Ingot monitor \d+\.\d+\.\d+; 'help' lists the commands$";

/// The idle scenarios.
pub fn scenarios(artifacts: &Artifacts) -> Vec<Scenario> {
    vec![ps2_key_wakes(artifacts), cores_halted(artifacts)]
}

fn monitor(artifacts: &Artifacts) -> QemuConfig {
    QemuConfig::new(Machine::Q35)
        .kernel(&artifacts.kernel)
        .initrd(artifacts.program("monitor"))
        .append("exit=qemu")
}

/// The halted milliseconds `info` printed for core `core`.
fn halted_ms(log: &str, core: usize) -> Result<u64, String> {
    let pattern = format!(r"(?m)^cores: \d+ .*#{core} tasks=\d+ busy=\d+us halted=(\d+)ms");
    let regex = Regex::new(&pattern).map_err(|e| e.to_string())?;
    let found = regex.captures(log).ok_or(format!("no halted time for core {core} in `info`"))?;
    found[1].parse().map_err(|e| format!("halted time: {e}"))
}

fn ps2_key_wakes(artifacts: &Artifacts) -> Scenario {
    let name = "idle-monitor-ps2-key-wakes";
    let socket = output_dir().join(format!("{name}.qmp"));
    let _ = std::fs::remove_file(&socket);
    let qemu =
        monitor(artifacts).arg("-qmp").arg(format!("unix:{},server=on,wait=off", socket.display()));
    let mut s = scenario(
        name,
        qemu,
        &[
            BANNER,
            r"^ingot: ps2 keyboard ready$",
            r"^ingot: irq 1 gsi=\d+ vector=0x[0-9a-f]+ edge$",
            r"^ingot: irq 4 gsi=\d+ vector=0x[0-9a-f]+ edge$",
            MONITOR_BANNER,
        ],
        exit_status_for(0),
    );
    s.timeout = Duration::from_secs(120);
    s.live_check = Some(Box::new(move |_| {
        std::thread::sleep(Duration::from_secs(1));
        screenshot::qmp(&socket, &send_keys("info\n"))?;
        std::thread::sleep(Duration::from_millis(500));
        screenshot::qmp(&socket, &send_keys("exit\n")).map(|_| ())
    }));
    s.host_check = Some(Box::new(|log: &str| {
        let halted = halted_ms(log, 0)?;
        if halted < 500 {
            return Err(format!("core 0 halted only {halted} ms of the second before the keys"));
        }
        let mut lines = log.lines();
        for want in ["> info", "cores: 1 ", "> exit", "ingot: program exited status=0"] {
            lines.find(|line| line.starts_with(want)).ok_or(format!("no line {want:?}"))?;
        }
        Ok(())
    }));
    s
}

fn cores_halted(artifacts: &Artifacts) -> Scenario {
    let mut s = scenario(
        "idle-cores-halted-smp4",
        monitor(artifacts).cores(4),
        &[
            BANNER,
            r"^ingot: ready cores=4 ",
            MONITOR_BANNER,
            r"^> info$",
            r"^cores: 4 ",
            r"^> exit$",
        ],
        exit_status_for(0),
    );
    s.serial_input =
        vec![(MONITOR_BANNER.into(), "info\r".into()), (r"^memory: ".into(), "exit\r".into())];
    s.host_check = Some(Box::new(|log: &str| {
        for core in 1..4 {
            if halted_ms(log, core)? == 0 {
                return Err(format!("core {core} never halted"));
            }
        }
        Ok(())
    }));
    s
}

/// QMP `send-key` commands typing `text` (lower-case letters, space, newline).
fn send_keys(text: &str) -> Vec<String> {
    text.chars()
        .map(|c| match c {
            '\n' => "ret".to_string(),
            ' ' => "spc".to_string(),
            other => other.to_string(),
        })
        .map(|key| {
            format!(r#"{{"execute":"send-key","arguments":{{"keys":[{{"type":"qcode","data":"{key}"}}]}}}}"#)
        })
        .collect()
}
