//! Running another program from this one (`program_run`): the monitor's `run`.

use ingot_abi::{Error, PROGRAM_BASE, PROGRAM_FAULTED_BIT};

use crate::calls::decode;
use crate::start::api;

unsafe extern "C" {
    static __bss_end: u8;
}

/// How a program started with [`run_image`] ended.
///
/// # Example
///
/// ```ignore
/// // A flat program of one instruction, `ud2`: it faults, and only it ends.
/// let image = alloc::boxed::Box::leak(alloc::boxed::Box::new([0x0Fu8, 0x0B]));
/// match ingot_sdk::run::run_image(image)? {
///     ingot_sdk::run::Ended::Faulted(vector) => ingot_sdk::println!("faulted, vector {vector}"),
///     ingot_sdk::run::Ended::Returned(status) => ingot_sdk::println!("returned {status}"),
/// }
/// ingot_sdk::println!("this program keeps {} bytes", ingot_sdk::run::own_bytes());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It returned this status.
    Returned(u64),
    /// It raised this CPU exception vector and was abandoned.
    Faulted(u64),
}

/// Bytes of this program the kernel must keep while another runs: its image and `.bss`.
///
/// # Example
///
/// ```ignore
/// // A flat program of one instruction, `ud2`: it faults, and only it ends.
/// let image = alloc::boxed::Box::leak(alloc::boxed::Box::new([0x0Fu8, 0x0B]));
/// match ingot_sdk::run::run_image(image)? {
///     ingot_sdk::run::Ended::Faulted(vector) => ingot_sdk::println!("faulted, vector {vector}"),
///     ingot_sdk::run::Ended::Returned(status) => ingot_sdk::println!("returned {status}"),
/// }
/// ingot_sdk::println!("this program keeps {} bytes", ingot_sdk::run::own_bytes());
/// ```
pub fn own_bytes() -> u64 {
    core::ptr::addr_of!(__bss_end) as u64 - PROGRAM_BASE
}

/// Runs the flat program `image` and waits for it. `image` must lie in this program's
/// free memory (from [`crate::scratch`]), not in its image or `.bss`; the new program
/// gets the window below this program's parked copy, so anything else in scratch
/// memory is overwritten.
///
/// # Example
///
/// ```ignore
/// // A flat program of two instructions, `mov eax, 7; ret`, placed in free memory.
/// let Some(free) = ingot_sdk::scratch::take() else { return Err(Error::NotFound) };
/// let image = &mut free[..6];
/// image.copy_from_slice(&[0xB8, 7, 0, 0, 0, 0xC3]);
/// let ended = ingot_sdk::run::run_image(image)?;
/// ingot_sdk::println!("the program ended: {ended:?}");
/// ```
pub fn run_image(image: &[u8]) -> Result<Ended, Error> {
    ended((api().program_run)(image.as_ptr(), image.len() as u64, own_bytes()))
}

/// As [`run_image`], the program getting the words of `args` as its arguments (the
/// first is its name; blank-separated, `"two words"` is one), through `program_run_args`
/// (API 1.4; an older kernel gives `NotFound`).
///
/// # Example
///
/// ```ignore
/// // `mov rax, rsi; ret`: a flat program that returns its argument count (argc, its
/// // second argument), in `free`, the memory `ingot_sdk::scratch::take()` gave.
/// let image = &mut free[..4];
/// image.copy_from_slice(&[0x48, 0x89, 0xF0, 0xC3]);
/// let ended = ingot_sdk::run::run_image_with_args(image, "count \"two words\" three")?;
/// ingot_sdk::println!("it counted its arguments: {ended:?}");
/// ```
pub fn run_image_with_args(image: &[u8], args: &str) -> Result<Ended, Error> {
    let table = api();
    if (table.size as usize) < core::mem::offset_of!(ingot_abi::ApiTable, program_run_args) + 8 {
        return Err(Error::NotFound);
    }
    let (image_len, keep) = (image.len() as u64, own_bytes());
    let args_len = args.len() as u64;
    ended((table.program_run_args)(image.as_ptr(), image_len, keep, args.as_ptr(), args_len))
}

fn ended(status: i64) -> Result<Ended, Error> {
    let value = decode(status)?;
    if value & PROGRAM_FAULTED_BIT as u64 != 0 {
        Ok(Ended::Faulted(value & !(PROGRAM_FAULTED_BIT as u64)))
    } else {
        Ok(Ended::Returned(value))
    }
}
