//! A PCI IDE controller in compatibility mode (ATA/ATAPI-6 task file, SFF-8038i
//! bus master): two channels at 0x1F0/0x3F6 and 0x170/0x376, two drives each,
//! PIO and DMA reads and writes with LBA28 and LBA48 (the two-deep "HOB" registers),
//! IDENTIFY and FLUSH CACHE. A channel without drives floats (status 0xFF).

use std::cell::RefCell;
use std::rc::Rc;

use ingot_hal::{PortIo, PortIoWide};

use crate::HostMemory;

/// Bus-master base the model decodes (primary at +0, secondary at +8).
pub const BUS_MASTER_BASE: u16 = 0xC000;
const COMMAND: [u16; 2] = [0x1F0, 0x170];
const CONTROL: [u16; 2] = [0x3F6, 0x376];

/// A drive.
pub struct IdeDrive {
    /// Bytes (512-byte sectors).
    pub data: Vec<u8>,
    /// Whether it reports LBA48.
    pub lba48: bool,
}

#[derive(Default)]
struct ChannelState {
    drives: [Option<IdeDrive>; 2],
    selected: usize,
    count: [u8; 2],
    lba: [[u8; 2]; 3],
    device: u8,
    status: u8,
    error: u8,
    buffer: Vec<u8>,
    position: usize,
    /// Pending PIO write (start byte) or DMA command (opcode, start byte, length).
    pio_write: Option<usize>,
    dma: Option<(u8, usize, usize)>,
    bm_command: u8,
    bm_status: u8,
    bm_table: u32,
}

/// Controller state.
pub struct IdeState {
    memory: HostMemory,
    channels: [ChannelState; 2],
    /// A transfer touching (channel, drive, lba) fails with UNC.
    pub fail: Option<(usize, usize, u64)>,
    /// Commands leave BSY set forever.
    pub stalled: bool,
    /// Opcodes issued, in order.
    pub commands: Vec<u8>,
    /// Most PRD entries used by one DMA transfer.
    pub most_prd_entries: usize,
    /// Largest DMA transfer of one command (bytes).
    pub largest_transfer: usize,
}

/// The controller; its port space is the [`PortIo`] implementation.
#[derive(Clone)]
pub struct IdeModel {
    state: Rc<RefCell<IdeState>>,
}

impl IdeModel {
    /// Drives at (channel, drive).
    pub fn new(memory: HostMemory, drives: Vec<(usize, usize, IdeDrive)>) -> Self {
        let mut channels: [ChannelState; 2] = Default::default();
        for (channel, drive, disk) in drives {
            channels[channel].drives[drive] = Some(disk);
        }
        for channel in &mut channels {
            channel.status = if channel.drives.iter().any(Option::is_some) { 0x50 } else { 0xFF };
        }
        let state = IdeState {
            memory,
            channels,
            fail: None,
            stalled: false,
            commands: Vec::new(),
            most_prd_entries: 0,
            largest_transfer: 0,
        };
        Self { state: Rc::new(RefCell::new(state)) }
    }

    /// The state, for faults and checks.
    pub fn state(&self) -> std::cell::RefMut<'_, IdeState> {
        self.state.borrow_mut()
    }

    /// The bytes of a drive.
    pub fn data(&self, channel: usize, drive: usize) -> Vec<u8> {
        self.state.borrow().channels[channel].drives[drive]
            .as_ref()
            .map_or(Vec::new(), |d| d.data.clone())
    }
}

fn identify(drive: &IdeDrive) -> Vec<u8> {
    let mut words = [0u16; 256];
    let sectors = (drive.data.len() / 512) as u64;
    words[49] = 1 << 9;
    words[60] = sectors.min(0x0FFF_FFFF) as u16;
    words[61] = (sectors.min(0x0FFF_FFFF) >> 16) as u16;
    if drive.lba48 {
        words[83] = 1 << 10;
        for i in 0..4 {
            words[100 + i] = (sectors >> (16 * i)) as u16;
        }
    }
    for (i, pair) in b"Ingot IDE model disk".chunks(2).enumerate() {
        words[27 + i] = (u16::from(pair[0]) << 8) | u16::from(pair[1]);
    }
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

impl IdeState {
    fn command(&mut self, index: usize, opcode: u8) {
        self.commands.push(opcode);
        let fail = self.fail;
        let stalled = self.stalled;
        let ch = &mut self.channels[index];
        let Some(drive) = ch.drives[ch.selected].as_ref() else {
            ch.status = 0;
            return;
        };
        if stalled {
            ch.status = 0x80;
            return;
        }
        let ext = matches!(opcode, 0x24 | 0x34 | 0x25 | 0x35);
        let lba = if ext {
            (0..3).map(|i| u64::from(ch.lba[i][0]) << (8 * i)).sum::<u64>()
                | (0..3).map(|i| u64::from(ch.lba[i][1]) << (24 + 8 * i)).sum::<u64>()
        } else {
            (0..3).map(|i| u64::from(ch.lba[i][0]) << (8 * i)).sum::<u64>()
                | (u64::from(ch.device & 0xF) << 24)
        };
        let mut count = if ext {
            u64::from(ch.count[0]) | (u64::from(ch.count[1]) << 8)
        } else {
            u64::from(ch.count[0])
        };
        if count == 0 {
            count = if ext { 65536 } else { 256 };
        }
        let start = lba as usize * 512;
        let len = count as usize * 512;
        let bad = fail
            .is_some_and(|(c, d, l)| c == index && d == ch.selected && l >= lba && l < lba + count);
        let out_of_range = start + len > drive.data.len();
        let abort = |ch: &mut ChannelState| {
            ch.status = 0x51;
            ch.error = 0x40;
        };
        match opcode {
            0xEC => {
                ch.buffer = identify(drive);
                ch.position = 0;
                ch.status = 0x58;
            }
            0x20 | 0x24 | 0x30 | 0x34 | 0xC8 | 0x25 | 0xCA | 0x35 if bad || out_of_range => {
                abort(ch)
            }
            0x20 | 0x24 => {
                ch.buffer = drive.data[start..start + len].to_vec();
                ch.position = 0;
                ch.status = 0x58;
            }
            0x30 | 0x34 => {
                ch.buffer = vec![0; len];
                ch.position = 0;
                ch.pio_write = Some(start);
                ch.status = 0x58;
            }
            0xC8 | 0x25 | 0xCA | 0x35 => {
                ch.dma = Some((opcode, start, len));
                ch.status = 0x50 | 0x80;
            }
            0xE7 | 0xEA => ch.status = 0x50,
            _ => abort(ch),
        }
    }

    fn start_dma(&mut self, index: usize) {
        let memory = self.memory.clone();
        let ch = &mut self.channels[index];
        let Some((opcode, start, len)) = ch.dma.take() else { return };
        let mut entries = Vec::new();
        let mut at = u64::from(ch.bm_table);
        loop {
            let address = u64::from(memory.read_u32(at));
            let word = memory.read_u32(at + 4);
            let size = match word & 0xFFFF {
                0 => 0x10000,
                n => n as usize,
            };
            entries.push((address, size));
            if word & 0x8000_0000 != 0 || entries.len() > 512 {
                break;
            }
            at += 8;
        }
        self.most_prd_entries = self.most_prd_entries.max(entries.len());
        self.largest_transfer = self.largest_transfer.max(len);
        let ch = &mut self.channels[index];
        // An entry may not cross a 64 KiB boundary (SFF-8038i): flag an error.
        if entries
            .iter()
            .any(|&(address, size)| address / 0x10000 != (address + size as u64 - 1) / 0x10000)
        {
            ch.status = 0x50;
            ch.bm_status = (ch.bm_status & !0x01) | 0x04 | 0x02;
            return;
        }
        let selected = ch.selected;
        let Some(drive) = ch.drives[selected].as_mut() else { return };
        let read = matches!(opcode, 0xC8 | 0x25);
        if (ch.bm_command & 0x08 != 0) != read {
            ch.bm_status |= 0x02; // direction does not match the command
        }
        let mut offset = start;
        for (address, size) in entries {
            let size = size.min(start + len - offset);
            if read {
                memory.write(address, &drive.data[offset..offset + size]);
            } else {
                let mut chunk = vec![0; size];
                memory.read(address, &mut chunk);
                drive.data[offset..offset + size].copy_from_slice(&chunk);
            }
            offset += size;
            if offset >= start + len {
                break;
            }
        }
        ch.status = 0x50;
        ch.bm_status = (ch.bm_status & !0x01) | 0x04;
    }

    fn locate(port: u16) -> Option<(usize, u16, bool)> {
        for i in 0..2 {
            if (COMMAND[i]..COMMAND[i] + 8).contains(&port) {
                return Some((i, port - COMMAND[i], false));
            }
            if port == CONTROL[i] {
                return Some((i, 0, true));
            }
        }
        None
    }
}

impl PortIo for IdeModel {
    fn read_u8(&mut self, port: u16) -> u8 {
        let s = self.state.borrow();
        if (BUS_MASTER_BASE..BUS_MASTER_BASE + 16).contains(&port) {
            let ch = &s.channels[usize::from((port - BUS_MASTER_BASE) / 8)];
            return match (port - BUS_MASTER_BASE) % 8 {
                0 => ch.bm_command,
                2 => ch.bm_status,
                _ => 0,
            };
        }
        let Some((index, register, _control)) = IdeState::locate(port) else { return 0xFF };
        let ch = &s.channels[index];
        if ch.status == 0xFF {
            return 0xFF;
        }
        let present = ch.drives[ch.selected].is_some();
        match register {
            1 => ch.error,
            2 => ch.count[0],
            3..=5 => ch.lba[usize::from(register - 3)][0],
            6 => ch.device,
            7 if !present => 0,
            7 => ch.status,
            _ => 0,
        }
    }

    fn write_u8(&mut self, port: u16, value: u8) {
        let mut s = self.state.borrow_mut();
        if (BUS_MASTER_BASE..BUS_MASTER_BASE + 16).contains(&port) {
            let index = usize::from((port - BUS_MASTER_BASE) / 8);
            match (port - BUS_MASTER_BASE) % 8 {
                0 => {
                    let starting = value & 1 != 0 && s.channels[index].bm_command & 1 == 0;
                    s.channels[index].bm_command = value & 0x09;
                    if starting {
                        s.channels[index].bm_status |= 1;
                        s.start_dma(index);
                    }
                }
                2 => s.channels[index].bm_status &= !(value & 0x06),
                _ => {}
            }
            return;
        }
        let Some((index, register, control)) = IdeState::locate(port) else { return };
        if control {
            return;
        }
        let ch = &mut s.channels[index];
        match register {
            1 => {}
            2 => ch.count = [value, ch.count[0]],
            3..=5 => {
                let r = usize::from(register - 3);
                ch.lba[r] = [value, ch.lba[r][0]];
            }
            6 => {
                ch.device = value;
                ch.selected = usize::from(value >> 4 & 1);
            }
            7 => s.command(index, value),
            _ => {}
        }
    }
}

impl PortIoWide for IdeModel {
    fn read_u16(&mut self, port: u16) -> u16 {
        let mut s = self.state.borrow_mut();
        let Some((index, 0, false)) = IdeState::locate(port) else { return 0xFFFF };
        let ch = &mut s.channels[index];
        if ch.pio_write.is_some() || ch.position + 2 > ch.buffer.len() {
            return 0xFFFF;
        }
        let value = u16::from_le_bytes([ch.buffer[ch.position], ch.buffer[ch.position + 1]]);
        ch.position += 2;
        if ch.position == ch.buffer.len() {
            ch.status = 0x50;
        }
        value
    }

    fn write_u16(&mut self, port: u16, value: u16) {
        let mut s = self.state.borrow_mut();
        let Some((index, 0, false)) = IdeState::locate(port) else { return };
        let ch = &mut s.channels[index];
        let Some(start) = ch.pio_write else { return };
        if ch.position + 2 > ch.buffer.len() {
            return;
        }
        ch.buffer[ch.position..ch.position + 2].copy_from_slice(&value.to_le_bytes());
        ch.position += 2;
        if ch.position == ch.buffer.len() {
            let data = std::mem::take(&mut ch.buffer);
            let selected = ch.selected;
            if let Some(drive) = ch.drives[selected].as_mut() {
                drive.data[start..start + data.len()].copy_from_slice(&data);
            }
            ch.pio_write = None;
            ch.status = 0x50;
        }
    }

    fn read_u32(&mut self, _port: u16) -> u32 {
        u32::MAX
    }

    fn write_u32(&mut self, port: u16, value: u32) {
        if (BUS_MASTER_BASE..BUS_MASTER_BASE + 16).contains(&port)
            && (port - BUS_MASTER_BASE) % 8 == 4
        {
            self.state.borrow_mut().channels[usize::from((port - BUS_MASTER_BASE) / 8)].bm_table =
                value;
        }
    }
}
