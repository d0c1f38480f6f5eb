//! All cores: bring-up of the application processors and the shared work loop.
//!
//! The bootstrap core enables its local APIC (x2APIC when the CPU has it), masks the
//! legacy PICs, then starts every enabled core the MADT lists, all at once, through
//! `ingot_platform::cores` (one INIT wait for all, none where not needed; cores are
//! numbered in the order they arrive). Each started core loads its own tables, enables its
//! APIC and enters [`worker::run_forever`]: take work, run it to completion, sleep in
//! `hlt` until a wake-up IPI. Without a usable MADT the machine runs on one core.

mod idle;
pub mod worker;

use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};

use ingot_acpi::Acpi;
use ingot_hal::PortIo;
use ingot_platform::cores::{CoreStarter, StartError};
use spin::Once;

use crate::println;

/// APIC IDs of the running cores, by core index (0 = bootstrap core).
static CORE_APIC_IDS: Once<Vec<u32>> = Once::new();
static LOCAL_APIC: Once<ingot_arch::apic::LocalApic> = Once::new();

/// `CORE_APIC_IDS`'s length once it is set, 1 before: one load for the submit path.
static CORE_COUNT: AtomicUsize = AtomicUsize::new(1);

/// Number of running cores.
#[inline(always)]
pub fn core_count() -> usize {
    CORE_COUNT.load(Ordering::Acquire)
}

/// APIC ID of core `index`.
pub fn apic_id_of(index: usize) -> Option<u32> {
    CORE_APIC_IDS.get().and_then(|ids| ids.get(index).copied())
}

/// The calling core's index (0 before SMP is up).
#[inline(always)]
pub fn current_core() -> usize {
    ingot_arch::percpu::core_index().unwrap_or(0) as usize
}

/// The local APIC handle (same mode on all cores; each core's accesses reach its own).
pub fn local_apic() -> Option<&'static ingot_arch::apic::LocalApic> {
    LOCAL_APIC.get()
}

/// Brings up the APIC and every other core; returns the number of running cores.
pub fn init(acpi: Option<&Acpi>, trampoline_page: Option<u64>) -> usize {
    mask_legacy_pics();
    init_io_apics(acpi);
    let apic = *LOCAL_APIC.call_once(|| ingot_platform::apic::enable_local_apic(true));
    let bootstrap_id = apic.id();
    calibrate_apic_timer(&apic);
    let mut ids = Vec::from([bootstrap_id]);
    crate::memory::with_kernel_memory(|memory| {
        ingot_platform::cores::install_bootstrap_block(&mut memory.frames, bootstrap_id)
    });
    // Without frames for its block the bootstrap core takes the static one: it must
    // have a block before any other core installs its own.
    ingot_arch::percpu::ensure_installed();
    worker::init();
    let candidates: Vec<u32> = acpi
        .and_then(|acpi| acpi.madt.as_ref())
        .map(|madt| {
            madt.processors
                .iter()
                .filter(|core| core.enabled && core.apic_id != bootstrap_id)
                .map(|core| core.apic_id)
                .collect()
        })
        .unwrap_or_default();
    let starter = match (trampoline_page, candidates.is_empty()) {
        (_, true) => None,
        (None, false) => {
            println!("ingot: smp: no page below 1 MiB for the start-up code; one core");
            None
        }
        (Some(page), false) => match CoreStarter::new(page) {
            Ok(starter) => Some(starter),
            Err(error) => {
                println!("ingot: smp: cannot prepare start-up code: {error:?}; one core");
                None
            }
        },
    };
    worker::mark_online(0);
    if let Some(starter) = starter {
        starter.reset_all(&apic, &candidates, init_wait_us(), &crate::time::delay_us);
        let arrived = crate::memory::with_kernel_memory(|memory| {
            starter.start_all(
                &mut memory.space,
                &mut memory.frames,
                &apic,
                &candidates[..candidates.len().min(ingot_smp::MAX_CORES - 1)],
                1,
                application_core_main,
                &crate::time::delay_us,
            )
        })
        .unwrap_or(Err(StartError::NoResponse));
        match arrived {
            Ok(arrived) => {
                // Cores are numbered in arrival order; the table stays dense, so only
                // the first run of cores that report in counts (one that took its
                // slot but never reports parks itself, and so do those after it).
                let reported = AP_APIC_IDS.iter().enumerate().skip(1).take(arrived as usize);
                for (index, apic_id) in reported {
                    if !worker::wait_until_online(index) {
                        break;
                    }
                    ids.push(apic_id.load(Ordering::Acquire));
                }
                if ids.len() < candidates.len() + 1 {
                    println!("ingot: smp: {} of {} cores started", ids.len() - 1, candidates.len());
                }
            }
            Err(error) => println!("ingot: smp: no core started: {error:?}"),
        }
    }
    let count = ids.len();
    let mode = match apic.mode() {
        ingot_arch::apic::ApicMode::X2Apic => "x2apic",
        ingot_arch::apic::ApicMode::XApic { .. } => "xapic",
    };
    println!("ingot: smp apic={mode} bootstrap-apic-id={bootstrap_id} cores={count}");
    CORE_APIC_IDS.call_once(|| ids);
    CORE_COUNT.store(count, Ordering::Release);
    worker::release_cores();
    count
}

/// How long to wait after INIT before the start-up IPI: the multiprocessor
/// specification's 10 ms, except under a hypervisor, whose virtual CPUs accept the
/// start-up IPI at once (Linux skips the wait there too). Linux also skips it on Intel
/// family 6+ and AMD family 0x10+; Ingot keeps it on real hardware for now, where
/// 10 ms is small beside firmware's own start-up.
fn init_wait_us() -> u64 {
    let cpuid = raw_cpuid::CpuId::new();
    let under_hypervisor = cpuid.get_feature_info().is_some_and(|info| info.has_hypervisor());
    if under_hypervisor { 0 } else { 10_000 }
}

/// Local APIC timer ticks per millisecond (0 = not calibrated: no timer use).
static APIC_TICKS_PER_MS: AtomicU32 = AtomicU32::new(0);
/// The TSC when [`start_apic_timer_measurement`] started the timer (0: not started).
static APIC_MEASURE_START_TSC: AtomicU64 = AtomicU64::new(0);
/// The least interval the APIC timer is measured over: 100 µs (2,500 ticks even at a
/// 25 MHz bus clock, 0.04 % per tick: ample for a watchdog and millisecond timers).
const APIC_MEASURE_MIN_US: u64 = 100;

/// Enables the bootstrap core's local APIC and starts its timer (divide by 1, masked)
/// counting down from the top, so that [`init`] measures it against the TSC over the
/// boot's work in between instead of waiting for a window of its own.
pub fn start_apic_timer_measurement() {
    let apic = LOCAL_APIC.call_once(|| ingot_platform::apic::enable_local_apic(true));
    apic.start_one_shot(u32::MAX, None);
    APIC_MEASURE_START_TSC.store(ingot_arch::msr::read_tsc(), Ordering::Release);
}

/// Measures the local APIC timer against the TSC: over the interval since
/// [`start_apic_timer_measurement`], waiting only for what is missing of
/// [`APIC_MEASURE_MIN_US`], or over a fresh window of that length if the timer was not
/// started or has run out. All cores share the bus clock it counts, so one
/// measurement serves every core.
fn calibrate_apic_timer(apic: &ingot_arch::apic::LocalApic) {
    let least = APIC_MEASURE_MIN_US * crate::time::tsc_hz() / 1_000_000;
    let mut start = APIC_MEASURE_START_TSC.load(Ordering::Acquire);
    if start == 0 || apic.timer_remaining() == 0 {
        apic.start_one_shot(u32::MAX, None);
        start = ingot_arch::msr::read_tsc();
    }
    while ingot_arch::msr::read_tsc().wrapping_sub(start) < least {
        core::hint::spin_loop();
    }
    let remaining = apic.timer_remaining();
    let cycles = ingot_arch::msr::read_tsc().wrapping_sub(start).max(1);
    apic.start_one_shot(0, None);
    let ticks = u64::from(u32::MAX - remaining);
    let per_ms =
        u128::from(ticks) * u128::from(crate::time::tsc_hz()) / (u128::from(cycles) * 1000);
    let per_ms = u32::try_from(per_ms).unwrap_or(u32::MAX);
    APIC_TICKS_PER_MS.store(per_ms, Ordering::Release);
    println!("ingot: smp apic timer {per_ms} kHz");
}

/// Local APIC timer ticks per millisecond (0 before calibration).
pub fn apic_ticks_per_ms() -> u32 {
    APIC_TICKS_PER_MS.load(Ordering::Acquire)
}

/// Arms the calling core's one-shot timer to interrupt after `ms` milliseconds (0 stops
/// it). Used as a watchdog while a core sleeps.
pub fn arm_timer(ms: u32) {
    let per_ms = APIC_TICKS_PER_MS.load(Ordering::Acquire);
    if let Some(apic) = local_apic()
        && per_ms != 0
    {
        let ticks = per_ms.saturating_mul(ms);
        apic.start_one_shot(ticks, (ticks != 0).then_some(ingot_arch::interrupts::TIMER_VECTOR));
    }
}

/// Every I/O APIC of the MADT, all lines masked (drivers poll today; the first
/// interrupt-driven device routes its line with `ingot_arch::ioapic::redirection_entry`).
static IO_APICS: Once<Vec<ingot_arch::ioapic::IoApic>> = Once::new();

/// The I/O APICs found (empty before `init` or without a MADT).
pub fn io_apics() -> &'static [ingot_arch::ioapic::IoApic] {
    IO_APICS.get().map_or(&[], Vec::as_slice)
}

fn init_io_apics(acpi: Option<&Acpi>) {
    let mut found = Vec::new();
    for entry in
        acpi.and_then(|acpi| acpi.madt.as_ref()).iter().flat_map(|madt| madt.io_apics.iter())
    {
        match ingot_platform::apic::io_apic(u64::from(entry.address), entry.gsi_base) {
            Some(io_apic) => {
                io_apic.mask_all();
                let lines = io_apic.lines();
                println!(
                    "ingot: ioapic id={} gsi={}-{} masked",
                    entry.id,
                    entry.gsi_base,
                    entry.gsi_base + lines - 1
                );
                found.push(io_apic);
            }
            None => println!("ingot: ioapic id={} at {:#x} not usable", entry.id, entry.address),
        }
    }
    IO_APICS.call_once(|| found);
}

/// Masks every line of both 8259 interrupt controllers (data ports 0x21 and 0xA1).
fn mask_legacy_pics() {
    for data_port in [0x21, 0xA1] {
        if let Some(mut port) = crate::console::ports(data_port, 1) {
            port.write_u8(data_port, 0xFF);
        }
    }
}

/// APIC IDs the application cores report for themselves, by core index.
static AP_APIC_IDS: [AtomicU32; ingot_smp::MAX_CORES] =
    [const { AtomicU32::new(0) }; ingot_smp::MAX_CORES];

/// First Rust code on an application core, with its own stack and tables loaded.
fn application_core_main(index: u64) -> ! {
    let index = index as usize;
    let apic = ingot_platform::apic::enable_local_apic(true);
    if let Some(slot) = AP_APIC_IDS.get(index) {
        slot.store(apic.id(), Ordering::Release);
        worker::mark_online(index);
    }
    worker::run_forever(index)
}
