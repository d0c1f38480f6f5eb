//! Programs beyond the flat binary: ELF files (the linker's own output for `hello` and
//! `echo`), arguments from `init=NAME ARGS...`, the SDK's heap, ELF files damaged on the
//! host that must be refused with one clear line, and a fault that ends the program
//! while the kernel goes on (it then powers the machine off, which only a live kernel
//! can do).

use std::fs;
use std::path::{Path, PathBuf};

use super::{BANNER, KERNEL_FAILURE, exit_status_for, ready, scenario};
use crate::build::{Artifacts, output_dir};
use crate::harness::Scenario;
use crate::qemu::{Machine, QemuConfig};

/// The kernel line for a refused ELF file.
const REFUSED: &str = r"^ingot: program not run: ELF file refused: ";

/// The program scenarios.
pub fn scenarios(artifacts: &Artifacts) -> Vec<Scenario> {
    let boot = |program: &Path, append: &str| {
        QemuConfig::new(Machine::Microvm)
            .kernel(&artifacts.kernel)
            .initrd(program)
            .append(append.to_string())
    };
    let mut scenarios = vec![
        scenario(
            "program-elf-hello",
            boot(&artifacts.program_elf("hello"), "exit=qemu"),
            &[
                &ready("multiboot"),
                r"^ingot: program elf executable entry=0xffff800000000000 image=0xffff800000000000-0xffff8000000[0-9a-f]{5}$",
                "^hello from an Ingot program$",
                "^hello: bad pointers refused=true$",
                "^ingot: program exited status=42$",
            ],
            exit_status_for(42),
        ),
        echo("program-args-flat", boot(&artifacts.program("echo"), ECHO_LINE)),
        echo("program-args-elf", boot(&artifacts.program_elf("echo"), ECHO_LINE)),
        scenario(
            "program-args-none",
            boot(&artifacts.program("echo"), "exit=qemu"),
            &["^echo: argc=1$", "^echo: argv\\[0\\]=init$", "^echo: joined=\"\" total-length=0$"],
            exit_status_for(1),
        ),
    ];
    for (name, program) in [
        ("program-c-hello-flat", artifacts.program("hello-c")),
        ("program-c-hello-elf", artifacts.program_elf("hello-c")),
    ] {
        scenarios.push(scenario(
            name,
            boot(&program, "exit=qemu init=hello-c first second"),
            &[
                "^hello from C$",
                "^hello-c: argv\\[0\\]=hello-c$",
                "^hello-c: argv\\[2\\]=second$",
                r"^hello-c: window base=0xffff800000000000 size=\d+KiB$",
                "^hello-c: bad pointer refused=true$",
                "^hello-c: malloc blocks=100 intact=true reused=true$",
                "^hello-c: delay 1000us took>=1ms=true$",
                "^ingot: program exited status=42$",
            ],
            exit_status_for(42),
        ));
    }
    scenarios.push(scenario(
        "program-cpp-hello",
        boot(&artifacts.program_elf("hello-cpp"), "exit=qemu init=hello-cpp"),
        &[
            "^hello from C\\+\\+$",
            r"^hello-cpp: globals constructed=2 \(first, second\)$",
            "^hello-cpp: areas=53$",
            "^hello-cpp: template stack sum=36$",
            "^hello-cpp: new\\[\\] numbers\\[15\\]=225 argc=1 argv\\[0\\]=hello-cpp$",
            "^ingot: program exited status=42$",
        ],
        exit_status_for(42),
    ));
    scenarios.push(scenario(
        "program-linux-musl-demo",
        boot(&artifacts.program_elf("musl-demo"), "exit=qemu init=musl-demo alpha beta"),
        &[
            r"^ingot: program elf pie entry=0xffff8000000[0-9a-f]{5} ",
            "^ingot: program is a Linux program: system calls through syscall$",
            "^musl: hello from musl-demo, argc=3$",
            "^musl: argv\\[2\\]=beta$",
            r"^musl: HOME=/ MISSING=\(none\)$",
            "^musl: sorted -250 -7 3 8 17 31 42 1000$",
            "^musl: malloc intact=yes snprintf=formatted-7-2.50$",
            "^musl: time\\(\\) works=yes slept>=2ms=yes$",
            "^musl: bad pointer write=-1 EFAULT, bad fd write=-1 EBADF$",
            "^ingot: linux: system call 999 not implemented \\(ENOSYS\\)$",
            "^musl: unknown system call returned -1 errno=ENOSYS$",
            "^ingot: program exited status=13$",
        ],
        exit_status_for(13),
    ));
    let mut bad_arguments = scenario(
        "program-linux-bad-arguments",
        boot(&artifacts.program_elf("linux-bad-args"), "exit=qemu"),
        &[
            "^ingot: linux: system call 500 not implemented \\(ENOSYS\\)$",
            "^bad-args: 23 checks, 0 failed, still running$",
            "^ingot: program exited status=0$",
        ],
        exit_status_for(0),
    );
    // The program makes the unknown call twice; the kernel reports it once.
    bad_arguments.host_check = Some(Box::new(|log| {
        let reports = log.lines().filter(|line| line.contains("system call 500 not")).count();
        if reports == 1 { Ok(()) } else { Err(format!("call 500 reported {reports} times")) }
    }));
    scenarios.push(bad_arguments);
    scenarios.push(plain_musl_program());
    scenarios.extend(super::fixed_address::scenarios());
    let hello_elf = fs::read(artifacts.program_elf("hello")).unwrap_or_default();
    for (name, damage, why) in [
        (
            "truncated",
            truncate as fn(&mut Vec<u8>),
            "truncated: the file ends inside its segment data$",
        ),
        ("overlap", |elf| overlap(elf), r"program headers \d and \d overlap in memory$"),
        (
            "entry-outside",
            |elf| entry_outside(elf),
            r"entry point 0xffff800010000000 is not in an executable loaded segment$",
        ),
        (
            "huge-segment",
            |elf| huge_segment(elf),
            r"program header \d: 0x1000000000 bytes at 0xffff8000000[0-9a-f]{5} do not fit the program window \(link a fixed-address program at 0xffff800000000000, or as a static PIE\)$",
        ),
        (
            "not-x86-64",
            |elf| other_machine(elf),
            r"bad ELF header: machine \(62 = x86-64\) = 0xb7$",
        ),
    ] {
        let path = damaged(&hello_elf, name, damage);
        let line = format!("{REFUSED}{why}");
        scenarios.push(scenario(
            &format!("program-elf-bad-{name}"),
            boot(&path, "exit=qemu"),
            &[BANNER, &line],
            KERNEL_FAILURE,
        ));
    }
    // A page fault in the program ends it; the kernel then powers off through ACPI.
    let mut fault = scenario(
        "program-fault-kernel-goes-on",
        QemuConfig::new(Machine::Q35)
            .kernel(&artifacts.kernel)
            .initrd(artifacts.program("touch-unmapped"))
            .append("exit=shutdown"),
        &[
            r"^fault-probe: reading 0x7f00dead0000$",
            r"^ingot: exception page-fault rip=0xffff8000000[0-9a-f]{5} err=0x0 cr2=0x7f00dead0000 core=0$",
            r"^ingot: program faulted: page-fault at rip=0xffff8000000[0-9a-f]{5}; the program is ended, the kernel goes on$",
            r"^ingot: program ended by a fault status=255$",
            r"^ingot: shutting down$",
        ],
        0,
    );
    fault.forbid = vec!["ingot: panic".into(), "ingot: fatal".into()];
    scenarios.push(fault);
    scenarios
}

/// A plain C source that knows nothing of Ingot, written and built here with musl as a
/// static PIE, then booted: its output (computed from its input) is checked.
fn plain_musl_program() -> Scenario {
    const SOURCE: &str = r#"#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
    unsigned long sum = 0;
    for (int i = 1; i < argc; i++) sum += strtoul(argv[i], NULL, 10);
    char *copy = strdup(argv[0]);
    printf("plain: %s sum=%lu length=%zu\n", copy, sum, strlen(copy));
    free(copy);
    return 0;
}
"#;
    let dir = output_dir().join("plain-musl");
    let elf = output_dir().join("plain-musl.elf");
    let built = fs::create_dir_all(&dir)
        .and_then(|()| fs::write(dir.join("plain.c"), SOURCE))
        .map_err(|e| e.to_string())
        .and_then(|()| {
            let program = crate::c_programs::CProgram {
                name: "plain-musl".into(),
                sources: vec![dir.join("plain.c")],
                linux: true,
            };
            crate::c_programs::build_linux(&program, &elf)
        });
    if let Err(error) = built {
        eprintln!("xtask: cannot build the plain musl program: {error}");
    }
    scenario(
        "program-linux-plain-c",
        QemuConfig::new(Machine::Microvm)
            .kernel(&crate::build::artifacts_in(&output_dir()).kernel)
            .initrd(elf)
            .append("exit=qemu init=plain 40 2 100"),
        &["^plain: plain sum=142 length=5$", "^ingot: program exited status=0$"],
        exit_status_for(0),
    )
}

/// The command line of the argument scenarios: kernel options, then the program's
/// words, one of them quoted and one looking like a kernel option.
const ECHO_LINE: &str = r#"exit=qemu init=echo one "two words" exit=stay"#;

fn echo(name: &str, qemu: QemuConfig) -> Scenario {
    scenario(
        name,
        qemu,
        &[
            "^echo: argc=4$",
            "^echo: argv\\[0\\]=echo$",
            "^echo: argv\\[1\\]=one$",
            "^echo: argv\\[2\\]=two words$",
            "^echo: argv\\[3\\]=exit=stay$",
            "^echo: joined=\"one two words exit=stay\" total-length=21$",
            r"^echo: heap blocks=\d+ intact=true$",
            "^ingot: program exited status=4$",
        ],
        exit_status_for(4),
    )
}

/// Writes a damaged copy of `elf` to `target/ingot/elf-<name>.elf`.
pub(super) fn damaged(elf: &[u8], name: &str, damage: fn(&mut Vec<u8>)) -> PathBuf {
    let path = output_dir().join(format!("elf-{name}.elf"));
    let mut bytes = elf.to_vec();
    if bytes.len() >= 64 + 2 * 56 {
        damage(&mut bytes);
    }
    if let Err(error) = fs::write(&path, &bytes) {
        eprintln!("xtask: cannot write {}: {error}", path.display());
    }
    path
}

pub(super) fn word(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or_default())
}

pub(super) fn put(bytes: &mut [u8], at: usize, value: u64) {
    bytes[at..at + 8].copy_from_slice(&value.to_le_bytes());
}

/// Program header `index`'s byte offset in the file.
pub(super) fn header(index: usize) -> usize {
    64 + index * 56
}

/// Cut inside the first segment's bytes.
fn truncate(elf: &mut Vec<u8>) {
    let end = word(elf, header(0) + 8) + 16;
    elf.truncate(end as usize);
}

/// Indices of the `PT_LOAD` program headers.
pub(super) fn loads(elf: &[u8]) -> Vec<usize> {
    let count = u16::from_le_bytes([elf[56], elf[57]]) as usize;
    (0..count).filter(|&i| elf.get(header(i)..header(i) + 4) == Some(&[1, 0, 0, 0])).collect()
}

/// The first segment grown by a page in memory, over the second one.
fn overlap(elf: &mut [u8]) {
    let first = header(loads(elf)[0]);
    let bytes = word(elf, first + 40);
    put(elf, first + 40, bytes + 0x1000);
}

fn entry_outside(elf: &mut [u8]) {
    put(elf, 24, 0xFFFF_8000_1000_0000);
}

/// The last segment (`.bss`) grown to 64 GiB.
fn huge_segment(elf: &mut [u8]) {
    if let Some(&last) = loads(elf).last() {
        put(elf, header(last) + 40, 0x10_0000_0000);
    }
}

fn other_machine(elf: &mut [u8]) {
    elf[18] = 0xB7;
}
