//! Memory-mapped device registers.

/// A window of device registers (usually one PCI BAR). Offsets are bytes from the
/// start of the window; accesses are volatile and little-endian, and an access
/// outside the window is ignored (reads return all ones, like an absent device).
/// Methods take `&self`: registers are shared state owned by the device, not Rust
/// memory, so several driver parts may hold the same window.
pub trait Mmio {
    /// Bytes in the window.
    fn len(&self) -> usize;
    /// Whether the window is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Reads a byte.
    fn read_u8(&self, offset: usize) -> u8;
    /// Reads 16 bits.
    fn read_u16(&self, offset: usize) -> u16;
    /// Reads 32 bits.
    fn read_u32(&self, offset: usize) -> u32;
    /// Writes a byte.
    fn write_u8(&self, offset: usize, value: u8);
    /// Writes 16 bits.
    fn write_u16(&self, offset: usize, value: u16);
    /// Writes 32 bits.
    fn write_u32(&self, offset: usize, value: u32);
    /// Reads 64 bits as two 32-bit reads, low half first.
    fn read_u64(&self, offset: usize) -> u64 {
        u64::from(self.read_u32(offset)) | (u64::from(self.read_u32(offset + 4)) << 32)
    }
    /// Writes 64 bits as two 32-bit writes, low half first.
    fn write_u64(&self, offset: usize, value: u64) {
        self.write_u32(offset, value as u32);
        self.write_u32(offset + 4, (value >> 32) as u32);
    }
}
