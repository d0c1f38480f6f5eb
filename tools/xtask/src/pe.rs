//! ELF static PIE → PE32+ EFI application.
//!
//! This toolchain has no prebuilt standard library for `x86_64-unknown-uefi`, so the
//! UEFI loader is built for `x86_64-unknown-none` as a static PIE linked at 0 and
//! converted here (PE/COFF as the UEFI spec uses it): the loadable segments become one
//! read-write-execute `.text` section at RVA 0x1000 (the page before holds the
//! headers), `.bss` included as zeros; each `R_X86_64_RELATIVE` relocation is applied
//! for the preferred image base and listed as an `IMAGE_REL_BASED_DIR64` entry in a
//! `.reloc` section, so the firmware can load the image anywhere. Any other dynamic
//! relocation is an error.
use object::{Object, ObjectSegment, RelocationFlags, RelocationTarget};

const IMAGE_BASE: u64 = 0x1000_0000;
const SECTION_ALIGN: u32 = 0x1000;
const FILE_ALIGN: u32 = 0x200;
const HEADERS: u32 = 0x400;
/// RVA of the first byte of the ELF's address 0.
const SHIFT: u32 = SECTION_ALIGN;
const R_X86_64_RELATIVE: u32 = 8;
const SUBSYSTEM_EFI_APPLICATION: u16 = 10;

fn align(value: u32, to: u32) -> u32 {
    value.div_ceil(to) * to
}

/// Converts the loader ELF to a PE32+ EFI application.
pub fn elf_to_efi(elf: &[u8]) -> Result<Vec<u8>, String> {
    let file = object::File::parse(elf).map_err(|e| format!("loader ELF: {e}"))?;
    let mut image = Vec::new();
    for segment in file.segments() {
        let bytes = segment.data().map_err(|e| format!("loader ELF: {e}"))?;
        let start = usize::try_from(segment.address()).map_err(|_| "segment too far")?;
        let end = start + usize::try_from(segment.size()).map_err(|_| "segment too big")?;
        if image.len() < end {
            image.resize(end, 0);
        }
        image[start..start + bytes.len()].copy_from_slice(bytes);
    }
    let mut fixups = Vec::new();
    for (offset, relocation) in file.dynamic_relocations().into_iter().flatten() {
        let RelocationFlags::Elf { r_type } = relocation.flags() else {
            return Err("loader ELF: unexpected relocation encoding".into());
        };
        if r_type != R_X86_64_RELATIVE || relocation.target() != RelocationTarget::Absolute {
            return Err(format!(
                "loader ELF: relocation type {r_type} at {offset:#x} is not RELATIVE"
            ));
        }
        let at = usize::try_from(offset).map_err(|_| "relocation too far")?;
        let value = IMAGE_BASE + u64::from(SHIFT) + relocation.addend() as u64;
        image
            .get_mut(at..at + 8)
            .ok_or(format!("relocation at {offset:#x} outside the image"))?
            .copy_from_slice(&value.to_le_bytes());
        fixups.push(u32::try_from(offset).map_err(|_| "relocation too far")? + SHIFT);
    }
    let entry = u32::try_from(file.entry()).map_err(|_| "entry too far")? + SHIFT;
    pe_image(&image, entry, &fixups)
}

/// The base-relocation table: one block per 4 KiB page, DIR64 entries, padded to 4 bytes.
fn base_relocations(fixups: &[u32]) -> Vec<u8> {
    let mut sorted = fixups.to_vec();
    sorted.sort_unstable();
    let mut table = Vec::new();
    let mut index = 0;
    while index < sorted.len() {
        let page = sorted[index] & !0xFFF;
        let mut entries: Vec<u16> = Vec::new();
        while index < sorted.len() && sorted[index] & !0xFFF == page {
            entries.push(0xA000 | (sorted[index] & 0xFFF) as u16);
            index += 1;
        }
        if entries.len() % 2 == 1 {
            entries.push(0);
        }
        table.extend(page.to_le_bytes());
        table.extend((8 + 2 * entries.len() as u32).to_le_bytes());
        for entry in entries {
            table.extend(entry.to_le_bytes());
        }
    }
    table
}

/// Lays out the PE file: headers, `.text` (the image) and `.reloc`.
fn pe_image(image: &[u8], entry: u32, fixups: &[u32]) -> Result<Vec<u8>, String> {
    let relocs = base_relocations(fixups);
    let text_size = u32::try_from(image.len()).map_err(|_| "loader too big")?;
    let text_raw = align(text_size, FILE_ALIGN);
    let reloc_rva = SHIFT + align(text_size, SECTION_ALIGN);
    let reloc_size = relocs.len() as u32;
    let reloc_raw = align(reloc_size.max(1), FILE_ALIGN);
    let image_size = reloc_rva + align(reloc_size.max(1), SECTION_ALIGN);
    let mut out = vec![0u8; (HEADERS + text_raw + reloc_raw) as usize];
    let mut put = |at: usize, bytes: &[u8]| out[at..at + bytes.len()].copy_from_slice(bytes);

    put(0, b"MZ");
    put(0x3C, &0x40u32.to_le_bytes());
    put(0x40, b"PE\0\0");
    // COFF header.
    put(0x44, &0x8664u16.to_le_bytes());
    put(0x46, &2u16.to_le_bytes());
    put(0x54, &240u16.to_le_bytes());
    put(0x56, &0x0022u16.to_le_bytes());
    // Optional header (PE32+).
    let opt = 0x58;
    put(opt, &0x20Bu16.to_le_bytes());
    put(opt + 4, &text_raw.to_le_bytes());
    put(opt + 8, &reloc_raw.to_le_bytes());
    put(opt + 16, &entry.to_le_bytes());
    put(opt + 20, &SHIFT.to_le_bytes());
    put(opt + 24, &IMAGE_BASE.to_le_bytes());
    put(opt + 32, &SECTION_ALIGN.to_le_bytes());
    put(opt + 36, &FILE_ALIGN.to_le_bytes());
    put(opt + 56, &image_size.to_le_bytes());
    put(opt + 60, &HEADERS.to_le_bytes());
    put(opt + 68, &SUBSYSTEM_EFI_APPLICATION.to_le_bytes());
    put(opt + 72, &0x10_0000u64.to_le_bytes());
    put(opt + 80, &0x1000u64.to_le_bytes());
    put(opt + 88, &0x10_0000u64.to_le_bytes());
    put(opt + 96, &0x1000u64.to_le_bytes());
    put(opt + 108, &16u32.to_le_bytes());
    put(opt + 112 + 5 * 8, &reloc_rva.to_le_bytes());
    put(opt + 112 + 5 * 8 + 4, &reloc_size.to_le_bytes());
    // Section table.
    let sections = opt + 240;
    let section = |name: &[u8], size: u32, rva: u32, raw: u32, file_at: u32, flags: u32| {
        let mut header = [0u8; 40];
        header[..name.len()].copy_from_slice(name);
        header[8..12].copy_from_slice(&size.to_le_bytes());
        header[12..16].copy_from_slice(&rva.to_le_bytes());
        header[16..20].copy_from_slice(&raw.to_le_bytes());
        header[20..24].copy_from_slice(&file_at.to_le_bytes());
        header[36..40].copy_from_slice(&flags.to_le_bytes());
        header
    };
    put(sections, &section(b".text", text_size, SHIFT, text_raw, HEADERS, 0xE000_0060));
    put(
        sections + 40,
        &section(b".reloc", reloc_size, reloc_rva, reloc_raw, HEADERS + text_raw, 0x4200_0040),
    );
    put(HEADERS as usize, image);
    put((HEADERS + text_raw) as usize, &relocs);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_at(bytes: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
    }

    #[test]
    fn relocation_blocks_per_page_with_padding() {
        let table = base_relocations(&[0x1010, 0x2008, 0x1000]);
        assert_eq!(u32_at(&table, 0), 0x1000);
        assert_eq!(u32_at(&table, 4), 12);
        assert_eq!(&table[8..12], &[0x00, 0xA0, 0x10, 0xA0]);
        assert_eq!(u32_at(&table, 12), 0x2000);
        assert_eq!(u32_at(&table, 16), 12, "one entry plus a padding entry");
        assert_eq!(&table[20..24], &[0x08, 0xA0, 0, 0]);
    }

    #[test]
    fn headers_describe_the_sections() {
        let image = vec![0xC3u8; 0x1234];
        let pe = pe_image(&image, 0x1100, &[0x1008]).unwrap();
        assert_eq!(&pe[..2], b"MZ");
        assert_eq!(&pe[0x40..0x44], b"PE\0\0");
        assert_eq!(u32_at(&pe, 0x58 + 16), 0x1100, "entry RVA");
        assert_eq!(u32_at(&pe, 0x58 + 56), 0x4000, "image: headers, 2 text pages, 1 reloc page");
        assert_eq!(u16::from_le_bytes([pe[0x58 + 68], pe[0x58 + 69]]), 10);
        assert_eq!(u32_at(&pe, 0x58 + 112 + 40), 0x3000, "reloc directory RVA");
        assert_eq!(u32_at(&pe, 0x58 + 112 + 44), 12);
        let text = 0x58 + 240;
        assert_eq!(&pe[text..text + 5], b".text");
        assert_eq!(u32_at(&pe, text + 12), 0x1000);
        assert_eq!(pe[0x400], 0xC3);
        assert_eq!(u32_at(&pe, 0x400 + 0x1400), 0x1000, "reloc block after the text");
    }
}
