//! What can be wrong with firmware tables: [`AcpiError`] when nothing can be parsed,
//! [`TableProblem`] for one table that was skipped or only partly understood.

use core::fmt;

/// What was wrong with one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProblemKind {
    /// The table (or part of it) lies in memory that cannot be read.
    #[default]
    Unreadable,
    /// The length field is shorter than a header or longer than
    /// [`MAX_TABLE_LENGTH`](crate::MAX_TABLE_LENGTH); the table was skipped.
    BadLength,
    /// The bytes do not sum to zero; the table was skipped.
    BadChecksum,
    /// A table pointer leads to a table with another signature; it was skipped.
    WrongSignature,
    /// The table's body is inconsistent (truncated entry, zero-length entry, field
    /// outside the table); what came before the damage was kept.
    Malformed,
    /// A second copy of a table already parsed; the first one was kept.
    Duplicate,
    /// The table lists more entries than the fixed-capacity lists hold; the extra
    /// entries were counted and dropped.
    CapacityExceeded,
}

impl ProblemKind {
    /// A short description for log lines.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Unreadable => "unreadable",
            Self::BadLength => "bad length",
            Self::BadChecksum => "bad checksum",
            Self::WrongSignature => "wrong signature",
            Self::Malformed => "malformed",
            Self::Duplicate => "duplicate",
            Self::CapacityExceeded => "more entries than capacity",
        }
    }
}

/// One table that was skipped or only partly parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TableProblem {
    /// The table's signature, if its header could be read.
    pub signature: Option<[u8; 4]>,
    /// Physical address of the table.
    pub address: u64,
    /// What was wrong.
    pub kind: ProblemKind,
}

impl fmt::Display for TableProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.signature {
            Some(signature) => {
                for &byte in &signature {
                    let shown = if byte.is_ascii_graphic() { byte as char } else { '?' };
                    write!(f, "{shown}")?;
                }
            }
            None => f.write_str("table")?,
        }
        write!(f, " at {:#x}: {}", self.address, self.kind.describe())
    }
}

/// Why no ACPI information could be parsed at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcpiError {
    /// The RSDP address cannot be read.
    RsdpUnreadable,
    /// No "RSD PTR " signature at the RSDP address.
    RsdpBadSignature,
    /// The RSDP's checksum (first 20 bytes) or extended checksum is wrong.
    RsdpBadChecksum,
    /// A revision 2+ RSDP states a length below 36 bytes or above 4 KiB.
    RsdpBadLength,
    /// The RSDP points to neither an XSDT nor an RSDT.
    NoRootTable,
    /// The root table (XSDT, or the RSDT fallback) cannot be used.
    RootTable(TableProblem),
}

impl fmt::Display for AcpiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RsdpUnreadable => f.write_str("RSDP unreadable"),
            Self::RsdpBadSignature => f.write_str("no RSDP signature"),
            Self::RsdpBadChecksum => f.write_str("RSDP checksum wrong"),
            Self::RsdpBadLength => f.write_str("RSDP length invalid"),
            Self::NoRootTable => f.write_str("RSDP has no RSDT or XSDT address"),
            Self::RootTable(problem) => write!(f, "root table unusable: {problem}"),
        }
    }
}
