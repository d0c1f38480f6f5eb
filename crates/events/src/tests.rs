//! Every interleaving of waiters and interrupt handlers, step by step (each step one
//! atomic operation of [`Events`]), on a model of cores that halt: a halted core runs
//! again only when a wake-up reached it, and a wake-up sent to a core that has not
//! halted yet stays pending, as a fixed IPI does in the local APIC. At the end of
//! every interleaving no waiter may be halted while an event it waits for is
//! pending, and every event raised was taken by exactly one wait or is still pending.

extern crate std;

use std::vec;
use std::vec::Vec;

use super::*;

const A: u64 = 1 << 0;
const B: u64 = 1 << 1;

/// In which order a waiter does its steps.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    /// The kernel's: announce the set, then take, then halt.
    AnnounceThenTake,
    /// A broken variant (take before announcing), which must be caught.
    TakeThenAnnounce,
}

#[derive(Clone, Copy)]
enum Actor {
    /// A core waiting once for `set`.
    Waiter { core: usize, set: u64, order: Order },
    /// An interrupt handler on another core raising `bits`.
    Handler { bits: u64 },
}

/// Where an actor is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Pc {
    /// Waiter: next steps by number; handler: 0 = publish, 1.. = scan core pc-1.
    At(usize),
    Halted,
    Done,
}

struct World {
    events: Events,
    actors: Vec<Actor>,
    pcs: Vec<Pc>,
    /// A wake-up IPI pending at each core.
    ipi: Vec<bool>,
    /// What each waiter's wait returned.
    got: Vec<u64>,
    cores: usize,
}

impl World {
    fn new(actors: &[Actor], cores: usize) -> Self {
        Self {
            events: Events::new(),
            actors: actors.to_vec(),
            pcs: vec![Pc::At(0); actors.len()],
            ipi: vec![false; cores],
            got: vec![0; actors.len()],
            cores,
        }
    }

    fn runnable(&self, index: usize) -> bool {
        match (self.pcs[index], self.actors[index]) {
            (Pc::Done, _) => false,
            (Pc::Halted, Actor::Waiter { core, .. }) => self.ipi[core],
            _ => true,
        }
    }

    /// Runs one step of actor `index`.
    fn step(&mut self, index: usize) {
        let pc = self.pcs[index];
        self.pcs[index] = match self.actors[index] {
            Actor::Handler { bits } => match pc {
                Pc::At(0) => {
                    self.events.publish(bits);
                    Pc::At(1)
                }
                Pc::At(n) => {
                    let core = n - 1;
                    if self.events.waits_for(core, bits) {
                        self.ipi[core] = true;
                    }
                    if n == self.cores { Pc::Done } else { Pc::At(n + 1) }
                }
                other => other,
            },
            Actor::Waiter { core, set, order } => match (order, pc) {
                // The halt ends: the interrupt is taken, then the wait goes round again.
                (_, Pc::Halted) => {
                    self.ipi[core] = false;
                    self.events.end_wait(core);
                    Pc::At(0)
                }
                (Order::AnnounceThenTake, Pc::At(0)) => {
                    self.events.begin_wait(core, set);
                    Pc::At(1)
                }
                (Order::AnnounceThenTake, Pc::At(_)) => self.take_or_halt(index, core, set),
                (Order::TakeThenAnnounce, Pc::At(0)) => {
                    let got = self.events.take(set);
                    if got != 0 {
                        self.got[index] |= got;
                        Pc::Done
                    } else {
                        Pc::At(1)
                    }
                }
                (Order::TakeThenAnnounce, Pc::At(_)) => {
                    self.events.begin_wait(core, set);
                    Pc::Halted
                }
                (_, Pc::Done) => Pc::Done,
            },
        };
    }

    fn take_or_halt(&mut self, index: usize, core: usize, set: u64) -> Pc {
        let got = self.events.take(set);
        if got != 0 {
            self.got[index] |= got;
            self.events.end_wait(core);
            Pc::Done
        } else {
            Pc::Halted
        }
    }

    /// The invariants at the end of an interleaving; `Err` names the broken one.
    fn check_end(&self, raised: u64) -> Result<(), &'static str> {
        let mut taken = 0;
        for (index, actor) in self.actors.iter().enumerate() {
            if let Actor::Waiter { set, .. } = *actor {
                if self.pcs[index] == Pc::Halted && self.events.peek(set) != 0 {
                    return Err("a waiter stays halted while its event is pending");
                }
                if taken & self.got[index] != 0 {
                    return Err("one event returned by two waits");
                }
                taken |= self.got[index];
            }
        }
        if taken | self.events.peek(u64::MAX) != raised {
            return Err("an event was lost");
        }
        Ok(())
    }
}

/// Explores every interleaving of `actors`; returns how many there were, or the
/// first broken invariant with its schedule.
fn explore(actors: &[Actor], cores: usize) -> Result<usize, (&'static str, Vec<usize>)> {
    let raised = actors.iter().fold(0, |bits, actor| match actor {
        Actor::Handler { bits: raised } => bits | raised,
        Actor::Waiter { .. } => bits,
    });
    let mut count = 0;
    let mut stack = vec![Vec::new()];
    while let Some(schedule) = stack.pop() {
        let mut world = World::new(actors, cores);
        for &index in &schedule {
            world.step(index);
        }
        let next: Vec<usize> = (0..actors.len()).filter(|&i| world.runnable(i)).collect();
        if next.is_empty() {
            count += 1;
            world.check_end(raised).map_err(|broken| (broken, schedule.clone()))?;
            continue;
        }
        for index in next {
            let mut longer = schedule.clone();
            longer.push(index);
            stack.push(longer);
        }
    }
    Ok(count)
}

fn waiter(core: usize, set: u64) -> Actor {
    Actor::Waiter { core, set, order: Order::AnnounceThenTake }
}

#[test]
fn one_waiter_one_event_never_loses_the_wake_up() {
    let count = explore(&[waiter(0, A), Actor::Handler { bits: A }], 2).unwrap();
    assert!(count >= 10, "only {count} interleavings");
}

#[test]
fn a_waiter_for_two_events_gets_both_or_finds_the_second_pending() {
    let actors = [waiter(0, A | B), Actor::Handler { bits: A }, Actor::Handler { bits: B }];
    let count = explore(&actors, 2).unwrap();
    assert!(count >= 100, "only {count} interleavings");
}

#[test]
fn two_cores_waiting_for_different_events_each_get_theirs() {
    let actors =
        [waiter(0, A), waiter(1, B), Actor::Handler { bits: A }, Actor::Handler { bits: B }];
    let count = explore(&actors, 2).unwrap();
    assert!(count >= 1000, "only {count} interleavings");
}

#[test]
fn two_cores_waiting_for_the_same_event_one_gets_it_none_stays_halted_with_it_pending() {
    let actors = [waiter(0, A), waiter(1, A), Actor::Handler { bits: A }];
    explore(&actors, 2).unwrap();
}

#[test]
fn the_checker_catches_a_wait_that_takes_before_announcing() {
    let broken = Actor::Waiter { core: 0, set: A, order: Order::TakeThenAnnounce };
    let (what, schedule) = explore(&[broken, Actor::Handler { bits: A }], 2).unwrap_err();
    assert_eq!(what, "a waiter stays halted while its event is pending");
    // Take (nothing yet), publish, scan both cores (not announced), announce, halt.
    assert!(schedule.len() >= 4, "{schedule:?}");
}

#[test]
fn halted_time_adds_per_core() {
    let halted = HaltedTime::new();
    halted.add(1, 500);
    halted.add(1, 250);
    halted.add(MAX_CORES, 99);
    assert_eq!((halted.ticks(0), halted.ticks(1), halted.ticks(MAX_CORES)), (0, 750, 0));
}

#[test]
fn a_reading_includes_the_halt_under_way() {
    let halted = HaltedTime::new();
    halted.add(2, 100);
    halted.begin(2, 1_000);
    // Still halted: the reading grows with the clock; ended halts alone stay 100.
    assert_eq!(halted.ticks_at(2, 1_400), 500);
    assert_eq!(halted.ticks_at(2, 1_900), 1_000);
    assert_eq!(halted.ticks(2), 100);
    halted.end(2, 2_000);
    assert_eq!((halted.ticks_at(2, 5_000), halted.ticks(2)), (1_100, 1_100));
    // An end without a begin adds nothing; cores out of range read 0.
    halted.end(2, 9_000);
    assert_eq!(halted.ticks_at(2, 9_000), 1_100);
    halted.begin(MAX_CORES, 1);
    assert_eq!(halted.ticks_at(MAX_CORES, 10), 0);
}

#[test]
fn take_returns_only_the_asked_for_events_and_clears_them() {
    let events = Events::new();
    events.publish(A | B);
    assert_eq!(events.take(A), A);
    assert_eq!(events.take(A), 0);
    assert_eq!(events.peek(A | B), B);
    events.begin_wait(3, B);
    let mut woken = Vec::new();
    events.wake_waiters(B, 4, |core| woken.push(core));
    assert_eq!(woken, [3]);
    events.end_wait(3);
    assert_eq!(events.waiting_for(3), 0);
}
