//! `cargo xtask`: the one front door to building, running, testing and measuring Ingot.
//!
//! Subcommands: `build`, `image`, `run`, `test`, `bench`, `check`. Everything the README
//! promises goes through here so that CI and developers run exactly the same steps.

#![forbid(unsafe_code)]

mod bench;
mod build;
mod check;
mod harness;
mod image;
mod kernel_header;
mod pe;
mod qemu;
mod run;
mod scenarios;
mod screenshot;
mod test;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command> [options]

commands:
  build                 build the kernel, the floor kernel and the programs into target/ingot/
  image [options]       build target/ingot/ingot.img, the hybrid BIOS/UEFI disk image (image --help)
  run [options]         boot Ingot in QEMU with serial on this terminal (run --help)
  test [filter]         host unit tests, then every QEMU scenario (optionally only names containing filter)
  bench [boot|size|disk|smp|net|all] benchmarks beside a Linux peer; results in target/ingot/bench/
  bench peer            boot the Linux peer with a NIC and check its httpd answers
  check                 rustfmt, clippy -D warnings, unsafe allow-list audit
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first() else {
        eprint!("{USAGE}");
        return ExitCode::FAILURE;
    };
    let rest = &args[1..];
    let result = match command.as_str() {
        "build" => build::build_all().map(|artifacts| artifacts.print_summary()),
        "image" => image::image(rest),
        "run" => {
            return match run::run(rest) {
                Ok(code) => ExitCode::from(code),
                Err(message) => {
                    eprintln!("xtask: {message}");
                    ExitCode::FAILURE
                }
            };
        }
        "test" => test::test(rest),
        "bench" => bench::bench(rest),
        "check" => check::check(),
        // Not in the usage: the httpd tap scenarios run it inside a network namespace.
        "netns-client" => scenarios::netns_client(rest),
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
