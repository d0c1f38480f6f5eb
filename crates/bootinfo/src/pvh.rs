//! The PVH boot protocol's `hvm_start_info` (Xen's `arch-x86/hvm/start_info.h`, version 1).
//!
//! Layout used: magic u32 @0, version u32 @4, flags u32 @8, nr_modules u32 @12,
//! modlist_paddr u64 @16, cmdline_paddr u64 @24, rsdp_paddr u64 @32, memmap_paddr u64 @40,
//! memmap_entries u32 @48. Module entries are 32 bytes (paddr, size, cmdline, reserved);
//! memory map entries are 24 bytes (addr, size, type, reserved) with E820 type numbers.

use ingot_mem::RegionKind;

use crate::{BootInfo, BootProtocol, Module, ParseError, PhysicalMemory};

/// `hvm_start_info.magic`.
pub const PVH_START_MAGIC: u32 = 0x336E_C578;

const MODULE_ENTRY_BYTES: u64 = 32;
const MEMMAP_ENTRY_BYTES: u64 = 24;

/// Parses the `hvm_start_info` at physical address `start_info`.
pub fn parse_pvh(memory: &impl PhysicalMemory, start_info: u64) -> Result<BootInfo, ParseError> {
    let field32 = |offset: u64| {
        memory.read_u32(start_info + offset).ok_or(ParseError::Unreadable(start_info + offset))
    };
    let field64 = |offset: u64| {
        memory.read_u64(start_info + offset).ok_or(ParseError::Unreadable(start_info + offset))
    };
    if field32(0)? != PVH_START_MAGIC {
        return Err(ParseError::BadMagic);
    }
    let version = field32(4)?;
    let mut info = BootInfo::new(BootProtocol::Pvh);

    let cmdline = field64(24)?;
    if cmdline != 0 {
        info.read_cmdline(memory, cmdline);
    }
    let rsdp = field64(32)?;
    info.rsdp = (rsdp != 0).then_some(rsdp);

    let module_list = field64(16)?;
    let module_count = field32(12)?;
    for index in 0..u64::from(module_count) {
        let entry = module_list + index * MODULE_ENTRY_BYTES;
        let start = memory.read_u64(entry).ok_or(ParseError::Unreadable(entry))?;
        let len = memory.read_u64(entry + 8).ok_or(ParseError::Unreadable(entry + 8))?;
        info.push_module(Module { start, len });
    }

    if version < 1 {
        return Err(ParseError::NoMemoryMap);
    }
    let memmap = field64(40)?;
    let entries = field32(48)?;
    if memmap == 0 || entries == 0 {
        return Err(ParseError::NoMemoryMap);
    }
    for index in 0..u64::from(entries) {
        let entry = memmap + index * MEMMAP_ENTRY_BYTES;
        let address = memory.read_u64(entry).ok_or(ParseError::Unreadable(entry))?;
        let size = memory.read_u64(entry + 8).ok_or(ParseError::Unreadable(entry + 8))?;
        let kind = memory.read_u32(entry + 16).ok_or(ParseError::Unreadable(entry + 16))?;
        info.memory
            .add(address, size, RegionKind::from_e820(kind))
            .map_err(|_| ParseError::TooManyRegions)?;
    }
    Ok(info)
}

/// Parses what Ingot's own loaders pass: a PVH start info at `start_info` and a
/// framebuffer record at `framebuffer` (0 = none). A refused framebuffer record is
/// kept as [`BootInfo::framebuffer_error`], not an error: the machine still boots.
pub fn parse_loader(
    memory: &impl PhysicalMemory,
    protocol: BootProtocol,
    start_info: u64,
    framebuffer: u64,
) -> Result<BootInfo, ParseError> {
    let mut info = parse_pvh(memory, start_info)?;
    info.protocol = protocol;
    if framebuffer != 0 {
        match crate::parse_framebuffer(memory, framebuffer) {
            Ok(fb) => info.framebuffer = Some(fb),
            Err(error) => info.framebuffer_error = Some(error),
        }
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physical::fake::FakeMemory;

    const START: u64 = 0x1000;

    fn start_info(memory: &mut FakeMemory, version: u32) {
        memory.put_u32(START, PVH_START_MAGIC);
        memory.put_u32(START + 4, version);
        memory.put_u32(START + 12, 1);
        memory.put_u64(START + 16, 0x2000);
        memory.put_u64(START + 24, 0x3000);
        memory.put_u64(START + 32, 0xF5A40);
        memory.put_u64(START + 40, 0x4000);
        memory.put_u32(START + 48, 3);
        memory.put_u64(0x2000, 0x7F_0000);
        memory.put_u64(0x2008, 4321);
        memory.put(0x3000, b"exit=qemu verbose\0");
        let map = [(0u64, 0x9_FC00u64, 1u32), (0x9_FC00, 0x400, 2), (0x10_0000, 0x7F0_0000, 1)];
        for (index, (address, size, kind)) in map.into_iter().enumerate() {
            let entry = 0x4000 + index as u64 * 24;
            memory.put_u64(entry, address);
            memory.put_u64(entry + 8, size);
            memory.put_u32(entry + 16, kind);
        }
    }

    #[test]
    fn reads_every_field() {
        let mut memory = FakeMemory::new(0x10_000);
        start_info(&mut memory, 1);
        let info = parse_pvh(&memory, START).unwrap();
        assert_eq!(info.protocol, BootProtocol::Pvh);
        assert_eq!(info.cmdline(), "exit=qemu verbose");
        assert_eq!(info.rsdp, Some(0xF5A40));
        assert_eq!(info.modules(), &[Module { start: 0x7F_0000, len: 4321 }]);
        assert_eq!(info.memory.usable_bytes(), 0x9_FC00 + 0x7F0_0000);
        assert_eq!(info.memory.regions().len(), 3);
    }

    #[test]
    fn loader_boot_keeps_the_protocol_and_reads_the_framebuffer() {
        let mut memory = FakeMemory::new(0x10_000);
        start_info(&mut memory, 1);
        let info = parse_loader(&memory, BootProtocol::Bios, START, 0).unwrap();
        assert_eq!(
            (info.protocol, info.framebuffer, info.framebuffer_error),
            (BootProtocol::Bios, None, None)
        );
        memory.put_u32(0x5000, 0xBAD);
        let info = parse_loader(&memory, BootProtocol::Uefi, START, 0x5000).unwrap();
        assert_eq!(info.protocol, BootProtocol::Uefi);
        assert_eq!(info.framebuffer_error, Some(crate::FramebufferError::BadRecord));
    }

    #[test]
    fn rejects_bad_magic_and_missing_map() {
        let mut memory = FakeMemory::new(0x10_000);
        start_info(&mut memory, 0);
        assert_eq!(parse_pvh(&memory, START).err(), Some(ParseError::NoMemoryMap));
        memory.put_u32(START, 0x1234);
        assert_eq!(parse_pvh(&memory, START).err(), Some(ParseError::BadMagic));
    }

    #[test]
    fn pointer_outside_memory_is_an_error_not_a_panic() {
        let mut memory = FakeMemory::new(0x10_000);
        start_info(&mut memory, 1);
        memory.put_u64(START + 40, 0xFFFF_FFFF_0000);
        assert_eq!(parse_pvh(&memory, START).err(), Some(ParseError::Unreadable(0xFFFF_FFFF_0000)));
        assert_eq!(
            parse_pvh(&memory, 0xFFFF_FFF0).err(),
            Some(ParseError::Unreadable(0xFFFF_FFF0))
        );
    }
}
