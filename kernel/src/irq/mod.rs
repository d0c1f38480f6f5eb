//! Device interrupts: a vector per source, handlers that only record the event and
//! wake the core waiting for it, and the program's wait call ([`wait`]).
//!
//! A driver that can interrupt asks for a vector with [`allocate`] (the event bits it
//! raises, and optionally a short service routine, for devices whose FIFO must be
//! drained to keep data: the PS/2 keyboard and the serial port), then programs MSI or
//! MSI-X with [`message`], or asks for an I/O APIC line with [`route_isa`] or
//! [`route_pci_intx`] (applied by [`init`] once the I/O APICs are up). Every device
//! vector enters [`dispatch`] on the bootstrap core, whose APIC ID is the destination
//! of every message and line (except the per-lane vectors of [`aim`], aimed at
//! their lane's core once the cores are up): it runs the service routine, masks a level-triggered
//! line (the device keeps it asserted until the program has polled it; the next wait
//! unmasks it), and raises the event through `ingot_events::Events`, which sends a
//! wake-up IPI to any other core waiting for it. The kernel runs with interrupts off
//! except while a core halts, so a handler never interrupts kernel code holding a lock.

pub mod aim;
mod routing;
pub mod wait;

use core::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, Ordering};

use ingot_arch::interrupts::{DEVICE_VECTORS, FIRST_DEVICE_VECTOR, WAKE_VECTOR};
use ingot_events::{Events, HaltedTime};
use ingot_pci::msi::MsiMessage;
use spin::Mutex;

pub use routing::{route_isa, route_pci_intx};

const VECTORS: usize = DEVICE_VECTORS as usize;

static EVENTS: Events = Events::new();
static HALTED: HaltedTime = HaltedTime::new();
/// Per device vector: the event bits it raises (0 = unused).
static VECTOR_EVENTS: [AtomicU64; VECTORS] = [const { AtomicU64::new(0) }; VECTORS];
/// Per device vector: the level-triggered I/O APIC line it arrives on, as GSI + 1
/// (0 = edge-triggered or a message): the handler masks it.
static VECTOR_LEVEL_GSI: [AtomicU32; VECTORS] = [const { AtomicU32::new(0) }; VECTORS];
/// What a handler runs before raising its event (drains a device FIFO).
type Service = Option<fn()>;
/// Per device vector: its service routine.
static VECTOR_SERVICE: Mutex<[Service; VECTORS]> = Mutex::new([None; VECTORS]);
static NEXT_VECTOR: AtomicU8 = AtomicU8::new(0);
/// `irq=off` on the command line: no vector is handed out, every device stays polled.
static DISABLED: AtomicBool = AtomicBool::new(false);
/// Event bits whose source has a working interrupt.
static INTERRUPT_EVENTS: AtomicU64 = AtomicU64::new(0);

/// The events and their waiters.
pub fn events() -> &'static Events {
    &EVENTS
}

/// Per-core halted time.
pub fn halted() -> &'static HaltedTime {
    &HALTED
}

/// Event bits with a source that cannot interrupt (USB keyboards beside an
/// interrupting PS/2 keyboard): they stay polled.
static POLLED_EVENTS: AtomicU64 = AtomicU64::new(0);

/// Event bits whose source interrupts.
pub fn interrupt_events() -> u64 {
    INTERRUPT_EVENTS.load(Ordering::Acquire) & !POLLED_EVENTS.load(Ordering::Acquire)
}

/// `events` also have a source without an interrupt: waits for them stay polled.
pub fn keep_polled(events: u64) {
    POLLED_EVENTS.fetch_or(events, Ordering::AcqRel);
}

/// Records that the source of `events` now interrupts (its vector is programmed).
pub fn mark_interrupting(events: u64) {
    INTERRUPT_EVENTS.fetch_or(events, Ordering::AcqRel);
}

/// A new device vector raising `events`, with `service` run first by the handler;
/// `None` when all [`DEVICE_VECTORS`] are taken.
pub fn allocate(events: u64, service: Option<fn()>) -> Option<u8> {
    if DISABLED.load(Ordering::Acquire) {
        return None;
    }
    let index = NEXT_VECTOR.fetch_add(1, Ordering::AcqRel);
    if index >= DEVICE_VECTORS {
        NEXT_VECTOR.store(DEVICE_VECTORS, Ordering::Release);
        return None;
    }
    ingot_arch::interrupts::set_device_handler(dispatch);
    VECTOR_SERVICE.lock()[usize::from(index)] = service;
    VECTOR_EVENTS[usize::from(index)].store(events, Ordering::Release);
    Some(FIRST_DEVICE_VECTOR + index)
}

/// Applies `irq=on|off` (before the drivers start).
pub fn configure(options: &ingot_bootinfo::cmdline::KernelOptions) {
    DISABLED.store(!options.interrupts, Ordering::Release);
    if !options.interrupts {
        crate::println!("ingot: irq=off: every device is polled");
    }
}

/// The bootstrap core's APIC ID (from CPUID, so usable before the APIC is set up):
/// the destination of every device interrupt.
pub fn bootstrap_apic_id() -> u32 {
    raw_cpuid::CpuId::new()
        .get_feature_info()
        .map_or(0, |info| u32::from(info.initial_local_apic_id()))
}

/// The MSI/MSI-X message for `vector`.
pub fn message(vector: u8) -> Option<MsiMessage> {
    MsiMessage::fixed(bootstrap_apic_id(), vector).ok()
}

/// Applies the line routes drivers asked for; after `smp::init` set up (and masked)
/// the I/O APICs.
pub fn init(acpi: Option<&ingot_acpi::Acpi>) {
    routing::apply(acpi);
    aim::aim_at_cores();
}

fn index_of(vector: u8) -> Option<usize> {
    let index = usize::from(vector.checked_sub(FIRST_DEVICE_VECTOR)?);
    (index < VECTORS).then_some(index)
}

/// Every device vector's handler (on the core that took it, interrupts off).
fn dispatch(vector: u8) {
    let Some(index) = index_of(vector) else { return };
    let service = VECTOR_SERVICE.lock()[index];
    if let Some(service) = service {
        service();
    }
    let level_gsi = VECTOR_LEVEL_GSI[index].load(Ordering::Acquire);
    if level_gsi != 0 {
        routing::mask(level_gsi - 1);
    }
    let bits = VECTOR_EVENTS[index].load(Ordering::Acquire);
    let here = crate::smp::current_core();
    EVENTS.raise(bits, crate::smp::core_count(), |core| {
        if core != here
            && let (Some(apic), Some(apic_id)) =
                (crate::smp::local_apic(), crate::smp::apic_id_of(core))
        {
            apic.send(apic_id, ingot_arch::apic::Ipi::Fixed { vector: WAKE_VECTOR });
        }
    });
}

/// Unmasks the level-triggered lines of the sources of `events` (their handler masked
/// them; a device still asserting interrupts again at once).
fn unmask_level_lines(events: u64) {
    for index in 0..VECTORS {
        let gsi = VECTOR_LEVEL_GSI[index].load(Ordering::Acquire);
        if gsi != 0 && VECTOR_EVENTS[index].load(Ordering::Acquire) & events != 0 {
            routing::unmask(gsi - 1);
        }
    }
}

/// Halts the calling core until an interrupt, counting the time halted.
pub fn halt(core: usize) {
    HALTED.begin(core, ingot_arch::msr::read_tsc());
    ingot_arch::interrupts::sleep_until_interrupt();
    HALTED.end(core, ingot_arch::msr::read_tsc());
}

/// Maps `function`'s MSI-X table; `None` without MSI-X or a mappable table.
fn msix_table(function: &ingot_pci::PciFunction) -> Option<ingot_platform::mmio::MmioRegion> {
    let (bar, offset, len) = ingot_pci::msi::msix_table_location(function).ok()?;
    crate::memory::with_kernel_memory(|memory| {
        ingot_platform::mmio::MmioRegion::from_bar(
            &mut memory.space,
            &mut memory.frames,
            &bar,
            offset,
            len,
        )
    })?
    .ok()
}

/// Programs MSI-X table entry 0 of `function` with a new vector raising `events`
/// (the caller then points the device's source at entry 0); `None` (and a line
/// saying why) when the function has no usable MSI-X. The entry may later be
/// re-aimed at a core that waits for it (`aim`).
pub fn enable_msix(
    config: &ingot_platform::pci_config::ConfigAccess,
    function: &ingot_pci::PciFunction,
    events: u64,
) -> Option<u8> {
    use ingot_pci::msi;
    let table = msix_table(function)?;
    let vector = allocate(events, None)?;
    let result = message(vector)
        .ok_or(msi::MsiError::BadVector(vector))
        .and_then(|message| msi::enable_msix(config, function, &table, &[(0, message)]));
    match result {
        Ok(()) => {
            aim::movable(vector, table, 0);
            Some(vector)
        }
        Err(error) => {
            crate::println!("ingot: irq: {} MSI-X not enabled: {error:?}", function.address);
            None
        }
    }
}

/// Programs `function`'s MSI capability with a new vector raising `events`.
pub fn enable_msi(
    config: &ingot_platform::pci_config::ConfigAccess,
    function: &ingot_pci::PciFunction,
    events: u64,
) -> Option<u8> {
    function.msi?;
    let vector = allocate(events, None)?;
    let result = message(vector)
        .ok_or(ingot_pci::msi::MsiError::BadVector(vector))
        .and_then(|message| ingot_pci::msi::enable_msi(config, function, message));
    match result {
        Ok(()) => Some(vector),
        Err(error) => {
            crate::println!("ingot: irq: {} MSI not enabled: {error:?}", function.address);
            None
        }
    }
}
