//! Foundation scenarios: boot paths and machines, memory sizes, programs, faults.
//!
//! Expectations are derived from what QEMU is asked to emulate: `-m 4M` must report
//! the 3 MiB of usable RAM a 4 MiB PC has once the BIOS area and ROMs are taken out,
//! and `-m 8G` must report 8191 or 8190 MiB (8 GiB less the legacy hole and the
//! firmware's reservations). A program's status `s` makes QEMU exit with `2s + 1`
//! through `isa-debug-exit`; the kernel's failure exit is 255.

use super::{BANNER, KERNEL_FAILURE, exit_status_for, ready, scenario};
use crate::build::Artifacts;
use crate::harness::Scenario;
use crate::qemu::{Machine, QemuConfig};

/// The status `hello` returns.
const HELLO_STATUS: u8 = 42;

/// The foundation scenarios: boot paths and machines, memory sizes, programs, faults.
pub fn scenarios(artifacts: &Artifacts) -> Vec<Scenario> {
    let kernel = |machine| QemuConfig::new(machine).kernel(&artifacts.kernel);
    let pvh = |machine| QemuConfig::new(machine).kernel(&artifacts.kernel_pvh);
    let hello = artifacts.program("hello");
    let multiboot_ready = ready("multiboot");
    let pvh_ready = ready("pvh");
    let idle_exit = exit_status_for(0);
    let hello_lines = [
        "^ingot: program loaded bytes=",
        "^hello from an Ingot program$",
        "^hello: bad pointers refused=true$",
        "^ingot: program exited status=42$",
    ];
    // `during` lines are what the program prints between its greeting and its checks.
    let with_hello = |before: &[&str], during: &[&str]| -> Vec<String> {
        let (greeting, checks) = hello_lines.split_at(2);
        [before, greeting, during, checks].concat().into_iter().map(String::from).collect()
    };

    let mut scenarios = Vec::new();
    for machine in [Machine::Pc, Machine::Q35, Machine::Microvm] {
        let name = format!("ready-multiboot-{}", machine.name());
        let qemu = kernel(machine).append("exit=qemu");
        scenarios.push(scenario(&name, qemu, &[BANNER, &multiboot_ready], idle_exit));
        let name = format!("ready-pvh-{}", machine.name());
        let qemu = pvh(machine).append("exit=qemu");
        scenarios.push(scenario(&name, qemu, &[BANNER, &pvh_ready], idle_exit));
    }

    let mut program = |name: &str, qemu: QemuConfig, before: &[&str], during: &[&str]| {
        let qemu = qemu.initrd(&hello).append("exit=qemu");
        let mut s = scenario(name, qemu, &[], exit_status_for(HELLO_STATUS));
        s.expect = with_hello(before, during);
        scenarios.push(s);
    };
    program("program-hello-pc", kernel(Machine::Pc), &[BANNER, &multiboot_ready], &[]);
    program("program-hello-pvh-microvm", pvh(Machine::Microvm), &[BANNER, &pvh_ready], &[]);
    program(
        "memory-4M-pc",
        kernel(Machine::Pc).memory("4M"),
        &[r"^ingot: ready cores=1 mem=3MiB boot=multiboot$"],
        &[],
    );
    program(
        "memory-4M-pvh-microvm",
        pvh(Machine::Microvm).memory("4M"),
        &[r"^ingot: ready cores=1 mem=3MiB boot=pvh$"],
        &[],
    );
    program(
        "memory-8G-q35",
        kernel(Machine::Q35).memory("8G"),
        &[r"^ingot: ready cores=1 mem=819[01]MiB boot=multiboot$"],
        &[r"^hello: window base=0xffff800000000000 size=8[23]\d{5}KiB usable-ram=83\d{5}KiB$"],
    );
    program(
        "memory-8G-pvh-pc",
        pvh(Machine::Pc).memory("8G"),
        &[r"^ingot: ready cores=1 mem=819[01]MiB boot=pvh$"],
        &[],
    );

    scenarios.push(scenario(
        "cmdline-unknown-key",
        kernel(Machine::Microvm).append("colour=blue exit=qemu exit=sometimes"),
        &[
            BANNER,
            r"^ingot: cmdline: unknown key 'colour' ignored$",
            r"^ingot: cmdline: bad value 'sometimes' for 'exit' ignored$",
            &multiboot_ready,
        ],
        idle_exit,
    ));

    let fault = |name: &str, program: &str, expect: &[&str]| {
        let qemu = kernel(Machine::Pc).initrd(artifacts.program(program)).append("exit=qemu");
        scenario(name, qemu, expect, KERNEL_FAILURE)
    };
    scenarios.push(fault(
        "fault-divide-by-zero",
        "divide-by-zero",
        &[
            "^fault-probe: dividing by zero$",
            r"^ingot: exception divide-error rip=0xffff8000000[0-9a-f]{5} err=0x0 core=0$",
            r"^  rax=",
            r"^ingot: program faulted: divide-error at rip=0xffff8000000[0-9a-f]{5}; the program is ended, the kernel goes on$",
            r"^ingot: program ended by a fault status=255$",
        ],
    ));
    scenarios.push(fault(
        "fault-unmapped-address",
        "touch-unmapped",
        &[
            r"^fault-probe: reading 0x7f00dead0000$",
            r"^ingot: exception page-fault rip=0xffff8000000[0-9a-f]{5} err=0x0 cr2=0x7f00dead0000 core=0$",
            r"^  rax=",
            r"^ingot: program ended by a fault status=255$",
        ],
    ));
    scenarios
}
