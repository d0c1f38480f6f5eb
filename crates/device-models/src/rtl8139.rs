//! A Realtek RTL8139 fast-Ethernet MAC, from the RTL8139C(L) datasheet register chapter.
//!
//! Transmit has four descriptors, each a start address (TSAD0-3) and a status register
//! (TSD0-3), used strictly in turn. Writing a TSD with the size and OWN clear starts
//! that descriptor: the MAC copies the frame from the one contiguous buffer at TSAD
//! into its FIFO (then sets OWN) and sends it (then sets TOK). Receive is one ring
//! buffer at RBSTART (8, 16, 32 or 64 KiB by RCR.RBLEN, plus 16 bytes): each accepted
//! frame is written at CBR as a 4-byte header (status, length with FCS), the frame and
//! its FCS, padded to a dword. With RCR.WRAP clear the data wraps to the ring's start;
//! with it set the MAC writes on past the end. The driver returns space by writing
//! CAPR, the read offset minus 16; CR.BUFE says the ring is empty. A frame that does not
//! fit is missed (MPC, ISR.RXOVW). Knobs hold frames in the FIFO, stop the MAC
//! answering, or take the link down.

use std::cell::RefCell;
use std::rc::Rc;

use ingot_hal::Mmio;

use crate::HostMemory;
use crate::realtek::{RCR_AER, accepts, with_fcs};

/// Register offsets.
pub mod reg {
    /// Station address, six bytes.
    pub const IDR0: usize = 0x00;
    /// Transmit status of descriptor 0 (then 0x14, 0x18, 0x1C).
    pub const TSD0: usize = 0x10;
    /// Transmit start address of descriptor 0 (then 0x24, 0x28, 0x2C).
    pub const TSAD0: usize = 0x20;
    /// Receive buffer start address.
    pub const RBSTART: usize = 0x30;
    /// Command: RST, RE, TE, BUFE.
    pub const CR: usize = 0x37;
    /// Current address of packet read (16 bits): read offset minus 16.
    pub const CAPR: usize = 0x38;
    /// Current buffer address (16 bits): where the next frame will be written.
    pub const CBR: usize = 0x3A;
    /// Interrupt mask (16 bits).
    pub const IMR: usize = 0x3C;
    /// Interrupt status (16 bits, write one to clear).
    pub const ISR: usize = 0x3E;
    /// Transmit configuration.
    pub const TCR: usize = 0x40;
    /// Receive configuration.
    pub const RCR: usize = 0x44;
    /// Missed packet counter (24 bits; any write clears it).
    pub const MPC: usize = 0x4C;
    /// Configuration 1: LWAKE/LWPTN power bits.
    pub const CONFIG1: usize = 0x52;
    /// Media status: LINKB (bit 2) is set while the link is down.
    pub const MSR: usize = 0x58;
}

/// CR bits.
pub const CR_RST: u8 = 1 << 4;
/// Receiver enable.
pub const CR_RE: u8 = 1 << 3;
/// Transmitter enable.
pub const CR_TE: u8 = 1 << 2;
/// Receive buffer empty.
pub const CR_BUFE: u8 = 1 << 0;
/// TSD bits: byte count 12:0.
pub const TSD_SIZE: u32 = 0x1FFF;
/// The MAC has moved the frame into its FIFO.
pub const TSD_OWN: u32 = 1 << 13;
/// Transmit OK.
pub const TSD_TOK: u32 = 1 << 15;
/// Transmit FIFO underrun.
pub const TSD_TUN: u32 = 1 << 14;
/// Transmit aborted.
pub const TSD_TABT: u32 = 1 << 30;
/// Receive header status: frame received OK.
pub const RX_ROK: u16 = 1 << 0;
/// Receive header status: CRC error.
pub const RX_CRC: u16 = 1 << 2;
/// ISR: receive OK.
pub const ISR_ROK: u16 = 1 << 0;
/// ISR: transmit OK.
pub const ISR_TOK: u16 = 1 << 2;
/// ISR: transmit error.
pub const ISR_TER: u16 = 1 << 3;
/// ISR: receive buffer overflow.
pub const ISR_RXOVW: u16 = 1 << 4;
/// RCR: the MAC writes past the end of the ring instead of wrapping.
pub const RCR_WRAP: u32 = 1 << 7;
/// MSR: link down.
pub const MSR_LINKB: u8 = 1 << 2;
/// Largest frame one transmit descriptor takes.
pub const MAX_TRANSMIT: usize = 1792;

/// MAC state, shared by the register window and the test.
pub struct Rtl8139State {
    memory: HostMemory,
    registers: [u8; 128],
    /// The station address the EEPROM loads into IDR0-5.
    pub eeprom_mac: [u8; 6],
    /// Whether the link is up.
    pub link_up: bool,
    /// Frames reach the FIFO (OWN) but are not sent (no TOK), as without a carrier.
    pub hold_transmit: bool,
    /// The MAC stopped answering: reset never completes, nothing moves.
    pub dead: bool,
    /// The next frame started is aborted (TABT, as after excessive collisions).
    pub abort_next: bool,
    /// The next frame underruns the FIFO: TUN instead of TOK; it is then sent again
    /// (ISR.TOK) or, with `abort_next` too, fails (ISR.TER).
    pub underrun_next: bool,
    /// Frames sent, in order (without FCS).
    pub sent: Vec<Vec<u8>>,
    /// Descriptors started out of turn (a driver bug).
    pub out_of_turn: u32,
    /// Frames the RCR filter refused.
    pub filtered: u64,
    held: Vec<(usize, Vec<u8>)>,
    next_descriptor: usize,
    write_offset: usize,
    reset_reads: u32,
}

/// The MAC; its register window is the [`Mmio`] implementation.
#[derive(Clone)]
pub struct Rtl8139Model {
    state: Rc<RefCell<Rtl8139State>>,
}

impl Rtl8139Model {
    /// A MAC with station address `mac` in its EEPROM and the link up.
    pub fn new(memory: HostMemory, mac: [u8; 6]) -> Self {
        let mut state = Rtl8139State {
            memory,
            registers: [0; 128],
            eeprom_mac: mac,
            link_up: true,
            hold_transmit: false,
            dead: false,
            abort_next: false,
            underrun_next: false,
            sent: Vec::new(),
            out_of_turn: 0,
            filtered: 0,
            held: Vec::new(),
            next_descriptor: 0,
            write_offset: 0,
            reset_reads: 0,
        };
        state.power_on();
        Self { state: Rc::new(RefCell::new(state)) }
    }

    /// The state, for knobs and checks.
    pub fn state(&self) -> std::cell::RefMut<'_, Rtl8139State> {
        self.state.borrow_mut()
    }

    /// Whether the interrupt line is asserted: an ISR bit that IMR lets through.
    pub fn interrupt_asserted(&self) -> bool {
        let state = self.state.borrow();
        state.get(reg::ISR, 2) & state.get(reg::IMR, 2) != 0
    }

    /// A frame arrives from the wire; returns whether it was written into the ring.
    pub fn deliver(&self, frame: &[u8]) -> bool {
        self.state.borrow_mut().receive(frame, false)
    }

    /// A frame arrives with a bad FCS (stored with its error status only if RCR.AER).
    pub fn deliver_with_crc_error(&self, frame: &[u8]) -> bool {
        self.state.borrow_mut().receive(frame, true)
    }

    /// Sends the frames held in the FIFO (the carrier came back).
    pub fn release_transmit(&self) {
        let mut state = self.state.borrow_mut();
        state.hold_transmit = false;
        for (descriptor, frame) in std::mem::take(&mut state.held) {
            state.sent.push(frame);
            let tsd = state.get(reg::TSD0 + 4 * descriptor, 4) | TSD_TOK;
            state.set(reg::TSD0 + 4 * descriptor, 4, tsd);
        }
    }
}

impl Rtl8139State {
    fn power_on(&mut self) {
        self.registers = [0; 128];
        self.registers[..6].copy_from_slice(&self.eeprom_mac);
        self.set(reg::CAPR, 2, 0xFFF0);
        // Every descriptor starts free: OWN set, as after a completed DMA.
        for descriptor in 0..4 {
            self.set(reg::TSD0 + 4 * descriptor, 4, TSD_OWN);
        }
        self.held.clear();
        self.next_descriptor = 0;
        self.write_offset = 0;
    }

    fn get(&self, offset: usize, width: usize) -> u32 {
        (0..width).map(|i| u32::from(self.registers[offset + i]) << (8 * i)).sum()
    }

    fn set(&mut self, offset: usize, width: usize, value: u32) {
        for i in 0..width {
            self.registers[offset + i] = (value >> (8 * i)) as u8;
        }
    }

    fn raise(&mut self, bits: u16) {
        let isr = self.get(reg::ISR, 2) as u16 | bits;
        self.set(reg::ISR, 2, u32::from(isr));
    }

    fn ring_len(&self) -> usize {
        8192 << ((self.get(reg::RCR, 4) >> 11) & 3)
    }

    fn read_offset(&self) -> usize {
        (self.get(reg::CAPR, 2) as u16).wrapping_add(16) as usize % self.ring_len()
    }

    fn start_descriptor(&mut self, descriptor: usize, value: u32) {
        let tsd = reg::TSD0 + 4 * descriptor;
        self.set(tsd, 4, value & !(TSD_OWN | TSD_TOK | TSD_TABT));
        if self.dead || self.registers[reg::CR] & CR_TE == 0 {
            return;
        }
        if descriptor != self.next_descriptor {
            self.out_of_turn += 1;
        }
        self.next_descriptor = (descriptor + 1) % 4;
        let size = (value & TSD_SIZE) as usize;
        if std::mem::take(&mut self.underrun_next) {
            let failed = std::mem::take(&mut self.abort_next);
            if !failed {
                let mut frame = vec![0; size.min(MAX_TRANSMIT)];
                self.memory.read(u64::from(self.get(reg::TSAD0 + 4 * descriptor, 4)), &mut frame);
                self.sent.push(frame);
            }
            self.set(tsd, 4, value | TSD_OWN | TSD_TUN);
            self.raise(if failed { ISR_TER } else { ISR_TOK });
            return;
        }
        if size > MAX_TRANSMIT || std::mem::take(&mut self.abort_next) {
            self.set(tsd, 4, (value & !TSD_OWN) | TSD_TABT);
            self.raise(ISR_TER);
            return;
        }
        let mut frame = vec![0; size];
        self.memory.read(u64::from(self.get(reg::TSAD0 + 4 * descriptor, 4)), &mut frame);
        if self.hold_transmit {
            self.held.push((descriptor, frame));
            self.set(tsd, 4, (value & !TSD_TOK) | TSD_OWN);
        } else {
            self.sent.push(frame);
            self.set(tsd, 4, value | TSD_OWN | TSD_TOK);
            self.raise(ISR_TOK);
        }
    }

    fn receive(&mut self, frame: &[u8], crc_error: bool) -> bool {
        let rcr = self.get(reg::RCR, 4);
        let mac: [u8; 6] = self.registers[..6].try_into().expect("six bytes");
        let mar: [u8; 8] = self.registers[8..16].try_into().expect("eight bytes");
        if self.dead || self.registers[reg::CR] & CR_RE == 0 {
            return false;
        }
        if !accepts(rcr, mac, mar, frame) || (crc_error && rcr & RCR_AER == 0) {
            self.filtered += 1;
            return false;
        }
        let wire = with_fcs(frame);
        let ring = self.ring_len();
        let need = (4 + wire.len() + 3) & !3;
        let used = (self.write_offset + ring - self.read_offset()) % ring;
        if need >= ring - used {
            let mpc = self.get(reg::MPC, 4) + 1;
            self.set(reg::MPC, 4, mpc);
            self.raise(ISR_RXOVW);
            return false;
        }
        let status = if crc_error { RX_CRC } else { RX_ROK };
        let mut record = Vec::with_capacity(need);
        record.extend_from_slice(&status.to_le_bytes());
        record.extend_from_slice(&(wire.len() as u16).to_le_bytes());
        record.extend_from_slice(&wire);
        let start = u64::from(self.get(reg::RBSTART, 4));
        if rcr & RCR_WRAP != 0 || self.write_offset + record.len() <= ring {
            self.memory.write(start + self.write_offset as u64, &record);
        } else {
            let (head, tail) = record.split_at(ring - self.write_offset);
            self.memory.write(start + self.write_offset as u64, head);
            self.memory.write(start, tail);
        }
        self.write_offset = (self.write_offset + need) % ring;
        self.set(reg::CBR, 2, self.write_offset as u32);
        self.raise(ISR_ROK);
        true
    }

    fn write(&mut self, offset: usize, width: usize, value: u32) {
        if offset + width > self.registers.len() {
            return;
        }
        match offset {
            reg::CR => {
                let value = value as u8;
                if value & CR_RST != 0 {
                    self.power_on();
                    self.registers[reg::CR] = CR_RST;
                    self.reset_reads = 3;
                } else {
                    if value & CR_RE == 0 {
                        // A stopped receiver starts again at the ring's beginning.
                        self.write_offset = 0;
                        self.set(reg::CBR, 2, 0);
                    }
                    self.registers[reg::CR] = value & (CR_RE | CR_TE);
                }
            }
            0x10 | 0x14 | 0x18 | 0x1C if width == 4 => {
                self.start_descriptor((offset - 0x10) / 4, value)
            }
            reg::ISR => {
                let isr = self.get(reg::ISR, 2) & !value;
                self.set(reg::ISR, 2, isr);
            }
            reg::MPC => self.set(reg::MPC, 4, 0),
            reg::IDR0..=5 | reg::CBR | reg::MSR => {}
            _ => self.set(offset, width, value),
        }
    }

    fn read(&mut self, offset: usize, width: usize) -> u32 {
        if offset + width > self.registers.len() {
            return u32::MAX >> (32 - 8 * width);
        }
        if (offset..offset + width).contains(&reg::CR) {
            if self.reset_reads > 0 && !self.dead {
                self.reset_reads -= 1;
                if self.reset_reads == 0 {
                    self.registers[reg::CR] &= !CR_RST;
                }
            }
            let empty = self.read_offset() == self.write_offset;
            let cr = self.registers[reg::CR] & !CR_BUFE;
            self.registers[reg::CR] = cr | if empty { CR_BUFE } else { 0 };
        }
        if (offset..offset + width).contains(&reg::MSR) {
            self.registers[reg::MSR] = if self.link_up { 0 } else { MSR_LINKB };
        }
        self.get(offset, width)
    }
}

impl Mmio for Rtl8139Model {
    fn len(&self) -> usize {
        128
    }
    fn read_u8(&self, offset: usize) -> u8 {
        self.state.borrow_mut().read(offset, 1) as u8
    }
    fn read_u16(&self, offset: usize) -> u16 {
        self.state.borrow_mut().read(offset, 2) as u16
    }
    fn read_u32(&self, offset: usize) -> u32 {
        self.state.borrow_mut().read(offset, 4)
    }
    fn write_u8(&self, offset: usize, value: u8) {
        self.state.borrow_mut().write(offset, 1, value.into());
    }
    fn write_u16(&self, offset: usize, value: u16) {
        self.state.borrow_mut().write(offset, 2, value.into());
    }
    fn write_u32(&self, offset: usize, value: u32) {
        self.state.borrow_mut().write(offset, 4, value);
    }
}
