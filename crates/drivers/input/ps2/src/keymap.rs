//! Scan code set 1 (what the 8042 delivers with translation on) to console bytes.
//!
//! The decoder follows the modifiers (shift, ctrl, alt, caps lock) and turns each key
//! press into the bytes a serial terminal would send for it, so the console's one
//! input stream looks the same whatever the keyboard: letters and symbols as ASCII,
//! Enter as CR, Backspace as 0x08, ctrl+letter as 0x01–0x1A, alt+key as ESC then the
//! key, arrows as `ESC [ A`…`D`, Home/End as `ESC [ H`/`F`, Delete as `ESC [ 3 ~`,
//! and the keypad (num lock assumed on) as its digits and operators. Releases,
//! unknown keys and the extended "fake shift" codes produce nothing.

/// Most bytes one key press produces (`ESC [ 3 ~`).
pub const MAX_KEY_BYTES: usize = 4;

/// Unshifted characters for make codes 0x00–0x39 (0 = no character).
const PLAIN: &[u8; 0x3A] =
    b"\0\x1b1234567890-=\x08\tqwertyuiop[]\r\0asdfghjkl;'`\0\\zxcvbnm,./\0*\0 ";
/// Shifted characters for the same codes.
const SHIFTED: &[u8; 0x3A] =
    b"\0\x1b!@#$%^&*()_+\x08\tQWERTYUIOP{}\r\0ASDFGHJKL:\"~\0|ZXCVBNM<>?\0*\0 ";
/// Keypad make codes 0x47–0x53 with num lock on.
const KEYPAD: &[u8; 13] = b"789-456+1230.";

const LEFT_SHIFT: u8 = 0x2A;
const RIGHT_SHIFT: u8 = 0x36;
const CTRL: u8 = 0x1D;
const ALT: u8 = 0x38;
const CAPS_LOCK: u8 = 0x3A;
const EXTENDED: u8 = 0xE0;
const RELEASE: u8 = 0x80;

/// Bytes produced by one scan-code byte.
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

/// Decoder state: modifiers and a pending extended prefix.
#[derive(Debug, Clone, Copy, Default)]
pub struct Decoder {
    shift_left: bool,
    shift_right: bool,
    ctrl: bool,
    alt: bool,
    caps_lock: bool,
    extended: bool,
}

impl Decoder {
    /// A decoder with no key held and caps lock off.
    pub const fn new() -> Self {
        Self {
            shift_left: false,
            shift_right: false,
            ctrl: false,
            alt: false,
            caps_lock: false,
            extended: false,
        }
    }

    /// Whether caps lock is on.
    pub fn caps_lock(&self) -> bool {
        self.caps_lock
    }

    /// Feeds one byte from the keyboard; returns what it typed (often nothing).
    pub fn feed(&mut self, byte: u8) -> KeyBytes {
        if byte == EXTENDED {
            self.extended = true;
            return KeyBytes::default();
        }
        let extended = core::mem::take(&mut self.extended);
        let pressed = byte & RELEASE == 0;
        let code = byte & !RELEASE;
        match (extended, code) {
            (false, LEFT_SHIFT) => self.shift_left = pressed,
            (false, RIGHT_SHIFT) => self.shift_right = pressed,
            // Left and right ctrl / alt (right ones come with the extended prefix).
            (_, CTRL) => self.ctrl = pressed,
            (_, ALT) => self.alt = pressed,
            (false, CAPS_LOCK) if pressed => self.caps_lock = !self.caps_lock,
            _ if !pressed => {}
            (true, code) => return extended_key(code),
            (false, code) => return self.plain_key(code),
        }
        KeyBytes::default()
    }

    fn plain_key(&self, code: u8) -> KeyBytes {
        if let Some(&byte) =
            (0x47..=0x53).contains(&code).then(|| &KEYPAD[usize::from(code - 0x47)])
        {
            return KeyBytes::from(&[byte]);
        }
        let Some(&plain) = PLAIN.get(usize::from(code)) else { return KeyBytes::default() };
        if plain == 0 {
            return KeyBytes::default();
        }
        let shift = self.shift_left || self.shift_right;
        let letter = plain.is_ascii_lowercase();
        let mut byte =
            if shift != (letter && self.caps_lock) { SHIFTED[usize::from(code)] } else { plain };
        if self.ctrl && byte.is_ascii_alphabetic() {
            byte = byte.to_ascii_lowercase() - b'a' + 1;
        }
        if self.alt { KeyBytes::from(&[0x1B, byte]) } else { KeyBytes::from(&[byte]) }
    }
}

/// Keys behind the extended prefix: cursor keys, keypad Enter and `/`.
fn extended_key(code: u8) -> KeyBytes {
    match code {
        0x48 => KeyBytes::from(b"\x1b[A"),
        0x50 => KeyBytes::from(b"\x1b[B"),
        0x4D => KeyBytes::from(b"\x1b[C"),
        0x4B => KeyBytes::from(b"\x1b[D"),
        0x47 => KeyBytes::from(b"\x1b[H"),
        0x4F => KeyBytes::from(b"\x1b[F"),
        0x53 => KeyBytes::from(b"\x1b[3~"),
        0x1C => KeyBytes::from(b"\r"),
        0x35 => KeyBytes::from(b"/"),
        // 0x2A / 0x36: the "fake shifts" around cursor keys; others: no character.
        _ => KeyBytes::default(),
    }
}
