//! BareMetal's call table at 0x100010: the logic behind the register-convention
//! entry stubs of `boot/direct` (`baremetal.rs`).
//!
//! A BareMetal program calls `call [0x100010]` … `call [0x100048]` with its arguments
//! in registers and expects every register back unchanged except the documented
//! outputs. The stubs save all general registers and RFLAGS in a [`Registers`] frame on
//! the caller's stack, pass it here, and restore it, so these functions read the
//! inputs from the frame and write only the outputs into it. Every entry also reports
//! failure in the carry flag (clear on success), which the reference leaves undefined:
//! calls whose reference has no output put the negative Ingot error code in RAX only
//! when they fail. Pointers are checked through the program window as the native
//! calls do; nothing a program passes can make the kernel fault.
//!
//! `docs/api.md` ("BareMetal-compatible table") documents every call and function.

mod callbacks;
mod cores;
mod net;
mod storage;
mod system;

use ingot_abi::Error;

pub use callbacks::{clear as clear_callbacks, poll as poll_callbacks};
pub use cores::{decode_task, on_nmi as reset_nmi, run_task};

use crate::{console, program};

pub use ingot_baremetal::Registers;

/// Refusing a call with an Ingot error: carry set, the negative code in RAX.
trait Refuse {
    fn refuse(&mut self, error: Error);
}

impl Refuse for Registers {
    fn refuse(&mut self, error: Error) {
        self.fail(error.status());
    }
}

/// `b_input` (0x100010): AL = the next input byte, 0 and ZF set when there is none.
/// Enter arrives as 0x1C and backspace/DEL as 0x0E, as on the reference.
pub extern "sysv64" fn input(registers: &mut Registers) -> bool {
    serve(registers, |registers| {
        callbacks::poll();
        let byte = callbacks::take_key().or_else(console::read_byte);
        registers.set_input_byte(byte.map_or(0, ingot_baremetal::key_code));
    })
}

/// `b_output` (the default target of the pointer at 0x100018): RSI = bytes, RCX =
/// count; all registers preserved.
pub extern "sysv64" fn output(registers: &mut Registers) -> bool {
    serve(registers, |registers| {
        let Some(window) = program::window() else { return registers.refuse(Error::NotFound) };
        match crate::api::write_program_bytes(window, registers.rsi, registers.rcx) {
            Ok(()) => registers.succeed(),
            Err(error) => registers.refuse(error),
        }
    })
}

/// `b_net_tx` (0x100020): RSI = frame, RCX = length, RDX = interface.
pub extern "sysv64" fn net_tx(registers: &mut Registers) -> bool {
    serve(registers, |registers| {
        callbacks::poll();
        net::transmit(registers);
    })
}

/// `b_net_rx` (0x100028): RDX = interface; RDI = frame, RCX = length (0: none).
pub extern "sysv64" fn net_rx(registers: &mut Registers) -> bool {
    serve(registers, |registers| {
        callbacks::poll();
        net::receive(registers);
    })
}

/// `b_nvs_read` (0x100030): RAX = first 4 KiB sector, RCX = count, RDX = disk,
/// RDI = destination; RCX = sectors read (0 on error).
pub extern "sysv64" fn nvs_read(registers: &mut Registers) -> bool {
    serve(registers, |registers| {
        callbacks::poll();
        storage::transfer(registers, storage::Direction::Read);
    })
}

/// `b_nvs_write` (0x100038): RAX = first 4 KiB sector, RCX = count, RDX = disk,
/// RSI = source; RCX = sectors written (0 on error).
pub extern "sysv64" fn nvs_write(registers: &mut Registers) -> bool {
    serve(registers, |registers| {
        callbacks::poll();
        storage::transfer(registers, storage::Direction::Write);
    })
}

/// `b_system` (0x100040): RCX = function, RAX and RDX = arguments; RAX = result.
pub extern "sysv64" fn system(registers: &mut Registers) -> bool {
    serve(registers, |registers| {
        callbacks::poll();
        system::dispatch(registers);
    })
}

/// `b_user` (0x100048): reserved; returns with every register preserved, as there.
pub extern "sysv64" fn user(registers: &mut Registers) -> bool {
    serve(registers, |registers| {
        registers.succeed();
    })
}

/// Runs one call of the compatible table on this core, counting it so that `RESET`
/// never cuts a call short; returns whether the entry stub must end the calling
/// `SMP_SET` assignment instead of returning to it (`cores::leave_call`).
fn serve(registers: &mut Registers, call: impl FnOnce(&mut Registers)) -> bool {
    cores::enter_call();
    call(registers);
    cores::leave_call()
}

/// What the kernel image tells this module at boot: where the `b_output` pointer
/// lives (a BareMetal program may overwrite it; `STDOUT_SET` does) and its default.
pub struct Table {
    /// The quad at 0x100018.
    pub output_pointer: &'static core::sync::atomic::AtomicU64,
    /// The address of the kernel's own `b_output` stub.
    pub default_output: u64,
}

static TABLE: spin::Once<Table> = spin::Once::new();

/// Records the table's location (called once by the kernel image before `start`).
pub fn install(table: Table) {
    TABLE.call_once(|| table);
}

fn table() -> Option<&'static Table> {
    TABLE.get()
}

/// Remembers the framebuffer for `SCREEN_*` (called once at boot).
pub fn set_framebuffer(framebuffer: Option<ingot_bootinfo::Framebuffer>) {
    system::set_framebuffer(framebuffer);
}
