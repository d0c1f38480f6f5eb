//! Reading the fixed-size ELF64 records (file header, program headers, dynamic entries,
//! relocations) from bytes, little-endian, with bounds checked.

use crate::ElfError;

/// `ET_EXEC`: a fixed-address executable.
pub const ET_EXEC: u16 = 2;
/// `ET_DYN`: position-independent (a static PIE when it has no interpreter).
pub const ET_DYN: u16 = 3;
/// `EM_X86_64`.
pub const EM_X86_64: u16 = 62;
/// Size of an ELF64 file header.
pub const FILE_HEADER_BYTES: usize = 64;
/// Size of an ELF64 program header.
pub const PROGRAM_HEADER_BYTES: usize = 56;

pub const PT_LOAD: u32 = 1;
pub const PT_DYNAMIC: u32 = 2;
pub const PT_INTERP: u32 = 3;
pub const PT_NOTE: u32 = 4;
pub const PT_PHDR: u32 = 6;
/// Executable segment flag.
pub const PF_X: u32 = 1;

/// The parts of the file header the loader uses.
#[derive(Debug, Clone, Copy)]
pub struct FileHeader {
    pub kind: u16,
    pub entry: u64,
    pub program_headers: u64,
    pub program_header_count: u16,
}

/// One program header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgramHeader {
    pub kind: u32,
    pub flags: u32,
    pub offset: u64,
    pub address: u64,
    pub file_bytes: u64,
    pub memory_bytes: u64,
    pub align: u64,
}

/// `len` bytes of `file` at `offset`, or `Truncated { what }`.
pub fn bytes_at<'a>(
    file: &'a [u8],
    offset: u64,
    len: u64,
    what: &'static str,
) -> Result<&'a [u8], ElfError> {
    let start = usize::try_from(offset).map_err(|_| ElfError::Truncated { what })?;
    let len = usize::try_from(len).map_err(|_| ElfError::Truncated { what })?;
    let end = start.checked_add(len).ok_or(ElfError::Truncated { what })?;
    file.get(start..end).ok_or(ElfError::Truncated { what })
}

pub fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

pub fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap_or([0; 4]))
}

pub fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or([0; 8]))
}

/// Reads and checks the file header: ELF64, little-endian, version 1, x86-64,
/// executable or PIE, program headers of the ELF64 size.
pub fn file_header(file: &[u8]) -> Result<FileHeader, ElfError> {
    let header = bytes_at(file, 0, FILE_HEADER_BYTES as u64, "file header")?;
    if !header.starts_with(&crate::ELF_MAGIC) {
        let magic = u64::from(u32_at(header, 0));
        return Err(ElfError::BadHeader { field: "magic", value: magic });
    }
    let checks: [(&'static str, u64, u64); 4] = [
        ("class (2 = 64-bit)", header[4].into(), 2),
        ("data encoding (1 = little-endian)", header[5].into(), 1),
        ("ident version", header[6].into(), 1),
        ("machine (62 = x86-64)", u16_at(header, 18).into(), u64::from(EM_X86_64)),
    ];
    for (field, value, wanted) in checks {
        if value != wanted {
            return Err(ElfError::BadHeader { field, value });
        }
    }
    let kind = u16_at(header, 16);
    if kind != ET_EXEC && kind != ET_DYN {
        return Err(ElfError::BadHeader {
            field: "type (2 = executable, 3 = PIE)",
            value: kind.into(),
        });
    }
    let program_header_size = u16_at(header, 54);
    if usize::from(program_header_size) != PROGRAM_HEADER_BYTES {
        return Err(ElfError::BadHeader {
            field: "program header size",
            value: program_header_size.into(),
        });
    }
    Ok(FileHeader {
        kind,
        entry: u64_at(header, 24),
        program_headers: u64_at(header, 32),
        program_header_count: u16_at(header, 56),
    })
}

/// Reads program header `index` (the table lies in the file: checked by the caller).
pub fn program_header(table: &[u8], index: usize) -> ProgramHeader {
    let at = index * PROGRAM_HEADER_BYTES;
    let bytes = &table[at..at + PROGRAM_HEADER_BYTES];
    ProgramHeader {
        kind: u32_at(bytes, 0),
        flags: u32_at(bytes, 4),
        offset: u64_at(bytes, 8),
        address: u64_at(bytes, 16),
        file_bytes: u64_at(bytes, 32),
        memory_bytes: u64_at(bytes, 40),
        align: u64_at(bytes, 48),
    }
}
