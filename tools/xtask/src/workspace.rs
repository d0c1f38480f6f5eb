//! Which workspace packages are built for the machine, which are tested on the host,
//! and which programs there are, read from `cargo metadata` rather than kept in lists.
//!
//! The rule is the folder map of the README: packages under `boot/` and `apps/` are
//! built for `x86_64-unknown-none` (the kernel and the SDK come in as their
//! dependencies), every bin target under `apps/` is a program, and every package
//! outside [`MACHINE_ONLY`] gets host tests and host lints. A new crate is picked up by
//! `cargo xtask test` and `check` as soon as it is a workspace member.

use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use crate::build::workspace_root;

/// Folders whose packages only build for the machine (no host `std`, or hardware
/// access that has no host stand-in).
pub const MACHINE_ONLY: &[&str] = &["boot/", "apps/", "sdk/", "kernel/", "crates/platform/"];
/// Folders whose packages `cargo xtask build` builds for the machine.
const MACHINE_BUILT: &[&str] = &["boot/", "apps/"];
/// Folder whose bin targets are programs.
const PROGRAMS_DIR: &str = "apps/";

/// The workspace's packages, sorted by role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    /// Packages whose tests and lints run on the host.
    pub host_crates: Vec<String>,
    /// Packages built for `x86_64-unknown-none`.
    pub machine_packages: Vec<String>,
    /// Program binaries (bin targets under `apps/`), turned into flat `.bin` files.
    pub programs: Vec<String>,
}

/// The workspace, read once per process.
pub fn workspace() -> Result<&'static Workspace, String> {
    static WORKSPACE: OnceLock<Result<Workspace, String>> = OnceLock::new();
    WORKSPACE.get_or_init(read_workspace).as_ref().map_err(Clone::clone)
}

fn read_workspace() -> Result<Workspace, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .current_dir(workspace_root())
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    from_metadata(&String::from_utf8_lossy(&output.stdout))
}

/// Sorts the packages of `cargo metadata --format-version 1` output.
pub fn from_metadata(json: &str) -> Result<Workspace, String> {
    let metadata: Value =
        serde_json::from_str(json).map_err(|e| format!("cargo metadata output: {e}"))?;
    let root = metadata["workspace_root"].as_str().ok_or("cargo metadata: no workspace_root")?;
    let packages = metadata["packages"].as_array().ok_or("cargo metadata: no packages")?;
    let mut workspace =
        Workspace { host_crates: Vec::new(), machine_packages: Vec::new(), programs: Vec::new() };
    for package in packages {
        let name = package["name"].as_str().ok_or("cargo metadata: a package without a name")?;
        let manifest = package["manifest_path"].as_str().unwrap_or_default();
        let folder = manifest.strip_prefix(root).unwrap_or(manifest).trim_start_matches('/');
        let under = |dirs: &[&str]| dirs.iter().any(|dir| folder.starts_with(dir));
        if !under(MACHINE_ONLY) {
            workspace.host_crates.push(name.to_string());
        }
        if under(MACHINE_BUILT) {
            workspace.machine_packages.push(name.to_string());
        }
        if folder.starts_with(PROGRAMS_DIR) {
            let targets = package["targets"].as_array().map(Vec::as_slice).unwrap_or_default();
            for target in targets {
                let is_bin =
                    target["kind"].as_array().is_some_and(|k| k.iter().any(|k| k == "bin"));
                if is_bin && let Some(bin) = target["name"].as_str() {
                    workspace.programs.push(bin.to_string());
                }
            }
        }
    }
    for list in
        [&mut workspace.host_crates, &mut workspace.machine_packages, &mut workspace.programs]
    {
        list.sort();
    }
    Ok(workspace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_are_sorted_by_folder() {
        let json = r#"{"workspace_root": "/w", "packages": [
            {"name": "ingot-bmfs", "manifest_path": "/w/crates/bmfs/Cargo.toml",
             "targets": [{"name": "ingot_bmfs", "kind": ["lib"]}]},
            {"name": "ingot-kernel", "manifest_path": "/w/kernel/Cargo.toml",
             "targets": [{"name": "ingot_kernel", "kind": ["lib"]}]},
            {"name": "fault-probe", "manifest_path": "/w/apps/fault-probe/Cargo.toml",
             "targets": [{"name": "touch-unmapped", "kind": ["bin"]},
                         {"name": "divide-by-zero", "kind": ["bin"]},
                         {"name": "build-script-build", "kind": ["custom-build"]}]},
            {"name": "ingot-boot-bios", "manifest_path": "/w/boot/bios/Cargo.toml",
             "targets": [{"name": "ingot-bios", "kind": ["bin"]}]},
            {"name": "xtask", "manifest_path": "/w/tools/xtask/Cargo.toml",
             "targets": [{"name": "xtask", "kind": ["bin"]}]}
        ]}"#;
        let workspace = from_metadata(json).unwrap();
        assert_eq!(workspace.host_crates, ["ingot-bmfs", "xtask"]);
        assert_eq!(workspace.machine_packages, ["fault-probe", "ingot-boot-bios"]);
        assert_eq!(workspace.programs, ["divide-by-zero", "touch-unmapped"]);
        assert!(from_metadata("{}").is_err());
    }

    #[test]
    fn this_workspace() {
        let workspace = workspace().unwrap();
        for host in ["ingot-mkimage", "ingot-bmfs", "ingot-device-models", "xtask"] {
            assert!(workspace.host_crates.iter().any(|c| c == host), "{host}");
        }
        assert!(!workspace.host_crates.iter().any(|c| c == "ingot-kernel"));
        for program in ["hello", "divide-by-zero", "disk-test"] {
            assert!(workspace.programs.iter().any(|p| p == program), "{program}");
        }
        assert!(workspace.machine_packages.iter().any(|p| p == "ingot-boot-uefi"));
    }
}
