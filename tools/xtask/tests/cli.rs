//! The `xtask` binary as a user meets it: help without work, errors that name the valid
//! choices, and `run` saying it is building before anything else. `CARGO` points at a
//! command that always fails, so any attempt to build would show as a failure.

use std::process::{Command, Output};

fn xtask(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .env("CARGO", "false")
        .output()
        .expect("the xtask binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_subcommand_prints_its_help_without_doing_work() {
    for sub in ["build", "image", "run", "test", "bench", "check"] {
        for flag in ["--help", "-h"] {
            let output = xtask(&[sub, flag]);
            let stdout = text(&output.stdout);
            assert!(output.status.success(), "{sub} {flag}: {output:?}");
            assert!(
                stdout.contains(&format!("Usage: cargo xtask {sub}")),
                "{sub} {flag}: {stdout}"
            );
            assert!(output.stderr.is_empty(), "{sub} {flag}: {}", text(&output.stderr));
        }
    }
    let top = xtask(&["--help"]);
    assert!(top.status.success());
    for sub in ["build", "image", "run", "test", "bench", "check"] {
        assert!(text(&top.stdout).contains(sub), "{}", text(&top.stdout));
    }
    let version = xtask(&["--version"]);
    assert_eq!(text(&version.stdout).trim(), format!("cargo xtask {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn bad_options_fail_and_name_the_valid_ones() {
    let output = xtask(&["run", "--machine", "foo"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("[possible values: pc, q35, microvm]"), "{stderr}");

    let output = xtask(&["bench", "--runs", "3"]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("at least 5 paired rounds"), "{output:?}");

    let output = xtask(&["test", "--fast"]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("unexpected argument '--fast'"), "{output:?}");

    let output = xtask(&["frobnicate"]);
    let stderr = text(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("unrecognized subcommand 'frobnicate'"), "{stderr}");
}

#[test]
fn run_says_first_that_it_is_building() {
    let output = xtask(&["run", "--machine", "pc"]);
    let stderr = text(&output.stderr);
    let first = stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with("xtask: building the kernel"), "first line: {first:?}\n{stderr}");
    assert!(output.stdout.is_empty(), "{}", text(&output.stdout));
    // Cargo cannot run here (CARGO=false), and run fails saying so.
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.lines().nth(1).is_some_and(|line| line.contains("failed")), "{stderr}");
}
