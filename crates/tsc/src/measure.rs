//! Measuring the TSC against a reference counter, and accepting only measurements that
//! agree with each other.

use crate::source::plausible;

/// A free-running counter of known rate (counting up, wrapping at `2^bits`).
pub trait ReferenceCounter {
    /// Counts per second.
    fn hz(&self) -> u64;
    /// Width in bits.
    fn bits(&self) -> u32;
    /// The current count (only the low `bits` bits matter).
    fn read(&mut self) -> u64;
}

/// The counter being measured (the TSC).
pub trait CycleCounter {
    /// The current count.
    fn read(&mut self) -> u64;
}

impl<F: FnMut() -> u64> CycleCounter for F {
    fn read(&mut self) -> u64 {
        self()
    }
}

/// Two measurements in a row must agree within this many percent.
pub const AGREEMENT_PERCENT: u64 = 2;
/// The TSC reads around each reference read may together span at most this share
/// (in thousandths) of the measured interval; more means the guest was stalled
/// between the reads and the interval's ends are not known well enough.
const MAX_BRACKET_PERMILLE: u64 = 5;
/// Reads in a row that see the reference unchanged before it is taken for dead.
const MAX_IDLE_READS: u32 = 100_000;

/// An accepted calibration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calibration {
    /// TSC ticks per second.
    pub hz: u64,
    /// Measurements thrown away before two agreed.
    pub discarded: u32,
}

/// Why no calibration was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalibrationError {
    /// The reference never gave a usable measurement (it does not count).
    NoReading,
    /// Measurements were taken but no two in a row agreed; the last two.
    Disagreement {
        /// The second-to-last plausible measurement, if any.
        previous: Option<u64>,
        /// The last measurement, if plausible.
        last: Option<u64>,
    },
}

/// One measurement: the TSC's ticks per second over about `window` reference counts
/// (at most half the reference's wrap period). `None` if the reference does not count
/// or a stall between reads makes the interval's ends too uncertain.
pub fn measure(
    reference: &mut impl ReferenceCounter,
    tsc: &mut impl CycleCounter,
    window: u64,
) -> Option<u64> {
    let mask = if reference.bits() >= 64 { u64::MAX } else { (1u64 << reference.bits()) - 1 };
    let window = window.clamp(1, mask / 2);
    let (start_tsc, start_width, first) = bracketed(reference, tsc, mask);
    let mut last = first;
    let mut elapsed = 0u64;
    let mut idle_reads = 0u32;
    while elapsed < window {
        let now = reference.read() & mask;
        let step = now.wrapping_sub(last) & mask;
        if step == 0 {
            idle_reads += 1;
            if idle_reads > MAX_IDLE_READS {
                return None;
            }
        } else {
            idle_reads = 0;
        }
        elapsed += step;
        last = now;
    }
    let (end_tsc, end_width, end) = bracketed(reference, tsc, mask);
    elapsed += end.wrapping_sub(last) & mask;
    let cycles = end_tsc.checked_sub(start_tsc).filter(|&cycles| cycles > 0)?;
    if u128::from(start_width + end_width) * 1000
        > u128::from(cycles) * u128::from(MAX_BRACKET_PERMILLE)
    {
        return None;
    }
    let hz = u128::from(cycles) * u128::from(reference.hz()) / u128::from(elapsed);
    u64::try_from(hz).ok()
}

/// Both clocks read at one moment: the reference between two TSC reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Midpoint of the two TSC reads.
    pub tsc: u64,
    /// TSC ticks between the two reads (how uncertain the moment is).
    pub width: u64,
    /// The reference's count (low `bits` bits).
    pub reference: u64,
}

/// Takes a [`Sample`].
pub fn sample(reference: &mut impl ReferenceCounter, tsc: &mut impl CycleCounter) -> Sample {
    let mask = if reference.bits() >= 64 { u64::MAX } else { (1u64 << reference.bits()) - 1 };
    let (tsc, width, reference) = bracketed(reference, tsc, mask);
    Sample { tsc, width, reference }
}

/// The TSC frequency over the long interval from `start` to `end` (two samples
/// against a reference of `reference_hz` and `bits` bits), to refine `quick_hz` from a
/// short calibration at no cost in waiting: the interval is time the machine spent on
/// other work. `None`, keeping the quick value, unless the interval is at least
/// `min_counts` reference counts, under half the reference's wrap period (so no wrap
/// went unseen), its ends are known within [`MAX_BRACKET_PERMILLE`], and the result is
/// plausible and agrees with `quick_hz`.
pub fn refine(
    quick_hz: u64,
    start: Sample,
    end: Sample,
    reference_hz: u64,
    bits: u32,
    min_counts: u64,
) -> Option<u64> {
    let mask = if bits >= 64 { u64::MAX } else { (1u64 << bits) - 1 };
    let counts = end.reference.wrapping_sub(start.reference) & mask;
    let cycles = end.tsc.checked_sub(start.tsc).filter(|&cycles| cycles > 0)?;
    // Half a wrap period in TSC ticks, by the quick frequency: a longer interval may
    // hide a wrap even though the counts look fine.
    let half_wrap_cycles = u128::from(mask / 2) * u128::from(quick_hz) / u128::from(reference_hz);
    if counts < min_counts || counts > mask / 2 || u128::from(cycles) > half_wrap_cycles {
        return None;
    }
    if u128::from(start.width + end.width) * 1000
        > u128::from(cycles) * u128::from(MAX_BRACKET_PERMILLE)
    {
        return None;
    }
    let hz =
        u64::try_from(u128::from(cycles) * u128::from(reference_hz) / u128::from(counts)).ok()?;
    (plausible(hz) && agree(hz, quick_hz)).then_some(hz)
}

/// Reads the reference between two TSC reads: (TSC midpoint, TSC span, reference).
fn bracketed(
    reference: &mut impl ReferenceCounter,
    tsc: &mut impl CycleCounter,
    mask: u64,
) -> (u64, u64, u64) {
    let before = tsc.read();
    let count = reference.read() & mask;
    let after = tsc.read();
    let width = after.saturating_sub(before);
    (before + width / 2, width, count)
}

/// Whether two measurements agree within [`AGREEMENT_PERCENT`].
pub fn agree(a: u64, b: u64) -> bool {
    u128::from(a.abs_diff(b)) * 100 <= u128::from(a.max(b)) * u128::from(AGREEMENT_PERCENT)
}

/// Measures up to `attempts` times and accepts the first two plausible measurements in
/// a row that agree (their mean).
pub fn calibrate(
    reference: &mut impl ReferenceCounter,
    tsc: &mut impl CycleCounter,
    window: u64,
    attempts: u32,
) -> Result<Calibration, CalibrationError> {
    calibrate_growing(reference, tsc, window, window, attempts)
}

/// [`calibrate`] starting with windows of `first_window` reference counts and doubling
/// the window, up to `most_window`, after every measurement that is refused or does
/// not agree with the one before. An undisturbed machine pays for two short windows; a
/// busy emulator host, whose slow reference reads spoil short windows' brackets, soon
/// gets windows long enough for its reads.
pub fn calibrate_growing(
    reference: &mut impl ReferenceCounter,
    tsc: &mut impl CycleCounter,
    first_window: u64,
    most_window: u64,
    attempts: u32,
) -> Result<Calibration, CalibrationError> {
    let mut previous: Option<u64> = None;
    let mut before_previous: Option<u64> = None;
    let mut any_reading = false;
    let mut window = first_window;
    for taken in 1..=attempts {
        let reading = measure(reference, tsc, window);
        any_reading |= reading.is_some();
        let current = reading.filter(|&hz| plausible(hz));
        match (previous, current) {
            (Some(a), Some(b)) if agree(a, b) => {
                return Ok(Calibration {
                    hz: a / 2 + b / 2 + (a % 2 + b % 2) / 2,
                    discarded: taken - 2,
                });
            }
            (_, None) | (Some(_), Some(_)) => {
                window = window.saturating_mul(2).min(most_window.max(first_window));
            }
            (None, Some(_)) => {}
        }
        before_previous = previous.or(before_previous);
        previous = current;
    }
    if any_reading {
        Err(CalibrationError::Disagreement { previous: before_previous, last: previous })
    } else {
        Err(CalibrationError::NoReading)
    }
}

#[cfg(test)]
mod tests {
    use core::cell::{Cell, RefCell};
    use std::collections::VecDeque;

    use super::*;

    /// A simulated machine: every read costs `read_ns`; `stalls` holds extra delays
    /// (ns) applied before the n-th read (counting all reads of both clocks).
    struct Machine {
        now_ns: Cell<u128>,
        reads: Cell<u64>,
        read_ns: u128,
        stalls: RefCell<VecDeque<(u64, u128)>>,
    }

    impl Machine {
        fn new(read_ns: u128) -> Self {
            Self {
                now_ns: Cell::new(0),
                reads: Cell::new(0),
                read_ns,
                stalls: RefCell::new(VecDeque::new()),
            }
        }

        fn tick(&self) -> u128 {
            let read = self.reads.get();
            self.reads.set(read + 1);
            let mut stalls = self.stalls.borrow_mut();
            if stalls.front().is_some_and(|&(at, _)| at == read) {
                let (_, ns) = stalls.pop_front().unwrap();
                self.now_ns.set(self.now_ns.get() + ns);
            }
            self.now_ns.set(self.now_ns.get() + self.read_ns);
            self.now_ns.get()
        }

        fn tsc(&self, hz: u128) -> impl FnMut() -> u64 + '_ {
            move || (self.tick() * hz / 1_000_000_000) as u64
        }
    }

    struct Counter<'m> {
        machine: &'m Machine,
        hz: u64,
        bits: u32,
        dead: bool,
    }

    impl ReferenceCounter for Counter<'_> {
        fn hz(&self) -> u64 {
            self.hz
        }
        fn bits(&self) -> u32 {
            self.bits
        }
        fn read(&mut self) -> u64 {
            let ns = self.machine.tick();
            if self.dead { 0xFF_FFFF } else { (ns * u128::from(self.hz) / 1_000_000_000) as u64 }
        }
    }

    const PM_TIMER_HZ: u64 = 3_579_545;
    const PIT_HZ: u64 = 1_193_182;

    fn within(value: u64, expected: u64, permille: u64) -> bool {
        value.abs_diff(expected) * 1000 <= expected * permille
    }

    #[test]
    fn measures_against_a_24_bit_pm_timer() {
        let machine = Machine::new(700);
        let mut timer = Counter { machine: &machine, hz: PM_TIMER_HZ, bits: 24, dead: false };
        let hz = measure(&mut timer, &mut machine.tsc(2_600_000_000), PM_TIMER_HZ / 100).unwrap();
        assert!(within(hz, 2_600_000_000, 1), "{hz}");
    }

    #[test]
    fn measures_across_the_wraps_of_a_16_bit_pit() {
        let machine = Machine::new(900);
        let mut pit = Counter { machine: &machine, hz: PIT_HZ, bits: 16, dead: false };
        // Ask for 100 ms: clamped to half a wrap period (27 ms), still exact.
        let hz = measure(&mut pit, &mut machine.tsc(2_300_000_000), PIT_HZ / 10).unwrap();
        assert!(within(hz, 2_300_000_000, 1), "{hz}");
    }

    #[test]
    fn a_long_stall_inside_the_window_does_not_skew_the_result() {
        // The emulator stops the guest for 5 ms in the middle (no wrap missed on a
        // 24-bit PM timer): both clocks move on together, so the ratio stays right.
        let machine = Machine::new(700);
        machine.stalls.borrow_mut().push_back((200, 5_000_000));
        let mut timer = Counter { machine: &machine, hz: PM_TIMER_HZ, bits: 24, dead: false };
        let hz = measure(&mut timer, &mut machine.tsc(2_600_000_000), PM_TIMER_HZ / 100).unwrap();
        assert!(within(hz, 2_600_000_000, 1), "{hz}");
    }

    #[test]
    fn a_stall_between_the_bracketing_reads_rejects_the_measurement() {
        let machine = Machine::new(700);
        // Read 1 is the reference read inside the first bracket: 1 ms lost there.
        machine.stalls.borrow_mut().push_back((1, 1_000_000));
        let mut timer = Counter { machine: &machine, hz: PM_TIMER_HZ, bits: 24, dead: false };
        assert_eq!(measure(&mut timer, &mut machine.tsc(2_600_000_000), PM_TIMER_HZ / 100), None);
    }

    #[test]
    fn a_counter_that_never_moves_gives_no_reading() {
        let machine = Machine::new(700);
        let mut absent = Counter { machine: &machine, hz: PM_TIMER_HZ, bits: 24, dead: true };
        let mut tsc = machine.tsc(2_600_000_000);
        assert_eq!(measure(&mut absent, &mut tsc, PM_TIMER_HZ / 100), None);
        assert_eq!(
            calibrate(&mut absent, &mut tsc, PM_TIMER_HZ / 100, 3),
            Err(CalibrationError::NoReading)
        );
    }

    #[test]
    fn a_missed_wrap_is_caught_by_disagreement_and_measured_again() {
        // A 60 ms stall during the first measurement hides a whole PIT wrap (55 ms):
        // that measurement reads far too high (like the 6289 MHz once seen under load).
        let machine = Machine::new(900);
        machine.stalls.borrow_mut().push_back((500, 60_000_000));
        let mut pit = Counter { machine: &machine, hz: PIT_HZ, bits: 16, dead: false };
        let mut tsc = machine.tsc(2_300_000_000);
        let first = measure(&mut pit, &mut tsc, PIT_HZ / 100).unwrap();
        assert!(first > 2_600_000_000, "the stalled measurement is off: {first}");
        machine.reads.set(0);
        machine.stalls.borrow_mut().push_back((500, 60_000_000));
        let calibration = calibrate(&mut pit, &mut tsc, PIT_HZ / 100, 6).unwrap();
        assert!(within(calibration.hz, 2_300_000_000, 2), "{calibration:?}");
        assert_eq!(calibration.discarded, 1);
    }

    #[test]
    fn measurements_that_never_agree_are_refused_not_averaged() {
        // A stall hides a wrap in every other measurement: each pair disagrees.
        let machine = Machine::new(900);
        let mut pit = Counter { machine: &machine, hz: PIT_HZ, bits: 16, dead: false };
        let mut tsc = machine.tsc(2_300_000_000);
        // Each 10 ms measurement takes about 11,000 reads here; stall the middle of
        // measurements 1 and 3 only, so 1-2 and 2-3 and 3-4 pairs all disagree.
        let reads_per_measurement = {
            let start = machine.reads.get();
            measure(&mut pit, &mut tsc, PIT_HZ / 100).unwrap();
            machine.reads.get() - start
        };
        let base = machine.reads.get();
        for n in [0, 2] {
            let at = base + n * reads_per_measurement + reads_per_measurement / 2;
            machine.stalls.borrow_mut().push_back((at, 60_000_000));
        }
        let outcome = calibrate(&mut pit, &mut tsc, PIT_HZ / 100, 3);
        assert!(matches!(outcome, Err(CalibrationError::Disagreement { .. })), "{outcome:?}");
    }

    #[test]
    fn a_long_interval_refines_a_quick_calibration() {
        let machine = Machine::new(700);
        let mut timer = Counter { machine: &machine, hz: PM_TIMER_HZ, bits: 24, dead: false };
        let mut tsc = machine.tsc(2_600_000_000);
        // The quick value is 0.3 % off, as a 250 µs window may be.
        let quick = 2_607_800_000;
        let start = sample(&mut timer, &mut tsc);
        machine.now_ns.set(machine.now_ns.get() + 20_000_000); // 20 ms of other work
        let end = sample(&mut timer, &mut tsc);
        let refined = refine(quick, start, end, PM_TIMER_HZ, 24, PM_TIMER_HZ / 1000).unwrap();
        assert!(within(refined, 2_600_000_000, 1), "{refined}");
    }

    #[test]
    fn refining_refuses_short_wrapped_stalled_or_disagreeing_intervals() {
        let machine = Machine::new(700);
        let mut timer = Counter { machine: &machine, hz: PM_TIMER_HZ, bits: 24, dead: false };
        let mut tsc = machine.tsc(2_600_000_000);
        let quick = 2_600_000_000;
        let min = PM_TIMER_HZ / 1000;
        let mut after = |ns: u128| {
            let start = sample(&mut timer, &mut tsc);
            machine.now_ns.set(machine.now_ns.get() + ns);
            (start, sample(&mut timer, &mut tsc))
        };
        let (start, end) = after(100_000);
        assert_eq!(refine(quick, start, end, PM_TIMER_HZ, 24, min), None, "under 1 ms");
        // 5 s: the 24-bit timer wrapped (4.7 s); its counts alone look like 0.3 s.
        let (start, end) = after(5_000_000_000);
        assert_eq!(refine(quick, start, end, PM_TIMER_HZ, 24, min), None, "wrapped");
        let (start, mut end) = after(10_000_000);
        end.width = 1_000_000; // the guest stalled between the end's reads
        assert_eq!(refine(quick, start, end, PM_TIMER_HZ, 24, min), None, "stalled");
        let (start, end) = after(10_000_000);
        assert_eq!(refine(2_000_000_000, start, end, PM_TIMER_HZ, 24, min), None, "disagrees");
    }

    #[test]
    fn windows_grow_until_slow_reads_no_longer_spoil_them() {
        // Every read takes 1 µs: the two brackets of a measurement span 4 µs, over the
        // 0.5 % that windows up to 400 µs allow, inside what 800 µs and 1 ms allow.
        let machine = Machine::new(1_000);
        let mut timer = Counter { machine: &machine, hz: PM_TIMER_HZ, bits: 24, dead: false };
        let mut tsc = machine.tsc(2_600_000_000);
        let short = PM_TIMER_HZ / 10_000;
        assert_eq!(
            calibrate(&mut timer, &mut tsc, short, 8),
            Err(CalibrationError::NoReading),
            "fixed 100 µs windows never give a usable reading"
        );
        let grown = calibrate_growing(&mut timer, &mut tsc, short, short * 10, 8).unwrap();
        assert!(within(grown.hz, 2_600_000_000, 5), "{grown:?}");
        assert_eq!(grown.discarded, 3, "100, 200 and 400 µs refused; 800 µs and 1 ms agree");
    }

    #[test]
    fn agreement_is_relative() {
        assert!(agree(2_300_000_000, 2_340_000_000));
        assert!(!agree(2_300_000_000, 2_400_000_000));
        assert!(!agree(2_300_000_000, 6_289_000_000));
    }
}
