//! Which programs exist: every crate under `apps/` is a program package, each of its
//! binaries a program (found by reading `apps/*/Cargo.toml`, so adding a program needs
//! no list edited here), and `cargo xtask new NAME`, which starts one from a template.

use std::fs;
use std::path::Path;

use crate::build::workspace_root;

/// One program package under `apps/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramPackage {
    /// The package's name (`cargo -p`).
    pub package: String,
    /// Its binaries: each is built into `<name>.bin` and `<name>.elf`.
    pub binaries: Vec<String>,
}

/// The package name and binary names a `Cargo.toml` declares (its `[package]` name when
/// it has no `[[bin]]` section), read line by line: the manifests under `apps/` are
/// plain, and this keeps the front door free of a TOML parser.
pub fn read_manifest(text: &str) -> Option<ProgramPackage> {
    let mut section = "";
    let mut package = None;
    let mut binaries = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line;
            continue;
        }
        let Some(value) = line.strip_prefix("name").map(str::trim_start) else { continue };
        let Some(value) = value.strip_prefix('=') else { continue };
        let name = value.trim().trim_matches('"').to_string();
        match section {
            "[package]" => package = Some(name),
            "[[bin]]" => binaries.push(name),
            _ => {}
        }
    }
    let package = package?;
    if binaries.is_empty() {
        binaries.push(package.clone());
    }
    Some(ProgramPackage { package, binaries })
}

/// Every program package under `apps/`, sorted by directory name.
pub fn program_packages() -> Vec<ProgramPackage> {
    let mut dirs: Vec<_> = fs::read_dir(workspace_root().join("apps"))
        .map(|entries| entries.filter_map(Result::ok).map(|entry| entry.path()).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs.iter()
        .filter_map(|dir| fs::read_to_string(dir.join("Cargo.toml")).ok())
        .filter_map(|text| read_manifest(&text))
        .collect()
}

/// The binaries of every Rust program package.
pub fn rust_programs() -> Vec<String> {
    program_packages().into_iter().flat_map(|package| package.binaries).collect()
}

/// Every program's name: the Rust binaries, then the C and C++ programs.
pub fn programs() -> Vec<String> {
    let c_programs = crate::c_programs::c_programs().into_iter().map(|program| program.name);
    rust_programs().into_iter().chain(c_programs).collect()
}

/// `cargo xtask new NAME`: creates `apps/NAME`, a Rust program that builds with
/// `cargo xtask build` and runs with `cargo xtask run --program NAME`.
pub fn new_program(args: &[String]) -> Result<(), String> {
    let [name] = args else {
        return Err("usage: cargo xtask new NAME   (lower-case letters, digits and '-')".into());
    };
    check_name(name)?;
    if programs().iter().any(|existing| existing == name) {
        return Err(format!("a program named {name} exists already"));
    }
    let dir = workspace_root().join("apps").join(name);
    if dir.exists() {
        return Err(format!("{} exists already", dir.display()));
    }
    write_template(&dir, name)?;
    println!("created {}", dir.display());
    println!("run it: cargo xtask run --program {name} --append exit=qemu");
    Ok(())
}

/// Program names become package names, file names and BMFS names (at most 31 bytes
/// with `.app`): lower-case ASCII letters, digits and dashes, starting with a letter.
pub fn check_name(name: &str) -> Result<(), String> {
    let valid = name.len() <= 26
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "bad program name {name:?}: use 1-26 lower-case letters, digits and '-', starting with a letter"
        ))
    }
}

/// Writes the template program into `dir`.
pub fn write_template(dir: &Path, name: &str) -> Result<(), String> {
    let files = [
        ("Cargo.toml", MANIFEST.replace("NAME", name)),
        ("build.rs", BUILD_SCRIPT.to_string()),
        ("src/main.rs", MAIN.replace("NAME", name)),
    ];
    for (file, text) in files {
        let path = dir.join(file);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

const MANIFEST: &str = r#"[package]
name = "NAME"
description = "An Ingot program"
version.workspace = true
edition.workspace = true
license.workspace = true
publish = false

[[bin]]
name = "NAME"
path = "src/main.rs"
test = false
bench = false

[dependencies]
ingot-sdk.workspace = true

[lints]
workspace = true
"#;

const BUILD_SCRIPT: &str = r#"//! Links this program at the start of the program window with the SDK's layout.
fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    println!("cargo:rerun-if-changed={dir}/../../sdk/ingot/program.ld");
    println!("cargo:rustc-link-arg-bins=-T{dir}/../../sdk/ingot/program.ld");
    println!("cargo:rustc-link-arg-bins=--no-pie");
}
"#;

const MAIN: &str = r#"//! NAME: an Ingot program (made by `cargo xtask new`).
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::vec::Vec;

use ingot_sdk::println;

ingot_sdk::entry!(main);

/// Prints a greeting and the arguments, returns 0 (the exit status).
fn main() -> u64 {
    println!("hello from NAME");
    let args: Vec<&str> = ingot_sdk::args::args().collect();
    println!("NAME: {} arguments: {:?}", args.len(), args);
    0
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_give_package_and_binaries() {
        let single = "[package]\nname = \"hello\"\n\n[[bin]]\nname = \"hello\"\npath = \"src/main.rs\"\n\n[dependencies]\ningot-sdk.workspace = true\n";
        assert_eq!(
            read_manifest(single),
            Some(ProgramPackage { package: "hello".into(), binaries: vec!["hello".into()] })
        );
        let two = "[package]\nname = \"fault-probe\"\n[[bin]]\nname = \"divide-by-zero\"\n[[bin]]\nname=\"touch-unmapped\"\n";
        assert_eq!(read_manifest(two).unwrap().binaries, vec!["divide-by-zero", "touch-unmapped"]);
        let implicit = "[package]\nname = \"solo\"\n[dependencies]\nnamed = \"1\"\n";
        assert_eq!(read_manifest(implicit).unwrap().binaries, vec!["solo"]);
        assert_eq!(read_manifest("[dependencies]\n"), None);
    }

    #[test]
    fn every_app_directory_is_found() {
        let names = programs();
        for expected in
            ["hello", "echo", "divide-by-zero", "touch-unmapped", "hello-c", "hello-cpp"]
        {
            assert!(names.iter().any(|name| name == expected), "{expected} in {names:?}");
        }
    }

    #[test]
    fn the_template_is_a_program_package() {
        let dir = std::env::temp_dir().join(format!("ingot-new-{}", std::process::id()));
        write_template(&dir, "my-tool").unwrap();
        let manifest = fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert_eq!(
            read_manifest(&manifest),
            Some(ProgramPackage { package: "my-tool".into(), binaries: vec!["my-tool".into()] })
        );
        let main = fs::read_to_string(dir.join("src/main.rs")).unwrap();
        assert!(main.contains("hello from my-tool") && main.contains("entry!(main)"));
        fs::remove_dir_all(&dir).unwrap();
        assert!(check_name("Bad_Name").is_err());
        assert!(check_name("9lives").is_err());
        assert!(check_name("ok-2").is_ok());
    }
}
