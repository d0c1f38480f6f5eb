//! The consistency check of a directory: every problem names the entry it is in.

use crate::entry::Entry;
use crate::error::Problem;

/// The first problem among `entries` (live entries in slot order) on a disk of
/// `disk_blocks` blocks, as (entry, problem).
pub(crate) fn first_problem(entries: &[Entry], disk_blocks: u64) -> Option<(Entry, Problem)> {
    for (index, entry) in entries.iter().enumerate() {
        if let Some(problem) = entry_problem(entry, disk_blocks) {
            return Some((*entry, problem));
        }
        for other in &entries[..index] {
            if other.name == entry.name {
                return Some((*entry, Problem::DuplicateName { other_slot: other.slot }));
            }
            if overlap(entry, other) {
                let problem = Problem::Overlaps { other_slot: other.slot, other: other.name };
                return Some((*entry, problem));
            }
        }
    }
    None
}

/// What is wrong with `entry` on its own (not counting the other entries).
pub(crate) fn entry_problem(entry: &Entry, disk_blocks: u64) -> Option<Problem> {
    if !entry.name.is_terminated() {
        return Some(Problem::NameNotTerminated);
    }
    let inside = entry.starting_block >= 1 && entry.end_block().is_some_and(|e| e <= disk_blocks);
    if !inside {
        return Some(Problem::OutsideDisk {
            starting_block: entry.starting_block,
            reserved_blocks: entry.reserved_blocks,
            disk_blocks,
        });
    }
    // Inside the disk, so reserved_blocks × 2 MiB cannot overflow.
    if entry.file_size > entry.reserved_blocks * crate::BLOCK_BYTES {
        return Some(Problem::SizeBeyondReserved {
            file_size: entry.file_size,
            reserved_blocks: entry.reserved_blocks,
        });
    }
    None
}

/// Whether two entries that each lie inside the disk share a block.
fn overlap(a: &Entry, b: &Entry) -> bool {
    let (a_end, b_end) =
        (a.starting_block + a.reserved_blocks, b.starting_block + b.reserved_blocks);
    a.starting_block < b_end && b.starting_block < a_end
}
