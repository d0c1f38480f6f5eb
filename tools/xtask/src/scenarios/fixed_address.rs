//! Static C programs made by plain `musl-gcc -static`, which know nothing of Ingot: a
//! fixed-address executable at 0x400000, below the program window. The source is
//! written and built here, in the test, then booted on the direct path (Multiboot on
//! q35, where QEMU puts the module right after the kernel) and on microvm; its output
//! is computed from its arguments. Damaged copies (an entry point outside the image,
//! overlapping segments, segments where the kernel lies) must be refused with one line.

use std::fs;
use std::path::{Path, PathBuf};

use super::programs::{damaged, header, loads, put, word};
use super::{BANNER, KERNEL_FAILURE, exit_status_for, scenario};
use crate::build::{artifacts_in, output_dir};
use crate::harness::Scenario;
use crate::qemu::{Machine, QemuConfig};

/// printf, malloc/free, qsort, strtol, time, clock_gettime, nanosleep and getenv.
const SOURCE: &str = r#"#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long numbers[16];

static int compare(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int count = 0;
    for (int i = 1; i < argc && count < 16; i++) numbers[count++] = strtol(argv[i], NULL, 0);
    qsort(numbers, count, sizeof numbers[0], compare);
    printf("fixed: %s main=%p data=%p\n", argv[0], (void *)main, (void *)numbers);
    printf("fixed: sorted");
    for (int i = 0; i < count; i++) printf(" %ld", numbers[i]);
    printf("\n");
    char *blocks[64];
    size_t total = 0;
    for (int i = 0; i < 64; i++) {
        blocks[i] = malloc(1000 + i * 100);
        memset(blocks[i], i, 1000 + i * 100);
    }
    int intact = 1;
    for (int i = 0; i < 64; i++) {
        for (int j = 0; j < 1000 + i * 100; j++) intact &= blocks[i][j] == (char)i;
        total += 1000 + i * 100;
        free(blocks[i]);
    }
    printf("fixed: malloc bytes=%zu intact=%s\n", total, intact ? "yes" : "no");
    const char *home = getenv("HOME"), *missing = getenv("NO_SUCH_VARIABLE");
    printf("fixed: HOME=%s NO_SUCH_VARIABLE=%s\n", home, missing ? missing : "(none)");
    time_t now = time(NULL);
    struct timespec start, end, pause = {0, 3000000};
    clock_gettime(CLOCK_MONOTONIC, &start);
    nanosleep(&pause, NULL);
    clock_gettime(CLOCK_MONOTONIC, &end);
    long slept_us = (end.tv_sec - start.tv_sec) * 1000000L + (end.tv_nsec - start.tv_nsec) / 1000;
    printf("fixed: time=%s slept>=3ms=%s\n", now != (time_t)-1 ? "ok" : "failed",
           slept_us >= 3000 ? "yes" : "no");
    return count;
}
"#;

/// A fixed-address program of more than 3 MiB (its data is in the file): too large to
/// sit after the kernel where a Multiboot loader puts the module and clear of 0x400000.
const LARGE_SOURCE: &str = r#"#include <stdio.h>
static volatile char table[3 << 20] = {1, 2, 3};
int main(int argc, char **argv) {
    (void)argv;
    printf("large: table[%d]=%d of %zu bytes\n", argc, table[argc], sizeof table);
    return 0;
}
"#;

/// The arguments and what the program makes of them.
const ARGUMENTS: &str = "exit=qemu init=fixed 42 -7 0x10 1000 3";

/// The fixed-address scenarios.
pub fn scenarios() -> Vec<Scenario> {
    let elf = build();
    let kernel = artifacts_in(&output_dir()).kernel;
    let boot = |machine: Machine, program: &Path, append: &str| {
        QemuConfig::new(machine).kernel(&kernel).initrd(program).append(append.to_string())
    };
    let mut scenarios: Vec<Scenario> = [("q35", Machine::Q35), ("microvm", Machine::Microvm)]
        .into_iter()
        .map(|(name, machine)| {
            scenario(
                &format!("program-linux-fixed-address-{name}"),
                boot(machine, &elf, ARGUMENTS),
                &[
                    r"^ingot: memory 0x400000-0x4[0-9a-f]{5} set aside for the fixed-address program$",
                    r"^ingot: program elf executable entry=0x40[0-9a-f]{4} image=0x400000-0x4[0-9a-f]{5}$",
                    r"^fixed: fixed main=0x40[0-9a-f]{4} data=0x4[0-9a-f]{5}$",
                    "^fixed: sorted -7 3 16 42 1000$",
                    "^fixed: malloc bytes=265600 intact=yes$",
                    r"^fixed: HOME=/ NO_SUCH_VARIABLE=\(none\)$",
                    "^fixed: time=ok slept>=3ms=yes$",
                    "^ingot: program exited status=5$",
                ],
                exit_status_for(5),
            )
        })
        .collect();
    scenarios.push(through_run(&elf));
    scenarios.extend(large(&kernel));
    let original = fs::read(&elf).unwrap_or_default();
    let refused = r"^ingot: program not run: ELF file refused: ";
    for (name, damage, lines) in [
        (
            "entry-outside",
            (|elf| entry_outside(elf)) as fn(&mut Vec<u8>),
            [
                r"^ingot: memory 0x400000-0x4[0-9a-f]{5} set aside for the fixed-address program$"
                    .to_string(),
                format!("{refused}entry point 0x300000 is not in an executable loaded segment$"),
            ],
        ),
        (
            "overlap",
            |elf| overlap(elf),
            [BANNER.to_string(), format!(r"{refused}program headers \d and \d overlap in memory$")],
        ),
        (
            "kernel-addresses",
            |elf| onto_kernel(elf),
            [
                r"^ingot: cannot set aside 0x100000-0x1[0-9a-f]{5} for the fixed-address program: that is not all free RAM$".to_string(),
                format!(
                    r"{refused}program header \d: 0x[0-9a-f]+ bytes at 0x100000 do not fit the program window"
                ),
            ],
        ),
    ] {
        let path = damaged(&original, &format!("fixed-{name}"), damage);
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        scenarios.push(scenario(
            &format!("program-linux-fixed-address-bad-{name}"),
            boot(Machine::Q35, &path, "exit=qemu"),
            &lines,
            KERNEL_FAILURE,
        ));
    }
    scenarios
}

/// The large program: through PVH (QEMU puts the module at the top of RAM) it runs;
/// through Multiboot its own module covers 0x400000, which the kernel says.
fn large(kernel: &Path) -> [Scenario; 2] {
    let elf = build_named("fixed-musl-large", LARGE_SOURCE);
    let pvh = kernel.with_file_name("kernel-pvh.elf");
    let boot = |kernel: &Path| {
        QemuConfig::new(Machine::Q35).kernel(kernel).initrd(&elf).append("exit=qemu init=large")
    };
    [
        scenario(
            "program-linux-fixed-address-large-pvh",
            boot(&pvh),
            &[
                r"^ingot: memory 0x400000-0x7[0-9a-f]{5} set aside for the fixed-address program$",
                "^large: table\\[1\\]=2 of 3145728 bytes$",
                "^ingot: program exited status=0$",
            ],
            exit_status_for(0),
        ),
        scenario(
            "program-linux-fixed-address-large-multiboot-refused",
            boot(kernel),
            &[
                r"^ingot: cannot set aside 0x400000-0x7[0-9a-f]{5} for the fixed-address program: the boot module itself lies there \(0x1[0-9a-f]{5}-0x4[0-9a-f]{5}; a Multiboot loader puts it right after the kernel\): boot through PVH \(cargo xtask run --pvh\)$",
                r"^ingot: program not run: ELF file refused: ",
            ],
            KERNEL_FAILURE,
        ),
    ]
}

/// `cargo xtask run --program PATH` with the built file's path, turned into QEMU's
/// configuration by the code `run` uses: what a user types after building it.
fn through_run(elf: &Path) -> Scenario {
    let name = "run-program-path-musl-gcc-static";
    let path = elf.display().to_string();
    let args = ["--program", path.as_str(), "--append", "exit=qemu init=fixed 3 1 2"];
    let image = output_dir().join(format!("{name}.img"));
    let artifacts = artifacts_in(&output_dir());
    let config = crate::cli::parse_run(&args)
        .and_then(|options| crate::run::qemu_config(&options, &artifacts, &image))
        .unwrap_or_else(|error| {
            // The scenario then fails on the missing program, with this message above it.
            eprintln!("xtask: {name}: cargo xtask run {}: {error}", args.join(" "));
            QemuConfig::new(Machine::Q35).kernel(&artifacts.kernel)
        });
    scenario(
        name,
        config,
        &["^fixed: sorted 1 2 3$", "^ingot: program exited status=3$"],
        exit_status_for(3),
    )
}

/// Writes the source and links it with plain `musl-gcc -static`, no other option.
fn build() -> PathBuf {
    build_named("fixed-musl", SOURCE)
}

/// Writes `source` as `<name>/<name>.c` under the output directory and links it with
/// plain `musl-gcc -static` into `<name>.elf`.
fn build_named(name: &str, source: &str) -> PathBuf {
    let dir = output_dir().join(name);
    let elf = output_dir().join(format!("{name}.elf"));
    let path = dir.join(format!("{name}.c"));
    let written = fs::create_dir_all(&dir).and_then(|()| fs::write(&path, source));
    if let Err(error) = written {
        eprintln!("xtask: cannot write {}: {error}", path.display());
    }
    let status = std::process::Command::new("musl-gcc")
        .arg("-static")
        .arg("-o")
        .arg(&elf)
        .arg(&path)
        .status();
    if !status.as_ref().is_ok_and(|status| status.success()) {
        eprintln!("xtask: musl-gcc -static failed ({status:?}); is musl-tools installed?");
    }
    elf
}

/// The entry point moved below the image (where the kernel's own memory is).
fn entry_outside(elf: &mut [u8]) {
    put(elf, 24, 0x30_0000);
}

/// The first segment grown by a page in memory, over the second one.
fn overlap(elf: &mut [u8]) {
    let first = header(loads(elf)[0]);
    let bytes = word(elf, first + 40);
    put(elf, first + 40, bytes + 0x1000);
}

/// Every segment and the entry moved down by 3 MiB: onto the kernel at 1 MiB.
fn onto_kernel(elf: &mut [u8]) {
    const SHIFT: u64 = 0x30_0000;
    let entry = word(elf, 24);
    put(elf, 24, entry - SHIFT);
    for index in loads(elf) {
        let address = word(elf, header(index) + 16);
        put(elf, header(index) + 16, address - SHIFT);
        put(elf, header(index) + 24, address - SHIFT);
    }
}
