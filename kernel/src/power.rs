//! Reboot and power-off, with the fallbacks a PC may need.
//!
//! Reboot: the FADT reset register (when the table says it is supported), then the
//! keyboard controller's reset line, then a triple fault. Power-off: ACPI S5 through
//! PM1a/PM1b control with the `_S5_` sleep type from the DSDT, then the ports QEMU,
//! Bochs and VirtualBox accept; if all fail the core halts, with a message.

use ingot_acpi::Acpi;
use ingot_hal::{PortIo, PortIoWide};
use spin::Once;

use crate::println;

const SLEEP_ENABLE: u16 = 1 << 13;

#[derive(Clone, Copy, Default)]
struct PowerControl {
    reset_port: Option<(u16, u8)>,
    pm1a: Option<u16>,
    pm1b: Option<u16>,
    s5: Option<(u8, u8)>,
    has_8042: bool,
}

static CONTROL: Once<PowerControl> = Once::new();

/// Records what the FADT and DSDT say about reset and S5.
pub fn init(acpi: Option<&Acpi>) {
    let fadt = acpi.and_then(|acpi| acpi.fadt.as_ref());
    let reset_port = fadt
        .and_then(|fadt| fadt.reset)
        .and_then(|reset| reset.register.io_port().map(|port| (port, reset.value)));
    CONTROL.call_once(|| PowerControl {
        reset_port,
        pm1a: fadt.and_then(|fadt| fadt.pm1a_control),
        pm1b: fadt.and_then(|fadt| fadt.pm1b_control),
        s5: acpi.and_then(|acpi| acpi.s5).map(|s5| (s5.a, s5.b)),
        has_8042: fadt.is_none_or(|fadt| fadt.has_8042()),
    });
}

/// Writes one power-control port through a handle for that port alone.
fn write_u8(port: u16, value: u8) {
    if let Some(mut ports) = crate::console::ports(port, 1) {
        ports.write_u8(port, value);
    }
}

fn write_u16(port: u16, value: u16) {
    if let Some(mut ports) = crate::console::ports(port, 2) {
        ports.write_u16(port, value);
    }
}

fn read_u8(port: u16) -> u8 {
    crate::console::ports(port, 1).map_or(u8::MAX, |mut ports| ports.read_u8(port))
}

/// Resets the machine. Does not return.
pub fn reboot() -> ! {
    println!("ingot: rebooting");
    let control = CONTROL.get().copied().unwrap_or_default();
    if let Some((port, value)) = control.reset_port {
        write_u8(port, value);
        crate::time::delay_us(50_000);
    }
    if control.has_8042 {
        for _ in 0..100_000 {
            if read_u8(0x64) & 0x02 == 0 {
                break;
            }
        }
        write_u8(0x64, 0xFE);
        crate::time::delay_us(50_000);
    }
    // PCI reset control register (port 0xCF9): full reset.
    write_u8(0xCF9, 0x06);
    crate::time::delay_us(50_000);
    ingot_platform::cpu_tables::triple_fault()
}

/// Powers the machine off. Does not return.
pub fn shutdown() -> ! {
    println!("ingot: shutting down");
    let control = CONTROL.get().copied().unwrap_or_default();
    if let (Some(pm1a), Some((a, b))) = (control.pm1a, control.s5) {
        write_u16(pm1a, (u16::from(a) << 10) | SLEEP_ENABLE);
        if let Some(pm1b) = control.pm1b {
            write_u16(pm1b, (u16::from(b) << 10) | SLEEP_ENABLE);
        }
        crate::time::delay_us(50_000);
    }
    write_u16(0x604, 0x2000); // QEMU (q35/pc with ACPI at 0x600)
    write_u16(0xB004, 0x2000); // Bochs, old QEMU
    write_u16(0x4004, 0x3400); // VirtualBox
    crate::time::delay_us(50_000);
    println!("ingot: power-off failed; halting");
    ingot_arch::cpu::halt_forever()
}
