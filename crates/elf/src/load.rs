//! Carrying out a [`Plan`] in one buffer: the file at its start becomes the loaded image.

use crate::check::{R_X86_64_RELATIVE, plan};
use crate::header::u64_at;
use crate::{ElfError, Plan};

/// What was loaded: the checked plan, now carried out.
pub type Loaded = Plan;

/// Loads the ELF file held in `buffer[..file_len]` in place: `buffer` is the program
/// window from its first byte (`window_base`) up to where the stack begins. Every check
/// runs before the first byte moves, so on an error `buffer` is unchanged.
pub fn load_in_place(
    buffer: &mut [u8],
    file_len: usize,
    window_base: u64,
) -> Result<Loaded, ElfError> {
    let file = buffer.get(..file_len).ok_or(ElfError::Truncated { what: "window" })?;
    let plan = plan(file, window_base, buffer.len() as u64)?;
    for placement in &plan.placements {
        // The plan checked every range against the file and the buffer.
        let source = placement.source as usize;
        let destination = placement.destination as usize;
        let file_bytes = placement.file_bytes as usize;
        let memory_bytes = placement.memory_bytes as usize;
        buffer.copy_within(source..source + file_bytes, destination);
        buffer[destination + file_bytes..destination + memory_bytes].fill(0);
    }
    apply_relocations(buffer, &plan, window_base);
    Ok(plan)
}

/// Applies `plan`'s relocations to `image`, the loaded segments at `image_base`.
pub(crate) fn apply_relocations(image: &mut [u8], plan: &Plan, image_base: u64) {
    for table in &plan.relocations {
        for index in 0..table.count {
            let at = (table.table + index * 24) as usize;
            let target = u64_at(image, at);
            let kind = (u64_at(image, at + 8) & 0xFFFF_FFFF) as u32;
            let addend = u64_at(image, at + 16);
            if kind == R_X86_64_RELATIVE {
                let place = (target.wrapping_add(plan.bias) - image_base) as usize;
                let value = plan.bias.wrapping_add(addend);
                image[place..place + 8].copy_from_slice(&value.to_le_bytes());
            }
        }
    }
}
