//! Asynchronous disk requests: a program's request (disk, direction, LBA, count,
//! buffer) becomes a ticket at once, and the kernel moves it to the device as
//! commands whenever the disk is polled; the blocking calls are submit-and-wait.
//!
//! Each disk (each lane of it) keeps a table of [`TICKETS`] requests under its own lock. Every poll
//! first collects the commands the device finished, then hands the device the
//! next commands of the oldest unfinished requests until its slots are full, so a
//! deep queue (virtio-blk's ring, AHCI's NCQ tags, NVMe's queue) stays full. The
//! requests still wanting commands wait in submission order in a ring beside the
//! table, and the disk counts its commands in flight, so a pass costs the requests
//! it moves, not a walk over every entry (a read at depth 1 makes four passes). A
//! request's buffer is translated to physical pieces one span at a time and each
//! command is DMA straight into program memory; where the controller cannot address
//! the memory (`Unsupported`), the commands in flight are drained and the rest of
//! the request goes through a kernel bounce buffer (counted in `DiskInfo.bounced`).
//! Drivers without a submission path (IDE) run a request to its end when it is
//! submitted. Every wait for a device goes through `pause_for_completion`.
//!
//! A disk of several lanes (`storage`) keeps one table per lane; a request runs
//! on the lane of the core that submitted it. A ticket is `disk << 48 | lane << 40
//! | sequence`; a sequence is never reused on its lane while its ticket is
//! unfinished or uncollected, so a stale or forged ticket is `NotFound`.

use ingot_abi::Error;
use ingot_block::{BlockError, Segment, SegmentCursor};
use ingot_platform::program_memory::{PhysicalPiece, ProgramMemory};

use super::transfer::{Direction, bounce, span_pieces};
use super::{Disk, api_error, count_bounce, slot};

/// Requests a disk keeps at once (in flight or finished and not yet collected).
pub const TICKETS: usize = 64;
const DISK_SHIFT: u32 = 48;
const LANE_SHIFT: u32 = 40;
const LANE_MASK: u64 = (1 << (DISK_SHIFT - LANE_SHIFT)) - 1;
const SEQUENCE_MASK: u64 = (1 << LANE_SHIFT) - 1;

/// One request.
#[derive(Clone, Copy)]
struct Request {
    /// 0 when the entry is free.
    sequence: u64,
    direction: Direction,
    lba: u64,
    buffer: u64,
    bytes: u64,
    /// Bytes handed to the device so far.
    submitted: u64,
    /// Device commands of this request in flight.
    outstanding: u32,
    /// The first error; no more commands are submitted after one.
    error: Option<Error>,
    /// Submitted by a program `program_run` started (dropped when it returns).
    nested: bool,
}

const FREE: Request = Request {
    sequence: 0,
    direction: Direction::Read,
    lba: 0,
    buffer: 0,
    bytes: 0,
    submitted: 0,
    outstanding: 0,
    error: None,
    nested: false,
};

impl Request {
    fn wants_commands(&self) -> bool {
        self.sequence != 0 && self.error.is_none() && self.submitted < self.bytes
    }

    fn finished(&self) -> bool {
        self.sequence != 0 && self.outstanding == 0 && !self.wants_commands()
    }
}

/// The sequences of the requests that may still want commands, oldest first. An
/// entry whose request no longer wants any (finished, failed, collected) is dropped
/// when it reaches the front.
struct Waiting {
    sequences: [u64; TICKETS],
    head: usize,
    len: usize,
}

impl Waiting {
    const fn new() -> Self {
        Self { sequences: [0; TICKETS], head: 0, len: 0 }
    }

    fn front(&self) -> Option<u64> {
        (self.len > 0).then(|| self.sequences[self.head])
    }

    fn pop(&mut self) {
        self.head = (self.head + 1) % TICKETS;
        self.len -= 1;
    }

    /// Appends `sequence`; when the ring is full, first keeps only the entries
    /// `still_wanted` says are live (there are at most [`TICKETS`] live requests,
    /// one of them the new one, so room is always made).
    fn push(&mut self, sequence: u64, still_wanted: impl Fn(u64) -> bool) {
        if self.len == TICKETS {
            let mut kept = [0u64; TICKETS];
            let mut count = 0;
            for i in 0..self.len {
                let entry = self.sequences[(self.head + i) % TICKETS];
                if still_wanted(entry) {
                    kept[count] = entry;
                    count += 1;
                }
            }
            self.sequences = kept;
            self.head = 0;
            self.len = count;
        }
        self.sequences[(self.head + self.len) % TICKETS] = sequence;
        self.len += 1;
    }
}

/// A disk and its requests, under the disk's lock.
pub struct DiskState {
    /// The driver.
    pub device: Disk,
    requests: [Request; TICKETS],
    waiting: Waiting,
    /// The device's sector size and queue depth, read once.
    sector: u64,
    depth: usize,
    /// Commands submitted and not yet collected.
    in_flight: usize,
    /// The events this lane's completions raise (what its waits pause for).
    wake: u64,
    next_sequence: u64,
    /// Commands submitted to the device since boot.
    commands: u64,
    /// Most commands the device had in flight at once.
    most_in_flight: usize,
}

impl DiskState {
    pub(super) fn new(device: Disk, wake: u64) -> Self {
        let sector = u64::from(device.identity().sector_size);
        let depth = device.queue_depth();
        Self {
            device,
            requests: [FREE; TICKETS],
            waiting: Waiting::new(),
            sector,
            depth,
            in_flight: 0,
            wake,
            next_sequence: 1,
            commands: 0,
            most_in_flight: 0,
        }
    }

    /// Waits, under the lock, until the device has no command in flight (the
    /// blocking driver calls need that); finished commands are recorded.
    pub fn drain(&mut self) {
        while self.in_flight > 0 {
            self.collect();
            if self.in_flight > 0 {
                pause_for_completion(self.wake);
            }
        }
    }

    fn collect(&mut self) {
        if self.in_flight == 0 {
            return;
        }
        while let Some(completion) = self.device.poll() {
            self.in_flight = self.in_flight.saturating_sub(1);
            let Some(request) = self.requests.get_mut(completion.tag as usize) else { continue };
            request.outstanding = request.outstanding.saturating_sub(1);
            if let Err(error) = completion.result {
                request.error.get_or_insert(api_error(error));
            }
        }
    }

    /// Collects finished commands (with `collect`), then submits commands of the
    /// oldest requests until the device is full or nothing is left to submit. A
    /// submission does not collect, so requests submitted back to back are all in
    /// flight at once, up to the device's depth, whatever the device's speed.
    fn advance(&mut self, disk: u64, window: &ProgramMemory, collect: bool) {
        if collect {
            self.collect();
        }
        while let Some(index) = self.oldest_wanting() {
            if self.depth > 0 && self.in_flight >= self.depth {
                return;
            }
            if !self.submit_next(disk, index, window) {
                return;
            }
        }
    }

    /// The oldest request that wants commands; entries ahead of it that no longer
    /// want any leave the ring.
    fn oldest_wanting(&mut self) -> Option<usize> {
        while let Some(sequence) = self.waiting.front() {
            let index = (sequence % TICKETS as u64) as usize;
            let request = &self.requests[index];
            if request.sequence == sequence && request.wants_commands() {
                return Some(index);
            }
            self.waiting.pop();
        }
        None
    }

    /// Hands the device the next command(s) of request `index` from one span of
    /// its buffer; false when the device is full.
    fn submit_next(&mut self, disk: u64, index: usize, window: &ProgramMemory) -> bool {
        let sector = self.sector;
        let request = self.requests[index];
        if self.depth == 0 {
            self.run_blocking(disk, index, window);
            return true;
        }
        let mut pieces = [PhysicalPiece::default(); super::transfer::SPAN_PIECES];
        let at = request.buffer + request.submitted;
        let (span, count) =
            match span_pieces(window, at, request.bytes - request.submitted, sector, &mut pieces) {
                Ok(found) => found,
                Err(error) => {
                    self.requests[index].error = Some(error);
                    return true;
                }
            };
        let mut segments = [Segment { physical: 0, len: 0 }; super::transfer::SPAN_PIECES];
        for (segment, piece) in segments.iter_mut().zip(&pieces[..count]) {
            *segment = Segment { physical: piece.physical, len: piece.len };
        }
        let mut cursor = SegmentCursor::new(&segments[..count]);
        let mut taken = 0;
        while !cursor.is_done() {
            let lba = request.lba + (request.submitted + taken) / sector;
            let write = request.direction == Direction::Write;
            match self.device.submit(write, lba, &mut cursor, index as u64) {
                Ok(bytes) => {
                    taken += bytes;
                    self.requests[index].outstanding += 1;
                    self.commands += 1;
                    self.in_flight += 1;
                    self.most_in_flight = self.most_in_flight.max(self.in_flight);
                }
                Err(BlockError::Busy) => {
                    self.requests[index].submitted += taken;
                    return false;
                }
                Err(BlockError::Unsupported) => {
                    self.requests[index].submitted += taken;
                    self.bounce_rest(disk, index, window);
                    return true;
                }
                Err(error) => {
                    self.requests[index].submitted += taken;
                    self.requests[index].error = Some(api_error(error));
                    return true;
                }
            }
        }
        debug_assert_eq!(taken, span);
        self.requests[index].submitted += taken;
        true
    }

    /// The rest of request `index` through a kernel buffer, once the device is idle.
    fn bounce_rest(&mut self, disk: u64, index: usize, window: &ProgramMemory) {
        self.drain();
        count_bounce(disk);
        let request = self.requests[index];
        let sector = self.sector;
        let done = request.submitted;
        let outcome = bounce(
            &mut self.device,
            request.direction,
            request.lba + done / sector,
            request.buffer + done,
            request.bytes - done,
            sector,
            window,
        );
        let request = &mut self.requests[index];
        request.submitted = request.bytes;
        if let Err(error) = outcome {
            request.error.get_or_insert(error);
        }
    }

    /// Request `index` to its end on a driver without a submission path.
    fn run_blocking(&mut self, disk: u64, index: usize, window: &ProgramMemory) {
        let request = self.requests[index];
        let outcome = super::transfer::transfer_blocking(
            &mut self.device,
            disk,
            request.direction,
            request.lba,
            request.buffer,
            request.bytes,
            window,
        );
        let request = &mut self.requests[index];
        request.submitted = request.bytes;
        if let Err(error) = outcome {
            request.error = Some(error);
        }
    }
}

/// Starts a request checked by the caller (disk, range, buffer inside the window);
/// returns its ticket. `Exhausted` when the lane has [`TICKETS`] uncollected requests.
pub fn submit(
    disk: u64,
    direction: Direction,
    lba: u64,
    buffer: u64,
    bytes: u64,
    window: &ProgramMemory,
) -> Result<u64, Error> {
    let slot = slot(disk).ok_or(Error::NotFound)?;
    let lane = if slot.lanes.len() > 1 { crate::smp::current_core() % slot.lanes.len() } else { 0 };
    let mut state = slot.lanes[lane].lock();
    // The sequence picks the entry; skip sequences whose entry is taken.
    let mut sequence = state.next_sequence;
    let index = loop {
        let index = (sequence % TICKETS as u64) as usize;
        if state.requests[index].sequence == 0 {
            break index;
        }
        sequence = sequence % SEQUENCE_MASK + 1;
        if sequence == state.next_sequence {
            return Err(Error::Exhausted);
        }
    };
    state.next_sequence = sequence % SEQUENCE_MASK + 1;
    let nested = crate::program_run::callee_running();
    state.requests[index] = Request { sequence, direction, lba, buffer, bytes, nested, ..FREE };
    let DiskState { waiting, requests, .. } = &mut *state;
    waiting.push(sequence, |entry| {
        let request = &requests[(entry % TICKETS as u64) as usize];
        request.sequence == entry && request.wants_commands()
    });
    state.advance(disk, window, false);
    Ok(disk << DISK_SHIFT | (lane as u64) << LANE_SHIFT | sequence)
}

/// Moves disk work on, then the outcome of `ticket` if it finished (the ticket is
/// then collected and no longer valid): its bytes, or its first error. `Ok(None)`
/// while it is in flight; `NotFound` for a ticket that is not (or no longer) one.
pub fn poll(ticket: u64, window: &ProgramMemory) -> Result<Option<u64>, Error> {
    let disk = ticket >> DISK_SHIFT;
    let lane = ((ticket >> LANE_SHIFT) & LANE_MASK) as usize;
    let sequence = ticket & SEQUENCE_MASK;
    let slot = slot(disk).ok_or(Error::NotFound)?;
    let mut state = slot.lanes.get(lane).ok_or(Error::NotFound)?.lock();
    let index = (sequence % TICKETS as u64) as usize;
    if sequence == 0 || state.requests[index].sequence != sequence {
        return Err(Error::NotFound);
    }
    state.advance(disk, window, true);
    let request = state.requests[index];
    if !request.finished() {
        return Ok(None);
    }
    state.requests[index] = FREE;
    match request.error {
        Some(error) => Err(error),
        None => Ok(Some(request.bytes)),
    }
}

/// Waits until `ticket` finished and collects it.
pub fn wait(ticket: u64, window: &ProgramMemory) -> Result<u64, Error> {
    let lane = ((ticket >> LANE_SHIFT) & LANE_MASK) as usize;
    let wake = super::wake_events(ticket >> DISK_SHIFT, lane);
    loop {
        if let Some(bytes) = poll(ticket, window)? {
            return Ok(bytes);
        }
        pause_for_completion(wake);
    }
}

/// The one place the kernel waits for a disk lane to finish a command (every wait
/// loop above calls it between two polls), given the events its completions raise:
/// a halt until the completion interrupt where it reaches this core, else a spin.
fn pause_for_completion(wake: u64) {
    crate::irq::wait::pause_for_disk(wake);
}

/// Drops the finished, uncollected requests of a program `program_run` started, once
/// it returned and [`settle`] ran (its tickets would otherwise hold their entries).
pub fn forget_nested() {
    for disk in 0..super::count() as u64 {
        let Some(slot) = slot(disk) else { continue };
        for lane in &slot.lanes {
            let mut state = lane.lock();
            for request in state.requests.iter_mut().filter(|r| r.nested && r.finished()) {
                *request = FREE;
            }
        }
    }
}

/// Prints, for every disk that ran submitted commands, how many and the most in
/// flight at once on one lane: `ingot: disk <n> commands=<c> most-in-flight=<m>`.
pub fn report() {
    for disk in 0..super::count() as u64 {
        let Some(slot) = slot(disk) else { continue };
        let (mut commands, mut most_in_flight) = (0, 0);
        for lane in &slot.lanes {
            let state = lane.lock();
            commands += state.commands;
            most_in_flight = most_in_flight.max(state.most_in_flight);
        }
        if commands > 0 {
            crate::println!(
                "ingot: disk {disk} commands={commands} most-in-flight={most_in_flight}"
            );
        }
    }
}

/// The identity of the disk a ticket names.
pub fn ticket_identity(ticket: u64) -> Option<&'static ingot_block::DiskIdentity> {
    super::identity_ref(ticket >> DISK_SHIFT)
}

/// Runs every disk's requests to their end, leaving their outcomes to collect: a
/// program that ends (or a nested one that returns) leaves no DMA in flight into
/// memory that is about to be reused.
pub fn settle(window: &ProgramMemory) {
    for disk in 0..super::count() as u64 {
        let Some(slot) = slot(disk) else { continue };
        for lane in &slot.lanes {
            let mut state = lane.lock();
            while state.requests.iter().any(|r| r.sequence != 0 && !r.finished()) {
                state.advance(disk, window, true);
                pause_for_completion(state.wake);
            }
        }
    }
}
