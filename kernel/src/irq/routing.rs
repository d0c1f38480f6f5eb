//! I/O APIC routes for legacy lines: an ISA IRQ through the MADT's interrupt source
//! overrides (ISA default: edge, active high), a PCI INTx line from the function's
//! interrupt-line register (PCI default: level, active low, unless an override says
//! otherwise, as QEMU's `pc` does for IRQs 5, 9, 10 and 11). Drivers ask before the
//! I/O APICs are set up; [`apply`] routes them afterwards.

use alloc::vec::Vec;

use ingot_arch::ioapic::{ENTRY_MASKED, IoApic, LineMode, redirection_entry};
use spin::Mutex;

use crate::println;

#[derive(Clone, Copy)]
struct Request {
    irq: u8,
    vector: u8,
    events: u64,
    pci: bool,
}

/// A routed line: its GSI, the I/O APIC and line, the unmasked entry.
#[derive(Clone, Copy)]
struct Routed {
    gsi: u32,
    io_apic: IoApic,
    line: u32,
    entry: u64,
}

static REQUESTS: Mutex<Vec<Request>> = Mutex::new(Vec::new());
static ROUTED: Mutex<Vec<Routed>> = Mutex::new(Vec::new());

/// Asks for ISA IRQ `irq` (0..16) to deliver `vector`, raising `events`.
pub fn route_isa(irq: u8, vector: u8, events: u64) {
    REQUESTS.lock().push(Request { irq, vector, events, pci: false });
}

/// Asks for the PCI INTx line the firmware routed to IRQ `line` to deliver `vector`.
pub fn route_pci_intx(line: u8, vector: u8, events: u64) {
    REQUESTS.lock().push(Request { irq: line, vector, events, pci: true });
}

/// The GSI and signalling of a legacy IRQ (`ingot_acpi::Madt::legacy_route`; without a
/// MADT, the bus defaults on the GSI of the same number).
fn gsi_of(acpi: Option<&ingot_acpi::Acpi>, irq: u8, pci: bool) -> (u32, LineMode) {
    let (gsi, active_low, level_triggered) = acpi
        .and_then(|acpi| acpi.madt.as_ref())
        .map_or((u32::from(irq), pci, pci), |madt| madt.legacy_route(irq, pci));
    (gsi, LineMode { active_low, level_triggered })
}

/// Routes every requested line.
pub fn apply(acpi: Option<&ingot_acpi::Acpi>) {
    let requests = core::mem::take(&mut *REQUESTS.lock());
    let destination = super::bootstrap_apic_id();
    for request in requests {
        let (gsi, mode) = gsi_of(acpi, request.irq, request.pci);
        let target = crate::smp::io_apics()
            .iter()
            .find(|io| gsi >= io.gsi_base && gsi - io.gsi_base < io.lines())
            .copied();
        let Some(io_apic) = target else {
            println!("ingot: irq {} (gsi {gsi}): no I/O APIC; polled", request.irq);
            continue;
        };
        let Ok(destination) = u8::try_from(destination) else {
            println!("ingot: irq {}: APIC ID {destination} too large; polled", request.irq);
            continue;
        };
        let entry = redirection_entry(request.vector, destination, mode);
        let line = gsi - io_apic.gsi_base;
        if mode.level_triggered
            && let Some(index) = super::index_of(request.vector)
        {
            super::VECTOR_LEVEL_GSI[index].store(gsi + 1, core::sync::atomic::Ordering::Release);
        }
        io_apic.set_entry(line, entry);
        ROUTED.lock().push(Routed { gsi, io_apic, line, entry });
        super::mark_interrupting(request.events);
        println!(
            "ingot: irq {} gsi={gsi} vector={:#x} {}",
            request.irq,
            request.vector,
            if mode.level_triggered { "level" } else { "edge" }
        );
    }
}

fn set(gsi: u32, masked: bool) {
    if let Some(routed) = ROUTED.lock().iter().find(|routed| routed.gsi == gsi) {
        let entry = if masked { routed.entry | ENTRY_MASKED } else { routed.entry };
        routed.io_apic.set_entry(routed.line, entry);
    }
}

/// Masks routed line `gsi` (a level-triggered line whose device still asserts it).
pub fn mask(gsi: u32) {
    set(gsi, true);
}

/// Unmasks routed line `gsi`.
pub fn unmask(gsi: u32) {
    set(gsi, false);
}
