//! API calls for time and cores: the work queue, completion groups, per-core
//! assignments, lock words and power control.

use core::sync::atomic::Ordering;

use ingot_abi::{CoreStats, Error, Status, TaskEntry};
use ingot_smp::{GroupError, GroupId, SlotError, SubmitError, Task};

use crate::smp::{self, worker};
use crate::{power, program, time};

fn window() -> Result<&'static ingot_platform::program_memory::ProgramMemory, Error> {
    program::window().ok_or(Error::NotFound)
}

fn status(result: Result<Status, Error>) -> Status {
    result.unwrap_or_else(Error::status)
}

fn group_error(error: GroupError) -> Error {
    match error {
        GroupError::Exhausted => Error::Exhausted,
        GroupError::NoSuchGroup => Error::NotFound,
        GroupError::Busy => Error::Busy,
    }
}

fn group_id(raw: u64) -> Result<GroupId, Error> {
    GroupId::from_raw(raw).ok_or(Error::NotFound)
}

/// Monotonic nanoseconds.
pub extern "sysv64" fn time_ns() -> Status {
    time::now_ns() as Status
}

/// Busy-waits; at most one second per call.
pub extern "sysv64" fn delay_us(microseconds: u64) -> Status {
    if microseconds > 1_000_000 {
        return Error::InvalidArgument.status();
    }
    time::delay_us(microseconds);
    0
}

/// Index of the calling core.
pub extern "sysv64" fn core_id() -> Status {
    smp::current_core() as Status
}

/// Running cores.
pub extern "sysv64" fn core_count() -> Status {
    smp::core_count() as Status
}

/// Queues a task. The entry must be program code: checked here, the one place it
/// comes from the program (the task carries the program's tag instead of a second
/// check when it runs, see `program::run_queued_task`).
pub extern "sysv64" fn task_submit(entry: TaskEntry, argument: u64, group: u64) -> Status {
    status((|| {
        let entry = entry as usize as u64;
        window()?.check_entry(entry)?;
        let group = if group == 0 { None } else { Some(group_id(group)?) };
        // No program is current once the boot program has returned (tag 0): a task
        // of it still running cannot queue more.
        let program = program::current_program();
        if program == 0 {
            return Err(Error::NotFound);
        }
        let task = Task { entry, argument, group, program };
        worker::submit(task).map_err(|error| match error {
            SubmitError::QueueFull => Error::WouldBlock,
            SubmitError::NoSuchGroup => Error::NotFound,
        })?;
        Ok(0)
    })())
}

/// Runs one queued task here.
pub extern "sysv64" fn task_run_one() -> Status {
    Status::from(worker::run_one())
}

/// Runs up to `max` queued tasks here; how many ran.
pub extern "sysv64" fn task_run_some(max: u64) -> Status {
    worker::run_some(max) as Status
}

/// Creates a completion group.
pub extern "sysv64" fn group_create() -> Status {
    status(worker::groups().create().map(|id| id.raw() as Status).map_err(group_error))
}

/// Waits for a group, helping with queued work meanwhile.
pub extern "sysv64" fn group_wait(group: u64) -> Status {
    status(group_id(group).and_then(|id| worker::wait(id).map_err(group_error)).map(|()| 0))
}

/// Frees a finished group.
pub extern "sysv64" fn group_release(group: u64) -> Status {
    status(
        group_id(group)
            .and_then(|id| worker::groups().release(id).map_err(group_error))
            .map(|()| 0),
    )
}

/// A core's counters.
pub extern "sysv64" fn core_stats(core: u64, stats: *mut CoreStats) -> Status {
    status((|| {
        if core as usize >= smp::core_count() {
            return Err(Error::NotFound);
        }
        worker::enable_timing();
        let snapshot = worker::stats(core as usize).ok_or(Error::NotFound)?.snapshot();
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&snapshot.tasks_run.to_le_bytes());
        bytes[8..].copy_from_slice(&time::ticks_to_ns(snapshot.busy_ticks).to_le_bytes());
        window()?.write_at(stats as u64, &bytes)?;
        Ok(0)
    })())
}

/// Runs code once on another core.
pub extern "sysv64" fn run_on_core(core: u64, entry: TaskEntry, argument: u64) -> Status {
    status((|| {
        let entry = entry as usize as u64;
        window()?.check_range(entry, 1)?;
        let core = core as usize;
        if core >= smp::core_count() {
            return Err(Error::NotFound);
        }
        if core == smp::current_core() {
            return Err(Error::Busy); // the caller's own core is busy running the caller
        }
        worker::assign(core, entry, argument).map_err(|error| match error {
            SlotError::NoSuchCore => Error::NotFound,
            SlotError::Busy => Error::Busy,
            SlotError::NullEntry => Error::InvalidArgument,
        })?;
        Ok(0)
    })())
}

/// 1 if another core has assigned code pending or running.
pub extern "sysv64" fn cores_busy() -> Status {
    Status::from(worker::slots().any_busy_except(smp::current_core()))
}

/// Spins until the lock word goes from 0 to 1.
pub extern "sysv64" fn spin_lock(lock: *mut u64) -> Status {
    status((|| {
        let word = window()?.atomic_at(lock as u64)?;
        while word.compare_exchange_weak(0, 1, Ordering::Acquire, Ordering::Relaxed).is_err() {
            core::hint::spin_loop();
        }
        Ok(0)
    })())
}

/// Sets the lock word back to 0.
pub extern "sysv64" fn spin_unlock(lock: *mut u64) -> Status {
    status((|| {
        window()?.atomic_at(lock as u64)?.store(0, Ordering::Release);
        Ok(0)
    })())
}

/// Reboots.
pub extern "sysv64" fn reboot() -> Status {
    power::reboot()
}

/// Powers off.
pub extern "sysv64" fn shutdown() -> Status {
    power::shutdown()
}
