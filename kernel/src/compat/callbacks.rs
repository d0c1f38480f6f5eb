//! The timer, network and keyboard callbacks (`CALLBACK_TIMER`, `_NETWORK`,
//! `_KEYBOARD`), which the reference stores but never calls.
//!
//! Ingot runs all code with interrupts off and has no periodic interrupt, so the
//! callbacks are polled: by every core in its idle loop (an idle core wakes at least
//! every 10 ms) and by the calling core at the start of every compatible call. So on a
//! machine with a core to spare they fire while the program computes; on one core they
//! fire whenever the program calls the table. One callback runs at a time, on whichever
//! core polled, on that core's stack, entered BareMetal's way (`call`, RAX = its
//! address, other registers zero); it may use the table.
//! - timer: every [`TIMER_PERIOD_NS`] (100 Hz), a tick that came late is not repeated;
//! - network: when a frame arrived on any interface; the frame is held and is the next
//!   one `b_net_rx` returns on that interface;
//! - keyboard: when an input byte arrived; it is held and is what `b_input` returns.

use core::sync::atomic::{AtomicU16, AtomicU64, AtomicUsize, Ordering};

use ingot_abi::Error;

use crate::{console, net, program, time};

/// Time between two timer callbacks.
pub const TIMER_PERIOD_NS: u64 = 10_000_000;

/// Which callback.
#[derive(Clone, Copy)]
pub enum Kind {
    /// `CALLBACK_TIMER`.
    Timer,
    /// `CALLBACK_NETWORK`.
    Network,
    /// `CALLBACK_KEYBOARD`.
    Keyboard,
}

static TIMER: AtomicU64 = AtomicU64::new(0);
static NETWORK: AtomicU64 = AtomicU64::new(0);
static KEYBOARD: AtomicU64 = AtomicU64::new(0);
static NEXT_TICK_NS: AtomicU64 = AtomicU64::new(0);
/// The core polling or running callbacks, plus one (0: none), so callbacks never nest
/// or run on two cores at once, and a change waits for a callback in flight.
static RUNNING: AtomicUsize = AtomicUsize::new(0);
/// An input byte taken for the keyboard callback: 0x100 | byte, or 0.
static HELD_KEY: AtomicU16 = AtomicU16::new(0);

fn slot(kind: Kind) -> &'static AtomicU64 {
    match kind {
        Kind::Timer => &TIMER,
        Kind::Network => &NETWORK,
        Kind::Keyboard => &KEYBOARD,
    }
}

/// Sets (or with 0 clears) a callback; the address must be program code. Returns once
/// no other core is polling or running callbacks, so after clearing one it never runs
/// again (a callback that changes callbacks does not wait for itself).
pub fn set(kind: Kind, address: u64) -> Result<(), Error> {
    if address != 0 {
        program::window().ok_or(Error::NotFound)?.check_range(address, 1)?;
    }
    if let Kind::Timer = kind {
        NEXT_TICK_NS.store(time::now_ns() + TIMER_PERIOD_NS, Ordering::Release);
    }
    slot(kind).store(address, Ordering::SeqCst);
    let me = crate::smp::current_core() + 1;
    loop {
        let running = RUNNING.load(Ordering::SeqCst);
        if running == 0 || running == me {
            return Ok(());
        }
        core::hint::spin_loop();
    }
}

/// Forgets every callback (the program that set them has returned).
pub fn clear() {
    for kind in [Kind::Timer, Kind::Network, Kind::Keyboard] {
        slot(kind).store(0, Ordering::Release);
    }
}

/// The byte the keyboard poll held, if any (taken by `b_input`).
pub fn take_key() -> Option<u8> {
    let held = HELD_KEY.swap(0, Ordering::AcqRel);
    (held != 0).then_some(held as u8)
}

/// Fires the callbacks that are due. Called by idle cores and by compatible calls.
pub fn poll() {
    let any = || {
        TIMER.load(Ordering::SeqCst)
            | NETWORK.load(Ordering::SeqCst)
            | KEYBOARD.load(Ordering::SeqCst)
    };
    if any() == 0 {
        return;
    }
    let Some(window) = program::window() else { return };
    let me = crate::smp::current_core() + 1;
    if RUNNING.compare_exchange(0, me, Ordering::SeqCst, Ordering::Relaxed).is_err() {
        return;
    }
    // Read again now that `set` waits for this poll: a callback cleared before it
    // is never called.
    let (timer, network, keyboard) = (
        TIMER.load(Ordering::SeqCst),
        NETWORK.load(Ordering::SeqCst),
        KEYBOARD.load(Ordering::SeqCst),
    );
    if timer != 0 {
        let now = time::now_ns();
        let due = NEXT_TICK_NS.load(Ordering::Acquire);
        if now >= due {
            NEXT_TICK_NS.store(now + TIMER_PERIOD_NS, Ordering::Release);
            let _ = window.run_baremetal(timer);
        }
    }
    if network != 0 {
        for interface in 0..net::count() as u64 {
            if super::net::poll_frame(interface) {
                let _ = window.run_baremetal(network);
            }
        }
    }
    if keyboard != 0
        && HELD_KEY.load(Ordering::Acquire) == 0
        && let Some(byte) = console::read_byte()
    {
        HELD_KEY.store(0x100 | u16::from(byte), Ordering::Release);
        let _ = window.run_baremetal(keyboard);
    }
    RUNNING.store(0, Ordering::SeqCst);
}
