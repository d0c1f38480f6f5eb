//! The bounded multi-producer multi-consumer queue of tasks.

use crossbeam_queue::ArrayQueue;

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
}

/// Why a task was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitError {
    /// The queue is full: the task was not queued and the caller still owns it.
    QueueFull,
    /// The task names a group that does not exist.
    NoSuchGroup,
}

/// A bounded lock-free MPMC queue of tasks (crossbeam's `ArrayQueue`). Submitting to a
/// full queue fails at once; nothing blocks and nothing is dropped silently.
pub struct WorkQueue {
    tasks: ArrayQueue<Task>,
}

impl WorkQueue {
    /// A queue holding at most `capacity` waiting tasks (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self { tasks: ArrayQueue::new(capacity.max(1)) }
    }

    /// Queues `task`, first counting it in its group so a waiter cannot see the group
    /// empty between the push and the count.
    /// A queue seen full is refused before the group is touched (a submitter that
    /// helps while the queue is full tries often; the count's add and undo would be
    /// two contended read-modify-writes each time).
    pub fn submit(&self, task: Task, groups: &Groups) -> Result<(), SubmitError> {
        if self.tasks.is_full() {
            return match task.group.map(|group| groups.pending(group)) {
                Some(Err(_)) => Err(SubmitError::NoSuchGroup),
                _ => Err(SubmitError::QueueFull),
            };
        }
        if let Some(group) = task.group {
            groups.add(group).map_err(|_| SubmitError::NoSuchGroup)?;
        }
        self.tasks.push(task).map_err(|task| {
            if let Some(group) = task.group {
                let _ = groups.complete(group);
            }
            SubmitError::QueueFull
        })
    }

    /// Takes the oldest waiting task.
    pub fn take(&self) -> Option<Task> {
        self.tasks.pop()
    }

    /// Tasks waiting now.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether no task is waiting.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// The most tasks that can wait at once.
    pub fn capacity(&self) -> usize {
        self.tasks.capacity()
    }
}

#[cfg(test)]
mod tests;
