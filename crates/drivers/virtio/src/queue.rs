//! A split virtqueue (virtio §2.7) in one DMA buffer, in the legacy layout:
//! descriptor table, available ring, then the used ring at the next 4 KiB
//! boundary. The legacy interface requires exactly this layout; the modern one
//! accepts it too, so both share the code. Drivers give each request a fixed range
//! of descriptors (its slot), so no free list is needed: the head identifies the slot.

use ingot_hal::DmaBuffer;

/// Descriptor continues in `next`.
pub const DESC_NEXT: u16 = 1;
/// Device writes this buffer (device-readable otherwise).
pub const DESC_WRITE: u16 = 2;

/// Bytes needed for a queue of `size` entries, and the offset of the used ring.
pub fn layout(size: u16) -> (usize, usize) {
    let size = usize::from(size);
    let used_offset = (16 * size + 6 + 2 * size).next_multiple_of(4096);
    (used_offset + (6 + 8 * size).next_multiple_of(4096), used_offset)
}

/// One buffer of a descriptor chain.
#[derive(Debug, Clone, Copy)]
pub struct Segment {
    /// Physical address.
    pub address: u64,
    /// Length in bytes.
    pub len: u32,
    /// The device writes it.
    pub device_writes: bool,
}

/// Driver side of a split virtqueue.
pub struct SplitQueue<B> {
    memory: B,
    size: u16,
    used_offset: usize,
    next_avail: u16,
    last_used: u16,
}

impl<B: DmaBuffer> SplitQueue<B> {
    /// A queue of `size` entries in `memory` (at least `layout(size).0` bytes, zeroed).
    pub fn new(memory: B, size: u16) -> Self {
        let (_, used_offset) = layout(size);
        // Tell the device not to interrupt: we poll.
        memory.write_u16(16 * usize::from(size), 1);
        Self { memory, size, used_offset, next_avail: 0, last_used: 0 }
    }

    /// Asks the device to signal used buffers (`true`) or not (VIRTQ_AVAIL_F_NO_INTERRUPT,
    /// the state `new` leaves the queue in). Only a hint: the driver still polls.
    pub fn set_interrupts(&mut self, on: bool) {
        self.memory.write_u16(16 * usize::from(self.size), if on { 0 } else { 1 });
    }

    /// Physical address of the queue and offset of its used ring.
    pub fn addresses(&self) -> (u64, u64) {
        (self.memory.physical(), self.used_offset as u64)
    }

    /// Writes a chain of `segments` starting at descriptor `head` (descriptors
    /// `head..head + segments.len()`) and makes it available to the device.
    pub fn push(&mut self, head: u16, segments: &[Segment]) {
        for (i, segment) in segments.iter().enumerate() {
            let index = usize::from(head) + i;
            let base = 16 * index;
            let mut flags = if segment.device_writes { DESC_WRITE } else { 0 };
            if i + 1 < segments.len() {
                flags |= DESC_NEXT;
            }
            self.memory.write_u64(base, segment.address);
            self.memory.write_u32(base + 8, segment.len);
            self.memory.write_u16(base + 12, flags);
            self.memory.write_u16(base + 14, (index + 1) as u16 % self.size);
        }
        let avail = 16 * usize::from(self.size);
        let slot = usize::from(self.next_avail % self.size);
        self.memory.write_u16(avail + 4 + 2 * slot, head);
        self.next_avail = self.next_avail.wrapping_add(1);
        // The index is written last (volatile writes stay in program order on x86).
        self.memory.write_u16(avail + 2, self.next_avail);
    }

    /// The head descriptor of the next completed chain, if any.
    pub fn pop_used(&mut self) -> Option<u16> {
        self.pop_used_len().map(|(head, _)| head)
    }

    /// The head descriptor of the next completed chain and the bytes the device
    /// wrote into its device-writable buffers, if any chain completed.
    pub fn pop_used_len(&mut self) -> Option<(u16, u32)> {
        let device_index = self.memory.read_u16(self.used_offset + 2);
        if device_index == self.last_used {
            return None;
        }
        let slot = usize::from(self.last_used % self.size);
        let id = self.memory.read_u32(self.used_offset + 4 + 8 * slot);
        let len = self.memory.read_u32(self.used_offset + 8 + 8 * slot);
        self.last_used = self.last_used.wrapping_add(1);
        Some((id as u16, len))
    }

    /// Entries in the queue.
    pub fn size(&self) -> u16 {
        self.size
    }
}
