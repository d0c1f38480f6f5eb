//! Keyboards: the PS/2 keyboard behind the 8042 and USB keyboards, feeding the
//! console's input (`console::read_byte` takes the interrupt buffer first, then
//! serial bytes, then keyboard bytes, each source in the order typed).
//!
//! With an I/O APIC, [`enable_interrupts`] routes the 8042's IRQ 1 and COM1's IRQ 4:
//! their handlers drain the controller and the UART into [`BUFFER`] (256 bytes, so fast
//! typing loses no keys even while the program is busy elsewhere) and raise the input
//! event that `wait_events` waits for. Without one, or for USB keyboards (xHCI is
//! polled), input is polled every time a program asks for it; the 8042 holds one byte
//! and the keyboard about sixteen more.

use alloc::vec::Vec;

use ingot_platform::io_ports::IoPorts;
use ingot_ps2::{Ps2Error, Ps2Keyboard};
use spin::Mutex;

use crate::println;
use crate::time::KernelClock;

static KEYBOARD: Mutex<Option<Ps2Keyboard<IoPorts>>> = Mutex::new(None);

/// Bytes the interrupt handlers drained, oldest first.
static BUFFER: Mutex<InputBuffer> = Mutex::new(InputBuffer::new());

const BUFFER_BYTES: usize = 256;

/// A ring of input bytes; when full, newer bytes are dropped and counted.
struct InputBuffer {
    bytes: [u8; BUFFER_BYTES],
    start: usize,
    len: usize,
    dropped: u64,
}

impl InputBuffer {
    const fn new() -> Self {
        Self { bytes: [0; BUFFER_BYTES], start: 0, len: 0, dropped: 0 }
    }

    fn push(&mut self, byte: u8) {
        if self.len == BUFFER_BYTES {
            self.dropped += 1;
            return;
        }
        self.bytes[(self.start + self.len) % BUFFER_BYTES] = byte;
        self.len += 1;
    }

    fn pop(&mut self) -> Option<u8> {
        (self.len > 0).then(|| {
            let byte = self.bytes[self.start];
            (self.start, self.len) = ((self.start + 1) % BUFFER_BYTES, self.len - 1);
            byte
        })
    }
}

/// The oldest byte the interrupt handlers buffered.
pub fn buffered_byte() -> Option<u8> {
    BUFFER.lock().pop()
}

/// IRQ 1 handler: drains the 8042 into the buffer.
fn drain_keyboard() {
    if let Some(keyboard) = KEYBOARD.lock().as_mut() {
        let mut buffer = BUFFER.lock();
        while let Some(byte) = keyboard.read_byte() {
            buffer.push(byte);
        }
    }
}

/// IRQ 4 handler: drains COM1 into the buffer.
fn drain_serial() {
    let mut buffer = BUFFER.lock();
    crate::console::drain_serial(|byte| buffer.push(byte));
}

/// Routes IRQ 1 (PS/2 keyboard, if any) and IRQ 4 (COM1) to input-event vectors and
/// turns the devices' interrupts on; only with I/O APICs (else the legacy PICs could
/// deliver them on exception vectors). USB keyboards keep the input event polled.
pub fn enable_interrupts() {
    use ingot_abi::events::INPUT;
    if crate::smp::io_apics().is_empty() {
        return;
    }
    let mut keyboard = KEYBOARD.lock();
    if let Some(keyboard) = keyboard.as_mut()
        && let Some(vector) = crate::irq::allocate(INPUT, Some(drain_keyboard))
        && keyboard.enable_interrupt(&KernelClock).is_ok()
    {
        crate::irq::route_isa(1, vector, INPUT);
    }
    drop(keyboard);
    if crate::console::has_serial()
        && let Some(vector) = crate::irq::allocate(INPUT, Some(drain_serial))
    {
        crate::console::enable_serial_interrupt();
        crate::irq::route_isa(4, vector, INPUT);
    }
    if !USB_KEYBOARDS.lock().is_empty() {
        crate::irq::keep_polled(INPUT);
    }
}

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
