//! C and C++ programs: every directory under `apps/c/` that holds `.c` or `.cpp` files
//! is one program, named after the directory (`apps/c` is outside the Cargo workspace),
//! built with Debian's
//! `gcc`/`g++` against the C SDK (`sdk/c`) into `<name>.elf` and the flat `<name>.bin`.
//! The flags are explained in `docs/api.md` ("Writing a program").

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::build::{output_dir, workspace_root};

/// Flags for every C and C++ file: freestanding, position-independent code (so it runs
/// at `0xFFFF_8000_0000_0000`, outside the small and kernel code models' reach, with
/// RIP-relative addressing), no red zone (exceptions use the program's stack), no SSE
/// (the kernel does not save vector registers), no stack protector or unwind tables,
/// and no memset-from-loop rewriting (the SDK's `memset` would call itself).
pub const COMMON_FLAGS: &[&str] = &[
    "-O2",
    "-ffreestanding",
    "-fno-stack-protector",
    "-fpie",
    "-mno-red-zone",
    "-mgeneral-regs-only",
    "-fno-asynchronous-unwind-tables",
    "-fno-tree-loop-distribute-patterns",
    "-Wall",
    "-Wextra",
    "-Werror",
];
/// C dialect.
pub const C_FLAGS: &[&str] = &["-std=c11"];
/// C++ dialect and what freestanding C++ leaves out.
pub const CXX_FLAGS: &[&str] = &[
    "-std=c++17",
    "-fno-exceptions",
    "-fno-rtti",
    "-fno-threadsafe-statics",
    "-fno-use-cxa-atexit",
];
/// The C SDK's own sources, linked into every C program (`cxx.cpp` into C++ ones).
const SDK_C_SOURCES: &[&str] = &["start.c", "console.c", "memory.c"];

/// One C or C++ program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CProgram {
    /// The directory's name.
    pub name: String,
    /// Its `.c` and `.cpp` files, sorted.
    pub sources: Vec<PathBuf>,
    /// A Linux program (`apps/linux`), linked against musl.
    pub linux: bool,
}

impl CProgram {
    /// Whether any source is C++ (then `g++` links it, with the SDK's C++ support).
    pub fn is_cxx(&self) -> bool {
        self.sources.iter().any(|source| source.extension().is_some_and(|e| e == "cpp"))
    }
}

/// Every C or C++ program under `apps/c/` and `apps/linux/`.
pub fn c_programs() -> Vec<CProgram> {
    let mut programs = programs_in("apps/c", false);
    programs.extend(programs_in("apps/linux", true));
    programs
}

fn programs_in(folder: &str, linux: bool) -> Vec<CProgram> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(workspace_root().join(folder))
        .map(|entries| entries.filter_map(Result::ok).map(|entry| entry.path()).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs.into_iter()
        .filter_map(|dir| {
            let mut sources: Vec<PathBuf> = fs::read_dir(&dir)
                .ok()?
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|e| e == "c" || e == "cpp"))
                .collect();
            sources.sort();
            let name = dir.file_name()?.to_str()?.to_string();
            (!sources.is_empty()).then_some(CProgram { name, sources, linux })
        })
        .collect()
}

/// Where Debian's musl-dev puts musl's static library and start files.
pub const MUSL_LIB: &str = "/usr/lib/x86_64-linux-musl";

/// Compiles and links `program` into `elf`.
pub fn build(program: &CProgram, elf: &Path) -> Result<(), String> {
    if program.linux {
        return build_linux(program, elf);
    }
    let sdk = workspace_root().join("sdk/c");
    let objects_dir = output_dir().join("c-build").join(&program.name);
    fs::create_dir_all(&objects_dir)
        .map_err(|e| format!("cannot create {}: {e}", objects_dir.display()))?;
    let mut sources: Vec<PathBuf> = SDK_C_SOURCES.iter().map(|file| sdk.join(file)).collect();
    if program.is_cxx() {
        sources.push(sdk.join("cxx.cpp"));
    }
    sources.extend(program.sources.iter().cloned());
    let mut objects = Vec::new();
    for (index, source) in sources.iter().enumerate() {
        let cxx = source.extension().is_some_and(|e| e == "cpp");
        let stem = source.file_stem().and_then(|s| s.to_str()).unwrap_or("source");
        let object = objects_dir.join(format!("{index}-{stem}.o"));
        let mut command = Command::new(if cxx { "g++" } else { "gcc" });
        command
            .args(COMMON_FLAGS)
            .args(if cxx { CXX_FLAGS } else { C_FLAGS })
            .arg("-I")
            .arg(sdk.join("include"))
            .arg("-c")
            .arg(source)
            .arg("-o")
            .arg(&object);
        run(&mut command, &format!("compiling {}", source.display()))?;
        objects.push(object);
    }
    let mut link = Command::new(if program.is_cxx() { "g++" } else { "gcc" });
    link.args(["-nostdlib", "-static", "-no-pie"])
        .arg("-T")
        .arg(sdk.join("program.ld"))
        .args(["-Wl,--build-id=none", "-Wl,-z,max-page-size=0x1000", "-Wl,-z,noexecstack"])
        .args(&objects)
        .arg("-lgcc")
        .arg("-o")
        .arg(elf);
    run(&mut link, &format!("linking {}", elf.display()))
}

/// A Linux program: `musl-gcc -fPIE`, then linked as a static PIE by hand
/// (`rcrt1.o crti.o … libc.a crtn.o`), since Debian's `musl-gcc -static-pie` asks for a
/// dynamic linker. SSE is allowed: the kernel enables it for Linux programs.
pub fn build_linux(program: &CProgram, elf: &Path) -> Result<(), String> {
    let objects_dir = output_dir().join("c-build").join(&program.name);
    fs::create_dir_all(&objects_dir)
        .map_err(|e| format!("cannot create {}: {e}", objects_dir.display()))?;
    let mut objects = Vec::new();
    for (index, source) in program.sources.iter().enumerate() {
        let object = objects_dir.join(format!("{index}.o"));
        let mut command = Command::new("musl-gcc");
        command.args(["-O2", "-fPIE", "-Wall", "-Werror", "-c"]).arg(source).arg("-o").arg(&object);
        run(&mut command, &format!("compiling {} (install musl-tools)", source.display()))?;
        objects.push(object);
    }
    let musl = Path::new(MUSL_LIB);
    let mut link = Command::new("gcc");
    link.args(["-static-pie", "-nostdlib", "-nostartfiles"])
        .arg(musl.join("rcrt1.o"))
        .arg(musl.join("crti.o"))
        .args(&objects)
        .arg(musl.join("libc.a"))
        .arg(musl.join("crtn.o"))
        .arg("-lgcc")
        .arg("-o")
        .arg(elf);
    run(&mut link, &format!("linking {} (install musl-dev)", elf.display()))
}

fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let status = command.status().map_err(|e| {
        format!("{what}: cannot run {:?} ({e}); install gcc and g++", command.get_program())
    })?;
    if status.success() { Ok(()) } else { Err(format!("{what} failed")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_and_cxx_programs_are_found() {
        let programs = c_programs();
        let hello_c = programs.iter().find(|p| p.name == "hello-c").expect("hello-c");
        assert!(!hello_c.is_cxx());
        assert!(hello_c.sources.iter().any(|s| s.ends_with("main.c")));
        let hello_cpp = programs.iter().find(|p| p.name == "hello-cpp").expect("hello-cpp");
        assert!(hello_cpp.is_cxx());
        assert!(programs.iter().all(|p| p.name != "hello"), "Rust programs are not C ones");
        let musl = programs.iter().find(|p| p.name == "musl-demo").expect("musl-demo");
        assert!(musl.linux && !hello_c.linux);
    }
}
