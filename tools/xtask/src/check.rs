//! `cargo xtask check`: formatting, clippy with warnings as errors, the SDK's
//! documentation without warnings, and the unsafe allow-list.
//!
//! The allow-list is the architecture's unsafe policy made executable: only the crates
//! in [`UNSAFE_ALLOWED`] may contain `unsafe`; every other crate root must say
//! `#![forbid(unsafe_code)]`; and in the allowed crates every `unsafe` block or impl
//! must carry a `// SAFETY:` comment right above it.

use std::fs;
use std::path::{Path, PathBuf};

use crate::build::{cargo, workspace_root};

/// Crate directories allowed to contain `unsafe`, with the reason.
pub const UNSAFE_ALLOWED: &[(&str, &str)] = &[
    ("boot/direct", "entry stub, exported entry symbol, fixed-address sections"),
    ("boot/uefi", "copies the kernel to 1 MiB and jumps to it after exit_boot_services"),
    ("boot/bios", "the BIOS boot sector and stage 2 are 16-bit global_asm (unsafe to the lint)"),
    ("crates/arch-x86_64", "CPU instructions: descriptor tables, control registers, port I/O"),
    ("crates/platform", "hardware-access implementations, heap, program memory"),
    ("sdk/ingot", "program entry shim and calls through the kernel's function table"),
    ("apps/fault-probe", "test programs that execute faulting instructions on purpose"),
];

/// Runs every check; fails on the first that does not hold.
pub fn check() -> Result<(), String> {
    cargo(&["fmt", "--all", "--check"])?;
    let workspace = crate::workspace::workspace()?;
    let mut host = vec!["clippy", "--all-targets"];
    for package in &workspace.host_crates {
        host.extend(["-p", package]);
    }
    host.extend(["--", "-D", "warnings"]);
    cargo(&host)?;
    let mut machine = vec!["clippy", "--release", "--target", "x86_64-unknown-none"];
    for package in &workspace.machine_packages {
        machine.extend(["-p", package]);
    }
    machine.extend(["--", "-D", "warnings"]);
    cargo(&machine)?;
    sdk_docs()?;
    let problems = audit_unsafe(&workspace_root())?;
    if problems.is_empty() {
        println!(
            "unsafe audit: only the allow-listed crates contain unsafe, every block has a SAFETY comment"
        );
        Ok(())
    } else {
        Err(format!("unsafe audit failed:\n  {}", problems.join("\n  ")))
    }
}

/// `cargo doc` of the Rust SDK for the machine, every rustdoc warning an error (its
/// examples are checked against the example programs by `sdk_examples.rs`).
fn sdk_docs() -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let args = ["doc", "-p", "ingot-sdk", "--no-deps", "--target", "x86_64-unknown-none"];
    let status = std::process::Command::new(cargo)
        .args(args)
        .env("RUSTDOCFLAGS", "-D warnings")
        .current_dir(workspace_root())
        .status()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if status.success() { Ok(()) } else { Err(format!("cargo {} failed", args.join(" "))) }
}

/// Crate directories of the workspace (each has a Cargo.toml with a `src/`).
fn crate_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() && name != "target" && !name.to_string_lossy().starts_with('.') {
                if path.join("Cargo.toml").exists() && path.join("src").is_dir() {
                    dirs.push(path.clone());
                }
                pending.push(path);
            }
        }
    }
    dirs.sort();
    dirs
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// The code part of every line: string literals blanked (also across lines), line
/// comments dropped.
fn code_lines(source: &str) -> Vec<String> {
    let mut in_string = false;
    source
        .lines()
        .map(|line| {
            let mut code = String::new();
            let mut chars = line.chars().peekable();
            while let Some(c) = chars.next() {
                match (in_string, c) {
                    (true, '\\') => {
                        chars.next();
                    }
                    (true, '"') => in_string = false,
                    (true, _) => {}
                    (false, '"') => in_string = true,
                    (false, '/') if chars.peek() == Some(&'/') => break,
                    (false, c) => code.push(c),
                }
            }
            code
        })
        .collect()
}

/// Lines that use `unsafe` as a keyword (not in comments, strings or the lint name).
fn unsafe_lines(source: &str) -> Vec<usize> {
    code_lines(source)
        .iter()
        .enumerate()
        .filter(|(_, code)| {
            code.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|word| word == "unsafe")
        })
        .map(|(index, _)| index)
        .collect()
}

/// Whether the `unsafe` on line `index` needs a SAFETY comment (blocks and impls do;
/// `unsafe fn` declarations carry `# Safety` docs instead; attributes and extern blocks don't).
fn needs_safety_comment(code: &str) -> bool {
    code.contains("unsafe {") || code.contains("unsafe impl") || code.trim_end().ends_with("unsafe")
}

fn has_safety_comment(lines: &[&str], index: usize) -> bool {
    let mut at = index;
    if lines[index].contains("// SAFETY:") {
        return true;
    }
    while at > 0 {
        at -= 1;
        let line = lines[at].trim();
        if line.starts_with("// SAFETY:") {
            return true;
        }
        if !(line.starts_with("//")
            || line.starts_with("#[")
            || line.is_empty()
            || !line.contains(';') && !line.ends_with('}') && !line.ends_with('{'))
        {
            return false;
        }
        if index - at > 12 {
            return false;
        }
    }
    false
}

fn audit_unsafe(root: &Path) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    for dir in crate_dirs(root) {
        let relative = dir.strip_prefix(root).unwrap_or(&dir).to_string_lossy().replace('\\', "/");
        let allowed = UNSAFE_ALLOWED.iter().any(|(path, _)| *path == relative);
        let mut files = Vec::new();
        rust_files(&dir.join("src"), &mut files);
        files.sort();
        for file in &files {
            let source =
                fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
            let lines: Vec<&str> = source.lines().collect();
            let code = code_lines(&source);
            let shown = file.strip_prefix(root).unwrap_or(file).display().to_string();
            for index in unsafe_lines(&source) {
                if !allowed {
                    problems.push(format!("{shown}:{}: unsafe outside the allow-list", index + 1));
                } else if needs_safety_comment(&code[index]) && !has_safety_comment(&lines, index) {
                    problems.push(format!(
                        "{shown}:{}: unsafe without a // SAFETY: comment",
                        index + 1
                    ));
                }
            }
        }
        let roots = [dir.join("src/lib.rs"), dir.join("src/main.rs")];
        if !allowed && relative != "tools/xtask" {
            for crate_root in roots.iter().filter(|path| path.exists()) {
                let source = fs::read_to_string(crate_root).unwrap_or_default();
                if !source.contains("#![forbid(unsafe_code)]") {
                    problems.push(format!(
                        "{}: missing #![forbid(unsafe_code)]",
                        crate_root.strip_prefix(root).unwrap_or(crate_root).display()
                    ));
                }
            }
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_unsafe_keywords_but_not_comments_or_lint_names() {
        let source = "// unsafe here is prose\n#![forbid(unsafe_code)]\nlet x = unsafe { 1 };\n\
                      let s = \"unsafe \\\" unsafe\"; // unsafe\n\
                      let t = \"multi\nunsafe line\";\n";
        assert_eq!(unsafe_lines(source), vec![2]);
    }

    #[test]
    fn safety_comment_must_precede_the_block() {
        let good = ["fn f() {", "    // SAFETY: fine.", "    unsafe { g() }", "}"];
        assert!(has_safety_comment(&good, 2));
        let bad = ["fn f() {", "    let a = 1;", "    unsafe { g() }", "}"];
        assert!(!has_safety_comment(&bad, 2));
    }
}
