//! Events that end a wait, and the handshake that lets a core halt for them without
//! ever missing one.
//!
//! An event is one bit of a 64-bit set (the bits are the program API's, see
//! `ingot_abi::events`). Interrupt handlers only [`Events::publish`] their source's
//! bit and then [`Events::wake_waiters`]; the core that asked for it halts meanwhile.
//! A waiting core [`Events::begin_wait`]s (stores the set it waits for), then
//! [`Events::take`]s the pending bits of that set, halts only when there were none,
//! and [`Events::end_wait`]s when it runs again. Every step is one sequentially
//! consistent read-modify-write or load, so the two sides form a Dekker pair: either
//! the handler's scan sees the waiter's set (and sends it a wake-up, which a core that
//! has not halted yet keeps pending, so its halt ends at once), or the waiter's take
//! comes after the handler's publish and returns the bit. `tests.rs` checks every
//! interleaving of these steps with a model of a halting core.
//!
//! [`HaltedTime`] counts per core how long it was halted, for the idle counters.
#![no_std]
#![forbid(unsafe_code)]

mod halted;
#[cfg(test)]
mod tests;

pub use halted::HaltedTime;

use core::sync::atomic::{AtomicU64, Ordering};

/// Most cores the tables hold (the work queue's limit).
pub const MAX_CORES: usize = 256;

/// Pending events and which core waits for which.
pub struct Events {
    /// Events raised and not yet taken by a wait.
    pending: AtomicU64,
    /// Per core: the set it waits for (0 = not waiting).
    waiting: [AtomicU64; MAX_CORES],
}

impl Events {
    /// Nothing pending, nobody waiting (usable in a `static`).
    pub const fn new() -> Self {
        Self { pending: AtomicU64::new(0), waiting: [const { AtomicU64::new(0) }; MAX_CORES] }
    }

    /// An interrupt handler records `bits`; the first step of raising an event.
    pub fn publish(&self, bits: u64) {
        self.pending.fetch_or(bits, Ordering::SeqCst);
    }

    /// After [`Self::publish`]: calls `wake` for every core among the first `cores`
    /// that waits for one of `bits` (the caller sends it a wake-up IPI, or nothing
    /// when it is the calling core, whose halt the interrupt itself ended).
    pub fn wake_waiters(&self, bits: u64, cores: usize, mut wake: impl FnMut(usize)) {
        for core in 0..cores.min(MAX_CORES) {
            if self.waits_for(core, bits) {
                wake(core);
            }
        }
    }

    /// Whether `core` waits for one of `bits` (one load: the scan's step per core).
    pub fn waits_for(&self, core: usize, bits: u64) -> bool {
        self.waiting.get(core).is_some_and(|waiting| waiting.load(Ordering::SeqCst) & bits != 0)
    }

    /// Publishes `bits` and wakes their waiters.
    pub fn raise(&self, bits: u64, cores: usize, wake: impl FnMut(usize)) {
        self.publish(bits);
        self.wake_waiters(bits, cores, wake);
    }

    /// `core` is about to wait for `set`. It must [`Self::take`] afterwards, halt
    /// only if that returned nothing, and [`Self::end_wait`] when it runs again.
    pub fn begin_wait(&self, core: usize, set: u64) {
        if let Some(waiting) = self.waiting.get(core) {
            waiting.store(set, Ordering::SeqCst);
        }
    }

    /// Takes (clears and returns) the pending events of `set`.
    pub fn take(&self, set: u64) -> u64 {
        self.pending.fetch_and(!set, Ordering::SeqCst) & set
    }

    /// Whether any event of `set` is pending (without taking it).
    pub fn peek(&self, set: u64) -> u64 {
        self.pending.load(Ordering::SeqCst) & set
    }

    /// `core` no longer waits.
    pub fn end_wait(&self, core: usize) {
        if let Some(waiting) = self.waiting.get(core) {
            waiting.store(0, Ordering::SeqCst);
        }
    }

    /// What `core` waits for now (0 = nothing).
    pub fn waiting_for(&self, core: usize) -> u64 {
        self.waiting.get(core).map_or(0, |waiting| waiting.load(Ordering::SeqCst))
    }
}

impl Default for Events {
    fn default() -> Self {
        Self::new()
    }
}
