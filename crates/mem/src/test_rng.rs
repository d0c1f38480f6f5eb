//! A tiny deterministic pseudo-random generator for property-style tests.
//!
//! Tests must be reproducible and the crate takes no dev-dependencies, so this
//! is a plain 64-bit xorshift generator seeded by each test.

/// Deterministic xorshift64 generator.
pub struct TestRng(u64);

impl TestRng {
    /// A generator for `seed` (zero is replaced, as xorshift would get stuck).
    pub fn new(seed: u64) -> Self {
        Self(if seed == 0 { 0x9E37_79B9_7F4A_7C15 } else { seed })
    }

    /// Next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A value in `0..bound` (`bound > 0`); the slight bias is irrelevant here.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }
}
