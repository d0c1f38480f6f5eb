//! The program's first instructions: clear `.bss`, remember the API table and the
//! arguments, call main.

use core::sync::atomic::{AtomicU64, Ordering};

use ingot_abi::{API_MAGIC, API_TABLE_ADDRESS, ApiTable};

static API_TABLE: AtomicU64 = AtomicU64::new(0);

unsafe extern "Rust" {
    fn ingot_program_main() -> u64;
}

unsafe extern "C" {
    static mut __bss_start: u8;
    static mut __bss_end: u8;
}

/// The kernel's table. `_start` keeps the address the kernel passed if its magic
/// number is right, so a call costs one load here; otherwise the documented fixed
/// address is checked on every use.
#[inline(always)]
pub(crate) fn api() -> &'static ApiTable {
    let address = API_TABLE.load(Ordering::Relaxed);
    if address == 0 {
        return checked_api(API_TABLE_ADDRESS);
    }
    // SAFETY: `_start` stored the address of the kernel's table after checking its
    // magic number; the table lives as long as the kernel, i.e. for the whole program.
    unsafe { &*(address as *const ApiTable) }
}

/// The table at `address`, checked for the magic number.
#[cold]
#[inline(never)]
fn checked_api(address: u64) -> &'static ApiTable {
    // SAFETY: the kernel passes the address of its table (or it is at the documented
    // fixed address); it lives as long as the kernel, i.e. for the whole program.
    let table = unsafe { &*(address as *const ApiTable) };
    if table.magic != API_MAGIC {
        panic!("no Ingot API table at {address:#x}");
    }
    table
}

/// The ELF note that marks the program as written for Ingot's native table (owner
/// `Ingot`, type 1, no descriptor): the kernel then calls it as below instead of
/// entering it like a Linux program.
#[repr(C, align(4))]
struct Note([u8; 20]);

#[used]
#[unsafe(link_section = ".note.ingot")]
static INGOT_NOTE: Note = Note(*b"\x06\0\0\0\0\0\0\0\x01\0\0\0Ingot\0\0\0");

#[unsafe(no_mangle)]
#[unsafe(link_section = ".text.entry")]
extern "sysv64" fn _start(api_table: u64, argc: u64, argv: u64) -> u64 {
    let start = core::ptr::addr_of_mut!(__bss_start);
    let end = core::ptr::addr_of_mut!(__bss_end);
    // SAFETY: the linker script brackets `.bss` with these symbols; nothing has used
    // `.bss` yet, and zeroing it gives statics their initial values.
    unsafe { core::ptr::write_bytes(start, 0, end as usize - start as usize) }
    // SAFETY: the kernel passes the address of its table in the first argument.
    if api_table != 0 && unsafe { (*(api_table as *const ApiTable)).magic } == API_MAGIC {
        API_TABLE.store(api_table, Ordering::Relaxed);
    }
    crate::args::set(argc, argv);
    // SAFETY: `entry!` defines this function with exactly this signature.
    unsafe { ingot_program_main() }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    crate::println!("program panic: {}", info.message());
    // Report through the kernel's exception path: there is nothing else to return to.
    loop {
        core::hint::spin_loop();
        // SAFETY: `ud2` raises #UD, which the kernel reports and which ends the run.
        unsafe { core::arch::asm!("ud2", options(nomem, nostack)) }
    }
}
