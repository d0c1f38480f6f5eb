//! Preparing a loaded boot module to run: a flat binary as it is, an ELF file placed
//! and relocated by `ingot-elf` (a Linux one with the `syscall` entry enabled); then
//! the start stack with the program's arguments.

use alloc::vec::Vec;

use ingot_arch::program::Entry;
use ingot_elf::stack::{
    AT_ENTRY, AT_INGOT_API, AT_PAGESZ, AT_PHDR, AT_PHENT, AT_PHNUM, StartStack,
};
use ingot_elf::{Abi, ElfError};
use ingot_platform::program_memory::{PROGRAM_STACK_BYTES, ProgramMemory};

/// Size of one ELF64 program header (`AT_PHENT`).
const PROGRAM_HEADER_BYTES: u64 = 56;
/// The environment every program starts with.
const ENVIRONMENT: [&str; 2] = ["HOME=/", "TERM=vt100"];

/// A program ready to enter.
pub struct Prepared {
    /// Its entry point.
    pub entry: u64,
    /// How to enter it.
    pub convention: Entry,
    /// The stack block: stack pointer, argc, argv.
    pub start: StartStack,
}

/// Why a loaded module cannot run.
pub enum LoadError {
    /// The ELF loader refused the file.
    Elf(ElfError),
    /// Something else, said in words.
    Other(&'static str),
}

impl core::fmt::Display for LoadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Elf(error @ ElfError::OutsideWindow { .. }) => write!(
                f,
                "ELF file refused: {error} (link a fixed-address program at {:#x}, or as a static PIE)",
                ingot_abi::PROGRAM_BASE
            ),
            Self::Elf(error) => write!(f, "ELF file refused: {error}"),
            Self::Other(why) => f.write_str(why),
        }
    }
}

/// Prepares the module just copied to the window's start (`file_len` bytes) to run
/// with `args` (the first is the program's name).
pub fn prepare(
    window: &ProgramMemory,
    file_len: u64,
    args: &[&str],
    api_table: u64,
) -> Result<Prepared, LoadError> {
    let base = window.base();
    let mut magic = [0u8; 4];
    let head = &mut magic[..file_len.min(4) as usize];
    window.read_into(base, head).map_err(|_| LoadError::Other("window"))?;
    let head = &*head;
    let mut auxv: Vec<(u64, u64)> = alloc::vec![(AT_PAGESZ, 4096), (AT_INGOT_API, api_table)];
    let (entry, convention) = if ingot_elf::is_elf(head) {
        let image_bytes = window.guard_start() - base;
        let fixed = window.fixed_image();
        let loaded = match fixed {
            Some((start, _)) => window.prepare_fixed_image(file_len, |file, image| {
                ingot_elf::load_into(file, image, start)
            }),
            None => window.prepare_with(base, image_bytes, |buffer| {
                ingot_elf::load_in_place(buffer, file_len as usize, base)
            }),
        }
        .map_err(|_| LoadError::Other("window"))?
        .map_err(LoadError::Elf)?;
        crate::println!(
            "ingot: program elf {} entry={:#x} image={:#x}-{:#x}",
            if loaded.bias == 0 { "executable" } else { "pie" },
            loaded.entry,
            fixed.map_or(base, |(start, _)| start),
            loaded.image_end
        );
        if let Some(headers) = loaded.program_headers {
            auxv.push((AT_PHDR, headers));
            auxv.push((AT_PHENT, PROGRAM_HEADER_BYTES));
            auxv.push((AT_PHNUM, loaded.program_header_count.into()));
        }
        let convention = match loaded.abi {
            Abi::Ingot => Entry::Native,
            Abi::Linux => {
                crate::println!("ingot: program is a Linux program: system calls through syscall");
                // A fixed image's break starts in the window: the file there is no
                // longer needed once it is loaded.
                let break_start = fixed.map_or(loaded.image_end, |_| base);
                crate::linux::enable(window, break_start, PROGRAM_STACK_BYTES);
                Entry::Linux
            }
        };
        (loaded.entry, convention)
    } else {
        (base, Entry::Native)
    };
    auxv.push((AT_ENTRY, entry));
    let top = window.stack_top();
    let start = window
        .prepare_with(top - PROGRAM_STACK_BYTES, PROGRAM_STACK_BYTES, |stack| {
            ingot_elf::stack::build(stack, top, args, &ENVIRONMENT, &auxv, random_bytes())
        })
        .map_err(|_| LoadError::Other("window"))?
        .map_err(|_| LoadError::Other("the program's arguments do not fit half of its stack"))?;
    Ok(Prepared { entry, convention, start })
}

/// The start block of a program run by `program_run_args` (a flat binary, entered
/// natively) whose stack ends at `top`: `args` as its argv, the usual environment and
/// `AT_PAGESZ`, `AT_INGOT_API`, `AT_ENTRY`. Built in a kernel buffer that is the top
/// `PROGRAM_STACK_BYTES` of that stack, only its used end to be copied there.
pub fn nested_start_block(
    top: u64,
    args: &[&str],
    api_table: u64,
) -> Result<(Vec<u8>, StartStack), LoadError> {
    let auxv = [(AT_PAGESZ, 4096), (AT_INGOT_API, api_table), (AT_ENTRY, ingot_abi::PROGRAM_BASE)];
    let mut stack = alloc::vec![0u8; PROGRAM_STACK_BYTES as usize];
    let start = ingot_elf::stack::build(&mut stack, top, args, &ENVIRONMENT, &auxv, random_bytes())
        .map_err(|_| LoadError::Other("the program's arguments do not fit half of its stack"))?;
    let used_from = (start.pointer - (top - PROGRAM_STACK_BYTES)) as usize;
    Ok((stack.split_off(used_from), start))
}

/// 16 bytes for `AT_RANDOM`: the TSC stirred with SplitMix64. Not secret (the TSC can be
/// guessed), but different on every boot, which is what C libraries use it for.
fn random_bytes() -> [u8; 16] {
    let mut state = crate::time::now_ns() ^ 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&next().to_le_bytes());
    bytes[8..].copy_from_slice(&next().to_le_bytes());
    bytes
}
