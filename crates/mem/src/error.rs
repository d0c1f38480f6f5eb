//! The single error type shared by every part of the crate.
//!
//! One small `Copy` enum keeps the kernel's error handling simple: every
//! memory operation either succeeds or says which precondition failed.

use core::fmt;

/// Why a memory operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemError {
    /// A fixed-capacity list is full.
    CapacityExceeded,
    /// Not enough free memory for the request.
    OutOfMemory,
    /// An address or length is not suitably aligned (or length is zero).
    Misaligned,
    /// The range wraps around the address space or is empty/invalid.
    InvalidRange,
    /// Freeing memory that is (partly) already free.
    DoubleFree,
    /// A virtual address is not canonical.
    NonCanonical,
    /// Mapping a page that already maps something different.
    AlreadyMapped,
}

impl fmt::Display for MemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msg = match self {
            Self::CapacityExceeded => "capacity exceeded",
            Self::OutOfMemory => "out of memory",
            Self::Misaligned => "misaligned address or length",
            Self::InvalidRange => "invalid range",
            Self::DoubleFree => "double free",
            Self::NonCanonical => "non-canonical virtual address",
            Self::AlreadyMapped => "already mapped",
        };
        f.write_str(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::MemError;

    #[test]
    fn display_messages_are_short_and_lowercase() {
        let all = [
            MemError::CapacityExceeded,
            MemError::OutOfMemory,
            MemError::Misaligned,
            MemError::InvalidRange,
            MemError::DoubleFree,
            MemError::NonCanonical,
            MemError::AlreadyMapped,
        ];
        for e in all {
            let s = e.to_string();
            assert!(!s.is_empty());
            assert_eq!(s, s.to_lowercase());
            assert!(s.len() < 40);
        }
        assert_eq!(MemError::OutOfMemory.to_string(), "out of memory");
    }
}
