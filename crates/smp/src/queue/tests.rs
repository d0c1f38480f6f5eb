//! Queue, group and slot tests, including multi-threaded stress runs: no task lost,
//! none run twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::thread;

use crate::{CoreSlots, GroupError, GroupId, Groups, SlotError, SubmitError, Task, WorkQueue};

fn task(entry: u64, group: Option<GroupId>) -> Task {
    Task { entry, argument: entry * 2, group, program: 7 }
}

#[test]
fn full_queue_refuses_and_keeps_group_count_right() {
    let queue = WorkQueue::new(2);
    let groups = Groups::new();
    let group = groups.create().unwrap();
    queue.submit(task(1, Some(group)), &groups).unwrap();
    queue.submit(task(2, Some(group)), &groups).unwrap();
    assert_eq!(queue.submit(task(3, Some(group)), &groups), Err(SubmitError::QueueFull));
    assert_eq!(groups.pending(group), Ok(2));
    assert_eq!(queue.take(), Some(task(1, Some(group))));
    assert_eq!(queue.len(), 1);
}

#[test]
fn unknown_group_is_refused() {
    let queue = WorkQueue::new(4);
    let groups = Groups::new();
    let stale = groups.create().unwrap();
    groups.release(stale).unwrap();
    assert_eq!(queue.submit(task(1, Some(stale)), &groups), Err(SubmitError::NoSuchGroup));
    assert_eq!(queue.take(), None, "nothing of the refused task is queued");
    assert!(queue.is_empty());
    assert_eq!(GroupId::from_raw(0), None);
    assert_eq!(GroupId::from_raw(10_000), None);
}

#[test]
fn groups_count_release_and_exhaust() {
    let groups = Groups::new();
    let group = groups.create().unwrap();
    groups.add(group).unwrap();
    assert_eq!(groups.release(group), Err(GroupError::Busy));
    groups.complete(group).unwrap();
    assert_eq!(groups.complete(group), Err(GroupError::NoSuchGroup));
    groups.release(group).unwrap();
    assert_eq!(groups.pending(group), Err(GroupError::NoSuchGroup));
    let all: Vec<_> = (0..crate::MAX_GROUPS).map(|_| groups.create().unwrap()).collect();
    assert_eq!(groups.create(), Err(GroupError::Exhausted));
    assert_eq!(all.len(), crate::MAX_GROUPS);
}

#[test]
fn slots_follow_baremetal_semantics_without_its_bugs() {
    let slots = CoreSlots::new();
    assert_eq!(slots.assign(1, 0x1000, 7), Err(SlotError::NoSuchCore));
    slots.set_online(0);
    slots.set_online(1);
    assert_eq!(slots.assign(1, 0, 7), Err(SlotError::NullEntry));
    slots.assign(1, 0x1000, 7).unwrap();
    assert_eq!(slots.assign(1, 0x2000, 8), Err(SlotError::Busy));
    assert!(slots.any_busy_except(0));
    assert!(!slots.any_busy_except(1));
    assert_eq!(slots.take(1), Some((0x1000, 7)));
    assert!(slots.is_busy(1), "running counts as busy");
    assert_eq!(slots.assign(1, 0x2000, 8), Err(SlotError::Busy));
    slots.finish(1);
    assert!(!slots.any_busy_except(0));
    assert_eq!(slots.take(1), None);
}

#[test]
fn a_waiting_assignment_can_be_withdrawn_a_running_one_cannot() {
    let slots = CoreSlots::new();
    slots.set_online(1);
    assert!(!slots.withdraw(1), "nothing assigned");
    slots.assign(1, 0x1000, 7).unwrap();
    assert!(slots.withdraw(1));
    assert!(!slots.is_busy(1));
    assert_eq!(slots.take(1), None, "a withdrawn assignment never runs");
    slots.assign(1, 0x2000, 8).unwrap();
    assert_eq!(slots.take(1), Some((0x2000, 8)));
    assert!(!slots.withdraw(1), "already running");
    assert!(slots.is_busy(1));
    slots.finish(1);
    assert!(!slots.is_busy(1));
    assert!(!slots.withdraw(9999), "no such core");
}

/// Runs `task` like a core would: count it, and for even ids submit a follow-up task
/// from inside the task; if the queue is full the task runs the follow-up itself (a
/// task never waits for room, or every core could end up waiting).
fn run_task(task: Task, queue: &WorkQueue, groups: &Groups, runs: &[AtomicU32], total: usize) {
    let slot = if task.entry >= FOLLOW_UP_BASE {
        (task.entry - FOLLOW_UP_BASE) as usize + total
    } else {
        task.entry as usize
    };
    runs[slot].fetch_add(1, Ordering::Relaxed);
    assert_eq!(task.argument, task.entry * 2);
    if task.entry < FOLLOW_UP_BASE && task.entry.is_multiple_of(2) {
        let follow = self::task(task.entry + FOLLOW_UP_BASE, task.group);
        if queue.submit(follow, groups) == Err(SubmitError::QueueFull) {
            groups.add(task.group.unwrap()).unwrap();
            run_task(follow, queue, groups, runs, total);
        }
    }
    groups.complete(task.group.unwrap()).unwrap();
}

const FOLLOW_UP_BASE: u64 = 1 << 32;

/// Producers submit tasks (retrying when full), consumers take and run them; some
/// tasks submit follow-ups from inside, as a running task may. Every task must run
/// exactly once and the group must drain to zero.
#[test]
fn stress_no_task_lost_or_run_twice() {
    const PRODUCERS: u64 = 4;
    const CONSUMERS: usize = 4;
    const PER_PRODUCER: u64 = 5_000;
    let queue = Arc::new(WorkQueue::new(64));
    let groups = Arc::new(Groups::new());
    let group = groups.create().unwrap();
    let total = (PRODUCERS * PER_PRODUCER) as usize;
    let runs: Arc<Vec<AtomicU32>> = Arc::new((0..total * 2).map(|_| AtomicU32::new(0)).collect());
    let done = Arc::new(AtomicBool::new(false));

    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let (queue, groups, runs, done) =
                (queue.clone(), groups.clone(), runs.clone(), done.clone());
            thread::spawn(move || {
                while !done.load(Ordering::Acquire) {
                    match queue.take() {
                        Some(task) => run_task(task, &queue, &groups, &runs, total),
                        None => thread::yield_now(),
                    }
                }
            })
        })
        .collect();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|producer| {
            let (queue, groups) = (queue.clone(), groups.clone());
            thread::spawn(move || {
                for index in 0..PER_PRODUCER {
                    let task = self::task(producer * PER_PRODUCER + index, Some(group));
                    while queue.submit(task, &groups) == Err(SubmitError::QueueFull) {
                        thread::yield_now();
                    }
                }
            })
        })
        .collect();
    for producer in producers {
        producer.join().unwrap();
    }
    while groups.pending(group).unwrap() != 0 {
        thread::yield_now();
    }
    done.store(true, Ordering::Release);
    for consumer in consumers {
        consumer.join().unwrap();
    }
    assert!(queue.is_empty());
    for (slot, count) in runs.iter().enumerate() {
        let expected = if slot < total || (slot - total).is_multiple_of(2) { 1 } else { 0 };
        assert_eq!(count.load(Ordering::Relaxed), expected, "task slot {slot}");
    }
    groups.release(group).unwrap();
}

/// Many threads race to assign work to the same core slot: exactly one wins each round.
#[test]
fn stress_slot_assignment_has_one_winner() {
    let slots = Arc::new(CoreSlots::new());
    slots.set_online(3);
    for round in 1..200u64 {
        let winners = Arc::new(AtomicU32::new(0));
        let racers: Vec<_> = (0..4)
            .map(|racer| {
                let (slots, winners) = (slots.clone(), winners.clone());
                thread::spawn(move || {
                    if slots.assign(3, round * 16 + racer, racer).is_ok() {
                        winners.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for racer in racers {
            racer.join().unwrap();
        }
        assert_eq!(winners.load(Ordering::Relaxed), 1);
        let (entry, argument) = slots.take(3).unwrap();
        assert_eq!(entry % 16, argument);
        slots.finish(3);
    }
}

#[test]
fn full_queue_still_names_an_unknown_group() {
    let queue = WorkQueue::new(2);
    let groups = Groups::new();
    let live = groups.create().unwrap();
    let stale = groups.create().unwrap();
    groups.release(stale).unwrap();
    queue.submit(task(1, Some(live)), &groups).unwrap();
    queue.submit(task(5, None), &groups).unwrap();
    assert_eq!(queue.submit(task(2, Some(stale)), &groups), Err(SubmitError::NoSuchGroup));
    assert_eq!(queue.submit(task(3, Some(live)), &groups), Err(SubmitError::QueueFull));
    assert_eq!(queue.submit(task(4, None), &groups), Err(SubmitError::QueueFull));
    assert_eq!(groups.pending(live), Ok(1), "a refused task is not counted");
}

#[test]
fn capacity_is_a_power_of_two_and_positions_wrap_around() {
    assert_eq!(WorkQueue::new(0).capacity(), 2);
    assert_eq!(WorkQueue::new(1080).capacity(), 1024);
    let queue = WorkQueue::new(4);
    let groups = Groups::new();
    for lap in 0..10u64 {
        for index in 0..4 {
            queue.submit(task(lap * 4 + index, None), &groups).unwrap();
        }
        assert_eq!(queue.submit(task(99, None), &groups), Err(SubmitError::QueueFull));
        assert_eq!(queue.len(), 4);
        for index in 0..4 {
            assert_eq!(queue.take(), Some(task(lap * 4 + index, None)));
        }
        assert_eq!(queue.take(), None);
    }
}

#[test]
fn a_given_up_position_is_passed_over() {
    let queue = WorkQueue::new(4);
    let groups = Groups::new();
    queue.submit(task(1, None), &groups).unwrap();
    let (position, slot) = queue.reserve().unwrap();
    queue.give_up(position, slot);
    queue.submit(task(2, None), &groups).unwrap();
    assert_eq!(queue.take(), Some(task(1, None)));
    assert_eq!(queue.take(), Some(task(2, None)), "the given-up position is skipped");
    assert_eq!(queue.take(), None);
    assert!(queue.is_empty());
}
