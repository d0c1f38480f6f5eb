//! PS/2 keyboard on the 8042 controller (ports 0x60/0x64).
//!
//! [`Ps2Keyboard::start`] finds and sets up the controller: both ports off, output
//! flushed, the configuration byte written with scan-code translation on (so the
//! keyboard's set 2 reaches us as set 1) and the port interrupts off (the kernel
//! polls), controller self-test and port-1 test, port 1 on, keyboard reset and
//! scanning on. Every wait has a deadline; a missing controller (reads of 0xFF, no
//! self-test answer) or keyboard is an error, never a hang.
//! [`Ps2Keyboard::read_byte`] then takes bytes from the output buffer and turns them
//! into console bytes with [`keymap::Decoder`], keeping the extra bytes of a key (an
//! arrow is three) for the next calls. The controller's output buffer holds one
//! byte and the keyboard a few more, so the caller must poll often (the console
//! input call does, every time a program asks for input), or turn on the interrupt
//! with [`Ps2Keyboard::enable_interrupt`] and drain it from the IRQ 1 handler.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod keymap;
#[cfg(test)]
mod tests;

use ingot_hal::{Clock, Deadline, PortIo};
use keymap::{Decoder, MAX_KEY_BYTES};

/// Data port.
pub const DATA_PORT: u16 = 0x60;
/// Status register (read) and command register (write).
pub const STATUS_PORT: u16 = 0x64;

const STATUS_OUTPUT_FULL: u8 = 1 << 0;
const STATUS_INPUT_FULL: u8 = 1 << 1;
const STATUS_FROM_PORT2: u8 = 1 << 5;

const CONFIG_PORT1_IRQ: u8 = 1 << 0;
const CONFIG_PORT2_IRQ: u8 = 1 << 1;
const CONFIG_PORT1_CLOCK_OFF: u8 = 1 << 4;
const CONFIG_TRANSLATION: u8 = 1 << 6;

const READ_CONFIG: u8 = 0x20;
const WRITE_CONFIG: u8 = 0x60;
const SELF_TEST: u8 = 0xAA;
const SELF_TEST_PASSED: u8 = 0x55;
const TEST_PORT1: u8 = 0xAB;
const DISABLE_PORT1: u8 = 0xAD;
const ENABLE_PORT1: u8 = 0xAE;
const DISABLE_PORT2: u8 = 0xA7;

const KEYBOARD_RESET: u8 = 0xFF;
const KEYBOARD_ENABLE_SCANNING: u8 = 0xF4;
const KEYBOARD_ACK: u8 = 0xFA;
const KEYBOARD_RESET_PASSED: u8 = 0xAA;

/// Bytes read and dropped at most while flushing stale output.
const FLUSH_LIMIT: usize = 32;
/// Deadline for each controller answer.
const ANSWER_MS: u64 = 100;
/// Deadline for the keyboard's reset (its self-test takes up to 500 ms on hardware).
const RESET_MS: u64 = 1000;

/// Why the keyboard could not be set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ps2Error {
    /// Nothing answers at the 8042's ports (or the controller never took a command).
    NoController,
    /// The controller's self-test answered this instead of 0x55.
    SelfTestFailed(u8),
    /// The port-1 test answered this instead of 0x00 (clock or data line stuck).
    PortTestFailed(u8),
    /// No keyboard answered its reset, or it answered this byte.
    NoKeyboard(Option<u8>),
}

/// A set-up PS/2 keyboard.
pub struct Ps2Keyboard<P: PortIo> {
    ports: P,
    /// The configuration byte written at start.
    config: u8,
    decoder: Decoder,
    pending: [u8; MAX_KEY_BYTES],
    pending_len: usize,
    pending_at: usize,
}

impl<P: PortIo> Ps2Keyboard<P> {
    /// Finds the controller and sets up the keyboard on its first port.
    pub fn start(mut ports: P, clock: &impl Clock) -> Result<Self, Ps2Error> {
        if ports.read_u8(STATUS_PORT) == 0xFF {
            return Err(Ps2Error::NoController);
        }
        command(&mut ports, clock, DISABLE_PORT1)?;
        command(&mut ports, clock, DISABLE_PORT2)?;
        for _ in 0..FLUSH_LIMIT {
            if ports.read_u8(STATUS_PORT) & STATUS_OUTPUT_FULL == 0 {
                break;
            }
            ports.read_u8(DATA_PORT);
        }
        command(&mut ports, clock, READ_CONFIG)?;
        let config = answer(&mut ports, clock, ANSWER_MS).ok_or(Ps2Error::NoController)?;
        let config = (config & !(CONFIG_PORT1_IRQ | CONFIG_PORT2_IRQ | CONFIG_PORT1_CLOCK_OFF))
            | CONFIG_TRANSLATION;
        write_config(&mut ports, clock, config)?;
        command(&mut ports, clock, SELF_TEST)?;
        match answer(&mut ports, clock, ANSWER_MS) {
            Some(SELF_TEST_PASSED) => {}
            Some(other) => return Err(Ps2Error::SelfTestFailed(other)),
            None => return Err(Ps2Error::NoController),
        }
        // Some controllers reset the configuration byte in their self-test.
        write_config(&mut ports, clock, config)?;
        command(&mut ports, clock, TEST_PORT1)?;
        match answer(&mut ports, clock, ANSWER_MS) {
            Some(0) => {}
            other => return Err(Ps2Error::PortTestFailed(other.unwrap_or(0xFF))),
        }
        command(&mut ports, clock, ENABLE_PORT1)?;
        // Keys typed while port 1 was off arrive once it is on, ahead of the
        // answers, so answers are looked for among the next few bytes.
        send_keyboard(&mut ports, clock, KEYBOARD_RESET)?;
        expect(&mut ports, clock, KEYBOARD_ACK, RESET_MS)?;
        expect(&mut ports, clock, KEYBOARD_RESET_PASSED, RESET_MS)?;
        send_keyboard(&mut ports, clock, KEYBOARD_ENABLE_SCANNING)?;
        expect(&mut ports, clock, KEYBOARD_ACK, ANSWER_MS)?;
        Ok(Self {
            ports,
            config,
            decoder: Decoder::new(),
            pending: [0; MAX_KEY_BYTES],
            pending_len: 0,
            pending_at: 0,
        })
    }

    /// Lets the controller raise IRQ 1 whenever a keyboard byte waits (the kernel
    /// routes it and drains the controller from its handler, so fast typing is kept).
    pub fn enable_interrupt(&mut self, clock: &impl Clock) -> Result<(), Ps2Error> {
        self.config |= CONFIG_PORT1_IRQ;
        write_config(&mut self.ports, clock, self.config)
    }

    /// The next byte typed, if any: bytes left from the last key first, then keys
    /// waiting at the controller, decoded (a byte that types nothing, such as a
    /// release, is consumed and the next one looked at).
    pub fn read_byte(&mut self) -> Option<u8> {
        loop {
            if self.pending_at < self.pending_len {
                self.pending_at += 1;
                return Some(self.pending[self.pending_at - 1]);
            }
            let status = self.ports.read_u8(STATUS_PORT);
            if status & STATUS_OUTPUT_FULL == 0 {
                return None;
            }
            let byte = self.ports.read_u8(DATA_PORT);
            if status & STATUS_FROM_PORT2 != 0 {
                continue;
            }
            let typed = self.decoder.feed(byte);
            let bytes = typed.as_slice();
            self.pending[..bytes.len()].copy_from_slice(bytes);
            (self.pending_len, self.pending_at) = (bytes.len(), 0);
        }
    }
}

/// Waits until the controller can take a byte, then writes it to `port`.
fn write(ports: &mut impl PortIo, clock: &impl Clock, port: u16, byte: u8) -> Result<(), Ps2Error> {
    Deadline::after_ms(clock, ANSWER_MS)
        .wait(clock, || (ports.read_u8(STATUS_PORT) & STATUS_INPUT_FULL == 0).then_some(()))
        .map_err(|_| Ps2Error::NoController)?;
    ports.write_u8(port, byte);
    Ok(())
}

fn command(ports: &mut impl PortIo, clock: &impl Clock, byte: u8) -> Result<(), Ps2Error> {
    write(ports, clock, STATUS_PORT, byte)
}

fn write_config(ports: &mut impl PortIo, clock: &impl Clock, config: u8) -> Result<(), Ps2Error> {
    command(ports, clock, WRITE_CONFIG)?;
    write(ports, clock, DATA_PORT, config)
}

fn send_keyboard(ports: &mut impl PortIo, clock: &impl Clock, byte: u8) -> Result<(), Ps2Error> {
    write(ports, clock, DATA_PORT, byte)
}

/// Waits for the keyboard's answer `wanted`, skipping up to [`FLUSH_LIMIT`] other
/// bytes (keys typed before the reset).
fn expect(
    ports: &mut impl PortIo,
    clock: &impl Clock,
    wanted: u8,
    timeout_ms: u64,
) -> Result<(), Ps2Error> {
    let mut last = None;
    for _ in 0..FLUSH_LIMIT {
        match answer(ports, clock, timeout_ms) {
            Some(byte) if byte == wanted => return Ok(()),
            Some(byte) => last = Some(byte),
            None => return Err(Ps2Error::NoKeyboard(last)),
        }
    }
    Err(Ps2Error::NoKeyboard(last))
}

/// The next byte in the output buffer, waiting up to `timeout_ms`.
fn answer(ports: &mut impl PortIo, clock: &impl Clock, timeout_ms: u64) -> Option<u8> {
    Deadline::after_ms(clock, timeout_ms)
        .wait(clock, || {
            (ports.read_u8(STATUS_PORT) & STATUS_OUTPUT_FULL != 0).then(|| ports.read_u8(DATA_PORT))
        })
        .ok()
}
