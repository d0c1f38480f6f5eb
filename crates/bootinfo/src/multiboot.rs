//! The Multiboot1 information structure (Multiboot Specification 0.6.96, §3.3).
//!
//! Fields used: flags @0; mem_lower/mem_upper @4/@8 (flag bit 0); cmdline @16 (bit 2);
//! mods_count/mods_addr @20/@24 (bit 3); mmap_length/mmap_addr @44/@48 (bit 6). Memory
//! map entries are `size u32, base u64, length u64, type u32`, each followed by `size`
//! bytes counted from after the size field. Module entries are 16 bytes
//! (start, end, string, reserved).
//!
//! Loaders (QEMU and GRUB) put the kernel's own path first on the command line; that
//! first word is dropped so every boot path yields the same command line.

use ingot_mem::RegionKind;

use crate::{BootInfo, BootProtocol, Module, ParseError, PhysicalMemory};

/// The value a Multiboot1 loader leaves in EAX.
pub const MULTIBOOT_BOOTLOADER_MAGIC: u32 = 0x2BAD_B002;

const FLAG_MEMORY: u32 = 1 << 0;
const FLAG_CMDLINE: u32 = 1 << 2;
const FLAG_MODULES: u32 = 1 << 3;
const FLAG_MEMORY_MAP: u32 = 1 << 6;
const MODULE_ENTRY_BYTES: u64 = 16;
const KIB: u64 = 1024;

/// Parses the Multiboot information at `info_address`, given the loader's EAX value.
pub fn parse_multiboot(
    memory: &impl PhysicalMemory,
    loader_magic: u32,
    info_address: u64,
) -> Result<BootInfo, ParseError> {
    if loader_magic != MULTIBOOT_BOOTLOADER_MAGIC {
        return Err(ParseError::BadMagic);
    }
    let field = |offset: u64| {
        memory.read_u32(info_address + offset).ok_or(ParseError::Unreadable(info_address + offset))
    };
    let flags = field(0)?;
    let mut info = BootInfo::new(BootProtocol::Multiboot);

    if flags & FLAG_CMDLINE != 0 {
        info.read_cmdline(memory, u64::from(field(16)?));
        // QEMU and GRUB put the kernel's path first; it is not an option.
        let line = info.cmdline();
        let image_path = match line.split_once(' ') {
            Some((first, rest)) if !first.contains('=') => {
                Some(line.len() - rest.trim_start().len())
            }
            None if !line.contains('=') => Some(line.len()),
            _ => None,
        };
        if let Some(count) = image_path {
            info.drop_cmdline_prefix(count);
        }
    }

    if flags & FLAG_MODULES != 0 {
        let list = u64::from(field(24)?);
        for index in 0..u64::from(field(20)?) {
            let entry = list + index * MODULE_ENTRY_BYTES;
            let start = memory.read_u32(entry).ok_or(ParseError::Unreadable(entry))?;
            let end = memory.read_u32(entry + 4).ok_or(ParseError::Unreadable(entry + 4))?;
            info.push_module(Module {
                start: u64::from(start),
                len: u64::from(end.saturating_sub(start)),
            });
        }
    }

    if flags & FLAG_MEMORY_MAP != 0 {
        let mut entry = u64::from(field(48)?);
        let end = entry + u64::from(field(44)?);
        while entry + 24 <= end {
            let size = memory.read_u32(entry).ok_or(ParseError::Unreadable(entry))?;
            let base = memory.read_u64(entry + 4).ok_or(ParseError::Unreadable(entry + 4))?;
            let length = memory.read_u64(entry + 12).ok_or(ParseError::Unreadable(entry + 12))?;
            let kind = memory.read_u32(entry + 20).ok_or(ParseError::Unreadable(entry + 20))?;
            info.memory
                .add(base, length, RegionKind::from_e820(kind))
                .map_err(|_| ParseError::TooManyRegions)?;
            entry += u64::from(size) + 4;
            if size < 20 {
                break; // a malformed size would loop forever or read garbage
            }
        }
    } else if flags & FLAG_MEMORY != 0 {
        let lower = u64::from(field(4)?) * KIB;
        let upper = u64::from(field(8)?) * KIB;
        let add = |info: &mut BootInfo, start, len| {
            info.memory.add(start, len, RegionKind::Usable).map_err(|_| ParseError::TooManyRegions)
        };
        add(&mut info, 0, lower)?;
        add(&mut info, 0x10_0000, upper)?;
    }
    if info.memory.regions().is_empty() {
        return Err(ParseError::NoMemoryMap);
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physical::fake::FakeMemory;

    const INFO: u64 = 0x9000;

    fn multiboot_info(memory: &mut FakeMemory, cmdline: &[u8]) {
        memory.put_u32(INFO, FLAG_MEMORY | FLAG_CMDLINE | FLAG_MODULES | FLAG_MEMORY_MAP);
        memory.put_u32(INFO + 4, 639);
        memory.put_u32(INFO + 8, 130_048);
        memory.put_u32(INFO + 16, 0xA000);
        memory.put(0xA000, cmdline);
        memory.put_u32(INFO + 20, 2);
        memory.put_u32(INFO + 24, 0xB000);
        memory.put_u32(0xB000, 0x20_0000);
        memory.put_u32(0xB004, 0x20_1000);
        memory.put_u32(0xB010, 0x30_0000);
        memory.put_u32(0xB014, 0x30_0010);
        let map = [(0u64, 0x9_FC00u64, 1u32), (0xF_0000, 0x1_0000, 2), (0x10_0000, 0x7EE_0000, 1)];
        for (index, (base, length, kind)) in map.into_iter().enumerate() {
            let entry = 0xC000 + index as u64 * 24;
            memory.put_u32(entry, 20);
            memory.put_u64(entry + 4, base);
            memory.put_u64(entry + 12, length);
            memory.put_u32(entry + 20, kind);
        }
        memory.put_u32(INFO + 44, 3 * 24);
        memory.put_u32(INFO + 48, 0xC000);
    }

    #[test]
    fn reads_map_modules_and_drops_the_image_path() {
        let mut memory = FakeMemory::new(0x10_000);
        multiboot_info(&mut memory, b"/tmp/kernel.elf exit=qemu\0");
        let info = parse_multiboot(&memory, MULTIBOOT_BOOTLOADER_MAGIC, INFO).unwrap();
        assert_eq!(info.protocol, BootProtocol::Multiboot);
        assert_eq!(info.cmdline(), "exit=qemu");
        assert_eq!(
            info.modules(),
            &[Module { start: 0x20_0000, len: 0x1000 }, Module { start: 0x30_0000, len: 0x10 }]
        );
        assert_eq!(info.memory.usable_bytes(), 0x9_FC00 + 0x7EE_0000);
    }

    #[test]
    fn a_4_kib_command_line_is_cut_and_the_cut_is_reported() {
        let mut memory = FakeMemory::new(0x10_000);
        multiboot_info(&mut memory, b"k\0");
        let mut line = std::vec::Vec::from(&b"/tmp/kernel.elf exit=qemu"[..]);
        while line.len() < 4096 {
            line.extend_from_slice(b" filler=0123456789");
        }
        line.push(0);
        memory.put(0xD000, &line);
        memory.put_u32(INFO + 16, 0xD000);
        let info = parse_multiboot(&memory, MULTIBOOT_BOOTLOADER_MAGIC, INFO).unwrap();
        assert!(info.cmdline().starts_with("exit=qemu filler=0123456789 "));
        assert!(info.cmdline().ends_with(" filler=0123456789"));
        // 1024 bytes read, the incomplete last word and the 16-byte image path dropped.
        let kept = info.cmdline().len();
        assert_eq!(info.cmdline_damage().cut_to, Some(kept));
        assert!((1024 - 16 - 18..=1024 - 16).contains(&kept), "kept {kept}");
    }

    #[test]
    fn an_invalid_byte_loses_only_itself() {
        let mut memory = FakeMemory::new(0x10_000);
        multiboot_info(&mut memory, b"/k colour=\xFFblue exit=qemu\0");
        let info = parse_multiboot(&memory, MULTIBOOT_BOOTLOADER_MAGIC, INFO).unwrap();
        assert_eq!(info.cmdline(), "colour=blue exit=qemu");
        let damage = info.cmdline_damage();
        assert_eq!((damage.cut_to, damage.invalid_bytes, damage.first_invalid), (None, 1, 10));
    }

    #[test]
    fn image_path_alone_gives_an_empty_command_line() {
        let mut memory = FakeMemory::new(0x10_000);
        multiboot_info(&mut memory, b"kernel.elf\0");
        let info = parse_multiboot(&memory, MULTIBOOT_BOOTLOADER_MAGIC, INFO).unwrap();
        assert_eq!(info.cmdline(), "");
    }

    #[test]
    fn falls_back_to_lower_and_upper_memory() {
        let mut memory = FakeMemory::new(0x10_000);
        multiboot_info(&mut memory, b"k\0");
        memory.put_u32(INFO, FLAG_MEMORY);
        let info = parse_multiboot(&memory, MULTIBOOT_BOOTLOADER_MAGIC, INFO).unwrap();
        assert_eq!(info.memory.usable_bytes(), (639 + 130_048) * 1024);
    }

    #[test]
    fn wrong_loader_magic_and_no_memory_information_are_errors() {
        let mut memory = FakeMemory::new(0x10_000);
        multiboot_info(&mut memory, b"k\0");
        assert_eq!(parse_multiboot(&memory, 0, INFO).err(), Some(ParseError::BadMagic));
        memory.put_u32(INFO, 0);
        assert_eq!(
            parse_multiboot(&memory, MULTIBOOT_BOOTLOADER_MAGIC, INFO).err(),
            Some(ParseError::NoMemoryMap)
        );
    }
}
