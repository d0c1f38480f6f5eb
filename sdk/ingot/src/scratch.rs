//! The program's free memory: the part of its window between the end of its image
//! (`.bss`) and its stack, handed out once as one slice.

use core::sync::atomic::{AtomicBool, Ordering};

use crate::calls::memory_info;

unsafe extern "C" {
    static __bss_end: u8;
}

/// Kept free below the stack, so a deep stack faults instead of running into data.
const STACK_GUARD_BYTES: u64 = 64 * 1024;

static TAKEN: AtomicBool = AtomicBool::new(false);

/// All free memory of the window as one zeroed slice; `None` on a second call.
///
/// # Example
///
/// ```ignore
/// // A flat program of two instructions, `mov eax, 7; ret`, placed in free memory.
/// let Some(free) = ingot_sdk::scratch::take() else { return Err(Error::NotFound) };
/// let image = &mut free[..6];
/// image.copy_from_slice(&[0xB8, 7, 0, 0, 0, 0xC3]);
/// let ended = ingot_sdk::run::run_image(image)?;
/// ingot_sdk::println!("the program ended: {ended:?}");
/// ```
pub fn take() -> Option<&'static mut [u8]> {
    if TAKEN.swap(true, Ordering::AcqRel) {
        return None;
    }
    let info = memory_info().ok()?;
    let start = (core::ptr::addr_of!(__bss_end) as u64).next_multiple_of(4096);
    let end =
        (info.window_base + info.window_bytes).checked_sub(info.stack_bytes + STACK_GUARD_BYTES)?;
    if end <= start {
        return None;
    }
    let len = (end - start) as usize;
    // SAFETY: `[start, end)` lies inside the program's window (between its image and
    // its stack, per the kernel's memory facts), nothing else in the program refers
    // to it, and `TAKEN` makes sure the slice is handed out only once.
    let memory = unsafe { core::slice::from_raw_parts_mut(start as *mut u8, len) };
    memory.fill(0);
    Some(memory)
}
