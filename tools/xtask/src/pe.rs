//! ELF static PIE → PE32+ EFI application.
//!
//! This toolchain has no prebuilt standard library for `x86_64-unknown-uefi`, so the
//! UEFI loader is built for `x86_64-unknown-none` as a static PIE linked at 0 and
//! converted here (PE/COFF as the UEFI spec uses it): the loadable segments become one
//! read-write-execute `.text` section at RVA 0x1000 (the page before holds the
//! headers), `.bss` included as zeros; each `R_X86_64_RELATIVE` relocation is applied
//! for the preferred image base and listed as an `IMAGE_REL_BASED_DIR64` entry in a
//! `.reloc` section, so the firmware can load the image anywhere. Any other dynamic
//! relocation is an error. The PE file itself is laid out by `object`'s PE writer.
use object::pe;
use object::write::pe::{NtHeaders, Writer};
use object::{Object, ObjectSegment, RelocationFlags, RelocationTarget};

const IMAGE_BASE: u64 = 0x1000_0000;
const SECTION_ALIGN: u32 = 0x1000;
const FILE_ALIGN: u32 = 0x200;
/// RVA of the first byte of the ELF's address 0.
const SHIFT: u32 = SECTION_ALIGN;
const R_X86_64_RELATIVE: u32 = 8;

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

/// Lays out the PE file with `object`'s PE writer: headers, `.text` (the image, at RVA
/// [`SHIFT`]) and `.reloc` (one block per 4 KiB page of DIR64 entries).
fn pe_image(image: &[u8], entry: u32, fixups: &[u32]) -> Result<Vec<u8>, String> {
    let text_size = u32::try_from(image.len()).map_err(|_| "loader too big")?;
    let mut out = Vec::new();
    let mut writer = Writer::new(true, SECTION_ALIGN, FILE_ALIGN, &mut out);
    writer.reserve_dos_header_and_stub();
    writer.reserve_nt_headers(pe::IMAGE_NUMBEROF_DIRECTORY_ENTRIES);
    writer.reserve_section_headers(2);
    let text = writer.reserve_section(
        *b".text\0\0\0",
        pe::IMAGE_SCN_CNT_CODE
            | pe::IMAGE_SCN_CNT_INITIALIZED_DATA
            | pe::IMAGE_SCN_MEM_EXECUTE
            | pe::IMAGE_SCN_MEM_READ
            | pe::IMAGE_SCN_MEM_WRITE,
        text_size,
        text_size,
    );
    if text.virtual_address != SHIFT {
        return Err(format!("PE headers pushed .text to RVA {:#x}", text.virtual_address));
    }
    let mut sorted = fixups.to_vec();
    sorted.sort_unstable();
    for fixup in sorted {
        writer.add_reloc(fixup, pe::IMAGE_REL_BASED_DIR64);
    }
    writer.reserve_reloc_section();
    writer.write_dos_header_and_stub().map_err(|e| format!("PE: {e}"))?;
    writer.write_nt_headers(NtHeaders {
        machine: pe::IMAGE_FILE_MACHINE_AMD64,
        time_date_stamp: 0,
        characteristics: pe::IMAGE_FILE_EXECUTABLE_IMAGE | pe::IMAGE_FILE_LARGE_ADDRESS_AWARE,
        major_linker_version: 0,
        minor_linker_version: 0,
        address_of_entry_point: entry,
        image_base: IMAGE_BASE,
        major_operating_system_version: 0,
        minor_operating_system_version: 0,
        major_image_version: 0,
        minor_image_version: 0,
        major_subsystem_version: 0,
        minor_subsystem_version: 0,
        subsystem: pe::IMAGE_SUBSYSTEM_EFI_APPLICATION,
        dll_characteristics: 0,
        size_of_stack_reserve: 0x10_0000,
        size_of_stack_commit: 0x1000,
        size_of_heap_reserve: 0x10_0000,
        size_of_heap_commit: 0x1000,
    });
    writer.write_section_headers();
    writer.write_section(text.file_offset, image);
    writer.write_reloc_section();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use object::read::pe::PeFile64;
    use object::{Object, ObjectSection};

    use super::*;

    #[test]
    fn the_pe_file_reads_back_with_its_sections_entry_and_relocations() {
        let image = vec![0xC3u8; 0x1234];
        let bytes = pe_image(&image, 0x1100, &[0x2008, 0x1010, 0x1000]).unwrap();
        let file = PeFile64::parse(&*bytes).unwrap();
        assert_eq!(file.entry(), IMAGE_BASE + 0x1100);
        assert_eq!(file.relative_address_base(), IMAGE_BASE);
        let header = file.nt_headers().optional_header;
        assert_eq!(header.subsystem.get(object::LittleEndian), pe::IMAGE_SUBSYSTEM_EFI_APPLICATION);
        let text = file.section_by_name(".text").unwrap();
        assert_eq!(text.address(), IMAGE_BASE + 0x1000);
        assert_eq!(&text.data().unwrap()[..0x1234], &image[..]);
        let reloc = file.section_by_name(".reloc").unwrap().data().unwrap().to_vec();
        let u32_at = |at: usize| u32::from_le_bytes(reloc[at..at + 4].try_into().unwrap());
        // Page 0x1000: two DIR64 entries; page 0x2000: one, padded to an even count.
        assert_eq!((u32_at(0), u32_at(4)), (0x1000, 12));
        assert_eq!(&reloc[8..12], &[0x00, 0xA0, 0x10, 0xA0]);
        assert_eq!((u32_at(12), u32_at(16)), (0x2000, 12));
        assert_eq!(&reloc[20..24], &[0x08, 0xA0, 0, 0]);
        let directory = file.data_directory(pe::IMAGE_DIRECTORY_ENTRY_BASERELOC).unwrap();
        assert_eq!(directory.virtual_address.get(object::LittleEndian), 0x3000);
        assert_eq!(directory.size.get(object::LittleEndian), 24);
    }
}
