//! Host tests: ELF files built here byte by byte, loaded into a buffer standing for the
//! window, and the bytes read back.

use alloc::vec;
use alloc::vec::Vec;

use crate::stack::{AT_PAGESZ, AT_RANDOM, build};
use crate::{Abi, ElfError, load_in_place, plan};

const BASE: u64 = 0xFFFF_8000_0000_0000;
const WINDOW: usize = 0x40000;
const LOAD: u32 = 1;
const DYNAMIC: u32 = 2;
const INTERP: u32 = 3;
const NOTE: u32 = 4;
const RX: u32 = 5;
const RW: u32 = 6;

#[derive(Clone, Copy)]
struct Segment {
    kind: u32,
    flags: u32,
    offset: u64,
    address: u64,
    file_bytes: u64,
    memory_bytes: u64,
    align: u64,
}

fn load(offset: u64, address: u64, file_bytes: u64, memory_bytes: u64, flags: u32) -> Segment {
    Segment { kind: LOAD, flags, offset, address, file_bytes, memory_bytes, align: 0x1000 }
}

/// An ELF file of `len` bytes: header, program headers at 64, then `body` patches.
fn elf(kind: u16, entry: u64, segments: &[Segment], len: usize) -> Vec<u8> {
    let mut file = vec![0u8; len];
    file[..4].copy_from_slice(b"\x7fELF");
    file[4] = 2;
    file[5] = 1;
    file[6] = 1;
    file[16..18].copy_from_slice(&kind.to_le_bytes());
    file[18..20].copy_from_slice(&62u16.to_le_bytes());
    file[20..24].copy_from_slice(&1u32.to_le_bytes());
    file[24..32].copy_from_slice(&entry.to_le_bytes());
    file[32..40].copy_from_slice(&64u64.to_le_bytes());
    file[52..54].copy_from_slice(&64u16.to_le_bytes());
    file[54..56].copy_from_slice(&56u16.to_le_bytes());
    file[56..58].copy_from_slice(&(segments.len() as u16).to_le_bytes());
    for (i, s) in segments.iter().enumerate() {
        let at = 64 + i * 56;
        file[at..at + 4].copy_from_slice(&s.kind.to_le_bytes());
        file[at + 4..at + 8].copy_from_slice(&s.flags.to_le_bytes());
        for (j, value) in [s.offset, s.address, s.address, s.file_bytes, s.memory_bytes, s.align]
            .iter()
            .enumerate()
        {
            file[at + 8 + j * 8..at + 16 + j * 8].copy_from_slice(&value.to_le_bytes());
        }
    }
    file
}

fn put(file: &mut [u8], at: usize, value: u64) {
    file[at..at + 8].copy_from_slice(&value.to_le_bytes());
}

/// A window buffer holding `file` at its start and 0xAA garbage after it.
fn window_with(file: &[u8]) -> Vec<u8> {
    let mut buffer = vec![0xAA; WINDOW];
    buffer[..file.len()].copy_from_slice(file);
    buffer
}

/// A fixed executable: text (0x0..0x2000 of the file) at BASE, data (0x2000..0x2100 of
/// the file) at BASE + 0x3000 with 0x1F00 bytes of `.bss`.
fn fixed_executable() -> Vec<u8> {
    let segments =
        [load(0, BASE, 0x2000, 0x2000, RX), load(0x2000, BASE + 0x3000, 0x100, 0x2000, RW)];
    let mut file = elf(2, BASE + 0x1000, &segments, 0x2100);
    file[0x1000..0x1004].copy_from_slice(b"CODE");
    file[0x2000..0x2100].fill(0x5D);
    file
}

#[test]
fn fixed_executable_is_placed_and_bss_cleared() {
    let file = fixed_executable();
    let mut buffer = window_with(&file);
    let loaded = load_in_place(&mut buffer, file.len(), BASE).unwrap();
    assert_eq!(loaded.entry, BASE + 0x1000);
    assert_eq!(loaded.bias, 0);
    assert_eq!(loaded.abi, Abi::Linux);
    assert_eq!(loaded.program_headers, Some(BASE + 64));
    assert_eq!(loaded.image_end, BASE + 0x5000);
    assert_eq!(&buffer[0x1000..0x1004], b"CODE");
    assert!(buffer[0x3000..0x3100].iter().all(|&b| b == 0x5D));
    assert!(buffer[0x3100..0x5000].iter().all(|&b| b == 0), "bss cleared");
    assert!(buffer[0x5000..].iter().all(|&b| b == 0xAA), "nothing written past the image");
}

/// A static PIE linked at 0 with two RELATIVE relocations in `.rela.dyn` and a note.
fn static_pie(note: bool) -> Vec<u8> {
    let mut segments = vec![
        load(0, 0, 0x2000, 0x2000, RX),
        load(0x2000, 0x3000, 0x200, 0x1000, RW),
        Segment {
            kind: DYNAMIC,
            flags: RW,
            offset: 0x2100,
            address: 0x3100,
            file_bytes: 0x60,
            memory_bytes: 0x60,
            align: 8,
        },
    ];
    if note {
        segments.push(Segment {
            kind: NOTE,
            flags: 4,
            offset: 0x800,
            address: 0x800,
            file_bytes: 0x18,
            memory_bytes: 0x18,
            align: 4,
        });
    }
    let mut file = elf(3, 0x1000, &segments, 0x2200);
    // .rela.dyn at 0x1800 (in text): two RELATIVE, one NONE.
    let relocations = [(0x3008u64, 8u64, 0x1000u64), (0x3010, 8, 0x3020), (0, 0, 0)];
    for (i, (target, info, addend)) in relocations.iter().enumerate() {
        put(&mut file, 0x1800 + i * 24, *target);
        put(&mut file, 0x1808 + i * 24, *info);
        put(&mut file, 0x1810 + i * 24, *addend);
    }
    for (i, (tag, value)) in [(7u64, 0x1800u64), (8, 72), (9, 24), (0, 0)].iter().enumerate() {
        put(&mut file, 0x2100 + i * 16, *tag);
        put(&mut file, 0x2108 + i * 16, *value);
    }
    // The Ingot note: namesz 6, descsz 0, type 1, "Ingot\0" padded.
    if note {
        file[0x800..0x80C].copy_from_slice(&[6, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
        file[0x80C..0x812].copy_from_slice(b"Ingot\0");
    }
    file
}

/// As linkers lay out a program linked at the window's base without its headers in a
/// segment: every segment's file bytes lie one page above its place.
#[test]
fn segments_shifted_down_are_moved_lowest_first() {
    let segments =
        [load(0x1000, BASE, 0x2000, 0x2000, RX), load(0x3000, BASE + 0x2000, 0x800, 0x1000, RW)];
    let mut file = elf(2, BASE, &segments, 0x3800);
    for (i, byte) in file[0x1000..0x3800].iter_mut().enumerate() {
        *byte = (i % 251) as u8;
    }
    let mut buffer = window_with(&file);
    load_in_place(&mut buffer, file.len(), BASE).unwrap();
    for (i, byte) in buffer[..0x2800].iter().enumerate() {
        assert_eq!(*byte, (i % 251) as u8, "byte {i:#x}");
    }
    assert!(buffer[0x2800..0x3000].iter().all(|&b| b == 0));
    assert_eq!(plan(&file, BASE, WINDOW as u64).unwrap().program_headers, None);
}

#[test]
fn static_pie_is_relocated_to_the_window() {
    let file = static_pie(true);
    let mut buffer = window_with(&file);
    let loaded = load_in_place(&mut buffer, file.len(), BASE).unwrap();
    assert_eq!(loaded.bias, BASE);
    assert_eq!(loaded.entry, BASE + 0x1000);
    assert_eq!(loaded.abi, Abi::Ingot);
    let word = |at: usize| u64::from_le_bytes(buffer[at..at + 8].try_into().unwrap());
    assert_eq!(word(0x3008), BASE + 0x1000);
    assert_eq!(word(0x3010), BASE + 0x3020);
    assert!(buffer[0x3200..0x4000].iter().all(|&b| b == 0));
    assert_eq!(static_pie(false).as_slice().len(), file.len());
    let plain = static_pie(false);
    assert_eq!(plan(&plain, BASE, WINDOW as u64).unwrap().abi, Abi::Linux);
}

#[test]
fn every_truncation_is_refused_and_changes_nothing() {
    for file in [fixed_executable(), static_pie(true)] {
        for len in 0..file.len() {
            let mut buffer = window_with(&file[..len]);
            let before = buffer.clone();
            assert!(load_in_place(&mut buffer, len, BASE).is_err(), "prefix of {len} bytes");
            assert_eq!(buffer, before);
        }
    }
}

#[test]
fn bad_segments_are_refused() {
    let text = load(0, BASE, 0x1000, 0x1000, RX);
    let refused = |segments: &[Segment], entry: u64| {
        plan(&elf(2, entry, segments, 0x3000), BASE, WINDOW as u64)
    };
    assert_eq!(
        refused(&[text, load(0x1800, BASE + 0x800, 0x100, 0x100, RW)], BASE),
        Err(ElfError::Overlap { first: 0, second: 1 })
    );
    assert_eq!(
        refused(&[text], BASE + 0x1000),
        Err(ElfError::EntryOutside { entry: BASE + 0x1000 })
    );
    assert_eq!(
        refused(&[text, load(0x1000, BASE + 0x1000, 0x100, 0x100, RW)], BASE + 0x1000),
        Err(ElfError::EntryOutside { entry: BASE + 0x1000 }),
        "entry in a segment that is not executable"
    );
    assert_eq!(
        refused(&[load(0, BASE, 0x2000, 0x1000, RX)], BASE),
        Err(ElfError::BadSegment { index: 0, why: "file size above memory size" })
    );
    assert!(matches!(
        refused(&[load(0, BASE, 0x1000, u64::MAX - 0x10, RX)], BASE),
        Err(ElfError::BadSegment { .. })
    ));
    assert!(matches!(
        refused(&[load(0, BASE, 0x1000, WINDOW as u64 + 1, RX)], BASE),
        Err(ElfError::OutsideWindow { index: 0, .. })
    ));
    assert!(matches!(
        refused(&[load(0, 0x40_0000, 0x1000, 0x1000, RX)], 0x40_0000),
        Err(ElfError::OutsideWindow { .. })
    ));
    assert!(matches!(
        refused(&[load(0, BASE, 0x9000, 0x9000, RX)], BASE),
        Err(ElfError::Truncated { .. })
    ));
    let mut misaligned = text;
    misaligned.address += 0x10;
    assert!(matches!(refused(&[misaligned], BASE + 0x10), Err(ElfError::BadSegment { .. })));
    let interp = Segment { kind: INTERP, ..text };
    assert!(matches!(refused(&[interp, text], BASE), Err(ElfError::Unsupported { .. })));
    assert_eq!(refused(&[Segment { kind: NOTE, ..text }], BASE), Err(ElfError::NothingToLoad));
    // Two segments whose places are each other's file bytes: no order works.
    let low = load(0x2000, BASE, 0x1000, 0x1000, RX);
    let high = load(0, BASE + 0x2000, 0x1000, 0x1000, RW);
    assert!(matches!(refused(&[low, high], BASE), Err(ElfError::NotInPlaceLoadable { .. })));
}

#[test]
fn bad_headers_are_refused() {
    let good = fixed_executable();
    for (at, value) in [(4, 1u8), (5, 2), (6, 0), (16, 1), (18, 3), (54, 32), (56, 0), (57, 1)] {
        let mut file = good.clone();
        file[at] = value;
        assert!(plan(&file, BASE, WINDOW as u64).is_err(), "byte {at} = {value}");
    }
    let mut far = good.clone();
    put(&mut far, 32, u64::MAX - 8);
    assert!(matches!(plan(&far, BASE, WINDOW as u64), Err(ElfError::Truncated { .. })));
}

#[test]
fn bad_relocations_are_refused() {
    let mut outside = static_pie(false);
    put(&mut outside, 0x1800, 0x9000);
    assert_eq!(
        plan(&outside, BASE, WINDOW as u64),
        Err(ElfError::BadRelocation { index: 0, address: BASE + 0x9000 })
    );
    let mut on_table = static_pie(false);
    put(&mut on_table, 0x1800, 0x1818);
    assert!(matches!(plan(&on_table, BASE, WINDOW as u64), Err(ElfError::BadRelocation { .. })));
    let mut symbolic = static_pie(false);
    put(&mut symbolic, 0x1808, (1 << 32) | 1);
    assert!(matches!(plan(&symbolic, BASE, WINDOW as u64), Err(ElfError::Unsupported { .. })));
    let mut table_outside = static_pie(false);
    put(&mut table_outside, 0x2108, 0x7000);
    assert!(matches!(plan(&table_outside, BASE, WINDOW as u64), Err(ElfError::Truncated { .. })));
}

#[test]
fn random_damage_never_panics_and_a_refusal_changes_nothing() {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    for original in [fixed_executable(), static_pie(true)] {
        for _ in 0..3000 {
            let mut file = original.clone();
            for _ in 0..4 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let at = (seed as usize) % 0x200.min(file.len());
                file[at] = (seed >> 32) as u8;
            }
            let mut buffer = window_with(&file);
            let before = buffer.clone();
            if load_in_place(&mut buffer, file.len(), BASE).is_err() {
                assert_eq!(buffer, before);
            }
        }
    }
}

#[test]
fn start_stack_holds_arguments_environment_and_auxv() {
    let mut stack = vec![0u8; 4096];
    let top = BASE + 0x10000;
    let built =
        build(&mut stack, top, &["prog", "one two"], &["HOME=/"], &[(AT_PAGESZ, 4096)], [7; 16])
            .unwrap();
    assert_eq!(built.pointer % 16, 0);
    assert_eq!(built.argc, 2);
    let bottom = top - 4096;
    let word = |address: u64| {
        let at = (address - bottom) as usize;
        u64::from_le_bytes(stack[at..at + 8].try_into().unwrap())
    };
    let string = |address: u64| {
        let at = (address - bottom) as usize;
        let end = stack[at..].iter().position(|&b| b == 0).unwrap();
        core::str::from_utf8(&stack[at..at + end]).unwrap().to_owned()
    };
    let sp = built.pointer;
    assert_eq!(word(sp), 2);
    assert_eq!(string(word(sp + 8)), "prog");
    assert_eq!(string(word(sp + 16)), "one two");
    assert_eq!(word(sp + 24), 0);
    assert_eq!(string(word(sp + 32)), "HOME=/");
    assert_eq!(word(sp + 40), 0);
    assert_eq!((word(sp + 48), word(sp + 56)), (AT_PAGESZ, 4096));
    assert_eq!(word(sp + 64), AT_RANDOM);
    let random = (word(sp + 72) - bottom) as usize;
    assert_eq!(&stack[random..random + 16], &[7; 16]);
    assert_eq!((word(sp + 80), word(sp + 88)), (0, 0));
    let huge = "x".repeat(3000);
    assert!(build(&mut stack, top, &[&huge], &[], &[], [0; 16]).is_err());
}

/// What plain `musl-gcc -static` makes: an `ET_EXEC` at 0x400000 (headers, text, then
/// data with `.bss` at 0x403000).
fn low_executable() -> Vec<u8> {
    let low = 0x40_0000;
    let segments =
        [load(0, low, 0x2000, 0x2000, RX), load(0x2000, low + 0x3000, 0x100, 0x1800, RW)];
    let mut file = elf(2, low + 0x1000, &segments, 0x2100);
    file[0x1000..0x1004].copy_from_slice(b"CODE");
    file[0x2000..0x2100].fill(0x5D);
    file
}

#[test]
fn fixed_image_range_is_read_from_the_headers_of_a_low_executable() {
    let file = low_executable();
    assert_eq!(crate::fixed_image_range(&file, BASE), Some((0x40_0000, 0x40_5000)));
    assert_eq!(crate::fixed_image_range(&file[..0x100], BASE), Some((0x40_0000, 0x40_5000)));
    assert_eq!(crate::fixed_image_range(&file, 0x40_4000), None, "ends above the limit");
    assert_eq!(crate::fixed_image_range(&file[..100], BASE), None, "headers cut off");
    assert_eq!(crate::fixed_image_range(&fixed_executable(), BASE), None, "in the window");
    assert_eq!(crate::fixed_image_range(&static_pie(false), BASE), None, "a PIE");
    let mut wrapping = low_executable();
    put(&mut wrapping, 64 + 56 + 40, u64::MAX - 0x1000);
    assert_eq!(crate::fixed_image_range(&wrapping, BASE), None);
}

#[test]
fn low_executable_is_loaded_into_its_own_memory() {
    let file = low_executable();
    let mut image = vec![0xAA; 0x5000];
    let loaded = crate::load_into(&file, &mut image, 0x40_0000).unwrap();
    assert_eq!((loaded.entry, loaded.bias, loaded.image_end), (0x40_1000, 0, 0x40_4800));
    assert_eq!(loaded.program_headers, Some(0x40_0040));
    assert_eq!(&image[..4], b"\x7fELF");
    assert_eq!(&image[0x1000..0x1004], b"CODE");
    assert!(image[0x2000..0x3000].iter().all(|&b| b == 0), "gap cleared");
    assert!(image[0x3000..0x3100].iter().all(|&b| b == 0x5D));
    assert!(image[0x3100..].iter().all(|&b| b == 0), "bss and the rest cleared");
}

#[test]
fn low_executable_that_does_not_fit_its_memory_or_is_damaged_changes_nothing() {
    let file = low_executable();
    let mut small = vec![0xAA; 0x4000];
    assert!(matches!(
        crate::load_into(&file, &mut small, 0x40_0000),
        Err(ElfError::OutsideWindow { address: 0x40_3000, .. })
    ));
    assert!(small.iter().all(|&b| b == 0xAA));
    let mut overlapping = low_executable();
    put(&mut overlapping, 64 + 40, 0x3800);
    let mut image = vec![0xAA; 0x5000];
    assert_eq!(
        crate::load_into(&overlapping, &mut image, 0x40_0000),
        Err(ElfError::Overlap { first: 0, second: 1 })
    );
    let mut outside = low_executable();
    put(&mut outside, 24, 0x40_3000);
    assert_eq!(
        crate::load_into(&outside, &mut image, 0x40_0000),
        Err(ElfError::EntryOutside { entry: 0x40_3000 })
    );
    assert!(image.iter().all(|&b| b == 0xAA));
}
