//! The Ingot monitor: the shell that runs when no other program is named.
//!
//! Prompt `> ` on the console (serial and screen; keys from serial, PS/2 and USB
//! keyboards all arrive through the kernel's one input call), line editing and
//! history (`line`), BareMetal's monitor commands (`commands`), files from BMFS over
//! the disk calls (`files`). At start (`start`) it runs `init.app` from BMFS when there
//! is one, as BareMetal's monitor does, or the program `init=NAME ARGS` names, or
//! (`init=monitor`) nothing. Programs run through the kernel's `program_run` call:
//! they get the lower part of the window while the monitor's image is parked above it,
//! and a program that faults comes back with its exception instead of ending the machine.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

mod commands;
mod files;
mod line;
mod start;

use ingot_sdk::{print, println};

ingot_sdk::entry!(main);

/// The version `ver` prints.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

fn main() -> u64 {
    let Some(scratch) = ingot_sdk::scratch::take() else {
        println!("monitor: no free memory in the program window");
        return 1;
    };
    let mut shell = commands::Shell::new(scratch);
    println!("Ingot monitor {VERSION}; 'help' lists the commands");
    match start::choose(ingot_sdk::args::get(0)) {
        start::Start::Shell => {}
        start::Start::InitApp => shell.run_init(),
        start::Start::Program => {
            let args = start::ArgsText::from_words(ingot_sdk::args::args());
            println!("monitor: init={}: running it", args.name());
            if let Some(status) = shell.run_program(args.name(), args.as_str()) {
                return status;
            }
        }
    }
    let mut editor = line::Editor::new();
    loop {
        print!("> ");
        let line = editor.read_line();
        if let commands::Next::Leave(status) = shell.execute(line.as_str()) {
            return status;
        }
    }
}
