//! Keyboards: the PS/2 keyboard behind the 8042, polled, feeding the console's input
//! (`console::read_byte` takes serial bytes first, then keyboard bytes, each source in
//! the order typed).
//!
//! Interrupts stay off (as for every driver today): the keyboard is polled every time
//! a program asks for input. The 8042 holds one byte and the keyboard about sixteen
//! more, so a program that polls while it waits for a line (the monitor) loses no
//! keys; one that does not ask for input for a long time may lose keys typed meanwhile.

use ingot_platform::io_ports::IoPorts;
use ingot_ps2::{Ps2Error, Ps2Keyboard};
use spin::Mutex;

use crate::println;
use crate::time::KernelClock;

static KEYBOARD: Mutex<Option<Ps2Keyboard<IoPorts>>> = Mutex::new(None);

/// Sets up the PS/2 keyboard if ACPI does not rule out an 8042 (`may_have_8042`).
pub fn init(may_have_8042: bool) {
    if !may_have_8042 {
        println!("ingot: ps2: no 8042 (ACPI boot flags)");
        return;
    }
    let Some(ports) = crate::console::device_ports() else { return };
    match Ps2Keyboard::start(ports, &KernelClock) {
        Ok(keyboard) => {
            *KEYBOARD.lock() = Some(keyboard);
            println!("ingot: ps2 keyboard ready");
        }
        Err(Ps2Error::NoController) => println!("ingot: ps2: no 8042 controller"),
        Err(error) => println!("ingot: ps2: keyboard not usable: {error:?}"),
    }
}

/// The next byte typed on the PS/2 keyboard, if any.
pub fn read_byte() -> Option<u8> {
    KEYBOARD.lock().as_mut().and_then(Ps2Keyboard::read_byte)
}
