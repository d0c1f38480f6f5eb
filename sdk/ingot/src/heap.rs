//! A global allocator for programs that want `alloc` (feature `heap`): Talc over memory
//! the program hands it, usually [`crate::scratch::take`]'s free window or a part of it.
//!
//! ```ignore
//! let memory = ingot_sdk::scratch::take().unwrap();
//! let (heap, rest) = memory.split_at_mut(64 << 20);
//! ingot_sdk::heap::claim(heap);
//! ```
//!
//! Until memory is claimed every allocation fails (and `alloc` reports it through the
//! panic handler). Kept in its own file so a program can use another allocator instead.

use talc::{TalcLock, source::Manual};

#[global_allocator]
static HEAP: TalcLock<spin::Mutex<()>, Manual> = TalcLock::new(Manual);

/// Gives `memory` to the allocator for good; returns whether it was usable (too small
/// a region is refused).
pub fn claim(memory: &'static mut [u8]) -> bool {
    let (start, len) = (memory.as_mut_ptr(), memory.len());
    // SAFETY: `memory` is borrowed mutably for 'static and the borrow ends here, so
    // nothing else can ever reach these bytes: from now on they belong to the heap.
    unsafe { HEAP.lock().claim(start, len).is_some() }
}
