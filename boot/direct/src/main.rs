//! The Ingot kernel image for direct boot (PVH and Multiboot1).
//!
//! This crate is the bottom of the kernel: the entry stub ([`stub`]), the fixed-address
//! API table, the entry stubs of BareMetal's table ([`baremetal`]), and `kmain64`, which turns the loader's structures into a
//! [`ingot_bootinfo::BootInfo`] and hands over to `ingot_kernel::start`. It belongs to
//! the unsafe tier only because exported symbols and fixed sections need
//! `#[unsafe(no_mangle)]` and `#[unsafe(link_section)]`.
#![no_std]
#![no_main]

mod baremetal;
mod stub;

use ingot_abi::{API_MAGIC, API_TABLE_BYTES, API_VERSION, ApiTable};
use ingot_kernel::{api, api_cores, api_net, irq, pci, program_run};

/// Ingot's native call table, placed at `ingot_abi::API_TABLE_ADDRESS` by the linker script.
#[used]
#[unsafe(link_section = ".ingot.api")]
static API_TABLE: ApiTable = ApiTable {
    magic: API_MAGIC,
    version: API_VERSION,
    size: API_TABLE_BYTES,
    console_write: api::console_write,
    console_read: api::console_read,
    memory_info: api::memory_info,
    time_ns: api_cores::time_ns,
    delay_us: api_cores::delay_us,
    core_id: api_cores::core_id,
    core_count: api_cores::core_count,
    task_submit: api_cores::task_submit,
    task_run_one: api_cores::task_run_one,
    group_create: api_cores::group_create,
    group_wait: api_cores::group_wait,
    group_release: api_cores::group_release,
    core_stats: api_cores::core_stats,
    run_on_core: api_cores::run_on_core,
    cores_busy: api_cores::cores_busy,
    spin_lock: api_cores::spin_lock,
    spin_unlock: api_cores::spin_unlock,
    reboot: api_cores::reboot,
    shutdown: api_cores::shutdown,
    disk_count: api::disk_count,
    disk_info: api::disk_info,
    disk_read: api::disk_read,
    disk_write: api::disk_write,
    disk_flush: api::disk_flush,
    net_count: api_net::net_count,
    net_info: api_net::net_info,
    net_send: api_net::net_send,
    net_receive: api_net::net_receive,
    net_send_batch: api_net::net_send_batch,
    net_receive_batch: api_net::net_receive_batch,
    program_run: program_run::program_run,
    disk_submit: api::disk_submit,
    disk_poll: api::disk_poll,
    disk_wait: api::disk_wait,
    program_run_args: program_run::program_run_args,
    pci_count: pci::pci_count,
    pci_info: pci::pci_info,
    wait_events: irq::wait::wait_events,
    interrupt_events: irq::wait::interrupt_events,
    core_halted_ns: irq::wait::core_halted_ns,
    task_run_some: api_cores::task_run_some,
};

/// Called by the stub in long mode on the boot stack. `extra` is the Multiboot
/// loader magic for Multiboot, the framebuffer description (or 0) for Ingot's loaders.
#[unsafe(no_mangle)]
extern "sysv64" fn kmain64(protocol: u32, info_address: u64, extra: u64) -> ! {
    use ingot_bootinfo::BootProtocol;
    let memory = ingot_platform::physical::IdentityMemory;
    let info = match protocol {
        stub::PROTOCOL_PVH => ingot_bootinfo::parse_pvh(&memory, info_address),
        stub::PROTOCOL_MULTIBOOT => {
            ingot_bootinfo::parse_multiboot(&memory, extra as u32, info_address)
        }
        stub::PROTOCOL_BIOS => {
            ingot_bootinfo::parse_loader(&memory, BootProtocol::Bios, info_address, extra)
        }
        stub::PROTOCOL_UEFI => {
            ingot_bootinfo::parse_loader(&memory, BootProtocol::Uefi, info_address, extra)
        }
        _ => Err(ingot_bootinfo::ParseError::BadMagic),
    };
    baremetal::install();
    let api_table = core::ptr::addr_of!(API_TABLE) as u64;
    ingot_kernel::start(info, api_table)
}
