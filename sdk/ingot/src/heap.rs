//! A global allocator over the program's free memory, so `alloc` (`Vec`, `String`,
//! `Box`) works in programs.
//!
//! The SDK installs [talc](https://docs.rs/talc) behind a spin lock as every program's
//! global allocator. On its first allocation it takes all free memory of the window
//! ([`crate::scratch::take`]), so a program uses either the heap or `scratch::take`,
//! not both. A program that never allocates pays nothing (the linker drops it).
//!
//! ```ignore
//! extern crate alloc;
//! let numbers: alloc::vec::Vec<u64> = (1..=10).collect();
//! ```
//!
//! A program that wants the free memory for itself too takes it with `scratch::take`
//! first and gives the heap a part with [`claim`]:
//!
//! ```ignore
//! let memory = ingot_sdk::scratch::take().unwrap();
//! let (heap, rest) = memory.split_at_mut(64 << 20);
//! ingot_sdk::heap::claim(heap);
//! ```
//!
//! Any core may allocate and free (tasks included): the lock is a spin lock, taken
//! only for the allocator's own short critical sections.

use core::alloc::Layout;

use talc::base::Talc;
use talc::base::binning::Binning;
use talc::source::Source;

/// Talc over the window's free memory, behind a spin lock.
///
/// # Example
///
/// ```ignore
/// // The SDK's global allocator (`heap::Heap`, over `heap::WindowMemory`): `alloc` works.
/// let numbers: alloc::vec::Vec<u64> = (1..=10).collect();
/// let text = alloc::format!("sum {}", numbers.iter().sum::<u64>());
/// ingot_sdk::println!("{text}");
/// ```
pub type Heap = talc::TalcLock<spin::Mutex<()>, WindowMemory>;

#[global_allocator]
static HEAP: Heap = Heap::new(WindowMemory);

/// The memory source of [`Heap`]: the window's free memory, taken on first need.
///
/// # Example
///
/// ```ignore
/// // The SDK's global allocator (`heap::Heap`, over `heap::WindowMemory`): `alloc` works.
/// let numbers: alloc::vec::Vec<u64> = (1..=10).collect();
/// let text = alloc::format!("sum {}", numbers.iter().sum::<u64>());
/// ingot_sdk::println!("{text}");
/// ```
#[derive(Debug)]
pub struct WindowMemory;

// SAFETY: `acquire` touches the allocator only through the `talc` it is given and does
// not allocate (the memory query is a plain kernel call).
unsafe impl Source for WindowMemory {
    fn acquire<B: Binning>(talc: &mut Talc<Self, B>, _layout: Layout) -> Result<(), ()> {
        let memory = crate::scratch::take().ok_or(())?;
        // SAFETY: `scratch::take` hands this memory out once, for the program's
        // lifetime, and nothing else refers to it; it now belongs to the heap alone.
        let claimed = unsafe { talc.claim(memory.as_mut_ptr(), memory.len()) };
        claimed.map(|_| ()).ok_or(())
    }
}

/// Gives `memory` to the heap for good; returns whether it was usable (too small a
/// region is refused).
///
/// # Example
///
/// ```ignore
/// // A program that wants part of its free memory for itself gives the heap the rest
/// // (before its first allocation: the heap takes all of it then).
/// if let Some(memory) = ingot_sdk::scratch::take() {
///     let (own, heap) = memory.split_at_mut(1 << 20);
///     own[0] = 1;
///     ingot_sdk::println!("the heap took the rest: {}", ingot_sdk::heap::claim(heap));
/// }
/// ```
pub fn claim(memory: &'static mut [u8]) -> bool {
    let (start, len) = (memory.as_mut_ptr(), memory.len());
    // SAFETY: `memory` is borrowed mutably for 'static and the borrow ends here, so
    // nothing else can ever reach these bytes: from now on they belong to the heap.
    unsafe { HEAP.lock().claim(start, len).is_some() }
}
