//! The 8042 PS/2 controller with a keyboard on its first port, for the PS/2 driver's
//! tests. Written from the IBM PC/AT 8042 interface as documented for PS/2 systems:
//! data port 0x60, status (read) and command (write) port 0x64.
//!
//! - Status: bit 0 output buffer full, bit 1 input buffer full (never: the model takes
//!   bytes at once), bit 2 system flag, bit 5 the byte is from the second (mouse) port.
//! - Controller commands: 0x20 read and 0x60 write the configuration byte (bit 0
//!   port-1 interrupt, bit 1 port-2 interrupt, bit 4 port-1 clock off, bit 5 port-2
//!   clock off, bit 6 scan-code translation), 0xAA self-test (answers 0x55), 0xAB
//!   port-1 test (0x00), 0xAD/0xAE disable/enable port 1, 0xA7/0xA8 port 2.
//! - Bytes written to 0x60 otherwise go to the keyboard: 0xFF reset (0xFA, then 0xAA
//!   self-test passed), 0xF4/0xF5 enable/disable scanning, 0xED set LEDs (0xFA, then
//!   0xFA for the LED byte), 0xF0 scan-code set (0xFA twice); anything else 0xFE
//!   (resend).
//! - The controller's output buffer holds one byte; the keyboard keeps up to
//!   [`KEYBOARD_BUFFER`] more and drops keys beyond that (as real keyboards do,
//!   reporting an overrun with 0x00 in set 1). Keys reach the host only while port 1
//!   is enabled and scanning is on. Keys are given as the bytes the host sees with
//!   translation on (scan set 1); the model records whether translation is enabled.
//!
//! [`I8042Model::absent`] plays a machine without the controller: every read is 0xFF.

use std::collections::VecDeque;

use ingot_hal::PortIo;

/// Data port.
pub const DATA_PORT: u16 = 0x60;
/// Status (read) and command (write) port.
pub const STATUS_PORT: u16 = 0x64;
/// Bytes the keyboard holds while the controller's output buffer is full.
pub const KEYBOARD_BUFFER: usize = 16;
/// Configuration-byte bit: scan-code translation to set 1.
pub const CONFIG_TRANSLATION: u8 = 1 << 6;
/// Configuration-byte bit: interrupt on port 1 (IRQ1).
pub const CONFIG_PORT1_IRQ: u8 = 1 << 0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    None,
    WriteConfig,
    KeyboardLeds,
    KeyboardScanSet,
}

/// The controller and its keyboard.
#[derive(Debug)]
pub struct I8042Model {
    present: bool,
    /// The configuration byte.
    pub config: u8,
    /// Port 1 enabled (0xAE) or disabled (0xAD).
    pub port1_enabled: bool,
    /// Keyboard scanning on (after reset or 0xF4).
    pub scanning: bool,
    /// Every byte the keyboard received, in order.
    pub keyboard_commands: Vec<u8>,
    /// Keys dropped because the keyboard's buffer was full.
    pub keys_dropped: usize,
    output: Option<u8>,
    keyboard: VecDeque<u8>,
    pending: Pending,
    /// Self-test answer (0x55 when working).
    pub self_test_result: u8,
}

impl Default for I8042Model {
    fn default() -> Self {
        Self::new()
    }
}

impl I8042Model {
    /// A working controller with a keyboard, as firmware leaves it: translation and
    /// the port-1 interrupt on, scanning on, port 1 enabled.
    pub fn new() -> Self {
        Self {
            present: true,
            config: CONFIG_TRANSLATION | CONFIG_PORT1_IRQ | 0x04,
            port1_enabled: true,
            scanning: true,
            keyboard_commands: Vec::new(),
            keys_dropped: 0,
            output: None,
            keyboard: VecDeque::new(),
            pending: Pending::None,
            self_test_result: 0x55,
        }
    }

    /// No controller at the ports.
    pub fn absent() -> Self {
        Self { present: false, ..Self::new() }
    }

    /// The user types: `bytes` are scan-set-1 bytes (make and break codes). Keys go
    /// nowhere while port 1 is disabled or scanning is off; beyond the keyboard's
    /// buffer they are dropped.
    pub fn type_scancodes(&mut self, bytes: &[u8]) {
        if !self.port1_enabled || !self.scanning {
            self.keys_dropped += bytes.len();
            return;
        }
        for &byte in bytes {
            if self.keyboard.len() >= KEYBOARD_BUFFER {
                self.keys_dropped += 1;
            } else {
                self.keyboard.push_back(byte);
            }
            self.refill();
        }
    }

    /// Puts a controller answer in front of everything from the keyboard.
    fn answer(&mut self, byte: u8) {
        if let Some(waiting) = self.output.replace(byte) {
            self.keyboard.push_front(waiting);
        }
    }

    fn keyboard_answer(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.keyboard.push_back(byte);
        }
        self.refill();
    }

    fn refill(&mut self) {
        if self.output.is_none() && self.port1_enabled {
            self.output = self.keyboard.pop_front();
        }
    }

    fn command(&mut self, command: u8) {
        match command {
            0x20 => self.answer(self.config),
            0x60 => self.pending = Pending::WriteConfig,
            0xAA => self.answer(self.self_test_result),
            0xAB => self.answer(0x00),
            0xAD => self.port1_enabled = false,
            0xAE => {
                self.port1_enabled = true;
                self.refill();
            }
            0xA7 | 0xA8 => {}
            _ => {}
        }
    }

    fn data(&mut self, byte: u8) {
        let pending = core::mem::replace(&mut self.pending, Pending::None);
        match pending {
            Pending::WriteConfig => {
                self.config = byte;
                return;
            }
            Pending::KeyboardLeds | Pending::KeyboardScanSet => {
                self.keyboard_commands.push(byte);
                self.keyboard_answer(&[0xFA]);
                return;
            }
            Pending::None => {}
        }
        self.keyboard_commands.push(byte);
        match byte {
            0xFF => {
                self.keyboard.clear();
                self.scanning = true;
                self.keyboard_answer(&[0xFA, 0xAA]);
            }
            0xF4 => {
                self.scanning = true;
                self.keyboard_answer(&[0xFA]);
            }
            0xF5 => {
                self.scanning = false;
                self.keyboard_answer(&[0xFA]);
            }
            0xED => {
                self.pending = Pending::KeyboardLeds;
                self.keyboard_answer(&[0xFA]);
            }
            0xF0 => {
                self.pending = Pending::KeyboardScanSet;
                self.keyboard_answer(&[0xFA]);
            }
            _ => self.keyboard_answer(&[0xFE]),
        }
    }
}

impl PortIo for I8042Model {
    fn read_u8(&mut self, port: u16) -> u8 {
        if !self.present {
            return 0xFF;
        }
        match port {
            STATUS_PORT => u8::from(self.output.is_some()) | 0x04,
            DATA_PORT => {
                let byte = self.output.take().unwrap_or(0);
                self.refill();
                byte
            }
            _ => 0xFF,
        }
    }

    fn write_u8(&mut self, port: u16, value: u8) {
        if !self.present {
            return;
        }
        match port {
            STATUS_PORT => self.command(value),
            DATA_PORT => self.data(value),
            _ => {}
        }
    }
}
