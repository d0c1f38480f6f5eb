//! The network calls programs make through `ingot_abi::ApiTable` (`net_*`).
//!
//! Every pointer and length is checked through `ProgramMemory` before anything
//! reaches a driver, and a frame shorter than the Ethernet header or longer than the
//! MTU plus the header is refused with `InvalidArgument`, so nothing is sent. Sending
//! copies nothing: the frame's bytes in the program window are translated to
//! physical pieces that the device reads. Receiving copies once, from the device's
//! buffer straight into the program's.

use ingot_abi::{Error, NET_BATCH_MAX, NET_HEADER_BYTES, NetFrame, NetInfo, Status};
use ingot_net::{FrameSink, MAX_SEGMENTS, Segment};
use ingot_platform::program_memory::{PhysicalPiece, ProgramMemory};

use crate::{net, program};

const FRAME_RECORD: u64 = core::mem::size_of::<NetFrame>() as u64;

fn status(outcome: Result<u64, Error>) -> Status {
    outcome.map_or_else(Error::status, |value| value as Status)
}

/// Returns the number of network interfaces.
pub extern "sysv64" fn net_count() -> Status {
    net::count() as Status
}

/// Fills a `NetInfo` in the program's memory.
pub extern "sysv64" fn net_info(nic: u64, info: *mut NetInfo) -> Status {
    status(fill_info(nic, info as u64))
}

fn fill_info(nic: u64, address: u64) -> Result<u64, Error> {
    let window = program::window().ok_or(Error::NotFound)?;
    let (mac, link_up, mtu, driver, counters) =
        net::with_interface(nic, |d| (d.mac(), d.link_up(), d.mtu(), d.driver(), d.counters()))
            .ok_or(Error::NotFound)?;
    let mut bytes = [0u8; core::mem::size_of::<NetInfo>()];
    bytes[..6].copy_from_slice(&mac.0);
    bytes[6] = u8::from(link_up);
    bytes[8..12].copy_from_slice(&(mtu as u32).to_le_bytes());
    let name = driver.as_bytes();
    let name_len = name.len().min(15);
    bytes[16..16 + name_len].copy_from_slice(&name[..name_len]);
    let words = [
        counters.rx_frames,
        counters.rx_bytes,
        counters.tx_frames,
        counters.tx_bytes,
        counters.rx_dropped,
        counters.rx_errors,
        counters.tx_errors,
    ];
    for (chunk, word) in bytes[32..].as_chunks_mut::<8>().0.iter_mut().zip(words) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    window.write_at(address, &bytes)?;
    Ok(0)
}

/// The interface's largest frame (MTU plus header); `NotFound` if it does not exist.
fn frame_limit(nic: u64) -> Result<u64, Error> {
    net::with_interface(nic, |d| d.mtu() as u64 + NET_HEADER_BYTES).ok_or(Error::NotFound)
}

/// The physical pieces of one frame in program memory, after its length is checked.
fn frame_segments(
    window: &ProgramMemory,
    limit: u64,
    frame: NetFrame,
    out: &mut [Segment; MAX_SEGMENTS],
) -> Result<usize, Error> {
    if frame.len < NET_HEADER_BYTES || frame.len > limit {
        return Err(Error::InvalidArgument);
    }
    let mut pieces = [PhysicalPiece::default(); MAX_SEGMENTS];
    let count = window.physical_pieces(frame.address, frame.len, &mut pieces)?;
    for (segment, piece) in out.iter_mut().zip(&pieces[..count]) {
        *segment = Segment { physical: piece.physical, len: piece.len as usize };
    }
    Ok(count)
}

/// Sends one frame from the program's memory.
pub extern "sysv64" fn net_send(nic: u64, frame: *const u8, len: u64) -> Status {
    status(send_one(nic, NetFrame { address: frame as u64, len }))
}

fn send_one(nic: u64, frame: NetFrame) -> Result<u64, Error> {
    let window = program::window().ok_or(Error::NotFound)?;
    let limit = frame_limit(nic)?;
    let mut segments = [Segment { physical: 0, len: 0 }; MAX_SEGMENTS];
    let count = frame_segments(window, limit, frame, &mut segments)?;
    net::with_interface(nic, |d| d.transmit(&segments[..count]))
        .ok_or(Error::NotFound)?
        .map_err(net::api_error)?;
    Ok(frame.len)
}

/// Reads `count` frame records from the program (checked, at most `NET_BATCH_MAX`).
fn read_records(
    window: &ProgramMemory,
    address: u64,
    count: u64,
) -> Result<[NetFrame; NET_BATCH_MAX as usize], Error> {
    if count > NET_BATCH_MAX {
        return Err(Error::InvalidArgument);
    }
    let mut raw = [0u8; (NET_BATCH_MAX * FRAME_RECORD) as usize];
    let bytes = &mut raw[..(count * FRAME_RECORD) as usize];
    window.read_into(address, bytes)?;
    let mut records = [NetFrame::default(); NET_BATCH_MAX as usize];
    for (record, raw) in records.iter_mut().zip(bytes.as_chunks::<16>().0) {
        let (address, len) = raw.split_at(8);
        record.address = u64::from_le_bytes(address.try_into().unwrap_or_default());
        record.len = u64::from_le_bytes(len.try_into().unwrap_or_default());
    }
    Ok(records)
}

/// Sends up to `NET_BATCH_MAX` frames with one call; returns how many were sent.
pub extern "sysv64" fn net_send_batch(nic: u64, frames: *const NetFrame, count: u64) -> Status {
    status(send_batch(nic, frames as u64, count))
}

fn send_batch(nic: u64, address: u64, count: u64) -> Result<u64, Error> {
    let window = program::window().ok_or(Error::NotFound)?;
    let limit = frame_limit(nic)?;
    if count == 0 {
        return Ok(0);
    }
    let records = read_records(window, address, count)?;
    const EMPTY: [Segment; MAX_SEGMENTS] = [Segment { physical: 0, len: 0 }; MAX_SEGMENTS];
    let mut segments = [EMPTY; NET_BATCH_MAX as usize];
    let mut counts = [0usize; NET_BATCH_MAX as usize];
    for index in 0..count as usize {
        counts[index] = frame_segments(window, limit, records[index], &mut segments[index])?;
    }
    let mut frames: [&[Segment]; NET_BATCH_MAX as usize] = [&[]; NET_BATCH_MAX as usize];
    for (index, frame) in frames.iter_mut().enumerate().take(count as usize) {
        *frame = &segments[index][..counts[index]];
    }
    let sent = net::with_interface(nic, |d| d.transmit_batch(&frames[..count as usize]))
        .ok_or(Error::NotFound)?
        .map_err(net::api_error)?;
    Ok(sent as u64)
}

/// Copies a received frame into program memory; refuses (the frame is dropped and
/// counted) when it is longer than the program's buffer. The driver's volatile reads
/// of its receive buffer land in `write_staged`'s small buffer on this core's stack (it
/// stays in L1) and go on into program memory with atomic stores, because the kernel
/// never holds a Rust reference into memory the program's other cores may touch.
struct ProgramSink<'a> {
    window: &'a ProgramMemory,
    address: u64,
    capacity: u64,
}

impl FrameSink for ProgramSink<'_> {
    fn accept(&mut self, len: usize, read: &mut dyn FnMut(usize, &mut [u8])) -> Option<usize> {
        if len as u64 > self.capacity {
            return None;
        }
        self.window
            .write_staged(self.address, len as u64, |at, chunk| read(at as usize, chunk))
            .ok()?;
        Some(len)
    }
}

/// Checks a receive buffer: in the window and able to hold at least a header.
fn check_buffer(window: &ProgramMemory, address: u64, capacity: u64) -> Result<(), Error> {
    if capacity < NET_HEADER_BYTES {
        return Err(Error::InvalidArgument);
    }
    window.check_range(address, capacity)
}

/// Receives one frame into the program's `buffer`; returns its length or `WouldBlock`.
pub extern "sysv64" fn net_receive(nic: u64, buffer: *mut u8, capacity: u64) -> Status {
    status(receive_one(nic, buffer as u64, capacity))
}

fn receive_one(nic: u64, address: u64, capacity: u64) -> Result<u64, Error> {
    let window = program::window().ok_or(Error::NotFound)?;
    frame_limit(nic)?;
    check_buffer(window, address, capacity)?;
    let mut sink = ProgramSink { window, address, capacity };
    let len = net::with_interface(nic, |d| d.receive(&mut sink))
        .ok_or(Error::NotFound)?
        .map_err(net::api_error)?;
    Ok(len as u64)
}

/// Receives up to `count` frames with one call; returns how many, or `WouldBlock`.
pub extern "sysv64" fn net_receive_batch(nic: u64, frames: *mut NetFrame, count: u64) -> Status {
    status(receive_batch(nic, frames as u64, count))
}

fn receive_batch(nic: u64, address: u64, count: u64) -> Result<u64, Error> {
    let window = program::window().ok_or(Error::NotFound)?;
    frame_limit(nic)?;
    if count == 0 {
        return Ok(0);
    }
    let mut records = read_records(window, address, count)?;
    for record in &records[..count as usize] {
        check_buffer(window, record.address, record.len)?;
    }
    let received = net::with_interface(nic, |d| {
        let mut received = 0;
        for record in records.iter_mut().take(count as usize) {
            let mut sink = ProgramSink { window, address: record.address, capacity: record.len };
            match d.receive(&mut sink) {
                Ok(len) => record.len = len as u64,
                Err(error) if received == 0 => return Err(error),
                Err(_) => break,
            }
            received += 1;
        }
        Ok(received)
    })
    .ok_or(Error::NotFound)?
    .map_err(net::api_error)?;
    for (index, record) in records.iter().enumerate().take(received) {
        let at = address + index as u64 * FRAME_RECORD + 8;
        window.write_at(at, &record.len.to_le_bytes())?;
    }
    Ok(received as u64)
}
