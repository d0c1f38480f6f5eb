//! Time for timeouts: a monotonic clock and deadlines built on it.

/// A monotonic clock in nanoseconds since an arbitrary start.
pub trait Clock {
    /// Nanoseconds since the clock's start; never goes backwards.
    fn now_ns(&self) -> u64;

    /// Called by [`Deadline::wait`] between two polls that found nothing, with the
    /// deadline: a clock may halt the core here until the device interrupts (the
    /// kernel's clock for an interrupting disk does), as long as it returns by
    /// `until_ns`. The default spins for a moment.
    fn idle(&self, _until_ns: u64) {
        core::hint::spin_loop();
    }
}

/// A device did not answer in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut;

/// A point in time after which a wait gives up.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    end_ns: u64,
}

impl Deadline {
    /// `timeout_ms` milliseconds from now on `clock`.
    pub fn after_ms(clock: &impl Clock, timeout_ms: u64) -> Self {
        Self { end_ns: clock.now_ns().saturating_add(timeout_ms.saturating_mul(1_000_000)) }
    }

    /// Whether the deadline has passed.
    pub fn expired(&self, clock: &impl Clock) -> bool {
        clock.now_ns() >= self.end_ns
    }

    /// Polls `ready` until it returns `Some` or the deadline passes. `ready` is
    /// always tried once more after the deadline, so a slow poll is not a timeout.
    pub fn wait<T>(
        &self,
        clock: &impl Clock,
        mut ready: impl FnMut() -> Option<T>,
    ) -> Result<T, TimedOut> {
        loop {
            let expired = self.expired(clock);
            if let Some(value) = ready() {
                return Ok(value);
            }
            if expired {
                return Err(TimedOut);
            }
            clock.idle(self.end_ns);
        }
    }
}

#[cfg(test)]
mod tests {
    use core::cell::Cell;

    use super::*;

    /// A clock that advances 1 ms per reading and records its `idle` calls.
    struct Recording {
        now: Cell<u64>,
        idles: Cell<u32>,
        until: Cell<u64>,
    }

    impl Clock for Recording {
        fn now_ns(&self) -> u64 {
            self.now.set(self.now.get() + 1_000_000);
            self.now.get()
        }
        fn idle(&self, until_ns: u64) {
            self.idles.set(self.idles.get() + 1);
            self.until.set(until_ns);
        }
    }

    #[test]
    fn a_wait_idles_between_empty_polls_with_the_deadline_and_not_once_ready() {
        let clock = Recording { now: Cell::new(0), idles: Cell::new(0), until: Cell::new(0) };
        let deadline = Deadline::after_ms(&clock, 10);
        let mut polls = 0;
        let got = deadline.wait(&clock, || {
            polls += 1;
            (polls == 4).then_some(polls)
        });
        assert_eq!(got, Ok(4));
        assert_eq!(clock.idles.get(), 3, "one idle after each empty poll");
        assert_eq!(clock.until.get(), 11_000_000, "idle is told the deadline");
        let never = Deadline::after_ms(&clock, 5).wait(&clock, || None::<()>);
        assert_eq!(never, Err(TimedOut));
    }
}
