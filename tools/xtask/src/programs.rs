//! Which programs exist: every crate under `apps/` is a program package, each of its
//! binaries a program (found through `cargo metadata`, so adding a program needs no list
//! edited here), plus the C and C++ programs; and `cargo xtask new NAME`, which starts
//! one from a template.

use std::fs;
use std::path::Path;

use crate::build::workspace_root;

/// The binaries of every Rust program package (from `cargo metadata`).
pub fn rust_programs() -> Vec<String> {
    crate::workspace::workspace().map(|w| w.programs.clone()).unwrap_or_default()
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
        assert!(manifest.contains("[package]\nname = \"my-tool\""), "{manifest}");
        let main = fs::read_to_string(dir.join("src/main.rs")).unwrap();
        assert!(main.contains("hello from my-tool") && main.contains("entry!(main)"));
        fs::remove_dir_all(&dir).unwrap();
        assert!(check_name("Bad_Name").is_err());
        assert!(check_name("9lives").is_err());
        assert!(check_name("ok-2").is_ok());
    }
}
