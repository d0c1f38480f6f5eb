//! Scenarios for the kernel's own protection against program mistakes: stack guard
//! pages (program stack and a core's kernel stack) and callee-saved registers that a
//! program or task returns with overwritten.
//!
//! The stack-overflow scenario also checks, on the host, that the reported fault
//! address lies in the 4 KiB directly below the stack the program printed: the first
//! write past the stack faulted, so nothing below the guard page was overwritten.

use regex::Regex;

use super::{BANNER, KERNEL_FAILURE, exit_status_for, ready, scenario};
use crate::build::Artifacts;
use crate::harness::Scenario;
use crate::qemu::{Machine, QemuConfig};

/// The status `clobber-registers` returns (`apps/fault-probe/src/clobber_registers.rs`).
const CLOBBER_STATUS: u8 = 7;
/// Size of a guard page.
const GUARD_BYTES: u64 = 4096;

/// The guard-page and register-preservation scenarios.
pub fn scenarios(artifacts: &Artifacts) -> Vec<Scenario> {
    let probe = |machine, cores, program: &str| {
        QemuConfig::new(machine)
            .cores(cores)
            .kernel(&artifacts.kernel)
            .initrd(artifacts.program(program))
            .append("exit=qemu")
    };
    let mut scenarios = Vec::new();

    let mut overflow = scenario(
        "stack-overflow-program",
        probe(Machine::Pc, 1, "stack-overflow"),
        &[
            BANNER,
            &ready("multiboot"),
            r"^fault-probe: recursing from stack top=0x[0-9a-f]+ stack bottom=0x[0-9a-f]+$",
            r"^ingot: exception stack overflow core=0 addr=0x[0-9a-f]+$",
            r"^ingot: exception double-fault ",
        ],
        KERNEL_FAILURE,
    );
    overflow.host_check = Some(Box::new(fault_below_program_stack));
    scenarios.push(overflow);

    scenarios.push(scenario(
        "stack-overflow-core-1",
        probe(Machine::Q35, 2, "core-stack-overflow"),
        &[
            BANNER,
            r"^ingot: ready cores=2 ",
            r"^fault-probe: recursing on core 1$",
            r"^ingot: exception stack overflow core=1 addr=0x[0-9a-f]+$",
        ],
        KERNEL_FAILURE,
    ));

    for (machine, cores) in [(Machine::Pc, 1), (Machine::Q35, 2)] {
        let name = format!("registers-clobbered-{}-{cores}", machine.name());
        let mut s = scenario(
            &name,
            probe(machine, cores, "clobber-registers"),
            &[
                BANNER,
                &ready("multiboot"),
                r"^fault-probe: clobbering callee-saved registers$",
                r"^fault-probe: task with clobbered registers ran$",
                &format!("^ingot: program exited status={CLOBBER_STATUS}$"),
            ],
            exit_status_for(CLOBBER_STATUS),
        );
        s.forbid.push("fault-probe: task not queued".into());
        scenarios.push(s);
    }
    scenarios
}

/// The fault address must lie in the page directly below the stack the probe printed.
fn fault_below_program_stack(log: &str) -> Result<(), String> {
    let hex = |pattern: &str| -> Result<u64, String> {
        let captures = Regex::new(pattern)
            .expect("valid pattern")
            .captures(log)
            .ok_or_else(|| format!("no line matching {pattern}"))?;
        u64::from_str_radix(&captures[1], 16).map_err(|error| error.to_string())
    };
    let bottom = hex(r"stack bottom=0x([0-9a-f]+)")?;
    let fault = hex(r"ingot: exception stack overflow core=0 addr=0x([0-9a-f]+)")?;
    if fault < bottom - GUARD_BYTES || fault >= bottom {
        return Err(format!(
            "fault at {fault:#x} is not in the guard page [{:#x}, {bottom:#x}) below the stack",
            bottom - GUARD_BYTES
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::fault_below_program_stack;

    fn log(fault: &str) -> String {
        format!(
            "fault-probe: recursing from stack top=0xffff800007a89000 stack bottom=0xffff800007a79000\n\
             ingot: exception stack overflow core=0 addr={fault}\n"
        )
    }

    #[test]
    fn only_a_fault_in_the_page_below_the_stack_passes() {
        assert!(fault_below_program_stack(&log("0xffff800007a78fa8")).is_ok());
        assert!(fault_below_program_stack(&log("0xffff800007a78000")).is_ok());
        assert!(fault_below_program_stack(&log("0xffff800007a77ff8")).is_err());
        assert!(fault_below_program_stack(&log("0xffff800007a79000")).is_err());
        assert!(fault_below_program_stack("no lines at all").is_err());
    }
}
