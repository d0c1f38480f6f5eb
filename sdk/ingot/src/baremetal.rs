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

use core::sync::atomic::{AtomicU8, Ordering};

use ingot_abi::Error;

pub use ingot_baremetal::function;
use ingot_baremetal::function as f;

mod system;
pub use system::*;

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
