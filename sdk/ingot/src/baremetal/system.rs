//! The `b_system` functions of BareMetal's table (`ingot_sdk::baremetal`), one plain
//! function each (the five SCREEN_* functions as one [`screen`]).

use core::sync::atomic::{AtomicU64, Ordering};

use ingot_abi::Error;

use super::{f, query, system};

/// TIMECOUNTER: nanoseconds since boot.
///
/// # Example
///
/// ```ignore
/// let start = ingot_sdk::baremetal::time_counter();
/// ingot_sdk::baremetal::delay(1000)?;
/// ingot_sdk::println!(
///     "waited >= 1 ms: {}",
///     ingot_sdk::baremetal::time_counter() - start >= 1_000_000
/// );
/// ```
pub fn time_counter() -> u64 {
    query(f::TIMECOUNTER, 0, 0).unwrap_or(0)
}

/// FREE_MEMORY: the program's free memory in MiB.
///
/// # Example
///
/// ```ignore
/// let cycles = ingot_sdk::baremetal::tsc();
/// ingot_sdk::println!(
///     "free memory {} MiB, tsc {}",
///     ingot_sdk::baremetal::free_memory(),
///     cycles > 0
/// );
/// ```
pub fn free_memory() -> u64 {
    query(f::FREE_MEMORY, 0, 0).unwrap_or(0)
}

/// SMP_ID: the calling core's APIC ID.
///
/// # Example
///
/// ```ignore
/// let (me, cores) = (ingot_sdk::baremetal::smp_id(), ingot_sdk::baremetal::smp_numcores());
/// ingot_sdk::println!("APIC ID {me}, {cores} cores");
/// ```
pub fn smp_id() -> u64 {
    query(f::SMP_ID, 0, 0).unwrap_or(0)
}

/// SMP_NUMCORES: the number of running cores.
///
/// # Example
///
/// ```ignore
/// let (me, cores) = (ingot_sdk::baremetal::smp_id(), ingot_sdk::baremetal::smp_numcores());
/// ingot_sdk::println!("APIC ID {me}, {cores} cores");
/// ```
pub fn smp_numcores() -> u64 {
    query(f::SMP_NUMCORES, 0, 0).unwrap_or(0)
}

/// The code [`smp_set`] last gave each core, by APIC ID, for the trampoline.
#[unsafe(no_mangle)]
static INGOT_SDK_SMP_CODE: [AtomicU64; 256] = [const { AtomicU64::new(0) }; 256];

unsafe extern "sysv64" {
    fn ingot_sdk_smp_trampoline();
}

// SMP_SET wants code on a 16-byte boundary, which a Rust function need not be: the
// kernel is given this aligned stub instead, which looks up the caller's code by the
// core's APIC ID (SMP_ID) and jumps to it with the stack as the kernel left it.
core::arch::global_asm!(
    ".section .text.ingot_sdk_smp_trampoline, \"ax\"",
    ".balign 16",
    ".global ingot_sdk_smp_trampoline",
    "ingot_sdk_smp_trampoline:",
    "    mov ecx, 0x10",
    "    call qword ptr [0x100040]",
    "    movzx eax, al",
    "    lea rcx, [rip + INGOT_SDK_SMP_CODE]",
    "    mov rax, [rcx + rax * 8]",
    "    jmp rax",
    ".section .text",
);

/// SMP_SET: runs `code` once on the core with APIC ID `apic_id` (below 256; not the
/// calling or the boot core; refused while that core has work).
///
/// # Example
///
/// ```ignore
/// // Runs `on_core` (an `extern "sysv64" fn()`) on the core with APIC ID 1, if there is one.
/// if ingot_sdk::baremetal::smp_set(on_core, 1).is_ok() {
///     while ingot_sdk::baremetal::smp_busy() {
///         core::hint::spin_loop();
///     }
/// }
/// ```
pub fn smp_set(code: extern "sysv64" fn(), apic_id: u64) -> Result<(), Error> {
    let slot = INGOT_SDK_SMP_CODE.get(apic_id as usize).ok_or(Error::InvalidArgument)?;
    slot.store(code as usize as u64, Ordering::Release);
    let trampoline = ingot_sdk_smp_trampoline as *const () as u64;
    // SAFETY: the trampoline is 16-byte aligned code that finds `code`, a function the
    // kernel may enter BareMetal's way, in the table (it runs on the core `apic_id`
    // names, so SMP_ID there gives the same index).
    unsafe { system(f::SMP_SET, trampoline, apic_id) }.map(|_| ())
}

/// SMP_GET: the calling core's slot (code address in bits 63:4, active, present).
///
/// # Example
///
/// ```ignore
/// let slot = ingot_sdk::baremetal::smp_get();
/// ingot_sdk::println!("running code: {}", slot & 2 != 0);
/// ```
pub fn smp_get() -> u64 {
    query(f::SMP_GET, 0, 0).unwrap_or(0)
}

/// SMP_LOCK: takes bit 0 of `lock`, spinning while another core holds it.
///
/// # Example
///
/// ```ignore
/// static LOCK: AtomicU64 = AtomicU64::new(0);
/// ingot_sdk::baremetal::smp_lock(&LOCK)?;
/// // ... one core at a time here ...
/// ingot_sdk::baremetal::smp_unlock(&LOCK)?;
/// ```
pub fn smp_lock(lock: &AtomicU64) -> Result<(), Error> {
    // SAFETY: the lock word is program memory the kernel only changes atomically.
    unsafe { system(f::SMP_LOCK, lock.as_ptr() as u64, 0) }.map(|_| ())
}

/// SMP_UNLOCK: clears bit 0 of `lock`.
///
/// # Example
///
/// ```ignore
/// static LOCK: AtomicU64 = AtomicU64::new(0);
/// ingot_sdk::baremetal::smp_lock(&LOCK)?;
/// // ... one core at a time here ...
/// ingot_sdk::baremetal::smp_unlock(&LOCK)?;
/// ```
pub fn smp_unlock(lock: &AtomicU64) -> Result<(), Error> {
    // SAFETY: as for `smp_lock`.
    unsafe { system(f::SMP_UNLOCK, lock.as_ptr() as u64, 0) }.map(|_| ())
}

/// SMP_BUSY: whether another core has work waiting or running.
///
/// # Example
///
/// ```ignore
/// // Runs `on_core` (an `extern "sysv64" fn()`) on the core with APIC ID 1, if there is one.
/// if ingot_sdk::baremetal::smp_set(on_core, 1).is_ok() {
///     while ingot_sdk::baremetal::smp_busy() {
///         core::hint::spin_loop();
///     }
/// }
/// ```
pub fn smp_busy() -> bool {
    query(f::SMP_BUSY, 0, 0).unwrap_or(0) != 0
}

/// TSC: the calling core's time-stamp counter.
///
/// # Example
///
/// ```ignore
/// let cycles = ingot_sdk::baremetal::tsc();
/// ingot_sdk::println!(
///     "free memory {} MiB, tsc {}",
///     ingot_sdk::baremetal::free_memory(),
///     cycles > 0
/// );
/// ```
pub fn tsc() -> u64 {
    query(f::TSC, 0, 0).unwrap_or(0)
}

/// The framebuffer as SCREEN_LFB_GET, _X_GET, _Y_GET, _PPSL_GET and _BPP_GET report it.
///
/// # Example
///
/// ```ignore
/// match ingot_sdk::baremetal::screen() {
///     Some(screen) => ingot_sdk::println!("screen {}x{}", screen.width, screen.height),
///     None => ingot_sdk::println!("no framebuffer"),
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Screen {
    /// Physical address of the framebuffer.
    pub address: u64,
    /// Width in pixels.
    pub width: u64,
    /// Height in pixels.
    pub height: u64,
    /// Pixels per scan line.
    pub pixels_per_line: u64,
    /// Bits per pixel (32).
    pub bits_per_pixel: u64,
}

/// The framebuffer, `None` when there is none (the five SCREEN_* functions).
///
/// # Example
///
/// ```ignore
/// match ingot_sdk::baremetal::screen() {
///     Some(screen) => ingot_sdk::println!("screen {}x{}", screen.width, screen.height),
///     None => ingot_sdk::println!("no framebuffer"),
/// }
/// ```
pub fn screen() -> Option<Screen> {
    let get = |function| query(function, 0, 0).unwrap_or(0);
    let address = get(f::SCREEN_LFB_GET);
    (address != 0).then(|| Screen {
        address,
        width: get(f::SCREEN_X_GET),
        height: get(f::SCREEN_Y_GET),
        pixels_per_line: get(f::SCREEN_PPSL_GET),
        bits_per_pixel: get(f::SCREEN_BPP_GET),
    })
}

/// NET_STATUS: the MAC address of `interface`, `None` if there is no such interface.
///
/// # Example
///
/// ```ignore
/// if let Some(mac) = ingot_sdk::baremetal::net_status(0) {
///     let mut frame = [0xFFu8; 60];
///     frame[6..12].copy_from_slice(&mac);
///     frame[12..14].copy_from_slice(&0x88B5u16.to_be_bytes());
///     ingot_sdk::baremetal::net_tx(&frame, 0)?;
/// }
/// ```
pub fn net_status(interface: u64) -> Option<[u8; 6]> {
    let value = query(f::NET_STATUS, 0, interface).unwrap_or(0);
    (value != 0).then(|| {
        let bytes = value.to_be_bytes();
        [bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]]
    })
}

/// NET_CONFIG: frames received on `interface` are written into `ring` (at least
/// 512 KiB, in 2 KiB slots) from now on; the memory is the kernel's to write for good.
///
/// # Example
///
/// ```ignore
/// // Frames received on interface 0 go into this program's own 512 KiB ring from now on.
/// if ingot_sdk::baremetal::net_status(0).is_some() {
///     let ring = alloc::vec![0u8; 512 * 1024].leak();
///     ingot_sdk::baremetal::net_config(0, ring)?;
/// }
/// ```
pub fn net_config(interface: u64, ring: &'static mut [u8]) -> Result<(), Error> {
    if ring.len() < 512 * 1024 {
        return Err(Error::InvalidArgument);
    }
    // SAFETY: the ring is program memory handed over for the rest of the run.
    unsafe { system(f::NET_CONFIG, ring.as_mut_ptr() as u64, interface) }.map(|_| ())
}

/// BUS_READ: the PCI configuration register (dword `register`) of `bus`:`device`.`function`
/// in segment `segment`.
///
/// # Example
///
/// ```ignore
/// if let Some(id) = ingot_sdk::baremetal::bus_read(0, 0, 0, 0, 0) {
///     ingot_sdk::println!("00:00.0 vendor {:04x} device {:04x}", id & 0xFFFF, id >> 16);
/// }
/// ```
pub fn bus_read(segment: u16, bus: u8, device: u8, function: u8, register: u16) -> Option<u32> {
    let address = bus_address(segment, bus, device, function, register);
    query(f::BUS_READ, 0, address).ok().map(|value| value as u32)
}

/// BUS_WRITE: writes `value` to the PCI configuration register `bus_read` names.
///
/// # Safety
/// The kernel drives the devices it found: writing their configuration (BARs, command
/// register) can move or stop memory the kernel uses.
///
/// # Example
///
/// ```ignore
/// // BUS_WRITE is unsafe: writing a device the kernel drives can break it. Here the
/// // command register of a device no driver uses, read back first.
/// if let Some(command) = ingot_sdk::baremetal::bus_read(0, 0, 31, 3, 1) {
///     // SAFETY: 00:1f.3 (the SMBus controller on q35) has no driver in the kernel.
///     unsafe { ingot_sdk::baremetal::bus_write(0, 0, 31, 3, 1, command)? };
/// }
/// ```
pub unsafe fn bus_write(
    segment: u16,
    bus: u8,
    device: u8,
    function: u8,
    register: u16,
    value: u32,
) -> Result<(), Error> {
    let address = bus_address(segment, bus, device, function, register);
    // SAFETY: the caller vouches for the write; the arguments are numbers.
    unsafe { system(f::BUS_WRITE, value.into(), address) }.map(|_| ())
}

fn bus_address(segment: u16, bus: u8, device: u8, function: u8, register: u16) -> u64 {
    (u64::from(segment) << 32)
        | (u64::from(bus) << 24)
        | (u64::from(device & 0x1F) << 19)
        | (u64::from(function & 7) << 16)
        | u64::from(register)
}

/// STDOUT_SET: `b_output` now calls `routine` (0: the kernel's own again).
///
/// # Safety
/// `routine` must follow `b_output`'s convention: bytes in RSI, count in RCX, every
/// register preserved, return with `ret`; every `b_output` call then runs it.
///
/// # Example
///
/// ```ignore
/// // STDOUT_SET is unsafe: the routine must keep b_output's register convention.
/// let kernel_routine = ingot_sdk::baremetal::stdout_get();
/// // SAFETY: the kernel's own routine, as STDOUT_GET reported it.
/// unsafe { ingot_sdk::baremetal::stdout_set(kernel_routine)? };
/// ```
pub unsafe fn stdout_set(routine: u64) -> Result<(), Error> {
    // SAFETY: the caller vouches for the routine.
    unsafe { system(f::STDOUT_SET, routine, 0) }.map(|_| ())
}

/// STDOUT_GET: the routine `b_output` calls now.
///
/// # Example
///
/// ```ignore
/// ingot_sdk::baremetal::output(b"hello through b_output\n");
/// ingot_sdk::baremetal::dump_rax(0x0123_4567_89AB_CDEF);
/// ingot_sdk::baremetal::dump_mem(b"Ingot")?;
/// let routine = ingot_sdk::baremetal::stdout_get();
/// ingot_sdk::println!("b_output calls {routine:#x}");
/// ```
pub fn stdout_get() -> u64 {
    query(f::STDOUT_GET, 0, 0).unwrap_or(0)
}

fn set_callback(function: u64, code: Option<extern "sysv64" fn()>) -> Result<(), Error> {
    let address = code.map_or(0, |code| code as usize as u64);
    // SAFETY: `code` is a function (or none), which the kernel may enter BareMetal's way.
    unsafe { system(function, address, 0) }.map(|_| ())
}

/// CALLBACK_TIMER: `code` runs every 10 ms (polled); `None` stops it.
///
/// # Example
///
/// ```ignore
/// static TICKS: AtomicU64 = AtomicU64::new(0);
///
/// extern "sysv64" fn tick() {
///     TICKS.fetch_add(1, Ordering::Relaxed);
/// }
///
/// fn callbacks() -> Result<(), Error> {
///     ingot_sdk::baremetal::callback_timer(Some(tick))?;
///     ingot_sdk::baremetal::delay(50_000)?; // callbacks are polled by compatible calls
///     while TICKS.load(Ordering::Relaxed) == 0 {
///         ingot_sdk::baremetal::delay(10_000)?;
///     }
///     ingot_sdk::baremetal::callback_timer(None)?;
///     ingot_sdk::println!("the timer callback fired");
///     Ok(())
/// }
/// ```
pub fn callback_timer(code: Option<extern "sysv64" fn()>) -> Result<(), Error> {
    set_callback(f::CALLBACK_TIMER, code)
}

/// CALLBACK_NETWORK: `code` runs when a frame arrived on any interface; `None` stops it.
///
/// # Example
///
/// ```ignore
/// extern "sysv64" fn on_key() {}
/// extern "sysv64" fn on_frame() {}
/// ingot_sdk::baremetal::callback_keyboard(Some(on_key))?;
/// ingot_sdk::baremetal::callback_network(Some(on_frame))?;
/// ingot_sdk::baremetal::callback_keyboard(None)?;
/// ingot_sdk::baremetal::callback_network(None)?;
/// ```
pub fn callback_network(code: Option<extern "sysv64" fn()>) -> Result<(), Error> {
    set_callback(f::CALLBACK_NETWORK, code)
}

/// CALLBACK_KEYBOARD: `code` runs when an input byte arrived; `None` stops it.
///
/// # Example
///
/// ```ignore
/// extern "sysv64" fn on_key() {}
/// extern "sysv64" fn on_frame() {}
/// ingot_sdk::baremetal::callback_keyboard(Some(on_key))?;
/// ingot_sdk::baremetal::callback_network(Some(on_frame))?;
/// ingot_sdk::baremetal::callback_keyboard(None)?;
/// ingot_sdk::baremetal::callback_network(None)?;
/// ```
pub fn callback_keyboard(code: Option<extern "sysv64" fn()>) -> Result<(), Error> {
    set_callback(f::CALLBACK_KEYBOARD, code)
}

/// DUMP_MEM: prints `bytes` in hex, 16 a line, with their addresses (at most 1 MiB).
///
/// # Example
///
/// ```ignore
/// ingot_sdk::baremetal::output(b"hello through b_output\n");
/// ingot_sdk::baremetal::dump_rax(0x0123_4567_89AB_CDEF);
/// ingot_sdk::baremetal::dump_mem(b"Ingot")?;
/// let routine = ingot_sdk::baremetal::stdout_get();
/// ingot_sdk::println!("b_output calls {routine:#x}");
/// ```
pub fn dump_mem(bytes: &[u8]) -> Result<(), Error> {
    // SAFETY: RAX and RDX describe `bytes`, which the call only reads.
    unsafe { system(f::DUMP_MEM, bytes.as_ptr() as u64, bytes.len() as u64) }.map(|_| ())
}

/// DUMP_RAX: prints `value` as 16 hex digits.
///
/// # Example
///
/// ```ignore
/// ingot_sdk::baremetal::output(b"hello through b_output\n");
/// ingot_sdk::baremetal::dump_rax(0x0123_4567_89AB_CDEF);
/// ingot_sdk::baremetal::dump_mem(b"Ingot")?;
/// let routine = ingot_sdk::baremetal::stdout_get();
/// ingot_sdk::println!("b_output calls {routine:#x}");
/// ```
pub fn dump_rax(value: u64) {
    let _ = query(f::DUMP_RAX, value, 0);
}

/// DELAY: busy-waits `microseconds` (at most a minute).
///
/// # Example
///
/// ```ignore
/// let start = ingot_sdk::baremetal::time_counter();
/// ingot_sdk::baremetal::delay(1000)?;
/// ingot_sdk::println!(
///     "waited >= 1 ms: {}",
///     ingot_sdk::baremetal::time_counter() - start >= 1_000_000
/// );
/// ```
pub fn delay(microseconds: u64) -> Result<(), Error> {
    query(f::DELAY, microseconds, 0).map(|_| ())
}

/// RESET: withdraws or ends the work of every other core; returns how many
/// assignments that was, once they are all idle.
///
/// # Example
///
/// ```ignore
/// let stopped = ingot_sdk::baremetal::reset();
/// ingot_sdk::println!("{stopped} assignments withdrawn or ended");
/// ```
pub fn reset() -> u64 {
    query(f::RESET, 0, 0).unwrap_or(0)
}

/// REBOOT: resets the machine.
///
/// # Example
///
/// ```ignore
/// match ingot_sdk::args::get(1) {
///     Some("reboot") => ingot_sdk::baremetal::reboot(),
///     Some("off") => ingot_sdk::baremetal::shutdown(),
///     _ => {}
/// }
/// ```
pub fn reboot() -> ! {
    let _ = query(f::REBOOT, 0, 0);
    unreachable!("REBOOT returned")
}

/// SHUTDOWN: powers the machine off.
///
/// # Example
///
/// ```ignore
/// match ingot_sdk::args::get(1) {
///     Some("reboot") => ingot_sdk::baremetal::reboot(),
///     Some("off") => ingot_sdk::baremetal::shutdown(),
///     _ => {}
/// }
/// ```
pub fn shutdown() -> ! {
    let _ = query(f::SHUTDOWN, 0, 0);
    unreachable!("SHUTDOWN returned")
}
