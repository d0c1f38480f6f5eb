//! The kernel heap: a Talc allocator over frames taken from [`PhysicalFrames`].

use ingot_mem::{MemError, PAGE_SIZE};
use talc::{TalcLock, source::Manual};

use crate::frames::PhysicalFrames;

#[global_allocator]
static HEAP: TalcLock<spin::Mutex<()>, Manual> = TalcLock::new(Manual);

/// Moves `bytes` (rounded up to pages) of RAM from `frames` into the heap.
pub fn grow(frames: &mut PhysicalFrames, bytes: u64) -> Result<(), MemError> {
    let pages = bytes.div_ceil(PAGE_SIZE);
    let start = frames.allocate(pages, PAGE_SIZE)?;
    // SAFETY: the region was just taken out of the frame allocator, so it is free,
    // identity-mapped RAM that from now on belongs to the heap alone.
    let claimed = unsafe { HEAP.lock().claim(start as *mut u8, (pages * PAGE_SIZE) as usize) };
    if claimed.is_none() {
        frames.free(start, pages)?;
        return Err(MemError::OutOfMemory);
    }
    Ok(())
}
