//! One 64-byte directory entry: `name[32]`, then little-endian u64 `starting_block`,
//! `reserved_blocks`, `file_size` and an unused u64.

use crate::MAX_NAME;

/// First name byte of the slot that ends the directory.
pub const END_MARK: u8 = 0x00;
/// First name byte of a deleted entry.
pub const DELETED_MARK: u8 = 0x01;

/// A 32-byte name field as stored: the name runs to the first NUL (or, in a corrupt
/// entry, over all 32 bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Name([u8; 32]);

impl Name {
    /// The name field for `name`, if it is a name BMFS can store: 1 to [`MAX_NAME`]
    /// bytes, no NUL, not starting with the deleted mark.
    pub fn new(name: &str) -> Option<Self> {
        let bytes = name.as_bytes();
        if bytes.is_empty() || bytes.len() > MAX_NAME || bytes.contains(&0) {
            return None;
        }
        if bytes[0] == DELETED_MARK {
            return None;
        }
        let mut field = [0u8; 32];
        field[..bytes.len()].copy_from_slice(bytes);
        Some(Self(field))
    }

    /// The name's bytes, without the terminating NUL.
    pub fn as_bytes(&self) -> &[u8] {
        let len = self.0.iter().position(|&b| b == 0).unwrap_or(32);
        &self.0[..len]
    }

    /// The name as text, if it is UTF-8.
    pub fn to_str(&self) -> Option<&str> {
        core::str::from_utf8(self.as_bytes()).ok()
    }

    /// Whether the field holds a NUL (a well-formed name).
    pub fn is_terminated(&self) -> bool {
        self.0.contains(&0)
    }
}

impl core::fmt::Display for Name {
    /// The name, with bytes that are not printable ASCII shown as `\xNN`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for &byte in self.as_bytes() {
            if byte.is_ascii_graphic() || byte == b' ' {
                write!(f, "{}", byte as char)?;
            } else {
                write!(f, "\\x{byte:02x}")?;
            }
        }
        Ok(())
    }
}

impl core::fmt::Debug for Name {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// A live directory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Position in the directory (0–63).
    pub slot: usize,
    /// The file name.
    pub name: Name,
    /// First block of the file.
    pub starting_block: u64,
    /// Blocks reserved for the file.
    pub reserved_blocks: u64,
    /// The file's length in bytes.
    pub file_size: u64,
}

impl Entry {
    /// Decodes the 64 bytes of directory slot `slot`.
    pub(crate) fn decode(slot: usize, bytes: &[u8]) -> Self {
        let u64_at = |at: usize| {
            let mut word = [0u8; 8];
            word.copy_from_slice(&bytes[at..at + 8]);
            u64::from_le_bytes(word)
        };
        let mut name = [0u8; 32];
        name.copy_from_slice(&bytes[..32]);
        Self {
            slot,
            name: Name(name),
            starting_block: u64_at(32),
            reserved_blocks: u64_at(40),
            file_size: u64_at(48),
        }
    }

    /// Writes the entry into its 64 bytes as BareMetal's tool does when it creates a
    /// file: the name and its NUL, then the three fields. Name bytes after the NUL and
    /// the unused word keep what a deleted entry left there, so images stay identical
    /// to the reference tool's byte for byte.
    pub(crate) fn encode(&self, bytes: &mut [u8]) {
        let name = self.name.as_bytes();
        bytes[..name.len()].copy_from_slice(name);
        bytes[name.len()] = 0;
        bytes[32..40].copy_from_slice(&self.starting_block.to_le_bytes());
        bytes[40..48].copy_from_slice(&self.reserved_blocks.to_le_bytes());
        bytes[48..56].copy_from_slice(&self.file_size.to_le_bytes());
    }

    /// One past the last reserved block, `None` if that overflows.
    pub fn end_block(&self) -> Option<u64> {
        self.starting_block.checked_add(self.reserved_blocks)
    }
}
