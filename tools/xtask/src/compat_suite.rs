//! Builds the BareMetal compatibility suite (`tools/compat-suite/`) with Debian's nasm,
//! gcc and binutils into flat programs beside the Rust ones:
//! - `compat-suite.bin`: `suite.asm` + `checks.c`, linked at 0xFFFF800000000000 by
//!   `link.ld` and flattened with objcopy, as BareMetal's own C programs are built;
//! - `baremetal-hello.bin`: `hello.asm`, BareMetal's hello program unchanged
//!   (`nasm -f bin`, `ORG 0xFFFF800000000000`);
//! - `baremetal-reboot.bin`: `reboot.asm`, REBOOT through `b_system`;
//! - `baremetal-examples-c.bin`: `examples.c`, the C examples of `docs/api.md`'s
//!   BareMetal section, built like `checks.c` and linked alone.

use std::path::Path;
use std::process::Command;

use crate::build::workspace_root;

/// Flags for C code in a BareMetal program: freestanding, no red zone (the kernel's
/// entry stubs push on the caller's stack), no SSE (the kernel does not save it), and
/// the large code model because the program lives at 0xFFFF800000000000, outside the
/// ±2 GiB the small and kernel models reach.
pub const C_FLAGS: &[&str] = &[
    "-O2",
    "-ffreestanding",
    "-fno-builtin",
    "-nostdlib",
    "-fno-pic",
    "-fno-pie",
    "-mcmodel=large",
    "-mno-red-zone",
    "-mgeneral-regs-only",
    "-fno-stack-protector",
    "-Wall",
    "-Wextra",
    "-Werror",
];

fn run(command: &mut Command) -> Result<(), String> {
    let shown = format!("{command:?}");
    let status = command.status().map_err(|error| format!("cannot run {shown}: {error}"))?;
    if status.success() { Ok(()) } else { Err(format!("{shown} failed")) }
}

/// Builds both programs into `programs` (the directory of `<name>.bin` files).
pub fn build(programs: &Path) -> Result<(), String> {
    let source = workspace_root().join("tools/compat-suite");
    let work = programs.join("compat-suite-objects");
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    let include = format!("-I{}/", source.display());
    let suite_object = work.join("suite.o");
    let checks_object = work.join("checks.o");
    let elf = work.join("compat-suite.elf");
    run(Command::new("nasm")
        .args(["-f", "elf64", "-w+error=all", &include])
        .arg(source.join("suite.asm"))
        .arg("-o")
        .arg(&suite_object))?;
    run(Command::new("gcc")
        .args(C_FLAGS)
        .arg("-c")
        .arg(source.join("checks.c"))
        .arg("-o")
        .arg(&checks_object))?;
    run(Command::new("ld")
        .args(["-nostdlib", "--no-pie", "-z", "noexecstack", "--no-warn-rwx-segments", "-T"])
        .arg(source.join("link.ld"))
        .arg("-o")
        .arg(&elf)
        .arg(&suite_object)
        .arg(&checks_object))?;
    run(Command::new("objcopy")
        .args(["-O", "binary"])
        .arg(&elf)
        .arg(programs.join("compat-suite.bin")))?;
    let examples_object = work.join("examples.o");
    let examples_elf = work.join("baremetal-examples-c.elf");
    run(Command::new("gcc")
        .args(C_FLAGS)
        .arg(&include)
        .arg("-c")
        .arg(source.join("examples.c"))
        .arg("-o")
        .arg(&examples_object))?;
    run(Command::new("ld")
        .args(["-nostdlib", "--no-pie", "-z", "noexecstack", "--no-warn-rwx-segments", "-T"])
        .arg(source.join("link.ld"))
        .arg("-o")
        .arg(&examples_elf)
        .arg(&examples_object))?;
    run(Command::new("objcopy")
        .args(["-O", "binary"])
        .arg(&examples_elf)
        .arg(programs.join("baremetal-examples-c.bin")))?;
    for (source_name, program) in
        [("hello.asm", "baremetal-hello.bin"), ("reboot.asm", "baremetal-reboot.bin")]
    {
        run(Command::new("nasm")
            .args(["-f", "bin", "-w+error=all", &include])
            .arg(source.join(source_name))
            .arg("-o")
            .arg(programs.join(program)))?;
    }
    Ok(())
}
