//! Port I/O for drivers, through [`ingot_hal::PortIo`].

use core::sync::atomic::{AtomicBool, Ordering};

/// The machine's I/O port space. Only one value exists (see [`IoPorts::take`]); drivers
/// get it (or a copy the kernel hands out) instead of issuing `in`/`out` themselves.
#[derive(Debug)]
pub struct IoPorts {
    _private: (),
}

static TAKEN: AtomicBool = AtomicBool::new(false);

impl IoPorts {
    /// Returns the port space the first time it is called, `None` afterwards.
    pub fn take() -> Option<Self> {
        (!TAKEN.swap(true, Ordering::AcqRel)).then_some(Self { _private: () })
    }

    /// A second handle for a driver that owns its ports exclusively (the console UART,
    /// the panic path). Keeping handles apart is the kernel's job, as it is on real hardware.
    pub fn share(&self) -> Self {
        Self { _private: () }
    }
}

impl ingot_hal::PortIo for IoPorts {
    fn read_u8(&mut self, port: u16) -> u8 {
        // SAFETY: the kernel gives each driver only the ports of its own device, so a
        // read here cannot disturb memory the kernel relies on.
        unsafe { ingot_arch::port::read_u8(port) }
    }

    fn write_u8(&mut self, port: u16, value: u8) {
        // SAFETY: as above; no device reachable through the ports handed out is a DMA
        // engine that this layer has not set up.
        unsafe { ingot_arch::port::write_u8(port, value) }
    }
}

impl ingot_hal::PortIoWide for IoPorts {
    fn read_u16(&mut self, port: u16) -> u16 {
        // SAFETY: as for `read_u8`: only the ports of the device the handle was given for.
        unsafe { ingot_arch::port::read_u16(port) }
    }

    fn write_u16(&mut self, port: u16, value: u16) {
        // SAFETY: as for `write_u8`.
        unsafe { ingot_arch::port::write_u16(port, value) }
    }

    fn read_u32(&mut self, port: u16) -> u32 {
        // SAFETY: as for `read_u8`.
        unsafe { ingot_arch::port::read_u32(port) }
    }

    fn write_u32(&mut self, port: u16, value: u32) {
        // SAFETY: as for `write_u8`.
        unsafe { ingot_arch::port::write_u32(port, value) }
    }
}
