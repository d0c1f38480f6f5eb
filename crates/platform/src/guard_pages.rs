//! The unmapped pages below every stack, and the question the fault handler asks:
//! did this fault hit one of them?
//!
//! A stack that overflows runs into its guard page and faults there (usually as a
//! double fault, because the CPU cannot push the page fault's frame either; the
//! double-fault handler runs on its own stack). The kernel then reports a stack
//! overflow instead of the program or the kernel silently overwriting whatever lay
//! below the stack. Registering is lock-free so it works before the heap exists.

use core::sync::atomic::{AtomicU64, Ordering};

use ingot_mem::PAGE_SIZE;

/// How many guard pages can be recorded: one per core stack, the program stack and
/// a few spare.
const CAPACITY: usize = 272;

static GUARDS: [AtomicU64; CAPACITY] = [const { AtomicU64::new(0) }; CAPACITY];

/// Records the 4 KiB page at `page` (page-aligned, never 0) as a guard page. Returns
/// false if the table is full or `page` is not a page address.
pub fn record(page: u64) -> bool {
    if page == 0 || !page.is_multiple_of(PAGE_SIZE) {
        return false;
    }
    GUARDS.iter().any(|slot| {
        slot.compare_exchange(0, page, Ordering::AcqRel, Ordering::Acquire).is_ok()
            || slot.load(Ordering::Acquire) == page
    })
}

/// Whether `address` lies in a recorded guard page.
pub fn is_guard(address: u64) -> bool {
    let page = address / PAGE_SIZE * PAGE_SIZE;
    page != 0 && GUARDS.iter().any(|slot| slot.load(Ordering::Acquire) == page)
}
