//! Keyboards: the PS/2 keyboard behind the 8042, polled, feeding the console's input
//! (`console::read_byte` takes serial bytes first, then keyboard bytes, each source in
//! the order typed).
//!
//! Interrupts stay off (as for every driver today): the keyboard is polled every time
//! a program asks for input. The 8042 holds one byte and the keyboard about sixteen
//! more, so a program that polls while it waits for a line (the monitor) loses no
//! keys; one that does not ask for input for a long time may lose keys typed meanwhile.

use alloc::vec::Vec;

use ingot_platform::io_ports::IoPorts;
use ingot_ps2::{Ps2Error, Ps2Keyboard};
use spin::Mutex;

use crate::println;
use crate::time::KernelClock;

static KEYBOARD: Mutex<Option<Ps2Keyboard<IoPorts>>> = Mutex::new(None);

/// A HID boot keyboard on an xHCI controller.
#[cfg(feature = "xhci")]
pub type UsbKeyboard = ingot_xhci::Keyboard<
    ingot_platform::mmio::MmioRegion,
    ingot_platform::dma::DmaRegion,
    KernelClock,
>;
/// Without the xhci driver family there are no USB keyboards.
#[cfg(not(feature = "xhci"))]
pub type UsbKeyboard = core::convert::Infallible;

static USB_KEYBOARDS: Mutex<Vec<UsbKeyboard>> = Mutex::new(Vec::new());

/// Keeps the USB keyboards the xHCI driver found.
pub fn install_usb(keyboards: Vec<UsbKeyboard>) {
    for index in 0..keyboards.len() {
        println!("ingot: usb keyboard {index} ready");
    }
    *USB_KEYBOARDS.lock() = keyboards;
}

/// Sets up the PS/2 keyboard if ACPI does not rule out an 8042 (`may_have_8042`).
pub fn init(may_have_8042: bool) {
    if !may_have_8042 {
        println!("ingot: ps2: no 8042 (ACPI boot flags)");
        return;
    }
    // The 8042's data port (0x60) and status/command port (0x64), nothing else.
    let ranges = [ingot_hal::PortRange::new(0x60, 1), ingot_hal::PortRange::new(0x64, 1)];
    let Some(ports) =
        crate::console::device_ports(&ranges.into_iter().flatten().collect::<alloc::vec::Vec<_>>())
    else {
        return;
    };
    match Ps2Keyboard::start(ports, &KernelClock) {
        Ok(keyboard) => {
            *KEYBOARD.lock() = Some(keyboard);
            println!("ingot: ps2 keyboard ready");
        }
        Err(Ps2Error::NoController) => println!("ingot: ps2: no 8042 controller"),
        Err(error) => println!("ingot: ps2: keyboard not usable: {error:?}"),
    }
}

/// The next byte typed on the PS/2 keyboard, else on a USB keyboard, if any.
pub fn read_byte() -> Option<u8> {
    KEYBOARD
        .lock()
        .as_mut()
        .and_then(Ps2Keyboard::read_byte)
        .or_else(|| USB_KEYBOARDS.lock().iter_mut().find_map(read_usb))
}

#[cfg(feature = "xhci")]
fn read_usb(keyboard: &mut UsbKeyboard) -> Option<u8> {
    keyboard.read_byte()
}

#[cfg(not(feature = "xhci"))]
fn read_usb(keyboard: &mut UsbKeyboard) -> Option<u8> {
    match *keyboard {}
}
