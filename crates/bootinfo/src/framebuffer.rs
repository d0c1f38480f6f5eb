//! The framebuffer description Ingot's own loaders pass beside the PVH start info.
//!
//! PVH has no field for a framebuffer, so the BIOS loader (VBE) and the UEFI loader
//! (GOP) pass this small record's physical address in RDX (0 = no framebuffer).
//! Layout, little-endian: magic u32 @0 ([`FRAMEBUFFER_MAGIC`], "IFB1"), record size
//! u32 @4 (40), address u64 @8, width u32 @16, height u32 @20, pitch in bytes u32 @24,
//! bits per pixel u32 @28 (only 32 is used), red / green / blue bit positions u8 @32,
//! @33, @34 (8-bit channels), reserved @35–39.

use crate::PhysicalMemory;

/// `"IFB1"` read as a little-endian u32.
pub const FRAMEBUFFER_MAGIC: u32 = u32::from_le_bytes(*b"IFB1");
/// Bytes in the record.
pub const FRAMEBUFFER_RECORD_BYTES: u32 = 40;

/// A linear framebuffer with 32-bit pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framebuffer {
    /// Physical address of the first pixel.
    pub address: u64,
    /// Visible pixels per line.
    pub width: u32,
    /// Lines.
    pub height: u32,
    /// Bytes from one line to the next.
    pub pitch: u32,
    /// Bit position of the 8-bit red channel in a pixel.
    pub red_shift: u8,
    /// Bit position of green.
    pub green_shift: u8,
    /// Bit position of blue.
    pub blue_shift: u8,
}

impl Framebuffer {
    /// Bytes the framebuffer spans.
    pub fn bytes(&self) -> u64 {
        u64::from(self.pitch) * u64::from(self.height)
    }
}

/// Why a framebuffer record was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FramebufferError {
    /// Unreadable or wrong magic/size.
    BadRecord,
    /// Not 32 bits per pixel, a zero dimension, a pitch shorter than a line, or a
    /// channel that does not fit in the pixel.
    Unsupported,
}

/// Reads the record at `address`.
pub fn parse_framebuffer(
    memory: &impl PhysicalMemory,
    address: u64,
) -> Result<Framebuffer, FramebufferError> {
    let u32_at = |offset| memory.read_u32(address + offset).ok_or(FramebufferError::BadRecord);
    if u32_at(0)? != FRAMEBUFFER_MAGIC || u32_at(4)? != FRAMEBUFFER_RECORD_BYTES {
        return Err(FramebufferError::BadRecord);
    }
    let mut shifts = [0u8; 4];
    if !memory.read(address + 32, &mut shifts) {
        return Err(FramebufferError::BadRecord);
    }
    let fb = Framebuffer {
        address: memory.read_u64(address + 8).ok_or(FramebufferError::BadRecord)?,
        width: u32_at(16)?,
        height: u32_at(20)?,
        pitch: u32_at(24)?,
        red_shift: shifts[0],
        green_shift: shifts[1],
        blue_shift: shifts[2],
    };
    let bpp = u32_at(28)?;
    let fits = shifts[..3].iter().all(|&shift| shift <= 24);
    if bpp != 32 || fb.width == 0 || fb.height == 0 || fb.pitch < fb.width * 4 || !fits {
        return Err(FramebufferError::Unsupported);
    }
    Ok(fb)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physical::fake::FakeMemory;

    fn record(memory: &mut FakeMemory, bpp: u32) {
        memory.put_u32(0x100, FRAMEBUFFER_MAGIC);
        memory.put_u32(0x104, 40);
        memory.put_u64(0x108, 0xFD00_0000);
        memory.put_u32(0x110, 1024);
        memory.put_u32(0x114, 768);
        memory.put_u32(0x118, 4096);
        memory.put_u32(0x11C, bpp);
        memory.put(0x120, &[16, 8, 0, 0]);
    }

    #[test]
    fn reads_a_vbe_style_record() {
        let mut memory = FakeMemory::new(0x1000);
        record(&mut memory, 32);
        let fb = parse_framebuffer(&memory, 0x100).unwrap();
        assert_eq!((fb.address, fb.width, fb.height, fb.pitch), (0xFD00_0000, 1024, 768, 4096));
        assert_eq!((fb.red_shift, fb.green_shift, fb.blue_shift), (16, 8, 0));
        assert_eq!(fb.bytes(), 4096 * 768);
    }

    #[test]
    fn refuses_bad_records() {
        let mut memory = FakeMemory::new(0x1000);
        record(&mut memory, 24);
        assert_eq!(parse_framebuffer(&memory, 0x100), Err(FramebufferError::Unsupported));
        memory.put_u32(0x100, 0);
        assert_eq!(parse_framebuffer(&memory, 0x100), Err(FramebufferError::BadRecord));
        assert_eq!(parse_framebuffer(&memory, 0xFFF0), Err(FramebufferError::BadRecord));
    }
}
