//! The boot information structure shared by every boot path.

use ingot_mem::MemoryMap;

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
const MAX_CMDLINE: usize = 1024;

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
    cmdline: [u8; MAX_CMDLINE],
    cmdline_len: usize,
    /// The command line was longer than the kernel keeps and was cut.
    pub cmdline_truncated: bool,
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
            cmdline: [0; MAX_CMDLINE],
            cmdline_len: 0,
            cmdline_truncated: false,
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

    /// The kernel command line (invalid UTF-8 is replaced by an empty line).
    pub fn cmdline(&self) -> &str {
        core::str::from_utf8(&self.cmdline[..self.cmdline_len]).unwrap_or("")
    }

    /// Sets the command line from text.
    pub fn set_cmdline(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let mut len = bytes.len().min(MAX_CMDLINE);
        while !text.is_char_boundary(len) {
            len -= 1;
        }
        self.cmdline[..len].copy_from_slice(&bytes[..len]);
        self.cmdline_len = len;
        self.cmdline_truncated = len < bytes.len();
    }

    /// Copies a NUL-terminated command line from physical memory.
    pub(crate) fn read_cmdline(&mut self, memory: &impl PhysicalMemory, address: u64) {
        let mut len = 0;
        let mut byte = [0u8];
        while len < MAX_CMDLINE {
            if !memory.read(address + len as u64, &mut byte) || byte[0] == 0 {
                break;
            }
            self.cmdline[len] = byte[0];
            len += 1;
        }
        self.cmdline_truncated = len == MAX_CMDLINE;
        // Keep only the valid UTF-8 prefix so `cmdline()` never loses the whole line.
        self.cmdline_len = match core::str::from_utf8(&self.cmdline[..len]) {
            Ok(_) => len,
            Err(error) => error.valid_up_to(),
        };
    }
}
