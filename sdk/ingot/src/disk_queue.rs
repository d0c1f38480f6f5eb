//! Asynchronous disk requests: many reads and writes in flight at once (the
//! kernel's `disk_submit`, `disk_poll` and `disk_wait`), each a [`Pending`] that
//! owns its buffer until the request finished.
//!
//! The buffer is moved into the request and comes back only from [`Pending::wait`]
//! or a finished [`Pending::poll`], so it can be neither reused nor freed while the
//! disk moves data into or out of it; dropping a `Pending` waits for its request,
//! and forgetting one leaks the buffer (never freed, so never reused). Buffers are
//! `Vec<u8>`, `Box<[u8]>` or `&'static mut [u8]` ([`DiskBuffer`]).
//!
//! ```no_run
//! extern crate alloc;
//! use alloc::vec;
//! use alloc::vec::Vec;
//! use ingot_sdk::disk_queue::{Pending, read};
//! // 32 reads of 4 KiB in flight, then each checked as it comes back.
//! let mut pending: Vec<Pending<Vec<u8>>> = Vec::new();
//! for i in 0..32 {
//!     pending.push(read(0, i * 8, vec![0u8; 4096]).map_err(|(_, e)| e).expect("submitted"));
//! }
//! for request in pending {
//!     let (buffer, outcome) = request.wait();
//!     outcome.expect("read");
//!     assert_eq!(buffer.len(), 4096);
//! }
//! ```

extern crate alloc;

use alloc::boxed::Box;
use alloc::vec::Vec;

use ingot_abi::{DISK_READ, DISK_WRITE, Error};

use crate::calls::decode;
use crate::start::api;

mod sealed {
    pub trait Sealed {}
}

/// Memory a request may own while the disk works on it: its address and length do
/// not change while it is owned, and nothing else can reach it.
pub trait DiskBuffer: sealed::Sealed {
    /// The bytes.
    fn bytes(&mut self) -> &mut [u8];
}

impl sealed::Sealed for Vec<u8> {}
impl DiskBuffer for Vec<u8> {
    fn bytes(&mut self) -> &mut [u8] {
        self
    }
}

impl sealed::Sealed for Box<[u8]> {}
impl DiskBuffer for Box<[u8]> {
    fn bytes(&mut self) -> &mut [u8] {
        self
    }
}

impl sealed::Sealed for &'static mut [u8] {}
impl DiskBuffer for &'static mut [u8] {
    fn bytes(&mut self) -> &mut [u8] {
        self
    }
}

/// A request in flight; it owns its buffer until it finished.
///
/// # Example
///
/// ```ignore
/// // Four sectors written in one request, then read back by four requests in flight at
/// // once; each buffer (here a `Vec`, from the heap) is the request's until it is back.
/// let disk = ingot_sdk::disk_queue::Disk::new(0)?;
/// let size = ingot_sdk::disk::info(0)?.sector_size as usize;
/// let mut data = alloc::vec![0u8; 4 * size];
/// for (index, byte) in data.iter_mut().enumerate() {
///     *byte = b'a' + (index / size) as u8;
/// }
/// let (data, written) = disk.write(16, data).map_err(|(_, error)| error)?.wait();
/// written?;
/// let mut reads = alloc::vec::Vec::new();
/// for sector in 0..4 {
///     let buffer = alloc::vec![0u8; size];
///     reads.push(ingot_sdk::disk_queue::read(0, 16 + sector, buffer).map_err(|(_, e)| e)?);
/// }
/// ingot_sdk::println!("4 reads in flight, the first has ticket {}", reads[0].ticket());
/// let mut same = 0;
/// for (sector, mut request) in reads.into_iter().enumerate() {
///     let (buffer, outcome) = loop {
///         match request.poll() {
///             Ok(finished) => break finished,
///             Err(running) => request = running, // other work could go here
///         }
///     };
///     outcome?;
///     same += usize::from(buffer[..] == data[sector * size..(sector + 1) * size]);
/// }
/// ingot_sdk::println!("4 sectors written, {same} read back the same");
/// ```
pub struct Pending<B: DiskBuffer> {
    ticket: u64,
    /// `None` only after the outcome was taken.
    buffer: Option<B>,
}

/// Starts reading `buffer.len() / sector_size` sectors at `lba` of `disk` into
/// `buffer`. On a refused request the buffer comes back with the error.
///
/// # Example
///
/// ```ignore
/// // Four sectors written in one request, then read back by four requests in flight at
/// // once; each buffer (here a `Vec`, from the heap) is the request's until it is back.
/// let disk = ingot_sdk::disk_queue::Disk::new(0)?;
/// let size = ingot_sdk::disk::info(0)?.sector_size as usize;
/// let mut data = alloc::vec![0u8; 4 * size];
/// for (index, byte) in data.iter_mut().enumerate() {
///     *byte = b'a' + (index / size) as u8;
/// }
/// let (data, written) = disk.write(16, data).map_err(|(_, error)| error)?.wait();
/// written?;
/// let mut reads = alloc::vec::Vec::new();
/// for sector in 0..4 {
///     let buffer = alloc::vec![0u8; size];
///     reads.push(ingot_sdk::disk_queue::read(0, 16 + sector, buffer).map_err(|(_, e)| e)?);
/// }
/// ingot_sdk::println!("4 reads in flight, the first has ticket {}", reads[0].ticket());
/// let mut same = 0;
/// for (sector, mut request) in reads.into_iter().enumerate() {
///     let (buffer, outcome) = loop {
///         match request.poll() {
///             Ok(finished) => break finished,
///             Err(running) => request = running, // other work could go here
///         }
///     };
///     outcome?;
///     same += usize::from(buffer[..] == data[sector * size..(sector + 1) * size]);
/// }
/// ingot_sdk::println!("4 sectors written, {same} read back the same");
/// ```
pub fn read<B: DiskBuffer>(disk: u64, lba: u64, buffer: B) -> Result<Pending<B>, (B, Error)> {
    match Disk::new(disk) {
        Ok(disk) => disk.read(lba, buffer),
        Err(error) => Err((buffer, error)),
    }
}

/// Starts writing `buffer` at `lba` of `disk`.
///
/// # Example
///
/// ```ignore
/// // Four sectors written in one request, then read back by four requests in flight at
/// // once; each buffer (here a `Vec`, from the heap) is the request's until it is back.
/// let disk = ingot_sdk::disk_queue::Disk::new(0)?;
/// let size = ingot_sdk::disk::info(0)?.sector_size as usize;
/// let mut data = alloc::vec![0u8; 4 * size];
/// for (index, byte) in data.iter_mut().enumerate() {
///     *byte = b'a' + (index / size) as u8;
/// }
/// let (data, written) = disk.write(16, data).map_err(|(_, error)| error)?.wait();
/// written?;
/// let mut reads = alloc::vec::Vec::new();
/// for sector in 0..4 {
///     let buffer = alloc::vec![0u8; size];
///     reads.push(ingot_sdk::disk_queue::read(0, 16 + sector, buffer).map_err(|(_, e)| e)?);
/// }
/// ingot_sdk::println!("4 reads in flight, the first has ticket {}", reads[0].ticket());
/// let mut same = 0;
/// for (sector, mut request) in reads.into_iter().enumerate() {
///     let (buffer, outcome) = loop {
///         match request.poll() {
///             Ok(finished) => break finished,
///             Err(running) => request = running, // other work could go here
///         }
///     };
///     outcome?;
///     same += usize::from(buffer[..] == data[sector * size..(sector + 1) * size]);
/// }
/// ingot_sdk::println!("4 sectors written, {same} read back the same");
/// ```
pub fn write<B: DiskBuffer>(disk: u64, lba: u64, buffer: B) -> Result<Pending<B>, (B, Error)> {
    match Disk::new(disk) {
        Ok(disk) => disk.write(lba, buffer),
        Err(error) => Err((buffer, error)),
    }
}

/// A disk with its sector size looked up once, for many requests.
///
/// # Example
///
/// ```ignore
/// // Four sectors written in one request, then read back by four requests in flight at
/// // once; each buffer (here a `Vec`, from the heap) is the request's until it is back.
/// let disk = ingot_sdk::disk_queue::Disk::new(0)?;
/// let size = ingot_sdk::disk::info(0)?.sector_size as usize;
/// let mut data = alloc::vec![0u8; 4 * size];
/// for (index, byte) in data.iter_mut().enumerate() {
///     *byte = b'a' + (index / size) as u8;
/// }
/// let (data, written) = disk.write(16, data).map_err(|(_, error)| error)?.wait();
/// written?;
/// let mut reads = alloc::vec::Vec::new();
/// for sector in 0..4 {
///     let buffer = alloc::vec![0u8; size];
///     reads.push(ingot_sdk::disk_queue::read(0, 16 + sector, buffer).map_err(|(_, e)| e)?);
/// }
/// ingot_sdk::println!("4 reads in flight, the first has ticket {}", reads[0].ticket());
/// let mut same = 0;
/// for (sector, mut request) in reads.into_iter().enumerate() {
///     let (buffer, outcome) = loop {
///         match request.poll() {
///             Ok(finished) => break finished,
///             Err(running) => request = running, // other work could go here
///         }
///     };
///     outcome?;
///     same += usize::from(buffer[..] == data[sector * size..(sector + 1) * size]);
/// }
/// ingot_sdk::println!("4 sectors written, {same} read back the same");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Disk {
    number: u64,
    sector_size: u64,
}

impl Disk {
    /// Disk `number`, or `NotFound`.
    ///
    /// # Example
    ///
    /// ```ignore
    /// // Four sectors written in one request, then read back by four requests in flight at
    /// // once; each buffer (here a `Vec`, from the heap) is the request's until it is back.
    /// let disk = ingot_sdk::disk_queue::Disk::new(0)?;
    /// let size = ingot_sdk::disk::info(0)?.sector_size as usize;
    /// let mut data = alloc::vec![0u8; 4 * size];
    /// for (index, byte) in data.iter_mut().enumerate() {
    ///     *byte = b'a' + (index / size) as u8;
    /// }
    /// let (data, written) = disk.write(16, data).map_err(|(_, error)| error)?.wait();
    /// written?;
    /// let mut reads = alloc::vec::Vec::new();
    /// for sector in 0..4 {
    ///     let buffer = alloc::vec![0u8; size];
    ///     reads.push(ingot_sdk::disk_queue::read(0, 16 + sector, buffer).map_err(|(_, e)| e)?);
    /// }
    /// ingot_sdk::println!("4 reads in flight, the first has ticket {}", reads[0].ticket());
    /// let mut same = 0;
    /// for (sector, mut request) in reads.into_iter().enumerate() {
    ///     let (buffer, outcome) = loop {
    ///         match request.poll() {
    ///             Ok(finished) => break finished,
    ///             Err(running) => request = running, // other work could go here
    ///         }
    ///     };
    ///     outcome?;
    ///     same += usize::from(buffer[..] == data[sector * size..(sector + 1) * size]);
    /// }
    /// ingot_sdk::println!("4 sectors written, {same} read back the same");
    /// ```
    pub fn new(number: u64) -> Result<Self, Error> {
        let sector_size = u64::from(crate::disk::sector_size(number)?);
        Ok(Self { number, sector_size })
    }

    /// Starts reading `buffer.len() / sector_size` sectors at `lba` into `buffer`.
    ///
    /// # Example
    ///
    /// ```ignore
    /// // Four sectors written in one request, then read back by four requests in flight at
    /// // once; each buffer (here a `Vec`, from the heap) is the request's until it is back.
    /// let disk = ingot_sdk::disk_queue::Disk::new(0)?;
    /// let size = ingot_sdk::disk::info(0)?.sector_size as usize;
    /// let mut data = alloc::vec![0u8; 4 * size];
    /// for (index, byte) in data.iter_mut().enumerate() {
    ///     *byte = b'a' + (index / size) as u8;
    /// }
    /// let (data, written) = disk.write(16, data).map_err(|(_, error)| error)?.wait();
    /// written?;
    /// let mut reads = alloc::vec::Vec::new();
    /// for sector in 0..4 {
    ///     let buffer = alloc::vec![0u8; size];
    ///     reads.push(ingot_sdk::disk_queue::read(0, 16 + sector, buffer).map_err(|(_, e)| e)?);
    /// }
    /// ingot_sdk::println!("4 reads in flight, the first has ticket {}", reads[0].ticket());
    /// let mut same = 0;
    /// for (sector, mut request) in reads.into_iter().enumerate() {
    ///     let (buffer, outcome) = loop {
    ///         match request.poll() {
    ///             Ok(finished) => break finished,
    ///             Err(running) => request = running, // other work could go here
    ///         }
    ///     };
    ///     outcome?;
    ///     same += usize::from(buffer[..] == data[sector * size..(sector + 1) * size]);
    /// }
    /// ingot_sdk::println!("4 sectors written, {same} read back the same");
    /// ```
    pub fn read<B: DiskBuffer>(&self, lba: u64, buffer: B) -> Result<Pending<B>, (B, Error)> {
        self.submit(DISK_READ, lba, buffer)
    }

    /// Starts writing `buffer` at `lba`.
    ///
    /// # Example
    ///
    /// ```ignore
    /// // Four sectors written in one request, then read back by four requests in flight at
    /// // once; each buffer (here a `Vec`, from the heap) is the request's until it is back.
    /// let disk = ingot_sdk::disk_queue::Disk::new(0)?;
    /// let size = ingot_sdk::disk::info(0)?.sector_size as usize;
    /// let mut data = alloc::vec![0u8; 4 * size];
    /// for (index, byte) in data.iter_mut().enumerate() {
    ///     *byte = b'a' + (index / size) as u8;
    /// }
    /// let (data, written) = disk.write(16, data).map_err(|(_, error)| error)?.wait();
    /// written?;
    /// let mut reads = alloc::vec::Vec::new();
    /// for sector in 0..4 {
    ///     let buffer = alloc::vec![0u8; size];
    ///     reads.push(ingot_sdk::disk_queue::read(0, 16 + sector, buffer).map_err(|(_, e)| e)?);
    /// }
    /// ingot_sdk::println!("4 reads in flight, the first has ticket {}", reads[0].ticket());
    /// let mut same = 0;
    /// for (sector, mut request) in reads.into_iter().enumerate() {
    ///     let (buffer, outcome) = loop {
    ///         match request.poll() {
    ///             Ok(finished) => break finished,
    ///             Err(running) => request = running, // other work could go here
    ///         }
    ///     };
    ///     outcome?;
    ///     same += usize::from(buffer[..] == data[sector * size..(sector + 1) * size]);
    /// }
    /// ingot_sdk::println!("4 sectors written, {same} read back the same");
    /// ```
    pub fn write<B: DiskBuffer>(&self, lba: u64, buffer: B) -> Result<Pending<B>, (B, Error)> {
        self.submit(DISK_WRITE, lba, buffer)
    }

    fn submit<B: DiskBuffer>(
        &self,
        direction: u64,
        lba: u64,
        mut buffer: B,
    ) -> Result<Pending<B>, (B, Error)> {
        let bytes = buffer.bytes();
        let size = self.sector_size;
        if size == 0 || !(bytes.len() as u64).is_multiple_of(size) {
            return Err((buffer, Error::InvalidArgument));
        }
        let count = bytes.len() as u64 / size;
        let address = bytes.as_mut_ptr();
        match decode((api().disk_submit)(self.number, direction, lba, count, address)) {
            Ok(ticket) => Ok(Pending { ticket, buffer: Some(buffer) }),
            Err(error) => Err((buffer, error)),
        }
    }
}

impl<B: DiskBuffer> Pending<B> {
    /// The kernel's ticket (for `disk_poll`/`disk_wait` from other code).
    ///
    /// # Example
    ///
    /// ```ignore
    /// // Four sectors written in one request, then read back by four requests in flight at
    /// // once; each buffer (here a `Vec`, from the heap) is the request's until it is back.
    /// let disk = ingot_sdk::disk_queue::Disk::new(0)?;
    /// let size = ingot_sdk::disk::info(0)?.sector_size as usize;
    /// let mut data = alloc::vec![0u8; 4 * size];
    /// for (index, byte) in data.iter_mut().enumerate() {
    ///     *byte = b'a' + (index / size) as u8;
    /// }
    /// let (data, written) = disk.write(16, data).map_err(|(_, error)| error)?.wait();
    /// written?;
    /// let mut reads = alloc::vec::Vec::new();
    /// for sector in 0..4 {
    ///     let buffer = alloc::vec![0u8; size];
    ///     reads.push(ingot_sdk::disk_queue::read(0, 16 + sector, buffer).map_err(|(_, e)| e)?);
    /// }
    /// ingot_sdk::println!("4 reads in flight, the first has ticket {}", reads[0].ticket());
    /// let mut same = 0;
    /// for (sector, mut request) in reads.into_iter().enumerate() {
    ///     let (buffer, outcome) = loop {
    ///         match request.poll() {
    ///             Ok(finished) => break finished,
    ///             Err(running) => request = running, // other work could go here
    ///         }
    ///     };
    ///     outcome?;
    ///     same += usize::from(buffer[..] == data[sector * size..(sector + 1) * size]);
    /// }
    /// ingot_sdk::println!("4 sectors written, {same} read back the same");
    /// ```
    pub fn ticket(&self) -> u64 {
        self.ticket
    }

    /// Moves the disk's work on; the buffer and the outcome once the request
    /// finished, else the request back.
    ///
    /// # Example
    ///
    /// ```ignore
    /// // Four sectors written in one request, then read back by four requests in flight at
    /// // once; each buffer (here a `Vec`, from the heap) is the request's until it is back.
    /// let disk = ingot_sdk::disk_queue::Disk::new(0)?;
    /// let size = ingot_sdk::disk::info(0)?.sector_size as usize;
    /// let mut data = alloc::vec![0u8; 4 * size];
    /// for (index, byte) in data.iter_mut().enumerate() {
    ///     *byte = b'a' + (index / size) as u8;
    /// }
    /// let (data, written) = disk.write(16, data).map_err(|(_, error)| error)?.wait();
    /// written?;
    /// let mut reads = alloc::vec::Vec::new();
    /// for sector in 0..4 {
    ///     let buffer = alloc::vec![0u8; size];
    ///     reads.push(ingot_sdk::disk_queue::read(0, 16 + sector, buffer).map_err(|(_, e)| e)?);
    /// }
    /// ingot_sdk::println!("4 reads in flight, the first has ticket {}", reads[0].ticket());
    /// let mut same = 0;
    /// for (sector, mut request) in reads.into_iter().enumerate() {
    ///     let (buffer, outcome) = loop {
    ///         match request.poll() {
    ///             Ok(finished) => break finished,
    ///             Err(running) => request = running, // other work could go here
    ///         }
    ///     };
    ///     outcome?;
    ///     same += usize::from(buffer[..] == data[sector * size..(sector + 1) * size]);
    /// }
    /// ingot_sdk::println!("4 sectors written, {same} read back the same");
    /// ```
    pub fn poll(mut self) -> Result<(B, Result<(), Error>), Self> {
        match decode((api().disk_poll)(self.ticket)) {
            Err(Error::WouldBlock) => Err(self),
            outcome => Ok(self.finish(outcome.map(|_| ()))),
        }
    }

    /// Waits until the request finished; the buffer and the outcome.
    ///
    /// # Example
    ///
    /// ```ignore
    /// // Four sectors written in one request, then read back by four requests in flight at
    /// // once; each buffer (here a `Vec`, from the heap) is the request's until it is back.
    /// let disk = ingot_sdk::disk_queue::Disk::new(0)?;
    /// let size = ingot_sdk::disk::info(0)?.sector_size as usize;
    /// let mut data = alloc::vec![0u8; 4 * size];
    /// for (index, byte) in data.iter_mut().enumerate() {
    ///     *byte = b'a' + (index / size) as u8;
    /// }
    /// let (data, written) = disk.write(16, data).map_err(|(_, error)| error)?.wait();
    /// written?;
    /// let mut reads = alloc::vec::Vec::new();
    /// for sector in 0..4 {
    ///     let buffer = alloc::vec![0u8; size];
    ///     reads.push(ingot_sdk::disk_queue::read(0, 16 + sector, buffer).map_err(|(_, e)| e)?);
    /// }
    /// ingot_sdk::println!("4 reads in flight, the first has ticket {}", reads[0].ticket());
    /// let mut same = 0;
    /// for (sector, mut request) in reads.into_iter().enumerate() {
    ///     let (buffer, outcome) = loop {
    ///         match request.poll() {
    ///             Ok(finished) => break finished,
    ///             Err(running) => request = running, // other work could go here
    ///         }
    ///     };
    ///     outcome?;
    ///     same += usize::from(buffer[..] == data[sector * size..(sector + 1) * size]);
    /// }
    /// ingot_sdk::println!("4 sectors written, {same} read back the same");
    /// ```
    pub fn wait(mut self) -> (B, Result<(), Error>) {
        let outcome = decode((api().disk_wait)(self.ticket)).map(|_| ());
        self.finish(outcome)
    }

    fn finish(&mut self, outcome: Result<(), Error>) -> (B, Result<(), Error>) {
        // `buffer` is only taken here, and `self` is consumed by the callers.
        match self.buffer.take() {
            Some(buffer) => (buffer, outcome),
            None => unreachable!("a Pending's buffer is taken once"),
        }
    }
}

impl<B: DiskBuffer> Drop for Pending<B> {
    fn drop(&mut self) {
        if self.buffer.is_some() {
            // The disk may still be using the buffer: it is freed only afterwards.
            let _ = (api().disk_wait)(self.ticket);
        }
    }
}

/// Raw `disk_submit`, for tests of the kernel's checks: any arguments.
///
/// # Example
///
/// ```ignore
/// // Any address and ticket: how a program tests the kernel's checks.
/// let refused = ingot_sdk::disk_queue::submit_raw(0, ingot_sdk::abi::DISK_READ, 0, 1, 0x10_0000);
/// let unknown = ingot_sdk::disk_queue::poll_raw(u64::MAX);
/// ingot_sdk::println!("raw queue calls refused: {refused:?} {unknown:?}");
/// ```
pub fn submit_raw(
    disk: u64,
    direction: u64,
    lba: u64,
    count: u64,
    address: u64,
) -> Result<u64, Error> {
    decode((api().disk_submit)(disk, direction, lba, count, address as *mut u8))
}

/// Raw `disk_poll` of any ticket, for tests of the kernel's checks.
///
/// # Example
///
/// ```ignore
/// // Any address and ticket: how a program tests the kernel's checks.
/// let refused = ingot_sdk::disk_queue::submit_raw(0, ingot_sdk::abi::DISK_READ, 0, 1, 0x10_0000);
/// let unknown = ingot_sdk::disk_queue::poll_raw(u64::MAX);
/// ingot_sdk::println!("raw queue calls refused: {refused:?} {unknown:?}");
/// ```
pub fn poll_raw(ticket: u64) -> Result<u64, Error> {
    decode((api().disk_poll)(ticket))
}
