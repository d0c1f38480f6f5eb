//! Port I/O instructions (`in`/`out`).

/// Writes a byte to an I/O port.
///
/// # Safety
/// Writing to an I/O port can reprogram devices that access memory (DMA engines,
/// interrupt controllers); the caller must know what the port does.
pub unsafe fn write_u8(port: u16, value: u8) {
    // SAFETY: the caller vouches for the effect of this port write (see `# Safety`).
    unsafe {
        core::arch::asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags))
    }
}

/// Reads a byte from an I/O port.
///
/// # Safety
/// Reading some ports has side effects on devices (acknowledging interrupts, popping FIFOs).
pub unsafe fn read_u8(port: u16) -> u8 {
    let value: u8;
    // SAFETY: the caller vouches for the effect of this port read (see `# Safety`).
    unsafe {
        core::arch::asm!("in al, dx", out("al") value, in("dx") port, options(nomem, nostack, preserves_flags))
    }
    value
}

/// Writes a 32-bit value to an I/O port.
///
/// # Safety
/// As for [`write_u8`].
pub unsafe fn write_u32(port: u16, value: u32) {
    // SAFETY: the caller vouches for the effect of this port write (see `# Safety`).
    unsafe {
        core::arch::asm!("out dx, eax", in("dx") port, in("eax") value, options(nomem, nostack, preserves_flags))
    }
}

/// Reads a 32-bit value from an I/O port.
///
/// # Safety
/// As for [`read_u8`].
pub unsafe fn read_u32(port: u16) -> u32 {
    let value: u32;
    // SAFETY: the caller vouches for the effect of this port read (see `# Safety`).
    unsafe {
        core::arch::asm!("in eax, dx", out("eax") value, in("dx") port, options(nomem, nostack, preserves_flags))
    }
    value
}

/// Writes a 16-bit value to an I/O port.
///
/// # Safety
/// As for [`write_u8`].
pub unsafe fn write_u16(port: u16, value: u16) {
    // SAFETY: the caller vouches for the effect of this port write (see `# Safety`).
    unsafe {
        core::arch::asm!("out dx, ax", in("dx") port, in("ax") value, options(nomem, nostack, preserves_flags))
    }
}

/// Reads a 16-bit value from an I/O port.
///
/// # Safety
/// As for [`read_u8`].
pub unsafe fn read_u16(port: u16) -> u16 {
    let value: u16;
    // SAFETY: the caller vouches for the effect of this port read (see `# Safety`).
    unsafe {
        core::arch::asm!("in ax, dx", out("ax") value, in("dx") port, options(nomem, nostack, preserves_flags))
    }
    value
}
