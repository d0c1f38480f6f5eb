//! An Intel 82599 10 GbE controller, from the 82599 datasheet: the registers a
//! driver uses to reset it (master disable, RST, EEPROM auto-read and DMA
//! initialisation done bits), RAL0/RAH0 loaded from the EEPROM, LINKS, queue 0 of
//! each direction with advanced descriptors (SRRCTL one-buffer receive, transmit
//! data descriptors) and the wire. A TDT write makes the device send every
//! descriptor up to the tail (gathering until EOP, writing DD into descriptors with
//! RS); [`IxgbeModel::receive`] puts a frame into the next free receive descriptor
//! in the write-back format. Tests can take the link down, hold transmission or
//! make the device stop answering.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use ingot_hal::Mmio;

use crate::HostMemory;

const CTRL: usize = 0x0_0000;
const STATUS: usize = 0x0_0008;
const EICR: usize = 0x0_0800;
const RDBAL: usize = 0x0_1000;
const RDLEN: usize = 0x0_1008;
const RDH: usize = 0x0_1010;
const SRRCTL: usize = 0x0_1014;
const RDT: usize = 0x0_1018;
const RXDCTL: usize = 0x0_1028;
const RDRXCTL: usize = 0x0_2F00;
const RXCTRL: usize = 0x0_3000;
const ROC: usize = 0x0_40AC;
const LINKS: usize = 0x0_42A4;
const DMATXCTL: usize = 0x0_4A80;
const TDBAL: usize = 0x0_6000;
const TDLEN: usize = 0x0_6008;
const TDH: usize = 0x0_6010;
const TDT: usize = 0x0_6018;
const TXDCTL: usize = 0x0_6028;
const RAL0: usize = 0x0_A200;
const RAH0: usize = 0x0_A204;
const EEC: usize = 0x1_0010;
/// Receive packets dropped for want of a descriptor, queue 0 (QPRDC).
const QPRDC: usize = 0x0_1430;

const CTRL_RST: u32 = 1 << 26;
const CTRL_MASTER_DISABLE: u32 = 1 << 2;
const QUEUE_ENABLE: u32 = 1 << 25;

/// Longest frame (without CRC) taken with jumbo frames off (MAXFRS default).
pub const LONGEST_NORMAL_FRAME: usize = 1518;
/// Receive write-back extended error RXE (dword 2, bit 29).
pub const ERROR_RXE: u32 = 1 << 29;

/// The device state tests look at and change.
pub struct IxgbeState {
    memory: HostMemory,
    registers: HashMap<usize, u32>,
    /// Station address in the EEPROM, loaded into RAL0/RAH0 by a reset.
    pub mac: [u8; 6],
    /// Whether a reset loads RAL0/RAH0 (an erased EEPROM does not).
    pub loads_receive_address: bool,
    /// Link partner present.
    pub link: bool,
    /// Transmission held (descriptors are left as they are until released).
    pub hold_transmit: bool,
    /// The device stopped answering: no reset completes, nothing is processed.
    pub stalled: bool,
    /// Frames sent on the wire, in order, without CRC.
    pub sent: Vec<Vec<u8>>,
    /// Most descriptors one sent frame was gathered from.
    pub most_segments: usize,
    /// Transmit descriptors that were not advanced data descriptors (DTYP 0011,
    /// DEXT) or whose frame's PAYLEN did not match its length.
    pub malformed_descriptors: usize,
    /// Resets done.
    pub resets: u32,
    /// Resets started while bus mastering was still enabled.
    pub resets_while_mastering: u32,
    /// Frames received while the receive queue was not set up for advanced
    /// one-buffer descriptors.
    pub misconfigured_receives: usize,
    pending: Vec<u8>,
    pending_segments: usize,
    pending_payload: Option<usize>,
}

/// The controller; its BAR0 is the [`Mmio`] implementation.
#[derive(Clone)]
pub struct IxgbeModel {
    state: Rc<RefCell<IxgbeState>>,
}

impl IxgbeModel {
    /// A controller whose EEPROM holds `mac`, link up.
    pub fn new(memory: HostMemory, mac: [u8; 6]) -> Self {
        let mut state = IxgbeState {
            memory,
            registers: HashMap::new(),
            mac,
            loads_receive_address: true,
            link: true,
            hold_transmit: false,
            stalled: false,
            sent: Vec::new(),
            most_segments: 0,
            malformed_descriptors: 0,
            resets: 0,
            resets_while_mastering: 0,
            misconfigured_receives: 0,
            pending: Vec::new(),
            pending_segments: 0,
            pending_payload: None,
        };
        state.reset();
        Self { state: Rc::new(RefCell::new(state)) }
    }

    /// The state, for faults and checks.
    pub fn state(&self) -> std::cell::RefMut<'_, IxgbeState> {
        self.state.borrow_mut()
    }

    /// A register's value as the device holds it.
    pub fn register(&self, offset: usize) -> u32 {
        self.state.borrow().reg(offset)
    }

    /// A frame arrives with extended error bits `errors` (0 for a good frame).
    /// Returns whether it was stored in the ring.
    pub fn receive_with_errors(&self, frame: &[u8], errors: u32) -> bool {
        self.state.borrow_mut().receive(frame, errors)
    }

    /// A good frame arrives from the wire.
    pub fn receive(&self, frame: &[u8]) -> bool {
        self.receive_with_errors(frame, 0)
    }

    /// Ends a hold: the device sends what is queued.
    pub fn release_transmit(&self) {
        let mut s = self.state.borrow_mut();
        s.hold_transmit = false;
        s.transmit();
    }
}

impl IxgbeState {
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
            let m = self.mac;
            self.set(RAL0, u32::from_le_bytes([m[0], m[1], m[2], m[3]]));
            self.set(RAH0, u32::from(m[4]) | (u32::from(m[5]) << 8) | (1 << 31));
        }
        // EEPROM present and auto-read done; DMA initialisation done.
        self.set(EEC, (1 << 8) | (1 << 9));
        self.set(RDRXCTL, 1 << 3);
    }

    fn ring(&self, base: usize, len: usize) -> (u64, u32) {
        let address = u64::from(self.reg(base)) | (u64::from(self.reg(base + 4)) << 32);
        (address, self.reg(len) / 16)
    }

    fn transmit(&mut self) {
        let enabled = self.reg(DMATXCTL) & 1 != 0 && self.reg(TXDCTL) & QUEUE_ENABLE != 0;
        if self.stalled || self.hold_transmit || !enabled {
            return;
        }
        let (base, slots) = self.ring(TDBAL, TDLEN);
        while slots != 0 && self.reg(TDH) != self.reg(TDT) && self.reg(TDT) < slots {
            let at = base + 16 * u64::from(self.reg(TDH));
            let buffer = self.memory.read_u64(at);
            let word = self.memory.read_u32(at + 8);
            let dtyp = (word >> 20) & 0xF;
            let dcmd = word >> 24;
            if dtyp != 0b0011 || dcmd & (1 << 5) == 0 {
                self.malformed_descriptors += 1;
            }
            if self.pending_segments == 0 {
                self.pending_payload = Some((self.memory.read_u32(at + 12) >> 14) as usize);
            }
            let mut data = vec![0; (word & 0xFFFF) as usize];
            self.memory.read(buffer, &mut data);
            self.pending.extend_from_slice(&data);
            self.pending_segments += 1;
            if dcmd & 1 != 0 {
                let frame = std::mem::take(&mut self.pending);
                if self.pending_payload.take() != Some(frame.len()) {
                    self.malformed_descriptors += 1;
                }
                self.most_segments = self.most_segments.max(self.pending_segments);
                self.pending_segments = 0;
                if self.link {
                    self.sent.push(frame);
                }
            }
            if dcmd & (1 << 3) != 0 {
                // Write-back format: dword 3 holds STA with DD in bit 0.
                self.memory.write_u32(at + 12, 1);
            }
            let next = (self.reg(TDH) + 1) % slots;
            self.set(TDH, next);
        }
    }

    fn receive(&mut self, frame: &[u8], errors: u32) -> bool {
        let enabled = self.reg(RXCTRL) & 1 != 0 && self.reg(RXDCTL) & QUEUE_ENABLE != 0;
        if self.stalled || !enabled || !self.link {
            return false;
        }
        if frame.len() > LONGEST_NORMAL_FRAME {
            self.set(ROC, self.reg(ROC) + 1);
            return false;
        }
        let srrctl = self.reg(SRRCTL);
        if (srrctl >> 25) & 7 != 1 || srrctl & 0x1F == 0 {
            self.misconfigured_receives += 1;
            return false;
        }
        let buffer_bytes = (srrctl & 0x1F) as usize * 1024;
        let (base, slots) = self.ring(RDBAL, RDLEN);
        let needed = frame.len().div_ceil(buffer_bytes) as u32;
        let free = (self.reg(RDT) + slots - self.reg(RDH)) % slots.max(1);
        if slots == 0 || free < needed {
            self.set(QPRDC, self.reg(QPRDC) + 1);
            return false;
        }
        let pieces: Vec<&[u8]> = frame.chunks(buffer_bytes).collect();
        for (i, piece) in pieces.iter().enumerate() {
            let at = base + 16 * u64::from(self.reg(RDH));
            let buffer = self.memory.read_u64(at);
            self.memory.write(buffer, piece);
            let last = i + 1 == pieces.len();
            // Write-back: packet type and RSS dwords zero, status/error, length.
            self.memory.write_u64(at, 0);
            let status = 1 | if last { 2 | errors } else { 0 };
            self.memory.write_u32(at + 8, status);
            self.memory.write_u32(at + 12, piece.len() as u32);
            let next = (self.reg(RDH) + 1) % slots;
            self.set(RDH, next);
        }
        true
    }

    fn status(&self) -> u32 {
        if self.reg(CTRL) & CTRL_MASTER_DISABLE == 0 { 1 << 19 } else { 0 }
    }
}

impl Mmio for IxgbeModel {
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
            // Link up at 10 Gb/s.
            LINKS => {
                if s.link {
                    (1 << 30) | (3 << 28)
                } else {
                    0
                }
            }
            EICR | ROC | QPRDC => s.registers.remove(&offset).unwrap_or(0),
            _ => s.reg(offset),
        }
    }
    fn write_u8(&self, _offset: usize, _value: u8) {}
    fn write_u16(&self, _offset: usize, _value: u16) {}
    fn write_u32(&self, offset: usize, value: u32) {
        let mut s = self.state.borrow_mut();
        match offset {
            CTRL if value & CTRL_RST != 0 => {
                if s.status() != 0 {
                    s.resets_while_mastering += 1;
                }
                if s.stalled {
                    s.set(CTRL, value);
                } else {
                    s.reset();
                }
            }
            // A stalled device never reports a queue enabled.
            RXDCTL | TXDCTL if s.stalled => s.set(offset, value & !QUEUE_ENABLE),
            TDT | DMATXCTL | TXDCTL => {
                s.set(offset, value);
                s.transmit();
            }
            _ => s.set(offset, value),
        }
    }
}
