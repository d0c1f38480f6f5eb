//! The `program_run` and `program_run_args` calls: a program (the monitor) runs another
//! flat program image and gets its status back, also when that program faults.
//!
//! The window is shared: the callee gets its start and the caller's bytes are parked
//! in a save area above it for the duration (`ProgramMemory::run_nested`). While the
//! callee runs, `memory_info` reports only the callee's part and its pointers are
//! checked against that part, so it stays clear of the parked caller and its stack.
//! With arguments, the callee finds the same start block at the top of its stack as a
//! boot program (`program_load::nested_start_block`) and `argc`/`argv` in registers.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use ingot_abi::{Error, PROGRAM_BASE, PROGRAM_FAULTED_BIT, Status};
use ingot_arch::program::Outcome;
use ingot_bootinfo::cmdline::program_words;
use ingot_platform::program_memory::{NestedError, NestedStart};

use crate::{println, program, program_load};

/// A callee is running (`program_run` does not nest).
static RUNNING: AtomicBool = AtomicBool::new(false);
/// Longest argument text `program_run_args` takes (the start block may use half of the
/// callee's 64 KiB stack).
const MOST_ARGS_BYTES: u64 = 16 * 1024;

/// Whether a program started by `program_run` is running.
pub fn callee_running() -> bool {
    RUNNING.load(Ordering::Acquire)
}

/// Runs the image at `image` (`len` bytes); the caller keeps its first `keep_bytes`.
pub extern "sysv64" fn program_run(image: *const u8, len: u64, keep_bytes: u64) -> Status {
    run(image, len, keep_bytes, None)
}

/// As [`program_run`], the callee getting the words of the `args_len` bytes at `args`
/// as its arguments.
pub extern "sysv64" fn program_run_args(
    image: *const u8,
    len: u64,
    keep_bytes: u64,
    args: *const u8,
    args_len: u64,
) -> Status {
    let Some(window) = program::window() else { return Error::NotFound.status() };
    if args_len > MOST_ARGS_BYTES {
        return Error::InvalidArgument.status();
    }
    let mut text = alloc::vec![0u8; args_len as usize];
    if window.read_into(args as u64, &mut text).is_err() {
        return Error::BadAddress.status();
    }
    let Ok(text) = core::str::from_utf8(&text) else { return Error::InvalidArgument.status() };
    run(image, len, keep_bytes, Some(program_words(text).collect()))
}

fn run(image: *const u8, len: u64, keep_bytes: u64, args: Option<Vec<&str>>) -> Status {
    let Some(window) = program::window() else { return Error::NotFound.status() };
    // The caller's image is parked while the callee runs: only the program's own core
    // may do that (a task on another core would park it under the running program).
    if crate::smp::current_core() != 0 {
        return Error::Busy.status();
    }
    let block = match args {
        None => None,
        Some(args) => {
            let Ok(child) = window.nested_child_bytes(keep_bytes) else {
                return Error::Exhausted.status();
            };
            let api_table = ingot_abi::API_TABLE_ADDRESS;
            match program_load::nested_start_block(PROGRAM_BASE + child, &args, api_table) {
                Ok(block) => Some(block),
                Err(_) => return Error::InvalidArgument.status(),
            }
        }
    };
    let start = block.as_ref().map(|(bytes, start)| NestedStart {
        bytes,
        pointer: start.pointer,
        argc: start.argc,
        argv: start.argv,
    });
    if RUNNING.load(Ordering::Acquire) {
        return Error::Busy.status();
    }
    // The caller's tasks finish first, while its image is still in place (as its disk
    // requests do), rather than being dropped or finding their code moved while it is
    // parked; per-core work it left running refuses the call.
    if crate::smp::worker::finish_program_tasks().is_err() {
        return Error::Busy.status();
    }
    if RUNNING.swap(true, Ordering::AcqRel) {
        return Error::Busy.status();
    }
    let api_table = ingot_abi::API_TABLE_ADDRESS;
    // The caller's disk requests finish in its memory before that is parked; the
    // callee's finish before the caller's memory comes back over the callee's, and
    // the callee's uncollected tickets are dropped.
    crate::storage::settle(window);
    // From here on the callee's tasks and the caller's are told apart
    // (`program::run_queued_task`): neither runs while the other's image is in place,
    // nor while the images move.
    let caller = program::begin_program();
    let outcome = window.run_nested(image as u64, len, keep_bytes, api_table, start, || {
        program::resume_program(0);
        crate::storage::settle(window);
        crate::storage::forget_nested();
    });
    program::resume_program(caller);
    RUNNING.store(false, Ordering::Release);
    match outcome {
        Ok(Outcome::Returned(status)) => (status & ((1 << 62) - 1)) as Status,
        Ok(Outcome::Faulted(vector)) => {
            println!("ingot: program faulted (vector {vector}); back to the caller");
            PROGRAM_FAULTED_BIT | vector as Status
        }
        Err(NestedError::Empty) => Error::InvalidArgument.status(),
        Err(NestedError::BadAddress) => Error::BadAddress.status(),
        Err(NestedError::NoRoom) => Error::Exhausted.status(),
    }
}
