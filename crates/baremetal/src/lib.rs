//! BareMetal's call conventions as pure logic, shared by the kernel's compatibility
//! layer (`kernel/src/compat/`) and tested on the host.
//!
//! The kernel's entry stubs hand each call a [`Registers`] frame; the helpers here say
//! how the reference packs its arguments and results into registers: the `b_system`
//! numbers ([`function`]), the packed PCI address of `BUS_READ`/`BUS_WRITE`
//! ([`bus_address`]), the MAC of `NET_STATUS` ([`mac_value`]), the key codes of
//! `b_input` ([`key_code`]), the 4 KiB sectors of `b_nvs_read/write` ([`nvs_range`]),
//! and how an `SMP_SET` address is told apart from a native task entry in the shared
//! per-core slots ([`tag_task`], [`untag_task`]).
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

/// The caller's registers, as the entry stubs push them (lowest address first).
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Registers {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub rflags: u64,
}

/// RFLAGS.CF: set when a call refused.
pub const CARRY: u64 = 1 << 0;
/// RFLAGS.ZF: `b_input` sets it when no byte waits.
pub const ZERO: u64 = 1 << 6;

impl Registers {
    /// Clears the carry flag: the call did its work.
    pub fn succeed(&mut self) {
        self.rflags &= !CARRY;
    }

    /// Sets the carry flag, leaving RAX as it is (for calls whose RAX is a result).
    pub fn fail_flag(&mut self) {
        self.rflags |= CARRY;
    }

    /// Sets the carry flag and puts `status` (a negative error code) in RAX.
    pub fn fail(&mut self, status: i64) {
        self.rflags |= CARRY;
        self.rax = status as u64;
    }

    /// Sets or clears the zero flag.
    pub fn set_zero_flag(&mut self, zero: bool) {
        if zero {
            self.rflags |= ZERO;
        } else {
            self.rflags &= !ZERO;
        }
    }

    /// `b_input`'s result: AL = `byte`, the rest of RAX kept, ZF set when `byte` is 0.
    pub fn set_input_byte(&mut self, byte: u8) {
        self.rax = (self.rax & !0xFF) | u64::from(byte);
        self.set_zero_flag(byte == 0);
        self.succeed();
    }
}

/// The reference's `b_system` numbers (`api/libBareMetal.h`).
#[allow(missing_docs)]
pub mod function {
    pub const TIMECOUNTER: u64 = 0x00;
    pub const FREE_MEMORY: u64 = 0x01;
    pub const SMP_ID: u64 = 0x10;
    pub const SMP_NUMCORES: u64 = 0x11;
    pub const SMP_SET: u64 = 0x12;
    pub const SMP_GET: u64 = 0x13;
    pub const SMP_LOCK: u64 = 0x14;
    pub const SMP_UNLOCK: u64 = 0x15;
    pub const SMP_BUSY: u64 = 0x16;
    pub const TSC: u64 = 0x1F;
    pub const SCREEN_LFB_GET: u64 = 0x20;
    pub const SCREEN_X_GET: u64 = 0x21;
    pub const SCREEN_Y_GET: u64 = 0x22;
    pub const SCREEN_PPSL_GET: u64 = 0x23;
    pub const SCREEN_BPP_GET: u64 = 0x24;
    pub const NET_STATUS: u64 = 0x30;
    pub const NET_CONFIG: u64 = 0x31;
    pub const BUS_READ: u64 = 0x50;
    pub const BUS_WRITE: u64 = 0x51;
    pub const STDOUT_SET: u64 = 0x52;
    pub const STDOUT_GET: u64 = 0x53;
    pub const CALLBACK_TIMER: u64 = 0x60;
    pub const CALLBACK_NETWORK: u64 = 0x61;
    pub const CALLBACK_KEYBOARD: u64 = 0x62;
    pub const DUMP_MEM: u64 = 0x70;
    pub const DUMP_RAX: u64 = 0x71;
    pub const DELAY: u64 = 0x72;
    pub const RESET: u64 = 0x7D;
    pub const REBOOT: u64 = 0x7E;
    pub const SHUTDOWN: u64 = 0x7F;
}

/// A PCI function and a register byte offset, from the reference's packed form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusAddress {
    /// PCIe segment group.
    pub segment: u16,
    /// Bus number.
    pub bus: u8,
    /// Device, 0..32.
    pub device: u8,
    /// Function, 0..8.
    pub function: u8,
    /// Byte offset of the 32-bit register, below 4096.
    pub offset: u16,
}

/// Decodes `BUS_READ`/`BUS_WRITE`'s RDX: segment in bits 47:32, bus 31:24, device
/// 23:19, function 18:16, the register's **dword index** in 15:0. `None` if bits above
/// 47 are set or the index leaves the 4 KiB configuration space.
pub fn bus_address(packed: u64) -> Option<BusAddress> {
    let index = packed & 0xFFFF;
    if packed >> 48 != 0 || index >= 1024 {
        return None;
    }
    Some(BusAddress {
        segment: (packed >> 32) as u16,
        bus: (packed >> 24) as u8,
        device: ((packed >> 19) & 0x1F) as u8,
        function: ((packed >> 16) & 0x7) as u8,
        offset: (index * 4) as u16,
    })
}

/// `NET_STATUS`'s value: the MAC in bits 47:0, its first byte highest.
pub fn mac_value(mac: [u8; 6]) -> u64 {
    mac.iter().fold(0, |value, byte| (value << 8) | u64::from(*byte))
}

/// `b_input`'s code for an input byte: the reference gives Enter as 0x1C and
/// backspace as 0x0E; CR, LF, BS and DEL from a serial line map to those.
pub fn key_code(byte: u8) -> u8 {
    match byte {
        b'\r' | b'\n' => 0x1C,
        0x08 | 0x7F => 0x0E,
        other => other,
    }
}

/// BareMetal's sector size on every disk.
pub const NVS_SECTOR_BYTES: u64 = 4096;

/// Why a `b_nvs_read/write` range is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NvsError {
    /// The device's sector size does not divide 4096.
    SectorSize,
    /// The range leaves the disk or overflows.
    OutOfRange,
}

/// A request in device terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NvsRange {
    /// Device sectors per BareMetal sector.
    pub per_sector: u64,
    /// Bytes of the caller's buffer.
    pub bytes: u64,
}

/// Checks `count` 4 KiB sectors from `first` on a disk of `device_sectors` sectors of
/// `sector_size` bytes and converts them to device terms.
pub fn nvs_range(
    first: u64,
    count: u64,
    sector_size: u64,
    device_sectors: u64,
) -> Result<NvsRange, NvsError> {
    if sector_size == 0
        || sector_size > NVS_SECTOR_BYTES
        || !NVS_SECTOR_BYTES.is_multiple_of(sector_size)
    {
        return Err(NvsError::SectorSize);
    }
    let per_sector = NVS_SECTOR_BYTES / sector_size;
    let end = first.checked_add(count).ok_or(NvsError::OutOfRange)?;
    let device_end = end.checked_mul(per_sector).ok_or(NvsError::OutOfRange)?;
    let bytes = count.checked_mul(NVS_SECTOR_BYTES).ok_or(NvsError::OutOfRange)?;
    if device_end > device_sectors {
        return Err(NvsError::OutOfRange);
    }
    Ok(NvsRange { per_sector, bytes })
}

const TASK_TAG: u64 = 1 << 63;

/// The slot entry for `SMP_SET` code at `address` (a higher-half program address):
/// bit 63 flipped, which makes it non-canonical, so it is never a native task entry
/// (those lie in the program window, bit 63 set) nor a slot marker.
pub fn tag_task(address: u64) -> u64 {
    address ^ TASK_TAG
}

/// The `SMP_SET` address in a slot entry, if the entry is a tagged one: bit 63 clear
/// and bits 62:47 all set (the tag of a higher-half address).
pub fn untag_task(entry: u64) -> Option<u64> {
    (entry >> 47 == 0xFFFF).then_some(entry ^ TASK_TAG)
}

#[cfg(test)]
mod tests;
