//! The bounded multi-producer multi-consumer queue of tasks.
//!
//! Dmitry Vyukov's array queue: each slot carries a sequence number that says whose
//! turn it is (the producer of position `p` waits for `p`, its consumer for `p + 1`),
//! so a submit or a take is one compare-and-swap on the tail or head index plus plain
//! loads and stores; nothing blocks and nothing is dropped silently. The task is kept
//! in the slot as three words of atomics (entry, argument, group and program packed in
//! one), so the slot is 32 bytes, two to a cache line; the head and the tail, written
//! by consumers and producers respectively, have a cache line each, apart from the
//! read-only slot pointer and mask, so a submitter and a taker never share a line
//! except at the slot they hand over.
//!
//! Written here rather than taken from crossbeam (whose `ArrayQueue` the work queue
//! used before): crossbeam's slot is a stamp beside a `MaybeUninit<Task>` written
//! through `unsafe` code, while here a task is three atomic words in a 32-byte slot, in
//! safe Rust (the crate forbids `unsafe`); with the entry checked once at submit it took
//! the measured per-task cost from 426 to 410 guest instructions.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::groups::{GroupId, Groups};

/// One unit of work: a function address and its argument, run to completion by
/// whichever core takes it. How `entry` is called is the kernel's business.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Task {
    /// Address of the function to call.
    pub entry: u64,
    /// The value passed to it.
    pub argument: u64,
    /// The completion group told when the task has finished, if any.
    pub group: Option<GroupId>,
    /// The kernel's tag for the program that submitted it (the kernel runs the task
    /// only while that program is the current one).
    pub program: u32,
}

impl Task {
    fn meta(&self) -> u64 {
        self.group.map_or(0, GroupId::raw) | u64::from(self.program) << 32
    }

    fn from_words(entry: u64, argument: u64, meta: u64) -> Self {
        Self {
            entry,
            argument,
            // Packed by `meta` from a `GroupId` (or 0 for none): no range check again.
            group: GroupId::from_packed(meta as u32),
            program: (meta >> 32) as u32,
        }
    }
}

/// Why a task was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitError {
    /// The queue is full: the task was not queued and the caller still owns it.
    QueueFull,
    /// The task names a group that does not exist.
    NoSuchGroup,
}

/// The packed group and program of a position given up (no group's number fits in
/// 32 bits of ones), see [`WorkQueue::submit`].
const GIVEN_UP: u64 = u64::MAX;

/// One position of the ring.
#[repr(C, align(32))]
struct Slot {
    sequence: AtomicUsize,
    entry: AtomicU64,
    argument: AtomicU64,
    meta: AtomicU64,
}

/// An index on a cache line of its own.
#[repr(align(64))]
struct Index(AtomicUsize);

/// The queue (see the module docs).
pub struct WorkQueue {
    slots: Box<[Slot]>,
    mask: usize,
    /// Next position a producer fills.
    tail: Index,
    /// Next position a consumer empties.
    head: Index,
}

impl WorkQueue {
    /// A queue holding at most `capacity` waiting tasks: the largest power of two not
    /// above it, at least 2 (the sequence numbers need two slots to tell full from free).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(2);
        let capacity = 1usize << (usize::BITS - 1 - capacity.leading_zeros());
        let slots: Vec<Slot> = (0..capacity)
            .map(|position| Slot {
                sequence: AtomicUsize::new(position),
                entry: AtomicU64::new(0),
                argument: AtomicU64::new(0),
                meta: AtomicU64::new(0),
            })
            .collect();
        Self {
            slots: slots.into_boxed_slice(),
            mask: capacity - 1,
            tail: Index(AtomicUsize::new(0)),
            head: Index(AtomicUsize::new(0)),
        }
    }

    /// Queues `task`, first counting it in its group so a waiter cannot see the group
    /// empty between the publication and the count. A full queue is refused before
    /// the group is counted (a submitter that helps while the queue is full tries
    /// often), naming a group that does not exist all the same.
    #[inline]
    pub fn submit(&self, task: Task, groups: &Groups) -> Result<(), SubmitError> {
        let Some((position, slot)) = self.reserve() else {
            return Err(Self::refusal(task, groups));
        };
        if let Some(group) = task.group
            && groups.add(group).is_err()
        {
            self.give_up(position, slot);
            return Err(SubmitError::NoSuchGroup);
        }
        slot.entry.store(task.entry, Ordering::Relaxed);
        slot.argument.store(task.argument, Ordering::Relaxed);
        slot.meta.store(task.meta(), Ordering::Relaxed);
        slot.sequence.store(position.wrapping_add(1), Ordering::Release);
        Ok(())
    }

    /// Why a task found the queue full is refused (out of line: the submit's fast path
    /// keeps fewer registers without it).
    #[cold]
    #[inline(never)]
    fn refusal(task: Task, groups: &Groups) -> SubmitError {
        match task.group.map(|group| groups.pending(group)) {
            Some(Err(_)) => SubmitError::NoSuchGroup,
            _ => SubmitError::QueueFull,
        }
    }

    /// Claims the next free position and its slot for the caller to fill; `None` when
    /// full.
    #[inline(always)]
    fn reserve(&self) -> Option<(usize, &Slot)> {
        let mut position = self.tail.0.load(Ordering::Relaxed);
        loop {
            let slot = &self.slots[position & self.mask];
            let sequence = slot.sequence.load(Ordering::Acquire);
            match sequence.wrapping_sub(position) as isize {
                0 => match self.tail.0.compare_exchange_weak(
                    position,
                    position.wrapping_add(1),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return Some((position, slot)),
                    Err(now) => position = now,
                },
                // The slot still holds the task of the previous lap: full.
                lag if lag < 0 => return None,
                // Another producer took this position meanwhile.
                _ => position = self.tail.0.load(Ordering::Relaxed),
            }
        }
    }

    /// Hands over a reserved `position` without a task (its group does not exist: a
    /// program's mistake, or its race with itself): consumers wait for each position
    /// in turn, so it is published marked as given up, and `take` passes over it.
    #[cold]
    fn give_up(&self, position: usize, slot: &Slot) {
        slot.meta.store(GIVEN_UP, Ordering::Relaxed);
        slot.sequence.store(position.wrapping_add(1), Ordering::Release);
    }

    /// Takes the oldest waiting task.
    #[inline(always)]
    pub fn take(&self) -> Option<Task> {
        let mut position = self.head.0.load(Ordering::Relaxed);
        loop {
            let slot = &self.slots[position & self.mask];
            let sequence = slot.sequence.load(Ordering::Acquire);
            match sequence.wrapping_sub(position.wrapping_add(1)) as isize {
                0 => match self.head.0.compare_exchange_weak(
                    position,
                    position.wrapping_add(1),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        let entry = slot.entry.load(Ordering::Relaxed);
                        let argument = slot.argument.load(Ordering::Relaxed);
                        let meta = slot.meta.load(Ordering::Relaxed);
                        // Free for the producer of the next lap.
                        slot.sequence
                            .store(position.wrapping_add(self.mask + 1), Ordering::Release);
                        if meta != GIVEN_UP {
                            return Some(Task::from_words(entry, argument, meta));
                        }
                        position = position.wrapping_add(1);
                    }
                    Err(now) => position = now,
                },
                // Not yet filled (empty, or its producer is between claim and store).
                lag if lag < 0 => return None,
                // Another consumer took this position meanwhile.
                _ => position = self.head.0.load(Ordering::Relaxed),
            }
        }
    }

    /// Tasks waiting now (claimed positions included; a moment's view when others
    /// submit or take meanwhile).
    pub fn len(&self) -> usize {
        let tail = self.tail.0.load(Ordering::SeqCst);
        let head = self.head.0.load(Ordering::SeqCst);
        (tail.wrapping_sub(head) as isize).max(0) as usize
    }

    /// Whether no task is waiting (nor being filled in).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most tasks that can wait at once.
    pub fn capacity(&self) -> usize {
        self.mask + 1
    }
}

#[cfg(test)]
mod tests;
