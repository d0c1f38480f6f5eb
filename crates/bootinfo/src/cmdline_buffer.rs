//! The command line as the kernel keeps it: at most [`MAX_CMDLINE`] bytes of valid
//! UTF-8, with a record of what was lost on the way in.
//!
//! Loaders hand over raw bytes. Nothing is dropped silently: a line longer than the
//! buffer is cut before its last, incomplete word (so a cut value such as
//! `pci-ecam=0xb0` is never taken for a real one) and the kept length is recorded; a
//! byte that is not valid UTF-8 is skipped on its own and counted, so the words after
//! it survive.

use core::fmt;

/// Bytes of command line the kernel keeps.
pub const MAX_CMDLINE: usize = 1024;

/// What happened to the command line on its way in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CmdlineDamage {
    /// The loader's line was longer than the kernel keeps; this many bytes were kept.
    pub cut_to: Option<usize>,
    /// Bytes skipped because they were not valid UTF-8.
    pub invalid_bytes: usize,
    /// Offset of the first skipped byte in the loader's line.
    pub first_invalid: usize,
}

impl CmdlineDamage {
    /// One line per kind of damage (none for an intact line), for the console.
    pub fn notices(&self) -> impl Iterator<Item = Notice> {
        let cut = self.cut_to.map(|kept| Notice::Cut { kept });
        let invalid = (self.invalid_bytes > 0)
            .then_some(Notice::Invalid { count: self.invalid_bytes, first: self.first_invalid });
        cut.into_iter().chain(invalid)
    }
}

/// One kind of damage, printable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// The line was cut to `kept` bytes.
    Cut {
        /// Bytes kept.
        kept: usize,
    },
    /// `count` invalid bytes were skipped, the first at offset `first`.
    Invalid {
        /// Bytes skipped.
        count: usize,
        /// Offset of the first in the loader's line.
        first: usize,
    },
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Cut { kept } => write!(
                f,
                "longer than the {MAX_CMDLINE} bytes the kernel keeps; kept the first {kept} bytes, the rest is ignored"
            ),
            Self::Invalid { count, first } => {
                write!(f, "skipped {count} byte(s) that are not UTF-8, the first at offset {first}")
            }
        }
    }
}

/// The kept command line.
#[derive(Clone)]
pub struct CmdlineBuffer {
    bytes: [u8; MAX_CMDLINE],
    len: usize,
    damage: CmdlineDamage,
}

impl CmdlineBuffer {
    /// An empty, undamaged line.
    pub const fn new() -> Self {
        Self {
            bytes: [0; MAX_CMDLINE],
            len: 0,
            damage: CmdlineDamage { cut_to: None, invalid_bytes: 0, first_invalid: 0 },
        }
    }

    /// Stores `raw`, the loader's bytes (at most [`MAX_CMDLINE`] of them). `more` says
    /// the loader's line went on after `raw`; `more_starts_word` that the byte after
    /// `raw` was not whitespace (so `raw`'s last word is incomplete).
    pub fn store(&mut self, raw: &[u8], more: bool, more_starts_word: bool) {
        let raw = &raw[..raw.len().min(MAX_CMDLINE)];
        self.len = 0;
        self.damage = CmdlineDamage::default();
        let mut offset = 0;
        let mut split_sequence = false;
        while offset < raw.len() {
            let rest = &raw[offset..];
            let (valid, skip) = match core::str::from_utf8(rest) {
                Ok(_) => (rest.len(), 0),
                // A sequence cut off by the end of a truncated line is part of the cut,
                // not an invalid byte.
                Err(error) if error.error_len().is_none() && more => (error.valid_up_to(), 0),
                Err(error) => (error.valid_up_to(), error.error_len().unwrap_or(1)),
            };
            self.bytes[self.len..self.len + valid].copy_from_slice(&rest[..valid]);
            self.len += valid;
            if skip > 0 {
                if self.damage.invalid_bytes == 0 {
                    self.damage.first_invalid = offset + valid;
                }
                self.damage.invalid_bytes += skip;
            } else if valid < rest.len() {
                split_sequence = true;
                break;
            }
            offset += valid + skip;
        }
        if more {
            let ends_mid_word = more_starts_word || split_sequence;
            if ends_mid_word {
                while self.len > 0 && !self.bytes[self.len - 1].is_ascii_whitespace() {
                    self.len -= 1;
                }
            }
            while self.len > 0 && self.bytes[self.len - 1].is_ascii_whitespace() {
                self.len -= 1;
            }
            self.damage.cut_to = Some(self.len);
        }
    }

    /// Removes the first `count` bytes (a loader's image path); the cut length follows.
    pub fn drop_prefix(&mut self, count: usize) {
        let count = count.min(self.len);
        self.bytes.copy_within(count..self.len, 0);
        self.len -= count;
        if let Some(kept) = self.damage.cut_to.as_mut() {
            *kept = kept.saturating_sub(count);
        }
    }

    /// The kept line.
    pub fn text(&self) -> &str {
        // `store` keeps only valid UTF-8 and cuts at ASCII bytes, so this never fails.
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }

    /// What was lost.
    pub fn damage(&self) -> CmdlineDamage {
        self.damage
    }
}

impl Default for CmdlineBuffer {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(raw: &[u8], more: bool, more_starts_word: bool) -> CmdlineBuffer {
        let mut buffer = CmdlineBuffer::new();
        buffer.store(raw, more, more_starts_word);
        buffer
    }

    #[test]
    fn an_intact_line_is_kept_whole_without_notices() {
        let line = stored(b"exit=qemu ide=pio", false, false);
        assert_eq!(line.text(), "exit=qemu ide=pio");
        assert_eq!(line.damage().notices().count(), 0);
    }

    #[test]
    fn an_invalid_byte_is_skipped_and_the_rest_kept() {
        let line = stored(b"colour=\xFFblue exit=qemu", false, false);
        assert_eq!(line.text(), "colour=blue exit=qemu");
        assert_eq!(
            line.damage(),
            CmdlineDamage { cut_to: None, invalid_bytes: 1, first_invalid: 7 }
        );
        let notices: Vec<String> = line.damage().notices().map(|n| n.to_string()).collect();
        assert_eq!(notices, ["skipped 1 byte(s) that are not UTF-8, the first at offset 7"]);
    }

    #[test]
    fn several_invalid_bytes_and_a_broken_sequence_at_the_end_are_counted() {
        // 0xC3 starts a two-byte sequence that never completes; 0x80 is a lone
        // continuation byte; "é" (0xC3 0xA9) is valid and kept.
        let line = stored(b"a=\xC3 b=\x80\xE9 c=\xC3\xA9 exit=qemu \xC3", false, false);
        assert_eq!(line.text(), "a= b= c=\u{e9} exit=qemu ");
        assert_eq!(line.damage().invalid_bytes, 4);
        assert_eq!(line.damage().first_invalid, 2);
    }

    #[test]
    fn a_cut_line_drops_its_incomplete_last_word_and_says_how_much_it_kept() {
        let mut raw = [b'x'; MAX_CMDLINE];
        raw[..10].copy_from_slice(b"exit=qemu ");
        raw[1000..1014].copy_from_slice(b" pci-ecam=0xb0");
        let line = stored(&raw, true, true);
        assert_eq!(line.text().len(), 1000);
        assert!(line.text().starts_with("exit=qemu xxx"));
        assert_eq!(line.damage().cut_to, Some(1000));
        let notices: Vec<String> = line.damage().notices().map(|n| n.to_string()).collect();
        assert_eq!(
            notices,
            [
                "longer than the 1024 bytes the kernel keeps; kept the first 1000 bytes, the rest is ignored"
            ]
        );
    }

    #[test]
    fn a_cut_at_a_word_boundary_keeps_the_last_word() {
        let mut raw = [b' '; MAX_CMDLINE];
        raw[MAX_CMDLINE - 9..].copy_from_slice(b"exit=qemu");
        let line = stored(&raw, true, false);
        assert!(line.text().ends_with("exit=qemu"));
        assert_eq!(line.damage().cut_to, Some(MAX_CMDLINE));
    }

    #[test]
    fn a_multibyte_character_split_by_the_cut_is_not_called_invalid() {
        let mut raw = [b'a'; MAX_CMDLINE];
        raw[..2].copy_from_slice(b"k ");
        raw[MAX_CMDLINE - 1] = 0xC3;
        let line = stored(&raw, true, true);
        assert_eq!(line.text(), "k");
        assert_eq!(
            line.damage(),
            CmdlineDamage { cut_to: Some(1), invalid_bytes: 0, first_invalid: 0 }
        );
    }

    #[test]
    fn dropping_a_prefix_moves_the_kept_length_along() {
        let mut raw = [b'y'; MAX_CMDLINE];
        raw[..22].copy_from_slice(b"/kernel.elf exit=qemu ");
        let mut line = stored(&raw, true, true);
        line.drop_prefix(12);
        assert_eq!(line.text(), "exit=qemu");
        assert_eq!(line.damage().cut_to, Some(9));
    }
}
