//! Multi-core work distribution for Ingot, as pure logic.
//!
//! Every core runs the same loop: take a [`Task`] from the one shared [`WorkQueue`],
//! run it to completion, repeat, and sleep when there is nothing to do ([`Sleepers`]
//! makes sure a sleeping core is woken when work arrives). A submitter
//! can attach tasks to a completion [`Groups`] entry and wait for the batch. BareMetal's
//! "run this code on core N" model sits beside the queue as per-core [`CoreSlots`].
//!
//! Nothing here touches hardware: the kernel supplies how a task is called, how a
//! sleeping core is woken (an IPI) and the clock. That keeps the code testable on the
//! host with std threads (see the stress tests).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

mod groups;
mod queue;
mod sleepers;
mod slots;
mod stats;

pub use groups::{GroupError, GroupId, Groups, MAX_GROUPS};
pub use queue::{SubmitError, Task, WorkQueue};
pub use sleepers::{Sleepers, WaitReason};
pub use slots::{CoreSlots, SlotError};
pub use stats::{CoreStats, StatsSnapshot};

/// Most cores Ingot drives (x2APIC machines can have more; the rest stay parked).
pub const MAX_CORES: usize = 256;
