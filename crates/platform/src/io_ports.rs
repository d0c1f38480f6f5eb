//! Port I/O for drivers, through [`ingot_hal::PortIo`], limited per handle.
//!
//! There is one handle on the whole port space ([`IoPorts::take`], once); the kernel
//! keeps it and makes handles limited to one device's ports from it
//! ([`IoPorts::grant`], [`IoPorts::for_bar`]): the console's UART, an I/O BAR, the
//! PIT, the power-control ports. Every access through a handle is checked against its
//! [`PortSet`] (a few compares): inside, it is carried out; outside, a read returns
//! all ones (as a missing device would) and a write is dropped. So a driver given a
//! handle can touch its own device's ports and nothing else.

use core::sync::atomic::{AtomicBool, Ordering};

use ingot_hal::{PortRange, PortSet};
use ingot_pci::Bar;

/// The right to use the I/O ports of one [`PortSet`].
#[derive(Debug)]
pub struct IoPorts {
    ports: PortSet,
}

static TAKEN: AtomicBool = AtomicBool::new(false);

impl IoPorts {
    /// Returns a handle on every port the first time it is called, `None` afterwards.
    pub fn take() -> Option<Self> {
        let ports = PortSet::new(&[PortRange::ALL])?;
        (!TAKEN.swap(true, Ordering::AcqRel)).then_some(Self { ports })
    }

    /// A handle on `ranges` only, if this handle holds all of them (and there are at
    /// most [`PortSet::MAX_RANGES`]).
    pub fn grant(&self, ranges: &[PortRange]) -> Option<Self> {
        let ports = PortSet::new(ranges)?;
        self.ports.covers(&ports).then_some(Self { ports })
    }

    /// A handle on `count` ports from `first`, if this handle holds them.
    pub fn range(&self, first: u16, count: u16) -> Option<Self> {
        self.grant(&[PortRange::new(first, count)?])
    }

    /// A handle on the I/O window of `bar`, if it is an I/O BAR this handle holds.
    pub fn for_bar(&self, bar: &Bar) -> Option<Self> {
        let (first, count) = bar.io()?;
        self.range(first, count)
    }

    /// The ports this handle may use.
    pub fn ports(&self) -> &PortSet {
        &self.ports
    }
}

impl ingot_hal::PortIo for IoPorts {
    fn read_u8(&mut self, port: u16) -> u8 {
        if !self.ports.contains(port, 1) {
            return u8::MAX;
        }
        // SAFETY: the port belongs to this handle (checked), which the kernel made for
        // the device that owns it; reading a device register cannot touch memory the
        // kernel relies on except through DMA the device's driver set up.
        unsafe { ingot_arch::port::read_u8(port) }
    }

    fn write_u8(&mut self, port: u16, value: u8) {
        if self.ports.contains(port, 1) {
            // SAFETY: as for `read_u8`.
            unsafe { ingot_arch::port::write_u8(port, value) }
        }
    }
}

impl ingot_hal::PortIoWide for IoPorts {
    fn read_u16(&mut self, port: u16) -> u16 {
        if !self.ports.contains(port, 2) {
            return u16::MAX;
        }
        // SAFETY: as for `read_u8`: only ports of this handle (checked).
        unsafe { ingot_arch::port::read_u16(port) }
    }

    fn write_u16(&mut self, port: u16, value: u16) {
        if self.ports.contains(port, 2) {
            // SAFETY: as for `read_u8`.
            unsafe { ingot_arch::port::write_u16(port, value) }
        }
    }

    fn read_u32(&mut self, port: u16) -> u32 {
        if !self.ports.contains(port, 4) {
            return u32::MAX;
        }
        // SAFETY: as for `read_u8`.
        unsafe { ingot_arch::port::read_u32(port) }
    }

    fn write_u32(&mut self, port: u16, value: u32) {
        if self.ports.contains(port, 4) {
            // SAFETY: as for `read_u8`.
            unsafe { ingot_arch::port::write_u32(port, value) }
        }
    }
}
