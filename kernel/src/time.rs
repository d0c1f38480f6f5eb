//! Time: the TSC, its frequency found once at boot, as a monotonic nanosecond clock.
//!
//! The frequency comes from what the hardware declares (hypervisor leaf 0x40000010,
//! CPUID leaf 0x15), else from measuring the TSC against a reference counter: the ACPI
//! PM timer (the FADT's port; q35 and pc), then PIT channel 0 read through latch
//! commands (which also works on microvm, where there is no port 0x61 to gate channel
//! 2). `ingot_tsc::calibrate` only accepts two measurements in a row that agree, so a
//! busy emulator host cannot slip a wrong frequency in. Without either, CPUID leaf
//! 0x16's base frequency, and last a 1 GHz guess; the boot line names the source. The
//! TSC is assumed invariant and synchronised across cores (true on QEMU and modern CPUs).
//! Measuring windows are short (boot waits for them); before the other cores start,
//! [`refine`] recomputes the PM-timer result over the whole interval since.

use core::sync::atomic::{AtomicU64, Ordering};

use ingot_acpi::Acpi;
use ingot_hal::{PortIoWide, PortRange};
use ingot_tsc::{CalibrationError, ReferenceCounter, Source};

use crate::println;

/// PM-timer measurements before it is given up.
const PM_TIMER_ATTEMPTS: u32 = 16;
/// PM-timer measurements start with 100 µs windows: 358 counts, one count 0.28 %, well
/// inside the 2 % two measurements must agree within. Boot waits for these windows;
/// [`refine`] then makes the result exact over the rest of the boot without waiting.
/// Each refused or disagreeing measurement doubles the window, up to 1 ms: on a busy
/// emulator host a PM-timer read can take microseconds, which spoils a 100 µs window's
/// brackets every time (40 in a row were seen at load 12) but not a 1 ms one's.
const PM_TIMER_WINDOWS_PER_SECOND: u64 = 10_000;
const PM_TIMER_LONGEST_WINDOWS_PER_SECOND: u64 = 1000;
/// The PIT (microvm has no PM timer) is not refined, so its windows stay 1 ms long:
/// 1,193 counts, one count under 0.1 %; at most 16 ms.
const PIT_ATTEMPTS: u32 = 16;
const PIT_WINDOWS_PER_SECOND: u64 = 1000;
/// The least interval [`refine`] accepts: 500 µs of PM-timer counts (1,790, one count
/// under 0.06 %, and over twice the calibration's own two windows). Under `-icount`
/// the boot's work between the two is about 1 ms; on real machines and under plain
/// TCG it is tens of milliseconds.
const REFINE_MIN_COUNTS: u64 = PM_TIMER_HZ / 2000;
const PM_TIMER_HZ: u64 = 3_579_545;

static TSC_HZ: AtomicU64 = AtomicU64::new(ingot_tsc::GUESS_HZ);
/// The clock reads `NS_AT_BASE` at TSC value `TSC_AT_BASE` (both 0 until [`refine`]
/// changes the frequency: it moves the base so that the clock runs on without a jump).
static NS_AT_BASE: AtomicU64 = AtomicU64::new(0);
static TSC_AT_BASE: AtomicU64 = AtomicU64::new(0);

/// Where a PM-timer calibration ended: the start of [`refine`]'s interval.
struct RefineStart {
    port: u16,
    wide: bool,
    sample: ingot_tsc::Sample,
}

static REFINE_START: spin::Once<RefineStart> = spin::Once::new();

/// The ports calibration may touch: the PIT (0x40-0x43), its channel-2 gate (0x61)
/// and, where the FADT names one, the ACPI PM timer's 32-bit port. Runs before the
/// heap exists, so the ranges come back in a fixed array with their count.
pub fn reference_ports(acpi: Option<&Acpi>) -> ([PortRange; 3], usize) {
    let pm_timer = acpi
        .and_then(|acpi| acpi.fadt.as_ref())
        .and_then(|fadt| fadt.pm_timer)
        .and_then(|port| PortRange::new(port, 4));
    let mut ranges = [PortRange::ALL; 3];
    let mut count = 0;
    for range in [PortRange::new(0x40, 4), PortRange::new(0x61, 1), pm_timer].into_iter().flatten()
    {
        ranges[count] = range;
        count += 1;
    }
    (ranges, count)
}

/// Finds the TSC frequency; returns it with its source.
pub fn calibrate(ports: &mut impl PortIoWide, acpi: Option<&Acpi>) -> (u64, Source) {
    let (hz, source) = find_frequency(ports, acpi);
    TSC_HZ.store(hz.max(1), Ordering::Release);
    (hz, source)
}

fn find_frequency(ports: &mut impl PortIoWide, acpi: Option<&Acpi>) -> (u64, Source) {
    let cpuid = raw_cpuid::CpuId::new();
    let tsc_info = cpuid.get_tsc_info();
    let declared = ingot_tsc::Declared {
        hypervisor_khz: cpuid.get_hypervisor_info().and_then(|info| info.tsc_frequency()),
        leaf_15_hz: tsc_info.as_ref().and_then(|info| info.tsc_frequency()),
        leaf_15_ratio: tsc_info
            .as_ref()
            .is_some_and(|info| info.numerator() != 0 && info.denominator() != 0),
        leaf_16_base_mhz: cpuid
            .get_processor_frequency_info()
            .map(|info| info.processor_base_frequency()),
    };
    if let Some(declared) = ingot_tsc::declared(declared) {
        return declared;
    }
    let mut tsc = ingot_arch::msr::read_tsc;
    let pm_timer = acpi.and_then(|acpi| acpi.fadt.as_ref()).and_then(|fadt| {
        fadt.pm_timer.map(|port| PmTimer {
            ports: &mut *ports,
            port,
            wide: fadt.pm_timer_is_32_bit(),
        })
    });
    if let Some(mut timer) = pm_timer
        && let Some(hz) = calibrate_with(
            &mut timer,
            &mut tsc,
            Source::AcpiPmTimer,
            (PM_TIMER_WINDOWS_PER_SECOND, PM_TIMER_LONGEST_WINDOWS_PER_SECOND),
            PM_TIMER_ATTEMPTS,
        )
    {
        let sample = ingot_tsc::sample(&mut timer, &mut tsc);
        REFINE_START.call_once(|| RefineStart { port: timer.port, wide: timer.wide, sample });
        return (hz, Source::AcpiPmTimer);
    }
    let mut pit = Pit::start(ports);
    if pit.counts()
        && let Some(hz) = calibrate_with(
            &mut pit,
            &mut tsc,
            Source::Pit,
            (PIT_WINDOWS_PER_SECOND, PIT_WINDOWS_PER_SECOND),
            PIT_ATTEMPTS,
        )
    {
        return (hz, Source::Pit);
    }
    match cpuid.get_processor_frequency_info().map(|info| info.processor_base_frequency()) {
        Some(mhz) if ingot_tsc::plausible(u64::from(mhz) * 1_000_000) => {
            (u64::from(mhz) * 1_000_000, Source::CpuidBaseFrequency)
        }
        _ => (ingot_tsc::GUESS_HZ, Source::Guess),
    }
}

/// Recomputes the frequency over the whole interval since a PM-timer calibration
/// (the boot's work in between, no waiting), if that is long enough and agrees with
/// the quick measurement; the clock runs on from its current reading. To be called
/// once, while the bootstrap core is the only one running (the base moves in two
/// steps). Returns the new frequency, or `None` (said why) when it is kept.
pub fn refine(ports: &mut impl PortIoWide) -> Option<u64> {
    let start = REFINE_START.get()?;
    let mut timer = PmTimer { ports, port: start.port, wide: start.wide };
    let mut tsc = ingot_arch::msr::read_tsc;
    let end = ingot_tsc::sample(&mut timer, &mut tsc);
    let quick = tsc_hz();
    let bits = timer.bits();
    let Some(hz) =
        ingot_tsc::refine(quick, start.sample, end, PM_TIMER_HZ, bits, REFINE_MIN_COUNTS)
    else {
        println!("ingot: tsc: not refined (interval too short, disturbed or disagreeing)");
        return None;
    };
    let now_tsc = ingot_arch::msr::read_tsc();
    NS_AT_BASE.store(ns_at(now_tsc), Ordering::Release);
    TSC_AT_BASE.store(now_tsc, Ordering::Release);
    TSC_HZ.store(hz, Ordering::Release);
    let us = u128::from(end.tsc - start.sample.tsc) * 1_000_000 / u128::from(hz);
    println!("ingot: tsc refined to {} kHz over {us} us", hz / 1000);
    Some(hz)
}

/// Calibrates against `reference`, reporting a reference that disagrees with itself.
/// `(first, longest)`: the first and the longest window, as windows per second.
fn calibrate_with(
    reference: &mut impl ReferenceCounter,
    tsc: &mut impl ingot_tsc::CycleCounter,
    source: Source,
    (first, longest): (u64, u64),
    attempts: u32,
) -> Option<u64> {
    let hz = reference.hz();
    match ingot_tsc::calibrate_growing(reference, tsc, hz / first, hz / longest, attempts) {
        Ok(calibration) => {
            if calibration.discarded > 0 {
                println!(
                    "ingot: tsc: {} measurement(s) against the {source} discarded (disturbed or disagreeing)",
                    calibration.discarded
                );
            }
            Some(calibration.hz)
        }
        Err(CalibrationError::NoReading) => {
            println!("ingot: tsc: the {source} does not count; not used");
            None
        }
        Err(CalibrationError::Disagreement { previous, last }) => {
            let mhz = |hz: Option<u64>| hz.map_or(0, |hz| hz / 1_000_000);
            println!(
                "ingot: tsc: {attempts} measurements against the {source} never agreed (last {} and {} MHz); not used",
                mhz(previous),
                mhz(last)
            );
            None
        }
    }
}

/// The ACPI PM timer: a 24- or 32-bit counter at 3.579545 MHz on an I/O port.
struct PmTimer<'p, P> {
    ports: &'p mut P,
    port: u16,
    wide: bool,
}

impl<P: PortIoWide> ReferenceCounter for PmTimer<'_, P> {
    fn hz(&self) -> u64 {
        PM_TIMER_HZ
    }
    fn bits(&self) -> u32 {
        if self.wide { 32 } else { 24 }
    }
    fn read(&mut self) -> u64 {
        u64::from(self.ports.read_u32(self.port))
    }
}

const PIT_CHANNEL0_DATA: u16 = 0x40;
const PIT_COMMAND: u16 = 0x43;

/// PIT channel 0 as a free-running 16-bit counter at 1.193182 MHz: mode 2 (rate
/// generator, counts down by one) with the full 65536 reload, read with latch commands.
/// Interrupts are off (and the PICs are masked once the cores start), so its output
/// is never delivered.
struct Pit<'p, P> {
    ports: &'p mut P,
}

impl<'p, P: PortIoWide> Pit<'p, P> {
    fn start(ports: &'p mut P) -> Self {
        ports.write_u8(PIT_COMMAND, 0b0011_0100); // channel 0, lobyte/hibyte, mode 2
        ports.write_u8(PIT_CHANNEL0_DATA, 0);
        ports.write_u8(PIT_CHANNEL0_DATA, 0);
        Self { ports }
    }

    /// Whether the counter moves at all (an absent PIT reads a constant 0xFFFF).
    fn counts(&mut self) -> bool {
        let first = self.read();
        (0..10_000).any(|_| self.read() != first)
    }
}

impl<P: PortIoWide> ReferenceCounter for Pit<'_, P> {
    fn hz(&self) -> u64 {
        1_193_182
    }
    fn bits(&self) -> u32 {
        16
    }
    fn read(&mut self) -> u64 {
        self.ports.write_u8(PIT_COMMAND, 0); // latch channel 0
        let low = self.ports.read_u8(PIT_CHANNEL0_DATA);
        let high = self.ports.read_u8(PIT_CHANNEL0_DATA);
        let down = u64::from(u16::from_le_bytes([low, high]));
        // Counting down from 65536; as an up-counter modulo 2^16:
        0x1_0000u64.wrapping_sub(down) & 0xFFFF
    }
}

/// TSC ticks per second.
pub fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Acquire)
}

/// Converts TSC ticks to nanoseconds.
pub fn ticks_to_ns(ticks: u64) -> u64 {
    (u128::from(ticks) * 1_000_000_000 / u128::from(tsc_hz())) as u64
}

/// Nanoseconds since the TSC started (monotonic).
pub fn now_ns() -> u64 {
    ns_at(ingot_arch::msr::read_tsc())
}

/// The clock's reading at TSC value `tsc`.
fn ns_at(tsc: u64) -> u64 {
    let base_tsc = TSC_AT_BASE.load(Ordering::Acquire);
    NS_AT_BASE.load(Ordering::Acquire) + ticks_to_ns(tsc.wrapping_sub(base_tsc))
}

/// Busy-waits `us` microseconds.
pub fn delay_us(us: u64) {
    let ticks = (u128::from(us) * u128::from(tsc_hz()) / 1_000_000) as u64;
    let start = ingot_arch::msr::read_tsc();
    while ingot_arch::msr::read_tsc().wrapping_sub(start) < ticks {
        core::hint::spin_loop();
    }
}

/// The kernel's clock for drivers' timeouts (`ingot_hal::Clock` over [`now_ns`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct KernelClock;

impl ingot_hal::Clock for KernelClock {
    fn now_ns(&self) -> u64 {
        now_ns()
    }
}
