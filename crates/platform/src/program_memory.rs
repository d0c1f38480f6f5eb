//! The program's memory window: all free RAM, mapped contiguously at
//! [`PROGRAM_BASE`], and the one place where pointers a program passes are checked.
//!
//! The window is laid out so large pages can be used (`ingot_mem::map_window`, which
//! also bounds the page tables it needs, module included): first every 1 GiB-aligned
//! piece of free RAM (when the CPU has 1 GiB pages), then every 2 MiB-aligned piece,
//! then the 4 KiB-granular rest, and last the frames of the boot module. The module
//! therefore never overlaps the start of the window, where it is copied to.
//!
//! The program's stack is the top [`PROGRAM_STACK_BYTES`] of the window, mapped from
//! frames of its own, and the page below it is left unmapped ([`STACK_GUARD_BYTES`]):
//! a stack that overflows faults there (reported as a stack overflow, see
//! [`crate::guard_pages`]) instead of running down over the program's data and code.
//! Kernel accesses to program memory never touch the guard page: [`ProgramMemory`]
//! refuses any range that overlaps it.
//!
//! A fixed-address executable linked below the window (plain `musl-gcc -static` links
//! at 0x400000) gets the RAM at its own addresses as well: the kernel set that range
//! aside at boot ([`FixedImage`]), before it allocated anything, so none of the
//! kernel's memory, device buffers or window frames lies there, and the identity map
//! already maps it. Pointers into it are accepted like pointers into the window.

use ingot_abi::{Error, PROGRAM_BASE};
use ingot_bootinfo::Module;
use ingot_mem::{
    MemError, PAGE_SIZE, PageFlags, PageTableBuilder, PiecesError, map_window, module_pages,
    physical_pieces, table_frames_bound,
};

use crate::address_space::AddressSpace;
use crate::frames::{FixedImage, PhysicalFrames};
use crate::physical::{ActiveTables, TableFrames};

/// Bytes at the top of the window used as the program's stack.
pub const PROGRAM_STACK_BYTES: u64 = 64 * 1024;

pub use ingot_mem::PhysicalPiece;

/// Bytes of the on-stack buffer [`ProgramMemory::write_staged`] and
/// [`ProgramMemory::read_staged`] copy through.
const STAGING_BYTES: usize = 512;

/// The unmapped gap directly below the program's stack.
pub const STACK_GUARD_BYTES: u64 = PAGE_SIZE;

/// Set while [`ProgramMemory::prepare_with`] or [`ProgramMemory::prepare_fixed_image`]
/// hands out a mutable slice, so a nested call cannot make a second one.
static PREPARING: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// The callee's part of the window while [`ProgramMemory::run_nested`] runs one, else 0.
static CALLEE_BYTES: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// The mapped program window: `[PROGRAM_BASE, guard)` is the program's memory, then
/// the unmapped guard page, then the stack up to `PROGRAM_BASE + bytes`.
#[derive(Debug, Clone, Copy)]
pub struct ProgramMemory {
    bytes: u64,
    /// The fixed-address image's RAM `[start, end)` (a [`FixedImage`]), if one was set aside.
    fixed: Option<(u64, u64)>,
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

/// The start block (arguments) of a program run by [`ProgramMemory::run_nested`]: built
/// by the kernel in its own memory for the stack top `PROGRAM_BASE +`
/// [`ProgramMemory::nested_child_bytes`], copied to the top of the child's stack once the
/// caller is parked.
pub struct NestedStart<'a> {
    /// The block: the top `bytes.len()` bytes of the child's stack (at most half of it).
    pub bytes: &'a [u8],
    /// The stack pointer on entry, inside the block.
    pub pointer: u64,
    /// Number of arguments.
    pub argc: u64,
    /// Address of the `argv` array, inside the block.
    pub argv: u64,
}

impl From<MemError> for WindowError {
    fn from(error: MemError) -> Self {
        Self::Memory(error)
    }
}

impl ProgramMemory {
    /// Maps all free RAM of `frames` except `kernel_reserve_bytes`, then the pages of
    /// `module`, into `space` (the tables may be live: only new entries are written).
    /// `fixed`, RAM set aside for a fixed-address program's image, becomes the
    /// program's too, at its own addresses.
    /// On an error every frame taken for the window is given back to `frames` (page
    /// tables already linked stay allocated; nothing runs in the window then).
    pub fn map_window(
        frames: &mut PhysicalFrames,
        space: &AddressSpace,
        kernel_reserve_bytes: u64,
        module: Option<Module>,
        fixed: Option<FixedImage>,
    ) -> Result<Self, WindowError> {
        let huge_pages = space.huge_pages();
        let module_pages = module.and_then(|module| module_pages(module.start, module.len));
        let module_bytes = module_pages.map_or(0, |(_, len)| len);
        let reserve_frames = kernel_reserve_bytes.div_ceil(PAGE_SIZE).max(1);
        let reserve = frames.allocate(reserve_frames, PAGE_SIZE)?;
        let stack_frames = PROGRAM_STACK_BYTES / PAGE_SIZE;
        let stack = match frames.allocate(stack_frames, PAGE_SIZE) {
            Ok(stack) => stack,
            Err(error) => {
                frames.free(reserve, reserve_frames)?;
                return Err(error.into());
            }
        };
        // The guard gap and the stack sit after the module's pages, mapped with 4 KiB
        // pages like them, so the bound counts them as module bytes.
        let tail_bytes = module_bytes + STACK_GUARD_BYTES + PROGRAM_STACK_BYTES;
        let table_frames =
            table_frames_bound(frames.allocator().free_ranges(), huge_pages, tail_bytes);
        let pool = match frames.allocate(table_frames, PAGE_SIZE) {
            Ok(pool) => pool,
            Err(error) => {
                frames.free(stack, stack_frames)?;
                frames.free(reserve, reserve_frames)?;
                return Err(error.into());
            }
        };
        let window_ranges = frames.allocator_mut().take_all();
        frames.free(pool, table_frames)?;

        let mapped = {
            let mut tables = TableFrames::new(frames);
            let mut builder = PageTableBuilder::with_root(&mut tables, space.root(), huge_pages);
            map_window(&mut builder, &window_ranges, huge_pages, module_pages).and_then(|bytes| {
                let stack_at = bytes + STACK_GUARD_BYTES;
                builder.map(
                    PROGRAM_BASE + stack_at,
                    stack,
                    PROGRAM_STACK_BYTES,
                    PageFlags::WRITABLE,
                )?;
                Ok(stack_at + PROGRAM_STACK_BYTES)
            })
        };
        if mapped.is_err() {
            for (start, end) in window_ranges.iter() {
                frames.allocator_mut().add_free(start, end)?;
            }
            frames.free(stack, stack_frames)?;
        }
        frames.free(reserve, reserve_frames)?;
        let window = Self { bytes: mapped?, fixed: fixed.map(|image| image.range()) };
        crate::guard_pages::record(window.guard_start());
        Ok(window)
    }

    /// First address of the window.
    pub fn base(&self) -> u64 {
        PROGRAM_BASE
    }

    /// Size of the window in bytes.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The RAM `[start, end)` set aside for a fixed-address program's image, if any.
    pub fn fixed_image(&self) -> Option<(u64, u64)> {
        self.fixed
    }

    /// Initial stack pointer for the program: the top of the window.
    pub fn stack_top(&self) -> u64 {
        PROGRAM_BASE + self.bytes
    }

    /// First address of the unmapped guard page below the stack.
    pub fn guard_start(&self) -> u64 {
        self.stack_top() - PROGRAM_STACK_BYTES - STACK_GUARD_BYTES
    }

    /// Copies the boot module to the start of the window. Must be called after the
    /// tables passed to [`Self::map_window`] were loaded.
    pub fn load_module(&self, module: Module) -> Result<(), WindowError> {
        if module.len > self.guard_start() - PROGRAM_BASE {
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

    /// Runs the loaded program: enters `entry` per `convention` with `stack` as its
    /// stack pointer (the start block built there), passing the API table, `argc` and
    /// `argv`, and returns its status (what it returned, or what ended it: see
    /// `ingot_arch::program`). Must be called after [`Self::load_module`]; `entry` and
    /// `stack` must lie in the window.
    pub fn run(
        &self,
        api_table: u64,
        entry: u64,
        (argc, argv): (u64, u64),
        stack: u64,
        convention: ingot_arch::program::Entry,
    ) -> Result<u64, Error> {
        self.check(entry, 1)?;
        self.check(stack.wrapping_sub(1), 1)?;
        if !ingot_arch::percpu::ensure_installed() {
            return Err(Error::NotFound);
        }
        // SAFETY: the window holds the program just loaded, whose entry point (checked to
        // lie in the window) the loader took from the program itself; the top of the
        // window, beyond the program's image, is its stack (`load_module` checked there
        // is room); only the bootstrap core runs the one program.
        Ok(unsafe { ingot_arch::program::call(entry, api_table, argc, argv, stack, convention) })
    }

    /// The bytes of the window a program started by [`Self::run_nested`] gets when its
    /// caller keeps `keep_bytes`: its stack ends at `PROGRAM_BASE` plus this.
    pub fn nested_child_bytes(&self, keep_bytes: u64) -> Result<u64, NestedError> {
        let keep = keep_bytes.checked_next_multiple_of(PAGE_SIZE).ok_or(NestedError::NoRoom)?;
        self.bytes
            .checked_sub(keep)
            .and_then(|rest| rest.checked_sub(PROGRAM_STACK_BYTES + STACK_GUARD_BYTES))
            .ok_or(NestedError::NoRoom)
    }

    /// Runs a second program image while the calling program waits (the kernel call
    /// `program_run`). The caller keeps `[base, base + keep_bytes)` (its image and data)
    /// and the window's top [`PROGRAM_STACK_BYTES`] (its stack); the rest is the child's.
    /// The window is split as: child `[base, base + child)`, a save area for the
    /// caller's kept bytes, the guard page, the caller's stack. The caller's kept bytes are copied to
    /// the save area, the image (anywhere in the child's part) is moved to `base`,
    /// called on a stack at `base + child` (with `start`'s block at its top and
    /// `argc`/`argv` passed, or no arguments), and the kept bytes are copied back.
    /// Returns the child's size and how the call ended; a fault in the child's code
    /// ends only the child. Must run on the core that runs the caller, with nothing
    /// else of the caller running (no tasks of it on other cores).
    pub fn run_nested(
        &self,
        image: u64,
        len: u64,
        keep_bytes: u64,
        api_table: u64,
        start: Option<NestedStart<'_>>,
        before_restore: impl FnOnce(),
    ) -> Result<ingot_arch::program::Outcome, NestedError> {
        let keep = keep_bytes.checked_next_multiple_of(PAGE_SIZE).ok_or(NestedError::NoRoom)?;
        let child = self.nested_child_bytes(keep_bytes)?;
        let stack_top = PROGRAM_BASE + child;
        let (stack, args) = match &start {
            None => (stack_top, (0, 0)),
            Some(start) => {
                let block_start = stack_top.wrapping_sub(start.bytes.len() as u64);
                let fits = start.bytes.len() as u64 <= PROGRAM_STACK_BYTES / 2
                    && (block_start..stack_top).contains(&start.pointer)
                    && (block_start..stack_top).contains(&start.argv);
                if !fits {
                    return Err(NestedError::BadAddress);
                }
                (start.pointer, (start.argc, start.argv))
            }
        };
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
        if let Some(start) = &start {
            let block_start = stack_top - start.bytes.len() as u64;
            // SAFETY: the block is at most half the child's stack, which lies at the top
            // of the child's part, above its image (child ≥ len + stack, checked), and
            // the caller's bytes are parked already; `start.bytes` is kernel memory.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    start.bytes.as_ptr(),
                    block_start as *mut u8,
                    start.bytes.len(),
                );
            }
        }
        CALLEE_BYTES.store(child, core::sync::atomic::Ordering::Release);
        // SAFETY: the child's image starts at `base` (its first byte is its entry, the
        // program contract) and `[base + child - stack, base + child)` is free for its
        // stack (child ≥ len + stack); a fault in `[base, base + child)` comes back here.
        let outcome = unsafe {
            ingot_arch::program::call_recoverable(
                PROGRAM_BASE,
                api_table,
                stack,
                args,
                PROGRAM_BASE,
                PROGRAM_BASE + child,
            )
        };
        // What the callee left running (disk requests) ends while its bounds still hold.
        before_restore();
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
    /// stack (a task or a per-core assignment), restoring the kernel's registers
    /// afterwards as [`Self::run`] does. `entry` must lie in the program's memory.
    ///
    /// The kernel checks an entry with [`Self::check_range`] when the program hands it
    /// over (submit, assignment); this call, made once per task on the work queue's
    /// fast path, only makes sure the call lands in memory that belongs to programs
    /// (the mapped window clear of its guard page, or the fixed-address image), which
    /// is all its safety needs, with two or three comparisons.
    #[inline(always)]
    pub fn run_task(
        &self,
        entry: u64,
        argument: u64,
        _here: ingot_arch::percpu::ThisCore,
    ) -> Result<(), Error> {
        // Below the guard page first (where code is), then the stack and the fixed image.
        if entry.wrapping_sub(PROGRAM_BASE) >= self.guard_start() - PROGRAM_BASE
            && !self.mapped_elsewhere(entry)
        {
            return Err(Error::BadAddress);
        }
        // SAFETY: `entry` lies in mapped program memory (checked: the window below its
        // guard page or above it, whose pages stay mapped for as long as the kernel
        // runs, or the fixed image's RAM) and the program passed it as a `TaskEntry`
        // (System V, one argument); program code is trusted to return as kernel code
        // is in this single address space; a fault in it is the program's, handled as
        // any; this core has its block (`_here` says so).
        unsafe { ingot_arch::program::call_task(entry, argument) };
        Ok(())
    }

    /// Whether `entry` lies in program memory other than the window below its guard
    /// page: the stack above the guard page, or the fixed-address image.
    #[cold]
    #[inline(never)]
    fn mapped_elsewhere(&self, entry: u64) -> bool {
        let in_stack = entry.wrapping_sub(PROGRAM_BASE) < self.bytes
            && entry.wrapping_sub(self.guard_start()) >= STACK_GUARD_BYTES;
        in_stack || self.fixed.is_some_and(|(start, end)| (start..end).contains(&entry))
    }

    /// Runs BareMetal-style program code at `entry` on the calling core's stack (an
    /// `SMP_SET` assignment or a callback of the compatible table): entered with `call`,
    /// RAX = `entry`, every other register zero; it may change any register.
    /// `entry` must lie in the window.
    pub fn run_baremetal(&self, entry: u64) -> Result<(), Error> {
        self.check(entry, 1)?;
        // SAFETY: `entry` lies inside the program's window (checked) and the program
        // handed it to the kernel as code to call; program code is trusted as kernel
        // code is in this single address space, and `call_baremetal` saves or declares
        // every register the code may change.
        unsafe { ingot_arch::program::call_baremetal(entry) };
        Ok(())
    }

    /// Runs an `SMP_SET` assignment at `entry` as [`Self::run_baremetal`] does, such that
    /// BareMetal's `RESET` can end it early (`ingot_arch::program::call_baremetal_resettable`):
    /// `Ok(true)` if it returned, `Ok(false)` if it was ended.
    pub fn run_baremetal_resettable(&self, entry: u64) -> Result<bool, Error> {
        self.check(entry, 1)?;
        if !ingot_arch::percpu::ensure_installed() {
            return Err(Error::NotFound);
        }
        // SAFETY: as in `run_baremetal`; when RESET ends the code, only its own frames
        // and the BareMetal entry stubs lie above this call (the kernel ends it only
        // from its own instructions or from a stub's return, never from kernel code).
        Ok(unsafe {
            ingot_arch::program::call_baremetal_resettable(
                entry,
                PROGRAM_BASE,
                PROGRAM_BASE + self.bytes,
            )
        })
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
        self.check_inline(address, len)
    }

    /// [`Self::check_range`] of one byte, for the work queue's submit, which checks a
    /// task's entry on every call. The program's code lies below the guard page (or in
    /// the callee's part while [`Self::run_nested`] runs one), which one subtraction and
    /// one comparison accept; anything else (the stack, the fixed-address image, a bad
    /// address) goes through the full check.
    #[inline(always)]
    pub fn check_entry(&self, entry: u64) -> Result<(), Error> {
        let callee = CALLEE_BYTES.load(core::sync::atomic::Ordering::Acquire);
        let below_guard = if callee == 0 { self.guard_start() - PROGRAM_BASE } else { callee };
        if entry.wrapping_sub(PROGRAM_BASE) < below_guard {
            return Ok(());
        }
        // Inlined rather than called: a call here would make the submit keep its
        // arguments in saved registers.
        self.check_inline(entry, 1)
    }

    #[inline(always)]
    fn check_inline(&self, address: u64, len: u64) -> Result<(), Error> {
        let end = address.checked_add(len).ok_or(Error::BadAddress)?;
        let callee = CALLEE_BYTES.load(core::sync::atomic::Ordering::Acquire);
        let visible = if callee == 0 { self.bytes } else { callee };
        let guard = self.guard_start();
        // The window first: nearly every pointer a program passes lies there.
        let in_window = address >= PROGRAM_BASE
            && end <= PROGRAM_BASE + visible
            && !(address < guard + STACK_GUARD_BYTES && end > guard);
        if in_window {
            return Ok(());
        }
        match self.fixed {
            Some((start, fixed_end)) if callee == 0 && start <= address && end <= fixed_end => {
                Ok(())
            }
            _ => Err(Error::BadAddress),
        }
    }

    /// Whether `[address, address + len)` lies in the program's memory: inside the
    /// window and clear of the guard page, or inside the fixed-address image (not
    /// while a program started by [`Self::run_nested`] runs). `BadAddress` otherwise.
    pub fn check_range(&self, address: u64, len: u64) -> Result<(), Error> {
        self.check(address, len)
    }

    /// Copies the program's bytes at `address` into `destination`, if the whole range
    /// lies in the program's memory. The copy is made with atomic loads, so the
    /// program (on any core) may change the bytes meanwhile without making the
    /// kernel's view of them undefined: it simply gets some mix of old and new bytes.
    pub fn read_into(&self, address: u64, destination: &mut [u8]) -> Result<(), Error> {
        self.check(address, destination.len() as u64)?;
        // SAFETY: the range lies inside the mapped window and clear of the guard page
        // (checked); the kernel never holds references into program memory, so only
        // atomic accesses (and the program's own) touch it.
        unsafe { crate::shared_copy::copy_from_shared(address, destination) }
        Ok(())
    }

    /// Writes `data` into the program's memory at `address`, if the whole range lies
    /// in it, with atomic stores (see [`Self::read_into`]).
    pub fn write_at(&self, address: u64, data: &[u8]) -> Result<(), Error> {
        self.check(address, data.len() as u64)?;
        // SAFETY: as in `read_into`: checked range, no references into program memory.
        unsafe { crate::shared_copy::copy_to_shared(address, data) }
        Ok(())
    }

    /// Lets `prepare` write the program's bytes `[address, address + len)` directly, to
    /// lay out a program before it runs (an ELF file loaded in place, its start stack).
    /// Refused with `Busy` while a program is running: before the first program is
    /// entered no program code runs on any core (tasks come only from a program), so
    /// the kernel is then the only one touching this memory and a plain `&mut` is sound.
    /// A call made inside another one's `prepare` is refused with `Busy` too, so two
    /// slices never alias.
    pub fn prepare_with<R>(
        &self,
        address: u64,
        len: u64,
        prepare: impl FnOnce(&mut [u8]) -> R,
    ) -> Result<R, Error> {
        self.check(address, len)?;
        if ingot_arch::program::running() {
            return Err(Error::Busy);
        }
        let _preparing = Preparing::enter()?;
        if len == 0 {
            return Ok(prepare(&mut []));
        }
        // SAFETY: the range lies inside the mapped window or the fixed image (checked);
        // no program code runs anywhere (checked above) and no other slice of program
        // memory is handed out (`Preparing`), so nothing else accesses it while
        // `prepare` holds the slice, which does not outlive the call.
        let bytes = unsafe { core::slice::from_raw_parts_mut(address as *mut u8, len as usize) };
        Ok(prepare(bytes))
    }

    /// Lets `prepare` load a fixed-address program: it gets the file, the window's
    /// first `file_len` bytes, and the fixed image's RAM (both before the program runs,
    /// as [`Self::prepare_with`]). `NotFound` without a fixed image.
    pub fn prepare_fixed_image<R>(
        &self,
        file_len: u64,
        prepare: impl FnOnce(&[u8], &mut [u8]) -> R,
    ) -> Result<R, Error> {
        let (start, end) = self.fixed.ok_or(Error::NotFound)?;
        if file_len > self.guard_start() - PROGRAM_BASE {
            return Err(Error::BadAddress);
        }
        if ingot_arch::program::running() {
            return Err(Error::Busy);
        }
        let _preparing = Preparing::enter()?;
        // SAFETY: the file lies in the mapped window below the guard page (checked); the
        // image is RAM set aside at boot, identity-mapped, that neither the kernel nor
        // the window ever holds, so the two never overlap. No program code runs and no
        // other slice of program memory is handed out (both checked), so nothing else
        // accesses either while `prepare` holds them.
        let (file, image) = unsafe {
            (
                core::slice::from_raw_parts(PROGRAM_BASE as *const u8, file_len as usize),
                core::slice::from_raw_parts_mut(start as *mut u8, (end - start) as usize),
            )
        };
        Ok(prepare(file, image))
    }

    /// Writes `len` bytes at `address` of the program's memory, if the whole range lies
    /// in it: `fill(offset, chunk)` produces them a chunk at a time in a kernel staging
    /// buffer (it stays in L1), and each chunk is stored with the atomic stores of
    /// [`Self::write_at`]. Nothing is written when the range is refused.
    pub fn write_staged(
        &self,
        address: u64,
        len: u64,
        mut fill: impl FnMut(u64, &mut [u8]),
    ) -> Result<(), Error> {
        self.check(address, len)?;
        let mut staging = [0u8; STAGING_BYTES];
        let mut done = 0;
        while done < len {
            let chunk = &mut staging[..(len - done).min(STAGING_BYTES as u64) as usize];
            fill(done, chunk);
            self.write_at(address + done, chunk)?;
            done += chunk.len() as u64;
        }
        Ok(())
    }

    /// Hands the program's bytes `[address, address + len)` to `take(chunk)` a chunk at
    /// a time, copied with the atomic loads of [`Self::read_into`] into a kernel staging
    /// buffer, if the whole range lies in the program's memory.
    pub fn read_staged(
        &self,
        address: u64,
        len: u64,
        mut take: impl FnMut(&[u8]),
    ) -> Result<(), Error> {
        self.check(address, len)?;
        let mut staging = [0u8; STAGING_BYTES];
        let mut done = 0;
        while done < len {
            let chunk = &mut staging[..(len - done).min(STAGING_BYTES as u64) as usize];
            self.read_into(address + done, chunk)?;
            take(chunk);
            done += chunk.len() as u64;
        }
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
}

/// Held while a mutable slice of program memory is out; a second is refused (`Busy`).
struct Preparing;

impl Preparing {
    fn enter() -> Result<Self, Error> {
        let order = core::sync::atomic::Ordering::Acquire;
        match PREPARING.compare_exchange(false, true, order, core::sync::atomic::Ordering::Relaxed)
        {
            Ok(_) => Ok(Self),
            Err(_) => Err(Error::Busy),
        }
    }
}

impl Drop for Preparing {
    fn drop(&mut self) {
        PREPARING.store(false, core::sync::atomic::Ordering::Release);
    }
}
