//! A monotonic clock ([`ingot_hal::Clock`]) from the time-stamp counter, calibrated
//! once against the PIT (channel 2, 10 ms). Stand-in until the kernel has its own
//! calibrated timer; drivers only see the trait.

use core::sync::atomic::{AtomicU64, Ordering};

/// PIT input frequency.
const PIT_HZ: u64 = 1_193_182;
/// Calibration interval in PIT ticks (10 ms).
const CALIBRATION_TICKS: u64 = 11_932;
/// Assumed TSC rate when the PIT does not answer (a slow guess makes timeouts longer, never shorter).
const FALLBACK_HZ: u64 = 4_000_000_000;

static TSC_HZ: AtomicU64 = AtomicU64::new(0);

/// The TSC as a clock.
#[derive(Debug, Clone, Copy)]
pub struct TscClock {
    hz: u64,
}

fn read_tsc() -> u64 {
    // SAFETY: `rdtsc` only reads the time-stamp counter; it is available on every
    // x86-64 CPU and not disabled in ring 0.
    unsafe { core::arch::x86_64::_rdtsc() }
}

impl TscClock {
    /// The clock; calibrates on first use (10 ms).
    pub fn get() -> Self {
        let mut hz = TSC_HZ.load(Ordering::Acquire);
        if hz == 0 {
            hz = calibrate().unwrap_or(FALLBACK_HZ);
            TSC_HZ.store(hz, Ordering::Release);
        }
        Self { hz }
    }

    /// Ticks per second.
    pub fn hz(&self) -> u64 {
        self.hz
    }
}

impl ingot_hal::Clock for TscClock {
    fn now_ns(&self) -> u64 {
        (u128::from(read_tsc()) * 1_000_000_000 / u128::from(self.hz)) as u64
    }
}

/// Counts TSC ticks while PIT channel 2 counts down 10 ms in mode 0.
fn calibrate() -> Option<u64> {
    // SAFETY: port 0x61 bit 0 gates PIT channel 2 and bit 1 drives the speaker (kept
    // off); 0x42/0x43 program channel 2, which nothing else in the kernel uses.
    unsafe {
        use ingot_arch::port::{read_u8, write_u8};
        let control = read_u8(0x61);
        write_u8(0x61, (control & !0x02) & !0x01);
        write_u8(0x43, 0b1011_0000); // channel 2, low then high byte, mode 0, binary
        write_u8(0x42, CALIBRATION_TICKS as u8);
        write_u8(0x42, (CALIBRATION_TICKS >> 8) as u8);
        write_u8(0x61, (control & !0x02) | 0x01); // gate on: counting starts
        let start = read_tsc();
        let mut polls = 0u64;
        while read_u8(0x61) & 0x20 == 0 {
            polls += 1;
            if polls > 2_000_000 {
                write_u8(0x61, control);
                return None;
            }
        }
        let ticks = read_tsc() - start;
        write_u8(0x61, control);
        (ticks > 0).then(|| ticks * PIT_HZ / CALIBRATION_TICKS)
    }
}
