//! Network interfaces: safe wrappers around the kernel's `net_*` calls.
//!
//! Frames are whole Ethernet frames without the FCS: 14 to `mtu + 14` bytes. Sending
//! copies nothing (the device reads the frame where it is; the call returns once it
//! was sent), receiving copies the frame once into the buffer given. The batch calls
//! move several frames per call, so a network loop makes one call per poll:
//!
//! ```ignore
//! use ingot_sdk::net::{self, Frames};
//!
//! let mut buffers = [[0u8; 1514]; 8];
//! loop {
//!     let mut frames = Frames::new();
//!     for buffer in buffers.iter_mut() {
//!         frames.push(buffer);
//!     }
//!     let received = net::receive_batch(0, &mut frames).unwrap_or(0);
//!     for index in 0..received {
//!         handle(frames.frame(index));
//!     }
//! }
//! ```
//!
//! `apps/net-test` is a complete program using every call.

use ingot_abi::{Error, NET_BATCH_MAX, NetFrame, NetInfo};

use crate::calls::decode;
use crate::start::api;

/// Number of network interfaces.
///
/// # Example
///
/// ```ignore
/// for nic in 0..ingot_sdk::net::count() {
///     let info = ingot_sdk::net::info(nic)?;
///     ingot_sdk::println!(
///         "nic {nic}: {} mac {:02x?} link {}",
///         ingot_sdk::net::driver_name(&info),
///         info.mac,
///         info.link_up
///     );
/// }
/// ```
pub fn count() -> u64 {
    decode((api().net_count)()).unwrap_or(0)
}

/// What interface `nic` is: MAC, MTU, link, driver and counters.
///
/// # Example
///
/// ```ignore
/// for nic in 0..ingot_sdk::net::count() {
///     let info = ingot_sdk::net::info(nic)?;
///     ingot_sdk::println!(
///         "nic {nic}: {} mac {:02x?} link {}",
///         ingot_sdk::net::driver_name(&info),
///         info.mac,
///         info.link_up
///     );
/// }
/// ```
pub fn info(nic: u64) -> Result<NetInfo, Error> {
    let mut info = NetInfo::default();
    decode((api().net_info)(nic, &mut info))?;
    Ok(info)
}

/// The driver name of a `NetInfo`.
///
/// # Example
///
/// ```ignore
/// for nic in 0..ingot_sdk::net::count() {
///     let info = ingot_sdk::net::info(nic)?;
///     ingot_sdk::println!(
///         "nic {nic}: {} mac {:02x?} link {}",
///         ingot_sdk::net::driver_name(&info),
///         info.mac,
///         info.link_up
///     );
/// }
/// ```
pub fn driver_name(info: &NetInfo) -> &str {
    let end = info.driver.iter().position(|&b| b == 0).unwrap_or(info.driver.len());
    core::str::from_utf8(&info.driver[..end]).unwrap_or("?")
}

/// Sends one frame; returns once the device has sent it.
///
/// # Example
///
/// ```ignore
/// let mac = ingot_sdk::net::info(0)?.mac;
/// let mut frame = [0u8; 60];
/// frame[..6].fill(0xFF); // broadcast
/// frame[6..12].copy_from_slice(&mac);
/// frame[12..14].copy_from_slice(&0x88B5u16.to_be_bytes()); // local experimental EtherType
/// ingot_sdk::net::send(0, &frame)?;
/// let mut buffer = [0u8; 1514];
/// match ingot_sdk::net::receive(0, &mut buffer) {
///     Ok(len) => ingot_sdk::println!("received {len} bytes"),
///     Err(ingot_sdk::abi::Error::WouldBlock) => ingot_sdk::println!("nothing received yet"),
///     Err(error) => return Err(error),
/// }
/// ```
pub fn send(nic: u64, frame: &[u8]) -> Result<(), Error> {
    decode((api().net_send)(nic, frame.as_ptr(), frame.len() as u64)).map(|_| ())
}

/// Copies the next received frame into `buffer` and returns its length;
/// `Err(WouldBlock)` when none is waiting. A frame longer than `buffer` is dropped
/// (counted in `rx_dropped`): pass `mtu + 14` bytes.
///
/// # Example
///
/// ```ignore
/// let mac = ingot_sdk::net::info(0)?.mac;
/// let mut frame = [0u8; 60];
/// frame[..6].fill(0xFF); // broadcast
/// frame[6..12].copy_from_slice(&mac);
/// frame[12..14].copy_from_slice(&0x88B5u16.to_be_bytes()); // local experimental EtherType
/// ingot_sdk::net::send(0, &frame)?;
/// let mut buffer = [0u8; 1514];
/// match ingot_sdk::net::receive(0, &mut buffer) {
///     Ok(len) => ingot_sdk::println!("received {len} bytes"),
///     Err(ingot_sdk::abi::Error::WouldBlock) => ingot_sdk::println!("nothing received yet"),
///     Err(error) => return Err(error),
/// }
/// ```
pub fn receive(nic: u64, buffer: &mut [u8]) -> Result<usize, Error> {
    decode((api().net_receive)(nic, buffer.as_mut_ptr(), buffer.len() as u64))
        .map(|len| len as usize)
}

/// Up to `NET_BATCH_MAX` frames (or receive buffers) for one batch call, borrowed for
/// as long as the list lives.
///
/// # Example
///
/// ```ignore
/// let mut buffers = [[0u8; 1514]; 4];
/// let mut frames = Frames::new();
/// for buffer in buffers.iter_mut() {
///     frames.push(buffer);
/// }
/// let received = match ingot_sdk::net::receive_batch(0, &mut frames) {
///     Err(ingot_sdk::abi::Error::WouldBlock) => 0, // none waiting
///     other => other?,
/// };
/// for index in 0..received {
///     ingot_sdk::println!("frame {index}: {} bytes", frames.frame(index).len());
/// }
/// ```
pub struct Frames<'a> {
    buffers: [Option<&'a mut [u8]>; NET_BATCH_MAX as usize],
    lengths: [usize; NET_BATCH_MAX as usize],
    count: usize,
}

impl<'a> Frames<'a> {
    /// An empty list.
    ///
    /// # Example
    ///
    /// ```ignore
    /// let mut buffers = [[0u8; 1514]; 4];
    /// let mut frames = Frames::new();
    /// for buffer in buffers.iter_mut() {
    ///     frames.push(buffer);
    /// }
    /// let received = match ingot_sdk::net::receive_batch(0, &mut frames) {
    ///     Err(ingot_sdk::abi::Error::WouldBlock) => 0, // none waiting
    ///     other => other?,
    /// };
    /// for index in 0..received {
    ///     ingot_sdk::println!("frame {index}: {} bytes", frames.frame(index).len());
    /// }
    /// ```
    pub fn new() -> Self {
        Self {
            buffers: [const { None }; NET_BATCH_MAX as usize],
            lengths: [0; NET_BATCH_MAX as usize],
            count: 0,
        }
    }

    /// Adds a frame to send (or a buffer to receive into); `false` when the list is full.
    ///
    /// # Example
    ///
    /// ```ignore
    /// let mut buffers = [[0u8; 1514]; 4];
    /// let mut frames = Frames::new();
    /// for buffer in buffers.iter_mut() {
    ///     frames.push(buffer);
    /// }
    /// let received = match ingot_sdk::net::receive_batch(0, &mut frames) {
    ///     Err(ingot_sdk::abi::Error::WouldBlock) => 0, // none waiting
    ///     other => other?,
    /// };
    /// for index in 0..received {
    ///     ingot_sdk::println!("frame {index}: {} bytes", frames.frame(index).len());
    /// }
    /// ```
    pub fn push(&mut self, buffer: &'a mut [u8]) -> bool {
        if self.count == self.buffers.len() {
            return false;
        }
        self.lengths[self.count] = buffer.len();
        self.buffers[self.count] = Some(buffer);
        self.count += 1;
        true
    }

    /// Entries in the list.
    ///
    /// # Example
    ///
    /// ```ignore
    /// let mut buffers = [[0u8; 64]; 2];
    /// let mut frames = ingot_sdk::net::Frames::default();
    /// ingot_sdk::println!("empty: {}", frames.is_empty());
    /// for buffer in buffers.iter_mut() {
    ///     frames.push(buffer);
    /// }
    /// ingot_sdk::println!("{} buffers", frames.len());
    /// ```
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the list is empty.
    ///
    /// # Example
    ///
    /// ```ignore
    /// let mut buffers = [[0u8; 64]; 2];
    /// let mut frames = ingot_sdk::net::Frames::default();
    /// ingot_sdk::println!("empty: {}", frames.is_empty());
    /// for buffer in buffers.iter_mut() {
    ///     frames.push(buffer);
    /// }
    /// ingot_sdk::println!("{} buffers", frames.len());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Entry `index`: the whole buffer, or after [`receive_batch`] the frame received
    /// into it (empty past the end of the list).
    ///
    /// # Example
    ///
    /// ```ignore
    /// let mut buffers = [[0u8; 1514]; 4];
    /// let mut frames = Frames::new();
    /// for buffer in buffers.iter_mut() {
    ///     frames.push(buffer);
    /// }
    /// let received = match ingot_sdk::net::receive_batch(0, &mut frames) {
    ///     Err(ingot_sdk::abi::Error::WouldBlock) => 0, // none waiting
    ///     other => other?,
    /// };
    /// for index in 0..received {
    ///     ingot_sdk::println!("frame {index}: {} bytes", frames.frame(index).len());
    /// }
    /// ```
    pub fn frame(&self, index: usize) -> &[u8] {
        match self.buffers.get(index).and_then(Option::as_deref) {
            Some(buffer) => &buffer[..self.lengths[index].min(buffer.len())],
            None => &[],
        }
    }

    /// The records the kernel reads, pointing at the buffers.
    fn records(&mut self) -> [NetFrame; NET_BATCH_MAX as usize] {
        let mut records = [NetFrame::default(); NET_BATCH_MAX as usize];
        for (record, buffer) in records.iter_mut().zip(self.buffers.iter_mut().flatten()) {
            *record = NetFrame { address: buffer.as_mut_ptr() as u64, len: buffer.len() as u64 };
        }
        records
    }
}

impl Default for Frames<'_> {
    fn default() -> Self {
        Self::new()
    }
}

/// Sends every frame in `frames` with one call; returns how many were sent (fewer
/// when the device's ring filled up; send the rest again).
///
/// # Example
///
/// ```ignore
/// let mac = ingot_sdk::net::info(0)?.mac;
/// let (mut first, mut second) = ([0u8; 60], [0u8; 60]);
/// for frame in [&mut first, &mut second] {
///     frame[..6].fill(0xFF);
///     frame[6..12].copy_from_slice(&mac);
///     frame[12..14].copy_from_slice(&0x88B5u16.to_be_bytes());
/// }
/// let mut frames = Frames::new();
/// frames.push(&mut first);
/// frames.push(&mut second);
/// let sent = ingot_sdk::net::send_batch(0, &mut frames)?;
/// ingot_sdk::println!("sent {sent} frames in one call");
/// ```
pub fn send_batch(nic: u64, frames: &mut Frames<'_>) -> Result<usize, Error> {
    let records = frames.records();
    decode((api().net_send_batch)(nic, records.as_ptr(), frames.count as u64))
        .map(|sent| sent as usize)
}

/// Receives up to `frames.len()` frames into its buffers with one call; returns how
/// many (`frame(i)` is then frame `i`), or `Err(WouldBlock)`.
///
/// # Example
///
/// ```ignore
/// let mut buffers = [[0u8; 1514]; 4];
/// let mut frames = Frames::new();
/// for buffer in buffers.iter_mut() {
///     frames.push(buffer);
/// }
/// let received = match ingot_sdk::net::receive_batch(0, &mut frames) {
///     Err(ingot_sdk::abi::Error::WouldBlock) => 0, // none waiting
///     other => other?,
/// };
/// for index in 0..received {
///     ingot_sdk::println!("frame {index}: {} bytes", frames.frame(index).len());
/// }
/// ```
pub fn receive_batch(nic: u64, frames: &mut Frames<'_>) -> Result<usize, Error> {
    let mut records = frames.records();
    let received =
        decode((api().net_receive_batch)(nic, records.as_mut_ptr(), frames.count as u64))? as usize;
    for (length, record) in frames.lengths.iter_mut().zip(&records).take(received) {
        *length = record.len as usize;
    }
    Ok(received)
}

/// Raw calls for tests of the kernel's argument checks: any interface, address and
/// length.
pub mod raw {
    use super::{Error, NetFrame, NetInfo, api, decode};

    /// `net_send` with any arguments.
    ///
    /// # Example
    ///
    /// ```ignore
    /// // Any interface, address and length: how a program tests the kernel's checks.
    /// let refused = ingot_sdk::net::raw::send(0, 0x10_0000, 60);
    /// let no_interface = ingot_sdk::net::raw::info(99, 0);
    /// ingot_sdk::println!("raw net calls refused: {:?} {:?}", refused, no_interface);
    /// let _ = ingot_sdk::net::raw::receive(99, 0, 0);
    /// let _ = ingot_sdk::net::raw::send_batch(99, 0, 0);
    /// let _ = ingot_sdk::net::raw::receive_batch(99, 0, 0);
    /// ```
    pub fn send(nic: u64, address: u64, len: u64) -> Result<u64, Error> {
        decode((api().net_send)(nic, address as *const u8, len))
    }
    /// `net_receive` with any arguments.
    ///
    /// # Example
    ///
    /// ```ignore
    /// // Any interface, address and length: how a program tests the kernel's checks.
    /// let refused = ingot_sdk::net::raw::send(0, 0x10_0000, 60);
    /// let no_interface = ingot_sdk::net::raw::info(99, 0);
    /// ingot_sdk::println!("raw net calls refused: {:?} {:?}", refused, no_interface);
    /// let _ = ingot_sdk::net::raw::receive(99, 0, 0);
    /// let _ = ingot_sdk::net::raw::send_batch(99, 0, 0);
    /// let _ = ingot_sdk::net::raw::receive_batch(99, 0, 0);
    /// ```
    pub fn receive(nic: u64, address: u64, capacity: u64) -> Result<u64, Error> {
        decode((api().net_receive)(nic, address as *mut u8, capacity))
    }
    /// `net_info` with any arguments.
    ///
    /// # Example
    ///
    /// ```ignore
    /// // Any interface, address and length: how a program tests the kernel's checks.
    /// let refused = ingot_sdk::net::raw::send(0, 0x10_0000, 60);
    /// let no_interface = ingot_sdk::net::raw::info(99, 0);
    /// ingot_sdk::println!("raw net calls refused: {:?} {:?}", refused, no_interface);
    /// let _ = ingot_sdk::net::raw::receive(99, 0, 0);
    /// let _ = ingot_sdk::net::raw::send_batch(99, 0, 0);
    /// let _ = ingot_sdk::net::raw::receive_batch(99, 0, 0);
    /// ```
    pub fn info(nic: u64, address: u64) -> Result<u64, Error> {
        decode((api().net_info)(nic, address as *mut NetInfo))
    }
    /// `net_send_batch` with any arguments.
    ///
    /// # Example
    ///
    /// ```ignore
    /// // Any interface, address and length: how a program tests the kernel's checks.
    /// let refused = ingot_sdk::net::raw::send(0, 0x10_0000, 60);
    /// let no_interface = ingot_sdk::net::raw::info(99, 0);
    /// ingot_sdk::println!("raw net calls refused: {:?} {:?}", refused, no_interface);
    /// let _ = ingot_sdk::net::raw::receive(99, 0, 0);
    /// let _ = ingot_sdk::net::raw::send_batch(99, 0, 0);
    /// let _ = ingot_sdk::net::raw::receive_batch(99, 0, 0);
    /// ```
    pub fn send_batch(nic: u64, address: u64, count: u64) -> Result<u64, Error> {
        decode((api().net_send_batch)(nic, address as *const NetFrame, count))
    }
    /// `net_receive_batch` with any arguments.
    ///
    /// # Example
    ///
    /// ```ignore
    /// // Any interface, address and length: how a program tests the kernel's checks.
    /// let refused = ingot_sdk::net::raw::send(0, 0x10_0000, 60);
    /// let no_interface = ingot_sdk::net::raw::info(99, 0);
    /// ingot_sdk::println!("raw net calls refused: {:?} {:?}", refused, no_interface);
    /// let _ = ingot_sdk::net::raw::receive(99, 0, 0);
    /// let _ = ingot_sdk::net::raw::send_batch(99, 0, 0);
    /// let _ = ingot_sdk::net::raw::receive_batch(99, 0, 0);
    /// ```
    pub fn receive_batch(nic: u64, address: u64, count: u64) -> Result<u64, Error> {
        decode((api().net_receive_batch)(nic, address as *mut NetFrame, count))
    }
}
