//! Why an ELF file is refused: one variant per check, each printed as a clear line.

use core::fmt;

/// Why an ELF file cannot be loaded. Nothing in the window was changed when one is returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElfError {
    /// The file is shorter than what a header says is in it.
    Truncated {
        /// What was being read.
        what: &'static str,
    },
    /// A field of the file header has a value the loader does not accept.
    BadHeader {
        /// The field.
        field: &'static str,
        /// Its value.
        value: u64,
    },
    /// The file needs something the loader does not do (an interpreter, other relocations).
    Unsupported {
        /// What.
        what: &'static str,
        /// The value that asked for it (a type number or tag).
        value: u64,
    },
    /// A program header is inconsistent (file size above memory size, bad alignment).
    BadSegment {
        /// Index of the program header.
        index: usize,
        /// What is wrong.
        why: &'static str,
    },
    /// Two loadable segments share bytes of memory.
    Overlap {
        /// Index of the first segment.
        first: usize,
        /// Index of the second.
        second: usize,
    },
    /// A segment does not lie in the program window (or leaves no room for the stack).
    OutsideWindow {
        /// Index of the program header.
        index: usize,
        /// Its first address after relocation.
        address: u64,
        /// Its size in memory.
        bytes: u64,
    },
    /// The entry point is not in an executable loaded segment.
    EntryOutside {
        /// The entry point after relocation.
        entry: u64,
    },
    /// A relocation writes outside the loaded segments.
    BadRelocation {
        /// Index of the relocation.
        index: usize,
        /// The address it would write.
        address: u64,
    },
    /// No `PT_LOAD` segment.
    NothingToLoad,
    /// The segments cannot be moved into place within the buffer without a segment's
    /// destination covering file bytes still to be moved.
    NotInPlaceLoadable {
        /// Index of the program header.
        index: usize,
    },
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Truncated { what } => write!(f, "truncated: the file ends inside its {what}"),
            Self::BadHeader { field, value } => write!(f, "bad ELF header: {field} = {value:#x}"),
            Self::Unsupported { what, value } => write!(f, "unsupported: {what} ({value:#x})"),
            Self::BadSegment { index, why } => write!(f, "program header {index}: {why}"),
            Self::Overlap { first, second } => {
                write!(f, "program headers {first} and {second} overlap in memory")
            }
            Self::OutsideWindow { index, address, bytes } => write!(
                f,
                "program header {index}: {bytes:#x} bytes at {address:#x} do not fit the program window"
            ),
            Self::EntryOutside { entry } => {
                write!(f, "entry point {entry:#x} is not in an executable loaded segment")
            }
            Self::BadRelocation { index, address } => {
                write!(f, "relocation {index} writes at {address:#x}, outside the loaded segments")
            }
            Self::NothingToLoad => write!(f, "no loadable segment"),
            Self::NotInPlaceLoadable { index } => write!(
                f,
                "program header {index}: its file bytes lie after its place in memory (cannot load in place)"
            ),
        }
    }
}
