//! BareMetal's call table at `0x100010` (`docs/api.md`, "BareMetal-compatible table"),
//! for Rust programs: `b_input`, `b_output`, `b_net_tx`, `b_net_rx`, `b_nvs_read`,
//! `b_nvs_write` and every `b_system` function, each a plain function here.
//!
//! The table's calls take their arguments in registers and report a refusal with the
//! carry flag and Ingot's error code in RAX; these wrappers turn that into
//! `Result<_, Error>`. A program may use this table and the native one side by side.
//! Code handed to the kernel (`smp_set`, the callbacks) is an `extern "sysv64" fn()`:
//! the kernel enters it BareMetal's way (RAX = its address, other registers zero,
//! every register may change), which any such function accepts. Only the two functions
//! that let the kernel call code that must keep BareMetal's register convention
//! ([`stdout_set`]) or reprogram devices the kernel drives ([`bus_write`]) are unsafe.

use core::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use ingot_abi::Error;

pub use ingot_baremetal::function;
use ingot_baremetal::function as f;

const B_INPUT: u64 = 0x10_0010;
const B_OUTPUT: u64 = 0x10_0018;
const B_NET_TX: u64 = 0x10_0020;
const B_NET_RX: u64 = 0x10_0028;
const B_NVS_READ: u64 = 0x10_0030;
const B_NVS_WRITE: u64 = 0x10_0038;
const B_SYSTEM: u64 = 0x10_0040;

/// Bytes of one BareMetal storage sector, on every disk.
///
/// # Example
///
/// ```ignore
/// let mut sector = [0u8; ingot_sdk::baremetal::SECTOR_BYTES];
/// match ingot_sdk::baremetal::nvs_read(&mut sector, 0, 0) {
///     Ok(read) => ingot_sdk::println!("{read} sector of 4 KiB read"),
///     Err(error) => ingot_sdk::println!("disk 0: {error:?}"),
/// }
/// ```
pub const SECTOR_BYTES: usize = 4096;

/// The registers a call reads and writes.
#[derive(Default, Clone, Copy)]
struct Registers {
    rax: u64,
    rcx: u64,
    rdx: u64,
    rsi: u64,
    rdi: u64,
}

/// Calls the entry whose address is in the table quad at `slot`; returns whether the
/// carry flag came back set (a refusal, Ingot's error code in RAX).
///
/// # Safety
/// `registers` must be what that call expects: pointers to memory the call may read or
/// write for the lengths given, code addresses of code following BareMetal's convention.
unsafe fn call(slot: u64, registers: &mut Registers) -> bool {
    let carry: u8;
    // SAFETY: the quad at `slot` is the kernel's entry for the call (or a program's
    // own `b_output` routine set with STDOUT_SET, whose caller vouched for it); the
    // entries preserve every register but their outputs, declared here, and the caller
    // vouches for the arguments.
    unsafe {
        core::arch::asm!(
            "call qword ptr [{slot}]",
            "setc {carry}",
            slot = in(reg) slot,
            carry = out(reg_byte) carry,
            inout("rax") registers.rax,
            inout("rcx") registers.rcx,
            inout("rdx") registers.rdx,
            inout("rsi") registers.rsi,
            inout("rdi") registers.rdi,
        );
    }
    carry != 0
}

fn refused(rax: u64) -> Error {
    Error::from_status(rax as i64).unwrap_or(Error::InvalidArgument)
}

/// `b_system` `function` with `var1` and `var2`.
///
/// # Safety
/// As for [`call`]: the arguments must be what `function` expects.
unsafe fn system(function: u64, var1: u64, var2: u64) -> Result<u64, Error> {
    let mut registers = Registers { rax: var1, rcx: function, rdx: var2, ..Default::default() };
    // SAFETY: the caller vouches for the arguments of `function`.
    let carry = unsafe { call(B_SYSTEM, &mut registers) };
    if carry { Err(refused(registers.rax)) } else { Ok(registers.rax) }
}

/// `b_system` functions that take only numbers and only return one.
fn query(function: u64, var1: u64, var2: u64) -> Result<u64, Error> {
    // SAFETY: callers pass functions whose arguments are plain numbers (no pointer or
    // code address), which the kernel checks.
    unsafe { system(function, var1, var2) }
}

/// `b_input`: the next input byte (Enter as 0x1C, backspace as 0x0E), if one is waiting.
///
/// # Example
///
/// ```ignore
/// match ingot_sdk::baremetal::input() {
///     Some(0x1C) => ingot_sdk::println!("Enter"),
///     Some(key) => ingot_sdk::println!("key {key:#04x}"),
///     None => ingot_sdk::println!("no key waiting"),
/// }
/// ```
pub fn input() -> Option<u8> {
    let mut registers = Registers::default();
    // SAFETY: `b_input` takes no argument.
    unsafe { call(B_INPUT, &mut registers) };
    let byte = registers.rax as u8;
    (byte != 0).then_some(byte)
}

/// `b_output`: writes `bytes` to the console (through the routine the quad at
/// `0x100018` names, the kernel's unless STDOUT_SET replaced it).
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
pub fn output(bytes: &[u8]) {
    let mut registers =
        Registers { rsi: bytes.as_ptr() as u64, rcx: bytes.len() as u64, ..Default::default() };
    // SAFETY: RSI and RCX describe `bytes`, which the call only reads.
    unsafe { call(B_OUTPUT, &mut registers) };
}

/// `b_net_tx`: sends `frame` (a whole Ethernet frame without FCS) on `interface`.
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
pub fn net_tx(frame: &[u8], interface: u64) -> Result<(), Error> {
    let mut registers = Registers {
        rsi: frame.as_ptr() as u64,
        rcx: frame.len() as u64,
        rdx: interface,
        ..Default::default()
    };
    // SAFETY: RSI and RCX describe `frame`, which the call only reads.
    let carry = unsafe { call(B_NET_TX, &mut registers) };
    if carry { Err(refused(registers.rax)) } else { Ok(()) }
}

/// `b_net_rx`: copies the next frame received on `interface` into `buffer` (cut to
/// its length) and returns the frame's length, 0 when none arrived.
///
/// # Example
///
/// ```ignore
/// let mut buffer = [0u8; 1522];
/// match ingot_sdk::baremetal::net_rx(0, &mut buffer) {
///     Ok(0) => ingot_sdk::println!("nothing received"),
///     Ok(len) => ingot_sdk::println!("received {len} bytes"),
///     Err(error) => ingot_sdk::println!("interface 0: {error:?}"),
/// }
/// ```
pub fn net_rx(interface: u64, buffer: &mut [u8]) -> Result<usize, Error> {
    let mut registers = Registers { rdx: interface, ..Default::default() };
    // SAFETY: `b_net_rx` only takes the interface number.
    let carry = unsafe { call(B_NET_RX, &mut registers) };
    if carry {
        return Err(refused(registers.rax));
    }
    let len = registers.rcx as usize;
    for (index, byte) in buffer.iter_mut().take(len).enumerate() {
        // SAFETY: the call returned RDI = a frame of RCX bytes that stays readable (the
        // kernel's receive buffer or the program's NET_CONFIG ring); it is read with
        // atomic loads, as another core's `b_net_rx` may refill it meanwhile.
        *byte = unsafe { AtomicU8::from_ptr((registers.rdi + index as u64) as *mut u8) }
            .load(Ordering::Relaxed);
    }
    Ok(len)
}

/// `b_nvs_read`: reads `buffer.len() / 4096` sectors of 4 KiB from sector `start` of
/// `disk` into `buffer`; returns the sectors read.
///
/// # Example
///
/// ```ignore
/// let mut sector = [0u8; ingot_sdk::baremetal::SECTOR_BYTES];
/// match ingot_sdk::baremetal::nvs_read(&mut sector, 0, 0) {
///     Ok(read) => ingot_sdk::println!("{read} sector of 4 KiB read"),
///     Err(error) => ingot_sdk::println!("disk 0: {error:?}"),
/// }
/// ```
pub fn nvs_read(buffer: &mut [u8], start: u64, disk: u64) -> Result<u64, Error> {
    let mut registers = Registers {
        rax: start,
        rcx: (buffer.len() / SECTOR_BYTES) as u64,
        rdx: disk,
        rdi: buffer.as_mut_ptr() as u64,
        ..Default::default()
    };
    // SAFETY: RDI and RCX describe whole sectors inside `buffer`, which the call writes.
    let carry = unsafe { call(B_NVS_READ, &mut registers) };
    if carry { Err(refused(registers.rax)) } else { Ok(registers.rcx) }
}

/// `b_nvs_write`: writes `data.len() / 4096` sectors of 4 KiB from `data` at sector
/// `start` of `disk`; returns the sectors written.
///
/// # Example
///
/// ```ignore
/// let data = [0u8; ingot_sdk::baremetal::SECTOR_BYTES];
/// if let Err(error) = ingot_sdk::baremetal::nvs_write(&data, 5, 0) {
///     ingot_sdk::println!("disk 0: {error:?}");
/// }
/// ```
pub fn nvs_write(data: &[u8], start: u64, disk: u64) -> Result<u64, Error> {
    let mut registers = Registers {
        rax: start,
        rcx: (data.len() / SECTOR_BYTES) as u64,
        rdx: disk,
        rsi: data.as_ptr() as u64,
        ..Default::default()
    };
    // SAFETY: RSI and RCX describe whole sectors inside `data`, which the call reads.
    let carry = unsafe { call(B_NVS_WRITE, &mut registers) };
    if carry { Err(refused(registers.rax)) } else { Ok(registers.rcx) }
}

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
