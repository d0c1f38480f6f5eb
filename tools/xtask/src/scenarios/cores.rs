//! Multi-core scenarios: every core started, 10,000 tasks over the shared queue, nested
//! groups, per-core assignment, 100,000 tasks in several groups (`smp-stress`), and
//! reboot and power-off observed from the host.
//!
//! `smp-demo` computes its expected sum itself and counts the distinct cores that ran
//! tasks; the scenarios check that count against the `-smp` value they asked QEMU for
//! (every core must run some tasks with up to 8 cores; with more, TCG on a 2-core host
//! cannot promise each vCPU a turn, so only the total is checked).

use super::{BANNER, exit_status_for, scenario};
use crate::build::Artifacts;
use crate::harness::Scenario;
use crate::qemu::{Machine, QemuConfig};

pub(super) fn smp_demo(
    artifacts: &Artifacts,
    machine: Machine,
    cores: u32,
    cpu: Option<&str>,
) -> Scenario {
    let mut qemu = QemuConfig::new(machine)
        .memory("256M")
        .cores(cores)
        .kernel(&artifacts.kernel)
        .initrd(artifacts.program("smp-demo"))
        .append("exit=qemu");
    if let Some(cpu) = cpu {
        qemu = qemu.cpu(cpu);
    }
    let ready = format!(r"^ingot: ready cores={cores} mem=\d+MiB boot=multiboot$");
    let used = if cores <= 8 { cores.to_string() } else { r"\d+".to_string() };
    let tasks = format!(r"^smp: tasks=10000 sum-ok=true cores-used={used} cores={cores}$");
    let assigned = format!(r"^smp: run-on-core ran={0} of {0} own-core-refused=true$", cores - 1);
    let name = match cpu {
        Some(cpu) => format!("cores-{}-{cores}-{}", machine.name(), cpu.replace(['+', ','], "-")),
        None => format!("cores-{}-{cores}", machine.name()),
    };
    scenario(
        &name,
        qemu,
        &[
            BANNER,
            r"^ingot: ioapic id=\d+ gsi=0-23 masked$",
            &ready,
            &tasks,
            r"^smp: nested groups parents=16 children=32 ok=true$",
            &assigned,
            r"^ingot: program exited status=0$",
        ],
        exit_status_for(0),
    )
}

/// 100,000 tasks in eight groups on four cores, some submitted from inside tasks: each
/// runs exactly once, every group completes, every core takes part.
fn smp_stress(artifacts: &Artifacts) -> Scenario {
    let qemu = QemuConfig::new(Machine::Q35)
        .memory("256M")
        .cores(4)
        .kernel(&artifacts.kernel)
        .initrd(artifacts.program("smp-stress"))
        .append("exit=qemu");
    scenario(
        "cores-stress-100k",
        qemu,
        &[
            BANNER,
            r"^ingot: ready cores=4 ",
            r"^smp-stress: tasks=100000 once=100000 groups=8 completed=8 full-groups=8 cores-used=4 cores=4$",
            r"^ingot: program exited status=0$",
        ],
        exit_status_for(0),
    )
}

/// The multi-core scenarios.
pub fn scenarios(artifacts: &Artifacts) -> Vec<Scenario> {
    let mut scenarios = Vec::new();
    for machine in [Machine::Q35, Machine::Pc] {
        for cores in [1, 2, 4, 8, 16] {
            scenarios.push(smp_demo(artifacts, machine, cores, None));
        }
    }
    // QEMU 7.2's TCG does not emulate x2APIC: it drops the flag with a warning, and the
    // kernel must then run in xAPIC mode. On KVM or newer QEMU this runs in x2APIC mode.
    scenarios.push(smp_demo(artifacts, Machine::Q35, 4, Some("qemu64,+x2apic")));
    scenarios.push(smp_stress(artifacts));
    let power = |name: &str, exit: &str, line: &str| {
        let qemu = QemuConfig::new(Machine::Q35)
            .cores(2)
            .kernel(&artifacts.kernel)
            .append(format!("exit={exit}"));
        scenario(name, qemu, &[BANNER, r"^ingot: ready cores=2 ", line], 0)
    };
    scenarios.push(power("power-reboot", "reboot", r"^ingot: rebooting$"));
    scenarios.push(power("power-shutdown", "shutdown", r"^ingot: shutting down$"));
    scenarios
}
