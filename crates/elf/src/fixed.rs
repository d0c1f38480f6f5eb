//! Fixed-address executables linked below the program window, such as what plain
//! `musl-gcc -static` makes (`ET_EXEC` at 0x400000): where they must lie, and loading
//! them from the file (in the window) into that separate memory.
//!
//! The kernel learns the range at boot from the module's first bytes
//! ([`fixed_image_range`]), sets the RAM there aside before it allocates anything, and
//! later loads the file into it with [`load_into`], which runs every check of
//! [`crate::plan`] against that range instead of the window.

use crate::check::plan;
use crate::header::{
    ET_EXEC, PROGRAM_HEADER_BYTES, PT_LOAD, bytes_at, file_header, program_header,
};
use crate::load::apply_relocations;
use crate::{ElfError, Loaded};

/// Page size the range is rounded out to.
const PAGE: u64 = 4096;

/// The page-rounded range `[start, end)` a fixed-address executable (`ET_EXEC`) asks
/// for, when all of its loadable segments end at or below `limit` (the window's base):
/// read from the file's first bytes `head` (the file header and program headers must be
/// in them). `None` for anything else (a PIE, an executable inside the window, a file
/// that is not ELF, headers beyond `head`, a segment that wraps); the full checks run
/// when the file is loaded.
pub fn fixed_image_range(head: &[u8], limit: u64) -> Option<(u64, u64)> {
    let header = file_header(head).ok()?;
    if header.kind != ET_EXEC || header.program_header_count == 0 {
        return None;
    }
    let count = usize::from(header.program_header_count);
    let table =
        bytes_at(head, header.program_headers, (count * PROGRAM_HEADER_BYTES) as u64, "").ok()?;
    let mut range: Option<(u64, u64)> = None;
    for index in 0..count {
        let segment = program_header(table, index);
        if segment.kind != PT_LOAD || segment.memory_bytes == 0 {
            continue;
        }
        let end = segment.address.checked_add(segment.memory_bytes)?;
        let (start, end) = (segment.address / PAGE * PAGE, end.checked_next_multiple_of(PAGE)?);
        range = Some(range.map_or((start, end), |(low, high)| (low.min(start), high.max(end))));
    }
    range.filter(|&(_, end)| end <= limit)
}

/// Loads the ELF file `file` into `image`, the memory at `image_base` set aside for it
/// (see [`fixed_image_range`]): every check of [`crate::plan`] runs first, with `image`
/// standing for the window, so a file that does not fit it, or fails any other check,
/// is refused and `image` is left unchanged. Then `image` is cleared, each segment's
/// bytes are copied to their place and relocations (of a PIE) applied.
pub fn load_into(file: &[u8], image: &mut [u8], image_base: u64) -> Result<Loaded, ElfError> {
    let plan = plan(file, image_base, image.len() as u64)?;
    image.fill(0);
    for placement in &plan.placements {
        // The plan checked every range against the file and the image.
        let source = placement.source as usize;
        let destination = placement.destination as usize;
        let file_bytes = placement.file_bytes as usize;
        image[destination..destination + file_bytes]
            .copy_from_slice(&file[source..source + file_bytes]);
    }
    apply_relocations(image, &plan, image_base);
    Ok(plan)
}
