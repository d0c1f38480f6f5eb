//! A Realtek RTL8169/8168/8111 gigabit MAC in C+ (descriptor) mode, from the RTL8169
//! datasheet (rev. 1.21) register and descriptor chapters.
//!
//! Registers live in a 256-byte window (the memory BAR). The station address is
//! IDR0-5 (loaded from the EEPROM at power-up). Transmit: writing NPQ to TPPoll makes
//! the MAC walk the normal-priority ring at TNPDS from where it stopped, send every
//! frame whose descriptors (FS … LS) all have OWN set, and clear OWN in each. Receive:
//! a frame that passes the RCR filter is written, with its FCS, into the buffer of the
//! next receive descriptor (ring at RDSAR) that has OWN set, continuing into the next
//! ones if it is longer than a buffer (up to RMS); the MAC clears OWN and writes FS on
//! the first, LS, the length (FCS included) and the error bits on the last. Rings end
//! at the descriptor with EOR. Knobs make the MAC hold frames (no carrier), stop
//! answering, vanish from the bus (registers read all ones) or take the link down.

use std::cell::RefCell;
use std::rc::Rc;

use ingot_hal::Mmio;

use crate::HostMemory;
use crate::realtek::{RCR_AER, accepts, with_fcs};

/// Register offsets.
pub mod reg {
    /// Station address, six bytes.
    pub const IDR0: usize = 0x00;
    /// Transmit normal-priority descriptor ring start (64 bits).
    pub const TNPDS: usize = 0x20;
    /// Command: RST, RE, TE.
    pub const CHIP_CMD: usize = 0x37;
    /// Transmit priority polling: NPQ starts the normal-priority ring.
    pub const TPPOLL: usize = 0x38;
    /// Interrupt mask (16 bits).
    pub const IMR: usize = 0x3C;
    /// Interrupt status (16 bits, write one to clear).
    pub const ISR: usize = 0x3E;
    /// Transmit configuration (32 bits; bits 30:26 and 23 identify the chip).
    pub const TCR: usize = 0x40;
    /// Receive configuration (32 bits).
    pub const RCR: usize = 0x44;
    /// Missed packet counter (24 bits).
    pub const MPC: usize = 0x4C;
    /// EEPROM command: 0xC0 unlocks the configuration registers.
    pub const CR9346: usize = 0x50;
    /// PHY status (8 bits): full duplex, link, speed.
    pub const PHY_STATUS: usize = 0x6C;
    /// Receive maximum size (14 bits).
    pub const RMS: usize = 0xDA;
    /// C+ command (16 bits).
    pub const CPCR: usize = 0xE0;
    /// Receive descriptor ring start (64 bits).
    pub const RDSAR: usize = 0xE4;
    /// Maximum transmit packet size in 128-byte units.
    pub const ETTHR: usize = 0xEC;
}

/// ChipCmd bits.
pub const CMD_RST: u8 = 1 << 4;
/// Receiver enable.
pub const CMD_RE: u8 = 1 << 3;
/// Transmitter enable.
pub const CMD_TE: u8 = 1 << 2;
/// TPPoll: normal-priority queue polling.
pub const TPPOLL_NPQ: u8 = 1 << 6;
/// PHYstatus bits.
pub const PHY_FULL_DUPLEX: u8 = 1 << 0;
/// Link is up.
pub const PHY_LINK: u8 = 1 << 1;
/// 1000 Mb/s full duplex.
pub const PHY_1000: u8 = 1 << 4;
/// ISR bits.
pub const ISR_ROK: u16 = 1 << 0;
/// Receive error.
pub const ISR_RER: u16 = 1 << 1;
/// Transmit OK.
pub const ISR_TOK: u16 = 1 << 2;
/// Receive descriptor unavailable.
pub const ISR_RDU: u16 = 1 << 4;

/// Descriptor opts1 bits (both rings).
pub const DESC_OWN: u32 = 1 << 31;
/// End of ring.
pub const DESC_EOR: u32 = 1 << 30;
/// First segment.
pub const DESC_FS: u32 = 1 << 29;
/// Last segment.
pub const DESC_LS: u32 = 1 << 28;
/// Receive status: receive error summary.
pub const RX_RES: u32 = 1 << 21;
/// Receive status: CRC error.
pub const RX_CRC: u32 = 1 << 19;

/// TCR hardware-version bits of an RTL8168/8111 (XID 0x2C0, "8168E-VL").
pub const TCR_XID_8168: u32 = 0x2C80_0000;

/// MAC state, shared by the register window and the test.
pub struct R8169State {
    memory: HostMemory,
    registers: [u8; 256],
    /// The station address the EEPROM loads into IDR0-5.
    pub eeprom_mac: [u8; 6],
    /// Whether the PHY reports a link.
    pub link_up: bool,
    /// Frames are fetched but held (OWN stays set), as without a carrier.
    pub hold_transmit: bool,
    /// The MAC stopped answering: reset never completes, rings are not served.
    pub dead: bool,
    /// The function is gone from the bus: every register reads as all ones.
    pub absent: bool,
    /// Frames sent, in order (without FCS).
    pub sent: Vec<Vec<u8>>,
    /// Descriptors each sent frame used.
    pub segments_per_frame: Vec<usize>,
    /// Frames the MAC had no receive descriptor for.
    pub missed: u64,
    /// Frames the RCR filter refused or that exceeded RMS.
    pub filtered: u64,
    /// Reads of ChipCmd left until a reset completes.
    reset_reads: u32,
    tx_index: usize,
    rx_index: usize,
}

/// The MAC; its register window is the [`Mmio`] implementation.
#[derive(Clone)]
pub struct R8169Model {
    state: Rc<RefCell<R8169State>>,
}

impl R8169Model {
    /// A MAC with station address `mac` in its EEPROM and the link up.
    pub fn new(memory: HostMemory, mac: [u8; 6]) -> Self {
        let mut state = R8169State {
            memory,
            registers: [0; 256],
            eeprom_mac: mac,
            link_up: true,
            hold_transmit: false,
            dead: false,
            absent: false,
            sent: Vec::new(),
            segments_per_frame: Vec::new(),
            missed: 0,
            filtered: 0,
            reset_reads: 0,
            tx_index: 0,
            rx_index: 0,
        };
        state.power_on();
        Self { state: Rc::new(RefCell::new(state)) }
    }

    /// The state, for knobs and checks.
    pub fn state(&self) -> std::cell::RefMut<'_, R8169State> {
        self.state.borrow_mut()
    }

    /// A frame arrives from the wire; returns whether it landed in a receive buffer.
    pub fn deliver(&self, frame: &[u8]) -> bool {
        self.state.borrow_mut().receive(frame, false)
    }

    /// A frame arrives with a bad FCS (stored with RES and CRC only if RCR.AER is set).
    pub fn deliver_with_crc_error(&self, frame: &[u8]) -> bool {
        self.state.borrow_mut().receive(frame, true)
    }

    /// Lets held frames go (the carrier came back) and serves the ring.
    pub fn release_transmit(&self) {
        let mut state = self.state.borrow_mut();
        state.hold_transmit = false;
        state.transmit();
    }
}

impl R8169State {
    fn power_on(&mut self) {
        self.registers = [0; 256];
        self.registers[..6].copy_from_slice(&self.eeprom_mac);
        self.registers[reg::TCR..reg::TCR + 4].copy_from_slice(&TCR_XID_8168.to_le_bytes());
        self.tx_index = 0;
        self.rx_index = 0;
    }

    fn get(&self, offset: usize, width: usize) -> u32 {
        (0..width).map(|i| u32::from(self.registers[offset + i]) << (8 * i)).sum()
    }

    fn set(&mut self, offset: usize, width: usize, value: u32) {
        for i in 0..width {
            self.registers[offset + i] = (value >> (8 * i)) as u8;
        }
    }

    fn ring(&self, offset: usize) -> u64 {
        u64::from(self.get(offset, 4)) | (u64::from(self.get(offset + 4, 4)) << 32)
    }

    fn command(&self) -> u8 {
        self.registers[reg::CHIP_CMD]
    }

    fn raise(&mut self, bits: u16) {
        let isr = self.get(reg::ISR, 2) as u16 | bits;
        self.set(reg::ISR, 2, u32::from(isr));
    }

    /// Sends every complete frame from the MAC's ring position on.
    fn transmit(&mut self) {
        if self.dead || self.hold_transmit || self.command() & CMD_TE == 0 {
            return;
        }
        let base = self.ring(reg::TNPDS);
        loop {
            // Collect FS … LS, all owned by the MAC, before sending anything.
            let mut pieces = Vec::new();
            let mut index = self.tx_index;
            loop {
                let at = base + 16 * index as u64;
                let opts1 = self.memory.read_u32(at);
                if opts1 & DESC_OWN == 0 || (pieces.is_empty() && opts1 & DESC_FS == 0) {
                    return;
                }
                pieces.push((at, opts1));
                index = if opts1 & DESC_EOR != 0 { 0 } else { index + 1 };
                if opts1 & DESC_LS != 0 {
                    break;
                }
                if pieces.len() > 1024 {
                    return;
                }
            }
            let mut frame = Vec::new();
            for &(at, opts1) in &pieces {
                let mut chunk = vec![0; (opts1 & 0xFFFF) as usize];
                self.memory.read(self.memory.read_u64(at + 8), &mut chunk);
                frame.extend_from_slice(&chunk);
                self.memory.write_u32(at, opts1 & !DESC_OWN);
            }
            self.sent.push(frame);
            self.segments_per_frame.push(pieces.len());
            self.tx_index = index;
            self.raise(ISR_TOK);
        }
    }

    fn receive(&mut self, frame: &[u8], crc_error: bool) -> bool {
        let rcr = self.get(reg::RCR, 4);
        let mac: [u8; 6] = self.registers[..6].try_into().expect("six bytes");
        let mar: [u8; 8] = self.registers[8..16].try_into().expect("eight bytes");
        if self.dead || self.command() & CMD_RE == 0 {
            return false;
        }
        let wire = with_fcs(frame);
        let too_long = wire.len() > self.get(reg::RMS, 2) as usize;
        if !accepts(rcr, mac, mar, frame) || too_long || (crc_error && rcr & RCR_AER == 0) {
            self.filtered += 1;
            return false;
        }
        // The descriptors the frame needs, all owned by the MAC (a frame longer than
        // one buffer continues in the next: FS on the first, LS on the last).
        let base = self.ring(reg::RDSAR);
        let mut pieces = Vec::new();
        let (mut index, mut room) = (self.rx_index, 0);
        while room < wire.len() {
            let at = base + 16 * index as u64;
            let opts1 = self.memory.read_u32(at);
            let size = (opts1 & 0x3FFF) as usize;
            if opts1 & DESC_OWN == 0 || size == 0 || pieces.len() == 1024 {
                self.missed += 1;
                let mpc = self.get(reg::MPC, 4) + 1;
                self.set(reg::MPC, 4, mpc);
                self.raise(ISR_RDU);
                return false;
            }
            pieces.push((at, opts1, size));
            room += size;
            index = if opts1 & DESC_EOR != 0 { 0 } else { index + 1 };
        }
        let errors = if crc_error { RX_RES | RX_CRC } else { 0 };
        let mut written = 0;
        for (i, &(at, opts1, size)) in pieces.iter().enumerate() {
            let piece = &wire[written..(written + size).min(wire.len())];
            self.memory.write(self.memory.read_u64(at + 8), piece);
            written += piece.len();
            let first = if i == 0 { DESC_FS } else { 0 };
            let rest = if i + 1 == pieces.len() {
                DESC_LS | errors | wire.len() as u32
            } else {
                size as u32
            };
            self.memory.write_u32(at, (opts1 & DESC_EOR) | first | rest);
        }
        self.rx_index = index;
        self.raise(if crc_error { ISR_RER } else { ISR_ROK });
        true
    }

    fn write(&mut self, offset: usize, width: usize, value: u32) {
        if offset + width > self.registers.len() {
            return;
        }
        match offset {
            reg::CHIP_CMD => {
                let value = value as u8;
                if value & CMD_RST != 0 {
                    self.power_on();
                    self.registers[reg::CHIP_CMD] = CMD_RST;
                    self.reset_reads = 3;
                } else {
                    self.registers[reg::CHIP_CMD] = value & (CMD_RE | CMD_TE);
                }
            }
            reg::TPPOLL => {
                if value as u8 & TPPOLL_NPQ != 0 {
                    self.transmit();
                }
            }
            reg::ISR => {
                let isr = self.get(reg::ISR, 2) & !value;
                self.set(reg::ISR, 2, isr);
            }
            reg::IDR0..=5 if self.registers[reg::CR9346] != 0xC0 => {}
            reg::MPC => self.set(reg::MPC, 4, 0),
            reg::PHY_STATUS => {}
            _ => self.set(offset, width, value),
        }
    }

    fn read(&mut self, offset: usize, width: usize) -> u32 {
        if offset + width > self.registers.len() || self.absent {
            return u32::MAX >> (32 - 8 * width);
        }
        if (offset..offset + width).contains(&reg::CHIP_CMD) && self.reset_reads > 0 && !self.dead {
            self.reset_reads -= 1;
            if self.reset_reads == 0 {
                self.registers[reg::CHIP_CMD] &= !CMD_RST;
            }
        }
        if (offset..offset + width).contains(&reg::PHY_STATUS) {
            self.registers[reg::PHY_STATUS] =
                if self.link_up { PHY_LINK | PHY_FULL_DUPLEX | PHY_1000 } else { 0 };
        }
        self.get(offset, width)
    }
}

impl Mmio for R8169Model {
    fn len(&self) -> usize {
        256
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
