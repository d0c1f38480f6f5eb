//! Driver families: which of the kernel's drivers a build carries (`--drivers
//! virtio,nvme` on `build` and `run`). Each family is a cargo feature of
//! `kernel/Cargo.toml`, mirrored by `boot/direct/Cargo.toml` (the kernel image's
//! package), whose `default`s have all of them; a build with `--drivers` builds
//! `ingot-boot-direct` with `--no-default-features --features <family>,...`. A unit
//! test keeps [`FAMILIES`] and both manifests' features equal.

use std::fmt;
use std::str::FromStr;

/// The families, in the kernel's feature order.
pub const FAMILIES: &[&str] = &["virtio", "nvme", "ahci", "ide", "intel-nic", "realtek", "xhci"];

/// A chosen set of driver families (no duplicates, in [`FAMILIES`] order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverSet(Vec<&'static str>);

impl DriverSet {
    /// Only the virtio family: the virtio-only kernel of `bench size` and the
    /// `drivers-virtio-only-*` scenarios.
    pub fn virtio_only() -> DriverSet {
        DriverSet(vec!["virtio"])
    }

    /// No driver family: the floor under the families, for `bench size`.
    pub fn none() -> DriverSet {
        DriverSet(Vec::new())
    }

    /// The cargo arguments that build the kernel with exactly these families.
    pub fn cargo_features(&self) -> Vec<String> {
        let mut args = vec!["--no-default-features".to_string()];
        if !self.0.is_empty() {
            args.extend(["--features".to_string(), self.0.join(",")]);
        }
        args
    }

    /// A name for file names: the families joined with `-`, or `none`.
    pub fn file_stem(&self) -> String {
        if self.0.is_empty() { "none".into() } else { self.0.join("-") }
    }
}

impl fmt::Display for DriverSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() { f.write_str("none") } else { f.write_str(&self.0.join(",")) }
    }
}

impl FromStr for DriverSet {
    type Err = String;

    /// `virtio,nvme`; `all` for every family, `none` for none.
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "all" => return Ok(DriverSet(FAMILIES.to_vec())),
            "none" => return Ok(DriverSet(Vec::new())),
            _ => {}
        }
        let mut chosen = Vec::new();
        for name in text.split(',').map(str::trim) {
            let family = FAMILIES.iter().find(|family| **family == name).ok_or_else(|| {
                format!(
                    "unknown driver family `{name}`; valid: {}, or all, or none",
                    FAMILIES.join(", ")
                )
            })?;
            chosen.push(*family);
        }
        let set = FAMILIES.iter().copied().filter(|family| chosen.contains(family)).collect();
        Ok(DriverSet(set))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_parse_in_kernel_order_and_unknown_ones_are_named() {
        let set: DriverSet = "xhci,virtio,xhci".parse().unwrap();
        assert_eq!(set.to_string(), "virtio,xhci");
        assert_eq!(set.cargo_features(), ["--no-default-features", "--features", "virtio,xhci"]);
        assert_eq!(
            "none".parse::<DriverSet>().unwrap().cargo_features(),
            ["--no-default-features"]
        );
        assert_eq!("all".parse::<DriverSet>().unwrap().0, FAMILIES);
        let error = "virtio,floppy".parse::<DriverSet>().unwrap_err();
        assert!(error.contains("`floppy`") && error.contains("intel-nic"), "{error}");
    }

    fn manifest(path: &str) -> String {
        std::fs::read_to_string(crate::build::workspace_root().join(path)).unwrap()
    }

    /// The families listed in a manifest's `default = [...]` line.
    fn default_features(manifest: &str) -> Vec<String> {
        let default = manifest
            .lines()
            .find_map(|line| line.strip_prefix("default = "))
            .expect("a default feature list");
        default
            .trim_matches(|c| c == '[' || c == ']')
            .split(',')
            .map(|name| name.trim().trim_matches('"').to_string())
            .collect()
    }

    /// Every family is a feature of the kernel and of the image package (which turns
    /// on the kernel's), and both defaults are all of them.
    #[test]
    fn families_are_the_kernels_default_features() {
        let kernel = manifest("kernel/Cargo.toml");
        let image = manifest("boot/direct/Cargo.toml");
        assert_eq!(default_features(&kernel), FAMILIES);
        assert_eq!(default_features(&image), FAMILIES);
        for family in FAMILIES {
            let prefix = format!("{family} = [");
            assert!(kernel.lines().any(|l| l.starts_with(&prefix)), "kernel lacks {family}");
            let forward = format!(r#"{family} = ["ingot-kernel/{family}"]"#);
            assert!(image.lines().any(|line| line == forward), "boot/direct lacks `{forward}`");
        }
    }
}
