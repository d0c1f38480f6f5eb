//! virtio-blk driver (virtio 1.x §5.2; legacy interface of virtio 0.9.5).
//!
//! Works with modern (1af4:1042), legacy and transitional (1af4:1001) PCI devices:
//! the kernel picks [`transport::ModernTransport`] when the modern capabilities are
//! there and [`transport::LegacyTransport`] otherwise. One request queue, split
//! into [`MAX_IN_FLIGHT`] slots of descriptors, so that many requests are
//! outstanding at once. `read_segments`/`write_segments` make each request a chain
//! of header, the caller's memory (zero copy: up to `seg_max` data descriptors of
//! up to `size_max` bytes, [`MAX_REQUEST_BYTES`] per request) and status;
//! `read`/`write` go through each slot's own 64 KiB buffer.
//! `submit`/`poll` ([`queued`]) run the same queue asynchronously: up to
//! [`QUEUE_DEPTH`] requests of the caller's memory in flight at once, each with a
//! header and status in one shared page, completed in whatever order the device
//! finishes them.
//! Completion is polled with a deadline; a device error status becomes
//! [`BlockError::Device`], a silent device [`BlockError::Timeout`] (after which the
//! device is marked failed and refuses further requests).
//!
//! Unlike the reference driver, the data descriptor is device-writable only for
//! reads, and every sector of a multi-sector call goes to its own LBA.
#![no_std]
#![forbid(unsafe_code)]

pub use ingot_virtio::{queue, transport};

mod queued;

pub use queued::QUEUE_DEPTH;

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

use ingot_block::{
    BlockDevice, BlockError, CommandLimits, Completion, DiskIdentity, Segment as DmaSegment,
    SegmentCursor, check_request, total_bytes,
};
use ingot_hal::{Clock, Deadline, DmaAllocator, DmaBuffer};

use queue::{Segment, SplitQueue};
use transport::{Transport, status};

/// Requests outstanding at once (queue depth).
pub const MAX_IN_FLIGHT: usize = 8;
/// Largest data buffer of one request.
pub const CHUNK_BYTES: usize = 64 * 1024;
/// Largest queue used (the modern interface lets us pick a smaller one).
const QUEUE_SIZE_LIMIT: u16 = 256;
/// Most data descriptors of one request (bounded further by `seg_max` and the
/// descriptors of a slot).
pub const MAX_DATA_SEGMENTS: usize = 64;
/// Largest zero-copy request.
pub const MAX_REQUEST_BYTES: u64 = 1024 * 1024;
/// How long one request may take.
pub const TIMEOUT_MS: u64 = 5_000;

/// Feature bits (virtio §5.2.3 and §6).
mod feature {
    pub const SIZE_MAX: u64 = 1 << 1;
    pub const SEG_MAX: u64 = 1 << 2;
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
    /// Descriptors per slot: slot `n` owns `n * stride ..`.
    stride: u16,
    /// Data descriptors one request may carry (`seg_max`).
    max_data_segments: usize,
    /// Bytes one data descriptor may carry (`size_max`).
    size_max: u32,
    flush_supported: bool,
    failed: bool,
    /// The submitted requests' state ([`queued`]).
    queued: queued::Queued<B>,
}

impl<T: Transport, B: DmaBuffer, C: Clock> VirtioBlk<T, B, C> {
    /// Resets and initialises the device (virtio §3.1.1).
    pub fn new<D: DmaAllocator<Buffer = B>>(
        mut transport: T,
        dma: &mut D,
        clock: C,
    ) -> Result<Self, InitError> {
        let wanted = feature::SIZE_MAX | feature::SEG_MAX | feature::BLK_SIZE | feature::FLUSH;
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
        let mut size_max = u32::MAX;
        if accepted & feature::SIZE_MAX != 0 {
            size_max = transport.config_u32(8);
            if size_max >= block_size {
                chunk = chunk.min((size_max / block_size * block_size) as usize);
            }
        }
        let mut max_data_segments = MAX_DATA_SEGMENTS;
        if accepted & feature::SEG_MAX != 0 {
            max_data_segments = max_data_segments.min(transport.config_u32(12).max(1) as usize);
        }
        let in_flight = (usize::from(size) / 3).min(MAX_IN_FLIGHT);
        let stride = (usize::from(size) / in_flight).min(MAX_DATA_SEGMENTS + 2) as u16;
        let mut slots: [Option<B>; MAX_IN_FLIGHT] = Default::default();
        let mut slot_count = 0;
        for slot in slots.iter_mut().take(in_flight) {
            match dma.allocate(DATA + chunk) {
                Ok(buffer) => *slot = Some(buffer),
                Err(_) => return Err(fail(&mut transport)),
            }
            slot_count += 1;
        }
        let queued = match queued::Queued::new(dma, size) {
            Ok(queued) => queued,
            Err(_) => return Err(fail(&mut transport)),
        };
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
            stride,
            max_data_segments,
            size_max,
            flush_supported: accepted & feature::FLUSH != 0,
            failed: false,
            queued,
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

    /// Runs `chunks` requests of type `kind` starting at disk sector `lba` through
    /// the slots' own buffers, at most `slot_count` at a time. `fill(chunk,
    /// buffer)` prepares a write's data, `drain(chunk, buffer)` takes a read's data.
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
        let sector = self.identity.sector_size as usize;
        let chunk_sectors = self.chunk_sectors;
        let mut prepare = |chunk: usize, buffer: &B, data: &mut [Segment]| {
            if chunk >= chunks {
                return None;
            }
            let data_len = match kind {
                request::GET_ID => 20,
                request::IN | request::OUT => {
                    (total_sectors - chunk * chunk_sectors).min(chunk_sectors) * sector
                }
                _ => 0,
            };
            if kind == request::OUT {
                fill(chunk, buffer);
            }
            data[0] = Segment {
                address: buffer.physical() + DATA as u64,
                len: data_len as u32,
                device_writes: kind != request::OUT,
            };
            Some((lba + (chunk * chunk_sectors) as u64, usize::from(data_len != 0)))
        };
        self.run_requests(kind, &mut prepare, drain)
    }

    /// Runs the requests `prepare` hands out, at most `slot_count` at a time.
    /// `prepare(request, slot buffer, data)` writes the request's data descriptors
    /// into `data` and returns its first disk sector and how many it wrote, or
    /// `None` when there are no more; `drain` takes a completed request's data
    /// from its slot. Every request is completed (or the device is declared
    /// failed) before this returns; the first error wins.
    fn run_requests(
        &mut self,
        kind: u32,
        prepare: &mut impl FnMut(usize, &B, &mut [Segment]) -> Option<(u64, usize)>,
        drain: &mut impl FnMut(usize, &B),
    ) -> Result<(), BlockError> {
        if self.failed {
            return Err(BlockError::Timeout);
        }
        let empty = Segment { address: 0, len: 0, device_writes: false };
        let mut chain = [empty; MAX_DATA_SEGMENTS + 2];
        let stride = usize::from(self.stride);
        let mut slot_request = [usize::MAX; MAX_IN_FLIGHT];
        let (mut next, mut outstanding, mut exhausted, mut first_error) = (0, 0, false, None);
        while !exhausted || outstanding > 0 {
            // Fill every free slot, then notify once.
            let mut submitted = false;
            for (slot, in_use) in slot_request.iter_mut().enumerate().take(self.slot_count) {
                if exhausted || *in_use != usize::MAX {
                    continue;
                }
                let Some(buffer) = self.slots[slot].as_ref() else { continue };
                let room = (stride - 2).min(self.max_data_segments);
                let Some((first, count)) = prepare(next, buffer, &mut chain[1..1 + room]) else {
                    exhausted = true;
                    break;
                };
                buffer.write_u32(HEADER, kind);
                buffer.write_u32(HEADER + 4, 0);
                buffer.write_u64(HEADER + 8, first * self.scale);
                buffer.write_u8(STATUS, 0xFF);
                let base = buffer.physical();
                chain[0] = Segment { address: base + HEADER as u64, len: 16, device_writes: false };
                chain[1 + count] =
                    Segment { address: base + STATUS as u64, len: 1, device_writes: true };
                self.queue.push((slot * stride) as u16, &chain[..count + 2]);
                *in_use = next;
                next += 1;
                outstanding += 1;
                submitted = true;
            }
            if submitted {
                self.transport.notify(0);
            }
            if outstanding == 0 {
                break;
            }
            let deadline = Deadline::after_ms(&self.clock, TIMEOUT_MS);
            let queue = &mut self.queue;
            let Ok(head) = deadline.wait(&self.clock, || queue.pop_used()) else {
                self.fail();
                return Err(BlockError::Timeout);
            };
            let slot = usize::from(head) / stride;
            if usize::from(head) % stride != 0
                || slot >= self.slot_count
                || slot_request[slot] == usize::MAX
            {
                self.fail();
                return Err(BlockError::Device(u32::from(head)));
            }
            let done = core::mem::replace(&mut slot_request[slot], usize::MAX);
            outstanding -= 1;
            let Some(buffer) = self.slots[slot].as_ref() else { continue };
            let code = buffer.read_u8(STATUS);
            if code != request::STATUS_OK {
                first_error.get_or_insert(BlockError::Device(u32::from(code)));
                // Stop submitting; let what is in flight finish.
                exhausted = true;
            } else if kind != request::OUT {
                drain(done, buffer);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Moves the sectors at `lba` by DMA straight to or from `segments`: each
    /// request a descriptor chain over them (at most `seg_max` data descriptors of
    /// at most `size_max` bytes, [`MAX_REQUEST_BYTES`] in all).
    fn run_segments(
        &mut self,
        kind: u32,
        lba: u64,
        segments: &[DmaSegment],
    ) -> Result<(), BlockError> {
        let bytes = usize::try_from(total_bytes(segments)).map_err(|_| BlockError::OutOfRange)?;
        check_request(&self.identity, lba, bytes)?;
        let sector = u64::from(self.identity.sector_size);
        let limits = CommandLimits {
            max_bytes: MAX_REQUEST_BYTES / sector * sector,
            max_entries: (usize::from(self.stride) - 2).min(self.max_data_segments),
            max_entry_bytes: u64::from(self.size_max),
            boundary: u64::MAX,
            unit: sector,
        };
        let mut cursor = SegmentCursor::new(segments);
        if !cursor.fits(&limits) {
            return Err(BlockError::Unsupported);
        }
        let mut next_lba = lba;
        let mut prepare = |_: usize, _: &B, data: &mut [Segment]| {
            let mut count = 0;
            let bytes = cursor.next_command(&limits, |entry| {
                data[count] = Segment {
                    address: entry.physical,
                    len: entry.len as u32,
                    device_writes: kind == request::IN,
                };
                count += 1;
            });
            if bytes == 0 {
                return None;
            }
            let first = next_lba;
            next_lba += bytes / sector;
            Some((first, count))
        };
        self.run_requests(kind, &mut prepare, &mut |_, _| {})
    }

    /// Gives up on the device after it stopped answering.
    fn fail(&mut self) {
        self.failed = true;
        self.transport.set_status(status::FAILED);
    }

    /// Has the device signal completed requests with MSI-X table entry `entry` (the
    /// caller programs it and enables MSI-X), so a clock whose `idle` halts can wait
    /// for them. `false` without MSI-X (legacy, virtio-mmio) or when refused.
    pub fn use_request_vector(&mut self, entry: u16) -> bool {
        let accepted = self.transport.set_queue_vector(0, entry);
        self.queue.set_interrupts(accepted);
        accepted
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

    fn read_segments(&mut self, lba: u64, segments: &[DmaSegment]) -> Result<(), BlockError> {
        self.run_segments(request::IN, lba, segments)
    }

    fn write_segments(&mut self, lba: u64, segments: &[DmaSegment]) -> Result<(), BlockError> {
        self.run_segments(request::OUT, lba, segments)
    }

    fn queue_depth(&self) -> usize {
        self.queued.depth()
    }

    fn submit(
        &mut self,
        write: bool,
        lba: u64,
        cursor: &mut SegmentCursor<'_>,
        tag: u64,
    ) -> Result<u64, BlockError> {
        self.submit_request(write, lba, cursor, tag)
    }

    fn poll(&mut self) -> Option<Completion> {
        self.poll_request()
    }

    fn in_flight(&self) -> usize {
        self.queued.in_flight()
    }
}

#[cfg(test)]
mod tests;
