//! Every check of an ELF file, done before anything is moved: the result is a [`Plan`]
//! that [`crate::load_in_place`] only carries out.

use alloc::vec::Vec;

use crate::ElfError;
use crate::header::{
    ET_DYN, PF_X, PROGRAM_HEADER_BYTES, PT_DYNAMIC, PT_INTERP, PT_LOAD, PT_NOTE, PT_PHDR,
    ProgramHeader, bytes_at, file_header, program_header, u32_at, u64_at,
};

/// More program headers than this are refused (real programs have fewer than 16).
pub const MAX_PROGRAM_HEADERS: u16 = 64;
/// Size of an `Elf64_Rela` record.
const RELA_BYTES: u64 = 24;
const DT_NULL: u64 = 0;
const DT_NEEDED: u64 = 1;
const DT_PLTRELSZ: u64 = 2;
const DT_RELA: u64 = 7;
const DT_RELASZ: u64 = 8;
const DT_RELAENT: u64 = 9;
const DT_REL: u64 = 17;
const DT_JMPREL: u64 = 23;
const DT_RELR: u64 = 36;
/// `R_X86_64_NONE`, skipped.
pub const R_X86_64_NONE: u32 = 0;
/// `R_X86_64_RELATIVE`: the word becomes load bias + addend.
pub const R_X86_64_RELATIVE: u32 = 8;

/// How the program expects to be entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Abi {
    /// Carries the Ingot note: called like a flat program (`docs/api.md`).
    Ingot,
    /// No Ingot note: a Linux program, entered with the Linux start stack.
    Linux,
}

/// One segment's move: `file_bytes` from `source` to `destination` (offsets in the load
/// buffer), then `memory_bytes - file_bytes` zeros after them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// Offset of the segment's bytes in the file (= in the buffer before loading).
    pub source: u64,
    /// Offset of its place in the buffer (its address minus the window base).
    pub destination: u64,
    /// Bytes taken from the file.
    pub file_bytes: u64,
    /// Bytes in memory (the rest is `.bss`, cleared).
    pub memory_bytes: u64,
}

/// A `RELA` table to apply after the segments are in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relocations {
    /// Offset of the table in the loaded buffer.
    pub table: u64,
    /// Number of entries.
    pub count: u64,
}

/// What loading the file means, every check passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// How to enter it.
    pub abi: Abi,
    /// Added to every link-time address (0 for a fixed-address executable).
    pub bias: u64,
    /// The entry point's address in the window.
    pub entry: u64,
    /// Segment moves, in the order they must be done.
    pub placements: Vec<Placement>,
    /// Relocation tables (a static PIE's `.rela.dyn` and `.rela.plt`).
    pub relocations: Vec<Relocations>,
    /// Where the program headers are in memory, if a loaded segment holds them.
    pub program_headers: Option<u64>,
    /// Number of program headers.
    pub program_header_count: u16,
    /// First address past the loaded image.
    pub image_end: u64,
}

/// Checks `file` for loading into a window at `window_base` whose first `window_bytes`
/// the program image may use, and returns how to load it.
pub fn plan(file: &[u8], window_base: u64, window_bytes: u64) -> Result<Plan, ElfError> {
    let header = file_header(file)?;
    if header.program_header_count == 0 || header.program_header_count > MAX_PROGRAM_HEADERS {
        return Err(ElfError::BadHeader {
            field: "program header count",
            value: header.program_header_count.into(),
        });
    }
    let count = usize::from(header.program_header_count);
    let table = bytes_at(
        file,
        header.program_headers,
        (count * PROGRAM_HEADER_BYTES) as u64,
        "program headers",
    )?;
    let headers: Vec<ProgramHeader> = (0..count).map(|i| program_header(table, i)).collect();

    let mut loads = Vec::new();
    for (index, segment) in headers.iter().enumerate() {
        match segment.kind {
            PT_INTERP => {
                return Err(ElfError::Unsupported {
                    what: "dynamically linked (PT_INTERP): link it statically",
                    value: PT_INTERP.into(),
                });
            }
            PT_LOAD => {
                check_segment(file, index, segment)?;
                if segment.memory_bytes > 0 {
                    loads.push((index, *segment));
                }
            }
            _ => {}
        }
    }
    if loads.is_empty() {
        return Err(ElfError::NothingToLoad);
    }
    sort_by_address(&mut loads);
    for pair in loads.windows(2) {
        let ((first, a), (second, b)) = (pair[0], pair[1]);
        if a.address + a.memory_bytes > b.address {
            return Err(ElfError::Overlap { first, second });
        }
    }

    let bias = if header.kind == ET_DYN {
        let max_align = loads.iter().map(|(_, s)| s.align.max(1)).max().unwrap_or(1);
        if !window_base.is_multiple_of(max_align) {
            return Err(ElfError::BadSegment {
                index: loads[0].0,
                why: "alignment above the window's",
            });
        }
        window_base.wrapping_sub(loads[0].1.address & !(max_align - 1))
    } else {
        0
    };
    let window_end = window_base.checked_add(window_bytes).ok_or(ElfError::OutsideWindow {
        index: 0,
        address: window_base,
        bytes: window_bytes,
    })?;
    let mut placements = Vec::with_capacity(loads.len());
    for &(index, segment) in &loads {
        let address = segment.address.wrapping_add(bias);
        let outside = ElfError::OutsideWindow { index, address, bytes: segment.memory_bytes };
        let end = address.checked_add(segment.memory_bytes).ok_or(outside)?;
        if address < window_base || end > window_end {
            return Err(outside);
        }
        placements.push(Placement {
            source: segment.offset,
            destination: address - window_base,
            file_bytes: segment.file_bytes,
            memory_bytes: segment.memory_bytes,
        });
    }
    let placements = move_order(placements, &loads)?;

    let entry = header.entry.wrapping_add(bias);
    let entry_loaded = loads.iter().any(|(_, s)| {
        s.flags & PF_X != 0 && (s.address..s.address + s.memory_bytes).contains(&header.entry)
    });
    if !entry_loaded {
        return Err(ElfError::EntryOutside { entry });
    }

    let relocations = if header.kind == ET_DYN {
        relocation_tables(file, &headers, &loads, bias, window_base)?
    } else {
        Vec::new()
    };
    let table_bytes = u64::from(header.program_header_count) * PROGRAM_HEADER_BYTES as u64;
    let program_headers = headers
        .iter()
        .find(|s| s.kind == PT_PHDR)
        .map(|s| s.address.wrapping_add(bias))
        .or_else(|| {
            loads.iter().find_map(|(_, s)| {
                let inside = header.program_headers >= s.offset
                    && header.program_headers + table_bytes <= s.offset + s.file_bytes;
                inside.then(|| (s.address + (header.program_headers - s.offset)).wrapping_add(bias))
            })
        });
    let last = loads[loads.len() - 1].1;
    Ok(Plan {
        abi: if has_ingot_note(file, &headers) { Abi::Ingot } else { Abi::Linux },
        bias,
        entry,
        placements,
        relocations,
        program_headers,
        program_header_count: header.program_header_count,
        image_end: (last.address + last.memory_bytes).wrapping_add(bias),
    })
}

/// Orders the moves so that none covers file bytes of a segment still to be moved: each
/// step takes a segment whose destination (with its `.bss`) touches no other pending
/// segment's source. Files whose segments lie at a constant shift from their places,
/// up or down, always have such an order.
fn move_order(
    mut pending: Vec<Placement>,
    loads: &[(usize, ProgramHeader)],
) -> Result<Vec<Placement>, ElfError> {
    let mut indices: Vec<usize> = loads.iter().map(|(index, _)| *index).collect();
    let mut order = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let clobbers = |mover: &Placement, other: &Placement| {
            other.file_bytes > 0
                && other.source < mover.destination + mover.memory_bytes
                && mover.destination < other.source + other.file_bytes
        };
        let free = (0..pending.len())
            .find(|&i| (0..pending.len()).all(|j| i == j || !clobbers(&pending[i], &pending[j])));
        let Some(next) = free else {
            return Err(ElfError::NotInPlaceLoadable { index: indices[0] });
        };
        order.push(pending.remove(next));
        indices.remove(next);
    }
    Ok(order)
}

fn check_segment(file: &[u8], index: usize, segment: &ProgramHeader) -> Result<(), ElfError> {
    if segment.file_bytes > segment.memory_bytes {
        return Err(ElfError::BadSegment { index, why: "file size above memory size" });
    }
    bytes_at(file, segment.offset, segment.file_bytes, "segment data")?;
    if segment.align > 1 {
        if !segment.align.is_power_of_two() {
            return Err(ElfError::BadSegment { index, why: "alignment is not a power of two" });
        }
        if segment.address % segment.align != segment.offset % segment.align {
            return Err(ElfError::BadSegment {
                index,
                why: "address and offset disagree modulo alignment",
            });
        }
    }
    if segment.address.checked_add(segment.memory_bytes).is_none() {
        return Err(ElfError::BadSegment { index, why: "address + memory size wraps" });
    }
    Ok(())
}

/// The segment holding link-time range `[address, address + len)` in its file bytes.
fn file_backed(loads: &[(usize, ProgramHeader)], address: u64, len: u64) -> Option<&ProgramHeader> {
    loads.iter().map(|(_, s)| s).find(|s| {
        address >= s.address
            && address.checked_add(len).is_some_and(|end| end <= s.address + s.file_bytes)
    })
}

fn relocation_tables(
    file: &[u8],
    headers: &[ProgramHeader],
    loads: &[(usize, ProgramHeader)],
    bias: u64,
    window_base: u64,
) -> Result<Vec<Relocations>, ElfError> {
    let Some(dynamic) = headers.iter().find(|s| s.kind == PT_DYNAMIC) else {
        return Ok(Vec::new());
    };
    let entries = bytes_at(file, dynamic.offset, dynamic.file_bytes, "dynamic section")?;
    let (mut rela, mut rela_bytes, mut rela_entry) = (None, 0, RELA_BYTES);
    let (mut plt, mut plt_bytes) = (None, 0);
    for entry in entries.as_chunks::<16>().0 {
        let (tag, value) = (u64_at(entry, 0), u64_at(entry, 8));
        match tag {
            DT_NULL => break,
            DT_NEEDED => {
                return Err(ElfError::Unsupported {
                    what: "needs a shared library (DT_NEEDED)",
                    value: tag,
                });
            }
            DT_REL | DT_RELR => {
                return Err(ElfError::Unsupported {
                    what: "REL/RELR relocations (only RELA)",
                    value: tag,
                });
            }
            DT_RELA => rela = Some(value),
            DT_RELASZ => rela_bytes = value,
            DT_RELAENT => rela_entry = value,
            DT_JMPREL => plt = Some(value),
            DT_PLTRELSZ => plt_bytes = value,
            _ => {}
        }
    }
    if rela_entry != RELA_BYTES {
        return Err(ElfError::Unsupported { what: "relocation entry size", value: rela_entry });
    }
    let mut tables = Vec::new();
    for (address, bytes) in [(rela, rela_bytes), (plt, plt_bytes)] {
        let Some(address) = address else { continue };
        if bytes == 0 {
            continue;
        }
        let segment = file_backed(loads, address, bytes)
            .ok_or(ElfError::Truncated { what: "relocation table" })?;
        let offset = segment.offset + (address - segment.address);
        let records = bytes_at(file, offset, bytes, "relocation table")?;
        let table_start = address;
        for (index, record) in records.as_chunks::<{ RELA_BYTES as usize }>().0.iter().enumerate() {
            let (target, info) = (u64_at(record, 0), u64_at(record, 8));
            let kind = (info & 0xFFFF_FFFF) as u32;
            match kind {
                R_X86_64_NONE => continue,
                R_X86_64_RELATIVE => {}
                _ => {
                    return Err(ElfError::Unsupported {
                        what: "relocation type",
                        value: kind.into(),
                    });
                }
            }
            let inside = loads.iter().any(|(_, s)| {
                target >= s.address
                    && target.checked_add(8).is_some_and(|end| end <= s.address + s.memory_bytes)
            });
            let hits_table = target < table_start + bytes && table_start < target.wrapping_add(8);
            if !inside || hits_table {
                return Err(ElfError::BadRelocation { index, address: target.wrapping_add(bias) });
            }
        }
        tables.push(Relocations {
            table: address.wrapping_add(bias) - window_base,
            count: bytes / RELA_BYTES,
        });
    }
    Ok(tables)
}

/// Whether a `PT_NOTE` segment holds the note `Ingot` of type 1.
fn has_ingot_note(file: &[u8], headers: &[ProgramHeader]) -> bool {
    headers.iter().filter(|s| s.kind == PT_NOTE).any(|s| {
        let Ok(mut notes) = bytes_at(file, s.offset, s.file_bytes, "note") else {
            return false;
        };
        while notes.len() >= 12 {
            let name_bytes = u32_at(notes, 0) as usize;
            let desc_bytes = u32_at(notes, 4) as usize;
            let kind = u32_at(notes, 8);
            let name_end = 12 + name_bytes;
            let next = name_end.next_multiple_of(4).saturating_add(desc_bytes.next_multiple_of(4));
            if notes.get(12..name_end) == Some(crate::INGOT_NOTE_NAME)
                && kind == crate::INGOT_NOTE_TYPE
            {
                return true;
            }
            let Some(rest) = notes.get(next..) else { return false };
            notes = rest;
        }
        false
    })
}

/// Sorts segments by address, then index (so equal addresses keep file order). A heap
/// sort: O(n log n) for any number of headers a file claims, and a few hundred bytes
/// of code where core's sorts, monomorphised for this element, take kilobytes of the
/// kernel.
fn sort_by_address(loads: &mut [(usize, ProgramHeader)]) {
    let key = |load: &(usize, ProgramHeader)| (load.1.address, load.0);
    let sift_down = |loads: &mut [(usize, ProgramHeader)], mut root: usize, end: usize| loop {
        let mut child = 2 * root + 1;
        if child >= end {
            break;
        }
        if child + 1 < end && key(&loads[child]) < key(&loads[child + 1]) {
            child += 1;
        }
        if key(&loads[root]) >= key(&loads[child]) {
            break;
        }
        loads.swap(root, child);
        root = child;
    };
    for root in (0..loads.len() / 2).rev() {
        sift_down(loads, root, loads.len());
    }
    for end in (1..loads.len()).rev() {
        loads.swap(0, end);
        sift_down(loads, 0, end);
    }
}

#[cfg(test)]
mod sort_tests {
    use super::{ProgramHeader, sort_by_address};

    fn segment(address: u64) -> ProgramHeader {
        ProgramHeader {
            kind: 1,
            flags: 0,
            offset: 0,
            address,
            file_bytes: 0,
            memory_bytes: 1,
            align: 1,
        }
    }

    #[test]
    fn sorts_by_address_then_index_like_a_stable_sort() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for length in 0..40 {
            let mut loads: Vec<(usize, ProgramHeader)> = (0..length)
                .map(|index| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    (index, segment(state % 8 * 0x1000))
                })
                .collect();
            let mut expected = loads.clone();
            expected.sort_by_key(|(_, segment)| segment.address);
            sort_by_address(&mut loads);
            assert_eq!(loads, expected, "{length} segments");
        }
    }
}
