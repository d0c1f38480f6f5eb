//! Per-core data through the GS segment base: `gs:[0]` holds the core's index.
//!
//! Each core points GS at its own small block at start-up; reading the index is then
//! one instruction, without CPUID or APIC reads. The block also holds the kernel's
//! stack pointer while program code runs on the core (see [`crate::program`]).

use core::marker::PhantomData;
use core::sync::atomic::{AtomicBool, Ordering};

/// The first fields of every core's block (the platform may append more).
#[repr(C)]
pub struct CoreBlock {
    /// Dense core number: 0 for the bootstrap core, then in start-up order.
    pub index: u64,
    /// The core's local APIC ID.
    pub apic_id: u64,
    /// The kernel's RSP while program code runs (written by `crate::program` only).
    pub(crate) saved_rsp: u64,
    /// The kernel's RSP while a resettable BareMetal assignment runs (0 when none does;
    /// written by `crate::program` only).
    pub(crate) reset_rsp: u64,
    /// `saved_rsp` as it was when that assignment started: a different value means
    /// the core is inside a nested program call (a native task it runs).
    pub(crate) reset_saved_rsp: u64,
}

impl CoreBlock {
    /// A block for core `index` with local APIC ID `apic_id`.
    pub const fn new(index: u64, apic_id: u64) -> Self {
        Self { index, apic_id, saved_rsp: 0, reset_rsp: 0, reset_saved_rsp: 0 }
    }
}

/// Set by the first [`install`] (the bootstrap core's). From then on every running
/// core has a block (each other core installs its own before running anything else),
/// so [`core_index`] reads `gs:[0]` without first reading the GS base MSR (an `rdmsr`
/// costs tens to hundreds of cycles, and the work loop asks for the index per task).
static BLOCKS_INSTALLED: AtomicBool = AtomicBool::new(false);

/// Points this core's GS base at `block`.
///
/// # Safety
/// `block` must stay valid (and not move) for as long as the core runs, and nothing
/// else may use it as a `CoreBlock` of another core. The bootstrap core installs its
/// block before any other core starts, and every other core installs its own before
/// it runs any code that may ask for its index (the start-up path does so first).
pub unsafe fn install(block: *mut CoreBlock) {
    // SAFETY: per the contract the block outlives the core; GS is not otherwise used.
    unsafe { crate::msr::write(crate::msr::GS_BASE, block as u64) }
    BLOCKS_INSTALLED.store(true, Ordering::Release);
}

/// The block of the one core that reaches [`ensure_installed`] without a block of its
/// own (the bootstrap core when the kernel could not give it one).
static mut FALLBACK_BLOCK: CoreBlock = CoreBlock::new(0, 0);
static FALLBACK_TAKEN: AtomicBool = AtomicBool::new(false);

/// Makes sure this core has a block: true if one was installed already or the static
/// fallback block could be given to it (only one core can ever get that one).
#[inline]
pub fn ensure_installed() -> bool {
    core_index().is_some() || install_fallback()
}

#[cold]
fn install_fallback() -> bool {
    if FALLBACK_TAKEN.swap(true, Ordering::AcqRel) {
        return false;
    }
    // SAFETY: the fallback block is static (it never moves) and the flag above hands
    // it to this core alone.
    unsafe { install(&raw mut FALLBACK_BLOCK) };
    true
}

/// Proof that the calling core has its block, made by [`this_core`], for calls that
/// use the block (a task call keeps the kernel's stack pointer there). It is neither
/// `Send` nor `Sync`, so it stays on the core that made it, and a core's block is
/// never taken away once installed: one check serves a whole batch of tasks.
#[derive(Debug, Clone, Copy)]
pub struct ThisCore {
    index: u64,
    _on_this_core: PhantomData<*const ()>,
}

impl ThisCore {
    /// The core's index.
    #[inline(always)]
    pub fn index(self) -> u64 {
        self.index
    }
}

/// This core's block as a [`ThisCore`], or `None` before [`install`] ran on it.
#[inline(always)]
pub fn this_core() -> Option<ThisCore> {
    core_index().map(|index| ThisCore { index, _on_this_core: PhantomData })
}

/// This core's index, or `None` before [`install`] ran on it.
#[inline(always)]
pub fn core_index() -> Option<u64> {
    if BLOCKS_INSTALLED.load(Ordering::Acquire) {
        return Some(read_index());
    }
    // SAFETY: reading the GS base MSR has no side effects and the MSR always exists
    // in long mode.
    let base = unsafe { crate::msr::read(crate::msr::GS_BASE) };
    if base == 0 {
        return None;
    }
    Some(read_index())
}

/// `gs:[0]`; only called once this core's GS base points at its block (checked by
/// the caller, or guaranteed by [`install`]'s contract once any block is installed).
#[inline(always)]
fn read_index() -> u64 {
    let index: u64;
    // SAFETY: GS points at a live `CoreBlock` (see above), whose first field is the
    // index.
    unsafe {
        core::arch::asm!("mov {}, gs:[0]", out(reg) index, options(readonly, nostack, preserves_flags))
    }
    index
}

/// The `u64` at byte `offset` of this core's block, or `None` before [`install`].
/// `offset` must be that of a `u64` field of [`CoreBlock`].
pub(crate) fn read_field(offset: usize) -> Option<u64> {
    core_index()?;
    let value: u64;
    // SAFETY: GS points at this core's live `CoreBlock` (checked above) and callers pass
    // the offset of one of its `u64` fields; only this core writes its block.
    unsafe {
        core::arch::asm!("mov {}, gs:[{}]", out(reg) value, in(reg) offset, options(readonly, nostack, preserves_flags))
    }
    Some(value)
}
