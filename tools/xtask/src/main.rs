//! `cargo xtask`: the one front door to building, running, testing and measuring Ingot.
//!
//! Subcommands: `build`, `image`, `run`, `test`, `bench`, `check`. Everything the README
//! promises goes through here so that CI and developers run exactly the same steps.
//! Arguments are parsed by `clap` ([`cli`]), so every subcommand has `--help`, unknown
//! options and values are named with the valid ones, and `--version` exists.

#![forbid(unsafe_code)]

mod bench;
mod build;
mod c_programs;
mod check;
mod cli;
mod compat_suite;
#[cfg(test)]
mod doc_check;
#[cfg(test)]
mod doc_examples;
mod drivers;
mod harness;
mod image;
mod kernel_flat;
mod kernel_header;
mod pe;
mod programs;
mod qemu;
mod run;
mod scenarios;
mod screenshot;
#[cfg(test)]
mod sdk_examples;
mod test;
mod workspace;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build(args) => {
            build::build_with(args.drivers.as_ref()).map(|artifacts| artifacts.print_summary())
        }
        Command::Image(args) => image::image(&args),
        Command::Run(args) => return exit_with(run::run(&args)),
        Command::Test(args) => test::test(&args),
        Command::Bench(args) => bench::bench(&args),
        Command::Check => check::check(),
        Command::New(args) => programs::new_program(std::slice::from_ref(&args.name)),
        Command::NetnsClient(args) => scenarios::netns_client(&args.args),
    };
    exit_with(result.map(|()| 0))
}

/// The process's exit code: `code` on success, 1 with the message on stderr otherwise.
fn exit_with(result: Result<u8, String>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
