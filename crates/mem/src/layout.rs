//! Page sizes, well-known virtual addresses and alignment helpers.
//!
//! These are the few numbers every other module agrees on; keeping them in one
//! place avoids each module growing its own slightly different `align_up`.

/// Size of a normal x86-64 page (and of a physical frame): 4 KiB.
pub const PAGE_SIZE: u64 = 4096;

/// Size of a large page (a PD-level leaf): 2 MiB.
pub const LARGE_PAGE_SIZE: u64 = 2 * 1024 * 1024;

/// Size of a huge page (a PDPT-level leaf): 1 GiB.
pub const HUGE_PAGE_SIZE: u64 = 1024 * 1024 * 1024;

/// Base of the program window: the start of the higher half, where the
/// kernel maps the program it runs.
pub const PROGRAM_BASE: u64 = 0xFFFF_8000_0000_0000;

/// Whether `value` is a multiple of `align` (a power of two).
#[inline]
pub const fn is_aligned(value: u64, align: u64) -> bool {
    value & (align - 1) == 0
}

/// Rounds `value` down to a multiple of `align` (a power of two).
#[inline]
pub const fn align_down(value: u64, align: u64) -> u64 {
    value & !(align - 1)
}

/// Rounds `value` up to a multiple of `align` (a power of two), or `None` if
/// that would overflow `u64`.
#[inline]
pub const fn align_up(value: u64, align: u64) -> Option<u64> {
    match value.checked_add(align - 1) {
        Some(v) => Some(v & !(align - 1)),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{HUGE_PAGE_SIZE, LARGE_PAGE_SIZE, PAGE_SIZE, align_down, align_up, is_aligned};

    #[test]
    fn sizes_relate() {
        assert_eq!(LARGE_PAGE_SIZE, 512 * PAGE_SIZE);
        assert_eq!(HUGE_PAGE_SIZE, 512 * LARGE_PAGE_SIZE);
    }

    #[test]
    fn alignment_helpers() {
        assert!(is_aligned(0, PAGE_SIZE));
        assert!(is_aligned(0x2000, PAGE_SIZE));
        assert!(!is_aligned(0x2001, PAGE_SIZE));
        assert_eq!(align_down(0x2fff, PAGE_SIZE), 0x2000);
        assert_eq!(align_up(0x2001, PAGE_SIZE), Some(0x3000));
        assert_eq!(align_up(0x3000, PAGE_SIZE), Some(0x3000));
        assert_eq!(align_up(u64::MAX - 5, PAGE_SIZE), None);
        assert_eq!(align_up(u64::MAX - 4095, PAGE_SIZE), Some(u64::MAX - 4095));
    }
}
