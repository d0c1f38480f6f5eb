//! The benchmark floor: the same entry stub and image layout as the kernel, but it
//! only prints the ready marker on COM1 and stops. `cargo xtask bench boot` compares
//! the kernel's time to ready against this image's under identical QEMU flags. It then
//! ends QEMU through isa-debug-exit (status 1), so instruction-counting runs (which read
//! the plugin's total at QEMU exit) stop right after the marker; elsewhere it halts.
#![no_std]
#![no_main]

// The protocol constants are for the kernel's `kmain64`; the floor ignores them.
#[path = "../stub.rs"]
#[allow(dead_code)]
mod stub;

use ingot_platform::io_ports::IoPorts;

// No kernel behind the floor's copy of BareMetal's table: its quads stay zero.
core::arch::global_asm!(
    ".global baremetal_input, baremetal_output, baremetal_net_tx, baremetal_net_rx",
    ".global baremetal_nvs_read, baremetal_nvs_write, baremetal_system, baremetal_user",
    ".set baremetal_input, 0",
    ".set baremetal_output, 0",
    ".set baremetal_net_tx, 0",
    ".set baremetal_net_rx, 0",
    ".set baremetal_nvs_read, 0",
    ".set baremetal_nvs_write, 0",
    ".set baremetal_system, 0",
    ".set baremetal_user, 0",
);

#[unsafe(no_mangle)]
extern "sysv64" fn kmain64(_protocol: u32, _info_address: u64, _extra: u64) -> ! {
    if let Some(ports) = IoPorts::take().and_then(|all| all.range(ingot_uart16550::COM1, 8)) {
        let mut serial = ingot_uart16550::Uart16550::new(ports, ingot_uart16550::COM1);
        serial.write_bytes(b"ingot: ready\n");
    }
    ingot_arch::cpu::qemu_debug_exit(0);
    ingot_arch::cpu::halt_forever()
}

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo<'_>) -> ! {
    ingot_arch::cpu::halt_forever()
}
