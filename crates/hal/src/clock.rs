//! Time for timeouts: a monotonic clock and deadlines built on it.

/// A monotonic clock in nanoseconds since an arbitrary start.
pub trait Clock {
    /// Nanoseconds since the clock's start; never goes backwards.
    fn now_ns(&self) -> u64;
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
            core::hint::spin_loop();
        }
    }
}
