//! Interrupts aimed at the core that waits for them. A core takes interrupts only
//! while it halts, so a disk wait on core `k` halts only if the disk's interrupt
//! reaches core `k` itself ([`reaches`]); one aimed at a busy bootstrap core would
//! wait there until that core halted.
//!
//! - A controller with a queue per core (NVMe: a completion queue per lane,
//!   `storage`) gets one MSI-X vector per queue, and once the cores are up
//!   ([`aim_at_cores`], from `irq::init`) the entry of lane `k`'s queue is pointed at
//!   core `k`'s local APIC, for good.
//! - A single-queue device with an MSI-X vector (virtio-blk, NVMe without per-lane
//!   vectors) has that one entry re-aimed at whichever core waits for it when the
//!   waiter changes (mask, rewrite, unmask: four register writes, none while the
//!   same core keeps waiting).
//! - Other sources (AHCI's MSI, I/O APIC lines) stay on the bootstrap core; a wait
//!   on another core for them spins, as before.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use ingot_arch::interrupts::DEVICE_VECTORS;
use ingot_platform::mmio::MmioRegion;
use spin::Mutex;

use super::{NEXT_VECTOR, VECTOR_EVENTS, VECTORS, allocate, message};

/// Per device vector: the core its interrupt arrives on (0, the bootstrap core,
/// unless aimed elsewhere).
static TARGET: [AtomicUsize; VECTORS] = [const { AtomicUsize::new(0) }; VECTORS];
/// Per device vector: whether it is an MSI-X entry that [`reaches`] may re-aim.
static MOVABLE: [AtomicBool; VECTORS] = [const { AtomicBool::new(false) }; VECTORS];
/// Per device vector: the MSI-X table and entry of a movable one.
static MOVABLE_ENTRY: Mutex<[Option<(MmioRegion, u16)>; VECTORS]> =
    Mutex::new([const { None }; VECTORS]);

/// Records that `vector` is MSI-X entry `entry` of `table`, which may be re-aimed.
pub(super) fn movable(vector: u8, table: MmioRegion, entry: u16) {
    let Some(index) = super::index_of(vector) else { return };
    MOVABLE_ENTRY.lock()[index] = Some((table, entry));
    MOVABLE[index].store(true, Ordering::Release);
}

/// Whether an interrupt raising one of `events` reaches core `core` directly,
/// after re-aiming a movable one at it if none did; a vector aimed at the core
/// already is left alone, so a core that keeps waiting costs no register write.
pub fn reaches(events: u64, core: usize) -> bool {
    let mut candidate = None;
    for index in 0..VECTORS {
        if VECTOR_EVENTS[index].load(Ordering::Acquire) & events == 0 {
            continue;
        }
        if TARGET[index].load(Ordering::Acquire) == core {
            return true;
        }
        if MOVABLE[index].load(Ordering::Acquire) {
            candidate = Some(index);
        }
    }
    let Some(index) = candidate else { return false };
    let Some(apic_id) = crate::smp::apic_id_of(core) else { return false };
    let entries = MOVABLE_ENTRY.lock();
    let Some((table, entry)) = entries[index].as_ref() else { return false };
    let vector = ingot_arch::interrupts::FIRST_DEVICE_VECTOR + index as u8;
    aim(table, *entry, vector, index, core, apic_id)
}

/// Points MSI-X entry `entry` of `table` (device vector `vector`, at `index`) at core
/// `core` (local APIC `apic_id`) and records it; false if no message can say so.
fn aim(
    table: &MmioRegion,
    entry: u16,
    vector: u8,
    index: usize,
    core: usize,
    apic_id: u32,
) -> bool {
    let Ok(message) = ingot_pci::msi::MsiMessage::fixed(apic_id, vector) else { return false };
    ingot_pci::msi::aim_msix_entry(table, entry, message);
    TARGET[index].store(core, Ordering::Release);
    true
}

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
    let table = super::msix_table(function)?;
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

/// First of the kernel's own event bits, one per lane vector (above every bit a
/// program may wait for, `ingot_abi::events::ALL`).
const FIRST_LANE_EVENT: u32 = 48;
/// Lane event bits handed out.
static LANE_EVENTS_TAKEN: AtomicUsize = AtomicUsize::new(0);

/// Makes the `count` vectors from `first` (from [`enable_msix_per_lane`]) raise
/// `events`, and each lane vector (entry 1 on) also an event bit of its own while
/// such bits last, so a core waiting for its lane is not woken, or kept from
/// halting, by another lane's completions. Returns per lane the events to wait for.
pub fn set_events(first: u8, count: u16, events: u64) -> Vec<u64> {
    let Some(start) = super::index_of(first) else { return Vec::new() };
    let mut lanes = Vec::new();
    for (entry, slot) in VECTOR_EVENTS.iter().skip(start).take(usize::from(count)).enumerate() {
        let mut raised = events;
        if entry > 0 {
            let taken = LANE_EVENTS_TAKEN.fetch_add(1, Ordering::AcqRel);
            let own = if taken < 64 - FIRST_LANE_EVENT as usize {
                1u64 << (FIRST_LANE_EVENT as usize + taken)
            } else {
                0
            };
            raised |= own;
            super::mark_interrupting(own);
            lanes.push(if own != 0 { own } else { events });
        }
        slot.store(raised, Ordering::Release);
    }
    lanes
}

/// Points every per-lane entry at its core's local APIC (entries of cores that do
/// not exist stay on the bootstrap core), printing `ingot: irq vector=<v>
/// msix-entry=<e> aimed at core <c>` for each.
pub fn aim_at_cores() {
    for aimed in AIMED.lock().iter() {
        let Some(apic_id) = crate::smp::apic_id_of(aimed.core) else { continue };
        let Some(index) = super::index_of(aimed.vector) else { continue };
        if aim(&aimed.table, aimed.entry, aimed.vector, index, aimed.core, apic_id) {
            crate::println!(
                "ingot: irq vector={:#x} msix-entry={} aimed at core {}",
                aimed.vector,
                aimed.entry,
                aimed.core
            );
        }
    }
}
