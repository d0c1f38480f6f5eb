//! `kernel.bin`: the kernel ELF's loadable bytes laid out flat from 1 MiB, without
//! the trailing `.bss`.
//!
//! The disk loaders copy the file to 1 MiB as it is; the kernel's `loader64_entry`
//! zeroes `[__data_end, __image_end)` before it uses any `.bss`, and the UEFI loader
//! reserves memory up to the Multiboot header's `bss_end_addr` so nothing it hands
//! over lies there. Leaving the zeros out keeps the file within the BIOS loader's
//! 320 KiB. [`check`] makes sure the file really ends before `.bss`, which the
//! zeroing would otherwise overwrite.

use object::{Object, ObjectSection, ObjectSegment, ObjectSymbol};

/// Lays out an ELF's loadable segments from the lowest address, each with its file
/// bytes only (zero-filled gaps between segments are stored). A segment after one
/// whose memory size exceeds its file size is refused: its `.bss` would have to be
/// stored, and the entry stub's zeroing would reach the later segment.
pub fn image_without_bss(elf: &[u8]) -> Result<Vec<u8>, String> {
    let file = object::File::parse(elf).map_err(|e| format!("kernel ELF: {e}"))?;
    let mut segments: Vec<_> = file.segments().collect();
    segments.sort_by_key(|segment| segment.address());
    let base = segments.first().map(|s| s.address()).ok_or("kernel ELF: no loadable segments")?;
    let mut image = Vec::new();
    let mut memory_end = 0;
    for segment in segments {
        let bytes = segment.data().map_err(|e| format!("kernel ELF: {e}"))?;
        let offset = usize::try_from(segment.address() - base).map_err(|_| "segment too far")?;
        if image.len() < memory_end {
            return Err(format!(
                "kernel ELF: .bss in front of the segment at {:#x}",
                segment.address()
            ));
        }
        if offset < memory_end {
            return Err("kernel ELF: overlapping loadable segments".into());
        }
        let end = offset + bytes.len();
        image.resize(end, 0);
        image[offset..end].copy_from_slice(bytes);
        memory_end = offset + usize::try_from(segment.size()).map_err(|_| "segment too big")?;
    }
    Ok(image)
}

/// Checks a sealed `kernel.bin` against its ELF: the header's length is the file's
/// length, and the file, loaded at the lowest segment address, ends at or before the
/// start of `.bss` (and `__data_end`, where the entry stub's zeroing starts).
pub fn check(elf: &[u8], image: &[u8]) -> Result<(), String> {
    let file = object::File::parse(elf).map_err(|e| format!("kernel ELF: {e}"))?;
    let base =
        file.segments().map(|s| s.address()).min().ok_or("kernel ELF: no loadable segments")?;
    let at = crate::kernel_header::LENGTH_AT;
    let length = image
        .get(at..at + 4)
        .map(|field| u32::from_le_bytes([field[0], field[1], field[2], field[3]]))
        .ok_or("kernel.bin is shorter than its header")?;
    if length as usize != image.len() {
        return Err(format!(
            "kernel.bin's header says {length} bytes but the file has {}",
            image.len()
        ));
    }
    let bss = file.section_by_name(".bss").ok_or("kernel ELF: no .bss section")?;
    // loader64_entry zeroes from `__data_end`, which may lie below `.bss`'s alignment.
    let zeroed_from = file
        .symbols()
        .find(|symbol| symbol.name() == Ok("__data_end"))
        .map_or(bss.address(), |symbol| symbol.address().min(bss.address()));
    let end = base + image.len() as u64;
    if end > zeroed_from {
        return Err(format!(
            "kernel.bin ends at {end:#x}, inside .bss (zeroed from {zeroed_from:#x} by loader64_entry)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: u64 = 0x10_0000;
    const DATA_AT: usize = 0x100;
    const STRINGS: &[u8] = b"\0.bss\0.shstrtab\0";
    const STRINGS_AT: usize = 0x400;
    const SECTIONS_AT: usize = 0x420;

    /// A minimal ELF64 like the kernel's: one `PT_LOAD` at 1 MiB with `file` bytes of
    /// `data` and `memory` bytes in all, and a `.bss` section at `bss_at` (offset from
    /// 1 MiB) to its end.
    fn kernel_elf(data: &[u8], memory: u64, bss_at: u64) -> Vec<u8> {
        let mut elf = vec![0u8; SECTIONS_AT + 3 * 64];
        let put = |elf: &mut Vec<u8>, at: usize, bytes: &[u8]| {
            elf[at..at + bytes.len()].copy_from_slice(bytes)
        };
        put(&mut elf, 0, b"\x7fELF\x02\x01\x01");
        put(&mut elf, 16, &2u16.to_le_bytes()); // ET_EXEC
        put(&mut elf, 18, &62u16.to_le_bytes()); // EM_X86_64
        put(&mut elf, 20, &1u32.to_le_bytes());
        put(&mut elf, 24, &BASE.to_le_bytes());
        put(&mut elf, 32, &64u64.to_le_bytes()); // program headers
        put(&mut elf, 40, &(SECTIONS_AT as u64).to_le_bytes());
        put(&mut elf, 52, &[64, 0, 56, 0, 1, 0, 64, 0, 3, 0, 2, 0]);
        // PT_LOAD, RWX, offset, vaddr, paddr, filesz, memsz, align.
        put(&mut elf, 64, &1u32.to_le_bytes());
        put(&mut elf, 68, &7u32.to_le_bytes());
        for (i, value) in
            [DATA_AT as u64, BASE, BASE, data.len() as u64, memory, 1].into_iter().enumerate()
        {
            put(&mut elf, 72 + 8 * i, &value.to_le_bytes());
        }
        put(&mut elf, DATA_AT, data);
        put(&mut elf, STRINGS_AT, STRINGS);
        // Section 1: .bss (SHT_NOBITS, alloc + write); section 2: .shstrtab.
        let bss = SECTIONS_AT + 64;
        put(&mut elf, bss, &1u32.to_le_bytes());
        put(&mut elf, bss + 4, &8u32.to_le_bytes());
        put(&mut elf, bss + 8, &3u64.to_le_bytes());
        put(&mut elf, bss + 16, &(BASE + bss_at).to_le_bytes());
        put(&mut elf, bss + 24, &((DATA_AT as u64) + bss_at).to_le_bytes());
        put(&mut elf, bss + 32, &(memory - bss_at).to_le_bytes());
        let strings = SECTIONS_AT + 128;
        put(&mut elf, strings, &6u32.to_le_bytes());
        put(&mut elf, strings + 4, &3u32.to_le_bytes());
        put(&mut elf, strings + 24, &(STRINGS_AT as u64).to_le_bytes());
        put(&mut elf, strings + 32, &(STRINGS.len() as u64).to_le_bytes());
        elf
    }

    /// File bytes with the Ingot signature the header needs, each byte distinct enough
    /// that a misplaced copy shows.
    fn contents(len: usize) -> Vec<u8> {
        let mut data: Vec<u8> = (0..len).map(|i| (i * 13 + 5) as u8).collect();
        data[0x80..0x88].copy_from_slice(b"INGOTAPI");
        data
    }

    #[test]
    fn kernel_bin_holds_the_file_bytes_and_ends_before_bss() {
        let data = contents(0x2F2);
        let elf = kernel_elf(&data, 0x5000, 0x300);
        let mut image = image_without_bss(&elf).unwrap();
        assert_eq!(image, data);
        crate::kernel_header::seal(&mut image).unwrap();
        assert_eq!(image.len(), 0x2F4);
        assert_eq!(&image[0x70..0x74], &0x2F4u32.to_le_bytes());
        assert_eq!(&image[..0x70], &data[..0x70]);
        assert_eq!(&image[0x78..0x2F2], &data[0x78..]);
        check(&elf, &image).unwrap();
    }

    #[test]
    fn a_file_reaching_into_bss_or_with_a_wrong_length_is_refused() {
        // The padding to a multiple of 4 would cross into a .bss starting at 0x2F2.
        let data = contents(0x2F2);
        let elf = kernel_elf(&data, 0x5000, 0x2F2);
        let mut image = image_without_bss(&elf).unwrap();
        crate::kernel_header::seal(&mut image).unwrap();
        assert!(check(&elf, &image).unwrap_err().contains("inside .bss"));

        let elf = kernel_elf(&data, 0x5000, 0x300);
        let mut image = image_without_bss(&elf).unwrap();
        crate::kernel_header::seal(&mut image).unwrap();
        image.extend([0; 4]);
        assert!(check(&elf, &image).unwrap_err().contains("header says 756 bytes"));
    }

    #[test]
    fn input_that_is_not_an_elf_is_refused() {
        assert!(image_without_bss(b"not an ELF").is_err());
        assert!(check(b"not an ELF", &contents(0x100)).is_err());
    }
}
