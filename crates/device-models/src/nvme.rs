//! An NVMe controller (NVM Express base specification 1.4): registers, admin
//! queue, Identify (controller, active namespace list, namespace), I/O queue
//! creation, and Read/Write/Flush with PRP1/PRP2/PRP lists. Commands run when the
//! submission doorbell is written; completions carry the phase tag.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use ingot_hal::Mmio;

use crate::HostMemory;

const PAGE: u64 = 4096;
/// Status for a failed read/write: media error, unrecovered read error (SCT 2, SC 0x81).
pub const STATUS_MEDIA_ERROR: u16 = 0x281;
/// Largest transfer, as Identify reports it (MDTS 5: 32 pages).
pub const MAX_TRANSFER: u64 = PAGE << 5;
/// Status for a transfer over [`MAX_TRANSFER`] (generic, invalid field).
pub const STATUS_INVALID_FIELD: u16 = 0x02;
/// Status for a PRP entry that is not page-aligned (generic, PRP offset invalid).
pub const STATUS_PRP_OFFSET_INVALID: u16 = 0x13;
/// Status for an invalid namespace (generic, SC 0x0B).
pub const STATUS_INVALID_NAMESPACE: u16 = 0x0B;

/// One namespace.
pub struct ModelNamespace {
    /// Namespace ID.
    pub nsid: u32,
    /// log2 of the sector size.
    pub lba_shift: u32,
    /// The bytes.
    pub data: Vec<u8>,
}

struct Submission {
    address: u64,
    size: u16,
    head: u16,
    /// The last value written to the tail doorbell.
    tail: u16,
    completion_queue: u16,
}

struct CompletionRing {
    address: u64,
    size: u16,
    tail: u16,
    head: u16,
    phase: bool,
    /// Entries posted but not yet released through the head doorbell.
    unconsumed: usize,
}

/// Controller state.
pub struct NvmeState {
    memory: HostMemory,
    /// Namespaces, active ones only.
    pub namespaces: Vec<ModelNamespace>,
    cc: u32,
    aqa: u32,
    asq: u64,
    acq: u64,
    submissions: BTreeMap<u16, Submission>,
    completions: BTreeMap<u16, CompletionRing>,
    /// The controller never sets CSTS.RDY.
    pub never_ready: bool,
    /// I/O commands are accepted but never completed.
    pub stalled: bool,
    /// I/O commands wait until [`NvmeState::finish_held`] (as a controller working
    /// on many at once would).
    pub held: bool,
    /// Reads and writes touching this (nsid, lba) fail with [`STATUS_MEDIA_ERROR`].
    pub fail_lba: Option<(u32, u64)>,
    /// Most I/O commands outstanding (submitted, completion not yet consumed).
    pub most_outstanding: usize,
    /// Flushes seen.
    pub flushes: usize,
    /// Largest PRP list used (entries).
    pub longest_prp_list: usize,
    /// Largest transfer of one read or write (bytes).
    pub largest_transfer: u64,
    /// Read and write commands run.
    pub io_commands: usize,
    /// Read and write commands run, by submission queue ID.
    pub commands_per_queue: BTreeMap<u16, usize>,
    /// Per I/O completion queue created: (queue ID, interrupts enabled, vector).
    pub completion_interrupts: Vec<(u16, bool, u16)>,
}

/// An NVMe controller; its register window is the [`Mmio`] implementation.
#[derive(Clone)]
pub struct NvmeModel {
    state: Rc<RefCell<NvmeState>>,
}

impl NvmeModel {
    /// A controller with `namespaces`, using `memory` for DMA.
    pub fn new(memory: HostMemory, namespaces: Vec<ModelNamespace>) -> Self {
        let state = NvmeState {
            memory,
            namespaces,
            cc: 0,
            aqa: 0,
            asq: 0,
            acq: 0,
            submissions: BTreeMap::new(),
            completions: BTreeMap::new(),
            never_ready: false,
            stalled: false,
            held: false,
            fail_lba: None,
            most_outstanding: 0,
            flushes: 0,
            longest_prp_list: 0,
            largest_transfer: 0,
            io_commands: 0,
            commands_per_queue: BTreeMap::new(),
            completion_interrupts: Vec::new(),
        };
        Self { state: Rc::new(RefCell::new(state)) }
    }

    /// The state, for faults and checks.
    pub fn state(&self) -> std::cell::RefMut<'_, NvmeState> {
        self.state.borrow_mut()
    }
}

impl NvmeState {
    fn csts(&self) -> u32 {
        u32::from(self.cc & 1 != 0 && !self.never_ready)
    }

    fn write_cc(&mut self, value: u32) {
        let enabling = value & 1 != 0 && self.cc & 1 == 0;
        self.cc = value;
        if value & 1 == 0 {
            self.submissions.clear();
            self.completions.clear();
        }
        if enabling {
            let sq_size = (self.aqa & 0xFFF) as u16 + 1;
            let cq_size = ((self.aqa >> 16) & 0xFFF) as u16 + 1;
            self.submissions.insert(
                0,
                Submission {
                    address: self.asq,
                    size: sq_size,
                    head: 0,
                    tail: 0,
                    completion_queue: 0,
                },
            );
            self.completions.insert(
                0,
                CompletionRing {
                    address: self.acq,
                    size: cq_size,
                    tail: 0,
                    head: 0,
                    phase: true,
                    unconsumed: 0,
                },
            );
        }
    }

    fn doorbell(&mut self, index: usize, value: u16) {
        let queue = (index / 2) as u16;
        if index % 2 == 1 {
            if let Some(cq) = self.completions.get_mut(&queue) {
                let consumed = (value + cq.size - cq.head) % cq.size;
                cq.head = value % cq.size;
                cq.unconsumed = cq.unconsumed.saturating_sub(usize::from(consumed));
            }
            return;
        }
        let Some(sq) = self.submissions.get_mut(&queue) else { return };
        sq.tail = value;
        let (address, size, mut head, cq) = (sq.address, sq.size, sq.head, sq.completion_queue);
        if queue != 0 {
            let outstanding = usize::from((value + size - head) % size)
                + self.completions.get(&cq).map_or(0, |c| c.unconsumed);
            self.most_outstanding = self.most_outstanding.max(outstanding);
            if self.stalled || self.held {
                return;
            }
        }
        while head != value {
            let entry = address + 64 * u64::from(head);
            head = (head + 1) % size;
            let mut dwords = [0u32; 16];
            for (i, d) in dwords.iter_mut().enumerate() {
                *d = self.memory.read_u32(entry + 4 * i as u64);
            }
            let status = if queue == 0 { self.admin(&dwords) } else { self.io_on(queue, &dwords) };
            self.post(cq, (dwords[0] >> 16) as u16, queue, head, status);
        }
        if let Some(sq) = self.submissions.get_mut(&queue) {
            sq.head = head;
        }
    }

    /// Runs every I/O command waiting in every submission queue, the last
    /// submitted first (so completions come back out of order); returns how many.
    pub fn finish_held(&mut self) -> usize {
        let mut waiting = Vec::new();
        for (&queue, sq) in self.submissions.iter_mut().filter(|(q, _)| **q != 0) {
            while sq.head != sq.tail {
                let entry = sq.address + 64 * u64::from(sq.head);
                sq.head = (sq.head + 1) % sq.size;
                waiting.push((queue, sq.completion_queue, entry, sq.head));
            }
        }
        for &(queue, cq, entry, head) in waiting.iter().rev() {
            let mut dwords = [0u32; 16];
            for (i, d) in dwords.iter_mut().enumerate() {
                *d = self.memory.read_u32(entry + 4 * i as u64);
            }
            let status = self.io_on(queue, &dwords);
            self.post(cq, (dwords[0] >> 16) as u16, queue, head, status);
        }
        waiting.len()
    }

    /// Runs I/O command `d` from submission queue `queue`.
    fn io_on(&mut self, queue: u16, d: &[u32; 16]) -> u16 {
        *self.commands_per_queue.entry(queue).or_insert(0) += 1;
        self.io(d)
    }

    fn post(&mut self, cq: u16, cid: u16, sq: u16, sq_head: u16, status: u16) {
        let Some(ring) = self.completions.get_mut(&cq) else { return };
        let entry = ring.address + 16 * u64::from(ring.tail);
        let dword2 = u32::from(sq_head) | (u32::from(sq) << 16);
        let dword3 = u32::from(cid) | (u32::from(ring.phase) << 16) | (u32::from(status) << 17);
        ring.tail += 1;
        if ring.tail == ring.size {
            ring.tail = 0;
            ring.phase = !ring.phase;
        }
        ring.unconsumed += 1;
        self.memory.write_u32(entry, 0);
        self.memory.write_u32(entry + 8, dword2);
        self.memory.write_u32(entry + 12, dword3);
    }

    fn prp1(d: &[u32; 16]) -> u64 {
        u64::from(d[6]) | (u64::from(d[7]) << 32)
    }

    fn prp2(d: &[u32; 16]) -> u64 {
        u64::from(d[8]) | (u64::from(d[9]) << 32)
    }

    fn admin(&mut self, d: &[u32; 16]) -> u16 {
        let prp1 = Self::prp1(d);
        match d[0] as u8 {
            0x06 => {
                let mut page = vec![0u8; PAGE as usize];
                match d[10] & 0xFF {
                    1 => {
                        page[4..24].copy_from_slice(b"NVME-MODEL-SN-0001  ");
                        page[24..64].copy_from_slice(&{
                            let mut m = [b' '; 40];
                            m[..16].copy_from_slice(b"Ingot NVMe model");
                            m
                        });
                        page[77] = (MAX_TRANSFER / PAGE).trailing_zeros() as u8;
                    }
                    2 => {
                        let mut at = 0;
                        for ns in self.namespaces.iter().filter(|ns| ns.nsid > d[1]) {
                            page[at..at + 4].copy_from_slice(&ns.nsid.to_le_bytes());
                            at += 4;
                        }
                    }
                    0 => {
                        let Some(ns) = self.namespaces.iter().find(|ns| ns.nsid == d[1]) else {
                            return STATUS_INVALID_NAMESPACE;
                        };
                        let sectors = (ns.data.len() >> ns.lba_shift) as u64;
                        page[0..8].copy_from_slice(&sectors.to_le_bytes());
                        page[8..16].copy_from_slice(&sectors.to_le_bytes());
                        // Format 0 is 512 bytes, format 1 is 4096; FLBAS picks one.
                        page[26] = u8::from(ns.lba_shift == 12);
                        page[128..132].copy_from_slice(&(9u32 << 16).to_le_bytes());
                        page[132..136].copy_from_slice(&(12u32 << 16).to_le_bytes());
                    }
                    _ => return 0x02,
                }
                self.memory.write(prp1, &page);
                0
            }
            0x05 => {
                let id = d[10] as u16;
                self.completion_interrupts.push((id, d[11] & 2 != 0, (d[11] >> 16) as u16));
                let size = (d[10] >> 16) as u16 + 1;
                self.completions.insert(
                    id,
                    CompletionRing {
                        address: prp1,
                        size,
                        tail: 0,
                        head: 0,
                        phase: true,
                        unconsumed: 0,
                    },
                );
                0
            }
            0x01 => {
                let id = d[10] as u16;
                let size = (d[10] >> 16) as u16 + 1;
                let cq = (d[11] >> 16) as u16;
                if !self.completions.contains_key(&cq) {
                    return 0x100; // completion queue invalid
                }
                self.submissions.insert(
                    id,
                    Submission { address: prp1, size, head: 0, tail: 0, completion_queue: cq },
                );
                0
            }
            _ => 0x01,
        }
    }

    /// Physical pages of a transfer of `len` bytes described by PRP1/PRP2.
    fn pages(&mut self, prp1: u64, prp2: u64, len: u64) -> Vec<(u64, u64)> {
        let first = (PAGE - prp1 % PAGE).min(len);
        let mut pages = vec![(prp1, first)];
        let mut left = len - first;
        if left == 0 {
            return pages;
        }
        if left <= PAGE {
            pages.push((prp2, left));
            return pages;
        }
        let mut entry = prp2;
        let mut used = 0;
        while left > 0 {
            let address = self.memory.read_u64(entry);
            let take = left.min(PAGE);
            pages.push((address, take));
            left -= take;
            entry += 8;
            used += 1;
        }
        self.longest_prp_list = self.longest_prp_list.max(used);
        pages
    }

    fn io(&mut self, d: &[u32; 16]) -> u16 {
        let nsid = d[1];
        let opcode = d[0] as u8;
        let Some(index) = self.namespaces.iter().position(|ns| ns.nsid == nsid) else {
            return STATUS_INVALID_NAMESPACE;
        };
        if opcode == 0x00 {
            self.flushes += 1;
            return 0;
        }
        let shift = self.namespaces[index].lba_shift;
        let lba = u64::from(d[10]) | (u64::from(d[11]) << 32);
        let count = u64::from(d[12] & 0xFFFF) + 1;
        let start = lba << shift;
        let len = count << shift;
        if start + len > self.namespaces[index].data.len() as u64 {
            return 0x80; // LBA out of range
        }
        if self.fail_lba.is_some_and(|(n, bad)| n == nsid && bad >= lba && bad < lba + count) {
            return STATUS_MEDIA_ERROR;
        }
        if len > MAX_TRANSFER {
            return STATUS_INVALID_FIELD;
        }
        self.largest_transfer = self.largest_transfer.max(len);
        self.io_commands += 1;
        let pages = self.pages(Self::prp1(d), Self::prp2(d), len);
        // Every entry after PRP1 names a whole page (§4.3).
        if pages[1..].iter().any(|&(address, _)| address % PAGE != 0) {
            return STATUS_PRP_OFFSET_INVALID;
        }
        let mut at = start as usize;
        for (address, take) in pages {
            let take = take as usize;
            match opcode {
                0x02 => {
                    let data = self.namespaces[index].data[at..at + take].to_vec();
                    self.memory.write(address, &data);
                }
                0x01 => {
                    let mut data = vec![0; take];
                    self.memory.read(address, &mut data);
                    self.namespaces[index].data[at..at + take].copy_from_slice(&data);
                }
                _ => return 0x01,
            }
            at += take;
        }
        0
    }
}

impl Mmio for NvmeModel {
    fn len(&self) -> usize {
        0x2000
    }
    fn read_u8(&self, offset: usize) -> u8 {
        (self.read_u32(offset & !3) >> (8 * (offset & 3))) as u8
    }
    fn read_u16(&self, offset: usize) -> u16 {
        (self.read_u32(offset & !3) >> (8 * (offset & 2))) as u16
    }
    fn read_u32(&self, offset: usize) -> u32 {
        let s = self.state.borrow();
        match offset {
            // MQES 63, CQR, TO 20 (10 s), DSTRD 0, CSS NVM.
            0x00 => 63 | (1 << 16) | (20 << 24),
            0x04 => 1 << 5,
            0x08 => 0x0001_0400,
            0x14 => s.cc,
            0x1C => s.csts(),
            0x24 => s.aqa,
            _ => 0,
        }
    }
    fn write_u8(&self, _offset: usize, _value: u8) {}
    fn write_u16(&self, _offset: usize, _value: u16) {}
    fn write_u32(&self, offset: usize, value: u32) {
        let mut s = self.state.borrow_mut();
        match offset {
            0x14 => s.write_cc(value),
            0x24 => s.aqa = value,
            0x28 => s.asq = (s.asq & !0xFFFF_FFFF) | u64::from(value),
            0x2C => s.asq = (s.asq & 0xFFFF_FFFF) | (u64::from(value) << 32),
            0x30 => s.acq = (s.acq & !0xFFFF_FFFF) | u64::from(value),
            0x34 => s.acq = (s.acq & 0xFFFF_FFFF) | (u64::from(value) << 32),
            0x1000.. if offset.is_multiple_of(4) => s.doorbell((offset - 0x1000) / 4, value as u16),
            _ => {}
        }
    }
}
