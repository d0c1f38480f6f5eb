//! The Linux system calls a static musl program makes, served in ring 0 through
//! `ingot_arch::syscall` (the `syscall` instruction, no privilege change).
//!
//! What musl's stdio, malloc, string, time, environment and exit paths use is here:
//! `read`/`write`/`writev` on the console, `brk` and anonymous `mmap` in the program
//! window, `clock_gettime`/`nanosleep`, `exit`/`exit_group`, `ioctl(TIOCGWINSZ)`,
//! `arch_prctl`, `set_tid_address`, `uname` and a few that only need an answer. Any
//! other number returns `-ENOSYS` and is reported once. Every pointer is checked
//! against the window, as for the native calls; a bad one is `-EFAULT`.

use core::sync::atomic::{AtomicU64, Ordering};

use ingot_arch::syscall::{SyscallFrame, SyscallOutcome};
use ingot_platform::program_memory::ProgramMemory;

use crate::{console, program};

const EBADF: i64 = 9;
const EAGAIN: i64 = 11;
const ENOMEM: i64 = 12;
const EFAULT: i64 = 14;
const EINVAL: i64 = 22;
const ENOTTY: i64 = 25;
const ESPIPE: i64 = 29;
const ENOSYS: i64 = 38;

const PAGE: u64 = 4096;
/// Kept unmapped-in-spirit between the heap and the stack (`mmap` never goes there).
const STACK_GUARD_BYTES: u64 = 64 * 1024;
const MAP_ANONYMOUS: u64 = 0x20;
const MAP_FIXED: u64 = 0x10;
const TIOCGWINSZ: u64 = 0x5413;
const ARCH_SET_FS: u64 = 0x1002;
const ARCH_GET_FS: u64 = 0x1003;
/// Bytes of one `struct utsname` field.
const UTS_FIELD: usize = 65;

/// The program break's floor (end of the image) and its current value.
static BREAK_START: AtomicU64 = AtomicU64::new(0);
static BREAK: AtomicU64 = AtomicU64::new(0);
/// `mmap` hands out memory downwards from here (below the stack).
static MAP_BOTTOM: AtomicU64 = AtomicU64::new(0);
/// One bit per call number already reported as unknown.
static REPORTED: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];

/// Prepares the memory calls for a program whose break starts at `image_end` (the end
/// of its image, or the window's start for a fixed-address image below it) and enables
/// the `syscall` entry with a stack from the kernel heap.
pub fn enable(window: &ProgramMemory, image_end: u64, stack_bytes: u64) {
    let start = image_end.next_multiple_of(PAGE);
    BREAK_START.store(start, Ordering::Relaxed);
    BREAK.store(start, Ordering::Relaxed);
    let top = window.base() + window.bytes() - stack_bytes - STACK_GUARD_BYTES;
    MAP_BOTTOM.store(top & !(PAGE - 1), Ordering::Relaxed);
    let stack = alloc::vec![0u8; 32 * 1024].leak();
    ingot_arch::cpu::enable_sse();
    ingot_arch::syscall::enable(handle, stack);
}

fn handle(frame: &SyscallFrame) -> SyscallOutcome {
    let [a0, a1, a2, a3, _a4, _a5] = frame.args;
    let Some(window) = program::window() else { return SyscallOutcome::Return(-ENOSYS) };
    let result = match frame.number {
        0 => read(window, a0, a1, a2),
        1 => write(window, a0, a1, a2),
        3 => 0,       // close
        8 => -ESPIPE, // lseek
        9 => mmap(window, a0, a1, a3),
        10 => 0, // mprotect: everything is read-write-execute
        11 => 0, // munmap: the memory is not reused
        12 => brk(a0),
        13 | 14 => 0, // rt_sigaction, rt_sigprocmask
        16 => ioctl(window, a1, a2),
        20 => writev(window, a0, a1, a2),
        24 => 0,       // sched_yield
        25 => -ENOMEM, // mremap: musl copies instead
        28 => 0,       // madvise
        35 => nanosleep(window, a0),
        39 | 186 => 1, // getpid, gettid
        60 | 231 => return SyscallOutcome::Exit(a0),
        63 => uname(window, a0),
        102 | 104 | 107 | 108 => 0, // getuid, getgid, geteuid, getegid
        158 => arch_prctl(window, a0, a1),
        218 => 1, // set_tid_address: the one thread's id
        228 => clock_gettime(window, a1),
        318 => getrandom(window, a0, a1),
        number => {
            report_unknown(number);
            -ENOSYS
        }
    };
    SyscallOutcome::Return(result)
}

fn report_unknown(number: u64) {
    let Some(word) = REPORTED.get((number / 64) as usize) else {
        crate::println!("ingot: linux: system call {number} not implemented (ENOSYS)");
        return;
    };
    let bit = 1 << (number % 64);
    if word.fetch_or(bit, Ordering::Relaxed) & bit == 0 {
        crate::println!("ingot: linux: system call {number} not implemented (ENOSYS)");
    }
}

fn fault(_: ingot_abi::Error) -> i64 {
    -EFAULT
}

fn write(window: &ProgramMemory, fd: u64, buffer: u64, len: u64) -> i64 {
    if fd != 1 && fd != 2 {
        return -EBADF;
    }
    match crate::api::write_program_bytes(window, buffer, len) {
        Ok(()) => len as i64,
        Err(error) => fault(error),
    }
}

fn writev(window: &ProgramMemory, fd: u64, vectors: u64, count: u64) -> i64 {
    if count > 1024 {
        return -EINVAL;
    }
    let mut records = alloc::vec![0u8; (count * 16) as usize];
    if window.read_into(vectors, &mut records).is_err() {
        return -EFAULT;
    }
    // Every piece is checked before anything is written.
    let pieces = records.as_chunks::<16>().0.iter().map(|record| {
        let base = u64::from_le_bytes(record[..8].try_into().unwrap_or_default());
        let len = u64::from_le_bytes(record[8..].try_into().unwrap_or_default());
        (base, len)
    });
    if pieces.clone().any(|(base, len)| window.check_range(base, len).is_err()) {
        return -EFAULT;
    }
    let mut total = 0i64;
    for (base, len) in pieces {
        let written = write(window, fd, base, len);
        if written < 0 {
            return written;
        }
        total += written;
    }
    total
}

fn read(window: &ProgramMemory, fd: u64, buffer: u64, len: u64) -> i64 {
    if fd != 0 {
        return -EBADF;
    }
    if len == 0 {
        return 0;
    }
    if let Err(error) = window.check_range(buffer, len) {
        return fault(error);
    }
    let mut bytes = [0u8; 256];
    let wanted = &mut bytes[..len.min(256) as usize];
    let mut count = 0;
    while count < wanted.len() {
        match console::read_byte() {
            Some(byte) => wanted[count] = byte,
            None => break,
        }
        count += 1;
    }
    if count == 0 {
        return -EAGAIN;
    }
    window.write_at(buffer, &wanted[..count]).map_or_else(fault, |()| count as i64)
}

fn brk(requested: u64) -> i64 {
    let floor = BREAK_START.load(Ordering::Relaxed);
    let ceiling = MAP_BOTTOM.load(Ordering::Relaxed);
    if requested >= floor && requested <= ceiling {
        BREAK.store(requested, Ordering::Relaxed);
    }
    BREAK.load(Ordering::Relaxed) as i64
}

fn mmap(window: &ProgramMemory, _address: u64, len: u64, flags: u64) -> i64 {
    if flags & MAP_ANONYMOUS == 0 || flags & MAP_FIXED != 0 || len == 0 {
        return -EINVAL;
    }
    let Some(len) = len.checked_next_multiple_of(PAGE) else { return -ENOMEM };
    let bottom = MAP_BOTTOM.load(Ordering::Relaxed);
    let Some(start) = bottom.checked_sub(len) else { return -ENOMEM };
    if start < BREAK.load(Ordering::Relaxed) {
        return -ENOMEM;
    }
    // The window may still hold the file's bytes: anonymous memory starts zeroed.
    if window.write_staged(start, len, |_, chunk| chunk.fill(0)).is_err() {
        return -ENOMEM;
    }
    MAP_BOTTOM.store(start, Ordering::Relaxed);
    start as i64
}

fn ioctl(window: &ProgramMemory, request: u64, argument: u64) -> i64 {
    if request != TIOCGWINSZ {
        return -ENOTTY;
    }
    // struct winsize: rows, columns, then two unused pixel sizes.
    let size = [24u16, 80, 0, 0];
    let mut bytes = [0u8; 8];
    for (chunk, value) in bytes.as_chunks_mut::<2>().0.iter_mut().zip(size) {
        chunk.copy_from_slice(&value.to_le_bytes());
    }
    window.write_at(argument, &bytes).map_or_else(fault, |()| 0)
}

fn clock_gettime(window: &ProgramMemory, timespec: u64) -> i64 {
    let now = crate::time::now_ns();
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&(now / 1_000_000_000).to_le_bytes());
    bytes[8..].copy_from_slice(&(now % 1_000_000_000).to_le_bytes());
    window.write_at(timespec, &bytes).map_or_else(fault, |()| 0)
}

fn nanosleep(window: &ProgramMemory, timespec: u64) -> i64 {
    let mut bytes = [0u8; 16];
    if window.read_into(timespec, &mut bytes).is_err() {
        return -EFAULT;
    }
    let seconds = u64::from_le_bytes(bytes[..8].try_into().unwrap_or_default());
    let nanoseconds = u64::from_le_bytes(bytes[8..].try_into().unwrap_or_default());
    if nanoseconds >= 1_000_000_000 || seconds > 3600 {
        return -EINVAL;
    }
    let mut remaining_us = seconds * 1_000_000 + nanoseconds.div_ceil(1000);
    while remaining_us > 0 {
        let step = remaining_us.min(1_000_000);
        crate::time::delay_us(step);
        remaining_us -= step;
    }
    0
}

fn uname(window: &ProgramMemory, buffer: u64) -> i64 {
    let mut bytes = [0u8; UTS_FIELD * 6];
    let fields = ["Ingot", "ingot", crate::VERSION, crate::VERSION, "x86_64", ""];
    for (index, text) in fields.iter().enumerate() {
        let at = index * UTS_FIELD;
        bytes[at..at + text.len()].copy_from_slice(text.as_bytes());
    }
    window.write_at(buffer, &bytes).map_or_else(fault, |()| 0)
}

fn arch_prctl(window: &ProgramMemory, code: u64, address: u64) -> i64 {
    match code {
        ARCH_SET_FS => {
            ingot_arch::syscall::set_fs_base(address);
            0
        }
        ARCH_GET_FS => {
            let base = ingot_arch::syscall::fs_base();
            window.write_at(address, &base.to_le_bytes()).map_or_else(fault, |()| 0)
        }
        _ => -EINVAL,
    }
}

fn getrandom(window: &ProgramMemory, buffer: u64, len: u64) -> i64 {
    let mut state = crate::time::now_ns() | 1;
    let fill = |_, chunk: &mut [u8]| {
        for byte in chunk.iter_mut() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *byte = state as u8;
        }
    };
    window.write_staged(buffer, len, fill).map_or_else(fault, |()| len as i64)
}
