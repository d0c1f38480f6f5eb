//! Time: the TSC, calibrated once against the PIT, as a monotonic nanosecond clock.
//!
//! The PIT's channel 2 counts a known 1.193182 MHz; timing a 2 ms one-shot with the
//! TSC gives the TSC frequency. Without a PIT (it never finishes counting) the kernel
//! falls back to the frequency CPUID reports, or 1 GHz, and says so. The TSC is
//! assumed invariant and synchronised across cores (true on QEMU and modern CPUs).

use core::sync::atomic::{AtomicU64, Ordering};

use ingot_hal::PortIo;

const PIT_HZ: u64 = 1_193_182;
const PIT_CHANNEL2_DATA: u16 = 0x42;
const PIT_COMMAND: u16 = 0x43;
const PIT_GATE_PORT: u16 = 0x61;
const CALIBRATION_TICKS: u64 = 2_386; // 2 ms: ±1 PIT tick is 0.04 %
const FALLBACK_HZ: u64 = 1_000_000_000;
const MIN_PLAUSIBLE_HZ: u64 = 100_000_000;

static TSC_HZ: AtomicU64 = AtomicU64::new(FALLBACK_HZ);

/// How the TSC frequency was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Measured against the PIT.
    Pit,
    /// Taken from CPUID leaf 0x15/0x16.
    Cpuid,
    /// Assumed (1 GHz).
    Assumed,
}

/// Measures the TSC frequency; returns it with its source.
pub fn calibrate(ports: &mut impl PortIo) -> (u64, Source) {
    // Under emulation a measurement can stretch when the host is busy; the shortest of
    // three is the least disturbed.
    let pit = (0..3).filter_map(|_| measure_with_pit(ports)).min();
    let (hz, source) = match pit {
        Some(hz) => (hz, Source::Pit),
        None => match cpuid_tsc_hz() {
            Some(hz) => (hz, Source::Cpuid),
            None => (FALLBACK_HZ, Source::Assumed),
        },
    };
    TSC_HZ.store(hz.max(1), Ordering::Release);
    (hz, source)
}

fn measure_with_pit(ports: &mut impl PortIo) -> Option<u64> {
    let gate = ports.read_u8(PIT_GATE_PORT);
    ports.write_u8(PIT_GATE_PORT, gate & !0x03); // gate low, speaker off
    ports.write_u8(PIT_COMMAND, 0b1011_0000); // channel 2, lobyte/hibyte, mode 0
    ports.write_u8(PIT_CHANNEL2_DATA, CALIBRATION_TICKS as u8);
    ports.write_u8(PIT_CHANNEL2_DATA, (CALIBRATION_TICKS >> 8) as u8);
    ports.write_u8(PIT_GATE_PORT, (gate & !0x02) | 0x01); // gate high: count
    let start = ingot_arch::msr::read_tsc();
    let mut finished = false;
    for _ in 0..50_000_000u64 {
        if ports.read_u8(PIT_GATE_PORT) & 0x20 != 0 {
            finished = true;
            break;
        }
    }
    let elapsed = ingot_arch::msr::read_tsc().wrapping_sub(start);
    ports.write_u8(PIT_GATE_PORT, gate);
    let hz = elapsed * PIT_HZ / CALIBRATION_TICKS;
    // A PIT that is absent reads as finished at once; anything under 100 MHz is not a
    // TSC of a CPU that runs this kernel.
    (finished && hz >= MIN_PLAUSIBLE_HZ).then_some(hz)
}

fn cpuid_tsc_hz() -> Option<u64> {
    let cpuid = raw_cpuid::CpuId::new();
    if let Some(info) = cpuid.get_tsc_info()
        && let Some(hz) = info.tsc_frequency()
    {
        return Some(hz);
    }
    cpuid
        .get_processor_frequency_info()
        .map(|info| u64::from(info.processor_base_frequency()) * 1_000_000)
        .filter(|&hz| hz > 0)
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
    ticks_to_ns(ingot_arch::msr::read_tsc())
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
