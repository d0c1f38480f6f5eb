//! TRB rings (xHCI 1.2 §4.9): producer rings (command and transfer rings, a link TRB
//! at the end that toggles the cycle bit) and the consumer event ring (one segment,
//! described by a one-entry segment table).

use ingot_hal::DmaBuffer;

/// Bytes of a TRB.
pub const TRB_BYTES: usize = 16;
/// TRB type field shift in dword 3.
pub const TYPE_SHIFT: u32 = 10;
const CYCLE: u32 = 1;
const LINK: u32 = 6;
const TOGGLE_CYCLE: u32 = 1 << 1;

/// A ring the driver produces on (commands or transfers).
pub struct ProducerRing<B: DmaBuffer> {
    buffer: B,
    slots: usize,
    enqueue: usize,
    cycle: u32,
}

impl<B: DmaBuffer> ProducerRing<B> {
    /// A ring in `buffer` (zeroed, `slots * 16` bytes, the last slot the link TRB).
    pub fn new(buffer: B, slots: usize) -> Self {
        let mut ring = Self { buffer, slots, enqueue: 0, cycle: CYCLE };
        let physical = ring.buffer.physical();
        ring.write(
            slots - 1,
            [physical as u32, (physical >> 32) as u32, 0, LINK << TYPE_SHIFT | TOGGLE_CYCLE],
        );
        ring
    }

    /// Physical address of the ring's first TRB.
    pub fn physical(&self) -> u64 {
        self.buffer.physical()
    }

    /// Producer cycle state (for the dequeue pointer given to the controller).
    pub fn cycle(&self) -> u32 {
        self.cycle
    }

    fn write(&mut self, slot: usize, trb: [u32; 4]) {
        let at = slot * TRB_BYTES;
        for (index, word) in trb.iter().enumerate().take(3) {
            self.buffer.write_u32(at + index * 4, *word);
        }
        self.buffer.write_u32(at + 12, trb[3]);
    }

    /// Appends a TRB (its cycle bit set here); returns its physical address.
    pub fn push(&mut self, mut trb: [u32; 4]) -> u64 {
        trb[3] = (trb[3] & !CYCLE) | self.cycle;
        let slot = self.enqueue;
        self.write(slot, trb);
        let address = self.physical() + (slot * TRB_BYTES) as u64;
        self.enqueue += 1;
        if self.enqueue == self.slots - 1 {
            // Hand the link TRB over, then wrap with the other cycle state.
            let link = self.buffer.read_u32((self.slots - 1) * TRB_BYTES + 12);
            self.buffer.write_u32((self.slots - 1) * TRB_BYTES + 12, (link & !CYCLE) | self.cycle);
            self.enqueue = 0;
            self.cycle ^= CYCLE;
        }
        address
    }
}

/// The event ring of interrupter 0.
pub struct EventRing<B: DmaBuffer> {
    ring: B,
    table: B,
    slots: usize,
    dequeue: usize,
    cycle: u32,
}

impl<B: DmaBuffer> EventRing<B> {
    /// An event ring in `ring` (`slots * 16` bytes) with its segment table in `table`.
    pub fn new(ring: B, table: B, slots: usize) -> Self {
        table.write_u64(0, ring.physical());
        table.write_u32(8, slots as u32);
        Self { ring, table, slots, dequeue: 0, cycle: CYCLE }
    }

    /// Physical address of the segment table (ERSTBA).
    pub fn table_physical(&self) -> u64 {
        self.table.physical()
    }

    /// Physical address of the next TRB to read (ERDP).
    pub fn dequeue_physical(&self) -> u64 {
        self.ring.physical() + (self.dequeue * TRB_BYTES) as u64
    }

    /// The next event, if the controller has written one; advances past it.
    pub fn pop(&mut self) -> Option<[u32; 4]> {
        let at = self.dequeue * TRB_BYTES;
        let control = self.ring.read_u32(at + 12);
        if control & CYCLE != self.cycle {
            return None;
        }
        let trb = [
            self.ring.read_u32(at),
            self.ring.read_u32(at + 4),
            self.ring.read_u32(at + 8),
            control,
        ];
        self.dequeue += 1;
        if self.dequeue == self.slots {
            self.dequeue = 0;
            self.cycle ^= CYCLE;
        }
        Some(trb)
    }
}
