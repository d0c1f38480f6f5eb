//! An xHCI host controller (xHCI 1.2) with USB devices on its root ports, for the
//! xHCI driver's tests. Written from the specification's register and data-structure
//! chapters:
//!
//! - Capability registers at 0 (CAPLENGTH 0x40, HCSPARAMS1 slots/ports, HCSPARAMS2
//!   scratchpad count, HCCPARAMS1 context size, DBOFF 0x800, RTSOFF 0x600), operational
//!   registers at 0x40 (USBCMD run/reset, USBSTS halted, CRCR, DCBAAP, CONFIG, PORTSC
//!   per port), interrupter 0 at 0x620 (ERSTSZ, ERSTBA, ERDP), doorbells at 0x800.
//! - Rings read from simulated RAM with cycle bits and link TRBs; events written to
//!   the event ring segment with the producer cycle bit, never over the dequeue pointer.
//! - Commands: Enable Slot, Address Device (input context: slot and EP0), Configure
//!   Endpoint (interrupt IN endpoints). Control transfers on EP0 (Setup, Data, Status
//!   TRBs): GET_DESCRIPTOR (configuration), SET_CONFIGURATION, SET_PROTOCOL; anything
//!   else stalls. Normal TRBs on an interrupt IN endpoint complete with the next
//!   report the test queued with [`XhciModel::send_report`].
//!
//! Knobs: a controller that never becomes ready, a device whose descriptor request
//! stalls, a report transfer that fails, the context size (32 or 64 bytes),
//! scratchpad buffers asked for.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use ingot_hal::Mmio;

use crate::HostMemory;

const OPERATIONAL: usize = 0x40;
const RUNTIME: usize = 0x600;
const DOORBELLS: usize = 0x800;
const WINDOW: usize = 0x1000;
const MAX_SLOTS: u32 = 8;

/// Completion codes.
pub const SUCCESS: u32 = 1;
/// The endpoint stalled (an unsupported request).
pub const STALL: u32 = 6;
/// A malformed TRB or context.
pub const TRB_ERROR: u32 = 5;

/// A USB device on a root port.
#[derive(Debug, Clone)]
pub struct UsbDevice {
    /// PORTSC speed: 1 full, 2 low, 3 high.
    pub speed: u32,
    /// The configuration descriptor with its interfaces and endpoints.
    pub configuration: Vec<u8>,
    /// GET_DESCRIPTOR stalls (a broken device).
    pub stall_descriptor: bool,
    /// Set by SET_CONFIGURATION.
    pub configured: Option<u8>,
    /// Set by SET_PROTOCOL (0 = boot).
    pub protocol: Option<u16>,
}

impl UsbDevice {
    /// A full-speed HID boot keyboard: interrupt IN endpoint 1, 8 bytes, every 10 ms.
    pub fn keyboard() -> Self {
        let mut configuration = vec![9, 2, 34, 0, 1, 1, 0, 0xA0, 50];
        configuration.extend([9, 4, 0, 0, 1, 3, 1, 1, 0]);
        configuration.extend([9, 0x21, 0x11, 1, 0, 1, 0x22, 63, 0]);
        configuration.extend([7, 5, 0x81, 3, 8, 0, 10]);
        Self { speed: 1, configuration, stall_descriptor: false, configured: None, protocol: None }
    }

    /// A high-speed mass-storage device (class 8): not a keyboard.
    pub fn storage() -> Self {
        let mut configuration = vec![9, 2, 32, 0, 1, 1, 0, 0x80, 50];
        configuration.extend([9, 4, 0, 0, 2, 8, 6, 0x50, 0]);
        configuration.extend([7, 5, 0x81, 2, 0, 2, 0]);
        configuration.extend([7, 5, 0x02, 2, 0, 2, 0]);
        Self { speed: 3, configuration, stall_descriptor: false, configured: None, protocol: None }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct RingCursor {
    dequeue: u64,
    cycle: u32,
}

#[derive(Debug, Default)]
struct Slot {
    port: Option<usize>,
    ep0: RingCursor,
    interrupt: Option<(u32, RingCursor)>,
}

/// The controller's state.
pub struct XhciState {
    memory: HostMemory,
    /// Devices on root ports 0.. (`None`: nothing connected).
    pub ports: Vec<Option<UsbDevice>>,
    port_enabled: Vec<bool>,
    port_reset_change: Vec<bool>,
    running: bool,
    /// USBSTS.CNR never clears.
    pub never_ready: bool,
    /// Context size 64 bytes (HCCPARAMS1.CSZ).
    pub big_contexts: bool,
    /// Scratchpad buffers asked for (HCSPARAMS2).
    pub scratchpads: u32,
    config: u32,
    dcbaap: u64,
    command: RingCursor,
    erst_size: u32,
    erst_base: u64,
    erdp: u64,
    event_enqueue: u64,
    event_cycle: u32,
    slots: Vec<Slot>,
    reports: VecDeque<[u8; 8]>,
    /// The next interrupt transfer completes with this code instead of a report.
    pub fail_next_report: Option<u32>,
    /// Events dropped because the event ring was full.
    pub events_dropped: usize,
    /// Commands completed, by TRB type.
    pub commands_seen: Vec<u32>,
}

/// The controller; its register window is the [`Mmio`] implementation.
#[derive(Clone)]
pub struct XhciModel {
    state: Rc<RefCell<XhciState>>,
}

impl XhciModel {
    /// A controller with `ports` root ports (devices on them), using `memory` for DMA.
    pub fn new(memory: HostMemory, ports: Vec<Option<UsbDevice>>) -> Self {
        let count = ports.len();
        Self {
            state: Rc::new(RefCell::new(XhciState {
                memory,
                ports,
                port_enabled: vec![false; count],
                port_reset_change: vec![false; count],
                running: false,
                never_ready: false,
                big_contexts: false,
                scratchpads: 0,
                config: 0,
                dcbaap: 0,
                command: RingCursor::default(),
                erst_size: 0,
                erst_base: 0,
                erdp: 0,
                event_enqueue: 0,
                event_cycle: 1,
                slots: (0..=MAX_SLOTS).map(|_| Slot::default()).collect(),
                reports: VecDeque::new(),
                fail_next_report: None,
                events_dropped: 0,
                commands_seen: Vec::new(),
            })),
        }
    }

    /// The state, for knobs and checks.
    pub fn state(&self) -> std::cell::RefMut<'_, XhciState> {
        self.state.borrow_mut()
    }

    /// The keyboard sends a boot report; it completes the next queued Normal TRB of a
    /// configured interrupt endpoint (now, or when one is queued).
    pub fn send_report(&self, report: [u8; 8]) {
        let mut state = self.state.borrow_mut();
        state.reports.push_back(report);
        state.deliver_reports();
    }
}

impl XhciState {
    fn context_bytes(&self) -> u64 {
        if self.big_contexts { 64 } else { 32 }
    }

    fn trb(&self, address: u64) -> [u32; 4] {
        let m = &self.memory;
        [
            m.read_u32(address),
            m.read_u32(address + 4),
            m.read_u32(address + 8),
            m.read_u32(address + 12),
        ]
    }

    /// The next TRB the producer handed over on `ring`, following link TRBs.
    fn next_trb(&self, ring: &mut RingCursor) -> Option<(u64, [u32; 4])> {
        for _ in 0..4 {
            let trb = self.trb(ring.dequeue);
            if trb[3] & 1 != ring.cycle {
                return None;
            }
            if (trb[3] >> 10) & 0x3F == 6 {
                if trb[3] & 2 != 0 {
                    ring.cycle ^= 1;
                }
                ring.dequeue = u64::from(trb[0]) | u64::from(trb[1]) << 32;
                continue;
            }
            let address = ring.dequeue;
            ring.dequeue += 16;
            return Some((address, trb));
        }
        None
    }

    fn post_event(&mut self, trb: [u32; 4]) {
        if self.erst_size == 0 {
            self.events_dropped += 1;
            return;
        }
        let base = self.memory.read_u64(self.erst_base);
        let slots = u64::from(self.memory.read_u32(self.erst_base + 8));
        let next = if self.event_enqueue + 1 == slots { 0 } else { self.event_enqueue + 1 };
        if base + next * 16 == self.erdp & !0xF {
            self.events_dropped += 1;
            return;
        }
        let at = base + self.event_enqueue * 16;
        self.memory.write_u32(at, trb[0]);
        self.memory.write_u32(at + 4, trb[1]);
        self.memory.write_u32(at + 8, trb[2]);
        self.memory.write_u32(at + 12, (trb[3] & !1) | self.event_cycle);
        self.event_enqueue = next;
        if next == 0 {
            self.event_cycle ^= 1;
        }
    }

    fn complete_command(&mut self, address: u64, code: u32, slot: u32) {
        self.post_event([
            address as u32,
            (address >> 32) as u32,
            code << 24,
            33 << 10 | slot << 24,
        ]);
    }

    fn transfer_event(&mut self, address: u64, code: u32, residual: u32, slot: u32, endpoint: u32) {
        self.post_event([
            address as u32,
            (address >> 32) as u32,
            code << 24 | residual,
            32 << 10 | endpoint << 16 | slot << 24,
        ]);
    }

    fn run_commands(&mut self) {
        let mut ring = self.command;
        while let Some((address, trb)) = self.next_trb(&mut ring) {
            let kind = (trb[3] >> 10) & 0x3F;
            self.commands_seen.push(kind);
            let slot = trb[3] >> 24;
            let input = u64::from(trb[0]) | u64::from(trb[1]) << 32;
            match kind {
                9 => match (1..=MAX_SLOTS.min(self.config)).find(|&s| {
                    self.slots[s as usize].port.is_none() && self.slots[s as usize].ep0.dequeue == 0
                }) {
                    Some(free) => {
                        self.slots[free as usize].ep0.cycle = 1;
                        self.complete_command(address, SUCCESS, free);
                    }
                    None => self.complete_command(address, 9, 0),
                },
                11 => {
                    let code = self.address_device(slot, input);
                    self.complete_command(address, code, slot);
                }
                12 => {
                    let code = self.configure_endpoint(slot, input);
                    self.complete_command(address, code, slot);
                }
                _ => self.complete_command(address, TRB_ERROR, slot),
            }
        }
        self.command = ring;
    }

    fn address_device(&mut self, slot: u32, input: u64) -> u32 {
        let size = self.context_bytes();
        let add = self.memory.read_u32(input + 4);
        let port = ((self.memory.read_u32(input + size + 4) >> 16) & 0xFF) as usize;
        let ep0 = self.memory.read_u64(input + 2 * size + 8);
        let output = self.memory.read_u64(self.dcbaap + u64::from(slot) * 8);
        let valid = add & 0b11 == 0b11
            && (1..=self.ports.len()).contains(&port)
            && self.ports[port - 1].is_some()
            && self.port_enabled[port - 1]
            && output != 0
            && ep0 & !0xF != 0;
        let Some(entry) = self.slots.get_mut(slot as usize).filter(|_| valid) else {
            return TRB_ERROR;
        };
        entry.port = Some(port - 1);
        entry.ep0 = RingCursor { dequeue: ep0 & !0xF, cycle: (ep0 & 1) as u32 };
        SUCCESS
    }

    fn configure_endpoint(&mut self, slot: u32, input: u64) -> u32 {
        let size = self.context_bytes();
        let add = self.memory.read_u32(input + 4);
        let Some(endpoint) = (2..32).find(|dci| add & (1 << dci) != 0) else { return TRB_ERROR };
        let context = input + u64::from(endpoint + 1) * size;
        let kind = (self.memory.read_u32(context + 4) >> 3) & 7;
        let dequeue = self.memory.read_u64(context + 8);
        let Some(entry) = self.slots.get_mut(slot as usize).filter(|s| s.port.is_some()) else {
            return TRB_ERROR;
        };
        if kind != 7 || dequeue & !0xF == 0 {
            return TRB_ERROR;
        }
        entry.interrupt =
            Some((endpoint, RingCursor { dequeue: dequeue & !0xF, cycle: (dequeue & 1) as u32 }));
        SUCCESS
    }

    fn run_control(&mut self, slot: u32) {
        let Some(port) = self.slots.get(slot as usize).and_then(|s| s.port) else { return };
        let mut ring = self.slots[slot as usize].ep0;
        while let Some((_, setup)) = self.next_trb(&mut ring) {
            if (setup[3] >> 10) & 0x3F != 2 {
                continue;
            }
            let mut data = None;
            let mut status = None;
            while let Some((address, trb)) = self.next_trb(&mut ring) {
                match (trb[3] >> 10) & 0x3F {
                    3 => {
                        data = Some((u64::from(trb[0]) | u64::from(trb[1]) << 32, trb[2] & 0x1FFFF))
                    }
                    4 => {
                        status = Some(address);
                        break;
                    }
                    _ => {}
                }
            }
            let Some(status) = status else { break };
            let (request_type, request) = (setup[0] as u8, (setup[0] >> 8) as u8);
            let value = (setup[0] >> 16) as u16;
            let length = (setup[1] >> 16) as usize;
            let device = self.ports[port].as_mut().expect("addressed port has a device");
            let code = match (request_type, request) {
                (0x80, 6) if value >> 8 == 2 && !device.stall_descriptor => {
                    if let Some((buffer, buffer_length)) = data {
                        let bytes =
                            device.configuration.len().min(length).min(buffer_length as usize);
                        let descriptor = device.configuration[..bytes].to_vec();
                        self.memory.write(buffer, &descriptor);
                    }
                    SUCCESS
                }
                (0x00, 9) => {
                    device.configured = Some(value as u8);
                    SUCCESS
                }
                (0x21, 0x0B) => {
                    device.protocol = Some(value);
                    SUCCESS
                }
                _ => STALL,
            };
            self.transfer_event(status, code, 0, slot, 1);
        }
        self.slots[slot as usize].ep0 = ring;
    }

    fn deliver_reports(&mut self) {
        for slot in 1..self.slots.len() {
            let Some((endpoint, mut ring)) = self.slots[slot].interrupt else { continue };
            let ready = self.slots[slot]
                .port
                .and_then(|p| self.ports[p].as_ref())
                .is_some_and(|d| d.configured.is_some());
            while ready && !self.reports.is_empty() {
                let Some((address, trb)) = self.next_trb(&mut ring) else { break };
                let report = self.reports.pop_front().expect("checked non-empty");
                if let Some(code) = self.fail_next_report.take() {
                    self.transfer_event(address, code, 8, slot as u32, endpoint);
                    continue;
                }
                let buffer = u64::from(trb[0]) | u64::from(trb[1]) << 32;
                let length = (trb[2] & 0x1FFFF) as usize;
                self.memory.write(buffer, &report[..length.min(8)]);
                self.transfer_event(
                    address,
                    SUCCESS,
                    length.saturating_sub(8) as u32,
                    slot as u32,
                    endpoint,
                );
            }
            self.slots[slot].interrupt = Some((endpoint, ring));
        }
    }

    fn doorbell(&mut self, slot: u32, target: u32) {
        if !self.running {
            return;
        }
        match (slot, target) {
            (0, _) => self.run_commands(),
            (_, 1) => self.run_control(slot),
            _ => self.deliver_reports(),
        }
    }

    fn reset(&mut self) {
        self.running = false;
        self.config = 0;
        self.dcbaap = 0;
        self.command = RingCursor::default();
        (self.erst_size, self.erst_base, self.erdp) = (0, 0, 0);
        (self.event_enqueue, self.event_cycle) = (0, 1);
        self.slots = (0..=MAX_SLOTS).map(|_| Slot::default()).collect();
        self.port_enabled.fill(false);
    }

    fn read(&self, offset: usize) -> u32 {
        match offset {
            0 => 0x0100_0000 | OPERATIONAL as u32,
            0x04 => (self.ports.len() as u32) << 24 | 1 << 8 | MAX_SLOTS,
            0x08 => (self.scratchpads & 0x1F) << 27 | (self.scratchpads >> 5) << 21,
            0x10 => u32::from(self.big_contexts) << 2,
            0x14 => DOORBELLS as u32,
            0x18 => RUNTIME as u32,
            o if o == OPERATIONAL => u32::from(self.running),
            o if o == OPERATIONAL + 4 => {
                u32::from(!self.running) | u32::from(self.never_ready) << 11
            }
            o if o == OPERATIONAL + 0x38 => self.config,
            o if (OPERATIONAL + 0x400..OPERATIONAL + 0x400 + 0x10 * self.ports.len())
                .contains(&o)
                && (o - OPERATIONAL).is_multiple_of(0x10) =>
            {
                let port = (o - OPERATIONAL - 0x400) / 0x10;
                let Some(device) = &self.ports[port] else { return 1 << 9 };
                1 | u32::from(self.port_enabled[port]) << 1
                    | 1 << 9
                    | device.speed << 10
                    | u32::from(self.port_reset_change[port]) << 21
            }
            _ => 0,
        }
    }

    fn write(&mut self, offset: usize, value: u32) {
        let low = |old: u64| (old & !0xFFFF_FFFF) | u64::from(value);
        let high = |old: u64| (old & 0xFFFF_FFFF) | u64::from(value) << 32;
        match offset {
            o if o == OPERATIONAL => {
                if value & 2 != 0 {
                    self.reset();
                } else {
                    self.running = value & 1 != 0 && !self.never_ready;
                }
            }
            o if o == OPERATIONAL + 0x18 => {
                self.command = RingCursor { dequeue: u64::from(value & !0x3F), cycle: value & 1 }
            }
            o if o == OPERATIONAL + 0x1C => self.command.dequeue = high(self.command.dequeue),
            o if o == OPERATIONAL + 0x30 => self.dcbaap = low(self.dcbaap),
            o if o == OPERATIONAL + 0x34 => self.dcbaap = high(self.dcbaap),
            o if o == OPERATIONAL + 0x38 => self.config = value & 0xFF,
            o if (OPERATIONAL + 0x400..OPERATIONAL + 0x400 + 0x10 * self.ports.len())
                .contains(&o)
                && (o - OPERATIONAL).is_multiple_of(0x10) =>
            {
                let port = (o - OPERATIONAL - 0x400) / 0x10;
                if value & (1 << 21) != 0 {
                    self.port_reset_change[port] = false;
                }
                if value & 2 != 0 {
                    self.port_enabled[port] = false;
                }
                if value & (1 << 4) != 0 && self.ports[port].is_some() {
                    self.port_enabled[port] = true;
                    self.port_reset_change[port] = true;
                }
            }
            o if o == RUNTIME + 0x28 => self.erst_size = value & 0xFFFF,
            o if o == RUNTIME + 0x30 => self.erst_base = low(self.erst_base),
            o if o == RUNTIME + 0x34 => self.erst_base = high(self.erst_base),
            o if o == RUNTIME + 0x38 => self.erdp = low(self.erdp),
            o if o == RUNTIME + 0x3C => self.erdp = high(self.erdp),
            o if (DOORBELLS..DOORBELLS + 4 * (MAX_SLOTS as usize + 1)).contains(&o) => {
                self.doorbell(((o - DOORBELLS) / 4) as u32, value & 0xFF)
            }
            _ => {}
        }
    }
}

impl Mmio for XhciModel {
    fn len(&self) -> usize {
        WINDOW
    }
    fn read_u8(&self, offset: usize) -> u8 {
        (self.state.borrow().read(offset & !3) >> (8 * (offset & 3))) as u8
    }
    fn read_u16(&self, offset: usize) -> u16 {
        (self.state.borrow().read(offset & !3) >> (8 * (offset & 2))) as u16
    }
    fn read_u32(&self, offset: usize) -> u32 {
        self.state.borrow().read(offset)
    }
    fn write_u8(&self, offset: usize, value: u8) {
        self.state.borrow_mut().write(offset, u32::from(value));
    }
    fn write_u16(&self, offset: usize, value: u16) {
        self.state.borrow_mut().write(offset, u32::from(value));
    }
    fn write_u32(&self, offset: usize, value: u32) {
        self.state.borrow_mut().write(offset, value);
    }
}
