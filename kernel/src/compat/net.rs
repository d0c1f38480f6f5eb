//! `b_net_tx`, `b_net_rx`, `NET_STATUS` and `NET_CONFIG` over the kernel's interfaces.
//!
//! Transmit hands the program's frame to the native send (no copy). Receive keeps the
//! reference's shape: RDI points at the frame and RCX is its length, the frame held
//! in a buffer the program can read until its next `b_net_rx` on that interface. The
//! buffer is the kernel's own 2 KiB per interface, or, after `NET_CONFIG`, a ring of
//! 256 slots of 2048 bytes in program memory from the configured base (as the
//! reference's receive descriptors), each frame copied to the next slot. RDI points at
//! readable memory even when RCX is 0. A frame the idle poller took for the network
//! callback waits in the kernel buffer and is the next one `b_net_rx` returns.

use ingot_abi::Error;
use ingot_net::SliceSink;
use spin::Mutex;

use super::{Refuse, Registers};
use crate::{api_net, net, program};

/// Interfaces the compatible calls serve (the reference serves two).
const MAX_INTERFACES: usize = 8;
/// Bytes per receive buffer and per ring slot.
pub const SLOT_BYTES: usize = 2048;
/// Slots in a `NET_CONFIG` ring.
pub const RING_SLOTS: u64 = 256;

struct Receiver {
    buffer: [u8; SLOT_BYTES],
    /// Length of a frame the poller took and `b_net_rx` has not returned yet.
    pending: usize,
    /// `NET_CONFIG`'s base in program memory (0: the kernel buffer).
    ring_base: u64,
    next_slot: u64,
}

static RECEIVERS: [Mutex<Receiver>; MAX_INTERFACES] = [const {
    Mutex::new(Receiver { buffer: [0; SLOT_BYTES], pending: 0, ring_base: 0, next_slot: 0 })
}; MAX_INTERFACES];
/// What RDI points at when the interface does not exist: readable zeros.
static NO_FRAME: [u8; 64] = [0; 64];

fn receiver(interface: u64) -> Result<&'static Mutex<Receiver>, Error> {
    if interface >= net::count() as u64 {
        return Err(Error::NotFound);
    }
    RECEIVERS.get(interface as usize).ok_or(Error::NotFound)
}

/// RSI = frame, RCX = length, RDX = interface; registers preserved.
pub fn transmit(registers: &mut Registers) {
    let status = api_net::net_send(registers.rdx, registers.rsi as *const u8, registers.rcx);
    match Error::from_status(status) {
        Some(error) if status < 0 => registers.refuse(error),
        _ => registers.succeed(),
    }
}

/// RDX = interface; RDI = frame, RCX = length (0 when nothing arrived).
pub fn receive(registers: &mut Registers) {
    registers.rcx = 0;
    registers.rdi = NO_FRAME.as_ptr() as u64;
    let receiver = match receiver(registers.rdx) {
        Ok(receiver) => receiver,
        Err(error) => return registers.refuse(error),
    };
    let mut state = receiver.lock();
    registers.rdi = state.buffer.as_ptr() as u64;
    let len = if state.pending > 0 {
        core::mem::take(&mut state.pending)
    } else {
        match receive_into(registers.rdx, &mut state.buffer) {
            Ok(Some(len)) => len,
            Ok(None) => return registers.succeed(),
            Err(error) => return registers.refuse(error),
        }
    };
    if state.ring_base != 0 {
        let slot = state.ring_base + state.next_slot * SLOT_BYTES as u64;
        let copied = program::window()
            .ok_or(Error::NotFound)
            .and_then(|window| window.write_at(slot, &state.buffer[..len]));
        if let Err(error) = copied {
            return registers.refuse(error);
        }
        state.next_slot = (state.next_slot + 1) % RING_SLOTS;
        registers.rdi = slot;
    }
    registers.rcx = len as u64;
    registers.succeed();
}

/// One frame from the driver into `buffer`: its length, or `None` if none waits.
fn receive_into(interface: u64, buffer: &mut [u8]) -> Result<Option<usize>, Error> {
    let mut sink = SliceSink { buffer };
    match net::with_interface(interface, |device| device.receive(&mut sink)) {
        None => Err(Error::NotFound),
        Some(Ok(len)) => Ok(Some(len)),
        Some(Err(ingot_net::NetError::WouldBlock)) => Ok(None),
        Some(Err(error)) => Err(net::api_error(error)),
    }
}

/// For the network callback: takes a waiting frame into the interface's buffer unless
/// one is already held there. Returns whether a new frame is now held. Never waits
/// for a lock another core holds.
pub fn poll_frame(interface: u64) -> bool {
    let Ok(receiver) = receiver(interface) else { return false };
    let Some(mut state) = receiver.try_lock() else { return false };
    if state.pending > 0 {
        return false;
    }
    match receive_into(interface, &mut state.buffer) {
        Ok(Some(len)) => {
            state.pending = len;
            true
        }
        _ => false,
    }
}

/// `NET_STATUS`: the MAC of interface RDX in bits 47:0 (first byte highest), 0 if
/// there is no such interface.
pub fn status(interface: u64) -> Result<u64, Error> {
    let mac = net::with_interface(interface, |device| device.mac()).ok_or(Error::NotFound)?;
    Ok(ingot_baremetal::mac_value(mac.0))
}

/// `NET_CONFIG`: frames of interface RDX go to the ring at `base` from now on (0:
/// back to the kernel buffer). The whole ring must lie in program memory.
pub fn configure(interface: u64, base: u64) -> Result<(), Error> {
    let receiver = receiver(interface)?;
    if base != 0 {
        let window = program::window().ok_or(Error::NotFound)?;
        window.check_range(base, RING_SLOTS * SLOT_BYTES as u64)?;
    }
    let mut state = receiver.lock();
    state.ring_base = base;
    state.next_slot = 0;
    Ok(())
}
