//! Waiting for events with the core halted instead of spinning.
//!
//! [`wait`] halts the calling core until one of the events asked for happens (a NIC
//! received frames, input arrived, …; bits from [`ingot_abi::events`]) or the
//! deadline passes, and returns which happened. The usual loop polls every device it
//! serves until each is empty, then waits for their events:
//!
//! ```ignore
//! use ingot_sdk::events::{self, INPUT, NO_DEADLINE};
//! loop {
//!     while let Some(byte) = ingot_sdk::read_byte() { /* handle it */ }
//!     events::wait(INPUT, NO_DEADLINE)?;
//! }
//! ```
//!
//! Polling stays the program's choice: a loop that never calls [`wait`] (or leaves a
//! device's bit out) polls that device as before, and [`wait`] with a deadline of
//! now only collects events.

pub use ingot_abi::events::{INPUT, MAX_DISKS, MAX_NICS, NO_DEADLINE, TIMER, disk, net};
use ingot_abi::{ApiTable, Error};

use crate::calls::decode;
use crate::start::api;

/// Whether the kernel has the 1.4 calls (`wait_events` and after).
fn has_wait_calls() -> bool {
    api().size as usize > core::mem::offset_of!(ApiTable, core_halted_ns)
}

/// Halts until one of `events` happens or `time_ns()` reaches `deadline_ns`
/// ([`NO_DEADLINE`]: none); returns the events that happened ([`TIMER`] when the
/// deadline came first). Device events only on core 0; `InvalidArgument` for unknown
/// bits, for device events on another core, and for no events with no deadline.
/// On a kernel older than API 1.4 it returns `NotFound`.
///
/// # Example
///
/// ```ignore
/// // Halt until NIC 0 receives frames or 20 ms have passed, whichever comes first.
/// let nic = ingot_sdk::events::net(0);
/// let woke = ingot_sdk::events::wait(nic, ingot_sdk::cores::time_ns() + 20_000_000)?;
/// let why = if woke & nic != 0 { "frames on nic 0" } else { "the deadline" };
/// let interrupts = ingot_sdk::events::interrupt_events() & nic != 0;
/// ingot_sdk::println!("woke for {why}; nic 0 interrupts: {interrupts}");
/// ```
pub fn wait(events: u64, deadline_ns: u64) -> Result<u64, Error> {
    if !has_wait_calls() {
        return Err(Error::NotFound);
    }
    decode((api().wait_events)(events, deadline_ns))
}

/// The event bits whose source interrupts; [`wait`] polls the others every
/// millisecond (0 on a kernel older than API 1.4).
///
/// # Example
///
/// ```ignore
/// // Halt until NIC 0 receives frames or 20 ms have passed, whichever comes first.
/// let nic = ingot_sdk::events::net(0);
/// let woke = ingot_sdk::events::wait(nic, ingot_sdk::cores::time_ns() + 20_000_000)?;
/// let why = if woke & nic != 0 { "frames on nic 0" } else { "the deadline" };
/// let interrupts = ingot_sdk::events::interrupt_events() & nic != 0;
/// ingot_sdk::println!("woke for {why}; nic 0 interrupts: {interrupts}");
/// ```
pub fn interrupt_events() -> u64 {
    if !has_wait_calls() {
        return 0;
    }
    (api().interrupt_events)() as u64
}

/// Nanoseconds core `core` has spent halted since boot, the halt under way included
/// (`NotFound` for a core that does not exist).
///
/// # Example
///
/// ```ignore
/// let halted_ns = ingot_sdk::events::core_halted_ns(0)?;
/// ingot_sdk::println!("core 0 halted {} ms so far", halted_ns / 1_000_000);
/// match ingot_sdk::events::core_halted_ns(99) {
///     Err(ingot_sdk::abi::Error::NotFound) => ingot_sdk::println!("no core 99"),
///     other => ingot_sdk::println!("core 99: {other:?}"),
/// }
/// ```
pub fn core_halted_ns(core: u64) -> Result<u64, Error> {
    if !has_wait_calls() {
        return Err(Error::NotFound);
    }
    decode((api().core_halted_ns)(core))
}
