//! An Intel 8254x (e1000) or 8257x (e1000e) MAC with legacy descriptors, from the
//! 8254x Software Developer's Manual and the 82574 datasheet: the registers a
//! driver uses (reset, EEPROM/EERD, RAL/RAH, STATUS link bit, RCTL/TCTL, both
//! descriptor rings) and the wire. A TDT write makes the device send every
//! descriptor up to the tail (gathering segments until EOP, writing DD back when RS
//! is set); [`E1000Model::receive`] puts a frame from the wire into the next free
//! receive descriptor. Tests can take the link down, hold transmission (as a PAUSE
//! from the link partner would) or make the device stop answering.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use ingot_hal::Mmio;

use crate::HostMemory;

const CTRL: usize = 0x0000;
const STATUS: usize = 0x0008;
const EECD: usize = 0x0010;
const EERD: usize = 0x0014;
const ICR: usize = 0x00C0;
const IMS: usize = 0x00D0;
const IMC: usize = 0x00D8;
/// Interrupt cause: receive timer (a frame was stored).
pub const ICR_RXT0: u32 = 1 << 7;
const RCTL: usize = 0x0100;
const TCTL: usize = 0x0400;
const RDBAL: usize = 0x2800;
const RDLEN: usize = 0x2808;
const RDH: usize = 0x2810;
const RDT: usize = 0x2818;
const TDBAL: usize = 0x3800;
const TDLEN: usize = 0x3808;
const TDH: usize = 0x3810;
const TDT: usize = 0x3818;
const MPC: usize = 0x4010;
const ROC: usize = 0x40AC;
const RAL0: usize = 0x5400;
const RAH0: usize = 0x5404;

const CTRL_RST: u32 = 1 << 26;
const CTRL_SLU: u32 = 1 << 6;
const CTRL_GIO_MASTER_DISABLE: u32 = 1 << 2;
const RCTL_EN: u32 = 1 << 1;
const RCTL_LPE: u32 = 1 << 5;
const RCTL_SECRC: u32 = 1 << 26;
const TCTL_EN: u32 = 1 << 1;

/// Longest frame (without FCS) taken with RCTL.LPE clear: 1522 bytes with the FCS.
pub const LONGEST_NORMAL_FRAME: usize = 1518;

/// The generation being modelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// 82540/82545/82546: EERD with DONE bit 4 and the address in bits 15:8.
    I8254x,
    /// 82544 and older: no EERD register.
    I8254xWithoutEerd,
    /// 8257x (82571..82574, 82583): PCIe, EERD with DONE bit 1 and the address in
    /// bits 15:2, GIO master disable, EECD auto-read done.
    I8257x,
}

/// The device state tests look at and change.
pub struct E1000State {
    memory: HostMemory,
    generation: Generation,
    registers: HashMap<usize, u32>,
    /// The EEPROM (64 words; words 0..3 are the station address, word 0x3F makes
    /// the sum 0xBABA).
    pub eeprom: [u16; 64],
    /// Whether a reset loads RAL0/RAH0 from the EEPROM (real parts do; clear it to
    /// make the driver read the EEPROM itself).
    pub loads_receive_address: bool,
    /// Link partner present.
    pub link: bool,
    /// Transmission held (descriptors are left as they are until released).
    pub hold_transmit: bool,
    /// The device stopped answering: no reset completes, no descriptor is processed.
    pub stalled: bool,
    /// Frames are given up after excessive collisions (a half-duplex link gone
    /// bad): DD is written back with EC set and nothing reaches the wire.
    pub excessive_collisions: bool,
    /// Frames sent on the wire, in order, without FCS.
    pub sent: Vec<Vec<u8>>,
    /// Most descriptors one sent frame was gathered from.
    pub most_segments: usize,
    /// Resets done.
    pub resets: u32,
    /// 8257x resets started while bus mastering was still enabled (the datasheet
    /// asks for GIO Master Disable first).
    pub resets_while_mastering: u32,
    pending: Vec<u8>,
    pending_segments: usize,
}

/// The MAC; its BAR0 is the [`Mmio`] implementation.
#[derive(Clone)]
pub struct E1000Model {
    state: Rc<RefCell<E1000State>>,
}

/// An EEPROM image holding `mac` with a correct checksum.
pub fn eeprom_with_mac(mac: [u8; 6]) -> [u16; 64] {
    let mut words = [0u16; 64];
    for i in 0..3 {
        words[i] = u16::from_le_bytes([mac[2 * i], mac[2 * i + 1]]);
    }
    let sum = words[..0x3F].iter().fold(0u16, |a, &w| a.wrapping_add(w));
    words[0x3F] = 0xBABAu16.wrapping_sub(sum);
    words
}

impl E1000Model {
    /// A device of `generation` whose EEPROM holds `mac`, link up.
    pub fn new(memory: HostMemory, generation: Generation, mac: [u8; 6]) -> Self {
        let mut state = E1000State {
            memory,
            generation,
            registers: HashMap::new(),
            eeprom: eeprom_with_mac(mac),
            loads_receive_address: true,
            link: true,
            hold_transmit: false,
            stalled: false,
            excessive_collisions: false,
            sent: Vec::new(),
            most_segments: 0,
            resets: 0,
            resets_while_mastering: 0,
            pending: Vec::new(),
            pending_segments: 0,
        };
        state.reset();
        Self { state: Rc::new(RefCell::new(state)) }
    }

    /// The state, for faults and checks.
    pub fn state(&self) -> std::cell::RefMut<'_, E1000State> {
        self.state.borrow_mut()
    }

    /// Whether the interrupt is asserted: a cause set in ICR that IMS lets through
    /// (the INTx line is level, the MSI sent when it rises).
    pub fn interrupt_asserted(&self) -> bool {
        let s = self.state.borrow();
        s.reg(ICR) & s.reg(IMS) != 0
    }

    /// A register's value as the device holds it.
    pub fn register(&self, offset: usize) -> u32 {
        self.state.borrow().reg(offset)
    }

    /// A frame arrives from the wire with the receive descriptor error byte
    /// `errors` (0 for a good frame). Returns whether it was stored in the ring (it
    /// is not when the receiver is off, no descriptor is free or it is too long).
    pub fn receive_with_errors(&self, frame: &[u8], errors: u8) -> bool {
        self.state.borrow_mut().receive(frame, errors)
    }

    /// A good frame arrives from the wire (see [`Self::receive_with_errors`]).
    pub fn receive(&self, frame: &[u8]) -> bool {
        self.receive_with_errors(frame, 0)
    }

    /// Ends a [`E1000State::hold_transmit`]: the device sends what is queued.
    pub fn release_transmit(&self) {
        let mut s = self.state.borrow_mut();
        s.hold_transmit = false;
        s.transmit();
    }
}

impl E1000State {
    fn reg(&self, offset: usize) -> u32 {
        self.registers.get(&offset).copied().unwrap_or(0)
    }

    fn set(&mut self, offset: usize, value: u32) {
        self.registers.insert(offset, value);
    }

    fn reset(&mut self) {
        self.resets += 1;
        self.registers.clear();
        if self.loads_receive_address {
            let w = self.eeprom;
            self.set(RAL0, u32::from(w[0]) | (u32::from(w[1]) << 16));
            self.set(RAH0, u32::from(w[2]) | (1 << 31));
        }
        if self.generation == Generation::I8257x {
            // Auto-read done and EEPROM present.
            self.set(EECD, (1 << 9) | (1 << 8));
        }
    }

    fn ring_slots(&self, len_register: usize) -> u32 {
        self.reg(len_register) / 16
    }

    fn ring_base(&self, base_register: usize) -> u64 {
        u64::from(self.reg(base_register)) | (u64::from(self.reg(base_register + 4)) << 32)
    }

    /// Sends every descriptor from TDH up to TDT.
    fn transmit(&mut self) {
        if self.stalled || self.hold_transmit || self.reg(TCTL) & TCTL_EN == 0 {
            return;
        }
        let slots = self.ring_slots(TDLEN);
        let base = self.ring_base(TDBAL);
        while slots != 0 && self.reg(TDH) != self.reg(TDT) && self.reg(TDT) < slots {
            let at = base + 16 * u64::from(self.reg(TDH));
            let buffer = self.memory.read_u64(at);
            let word = self.memory.read_u32(at + 8);
            let len = (word & 0xFFFF) as usize;
            let cmd = (word >> 24) as u8;
            let mut data = vec![0; len];
            self.memory.read(buffer, &mut data);
            self.pending.extend_from_slice(&data);
            self.pending_segments += 1;
            if cmd & 1 != 0 {
                let frame = std::mem::take(&mut self.pending);
                self.most_segments = self.most_segments.max(self.pending_segments);
                self.pending_segments = 0;
                if self.link && !self.excessive_collisions {
                    self.sent.push(frame);
                }
            }
            if cmd & (1 << 3) != 0 {
                let collided = cmd & 1 != 0 && self.excessive_collisions;
                self.memory.write(at + 12, &[if collided { 0b11 } else { 1 }]);
            }
            let next = (self.reg(TDH) + 1) % slots;
            self.set(TDH, next);
        }
    }

    fn receive(&mut self, frame: &[u8], errors: u8) -> bool {
        let rctl = self.reg(RCTL);
        if self.stalled || rctl & RCTL_EN == 0 || !self.link {
            return false;
        }
        if frame.len() > LONGEST_NORMAL_FRAME && rctl & RCTL_LPE == 0 {
            self.set(ROC, self.reg(ROC) + 1);
            return false;
        }
        let mut data = frame.to_vec();
        if rctl & RCTL_SECRC == 0 {
            data.extend_from_slice(&crc32(frame).to_le_bytes());
        }
        let buffer_bytes = match (rctl >> 16) & 3 {
            0 => 2048,
            1 => 1024,
            2 => 512,
            _ => 256,
        };
        let slots = self.ring_slots(RDLEN);
        let needed = data.len().div_ceil(buffer_bytes) as u32;
        let free = (self.reg(RDT) + slots - self.reg(RDH)) % slots.max(1);
        if slots == 0 || free < needed {
            self.set(MPC, self.reg(MPC) + 1);
            return false;
        }
        let base = self.ring_base(RDBAL);
        let pieces: Vec<&[u8]> = data.chunks(buffer_bytes).collect();
        for (i, piece) in pieces.iter().enumerate() {
            let at = base + 16 * u64::from(self.reg(RDH));
            let buffer = self.memory.read_u64(at);
            self.memory.write(buffer, piece);
            let last = i + 1 == pieces.len();
            self.memory.write_u16(at + 8, piece.len() as u16);
            let status = 1 | if last { 2 } else { 0 };
            self.memory.write(at + 12, &[status, if last { errors } else { 0 }]);
            let next = (self.reg(RDH) + 1) % slots;
            self.set(RDH, next);
            // Receive timer interrupt cause (RXT0; no delay programmed).
            self.set(ICR, self.reg(ICR) | ICR_RXT0);
        }
        true
    }

    fn status(&self) -> u32 {
        let mut status = 1 | (2 << 6); // full duplex, 1000 Mb/s
        if self.link && self.reg(CTRL) & CTRL_SLU != 0 {
            status |= 1 << 1;
        }
        if self.generation == Generation::I8257x && self.reg(CTRL) & CTRL_GIO_MASTER_DISABLE == 0 {
            status |= 1 << 19;
        }
        status
    }

    fn write_eerd(&mut self, value: u32) {
        let (done, shift) = match self.generation {
            Generation::I8254x => (1 << 4, 8),
            Generation::I8257x => (1 << 1, 2),
            Generation::I8254xWithoutEerd => return,
        };
        if value & 1 == 0 || self.stalled {
            self.set(EERD, value);
            return;
        }
        let word = ((value >> shift) & 0xFF) as usize;
        let data = self.eeprom.get(word).copied().unwrap_or(0xFFFF);
        self.set(EERD, (u32::from(data) << 16) | ((word as u32) << shift) | done);
    }
}

/// The Ethernet FCS (CRC-32, reflected, as sent on the wire).
fn crc32(data: &[u8]) -> u32 {
    let mut crc = u32::MAX;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

impl Mmio for E1000Model {
    fn len(&self) -> usize {
        0x2_0000
    }
    fn read_u8(&self, offset: usize) -> u8 {
        (self.read_u32(offset & !3) >> (8 * (offset & 3))) as u8
    }
    fn read_u16(&self, offset: usize) -> u16 {
        (self.read_u32(offset & !3) >> (8 * (offset & 2))) as u16
    }
    fn read_u32(&self, offset: usize) -> u32 {
        let mut s = self.state.borrow_mut();
        match offset {
            STATUS => s.status(),
            // Statistics and the interrupt cause clear on read.
            ICR | MPC | ROC => s.registers.remove(&offset).unwrap_or(0),
            _ => s.reg(offset),
        }
    }
    fn write_u8(&self, _offset: usize, _value: u8) {}
    fn write_u16(&self, _offset: usize, _value: u16) {}
    fn write_u32(&self, offset: usize, value: u32) {
        let mut s = self.state.borrow_mut();
        match offset {
            CTRL if value & CTRL_RST != 0 => {
                if s.generation == Generation::I8257x && s.status() & (1 << 19) != 0 {
                    s.resets_while_mastering += 1;
                }
                if s.stalled {
                    s.set(CTRL, value);
                } else {
                    s.reset();
                }
            }
            EERD => s.write_eerd(value),
            // IMS sets mask bits, IMC clears them (IMS reads back the mask).
            IMS => {
                let mask = s.reg(IMS) | value;
                s.set(IMS, mask);
            }
            IMC => {
                let mask = s.reg(IMS) & !value;
                s.set(IMS, mask);
            }
            TDT => {
                s.set(TDT, value);
                s.transmit();
            }
            TCTL => {
                s.set(TCTL, value);
                s.transmit();
            }
            _ => s.set(offset, value),
        }
    }
}
