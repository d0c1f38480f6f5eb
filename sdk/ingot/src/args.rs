//! The program's arguments: the words of the kernel command line's `init=NAME ARGS...`
//! (the first is the program's name), as the kernel passed them on entry.
//!
//! ```ignore
//! for (index, word) in ingot_sdk::args::args().enumerate() {
//!     ingot_sdk::println!("argument {index}: {word}");
//! }
//! ```

use core::sync::atomic::{AtomicU64, Ordering};

static ARGC: AtomicU64 = AtomicU64::new(0);
static ARGV: AtomicU64 = AtomicU64::new(0);

/// Remembers what the kernel passed (the entry shim calls this once).
pub(crate) fn set(argc: u64, argv: u64) {
    ARGC.store(argc, Ordering::Relaxed);
    ARGV.store(argv, Ordering::Relaxed);
}

/// Number of arguments, the program's name included.
///
/// # Example
///
/// ```ignore
/// ingot_sdk::println!("{} arguments", ingot_sdk::args::count());
/// ```
pub fn count() -> usize {
    if ARGV.load(Ordering::Relaxed) == 0 { 0 } else { ARGC.load(Ordering::Relaxed) as usize }
}

/// Argument `index` (0 is the program's name), if there is one. The kernel passes
/// words of its command line, which is UTF-8; a word that is not reads as `None`.
///
/// # Example
///
/// ```ignore
/// match ingot_sdk::args::get(1) {
///     Some("reboot") => ingot_sdk::cores::reboot(),
///     Some("off") => ingot_sdk::cores::shutdown(),
///     _ => {}
/// }
/// ```
pub fn get(index: usize) -> Option<&'static str> {
    if index >= count() {
        return None;
    }
    let argv = ARGV.load(Ordering::Relaxed) as *const *const u8;
    // SAFETY: the kernel passes `argc` pointers at `argv`, each to a NUL-terminated
    // string, all on the program's stack above its stack pointer, where they stay for
    // the program's lifetime; `index < argc`.
    let bytes = unsafe { core::ffi::CStr::from_ptr(argv.add(index).read().cast()) }.to_bytes();
    core::str::from_utf8(bytes).ok()
}

/// Every argument in order, the program's name first.
///
/// # Example
///
/// ```ignore
/// for (index, word) in ingot_sdk::args::args().enumerate() {
///     ingot_sdk::println!("argument {index}: {word}");
/// }
/// ```
pub fn args() -> impl Iterator<Item = &'static str> {
    (0..count()).filter_map(get)
}
