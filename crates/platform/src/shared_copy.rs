//! Copying between kernel buffers and memory other code may change at the same time.
//!
//! Program memory is written by the program on every core while the kernel serves a
//! call; a Rust reference (`&[u8]`) to it would promise the compiler that it does not
//! change, which is undefined behaviour when it does. These copies instead use relaxed
//! atomic loads and stores (8 bytes at a time where aligned, single bytes at the
//! edges), so a concurrent change yields some mix of old and new bytes — what the
//! program asked for by racing itself — and never undefined behaviour in the kernel.
//! On x86-64 each relaxed access is one plain `mov`.

use core::sync::atomic::{AtomicU8, AtomicU64, Ordering};

const WORD: usize = 8;

/// Bytes from `address` up to the next 8-byte boundary, at most `len`.
fn head_len(address: u64, len: usize) -> usize {
    ((address.next_multiple_of(WORD as u64) - address) as usize).min(len)
}

/// Copies `destination.len()` bytes from `source` into `destination`.
///
/// # Safety
/// `[source, source + destination.len())` must be mapped, readable memory that no
/// Rust code holds a reference to (only atomic or foreign accesses).
pub(crate) unsafe fn copy_from_shared(source: u64, destination: &mut [u8]) {
    let load_byte = |address: u64| {
        // SAFETY: inside the source range (caller's contract); byte atomics need no
        // alignment.
        unsafe { AtomicU8::from_ptr(address as *mut u8) }.load(Ordering::Relaxed)
    };
    let head = head_len(source, destination.len());
    let (first, rest) = destination.split_at_mut(head);
    for (offset, byte) in first.iter_mut().enumerate() {
        *byte = load_byte(source + offset as u64);
    }
    let words_at = source + head as u64;
    let (words, tail) = rest.as_chunks_mut::<WORD>();
    for (index, chunk) in words.iter_mut().enumerate() {
        let address = words_at + (index * WORD) as u64;
        // SAFETY: 8-byte aligned (after the head) and inside the source range.
        let word = unsafe { AtomicU64::from_ptr(address as *mut u64) }.load(Ordering::Relaxed);
        *chunk = word.to_ne_bytes();
    }
    let tail_at = words_at + (words.len() * WORD) as u64;
    for (offset, byte) in tail.iter_mut().enumerate() {
        *byte = load_byte(tail_at + offset as u64);
    }
}

/// Copies `source` to `destination`.
///
/// # Safety
/// `[destination, destination + source.len())` must be mapped, writable memory that
/// no Rust code holds a reference to (only atomic or foreign accesses).
pub(crate) unsafe fn copy_to_shared(destination: u64, source: &[u8]) {
    let store_byte = |address: u64, value: u8| {
        // SAFETY: inside the destination range (caller's contract).
        unsafe { AtomicU8::from_ptr(address as *mut u8) }.store(value, Ordering::Relaxed);
    };
    let head = head_len(destination, source.len());
    let (first, rest) = source.split_at(head);
    for (offset, &byte) in first.iter().enumerate() {
        store_byte(destination + offset as u64, byte);
    }
    let words_at = destination + head as u64;
    let (words, tail) = rest.as_chunks::<WORD>();
    for (index, chunk) in words.iter().enumerate() {
        let address = words_at + (index * WORD) as u64;
        // SAFETY: 8-byte aligned (after the head) and inside the destination range.
        unsafe { AtomicU64::from_ptr(address as *mut u64) }
            .store(u64::from_ne_bytes(*chunk), Ordering::Relaxed);
    }
    let tail_at = words_at + (words.len() * WORD) as u64;
    for (offset, &byte) in tail.iter().enumerate() {
        store_byte(tail_at + offset as u64, byte);
    }
}
