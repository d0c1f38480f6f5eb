//! virtio-blk driver (virtio 1.x §5.2; legacy interface of virtio 0.9.5).
//!
//! Works with modern (1af4:1042), legacy and transitional (1af4:1001) PCI devices:
//! the kernel picks [`transport::ModernTransport`] when the modern capabilities are
//! there and [`transport::LegacyTransport`] otherwise. One request queue; each
//! request is a 3-descriptor chain (header, data, status) in its own slot with its
//! own bounce buffer, and up to [`MAX_IN_FLIGHT`] requests are outstanding at once.
//! Completion is polled with a deadline; a device error status becomes
//! [`BlockError::Device`], a silent device [`BlockError::Timeout`] (after which the
//! device is marked failed and refuses further requests).
//!
//! Unlike the reference driver, the data descriptor is device-writable only for
//! reads, and every sector of a multi-sector call goes to its own LBA.
#![no_std]
#![forbid(unsafe_code)]

pub use ingot_virtio::{queue, transport};

/// Recognising virtio-blk PCI functions (the register windows are found by
/// `ingot_virtio::pci`).
pub mod pci {
    use ingot_virtio::pci::{device_type, matches as virtio_matches};

    /// Whether vendor/device is a virtio-blk function (transitional 1af4:1001 or
    /// modern 1af4:1042).
    pub fn matches(vendor: u16, device: u16) -> bool {
        virtio_matches(device_type::BLOCK, vendor, device)
    }
}

use ingot_block::{BlockDevice, BlockError, DiskIdentity, check_request};
use ingot_hal::{Clock, Deadline, DmaAllocator, DmaBuffer};

use queue::{Segment, SplitQueue};
use transport::{Transport, status};

/// Requests outstanding at once (queue depth).
pub const MAX_IN_FLIGHT: usize = 8;
/// Largest data buffer of one request.
pub const CHUNK_BYTES: usize = 64 * 1024;
/// Largest queue used (the modern interface lets us pick a smaller one).
const QUEUE_SIZE_LIMIT: u16 = 64;
/// How long one request may take.
pub const TIMEOUT_MS: u64 = 5_000;

/// Feature bits (virtio §5.2.3 and §6).
mod feature {
    pub const SIZE_MAX: u64 = 1 << 1;
    pub const BLK_SIZE: u64 = 1 << 6;
    pub const FLUSH: u64 = 1 << 9;
}

/// Request types and status values (virtio §5.2.6).
mod request {
    pub const IN: u32 = 0;
    pub const OUT: u32 = 1;
    pub const FLUSH: u32 = 4;
    pub const GET_ID: u32 = 8;
    pub const STATUS_OK: u8 = 0;
}

/// Offsets in a slot's DMA buffer.
const HEADER: usize = 0;
const STATUS: usize = 16;
const DATA: usize = 4096;

/// Why the device could not be brought up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitError {
    /// The device refused our feature set.
    FeaturesRefused,
    /// The request queue does not exist or is too small.
    NoQueue,
    /// No memory for rings and buffers.
    NoMemory,
}

/// A virtio-blk disk.
pub struct VirtioBlk<T, B, C> {
    transport: T,
    queue: SplitQueue<B>,
    /// Per-request buffers (header, status, data), one per request in flight.
    slots: [Option<B>; MAX_IN_FLIGHT],
    slot_count: usize,
    clock: C,
    identity: DiskIdentity,
    /// 512-byte virtio sectors per disk sector.
    scale: u64,
    chunk_sectors: usize,
    flush_supported: bool,
    failed: bool,
}

impl<T: Transport, B: DmaBuffer, C: Clock> VirtioBlk<T, B, C> {
    /// Resets and initialises the device (virtio §3.1.1).
    pub fn new<D: DmaAllocator<Buffer = B>>(
        mut transport: T,
        dma: &mut D,
        clock: C,
    ) -> Result<Self, InitError> {
        let wanted = feature::SIZE_MAX | feature::BLK_SIZE | feature::FLUSH;
        let (accepted, running) = ingot_virtio::negotiate(&mut transport, wanted)
            .map_err(|_| InitError::FeaturesRefused)?;
        let Some(size) = ingot_virtio::queue_size(&mut transport, 0, QUEUE_SIZE_LIMIT, 3) else {
            transport.set_status(status::FAILED);
            return Err(InitError::NoQueue);
        };
        let fail = |transport: &mut T| {
            transport.set_status(status::FAILED);
            InitError::NoMemory
        };
        let ring = match dma.allocate(queue::layout(size).0) {
            Ok(ring) => ring,
            Err(_) => return Err(fail(&mut transport)),
        };
        let queue = SplitQueue::new(ring, size);
        let (ring_address, used_offset) = queue.addresses();
        transport.setup_queue(0, size, ring_address, used_offset);

        let block_size = if accepted & feature::BLK_SIZE != 0 {
            match transport.config_u32(20) {
                size @ (512 | 1024 | 2048 | 4096) => size,
                _ => 512,
            }
        } else {
            512
        };
        let scale = u64::from(block_size / 512);
        let capacity = transport.config_u64(0);
        let mut chunk = CHUNK_BYTES;
        if accepted & feature::SIZE_MAX != 0 {
            let size_max = transport.config_u32(8) as usize;
            if size_max >= block_size as usize {
                chunk = chunk.min(size_max / block_size as usize * block_size as usize);
            }
        }
        let in_flight = (usize::from(size) / 3).min(MAX_IN_FLIGHT);
        let mut slots: [Option<B>; MAX_IN_FLIGHT] = Default::default();
        let mut slot_count = 0;
        for slot in slots.iter_mut().take(in_flight) {
            match dma.allocate(DATA + chunk) {
                Ok(buffer) => *slot = Some(buffer),
                Err(_) => return Err(fail(&mut transport)),
            }
            slot_count += 1;
        }
        transport.set_status(running | status::DRIVER_OK);
        let mut disk = Self {
            transport,
            queue,
            slots,
            slot_count,
            clock,
            identity: DiskIdentity::new(capacity / scale, block_size),
            scale,
            chunk_sectors: chunk / block_size as usize,
            flush_supported: accepted & feature::FLUSH != 0,
            failed: false,
        };
        disk.identity.model = DiskIdentity::text(b"virtio-blk");
        disk.identity.serial = disk.read_serial();
        Ok(disk)
    }

    /// The serial number (GET_ID), blank if the device does not support it.
    fn read_serial(&mut self) -> [u8; ingot_block::TEXT_BYTES] {
        let mut id = [0u8; 20];
        let outcome = self.run(
            request::GET_ID,
            0,
            1,
            |_, _| {},
            |_, buffer| {
                buffer.read_bytes(DATA, &mut id);
            },
        );
        if outcome.is_err() {
            return [b' '; ingot_block::TEXT_BYTES];
        }
        let end = id.iter().position(|&b| b == 0).unwrap_or(id.len());
        DiskIdentity::text(&id[..end])
    }

    /// Runs `chunks` requests of type `kind` starting at disk sector `lba`, at most
    /// `slots.count` at a time. `fill(chunk, buffer)` prepares a write's data,
    /// `drain(chunk, buffer)` takes a read's data. Every request is completed (or
    /// the device is declared failed) before this returns; the first error wins.
    fn run(
        &mut self,
        kind: u32,
        lba: u64,
        chunks: usize,
        mut fill: impl FnMut(usize, &B),
        mut drain: impl FnMut(usize, &B),
    ) -> Result<(), BlockError> {
        self.run_sized(kind, lba, chunks, usize::MAX, &mut fill, &mut drain)
    }

    fn run_sized(
        &mut self,
        kind: u32,
        lba: u64,
        chunks: usize,
        total_sectors: usize,
        fill: &mut impl FnMut(usize, &B),
        drain: &mut impl FnMut(usize, &B),
    ) -> Result<(), BlockError> {
        if self.failed {
            return Err(BlockError::Timeout);
        }
        let sector = self.identity.sector_size as usize;
        let mut slot_chunk = [usize::MAX; MAX_IN_FLIGHT];
        let mut next = 0;
        let mut outstanding = 0;
        let mut first_error = None;
        while next < chunks || outstanding > 0 {
            // Fill every free slot, then notify once.
            let mut submitted = false;
            for (slot, in_use) in slot_chunk.iter_mut().enumerate().take(self.slot_count) {
                if next >= chunks || *in_use != usize::MAX {
                    continue;
                }
                let Some(buffer) = self.slots[slot].as_ref() else { continue };
                let chunk = next;
                let sectors = match kind {
                    request::IN | request::OUT => {
                        (total_sectors - chunk * self.chunk_sectors).min(self.chunk_sectors)
                    }
                    _ => 0,
                };
                let data_len = match kind {
                    request::GET_ID => 20,
                    _ => sectors * sector,
                };
                buffer.write_u32(HEADER, kind);
                buffer.write_u32(HEADER + 4, 0);
                let first = lba + (chunk * self.chunk_sectors) as u64;
                buffer.write_u64(HEADER + 8, first * self.scale);
                buffer.write_u8(STATUS, 0xFF);
                if kind == request::OUT {
                    fill(chunk, buffer);
                }
                let base = buffer.physical();
                let header =
                    Segment { address: base + HEADER as u64, len: 16, device_writes: false };
                let status_segment =
                    Segment { address: base + STATUS as u64, len: 1, device_writes: true };
                let head = (slot * 3) as u16;
                if data_len == 0 {
                    self.queue.push(head, &[header, status_segment]);
                } else {
                    let data = Segment {
                        address: base + DATA as u64,
                        len: data_len as u32,
                        device_writes: kind != request::OUT,
                    };
                    self.queue.push(head, &[header, data, status_segment]);
                }
                *in_use = chunk;
                next += 1;
                outstanding += 1;
                submitted = true;
            }
            if submitted {
                self.transport.notify(0);
            }
            let deadline = Deadline::after_ms(&self.clock, TIMEOUT_MS);
            let queue = &mut self.queue;
            let Ok(head) = deadline.wait(&self.clock, || queue.pop_used()) else {
                self.fail();
                return Err(BlockError::Timeout);
            };
            let slot = usize::from(head) / 3;
            if usize::from(head) % 3 != 0
                || slot >= self.slot_count
                || slot_chunk[slot] == usize::MAX
            {
                self.fail();
                return Err(BlockError::Device(u32::from(head)));
            }
            let chunk = core::mem::replace(&mut slot_chunk[slot], usize::MAX);
            outstanding -= 1;
            let Some(buffer) = self.slots[slot].as_ref() else { continue };
            let code = buffer.read_u8(STATUS);
            if code != request::STATUS_OK {
                first_error.get_or_insert(BlockError::Device(u32::from(code)));
                // Stop submitting; let what is in flight finish.
                next = chunks;
            } else if kind != request::OUT {
                drain(chunk, buffer);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Gives up on the device after it stopped answering.
    fn fail(&mut self) {
        self.failed = true;
        self.transport.set_status(status::FAILED);
    }

    /// Requests outstanding at once.
    pub fn queue_depth(&self) -> usize {
        self.slot_count
    }
}

impl<T: Transport, B: DmaBuffer, C: Clock> BlockDevice for VirtioBlk<T, B, C> {
    fn driver(&self) -> &'static str {
        "virtio-blk"
    }

    fn identity(&self) -> DiskIdentity {
        self.identity
    }

    fn read(&mut self, lba: u64, buffer: &mut [u8]) -> Result<(), BlockError> {
        let sectors = check_request(&self.identity, lba, buffer.len())? as usize;
        let chunk_bytes = self.chunk_sectors * self.identity.sector_size as usize;
        let chunks = sectors.div_ceil(self.chunk_sectors);
        let mut drain = |chunk: usize, dma: &B| {
            let start = chunk * chunk_bytes;
            let end = (start + chunk_bytes).min(buffer.len());
            dma.read_bytes(DATA, &mut buffer[start..end]);
        };
        self.run_sized(request::IN, lba, chunks, sectors, &mut |_, _| {}, &mut drain)
    }

    fn write(&mut self, lba: u64, buffer: &[u8]) -> Result<(), BlockError> {
        let sectors = check_request(&self.identity, lba, buffer.len())? as usize;
        let chunk_bytes = self.chunk_sectors * self.identity.sector_size as usize;
        let chunks = sectors.div_ceil(self.chunk_sectors);
        let mut fill = |chunk: usize, dma: &B| {
            let start = chunk * chunk_bytes;
            let end = (start + chunk_bytes).min(buffer.len());
            dma.write_bytes(DATA, &buffer[start..end]);
        };
        self.run_sized(request::OUT, lba, chunks, sectors, &mut fill, &mut |_, _| {})
    }

    fn flush(&mut self) -> Result<(), BlockError> {
        if !self.flush_supported {
            // Without VIRTIO_BLK_F_FLUSH the device has no write cache (§5.2.6.2).
            return if self.failed { Err(BlockError::Timeout) } else { Ok(()) };
        }
        self.run(request::FLUSH, 0, 1, |_, _| {}, |_, _| {})
    }
}

#[cfg(test)]
mod tests;
