//! `SMP_*` on top of Ingot's per-core assignment slots (`ingot_smp::CoreSlots`).
//!
//! BareMetal names cores by APIC ID and runs `SMP_SET` code with `call`, RAX = the
//! address and every other register zero, no argument. Such an assignment goes into
//! the same slot as the native `run_on_core`, its address tagged by flipping bit 63:
//! the result is not canonical, so it can be neither a native task entry nor the slot's
//! own markers, and `crate::program::run_task` knows to call it BareMetal's way
//! ([`decode_task`]). `SMP_BUSY` is then exactly the native `cores_busy`.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use ingot_arch::exceptions::Outcome;

use ingot_abi::{Error, PROGRAM_BASE};
use ingot_smp::MAX_CORES;

use crate::smp::{self, worker};

/// Slot flags `SMP_GET` reports, as the reference: present, and running an address.
const PRESENT: u64 = 1;
const ACTIVE: u64 = 2;

/// The BareMetal code each core is running (0: none), for `SMP_GET`.
static RUNNING: [AtomicU64; MAX_CORES] = [const { AtomicU64::new(0) }; MAX_CORES];

/// Per core: BareMetal calls in progress (they nest through callbacks).
static CALL_DEPTH: [AtomicU32; MAX_CORES] = [const { AtomicU32::new(0) }; MAX_CORES];
/// Per core: `RESET` asked to end the assignment it runs.
static END_REQUESTED: [AtomicBool; MAX_CORES] = [const { AtomicBool::new(false) }; MAX_CORES];
/// Per core: an NMI `RESET` sent that its handler has not taken yet.
static NMI_EXPECTED: [AtomicBool; MAX_CORES] = [const { AtomicBool::new(false) }; MAX_CORES];
/// Assignments ended since the last `RESET` began.
static ENDED: AtomicU64 = AtomicU64::new(0);
/// How long `RESET` waits for a core to take the NMI it was sent.
const NMI_TIMEOUT_NS: u64 = 1_000_000_000;

/// The code address of a tagged BareMetal assignment (`ingot_baremetal::untag_task`).
pub fn decode_task(entry: u64) -> Option<u64> {
    ingot_baremetal::untag_task(entry)
}

/// Runs a BareMetal assignment on the calling core, recording it for `SMP_GET`.
/// `RESET` may end it early (see [`reset`]).
pub fn run_task(window: &ingot_platform::program_memory::ProgramMemory, address: u64) -> bool {
    let core = smp::current_core().min(MAX_CORES - 1);
    RUNNING[core].store(address, Ordering::Release);
    let ran = window.run_baremetal_resettable(address).is_ok();
    RUNNING[core].store(0, Ordering::Release);
    END_REQUESTED[core].store(false, Ordering::Release);
    ran
}

/// A BareMetal call begins on this core (every entry of the compatible table).
pub fn enter_call() {
    CALL_DEPTH[smp::current_core().min(MAX_CORES - 1)].fetch_add(1, Ordering::AcqRel);
}

/// A BareMetal call ends on this core. Returns whether its entry stub must end the
/// assignment that made it instead of returning to it: `RESET` asked for that while the
/// call ran, and this is the outermost call of an assignment's own code (no callback or
/// native task between), which is the next thing to run.
pub fn leave_call() -> bool {
    let core = smp::current_core().min(MAX_CORES - 1);
    let outermost = CALL_DEPTH[core].fetch_sub(1, Ordering::AcqRel) == 1;
    let end = outermost
        && END_REQUESTED[core].load(Ordering::Acquire)
        && RUNNING[core].load(Ordering::Acquire) != 0
        && ingot_arch::program::baremetal_reset_possible();
    if end {
        END_REQUESTED[core].store(false, Ordering::Release);
        ENDED.fetch_add(1, Ordering::AcqRel);
    }
    end
}

/// The kernel's answer to an NMI: `None` if `RESET` did not send it (a real NMI,
/// reported as ever); else end the assignment when the NMI interrupted its own code
/// (`rip` in the program, no BareMetal call in progress), or resume: a call in
/// progress ends it when it returns ([`leave_call`]), anything else is tried again.
pub fn on_nmi(rip: u64) -> Option<Outcome> {
    let core = smp::current_core().min(MAX_CORES - 1);
    if !NMI_EXPECTED[core].load(Ordering::Acquire) {
        return None;
    }
    let in_program = crate::program::window().is_some_and(|w| w.check_range(rip, 1).is_ok());
    let end = in_program
        && CALL_DEPTH[core].load(Ordering::Acquire) == 0
        && END_REQUESTED[core].load(Ordering::Acquire)
        && RUNNING[core].load(Ordering::Acquire) != 0
        && ingot_arch::program::baremetal_reset_possible();
    if end {
        END_REQUESTED[core].store(false, Ordering::Release);
        ENDED.fetch_add(1, Ordering::AcqRel);
    }
    NMI_EXPECTED[core].store(false, Ordering::Release);
    Some(if end { Outcome::EndBaremetal } else { Outcome::Resume })
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

/// `SMP_LOCK`: spins until bit 0 of the lock word at `address` was clear and is set
/// (or `RESET` ends the assignment waiting here).
pub fn lock(address: u64) -> Result<(), Error> {
    let (word, bit) = lock_bit(address)?;
    let core = smp::current_core().min(MAX_CORES - 1);
    loop {
        // `RESET` ends this core's assignment once this call returns: stop waiting.
        if END_REQUESTED[core].load(Ordering::Relaxed) && RUNNING[core].load(Ordering::Relaxed) != 0
        {
            return Err(Error::Busy);
        }
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

/// `RESET` (the reference: IPI 0x81 to every other core, whose handler drops what the
/// core runs and sends it back to its idle loop): every other core's assignment that
/// has not started is withdrawn, and every `SMP_SET` assignment already running is
/// ended: interrupted by an NMI (the only interrupt that reaches code running with
/// interrupts off) when it runs its own instructions, or as soon as the BareMetal call
/// it is in returns (a call is never cut short: it may hold kernel locks). The core
/// then takes work again. Native work (`run_on_core`, queued tasks) that has started is
/// waited for, not ended. The caller keeps running (the reference would also reset the
/// calling core, which on Ingot runs the program itself). Returns how many
/// assignments were withdrawn or ended, once every other core is idle.
pub fn reset() -> u64 {
    let me = smp::current_core();
    ENDED.store(0, Ordering::Release);
    let others = || (0..smp::core_count().min(MAX_CORES)).filter(move |&core| core != me);
    let withdrawn = others().filter(|&core| worker::slots().withdraw(core)).count() as u64;
    for core in others() {
        end_assignment(me, core);
    }
    while worker::slots().any_busy_except(me) && !being_ended(me) {
        core::hint::spin_loop();
    }
    for core in others() {
        END_REQUESTED[core].store(false, Ordering::Release);
    }
    withdrawn + ENDED.load(Ordering::Acquire)
}

/// Whether `RESET` (called on another core) is ending the assignment that runs on
/// `core`: a `RESET` made by that assignment stops waiting then, so two assignments
/// that reset each other at once do not wait for each other forever.
fn being_ended(core: usize) -> bool {
    core < MAX_CORES
        && END_REQUESTED[core].load(Ordering::Acquire)
        && RUNNING[core].load(Ordering::Acquire) != 0
}

/// Ends the `SMP_SET` assignment running on `core`, if any (see [`reset`]), unless the
/// calling core `me` is itself being ended.
fn end_assignment(me: usize, core: usize) {
    while RUNNING[core].load(Ordering::Acquire) != 0 && !being_ended(me) {
        END_REQUESTED[core].store(true, Ordering::Release);
        if CALL_DEPTH[core].load(Ordering::Acquire) == 0
            && !NMI_EXPECTED[core].load(Ordering::Acquire)
        {
            let (Some(apic), Some(apic_id)) = (smp::local_apic(), smp::apic_id_of(core)) else {
                return;
            };
            NMI_EXPECTED[core].store(true, Ordering::Release);
            apic.send(apic_id, ingot_arch::apic::Ipi::Nmi);
            let deadline = crate::time::now_ns() + NMI_TIMEOUT_NS;
            while NMI_EXPECTED[core].load(Ordering::Acquire) {
                if crate::time::now_ns() > deadline {
                    // Left expected, so the NMI is recognised if it still arrives.
                    crate::println!("ingot: RESET: core {core} did not take its NMI");
                    return;
                }
                core::hint::spin_loop();
            }
        }
        for _ in 0..256 {
            core::hint::spin_loop();
        }
    }
}
