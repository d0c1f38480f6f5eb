//! The kernel part of `bench size`: the full kernel, the virtio-only one (`--drivers
//! virtio`) and one without any driver family (the floor the families sit on), their
//! bytes per output section against the size targets, and the first two's bytes per
//! crate from the linker maps (`linker_map.rs`).

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Value, json};

use super::linker_map::{self, Bytes, CrateSizes};
use super::stats::thousands;
use crate::build::{Artifacts, kernel_variant};
use crate::drivers::DriverSet;

/// Targets for the stored image (`kernel.bin`), in bytes.
const FULL_TARGET: u64 = 128 * 1024;
const VIRTIO_TARGET: u64 = 48 * 1024;
/// Crates listed one by one; the rest are summed in one row.
const CRATE_ROWS: usize = 30;

/// One kernel build as measured.
struct Build {
    name: &'static str,
    drivers: String,
    kernel_bin: u64,
    target: Option<u64>,
    sizes: CrateSizes,
}

fn read_map(path: &Path) -> Result<CrateSizes, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    linker_map::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn file_bytes(path: &Path) -> Result<u64, String> {
    std::fs::metadata(path).map(|m| m.len()).map_err(|e| format!("{}: {e}", path.display()))
}

/// Builds the virtio-only kernel beside `artifacts`' full one and measures both:
/// the report's Markdown and the JSON value.
pub fn measure(artifacts: &Artifacts) -> Result<(String, Value), String> {
    let full = Build {
        name: "full",
        drivers: "all".into(),
        kernel_bin: file_bytes(&artifacts.kernel_flat)?,
        target: Some(FULL_TARGET),
        sizes: read_map(&artifacts.kernel_map)?,
    };
    let variant = |name: &'static str, drivers: DriverSet, target: Option<u64>| {
        let built = kernel_variant(&drivers)?;
        Ok::<Build, String>(Build {
            name,
            drivers: drivers.to_string(),
            kernel_bin: file_bytes(&built.flat)?,
            target,
            sizes: read_map(&built.map)?,
        })
    };
    let virtio = variant("virtio-only", DriverSet::virtio_only(), Some(VIRTIO_TARGET))?;
    let none = variant("no drivers", DriverSet::none(), None)?;
    let builds = [full, virtio, none];
    Ok((markdown(&builds), to_json(&builds)))
}

fn kib(bytes: u64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

fn markdown(builds: &[Build]) -> String {
    let mut md = String::from(
        "### Kernel builds\n\n`kernel.bin` is what the disk loaders copy: the image without `.bss` \
         (code + read-only data + data, padded to 4 bytes). `.bss` is RAM the kernel zeroes at \
         entry, not stored.\n\n\
         | build | `--drivers` | `kernel.bin` | code (`.text`, header) | `.rodata` | `.data` | `.bss` | target for `kernel.bin` |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for build in builds {
        let t = build.sizes.total;
        let target = match build.target {
            Some(target) if build.kernel_bin <= target => format!("≤ {}: met", kib(target)),
            Some(target) => format!("≤ {}: missed", kib(target)),
            None => "—".into(),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} ({}) | {} | {} | {} | {} | {target} |",
            build.name,
            build.drivers,
            thousands(build.kernel_bin),
            kib(build.kernel_bin),
            thousands(t.code),
            thousands(t.rodata),
            thousands(t.data),
            thousands(t.bss),
        );
    }
    md.push_str(
        "\n### Bytes per crate (linker map)\n\nEach function or static counts for the crate that \
         defines it (a generic for the crate of the generic, e.g. `core` for `core::fmt`); code \
         LTO inlined into a caller counts for the caller, which is why `ingot_kernel` holds much \
         of the drivers' start-up code. Largest first by stored bytes in the full build.\n\n",
    );
    let builds = &builds[..2];
    let mut header = String::from("| crate |");
    let mut rule = String::from("|---|");
    for build in builds {
        let _ = write!(header, " {0}: code | {0}: rodata | {0}: data | {0}: bss |", build.name);
        rule.push_str("---|---|---|---|");
    }
    let _ = writeln!(md, "{header}\n{rule}");
    let order = builds[0].sizes.largest_first();
    let mut names: Vec<&str> = order.iter().map(|row| row.0).collect();
    for build in &builds[1..] {
        for name in build.sizes.crates.keys() {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
    }
    let cells = |bytes: Bytes| {
        format!(
            " {} | {} | {} | {} |",
            thousands(bytes.code),
            thousands(bytes.rodata),
            thousands(bytes.data),
            thousands(bytes.bss)
        )
    };
    let (shown, rest) = names.split_at(names.len().min(CRATE_ROWS));
    for name in shown {
        let mut row = format!("| `{name}` |");
        for build in builds {
            row.push_str(&cells(build.sizes.crates.get(*name).copied().unwrap_or_default()));
        }
        let _ = writeln!(md, "{row}");
    }
    if !rest.is_empty() {
        let mut row = format!("| {} others |", rest.len());
        for build in builds {
            let mut sum = Bytes::default();
            for name in rest {
                if let Some(bytes) = build.sizes.crates.get(*name) {
                    sum.code += bytes.code;
                    sum.rodata += bytes.rodata;
                    sum.data += bytes.data;
                    sum.bss += bytes.bss;
                }
            }
            row.push_str(&cells(sum));
        }
        let _ = writeln!(md, "{row}");
    }
    md
}

fn bytes_json(bytes: Bytes) -> Value {
    json!({"code": bytes.code, "rodata": bytes.rodata, "data": bytes.data, "bss": bytes.bss})
}

fn to_json(builds: &[Build]) -> Value {
    builds
        .iter()
        .map(|build| {
            let crates: serde_json::Map<String, Value> = build
                .sizes
                .crates
                .iter()
                .map(|(name, bytes)| (name.clone(), bytes_json(*bytes)))
                .collect();
            json!({
                "build": build.name,
                "drivers": build.drivers,
                "kernel_bin": build.kernel_bin,
                "target": build.target,
                "sections": bytes_json(build.sizes.total),
                "crates": crates,
            })
        })
        .collect()
}
