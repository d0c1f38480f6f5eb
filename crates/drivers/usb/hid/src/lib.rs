//! The USB HID boot-protocol keyboard (HID 1.11, appendix B): 8-byte input reports
//! turned into the console's bytes, with key repeat.
//!
//! A boot report is: byte 0 the modifier bits (left ctrl, shift, alt, GUI, then the
//! same for the right side), byte 1 reserved, bytes 2–7 up to six key usage codes
//! (HID usage tables, page 7) of the keys held, 0 for none, all 1 ("phantom") when
//! more keys are held than the keyboard can tell apart. A key *press* is a usage in
//! this report that was not in the previous one; [`BootKeyboard::report`] returns the
//! bytes of the presses, in report order, as a serial terminal would send them (the
//! same mapping as the PS/2 keyboard: arrows as `ESC [ A`…, Enter as CR, Backspace as
//! 8, ctrl+letter as 1–26, alt+key as ESC then the key, caps lock toggling letters).
//! The keyboard sends a report only when something changes, so repeat is done here:
//! the last key pressed repeats after [`REPEAT_DELAY_NS`] and then every
//! [`REPEAT_INTERVAL_NS`] while it stays held ([`BootKeyboard::repeat`]).
//!
//! This crate is the HID half of a USB keyboard; `ingot-xhci` delivers the reports.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

#[cfg(test)]
mod tests;

/// Bytes of a boot-protocol keyboard report.
pub const REPORT_BYTES: usize = 8;
/// Most bytes one key press produces (`ESC [ 3 ~`, or alt + a key).
pub const MAX_KEY_BYTES: usize = 4;
/// A held key starts repeating after this long.
pub const REPEAT_DELAY_NS: u64 = 500_000_000;
/// Then it repeats this often.
pub const REPEAT_INTERVAL_NS: u64 = 33_000_000;

const LEFT_CTRL: u8 = 1 << 0;
const LEFT_SHIFT: u8 = 1 << 1;
const LEFT_ALT: u8 = 1 << 2;
const RIGHT_CTRL: u8 = 1 << 4;
const RIGHT_SHIFT: u8 = 1 << 5;
const RIGHT_ALT: u8 = 1 << 6;

/// Usage code of "too many keys held" (ErrorRollOver).
const ROLL_OVER: u8 = 0x01;
const CAPS_LOCK: u8 = 0x39;

/// Unshifted and shifted characters of usages 0x1E–0x38 (digits row to `/`).
const ROW_PLAIN: &[u8; 27] = b"1234567890\r\x1b\x08\t -=[]\\#;'`,./";
const ROW_SHIFTED: &[u8; 27] = b"!@#$%^&*()\r\x1b\x08\t _+{}|~:\"~<>?";
/// Keypad usages 0x54–0x63 with num lock on.
const KEYPAD: &[u8; 16] = b"/*-+\r1234567890.";

/// The bytes of one key press.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyBytes {
    bytes: [u8; MAX_KEY_BYTES],
    len: usize,
}

impl KeyBytes {
    fn from(bytes: &[u8]) -> Self {
        let mut out = Self::default();
        out.bytes[..bytes.len()].copy_from_slice(bytes);
        out.len = bytes.len();
        out
    }

    /// The bytes, in order.
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Key presses found in one report (at most six).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Presses {
    keys: [KeyBytes; 6],
    count: usize,
}

impl Presses {
    /// Every byte of the presses, in order, into `out`; returns how many fitted.
    pub fn write_to(&self, out: &mut [u8]) -> usize {
        let mut written = 0;
        for key in &self.keys[..self.count] {
            for &byte in key.as_slice() {
                if written == out.len() {
                    return written;
                }
                out[written] = byte;
                written += 1;
            }
        }
        written
    }
}

/// One keyboard's state between reports.
#[derive(Debug, Clone, Copy, Default)]
pub struct BootKeyboard {
    held: [u8; 6],
    modifiers: u8,
    caps_lock: bool,
    /// The key that repeats (usage), when it was pressed or last repeated, and whether
    /// the first delay has passed.
    repeating: Option<(u8, u64, bool)>,
}

impl BootKeyboard {
    /// A keyboard with nothing held and caps lock off.
    pub const fn new() -> Self {
        Self { held: [0; 6], modifiers: 0, caps_lock: false, repeating: None }
    }

    /// Whether caps lock is on (for the keyboard's LED).
    pub fn caps_lock(&self) -> bool {
        self.caps_lock
    }

    /// Takes a report received at `now_ns`; returns the presses it holds. A report
    /// shorter than 8 bytes or a roll-over report changes nothing.
    pub fn report(&mut self, report: &[u8], now_ns: u64) -> Presses {
        let mut presses = Presses::default();
        let Some(report) = report.get(..REPORT_BYTES) else { return presses };
        let keys = &report[2..REPORT_BYTES];
        if keys.contains(&ROLL_OVER) {
            return presses;
        }
        self.modifiers = report[0];
        for &usage in keys.iter().filter(|&&usage| usage != 0) {
            if self.held.contains(&usage) {
                continue;
            }
            if usage == CAPS_LOCK {
                self.caps_lock = !self.caps_lock;
                continue;
            }
            let bytes = self.bytes_of(usage);
            if bytes.len > 0 {
                presses.keys[presses.count] = bytes;
                presses.count += 1;
                self.repeating = Some((usage, now_ns, false));
            }
        }
        self.held.copy_from_slice(keys);
        if self.repeating.is_some_and(|(usage, ..)| !self.held.contains(&usage)) {
            self.repeating = None;
        }
        presses
    }

    /// The held key's bytes again if it is due to repeat at `now_ns`.
    pub fn repeat(&mut self, now_ns: u64) -> Option<KeyBytes> {
        let (usage, since, started) = self.repeating?;
        let wait = if started { REPEAT_INTERVAL_NS } else { REPEAT_DELAY_NS };
        if now_ns.saturating_sub(since) < wait {
            return None;
        }
        self.repeating = Some((usage, now_ns, true));
        Some(self.bytes_of(usage))
    }

    fn bytes_of(&self, usage: u8) -> KeyBytes {
        let shift = self.modifiers & (LEFT_SHIFT | RIGHT_SHIFT) != 0;
        let ctrl = self.modifiers & (LEFT_CTRL | RIGHT_CTRL) != 0;
        let alt = self.modifiers & (LEFT_ALT | RIGHT_ALT) != 0;
        let byte = match usage {
            0x04..=0x1D => {
                let letter = b'a' + (usage - 0x04);
                if ctrl {
                    letter - b'a' + 1
                } else if shift != self.caps_lock {
                    letter.to_ascii_uppercase()
                } else {
                    letter
                }
            }
            0x1E..=0x38 => {
                let index = usize::from(usage - 0x1E);
                if shift { ROW_SHIFTED[index] } else { ROW_PLAIN[index] }
            }
            0x4F => return KeyBytes::from(b"\x1b[C"),
            0x50 => return KeyBytes::from(b"\x1b[D"),
            0x51 => return KeyBytes::from(b"\x1b[B"),
            0x52 => return KeyBytes::from(b"\x1b[A"),
            0x4A => return KeyBytes::from(b"\x1b[H"),
            0x4D => return KeyBytes::from(b"\x1b[F"),
            0x4C => return KeyBytes::from(b"\x1b[3~"),
            0x54..=0x63 => KEYPAD[usize::from(usage - 0x54)],
            _ => return KeyBytes::default(),
        };
        if alt { KeyBytes::from(&[0x1B, byte]) } else { KeyBytes::from(&[byte]) }
    }
}
