//! The boot information structure shared by every boot path.

use ingot_mem::MemoryMap;

use crate::cmdline_buffer::{CmdlineBuffer, CmdlineDamage, MAX_CMDLINE};
use crate::physical::PhysicalMemory;

/// How the kernel was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootProtocol {
    /// Xen PVH direct boot (QEMU `-kernel`, Firecracker, cloud-hypervisor).
    Pvh,
    /// Multiboot1 (QEMU `-kernel`, GRUB).
    Multiboot,
    /// Ingot's own BIOS loader.
    Bios,
    /// Ingot's own UEFI loader.
    Uefi,
}

impl BootProtocol {
    /// The name printed in the ready line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pvh => "pvh",
            Self::Multiboot => "multiboot",
            Self::Bios => "bios",
            Self::Uefi => "uefi",
        }
    }
}

/// A file the loader placed in memory beside the kernel (QEMU `-initrd`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Module {
    /// Physical address of the first byte.
    pub start: u64,
    /// Length in bytes.
    pub len: u64,
}

/// Most modules a boot can pass; more are reported and ignored.
pub const MAX_MODULES: usize = 8;

/// Why the loader's information could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// The structure's magic number is wrong.
    BadMagic,
    /// A pointer in the structure leads to memory that cannot be read (this address).
    Unreadable(u64),
    /// The loader supplied no memory map.
    NoMemoryMap,
    /// The memory map has more entries than the kernel can hold.
    TooManyRegions,
}

impl core::fmt::Display for ParseError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::BadMagic => "bad magic number in boot information",
            Self::Unreadable(address) => {
                return write!(f, "boot information points at unreadable memory {address:#x}");
            }
            Self::NoMemoryMap => "the loader supplied no memory map",
            Self::TooManyRegions => "the memory map has too many entries",
        })
    }
}

/// Everything the kernel learns from its loader.
pub struct BootInfo {
    /// How the kernel was started.
    pub protocol: BootProtocol,
    /// The firmware memory map.
    pub memory: MemoryMap,
    /// Physical address of the ACPI RSDP, if the loader gave one.
    pub rsdp: Option<u64>,
    /// The linear framebuffer Ingot's loaders set up, if any.
    pub framebuffer: Option<crate::Framebuffer>,
    /// Why the loader's framebuffer record was not used, if it was refused.
    pub framebuffer_error: Option<crate::FramebufferError>,
    /// Boot modules in the loader's order.
    modules: [Module; MAX_MODULES],
    module_count: usize,
    /// Modules beyond [`MAX_MODULES`] that were dropped.
    pub modules_dropped: usize,
    cmdline: CmdlineBuffer,
}

impl BootInfo {
    /// Empty boot information for `protocol`.
    pub fn new(protocol: BootProtocol) -> Self {
        Self {
            protocol,
            memory: MemoryMap::new(),
            rsdp: None,
            framebuffer: None,
            framebuffer_error: None,
            modules: [Module { start: 0, len: 0 }; MAX_MODULES],
            module_count: 0,
            modules_dropped: 0,
            cmdline: CmdlineBuffer::new(),
        }
    }

    /// The boot modules.
    pub fn modules(&self) -> &[Module] {
        &self.modules[..self.module_count]
    }

    /// Records a module (dropping it, counted, when the list is full).
    pub fn push_module(&mut self, module: Module) {
        if self.module_count < MAX_MODULES {
            self.modules[self.module_count] = module;
            self.module_count += 1;
        } else {
            self.modules_dropped += 1;
        }
    }

    /// The kernel command line as kept (see [`BootInfo::cmdline_damage`]).
    pub fn cmdline(&self) -> &str {
        self.cmdline.text()
    }

    /// What was lost of the loader's command line (cut, invalid bytes skipped).
    pub fn cmdline_damage(&self) -> CmdlineDamage {
        self.cmdline.damage()
    }

    /// Removes the first `count` bytes of the command line (a loader's image path).
    pub(crate) fn drop_cmdline_prefix(&mut self, count: usize) {
        self.cmdline.drop_prefix(count);
    }

    /// Copies a NUL-terminated command line from physical memory: at most
    /// [`MAX_CMDLINE`] bytes, noting whether (and how) the line went on.
    pub(crate) fn read_cmdline(&mut self, memory: &impl PhysicalMemory, address: u64) {
        let mut raw = [0u8; MAX_CMDLINE];
        let mut len = 0;
        let mut byte = [0u8];
        let mut next = None;
        while let Some(at) = address.checked_add(len as u64) {
            if !memory.read(at, &mut byte) || byte[0] == 0 {
                break;
            }
            if len == MAX_CMDLINE {
                next = Some(byte[0]);
                break;
            }
            raw[len] = byte[0];
            len += 1;
        }
        let more_starts_word = next.is_some_and(|byte| !byte.is_ascii_whitespace());
        self.cmdline.store(&raw[..len], next.is_some(), more_starts_word);
    }
}
