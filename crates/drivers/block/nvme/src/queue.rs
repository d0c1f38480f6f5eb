//! A submission/completion queue pair (NVMe base spec §3.3): 64-byte commands,
//! 16-byte completions found by their phase tag, doorbells at the stride CAP gives.

use ingot_hal::{DmaBuffer, Mmio};

/// One command, as its 16 dwords.
#[derive(Debug, Clone, Copy, Default)]
pub struct Command {
    /// Opcode.
    pub opcode: u8,
    /// Namespace.
    pub nsid: u32,
    /// PRP entry 1.
    pub prp1: u64,
    /// PRP entry 2 (second page or PRP list).
    pub prp2: u64,
    /// Command dwords 10..=15.
    pub cdw: [u32; 6],
}

/// One completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completion {
    /// Command identifier it completes.
    pub cid: u16,
    /// Status field (SCT and SC, without the phase bit); 0 is success.
    pub status: u16,
    /// Dword 0 (command specific).
    pub result: u32,
}

/// A queue pair: `id` 0 is the admin pair.
pub struct QueuePair<B> {
    id: u16,
    submissions: B,
    completions: B,
    size: u16,
    tail: u16,
    head: u16,
    phase: bool,
    stride: usize,
}

impl<B: DmaBuffer> QueuePair<B> {
    /// A pair of `size` entries each in zeroed buffers; `stride` is the doorbell stride in bytes.
    pub fn new(id: u16, submissions: B, completions: B, size: u16, stride: usize) -> Self {
        Self { id, submissions, completions, size, tail: 0, head: 0, phase: true, stride }
    }

    /// Physical addresses of the submission and completion rings.
    pub fn addresses(&self) -> (u64, u64) {
        (self.submissions.physical(), self.completions.physical())
    }

    /// Queue size.
    pub fn size(&self) -> u16 {
        self.size
    }

    /// Queues `command` with identifier `cid` and rings the tail doorbell.
    pub fn submit(&mut self, registers: &impl Mmio, cid: u16, command: &Command) {
        let base = 64 * usize::from(self.tail);
        let mut dwords = [0u32; 16];
        dwords[0] = u32::from(command.opcode) | (u32::from(cid) << 16);
        dwords[1] = command.nsid;
        dwords[6] = command.prp1 as u32;
        dwords[7] = (command.prp1 >> 32) as u32;
        dwords[8] = command.prp2 as u32;
        dwords[9] = (command.prp2 >> 32) as u32;
        dwords[10..16].copy_from_slice(&command.cdw);
        for (i, dword) in dwords.iter().enumerate() {
            self.submissions.write_u32(base + 4 * i, *dword);
        }
        self.tail = (self.tail + 1) % self.size;
        registers.write_u32(self.doorbell(false), u32::from(self.tail));
    }

    /// The next completion, if the controller posted one (its phase tag matches).
    pub fn poll(&mut self, registers: &impl Mmio) -> Option<Completion> {
        let base = 16 * usize::from(self.head);
        let dword3 = self.completions.read_u32(base + 12);
        if (dword3 >> 16) & 1 != u32::from(self.phase) {
            return None;
        }
        let completion = Completion {
            cid: dword3 as u16,
            status: (dword3 >> 17) as u16,
            result: self.completions.read_u32(base),
        };
        self.head += 1;
        if self.head == self.size {
            self.head = 0;
            self.phase = !self.phase;
        }
        registers.write_u32(self.doorbell(true), u32::from(self.head));
        Some(completion)
    }

    fn doorbell(&self, completion: bool) -> usize {
        0x1000 + (2 * usize::from(self.id) + usize::from(completion)) * self.stride
    }
}
