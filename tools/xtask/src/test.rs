//! `cargo xtask test`: host unit tests, then every QEMU scenario; ends with the line
//! `N passed, N failed` counting both.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::build::{build_all, workspace_root};
use crate::harness::run_all;
use crate::scenarios;

/// Crates whose unit tests run on the host.
pub const HOST_CRATES: &[&str] = &[
    "ingot-arch",
    "ingot-mem",
    "ingot-bootinfo",
    "ingot-abi",
    "ingot-uart16550",
    "ingot-smp",
    "ingot-acpi",
    "ingot-block",
    "ingot-net",
    "ingot-pci",
    "ingot-virtio",
    "ingot-tsc",
    "ingot-virtio-blk",
    "ingot-virtio-net",
    "ingot-nvme",
    "ingot-ahci",
    "ingot-ata",
    "ingot-ide",
    "ingot-r8169",
    "ingot-rtl8139",
    "ingot-device-models",
    "ingot-bmfs",
    "ingot-mkimage",
    "ingot-bmfs-tool",
    "ingot-fbconsole",
    "ingot-tcpip",
    "httpd",
    "xtask",
];

/// QEMU scenarios run at once (the machine has two cores).
const PARALLEL_SCENARIOS: usize = 2;

/// Runs the tests; `args` may hold a filter that scenario names must contain.
pub fn test(args: &[String]) -> Result<(), String> {
    let filter = args.first().map(String::as_str).unwrap_or("");
    let (mut passed, mut failed) = host_tests()?;

    let artifacts = build_all()?;
    let selected: Vec<_> =
        scenarios::all(&artifacts).into_iter().filter(|s| s.name.contains(filter)).collect();
    println!("running {} QEMU scenarios, {PARALLEL_SCENARIOS} at a time", selected.len());
    let outcomes = run_all(selected, PARALLEL_SCENARIOS);
    let scenario_failures = outcomes.iter().filter(|outcome| !outcome.passed).count();
    passed += outcomes.len() - scenario_failures;
    failed += scenario_failures;

    println!("{passed} passed, {failed} failed");
    if failed == 0 { Ok(()) } else { Err(format!("{failed} tests failed")) }
}

/// Runs `cargo test` for the host crates, echoing its output and adding up libtest's
/// `test result:` lines.
fn host_tests() -> Result<(usize, usize), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command.arg("test").current_dir(workspace_root()).stdout(Stdio::piped());
    for package in HOST_CRATES {
        command.args(["-p", package]);
    }
    let mut child = command.spawn().map_err(|e| format!("cannot run cargo test: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout from cargo test")?;
    let (mut passed, mut failed) = (0, 0);
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| format!("reading cargo test output: {e}"))?;
        println!("{line}");
        if let Some((p, f)) = parse_result_line(&line) {
            passed += p;
            failed += f;
        }
    }
    let status = child.wait().map_err(|e| format!("cargo test: {e}"))?;
    if !status.success() && failed == 0 {
        // A build failure produces no result line: count it so the run cannot pass.
        failed += 1;
        println!("cargo test failed before reporting results");
    }
    Ok((passed, failed))
}

/// `test result: ok. 12 passed; 0 failed; ...` → (12, 0).
fn parse_result_line(line: &str) -> Option<(usize, usize)> {
    let rest = line.trim().strip_prefix("test result: ")?;
    let count = |word: &str| {
        rest.split(';').find_map(|part| {
            let words: Vec<&str> = part.split_whitespace().collect();
            match words.as_slice() {
                [.., number, last] if *last == word => number.parse::<usize>().ok(),
                _ => None,
            }
        })
    };
    Some((count("passed")?, count("failed")?))
}

#[cfg(test)]
mod tests {
    use super::parse_result_line;

    #[test]
    fn parses_libtest_summaries() {
        assert_eq!(
            parse_result_line("test result: ok. 12 passed; 0 failed; 0 ignored; 0 measured"),
            Some((12, 0))
        );
        assert_eq!(
            parse_result_line("test result: FAILED. 3 passed; 2 failed; 0 ignored"),
            Some((3, 2))
        );
        assert_eq!(parse_result_line("running 3 tests"), None);
    }
}
