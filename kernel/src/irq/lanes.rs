//! Interrupts aimed at the core that waits for them: a controller with a queue per
//! core (NVMe: a completion queue per lane, `storage`) gets one MSI-X vector per
//! queue, and once the cores are up ([`aim_at_cores`], from `irq::init`) the entry of
//! lane `k`'s queue is pointed at core `k`'s local APIC. A completion on lane `k`
//! then interrupts core `k` itself, which is halted in its disk wait, instead of the
//! bootstrap core, which takes interrupts only while it halts and would have to
//! forward the event by IPI.

use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use ingot_arch::interrupts::DEVICE_VECTORS;
use ingot_platform::mmio::MmioRegion;
use spin::Mutex;

use super::{NEXT_VECTOR, allocate, message};

/// An MSI-X entry to point at a core once the cores are up.
struct Aimed {
    table: MmioRegion,
    entry: u16,
    vector: u8,
    core: usize,
}

static AIMED: Mutex<Vec<Aimed>> = Mutex::new(Vec::new());

/// Device vectors not handed out yet.
pub fn vectors_left() -> usize {
    usize::from(DEVICE_VECTORS.saturating_sub(NEXT_VECTOR.load(Ordering::Acquire)))
}

/// Programs MSI-X entries `0..entries` of `function`, each with a vector of its own
/// raising `events`, all aimed at the bootstrap core for now; entry `k + 1` is
/// aimed at core `k` by [`aim_at_cores`]. Returns the first vector (they are
/// consecutive), or `None` (and a line saying why) without MSI-X or vectors.
pub fn enable_msix_per_lane(
    config: &ingot_platform::pci_config::ConfigAccess,
    function: &ingot_pci::PciFunction,
    events: u64,
    entries: u16,
) -> Option<u8> {
    use ingot_pci::msi;
    if vectors_left() < usize::from(entries) {
        return None;
    }
    let (bar, offset, len) = msi::msix_table_location(function).ok()?;
    let table = crate::memory::with_kernel_memory(|memory| {
        MmioRegion::from_bar(&mut memory.space, &mut memory.frames, &bar, offset, len)
    })?
    .ok()?;
    let mut programmed = Vec::new();
    let mut vectors = Vec::new();
    for entry in 0..entries {
        let vector = allocate(events, None)?;
        programmed.push((entry, message(vector)?));
        vectors.push(vector);
    }
    if let Err(error) = msi::enable_msix(config, function, &table, &programmed) {
        crate::println!("ingot: irq: {} MSI-X not enabled: {error:?}", function.address);
        return None;
    }
    let mut aimed = AIMED.lock();
    for (entry, &vector) in (0..entries).zip(&vectors).skip(1) {
        let core = usize::from(entry) - 1;
        aimed.push(Aimed { table: table.clone(), entry, vector, core });
    }
    vectors.first().copied()
}

/// Makes the `count` vectors from `first` (from [`enable_msix_per_lane`]) raise
/// `events`.
pub fn set_events(first: u8, count: u16, events: u64) {
    let Some(start) = super::index_of(first) else { return };
    for slot in super::VECTOR_EVENTS.iter().skip(start).take(usize::from(count)) {
        slot.store(events, Ordering::Release);
    }
}

/// Points every per-lane entry at its core's local APIC (entries of cores that do
/// not exist stay on the bootstrap core).
pub fn aim_at_cores() {
    for aimed in AIMED.lock().iter() {
        let Some(apic_id) = crate::smp::apic_id_of(aimed.core) else { continue };
        if let Ok(message) = ingot_pci::msi::MsiMessage::fixed(apic_id, aimed.vector) {
            ingot_pci::msi::aim_msix_entry(&aimed.table, aimed.entry, message);
        }
    }
}
