//! The kernel console: COM1, and the framebuffer text console when a loader set up a
//! framebuffer. Both get the same text; the screen is drawn first, so a line seen on
//! serial is already on the screen.

use core::fmt::Write;

use ingot_bootinfo::Framebuffer;
use ingot_fbconsole::{Colours, Console};
use ingot_hal::PortRange;
use ingot_pci::Bar;
use ingot_platform::framebuffer::{FramebufferMemory, FramebufferUnusable};
use ingot_platform::io_ports::IoPorts;
use ingot_uart16550::{COM1, Uart16550};
use spin::Mutex;

static CONSOLE: Mutex<Option<Uart16550<IoPorts>>> = Mutex::new(None);
static SCREEN: Mutex<Option<Console<FramebufferMemory>>> = Mutex::new(None);

/// Starts the screen console on `fb`; returns its size in text columns and rows.
pub fn attach_framebuffer(fb: &Framebuffer) -> Result<(usize, usize), FramebufferUnusable> {
    let memory = FramebufferMemory::take(fb)?;
    let colours = Colours::grey_on_black(fb.red_shift, fb.green_shift, fb.blue_shift);
    let console = Console::new(memory, colours).ok_or(FramebufferUnusable::BadGeometry)?;
    let size = console.size();
    *SCREEN.lock() = Some(console);
    Ok(size)
}

/// Sends formatted text to the screen console, if there is one.
fn screen_print(args: core::fmt::Arguments<'_>) {
    if let Some(screen) = SCREEN.lock().as_mut() {
        let _ = screen.write_fmt(args);
    }
}
/// A second handle on the UART's ports, kept for the fault path only.
static EMERGENCY_PORTS: Mutex<Option<IoPorts>> = Mutex::new(None);
/// The handle on the whole port space. It never leaves this module: everything else
/// gets a handle limited to the ports of one device ([`ports`], [`device_ports`]).
static PORT_SPACE: Mutex<Option<IoPorts>> = Mutex::new(None);
/// The 16550's eight registers.
const UART_PORTS: u16 = 8;

/// Sets up the serial console. Output before this is dropped.
pub fn init() {
    if let Some(all) = IoPorts::take() {
        *EMERGENCY_PORTS.lock() = all.range(COM1, UART_PORTS);
        if let Some(uart) = all.range(COM1, UART_PORTS) {
            *CONSOLE.lock() = Some(Uart16550::new(uart, COM1));
        }
        *PORT_SPACE.lock() = Some(all);
    }
}

/// A handle on `count` ports from `first`, for kernel code outside the console (the
/// timer, the interrupt controllers, power control).
pub fn ports(first: u16, count: u16) -> Option<IoPorts> {
    PORT_SPACE.lock().as_ref()?.range(first, count)
}

/// Writes raw bytes (program output) to the console.
pub fn write_bytes(bytes: &[u8]) {
    if let Some(screen) = SCREEN.lock().as_mut() {
        screen.write_bytes(bytes);
    }
    if let Some(uart) = CONSOLE.lock().as_mut() {
        uart.write_bytes(bytes);
    }
}

/// Reads one waiting input byte: serial first, then the keyboards.
pub fn read_byte() -> Option<u8> {
    crate::input::buffered_byte()
        .or_else(|| CONSOLE.lock().as_mut().and_then(Uart16550::read_byte))
        .or_else(crate::input::read_byte)
}

/// Whether COM1 answered at start.
pub fn has_serial() -> bool {
    CONSOLE.lock().as_ref().is_some_and(Uart16550::is_present)
}

/// Turns on COM1's receive interrupt (IRQ 4).
pub fn enable_serial_interrupt() {
    if let Some(uart) = CONSOLE.lock().as_mut() {
        uart.enable_receive_interrupt();
    }
}

/// Hands every byte waiting in COM1 to `sink` (the IRQ 4 handler).
pub fn drain_serial(mut sink: impl FnMut(u8)) {
    if let Some(uart) = CONSOLE.lock().as_mut() {
        while let Some(byte) = uart.read_byte() {
            sink(byte);
        }
    }
}

/// Formats to the console; used by `println!`.
pub fn print(args: core::fmt::Arguments<'_>) {
    screen_print(args);
    if let Some(uart) = CONSOLE.lock().as_mut() {
        let _ = uart.write_fmt(args);
    }
}

/// Formats to the console even if a fault struck while the console was locked (the
/// interrupted write never resumes, so the fault path takes its own handle).
pub fn print_emergency(args: core::fmt::Arguments<'_>) {
    if let Some(mut screen) = SCREEN.try_lock()
        && let Some(screen) = screen.as_mut()
    {
        let _ = screen.write_fmt(args);
    }
    if let Some(mut console) = CONSOLE.try_lock() {
        if let Some(uart) = console.as_mut() {
            let _ = uart.write_fmt(args);
        }
        return;
    }
    let ports = EMERGENCY_PORTS.try_lock().and_then(|mut ports| ports.take());
    if let Some(ports) = ports {
        let mut uart = Uart16550::new(ports, COM1);
        let _ = uart.write_str("\n");
        let _ = uart.write_fmt(args);
        *EMERGENCY_PORTS.lock() = Some(uart.into_ports());
    }
}

/// `println!` for the kernel console.
#[macro_export]
macro_rules! println {
    () => { $crate::println!("") };
    ($($arg:tt)*) => { $crate::console_print(format_args!("{}\n", format_args!($($arg)*))) };
}

/// A handle on `ranges` only, for a device driver (the ports of its own device).
pub fn device_ports(ranges: &[PortRange]) -> Option<IoPorts> {
    PORT_SPACE.lock().as_ref()?.grant(ranges)
}

/// A handle on the I/O window of `bar`, for the driver of its device.
#[cfg_attr(not(feature = "virtio"), allow(dead_code))]
pub fn bar_ports(bar: &Bar) -> Option<IoPorts> {
    PORT_SPACE.lock().as_ref()?.for_bar(bar)
}
