//! `SMP_*` on top of Ingot's per-core assignment slots (`ingot_smp::CoreSlots`).
//!
//! BareMetal names cores by APIC ID and runs `SMP_SET` code with `call`, RAX = the
//! address and every other register zero, no argument. Such an assignment goes into
//! the same slot as the native `run_on_core`, its address tagged by flipping bit 63:
//! the result is not canonical, so it can be neither a native task entry nor the slot's
//! own markers, and `crate::program::run_task` knows to call it BareMetal's way
//! ([`decode_task`]). `SMP_BUSY` is then exactly the native `cores_busy`.

use core::sync::atomic::{AtomicU64, Ordering};

use ingot_abi::{Error, PROGRAM_BASE};
use ingot_smp::MAX_CORES;

use crate::smp::{self, worker};

/// Slot flags `SMP_GET` reports, as the reference: present, and running an address.
const PRESENT: u64 = 1;
const ACTIVE: u64 = 2;

/// The BareMetal code each core is running (0: none), for `SMP_GET`.
static RUNNING: [AtomicU64; MAX_CORES] = [const { AtomicU64::new(0) }; MAX_CORES];

/// The code address of a tagged BareMetal assignment (`ingot_baremetal::untag_task`).
pub fn decode_task(entry: u64) -> Option<u64> {
    ingot_baremetal::untag_task(entry)
}

/// Runs a BareMetal assignment on the calling core, recording it for `SMP_GET`.
pub fn run_task(window: &ingot_platform::program_memory::ProgramMemory, address: u64) -> bool {
    let running = &RUNNING[smp::current_core().min(MAX_CORES - 1)];
    running.store(address, Ordering::Release);
    let ran = window.run_baremetal(address).is_ok();
    running.store(0, Ordering::Release);
    ran
}

fn core_with_apic_id(apic_id: u64) -> Option<usize> {
    (0..smp::core_count()).find(|&index| smp::apic_id_of(index).map(u64::from) == Some(apic_id))
}

/// `SMP_ID`: the calling core's APIC ID.
pub fn id() -> u64 {
    smp::apic_id_of(smp::current_core()).map_or(0, u64::from)
}

/// `SMP_NUMCORES`.
pub fn count() -> u64 {
    smp::core_count() as u64
}

/// `SMP_SET`: runs `address` (16-byte aligned, program code) once on the core with
/// APIC ID `apic_id`; refused if that core does not exist, is the caller or the boot
/// core (which runs the program), or has an assignment waiting or running.
pub fn set(address: u64, apic_id: u64) -> Result<u64, Error> {
    if !address.is_multiple_of(16) {
        return Err(Error::InvalidArgument);
    }
    crate::program::window().ok_or(Error::NotFound)?.check_range(address, 1)?;
    let core = core_with_apic_id(apic_id).ok_or(Error::NotFound)?;
    // The caller's own core is busy running the caller, and the boot core runs the
    // program (its slot is the program's on the reference, so `SMP_SET` fails there).
    if core == smp::current_core() || core == 0 {
        return Err(Error::Busy);
    }
    worker::assign(core, ingot_baremetal::tag_task(address), 0).map_err(|error| match error {
        ingot_smp::SlotError::NoSuchCore => Error::NotFound,
        ingot_smp::SlotError::Busy => Error::Busy,
        ingot_smp::SlotError::NullEntry => Error::InvalidArgument,
    })?;
    Ok(address)
}

/// `SMP_GET`: the calling core's slot as the reference shows it: the code it runs in
/// bits 63:4 (the program itself on the boot core) with bit 1 set, and bit 0 set.
pub fn get() -> u64 {
    let core = smp::current_core();
    let running = RUNNING[core.min(MAX_CORES - 1)].load(Ordering::Acquire);
    match running {
        0 if core == 0 && crate::program::window().is_some() => PROGRAM_BASE | ACTIVE | PRESENT,
        0 => PRESENT,
        address => (address & !0xF) | ACTIVE | PRESENT,
    }
}

/// `SMP_BUSY`: 1 if another core has an assignment waiting or running.
pub fn busy() -> u64 {
    u64::from(worker::slots().any_busy_except(smp::current_core()))
}

/// The lock bit of the byte at `address`: bit 0 of that byte, reached through the
/// aligned program quad that holds it (so any byte address works).
fn lock_bit(address: u64) -> Result<(&'static AtomicU64, u64), Error> {
    let window = crate::program::window().ok_or(Error::NotFound)?;
    let word = window.atomic_at(address & !7)?;
    Ok((word, 1 << ((address & 7) * 8)))
}

/// `SMP_LOCK`: spins until bit 0 of the lock word at `address` was clear and is set.
pub fn lock(address: u64) -> Result<(), Error> {
    let (word, bit) = lock_bit(address)?;
    loop {
        if word.load(Ordering::Relaxed) & bit == 0
            && word.fetch_or(bit, Ordering::Acquire) & bit == 0
        {
            return Ok(());
        }
        core::hint::spin_loop();
    }
}

/// `SMP_UNLOCK`: clears bit 0 of the lock word at `address`.
pub fn unlock(address: u64) -> Result<(), Error> {
    let (word, bit) = lock_bit(address)?;
    word.fetch_and(!bit, Ordering::Release);
    Ok(())
}

/// `RESET`: withdraws every assignment still waiting on another core and waits until
/// the ones already running have returned (a running core cannot be interrupted: all
/// code runs with interrupts off). Returns how many waiting assignments it withdrew.
pub fn reset() -> u64 {
    let me = smp::current_core();
    let mut withdrawn = 0;
    for core in (0..smp::core_count()).filter(|&core| core != me) {
        if worker::slots().withdraw(core) {
            withdrawn += 1;
        }
    }
    while worker::slots().any_busy_except(me) {
        core::hint::spin_loop();
    }
    withdrawn
}
