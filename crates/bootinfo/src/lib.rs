//! What every boot path hands the kernel: one [`BootInfo`].
//!
//! PVH and Multiboot1 loaders leave their own structures in memory; the parsers here
//! turn them into the same `BootInfo`, reading physical memory only through the
//! [`PhysicalMemory`] trait so that they are tested on the host against byte images.
//! The kernel command line parser lives here too because every path supplies one,
//! with the `virtio_mmio.device=` entries microVM hosts put there.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

mod boot_info;
pub mod cmdline;
mod cmdline_buffer;
mod framebuffer;
mod multiboot;
mod physical;
mod pvh;
pub mod virtio_mmio;

pub use boot_info::{BootInfo, BootProtocol, MAX_MODULES, Module, ParseError};
pub use cmdline_buffer::{CmdlineDamage, MAX_CMDLINE, Notice as CmdlineNotice};
pub use framebuffer::{
    FRAMEBUFFER_MAGIC, FRAMEBUFFER_RECORD_BYTES, Framebuffer, FramebufferError, parse_framebuffer,
};
pub use multiboot::{MULTIBOOT_BOOTLOADER_MAGIC, parse_multiboot};
pub use physical::PhysicalMemory;
pub use pvh::{PVH_START_MAGIC, parse_loader, parse_pvh};
