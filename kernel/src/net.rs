//! Network interfaces after device discovery (`devices`): kept in PCI order, each
//! behind its own lock, so any core may use any interface and two cores using
//! different interfaces never wait for each other. Each is printed at boot as
//! `ingot: net <n> <driver> mac=<mac> link=<up|down>`.

use alloc::boxed::Box;
use alloc::vec::Vec;

use ingot_net::{NetDevice, NetError};
use spin::{Mutex, Once};

use crate::println;

/// A network interface as the kernel keeps it.
pub type Nic = Box<dyn NetDevice + Send>;

static INTERFACES: Once<Vec<Mutex<Nic>>> = Once::new();

/// Keeps the interfaces device discovery found and prints one line for each.
pub fn install(mut nics: Vec<Nic>) {
    for (number, nic) in nics.iter_mut().enumerate() {
        let link = if nic.link_up() { "up" } else { "down" };
        println!("ingot: net {number} {} mac={} link={link}", nic.driver(), nic.mac());
    }
    INTERFACES.call_once(|| nics.into_iter().map(Mutex::new).collect());
}

/// Number of interfaces.
pub fn count() -> usize {
    INTERFACES.get().map_or(0, Vec::len)
}

/// Runs `f` on interface `number` with its lock held; `None` if there is no such
/// interface.
pub fn with_interface<R>(number: u64, f: impl FnOnce(&mut Nic) -> R) -> Option<R> {
    let interface = INTERFACES.get()?.get(usize::try_from(number).ok()?)?;
    Some(f(&mut interface.lock()))
}

/// Maps a network error to the program-facing error.
pub fn api_error(error: NetError) -> ingot_abi::Error {
    use ingot_abi::Error;
    match error {
        NetError::WouldBlock => Error::WouldBlock,
        NetError::Busy => Error::Busy,
        NetError::TooShort | NetError::TooLong | NetError::BadSegments => Error::InvalidArgument,
        NetError::Timeout => Error::TimedOut,
        NetError::Device(_) | NetError::Failed | NetError::NoMemory => Error::DeviceError,
    }
}
