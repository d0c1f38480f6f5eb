//! The binary contract between the Ingot kernel and the programs it runs.
//!
//! Programs call the kernel through a table of C-ABI function pointers at the fixed
//! address [`API_TABLE_ADDRESS`]; the same address is also passed to the program's
//! entry point in RDI. The table starts with a magic number and a version so a
//! program can check what it is talking to. Both the kernel and the SDK depend on this
//! crate, so they cannot disagree about the layout. `docs/api.md` documents every call.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

/// Physical (and identity-mapped) address of the kernel image header.
pub const KERNEL_HEADER_ADDRESS: u64 = 0x10_0000;
/// Where BareMetal's signature `BAREMETAL` lives in the kernel header.
pub const BAREMETAL_SIGNATURE_ADDRESS: u64 = 0x10_0003;
/// Where BareMetal's call table lives (`b_input` … `b_user`, eight quads); its
/// register-convention calls are documented in `docs/api.md`.
pub const BAREMETAL_TABLE_ADDRESS: u64 = 0x10_0010;
/// Where the disk loaders find the kernel's 64-bit entry address.
pub const LOADER_ENTRY_ADDRESS: u64 = 0x10_0078;
/// Where Ingot's native [`ApiTable`] lives.
pub const API_TABLE_ADDRESS: u64 = 0x10_0080;
/// Virtual address where programs are loaded and their memory window begins.
pub const PROGRAM_BASE: u64 = 0xFFFF_8000_0000_0000;

/// `ApiTable::magic`: the bytes `INGOTAPI`.
pub const API_MAGIC: u64 = u64::from_le_bytes(*b"INGOTAPI");
/// Major version: bumped when a call changes or disappears.
pub const API_VERSION_MAJOR: u16 = 1;
/// Minor version: bumped when calls are added at the end of the table.
pub const API_VERSION_MINOR: u16 = 5;
/// `ApiTable::version` for this build: major in the high 16 bits, minor in the low.
pub const API_VERSION: u32 = ((API_VERSION_MAJOR as u32) << 16) | API_VERSION_MINOR as u32;

/// Results of calls: a non-negative value on success, a negative [`Error`] code otherwise.
pub type Status = i64;

/// Error codes returned (negated) by kernel calls.
#[repr(i64)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// An argument is out of range or malformed.
    InvalidArgument = 1,
    /// A pointer and length do not lie inside the program's memory.
    BadAddress = 2,
    /// Nothing is available now (for example no input byte waiting).
    WouldBlock = 3,
    /// The device or object does not exist.
    NotFound = 4,
    /// The target is busy (a core running an assignment, a group with unfinished tasks).
    Busy = 5,
    /// A fixed-size kernel table is full (for example every completion group is in use).
    Exhausted = 6,
    /// The device did not answer in time.
    TimedOut = 7,
    /// The device reported an error for the operation.
    DeviceError = 8,
}

impl Error {
    /// The negative status value that carries this error.
    pub const fn status(self) -> Status {
        -(self as i64)
    }

    /// The error a negative status carries, if it is one of ours.
    pub const fn from_status(status: Status) -> Option<Self> {
        match status {
            -1 => Some(Self::InvalidArgument),
            -2 => Some(Self::BadAddress),
            -3 => Some(Self::WouldBlock),
            -4 => Some(Self::NotFound),
            -5 => Some(Self::Busy),
            -6 => Some(Self::Exhausted),
            -7 => Some(Self::TimedOut),
            -8 => Some(Self::DeviceError),
            _ => None,
        }
    }
}

/// Memory facts for the program, filled by [`ApiTable::memory_info`].
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryInfo {
    /// First address of the program's memory window ([`PROGRAM_BASE`]).
    pub window_base: u64,
    /// Bytes in the window: all free RAM, contiguous from `window_base`.
    pub window_bytes: u64,
    /// Bytes at the top of the window the kernel set aside for the program's stack.
    pub stack_bytes: u64,
    /// All usable RAM the firmware reported, in bytes.
    pub usable_ram_bytes: u64,
}

/// A disk, filled by [`ApiTable::disk_info`].
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskInfo {
    /// Number of sectors.
    pub sectors: u64,
    /// Bytes per sector.
    pub sector_size: u32,
    /// Requests (or 4 MiB spans of them) that went through a kernel bounce buffer
    /// because the controller could not reach the program's memory by DMA
    /// (saturates at `u32::MAX`).
    pub bounced: u32,
    /// Model name, ASCII, space-padded.
    pub model: [u8; 40],
    /// Serial number, ASCII, space-padded.
    pub serial: [u8; 40],
}

impl Default for DiskInfo {
    fn default() -> Self {
        Self { sectors: 0, sector_size: 0, bounced: 0, model: [0; 40], serial: [0; 40] }
    }
}

/// Writes `len` bytes at `bytes` to the console; returns the count written.
pub type ConsoleWrite = extern "sysv64" fn(bytes: *const u8, len: u64) -> Status;
/// Returns the next console input byte, or `WouldBlock`.
pub type ConsoleRead = extern "sysv64" fn() -> Status;
/// Fills `*info`; returns 0.
pub type MemoryInfoCall = extern "sysv64" fn(info: *mut MemoryInfo) -> Status;

/// A core's counters, filled by [`ApiTable::core_stats`].
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CoreStats {
    /// Tasks and assignments the core ran to completion.
    pub tasks_run: u64,
    /// Nanoseconds it spent running them.
    pub busy_ns: u64,
}

/// A task body: called with the argument given at submission, on whichever core takes it.
pub type TaskEntry = extern "sysv64" fn(argument: u64);

/// Returns a value and takes none (time, core id, core count, ...).
pub type Query = extern "sysv64" fn() -> Status;
/// Busy-waits the given number of microseconds; returns 0.
pub type DelayCall = extern "sysv64" fn(microseconds: u64) -> Status;
/// Queues `entry(argument)`, counted in `group` (0 = no group).
pub type TaskSubmit = extern "sysv64" fn(entry: TaskEntry, argument: u64, group: u64) -> Status;
/// Runs up to `max` queued tasks on the calling core; returns how many ran.
pub type TaskRunSome = extern "sysv64" fn(max: u64) -> Status;
/// Operates on a completion group.
pub type GroupCall = extern "sysv64" fn(group: u64) -> Status;
/// Fills `*stats` for core `core`.
pub type CoreStatsCall = extern "sysv64" fn(core: u64, stats: *mut CoreStats) -> Status;
/// Runs `entry(argument)` once on core `core`.
pub type RunOnCore = extern "sysv64" fn(core: u64, entry: TaskEntry, argument: u64) -> Status;
/// Operates on a lock word (a `u64`, 8-byte aligned, in program memory).
pub type LockCall = extern "sysv64" fn(lock: *mut u64) -> Status;
/// Ends the machine (reboot or power-off); does not return.
pub type PowerCall = extern "sysv64" fn() -> Status;
/// Returns the number of disks.
pub type DiskCount = extern "sysv64" fn() -> Status;
/// Fills `*info` for disk `disk`; returns 0 or `NotFound`.
pub type DiskInfoCall = extern "sysv64" fn(disk: u64, info: *mut DiskInfo) -> Status;
/// Reads `count` sectors from `lba` into `buffer` (`count * sector_size` bytes);
/// returns `count`.
pub type DiskRead = extern "sysv64" fn(disk: u64, lba: u64, count: u64, buffer: *mut u8) -> Status;
/// Writes `count` sectors at `lba` from `buffer`; returns `count`.
pub type DiskWrite =
    extern "sysv64" fn(disk: u64, lba: u64, count: u64, buffer: *const u8) -> Status;
/// Makes completed writes to disk `disk` durable; returns 0.
pub type DiskFlush = extern "sysv64" fn(disk: u64) -> Status;

/// [`DiskSubmit`]'s `direction`: disk to memory.
pub const DISK_READ: u64 = 0;
/// [`DiskSubmit`]'s `direction`: memory to disk.
pub const DISK_WRITE: u64 = 1;

/// Starts reading ([`DISK_READ`]) or writing ([`DISK_WRITE`]) `count` sectors at
/// `lba` of `disk` into or from `buffer` without waiting; returns a ticket (a
/// non-negative number) for [`ApiTable::disk_poll`] and [`ApiTable::disk_wait`].
/// The whole request (disk, range, buffer inside the program's memory) is checked
/// before any device is touched. The buffer belongs to the disk until the ticket is
/// collected.
pub type DiskSubmit =
    extern "sysv64" fn(disk: u64, direction: u64, lba: u64, count: u64, buffer: *mut u8) -> Status;
/// Takes a ticket: `count` once the request finished (the ticket is then
/// collected), the request's error once it failed (collected too), `WouldBlock`
/// while it is in flight ([`ApiTable::disk_poll`] only), `NotFound` for a ticket
/// that is not, or no longer, one.
pub type DiskTicketCall = extern "sysv64" fn(ticket: u64) -> Status;

/// A network interface, filled by [`ApiTable::net_info`].
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetInfo {
    /// Station address.
    pub mac: [u8; 6],
    /// 1 when the link is up, 0 when down (read from the device at the call).
    pub link_up: u8,
    /// Reserved, zero.
    pub reserved: u8,
    /// Payload bytes per frame; frames are at most `mtu + 14` bytes (no FCS).
    pub mtu: u32,
    /// Reserved, zero.
    pub reserved2: u32,
    /// Driver name, ASCII, NUL-padded (`virtio-net`, `e1000`, ...).
    pub driver: [u8; 16],
    /// Frames received and handed to the program.
    pub rx_frames: u64,
    /// Bytes of those frames.
    pub rx_bytes: u64,
    /// Frames sent.
    pub tx_frames: u64,
    /// Bytes of those frames.
    pub tx_bytes: u64,
    /// Received frames dropped (too long for the MTU or for the program's buffer).
    pub rx_dropped: u64,
    /// Received frames the device flagged as bad.
    pub rx_errors: u64,
    /// Frames the device failed to send.
    pub tx_errors: u64,
}

/// One frame of a batch call: where it is in program memory and how long. For
/// [`ApiTable::net_receive_batch`], `len` is the buffer's capacity going in and the
/// frame's length coming out.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetFrame {
    /// Address of the frame's first byte in program memory.
    pub address: u64,
    /// Bytes.
    pub len: u64,
}

/// Most frames one batch call takes.
pub const NET_BATCH_MAX: u64 = 32;
/// Bytes of the Ethernet header: the shortest frame [`ApiTable::net_send`] takes.
pub const NET_HEADER_BYTES: u64 = 14;

/// Returns the number of network interfaces.
pub type NetCount = extern "sysv64" fn() -> Status;
/// Fills `*info` for interface `nic`; returns 0 or `NotFound`.
pub type NetInfoCall = extern "sysv64" fn(nic: u64, info: *mut NetInfo) -> Status;
/// Sends one frame of `len` bytes at `frame`; returns `len` once the device sent it.
pub type NetSend = extern "sysv64" fn(nic: u64, frame: *const u8, len: u64) -> Status;
/// Copies the next received frame into `buffer` (`capacity` bytes); returns its
/// length, or `WouldBlock`.
pub type NetReceive = extern "sysv64" fn(nic: u64, buffer: *mut u8, capacity: u64) -> Status;
/// Sends the `count` frames described at `frames`; returns how many were sent.
pub type NetSendBatch = extern "sysv64" fn(nic: u64, frames: *const NetFrame, count: u64) -> Status;
/// Receives up to `count` frames into the buffers described at `frames` (each
/// `len` rewritten to the frame's length); returns how many, or `WouldBlock`.
pub type NetReceiveBatch =
    extern "sysv64" fn(nic: u64, frames: *mut NetFrame, count: u64) -> Status;

/// Runs the flat program image of `len` bytes at `image` (in the caller's memory)
/// while the caller waits, keeping the caller's first `keep_bytes` of the window (its
/// image and data) and its stack intact; returns the program's status (non-negative,
/// as the program returned it, masked to 62 bits), or `PROGRAM_FAULTED_BIT | vector`
/// if it raised a CPU exception, or an error.
pub type ProgramRun = extern "sysv64" fn(image: *const u8, len: u64, keep_bytes: u64) -> Status;

/// [`ProgramRun`] with arguments: `args` (`args_len` bytes of UTF-8 in the caller's
/// memory) holds the program's words as `init=` gives them (blank-separated, a word in
/// double quotes may hold blanks, the first is the program's name); the program is
/// entered with `argc` and `argv` as a boot program is. Arguments that are not UTF-8
/// or do not fit half of the program's stack are refused with `InvalidArgument`.
pub type ProgramRunArgs = extern "sysv64" fn(
    image: *const u8,
    len: u64,
    keep_bytes: u64,
    args: *const u8,
    args_len: u64,
) -> Status;

/// One PCI function the kernel found at boot, filled by [`ApiTable::pci_info`].
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PciInfo {
    /// PCIe segment group.
    pub segment: u16,
    /// Bus number.
    pub bus: u8,
    /// Device number, 0..32.
    pub slot: u8,
    /// Function number, 0..8.
    pub function: u8,
    /// Base class.
    pub base_class: u8,
    /// Subclass.
    pub subclass: u8,
    /// Programming interface.
    pub prog_if: u8,
    /// Vendor ID.
    pub vendor_id: u16,
    /// Device ID.
    pub device_id: u16,
    /// Revision.
    pub revision: u8,
    /// Zero.
    pub reserved: [u8; 3],
    /// Name of the driver that claimed it, NUL-padded; all zero if none did.
    pub driver: [u8; 16],
}

/// Fills `*info` for PCI function `index` (0 ..= count − 1, in enumeration order);
/// returns the number of functions, or `NotFound` past the last.
pub type PciInfoCall = extern "sysv64" fn(index: u64, info: *mut PciInfo) -> Status;

/// Set in [`ApiTable::program_run`]'s status when the program faulted; the low bits
/// hold the exception vector.
pub const PROGRAM_FAULTED_BIT: i64 = 1 << 62;

/// The native call table at [`API_TABLE_ADDRESS`]. New calls are only ever appended.
#[repr(C)]
pub struct ApiTable {
    /// [`API_MAGIC`].
    pub magic: u64,
    /// [`API_VERSION`] of the kernel that built the table.
    pub version: u32,
    /// Size of this table in bytes, so programs can tell which calls exist.
    pub size: u32,
    /// See [`ConsoleWrite`].
    pub console_write: ConsoleWrite,
    /// See [`ConsoleRead`].
    pub console_read: ConsoleRead,
    /// See [`MemoryInfoCall`].
    pub memory_info: MemoryInfoCall,
    /// Monotonic nanoseconds since boot (1.1).
    pub time_ns: Query,
    /// Busy-wait (1.1).
    pub delay_us: DelayCall,
    /// Index of the calling core, 0 = bootstrap core (1.1).
    pub core_id: Query,
    /// Number of running cores (1.1).
    pub core_count: Query,
    /// Queue a task on the shared work queue (1.1).
    pub task_submit: TaskSubmit,
    /// Run one queued task on the calling core: 1 if one ran, 0 if the queue was empty (1.1).
    pub task_run_one: Query,
    /// Create a completion group; returns its id (1.1).
    pub group_create: Query,
    /// Wait until the group's tasks have all finished, running queued tasks meanwhile (1.1).
    pub group_wait: GroupCall,
    /// Free a group whose tasks have all finished (1.1).
    pub group_release: GroupCall,
    /// Per-core counters (1.1).
    pub core_stats: CoreStatsCall,
    /// BareMetal-style: run code once on a given core (1.1).
    pub run_on_core: RunOnCore,
    /// 1 if any core other than the caller is running or has pending assigned code (1.1).
    pub cores_busy: Query,
    /// Acquire a spin lock word (1.1).
    pub spin_lock: LockCall,
    /// Release a spin lock word (1.1).
    pub spin_unlock: LockCall,
    /// Reboot the machine (1.1).
    pub reboot: PowerCall,
    /// Power the machine off (1.1).
    pub shutdown: PowerCall,
    /// See [`DiskCount`] (since 1.1).
    pub disk_count: DiskCount,
    /// See [`DiskInfoCall`] (since 1.1).
    pub disk_info: DiskInfoCall,
    /// See [`DiskRead`] (since 1.1).
    pub disk_read: DiskRead,
    /// See [`DiskWrite`] (since 1.1).
    pub disk_write: DiskWrite,
    /// See [`DiskFlush`] (since 1.1).
    pub disk_flush: DiskFlush,
    /// See [`NetCount`] (since 1.2).
    pub net_count: NetCount,
    /// See [`NetInfoCall`] (since 1.2).
    pub net_info: NetInfoCall,
    /// See [`NetSend`] (since 1.2).
    pub net_send: NetSend,
    /// See [`NetReceive`] (since 1.2).
    pub net_receive: NetReceive,
    /// See [`NetSendBatch`] (since 1.2).
    pub net_send_batch: NetSendBatch,
    /// See [`NetReceiveBatch`] (since 1.2).
    pub net_receive_batch: NetReceiveBatch,
    /// See [`ProgramRun`] (since 1.3).
    pub program_run: ProgramRun,
    /// See [`DiskSubmit`] (since 1.4).
    pub disk_submit: DiskSubmit,
    /// Moves disk work on and returns a ticket's outcome if it finished, else
    /// `WouldBlock`; see [`DiskTicketCall`] (since 1.4).
    pub disk_poll: DiskTicketCall,
    /// Waits until a ticket's request finished; see [`DiskTicketCall`] (since 1.4).
    pub disk_wait: DiskTicketCall,
    /// See [`ProgramRunArgs`] (since 1.4).
    pub program_run_args: ProgramRunArgs,
    /// Number of PCI functions found at boot (since 1.4).
    pub pci_count: Query,
    /// See [`PciInfoCall`] (since 1.4).
    pub pci_info: PciInfoCall,
    /// See [`WaitEvents`] (since 1.4).
    pub wait_events: WaitEvents,
    /// The event bits whose source interrupts (the rest are polled by
    /// [`ApiTable::wait_events`] every millisecond) (since 1.4).
    pub interrupt_events: Query,
    /// Nanoseconds core `core` has spent halted since boot, or `NotFound` (since 1.4).
    pub core_halted_ns: CoreQuery,
    /// Runs up to `max` queued tasks on the calling core; how many ran (since 1.5).
    pub task_run_some: TaskRunSome,
}

/// What [`ApiTable::wait_events`] waits for: one bit per event source. A bit
/// returned means "something happened there since the last wait that returned it":
/// the program then polls that device (receives frames, reads input) until it is
/// empty, and waits again.
pub mod events {
    /// Most NICs with an event bit of their own (NIC `n` is bit `n`).
    pub const MAX_NICS: u64 = 16;
    /// Most disks with an event bit of their own (disk `n` is bit 16 + `n`).
    pub const MAX_DISKS: u64 = 16;
    /// Console input arrived (a key on a PS/2 or USB keyboard, a byte on serial).
    pub const INPUT: u64 = 1 << 32;
    /// The deadline passed (returned, never needed in the request).
    pub const TIMER: u64 = 1 << 40;
    /// No deadline: wait until an event.
    pub const NO_DEADLINE: u64 = u64::MAX;
    /// Every bit a request may hold.
    pub const ALL: u64 = 0xFFFF_FFFF | INPUT | TIMER;

    /// The event bit of NIC `nic` (0 past [`MAX_NICS`]).
    pub const fn net(nic: u64) -> u64 {
        if nic < MAX_NICS { 1 << nic } else { 0 }
    }

    /// The event bit of disk `disk` (0 past [`MAX_DISKS`]).
    pub const fn disk(disk: u64) -> u64 {
        if disk < MAX_DISKS { 1 << (16 + disk) } else { 0 }
    }
}

/// Halts the calling core until one of `events` (bits of [`events`]) happens or the
/// time [`ApiTable::time_ns`] reaches `deadline_ns` ([`events::NO_DEADLINE`]: none);
/// returns the events that happened ([`events::TIMER`] alone when the deadline
/// passed first). A source without an interrupt is checked every millisecond and its
/// bit returned then. Device events only on core 0, where their interrupts arrive.
pub type WaitEvents = extern "sysv64" fn(events: u64, deadline_ns: u64) -> Status;

/// Returns a number about core `core`, or `NotFound`.
pub type CoreQuery = extern "sysv64" fn(core: u64) -> Status;

/// Size of [`ApiTable`] in this version.
pub const API_TABLE_BYTES: u32 = core::mem::size_of::<ApiTable>() as u32;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_stable() {
        assert_eq!(core::mem::offset_of!(ApiTable, console_write), 16);
        assert_eq!(core::mem::offset_of!(ApiTable, memory_info), 32);
        assert_eq!(core::mem::offset_of!(ApiTable, time_ns), 40);
        assert_eq!(core::mem::offset_of!(ApiTable, shutdown), 160);
        assert_eq!(core::mem::offset_of!(ApiTable, disk_count), 168);
        assert_eq!(core::mem::offset_of!(ApiTable, disk_flush), 200);
        assert_eq!(core::mem::offset_of!(ApiTable, net_count), 208);
        assert_eq!(core::mem::offset_of!(ApiTable, net_receive_batch), 248);
        assert_eq!(core::mem::offset_of!(ApiTable, program_run), 256);
        assert_eq!(core::mem::offset_of!(ApiTable, disk_submit), 264);
        assert_eq!(core::mem::offset_of!(ApiTable, disk_wait), 280);
        assert_eq!(core::mem::offset_of!(ApiTable, program_run_args), 288);
        assert_eq!(core::mem::offset_of!(ApiTable, pci_info), 304);
        assert_eq!(core::mem::offset_of!(ApiTable, wait_events), 312);
        assert_eq!(core::mem::offset_of!(ApiTable, core_halted_ns), 328);
        assert_eq!(core::mem::offset_of!(ApiTable, task_run_some), 336);
        assert_eq!(API_TABLE_BYTES, 344);
        assert_eq!(core::mem::size_of::<PciInfo>(), 32);
        assert_eq!(core::mem::offset_of!(PciInfo, vendor_id), 8);
        assert_eq!(core::mem::offset_of!(PciInfo, driver), 16);
        assert_eq!(core::mem::size_of::<NetInfo>(), 88);
        assert_eq!(core::mem::offset_of!(NetInfo, mtu), 8);
        assert_eq!(core::mem::offset_of!(NetInfo, driver), 16);
        assert_eq!(core::mem::offset_of!(NetInfo, rx_frames), 32);
        assert_eq!(core::mem::size_of::<NetFrame>(), 16);
        assert_eq!(core::mem::size_of::<MemoryInfo>(), 32);
        assert_eq!(core::mem::size_of::<DiskInfo>(), 96);
    }

    #[test]
    fn error_codes_round_trip() {
        for error in [
            Error::InvalidArgument,
            Error::BadAddress,
            Error::WouldBlock,
            Error::NotFound,
            Error::Busy,
            Error::Exhausted,
            Error::TimedOut,
            Error::DeviceError,
        ] {
            assert!(error.status() < 0);
            assert_eq!(Error::from_status(error.status()), Some(error));
        }
        assert_eq!(Error::from_status(5), None);
        assert_eq!(Error::from_status(-9), None);
    }
}

#[cfg(test)]
mod c_header;
