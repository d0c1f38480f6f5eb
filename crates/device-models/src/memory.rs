//! Simulated physical memory, DMA buffers in it, and a stepping clock.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use ingot_hal::{Clock, DmaAllocator, DmaBuffer, DmaError};

/// Where simulated RAM starts (non-zero so a zero address is always a bug).
pub const RAM_BASE: u64 = 0x10_0000;

/// Simulated RAM shared by the driver's buffers and the device models.
#[derive(Clone)]
pub struct HostMemory {
    bytes: Rc<RefCell<Vec<u8>>>,
    next: Rc<Cell<u64>>,
}

impl HostMemory {
    /// `size` bytes of RAM at [`RAM_BASE`].
    pub fn new(size: usize) -> Self {
        Self { bytes: Rc::new(RefCell::new(vec![0; size])), next: Rc::new(Cell::new(RAM_BASE)) }
    }

    fn index(&self, address: u64, len: usize) -> Option<usize> {
        let start = address.checked_sub(RAM_BASE)? as usize;
        (start + len <= self.bytes.borrow().len()).then_some(start)
    }

    /// Reads RAM as a device would; `None` outside RAM (a bad DMA address).
    pub fn read(&self, address: u64, out: &mut [u8]) -> Option<()> {
        let start = self.index(address, out.len())?;
        out.copy_from_slice(&self.bytes.borrow()[start..start + out.len()]);
        Some(())
    }

    /// Writes RAM as a device would; `None` outside RAM.
    pub fn write(&self, address: u64, data: &[u8]) -> Option<()> {
        let start = self.index(address, data.len())?;
        self.bytes.borrow_mut()[start..start + data.len()].copy_from_slice(data);
        Some(())
    }

    /// Little-endian helpers for models.
    pub fn read_u16(&self, address: u64) -> u16 {
        let mut b = [0; 2];
        self.read(address, &mut b);
        u16::from_le_bytes(b)
    }
    /// Reads 32 bits.
    pub fn read_u32(&self, address: u64) -> u32 {
        let mut b = [0; 4];
        self.read(address, &mut b);
        u32::from_le_bytes(b)
    }
    /// Reads 64 bits.
    pub fn read_u64(&self, address: u64) -> u64 {
        let mut b = [0; 8];
        self.read(address, &mut b);
        u64::from_le_bytes(b)
    }
    /// Writes 16 bits.
    pub fn write_u16(&self, address: u64, value: u16) {
        self.write(address, &value.to_le_bytes());
    }
    /// Writes 32 bits.
    pub fn write_u32(&self, address: u64, value: u32) {
        self.write(address, &value.to_le_bytes());
    }
    /// Writes 64 bits.
    pub fn write_u64(&self, address: u64, value: u64) {
        self.write(address, &value.to_le_bytes());
    }

    /// A DMA allocator handing out page-aligned pieces of this RAM.
    pub fn dma(&self) -> HostDma {
        HostDma { memory: self.clone() }
    }
}

/// [`DmaAllocator`] over [`HostMemory`].
pub struct HostDma {
    memory: HostMemory,
}

impl DmaAllocator for HostDma {
    type Buffer = HostBuffer;

    fn allocate(&mut self, bytes: usize) -> Result<HostBuffer, DmaError> {
        let len = bytes.next_multiple_of(4096).max(4096);
        let start = self.memory.next.get();
        self.memory.index(start, len).ok_or(DmaError::OutOfMemory)?;
        self.memory.next.set(start + len as u64);
        Ok(HostBuffer { memory: self.memory.clone(), physical: start, len })
    }
}

/// A DMA buffer in [`HostMemory`].
pub struct HostBuffer {
    memory: HostMemory,
    physical: u64,
    len: usize,
}

impl HostBuffer {
    fn at(&self, offset: usize, len: usize) -> Option<u64> {
        (offset.checked_add(len)? <= self.len).then_some(self.physical + offset as u64)
    }
}

impl DmaBuffer for HostBuffer {
    fn physical(&self) -> u64 {
        self.physical
    }
    fn len(&self) -> usize {
        self.len
    }
    fn read_bytes(&self, offset: usize, out: &mut [u8]) {
        if let Some(a) = self.at(offset, out.len()) {
            self.memory.read(a, out);
        }
    }
    fn write_bytes(&self, offset: usize, data: &[u8]) {
        if let Some(a) = self.at(offset, data.len()) {
            self.memory.write(a, data);
        }
    }
    fn read_u16(&self, offset: usize) -> u16 {
        self.at(offset, 2).map_or(0, |a| self.memory.read_u16(a))
    }
    fn read_u32(&self, offset: usize) -> u32 {
        self.at(offset, 4).map_or(0, |a| self.memory.read_u32(a))
    }
    fn read_u64(&self, offset: usize) -> u64 {
        self.at(offset, 8).map_or(0, |a| self.memory.read_u64(a))
    }
    fn write_u16(&self, offset: usize, value: u16) {
        self.write_bytes(offset, &value.to_le_bytes());
    }
    fn write_u32(&self, offset: usize, value: u32) {
        self.write_bytes(offset, &value.to_le_bytes());
    }
    fn write_u64(&self, offset: usize, value: u64) {
        self.write_bytes(offset, &value.to_le_bytes());
    }
}

/// A clock that moves forward `step_ns` every time it is read.
#[derive(Clone)]
pub struct StepClock {
    now: Rc<Cell<u64>>,
    step_ns: u64,
}

impl StepClock {
    /// Advances 10 µs per reading: a 5 s timeout takes 500,000 polls.
    pub fn new() -> Self {
        Self { now: Rc::new(Cell::new(0)), step_ns: 10_000 }
    }

    /// Nanoseconds elapsed so far.
    pub fn elapsed_ns(&self) -> u64 {
        self.now.get()
    }
}

impl Default for StepClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for StepClock {
    fn now_ns(&self) -> u64 {
        self.now.set(self.now.get() + self.step_ns);
        self.now.get()
    }
}
