//! `b_system`: every function of the reference's table (RCX = number, RAX and RDX =
//! arguments, RAX = result), implemented where the reference is broken or empty:
//! TIMECOUNTER is a nanosecond counter, the callbacks fire (`callbacks`), RESET
//! returns the other cores to idle. A refused call sets the carry flag; functions with
//! a result keep the reference's failure value in RAX (0 for `SMP_SET`, `NET_STATUS`,
//! the screen and bus reads), the others put the negative error code there. An
//! unknown number leaves RAX unchanged, as on the reference, with the carry flag set.

use core::fmt::Write;

use ingot_abi::Error;
use ingot_bootinfo::Framebuffer;
use ingot_hal::{PciAddress, PciConfig};
use spin::Once;

use super::callbacks::{self, Kind};
use super::{Refuse, Registers, cores, net};
use crate::{console, pci, power, program, time};

use ingot_baremetal::function;

/// Longest `DELAY` accepted (a minute); longer is refused rather than a hang.
const MAX_DELAY_US: u64 = 60_000_000;
/// Most bytes one `DUMP_MEM` shows.
const MAX_DUMP_BYTES: u64 = 1 << 20;

static FRAMEBUFFER: Once<Option<Framebuffer>> = Once::new();

pub(super) fn set_framebuffer(framebuffer: Option<Framebuffer>) {
    FRAMEBUFFER.call_once(|| framebuffer);
}

fn screen() -> Result<Framebuffer, Error> {
    FRAMEBUFFER.get().copied().flatten().ok_or(Error::NotFound)
}

/// What a function produced.
enum Outcome {
    /// RAX = the value.
    Value(u64),
    /// RAX unchanged.
    Done,
}

/// Runs function RCX.
pub fn dispatch(registers: &mut Registers) {
    use function as f;
    let (argument, second) = (registers.rax, registers.rdx);
    // Functions whose reference result on failure is a value (0), not an error code.
    let failure_value = match registers.rcx {
        f::SMP_SET
        | f::NET_STATUS
        | f::BUS_READ
        | f::SCREEN_LFB_GET
        | f::SCREEN_X_GET
        | f::SCREEN_Y_GET
        | f::SCREEN_PPSL_GET
        | f::SCREEN_BPP_GET => Some(0),
        _ => None,
    };
    let outcome = match registers.rcx {
        f::TIMECOUNTER => Ok(Outcome::Value(time::now_ns())),
        f::FREE_MEMORY => free_memory_mib().map(Outcome::Value),
        f::SMP_ID => Ok(Outcome::Value(cores::id())),
        f::SMP_NUMCORES => Ok(Outcome::Value(cores::count())),
        f::SMP_SET => cores::set(argument, second).map(Outcome::Value),
        f::SMP_GET => Ok(Outcome::Value(cores::get())),
        f::SMP_LOCK => cores::lock(argument).map(|()| Outcome::Done),
        f::SMP_UNLOCK => cores::unlock(argument).map(|()| Outcome::Done),
        f::SMP_BUSY => Ok(Outcome::Value(cores::busy())),
        f::TSC => Ok(Outcome::Value(ingot_arch::msr::read_tsc())),
        f::SCREEN_LFB_GET => screen().map(|fb| Outcome::Value(fb.address)),
        f::SCREEN_X_GET => screen().map(|fb| Outcome::Value(fb.width.into())),
        f::SCREEN_Y_GET => screen().map(|fb| Outcome::Value(fb.height.into())),
        f::SCREEN_PPSL_GET => screen().map(|fb| Outcome::Value((fb.pitch / 4).into())),
        f::SCREEN_BPP_GET => screen().map(|_| Outcome::Value(32)),
        f::NET_STATUS => net::status(second).map(Outcome::Value),
        f::NET_CONFIG => net::configure(second, argument).map(|()| Outcome::Done),
        f::BUS_READ => bus_read(second).map(Outcome::Value),
        f::BUS_WRITE => bus_write(second, argument).map(|()| Outcome::Done),
        f::STDOUT_SET => stdout_set(argument).map(|()| Outcome::Done),
        f::STDOUT_GET => stdout_get().map(Outcome::Value),
        f::CALLBACK_TIMER => callbacks::set(Kind::Timer, argument).map(|()| Outcome::Done),
        f::CALLBACK_NETWORK => callbacks::set(Kind::Network, argument).map(|()| Outcome::Done),
        f::CALLBACK_KEYBOARD => callbacks::set(Kind::Keyboard, argument).map(|()| Outcome::Done),
        f::DUMP_MEM => dump_memory(argument, second).map(|()| Outcome::Done),
        f::DUMP_RAX => {
            print(format_args!("{argument:016X}"));
            Ok(Outcome::Done)
        }
        f::DELAY => delay(argument).map(|()| Outcome::Done),
        f::RESET => Ok(Outcome::Value(cores::reset())),
        f::REBOOT => power::reboot(),
        f::SHUTDOWN => power::shutdown(),
        _ => return registers.fail_flag(),
    };
    match (outcome, failure_value) {
        (Ok(Outcome::Value(value)), _) => {
            registers.rax = value;
            registers.succeed();
        }
        (Ok(Outcome::Done), _) => registers.succeed(),
        (Err(_), Some(value)) => {
            registers.rax = value;
            registers.fail_flag();
        }
        (Err(error), None) => registers.refuse(error),
    }
}

/// The program's free memory in MiB: its window less the stack the kernel set aside.
fn free_memory_mib() -> Result<u64, Error> {
    let window = program::window().ok_or(Error::NotFound)?;
    Ok(window.bytes().saturating_sub(ingot_platform::program_memory::PROGRAM_STACK_BYTES) >> 20)
}

/// The reference's packed bus address (`ingot_baremetal::bus_address`).
fn bus_address(packed: u64) -> Result<(PciAddress, u16), Error> {
    let address = ingot_baremetal::bus_address(packed).ok_or(Error::InvalidArgument)?;
    let function = PciAddress {
        segment: address.segment,
        bus: address.bus,
        device: address.device,
        function: address.function,
    };
    Ok((function, address.offset))
}

fn bus_read(packed: u64) -> Result<u64, Error> {
    let (address, offset) = bus_address(packed)?;
    let config = pci::config().ok_or(Error::NotFound)?;
    Ok(config.read_u32(address, offset).into())
}

fn bus_write(packed: u64, value: u64) -> Result<(), Error> {
    let (address, offset) = bus_address(packed)?;
    let value = u32::try_from(value).map_err(|_| Error::InvalidArgument)?;
    pci::config().ok_or(Error::NotFound)?.write_u32(address, offset, value);
    Ok(())
}

/// `STDOUT_SET`: points `b_output` at program code (or back at the kernel's).
fn stdout_set(address: u64) -> Result<(), Error> {
    let table = super::table().ok_or(Error::NotFound)?;
    if address != table.default_output {
        program::window().ok_or(Error::NotFound)?.check_range(address, 1)?;
    }
    table.output_pointer.store(address, core::sync::atomic::Ordering::Release);
    Ok(())
}

fn stdout_get() -> Result<u64, Error> {
    let table = super::table().ok_or(Error::NotFound)?;
    Ok(table.output_pointer.load(core::sync::atomic::Ordering::Acquire))
}

/// `DUMP_MEM`: `0x` + address, then 16 bytes per line in hex, from program memory.
fn dump_memory(address: u64, len: u64) -> Result<(), Error> {
    if len > MAX_DUMP_BYTES {
        return Err(Error::InvalidArgument);
    }
    let window = program::window().ok_or(Error::NotFound)?;
    window.check_range(address, len)?;
    for line in 0..len.div_ceil(16) {
        let at = address + line * 16;
        let mut bytes = [0u8; 16];
        let chunk = &mut bytes[..(len - line * 16).min(16) as usize];
        window.read_into(at, chunk)?;
        let mut text = Line::default();
        let _ = write!(text, "0x{at:016X}:");
        for byte in chunk.iter() {
            let _ = write!(text, " {byte:02X}");
        }
        let _ = writeln!(text);
        console::write_bytes(text.as_bytes());
    }
    Ok(())
}

fn delay(microseconds: u64) -> Result<(), Error> {
    if microseconds > MAX_DELAY_US {
        return Err(Error::InvalidArgument);
    }
    time::delay_us(microseconds);
    Ok(())
}

fn print(args: core::fmt::Arguments<'_>) {
    let mut text = Line::default();
    let _ = text.write_fmt(args);
    console::write_bytes(text.as_bytes());
}

/// A line of at most 128 bytes formatted without the heap.
struct Line {
    bytes: [u8; 128],
    len: usize,
}

impl Default for Line {
    fn default() -> Self {
        Self { bytes: [0; 128], len: 0 }
    }
}

impl Line {
    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl Write for Line {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        let end = self.len + text.len();
        self.bytes.get_mut(self.len..end).ok_or(core::fmt::Error)?.copy_from_slice(text.as_bytes());
        self.len = end;
        Ok(())
    }
}
