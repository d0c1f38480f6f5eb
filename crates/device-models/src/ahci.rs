//! An AHCI HBA (Serial ATA AHCI 1.3.1) with ATA disks on some ports. A command is
//! run when its bit in PxCI is set while the port is started (PxCMD.ST); the model
//! reads the command header, the register FIS and the PRDT from memory like a real
//! HBA. A failed command sets PxTFD.ERR and PxIS.TFES and leaves PxCI set until the
//! port is stopped, as hardware does.
//!
//! LBA48 disks also take native command queuing (READ/WRITE FPDMA QUEUED, 32
//! tags): the tag's PxSACT bit stays set until the command completed (a Set
//! Device Bits FIS clears it). With `held`, queued commands wait until
//! [`AhciState::finish_held`] runs them, the last issued first; a failing queued
//! command aborts every other one still waiting (their PxSACT bits stay set), as
//! ATA's NCQ error handling does.

use std::cell::RefCell;
use std::rc::Rc;

use ingot_hal::Mmio;

use crate::HostMemory;

/// Error register value for a failed read/write (UNC) in TFD bits 15:8.
pub const TFD_MEDIA_ERROR: u32 = 0x4051;

/// A disk on a port.
pub struct ModelDisk {
    /// The bytes (512-byte sectors).
    pub data: Vec<u8>,
    /// Whether IDENTIFY reports 48-bit addressing.
    pub lba48: bool,
}

/// One port.
#[derive(Default)]
pub struct ModelPort {
    /// Attached disk.
    pub disk: Option<ModelDisk>,
    clb: u64,
    fb: u64,
    is: u32,
    cmd: u32,
    tfd: u32,
    ci: u32,
    sact: u32,
    /// Queued commands accepted while `held`: (slot, tag).
    waiting: Vec<(usize, u32)>,
}

/// HBA state.
pub struct AhciState {
    memory: HostMemory,
    /// Ports 0..32 (only `implemented` ones answer).
    pub ports: Vec<ModelPort>,
    /// PI register.
    pub implemented: u32,
    ghc: u32,
    /// A command touching this (port, lba) fails.
    pub fail: Option<(usize, u64)>,
    /// Commands are never completed.
    pub stalled: bool,
    /// Most PRDT entries seen in one command.
    pub most_prdt_entries: usize,
    /// Largest read or write of one command (bytes).
    pub largest_transfer: usize,
    /// ATA commands run, in order.
    pub commands: Vec<u8>,
    /// Queued commands wait for [`AhciState::finish_held`].
    pub held: bool,
    /// Most queued commands outstanding on one port at once.
    pub most_queued: usize,
}

/// The HBA; its ABAR is the [`Mmio`] implementation.
#[derive(Clone)]
pub struct AhciModel {
    state: Rc<RefCell<AhciState>>,
}

impl AhciModel {
    /// An HBA with ports `implemented` (bit mask) and `disks` attached (port, disk).
    pub fn new(memory: HostMemory, implemented: u32, disks: Vec<(usize, ModelDisk)>) -> Self {
        let mut ports: Vec<ModelPort> = (0..32).map(|_| ModelPort::default()).collect();
        for (port, disk) in disks {
            ports[port].disk = Some(disk);
        }
        let state = AhciState {
            memory,
            ports,
            implemented,
            ghc: 0,
            fail: None,
            stalled: false,
            most_prdt_entries: 0,
            largest_transfer: 0,
            commands: Vec::new(),
            held: false,
            most_queued: 0,
        };
        Self { state: Rc::new(RefCell::new(state)) }
    }

    /// The state, for faults and checks.
    pub fn state(&self) -> std::cell::RefMut<'_, AhciState> {
        self.state.borrow_mut()
    }
}

fn identify(disk: &ModelDisk, port: usize) -> [u8; 512] {
    let mut words = [0u16; 256];
    let sectors = (disk.data.len() / 512) as u64;
    words[49] = 1 << 9;
    words[60] = sectors.min(0x0FFF_FFFF) as u16;
    words[61] = (sectors.min(0x0FFF_FFFF) >> 16) as u16;
    if disk.lba48 {
        // NCQ with 32 tags (words 75 and 76).
        words[75] = 31;
        words[76] = 1 << 8;
        words[83] = 1 << 10;
        for i in 0..4 {
            words[100 + i] = (sectors >> (16 * i)) as u16;
        }
    }
    let text = |words: &mut [u16; 256], first: usize, text: &[u8]| {
        for (i, pair) in text.chunks(2).enumerate() {
            words[first + i] = (u16::from(pair[0]) << 8) | u16::from(*pair.get(1).unwrap_or(&b' '));
        }
    };
    text(&mut words, 10, format!("AHCI-SN-{port:02}        ").as_bytes());
    text(&mut words, 27, b"Ingot AHCI model disk                   ");
    let mut bytes = [0u8; 512];
    for (i, w) in words.iter().enumerate() {
        bytes[2 * i..2 * i + 2].copy_from_slice(&w.to_le_bytes());
    }
    bytes
}

/// READ/WRITE FPDMA QUEUED.
const QUEUED_COMMANDS: [u8; 2] = [0x60, 0x61];

impl AhciState {
    /// Runs every queued command waiting on every port, the last issued first;
    /// returns how many ran (a failure aborts the rest of its port).
    pub fn finish_held(&mut self) -> usize {
        let mut ran = 0;
        for number in 0..self.ports.len() {
            let mut waiting = core::mem::take(&mut self.ports[number].waiting);
            while let Some((slot, tag)) = waiting.pop() {
                ran += 1;
                if !self.run(number, slot) {
                    break;
                }
                self.ports[number].sact &= !(1 << tag);
            }
        }
        ran
    }

    /// Issues the command in `slot`: a queued one completes (clears its PxSACT bit)
    /// or waits when `held`; returns false when it failed.
    fn issue(&mut self, number: usize, slot: usize) -> bool {
        let memory = self.memory.clone();
        let header = self.ports[number].clb + 32 * slot as u64;
        let table = memory.read_u64(header + 8);
        let mut fis = [0u8; 16];
        memory.read(table, &mut fis);
        if !QUEUED_COMMANDS.contains(&fis[2]) {
            return self.run(number, slot);
        }
        let tag = u32::from(fis[12] >> 3);
        let port = &mut self.ports[number];
        port.ci &= !(1 << slot);
        let queued = port.sact.count_ones() as usize;
        self.most_queued = self.most_queued.max(queued);
        if self.held {
            self.ports[number].waiting.push((slot, tag));
            return true;
        }
        let ok = self.run(number, slot);
        if ok {
            self.ports[number].sact &= !(1 << tag);
        }
        ok
    }

    fn run(&mut self, number: usize, slot: usize) -> bool {
        let memory = self.memory.clone();
        let port = &self.ports[number];
        let header = port.clb + 32 * slot as u64;
        let flags = memory.read_u32(header);
        let table = memory.read_u64(header + 8);
        let entries = (flags >> 16) as usize;
        self.most_prdt_entries = self.most_prdt_entries.max(entries);
        let mut fis = [0u8; 16];
        memory.read(table, &mut fis);
        let command = fis[2];
        self.commands.push(command);
        let queued = QUEUED_COMMANDS.contains(&command);
        let lba48 = queued || matches!(command, 0x25 | 0x35 | 0xEA);
        let lba = if lba48 {
            (0..6).map(|i| u64::from(fis[[4, 5, 6, 8, 9, 10][i]]) << (8 * i)).sum::<u64>()
        } else {
            u64::from(fis[4])
                | (u64::from(fis[5]) << 8)
                | (u64::from(fis[6]) << 16)
                | (u64::from(fis[7] & 0xF) << 24)
        };
        let mut count = if queued {
            u64::from(fis[3]) | (u64::from(fis[11]) << 8)
        } else {
            u64::from(fis[12]) | if lba48 { u64::from(fis[13]) << 8 } else { 0 }
        };
        if count == 0 {
            count = if lba48 { 65536 } else { 256 };
        }
        let prdt: Vec<(u64, usize)> = (0..entries)
            .map(|i| {
                let at = table + 0x80 + 16 * i as u64;
                (memory.read_u64(at), (memory.read_u32(at + 12) & 0x3F_FFFF) as usize + 1)
            })
            .collect();
        let fail = self.fail;
        let port = &mut self.ports[number];
        let Some(disk) = port.disk.as_mut() else { return false };
        let failed = match command {
            0xEC => {
                let data = identify(disk, number);
                if let Some(&(address, _)) = prdt.first() {
                    memory.write(address, &data);
                }
                false
            }
            0x25 | 0xC8 | 0x35 | 0xCA | 0x60 | 0x61 if !queued || disk.lba48 => {
                let start = lba as usize * 512;
                let len = count as usize * 512;
                let bad = fail.is_some_and(|(p, l)| p == number && l >= lba && l < lba + count);
                // Data base addresses are word-aligned (AHCI §4.2.3.3, DBA bit 0 reserved).
                let misaligned = prdt.iter().any(|&(address, _)| address % 2 != 0);
                self.largest_transfer = self.largest_transfer.max(len);
                if bad
                    || misaligned
                    || start + len > disk.data.len()
                    || prdt.iter().map(|p| p.1).sum::<usize>() < len
                {
                    true
                } else {
                    let mut at = start;
                    for (address, size) in prdt {
                        let size = size.min(start + len - at);
                        if matches!(command, 0x25 | 0xC8 | 0x60) {
                            memory.write(address, &disk.data[at..at + size]);
                        } else {
                            let mut chunk = vec![0; size];
                            memory.read(address, &mut chunk);
                            disk.data[at..at + size].copy_from_slice(&chunk);
                        }
                        at += size;
                    }
                    false
                }
            }
            0xE7 | 0xEA => false,
            _ => true,
        };
        if failed {
            port.tfd = TFD_MEDIA_ERROR;
            port.is |= 1 << 30;
        } else {
            port.tfd = 0x50;
            port.ci &= !(1 << slot);
        }
        !failed
    }
}

impl Mmio for AhciModel {
    fn len(&self) -> usize {
        0x1100
    }
    fn read_u8(&self, offset: usize) -> u8 {
        (self.read_u32(offset & !3) >> (8 * (offset & 3))) as u8
    }
    fn read_u16(&self, offset: usize) -> u16 {
        (self.read_u32(offset & !3) >> (8 * (offset & 2))) as u16
    }
    fn read_u32(&self, offset: usize) -> u32 {
        let s = self.state.borrow();
        if offset < 0x100 {
            return match offset {
                // S64A, SNCQ, 32 command slots, 32 ports.
                0x00 => (1 << 31) | (1 << 30) | (31 << 8) | 31,
                0x04 => s.ghc,
                0x0C => s.implemented,
                0x10 => 0x0001_0300,
                _ => 0,
            };
        }
        let number = (offset - 0x100) / 0x80;
        if number >= 32 || s.implemented & (1 << number) == 0 {
            return 0;
        }
        let port = &s.ports[number];
        match (offset - 0x100) % 0x80 {
            0x00 => port.clb as u32,
            0x04 => (port.clb >> 32) as u32,
            0x08 => port.fb as u32,
            0x0C => (port.fb >> 32) as u32,
            0x10 => port.is,
            0x18 => port.cmd,
            0x20 => port.tfd,
            0x24 => {
                if port.disk.is_some() {
                    0x101
                } else {
                    0xFFFF_FFFF
                }
            }
            0x28 => {
                if port.disk.is_some() {
                    0x113
                } else {
                    0
                }
            }
            0x34 => port.sact,
            0x38 => port.ci,
            _ => 0,
        }
    }
    fn write_u8(&self, _offset: usize, _value: u8) {}
    fn write_u16(&self, _offset: usize, _value: u16) {}
    fn write_u32(&self, offset: usize, value: u32) {
        let mut s = self.state.borrow_mut();
        if offset < 0x100 {
            if offset == 0x04 {
                s.ghc = value & (1 << 31);
            }
            return;
        }
        let number = (offset - 0x100) / 0x80;
        if number >= 32 || s.implemented & (1 << number) == 0 {
            return;
        }
        let stalled = s.stalled;
        let port = &mut s.ports[number];
        match (offset - 0x100) % 0x80 {
            0x00 => port.clb = (port.clb & !0xFFFF_FFFF) | u64::from(value),
            0x04 => port.clb = (port.clb & 0xFFFF_FFFF) | (u64::from(value) << 32),
            0x08 => port.fb = (port.fb & !0xFFFF_FFFF) | u64::from(value),
            0x0C => port.fb = (port.fb & 0xFFFF_FFFF) | (u64::from(value) << 32),
            0x10 => port.is &= !value,
            0x18 => {
                // ST drives CR, FRE drives FR; stopping clears outstanding commands.
                let mut cmd = value & 0x11;
                if value & 1 != 0 {
                    cmd |= 1 << 15;
                } else {
                    port.ci = 0;
                    port.sact = 0;
                    port.waiting.clear();
                }
                if value & 0x10 != 0 {
                    cmd |= 1 << 14;
                }
                port.cmd = cmd;
            }
            0x34 if port.cmd & 1 != 0 => port.sact |= value,
            0x38 if port.cmd & 1 != 0 => {
                port.ci |= value;
                if !stalled {
                    for slot in (0..32).filter(|slot| value & (1 << slot) != 0) {
                        s.issue(number, slot);
                    }
                }
            }
            _ => {}
        }
    }
}
