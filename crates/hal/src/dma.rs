//! Memory a device reads and writes by itself (bus-master DMA).

use core::fmt;

/// Why a DMA buffer could not be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DmaError {
    /// No free memory of that size (below the device's address limit).
    OutOfMemory,
}

impl fmt::Display for DmaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("out of DMA memory")
    }
}

/// Hands out zeroed, physically contiguous, page-aligned buffers whose physical
/// address fits in 32 bits (so every device, including legacy virtio and IDE
/// bus-master DMA, can reach them).
pub trait DmaAllocator {
    /// The buffer type.
    type Buffer: DmaBuffer;
    /// A zeroed buffer of at least `bytes` bytes (rounded up to whole pages).
    fn allocate(&mut self, bytes: usize) -> Result<Self::Buffer, DmaError>;
}

/// A DMA buffer: the CPU side accesses it with volatile, little-endian accessors
/// (the device may change it at any time); the device side uses [`Self::physical`].
/// Out-of-range accesses are ignored (reads give zero), never undefined behaviour.
pub trait DmaBuffer {
    /// Physical (bus) address of byte 0.
    fn physical(&self) -> u64;
    /// Size in bytes.
    fn len(&self) -> usize;
    /// Whether the buffer is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Copies bytes out of the buffer starting at `offset`.
    fn read_bytes(&self, offset: usize, out: &mut [u8]);
    /// Copies bytes into the buffer starting at `offset`.
    fn write_bytes(&self, offset: usize, data: &[u8]);
    /// Reads 16 bits.
    fn read_u16(&self, offset: usize) -> u16;
    /// Reads 32 bits.
    fn read_u32(&self, offset: usize) -> u32;
    /// Reads 64 bits.
    fn read_u64(&self, offset: usize) -> u64;
    /// Writes 16 bits.
    fn write_u16(&self, offset: usize, value: u16);
    /// Writes 32 bits.
    fn write_u32(&self, offset: usize, value: u32);
    /// Writes 64 bits.
    fn write_u64(&self, offset: usize, value: u64);
    /// Reads a byte.
    fn read_u8(&self, offset: usize) -> u8 {
        let mut byte = [0];
        self.read_bytes(offset, &mut byte);
        byte[0]
    }
    /// Writes a byte.
    fn write_u8(&self, offset: usize, value: u8) {
        self.write_bytes(offset, &[value]);
    }
}
