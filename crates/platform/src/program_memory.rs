//! The program's memory window: all free RAM, mapped contiguously at
//! [`PROGRAM_BASE`], and the one place where pointers a program passes are checked.
//!
//! The window is laid out so large pages can be used (`ingot_mem::map_window`, which
//! also bounds the page tables it needs, module included): first every 1 GiB-aligned
//! piece of free RAM (when the CPU has 1 GiB pages), then every 2 MiB-aligned piece,
//! then the 4 KiB-granular rest, and last the frames of the boot module. The module
//! therefore never overlaps the start of the window, where it is copied to.

use ingot_abi::{Error, PROGRAM_BASE};
use ingot_bootinfo::Module;
use ingot_mem::{
    MemError, PAGE_SIZE, PageTableBuilder, PiecesError, map_window, module_pages, physical_pieces,
    table_frames_bound,
};

use crate::address_space::AddressSpace;
use crate::frames::PhysicalFrames;
use crate::physical::{ActiveTables, TableFrames};

/// Bytes at the top of the window used as the program's stack.
pub const PROGRAM_STACK_BYTES: u64 = 64 * 1024;

pub use ingot_mem::PhysicalPiece;

/// The callee's part of the window while [`ProgramMemory::run_nested`] runs one, else 0.
static CALLEE_BYTES: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// The mapped program window.
#[derive(Debug, Clone, Copy)]
pub struct ProgramMemory {
    bytes: u64,
}

/// Why the window could not be set up or loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowError {
    /// Building page tables or taking frames failed.
    Memory(MemError),
    /// The program does not fit in free memory beside its own stack.
    ProgramTooLarge,
}

/// Why [`ProgramMemory::run_nested`] refused to start a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NestedError {
    /// The image or the kept part is empty.
    Empty,
    /// The image does not lie in the part of the window the new program gets.
    BadAddress,
    /// The window cannot hold the caller's kept bytes twice, its stack, the image and
    /// the new program's stack.
    NoRoom,
}

impl From<MemError> for WindowError {
    fn from(error: MemError) -> Self {
        Self::Memory(error)
    }
}

impl ProgramMemory {
    /// Maps all free RAM of `frames` except `kernel_reserve_bytes`, then the pages of
    /// `module`, into `space` (the tables may be live: only new entries are written).
    /// On an error every frame taken for the window is given back to `frames` (page
    /// tables already linked stay allocated; nothing runs in the window then).
    pub fn map_window(
        frames: &mut PhysicalFrames,
        space: &AddressSpace,
        kernel_reserve_bytes: u64,
        module: Option<Module>,
    ) -> Result<Self, WindowError> {
        let huge_pages = space.huge_pages();
        let module_pages = module.and_then(|module| module_pages(module.start, module.len));
        let module_bytes = module_pages.map_or(0, |(_, len)| len);
        let reserve_frames = kernel_reserve_bytes.div_ceil(PAGE_SIZE).max(1);
        let reserve = frames.allocate(reserve_frames, PAGE_SIZE)?;
        let table_frames =
            table_frames_bound(frames.allocator().free_ranges(), huge_pages, module_bytes);
        let pool = match frames.allocate(table_frames, PAGE_SIZE) {
            Ok(pool) => pool,
            Err(error) => {
                frames.free(reserve, reserve_frames)?;
                return Err(error.into());
            }
        };
        let window_ranges = frames.allocator_mut().take_all();
        frames.free(pool, table_frames)?;

        let mapped = {
            let mut tables = TableFrames::new(frames);
            let mut builder = PageTableBuilder::with_root(&mut tables, space.root(), huge_pages);
            map_window(&mut builder, &window_ranges, huge_pages, module_pages)
        };
        if mapped.is_err() {
            for (start, end) in window_ranges.iter() {
                frames.allocator_mut().add_free(start, end)?;
            }
        }
        frames.free(reserve, reserve_frames)?;
        Ok(Self { bytes: mapped? })
    }

    /// First address of the window.
    pub fn base(&self) -> u64 {
        PROGRAM_BASE
    }

    /// Size of the window in bytes.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Initial stack pointer for the program: the top of the window.
    pub fn stack_top(&self) -> u64 {
        PROGRAM_BASE + self.bytes
    }

    /// Copies the boot module to the start of the window. Must be called after the
    /// tables passed to [`Self::map_window`] were loaded.
    pub fn load_module(&self, module: Module) -> Result<(), WindowError> {
        if module.len.saturating_add(PROGRAM_STACK_BYTES) > self.bytes {
            return Err(WindowError::ProgramTooLarge);
        }
        // SAFETY: the module's bytes are reserved RAM on the identity map; the
        // destination is the start of the window, mapped to free frames that are placed
        // before the module's own frames, so the ranges cannot overlap.
        unsafe {
            core::ptr::copy_nonoverlapping(
                module.start as *const u8,
                PROGRAM_BASE as *mut u8,
                module.len as usize,
            );
        }
        Ok(())
    }

    /// Runs the loaded program: calls the start of the window on the window's stack,
    /// passing the API table address, and returns the status the program returned.
    /// Must be called after [`Self::load_module`].
    pub fn run(&self, api_table: u64) -> u64 {
        // SAFETY: the window holds the program just loaded (the program contract is
        // that its entry point is its first byte); the top of the window, beyond the
        // program's image, is its stack (`load_module` checked there is room).
        unsafe { ingot_arch::program::call(PROGRAM_BASE, api_table, self.stack_top()) }
    }

    /// Runs a second program image while the calling program waits (the kernel call
    /// `program_run`). The caller keeps `[base, base + keep_bytes)` (its image and data)
    /// and the window's top [`PROGRAM_STACK_BYTES`] (its stack); the rest is the child's.
    /// The window is split as: child `[base, base + child)`, a save area for the
    /// caller's kept bytes, the caller's stack. The caller's kept bytes are copied to
    /// the save area, the image (anywhere in the child's part) is moved to `base`,
    /// called on a stack at `base + child`, and the kept bytes are copied back.
    /// Returns the child's size and how the call ended; a fault in the child's code
    /// ends only the child. Must run on the core that runs the caller, with nothing
    /// else of the caller running (no tasks of it on other cores).
    pub fn run_nested(
        &self,
        image: u64,
        len: u64,
        keep_bytes: u64,
        api_table: u64,
    ) -> Result<ingot_arch::program::Outcome, NestedError> {
        let keep = keep_bytes.checked_next_multiple_of(PAGE_SIZE).ok_or(NestedError::NoRoom)?;
        let child = self
            .bytes
            .checked_sub(keep)
            .and_then(|rest| rest.checked_sub(PROGRAM_STACK_BYTES))
            .ok_or(NestedError::NoRoom)?;
        if len == 0 || keep == 0 {
            return Err(NestedError::Empty);
        }
        if child < keep || child < len.saturating_add(PROGRAM_STACK_BYTES) {
            return Err(NestedError::NoRoom);
        }
        let image_end = image.checked_add(len).ok_or(NestedError::BadAddress)?;
        if image < PROGRAM_BASE || image_end > PROGRAM_BASE + child {
            return Err(NestedError::BadAddress);
        }
        let save_area = PROGRAM_BASE + child;
        // SAFETY: `[base, base + keep)` and the save area `[base + child, + keep)` lie in
        // the mapped window (child + keep + stack = window) and do not overlap (child ≥ keep).
        unsafe {
            core::ptr::copy_nonoverlapping(
                PROGRAM_BASE as *const u8,
                save_area as *mut u8,
                keep as usize,
            );
        }
        // SAFETY: source and destination lie in the child's part of the window
        // (checked); `copy` allows them to overlap.
        unsafe { core::ptr::copy(image as *const u8, PROGRAM_BASE as *mut u8, len as usize) }
        CALLEE_BYTES.store(child, core::sync::atomic::Ordering::Release);
        // SAFETY: the child's image starts at `base` (its first byte is its entry, the
        // program contract) and `[base + child - stack, base + child)` is free for its
        // stack (child ≥ len + stack); a fault in `[base, base + child)` comes back here.
        let outcome = unsafe {
            ingot_arch::program::call_recoverable(
                PROGRAM_BASE,
                api_table,
                PROGRAM_BASE + child,
                PROGRAM_BASE,
                PROGRAM_BASE + child,
            )
        };
        CALLEE_BYTES.store(0, core::sync::atomic::Ordering::Release);
        // SAFETY: as for the first copy, in the other direction: the caller's bytes
        // come back before the kernel returns to its code.
        unsafe {
            core::ptr::copy_nonoverlapping(
                save_area as *const u8,
                PROGRAM_BASE as *mut u8,
                keep as usize,
            );
        }
        Ok(outcome)
    }

    /// Runs the program function at `entry` with `argument` on the calling core's
    /// stack (a task or a per-core assignment). `entry` must lie in the window.
    pub fn run_task(&self, entry: u64, argument: u64) -> Result<(), Error> {
        self.check(entry, 1)?;
        // SAFETY: `entry` lies inside the program's code window (checked) and the
        // program passed it as a `TaskEntry` (System V, one argument); program code is
        // trusted as kernel code is in this single address space.
        let task = unsafe { core::mem::transmute::<u64, extern "sysv64" fn(u64)>(entry) };
        task(argument);
        Ok(())
    }

    /// The program's `u64` at `address` as an atomic (for lock words), if it lies in
    /// the window and is 8-byte aligned.
    pub fn atomic_at(&self, address: u64) -> Result<&core::sync::atomic::AtomicU64, Error> {
        self.check(address, 8)?;
        if !address.is_multiple_of(8) {
            return Err(Error::InvalidArgument);
        }
        // SAFETY: aligned (checked), inside the mapped window (checked), and program
        // memory may be shared between cores, which is what atomics are for.
        Ok(unsafe { core::sync::atomic::AtomicU64::from_ptr(address as *mut u64) })
    }

    /// Bytes of the window the running program may use: all of it, or the callee's
    /// part while [`Self::run_nested`] runs one (its pointers are checked against that).
    pub fn visible_bytes(&self) -> u64 {
        match CALLEE_BYTES.load(core::sync::atomic::Ordering::Acquire) {
            0 => self.bytes,
            callee => callee,
        }
    }

    fn check(&self, address: u64, len: u64) -> Result<(), Error> {
        let end = address.checked_add(len).ok_or(Error::BadAddress)?;
        if address < PROGRAM_BASE || end > PROGRAM_BASE + self.visible_bytes() {
            return Err(Error::BadAddress);
        }
        Ok(())
    }

    /// The program's bytes `[address, address + len)`, if they lie in the window.
    pub fn bytes_at(&self, address: u64, len: u64) -> Result<&[u8], Error> {
        self.check(address, len)?;
        if len == 0 {
            return Ok(&[]);
        }
        // SAFETY: the range lies inside the mapped window (checked), which is RAM that
        // belongs to the program; the kernel only reads it during the call.
        Ok(unsafe { core::slice::from_raw_parts(address as *const u8, len as usize) })
    }

    /// Writes `data` into the program's memory at `address`, if it lies in the window.
    pub fn write_at(&self, address: u64, data: &[u8]) -> Result<(), Error> {
        self.check(address, data.len() as u64)?;
        // SAFETY: the range lies inside the mapped window (checked); the program asked
        // the kernel to fill it and does not run while the call is in progress.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), address as *mut u8, data.len()) }
        Ok(())
    }

    /// The physical pieces of the program's bytes `[address, address + len)`, in
    /// order, pages that are physically adjacent merged into one piece, written to
    /// `out`; returns how many. For handing program memory to a device (DMA) without
    /// copying. `BadAddress` if the range leaves the window (or is not mapped),
    /// `InvalidArgument` if it is empty or needs more than `out.len()` pieces.
    pub fn physical_pieces(
        &self,
        address: u64,
        len: u64,
        out: &mut [PhysicalPiece],
    ) -> Result<usize, Error> {
        self.check(address, len)?;
        let mut tables = ActiveTables;
        let walker = PageTableBuilder::with_root(&mut tables, ingot_arch::cpu::read_cr3(), false);
        physical_pieces(|at| walker.translate(at), address, len, out).map_err(|error| match error {
            PiecesError::Unmapped => Error::BadAddress,
            PiecesError::Empty | PiecesError::TooManyPieces => Error::InvalidArgument,
        })
    }

    /// Lets `fill` write the program's bytes `[address, address + len)` directly (a
    /// device's receive buffer copied straight in, without a kernel bounce buffer),
    /// if they lie in the window; returns what `fill` returned.
    pub fn write_with<R>(
        &self,
        address: u64,
        len: u64,
        fill: impl FnOnce(&mut [u8]) -> R,
    ) -> Result<R, Error> {
        self.check(address, len)?;
        if len == 0 {
            return Ok(fill(&mut []));
        }
        // SAFETY: the range lies inside the mapped window (checked); as for `write_at`,
        // the program asked the kernel to fill it and does not use it during the call,
        // and the slice does not outlive `fill`.
        let bytes = unsafe { core::slice::from_raw_parts_mut(address as *mut u8, len as usize) };
        Ok(fill(bytes))
    }
}
