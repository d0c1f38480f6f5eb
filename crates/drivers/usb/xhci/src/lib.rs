//! xHCI USB host controller (xHCI 1.2), polled, for HID boot keyboards.
//!
//! [`start`] resets the controller, gives it the device-context array (with scratchpad
//! buffers when it asks for them), a command ring and one event ring, and runs it.
//! Then every root port with a device connected is reset and the device is
//! enumerated: Enable Slot, Address Device (slot and control-endpoint contexts), the
//! configuration descriptor read over the control endpoint, and if it has a HID boot
//! keyboard interface (class 3, subclass 1, protocol 1) with an interrupt IN endpoint:
//! Set Configuration, Set Protocol (boot), Configure Endpoint, and one 8-byte transfer
//! queued on the interrupt endpoint. [`Keyboard::read_byte`] polls the event ring,
//! turns each report into bytes with `ingot-usb-hid` (which also repeats held keys)
//! and queues the next transfer. Hubs are not supported; the first keyboard found per
//! controller is used. Every wait has a deadline; a controller or device that does not
//! answer is an error naming the step.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

mod ring;
#[cfg(test)]
mod tests;

use ingot_hal::{Clock, Deadline, DmaAllocator, DmaBuffer, Mmio};
use ingot_usb_hid::BootKeyboard;
use ring::{EventRing, ProducerRing, TYPE_SHIFT};

/// Why the controller or its keyboard could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XhciError {
    /// The controller did not finish a reset, halt or start in time.
    NotReady,
    /// Out of DMA memory.
    NoMemory,
    /// A command or transfer did not complete in time (the step).
    Timeout(&'static str),
    /// A command or transfer completed with this completion code (the step).
    Failed(&'static str, u8),
    /// No port has a HID boot keyboard.
    NoKeyboard,
}

const USBCMD: usize = 0x00;
const USBSTS: usize = 0x04;
const CRCR: usize = 0x18;
const DCBAAP: usize = 0x30;
const CONFIG: usize = 0x38;
const PORTSC: usize = 0x400;
const CMD_RUN: u32 = 1 << 0;
const CMD_RESET: u32 = 1 << 1;
const STS_HALTED: u32 = 1 << 0;
const STS_NOT_READY: u32 = 1 << 11;
const PORT_CONNECTED: u32 = 1 << 0;
const PORT_ENABLED: u32 = 1 << 1;
const PORT_RESET: u32 = 1 << 4;
const PORT_RESET_CHANGE: u32 = 1 << 21;
/// Port status bits that a write of 1 clears (and PED, which a 1 disables).
const PORT_WRITE_ONE_BITS: u32 = PORT_ENABLED | 0x00FE_0000;

const TRB_NORMAL: u32 = 1;
const TRB_SETUP: u32 = 2;
const TRB_DATA: u32 = 3;
const TRB_STATUS: u32 = 4;
const TRB_ENABLE_SLOT: u32 = 9;
const TRB_ADDRESS_DEVICE: u32 = 11;
const TRB_CONFIGURE_ENDPOINT: u32 = 12;
const EVENT_TRANSFER: u32 = 32;
const EVENT_COMMAND: u32 = 33;
const IOC: u32 = 1 << 5;
const IDT: u32 = 1 << 6;
const ISP: u32 = 1 << 2;
const SUCCESS: u8 = 1;
const SHORT_PACKET: u8 = 13;

const COMMAND_SLOTS: usize = 32;
const EVENT_SLOTS: usize = 64;
const TRANSFER_SLOTS: usize = 16;
const STEP_MS: u64 = 500;
const MOST_SLOTS: u32 = 16;
/// Bytes read of the configuration descriptor (a keyboard's fits easily).
const CONFIG_BYTES: usize = 256;

/// A running controller's registers and rings.
struct Controller<M: Mmio, B: DmaBuffer, C: Clock> {
    registers: M,
    operational: usize,
    runtime: usize,
    doorbells: usize,
    context_bytes: usize,
    dcbaa: B,
    commands: ProducerRing<B>,
    events: EventRing<B>,
    clock: C,
}

/// A HID boot keyboard behind an xHCI controller.
pub struct Keyboard<M: Mmio, B: DmaBuffer, C: Clock> {
    controller: Controller<M, B, C>,
    slot: u32,
    endpoint: u32,
    ring: ProducerRing<B>,
    report: B,
    decoder: BootKeyboard,
    pending: [u8; 32],
    pending_len: usize,
    pending_at: usize,
    /// The completion code that ended the keyboard, if one did.
    failed: Option<u8>,
    /// Kept alive for the controller: device context, control ring.
    _device: (B, ProducerRing<B>),
}

fn allocate<D: DmaAllocator>(dma: &mut D, bytes: usize) -> Result<D::Buffer, XhciError> {
    dma.allocate(bytes).map_err(|_| XhciError::NoMemory)
}

/// Starts the controller at `registers` and returns its first HID boot keyboard.
pub fn start<M: Mmio, D: DmaAllocator, C: Clock>(
    registers: M,
    dma: &mut D,
    clock: C,
) -> Result<Keyboard<M, D::Buffer, C>, XhciError> {
    let mut controller = Controller::reset_and_run(registers, dma, clock)?;
    let ports = (controller.registers.read_u32(0x04) >> 24) as usize;
    for port in 0..ports {
        if controller.port_status(port) & PORT_CONNECTED == 0 {
            continue;
        }
        if let Some(speed) = controller.reset_port(port) {
            match enumerate(controller, dma, port, speed) {
                Ok(keyboard) => return Ok(keyboard),
                Err((given_back, XhciError::NoKeyboard)) => controller = given_back,
                Err((_, error)) => return Err(error),
            }
        }
    }
    Err(XhciError::NoKeyboard)
}

impl<M: Mmio, B: DmaBuffer, C: Clock> Controller<M, B, C> {
    fn reset_and_run<D: DmaAllocator<Buffer = B>>(
        registers: M,
        dma: &mut D,
        clock: C,
    ) -> Result<Self, XhciError> {
        let operational = usize::from(registers.read_u8(0));
        let max_slots = (registers.read_u32(0x04) & 0xFF).min(MOST_SLOTS);
        let params2 = registers.read_u32(0x08);
        let scratchpads = (((params2 >> 21) & 0x1F) << 5 | (params2 >> 27)) as usize;
        let context_bytes = if registers.read_u32(0x10) & (1 << 2) != 0 { 64 } else { 32 };
        let doorbells = (registers.read_u32(0x14) & !0x3) as usize;
        let runtime = (registers.read_u32(0x18) & !0x1F) as usize;
        let wait = |what: &dyn Fn() -> bool| {
            Deadline::after_ms(&clock, STEP_MS)
                .wait(&clock, || what().then_some(()))
                .map_err(|_| XhciError::NotReady)
        };
        let status = |registers: &M| registers.read_u32(operational + USBSTS);
        wait(&|| status(&registers) & STS_NOT_READY == 0)?;
        let command = registers.read_u32(operational + USBCMD);
        registers.write_u32(operational + USBCMD, command & !CMD_RUN);
        wait(&|| status(&registers) & STS_HALTED != 0)?;
        registers.write_u32(operational + USBCMD, CMD_RESET);
        wait(&|| registers.read_u32(operational + USBCMD) & CMD_RESET == 0)?;
        wait(&|| status(&registers) & STS_NOT_READY == 0)?;

        registers.write_u32(operational + CONFIG, max_slots);
        let dcbaa = allocate(dma, (max_slots as usize + 1) * 8)?;
        if scratchpads > 0 {
            let array = allocate(dma, scratchpads * 8)?;
            for index in 0..scratchpads {
                let page = allocate(dma, 4096)?;
                array.write_u64(index * 8, page.physical());
                core::mem::forget(page);
            }
            dcbaa.write_u64(0, array.physical());
            core::mem::forget(array);
        }
        registers.write_u64(operational + DCBAAP, dcbaa.physical());
        let commands = ProducerRing::new(allocate(dma, COMMAND_SLOTS * 16)?, COMMAND_SLOTS);
        registers.write_u64(operational + CRCR, commands.physical() | u64::from(commands.cycle()));
        let events =
            EventRing::new(allocate(dma, EVENT_SLOTS * 16)?, allocate(dma, 64)?, EVENT_SLOTS);
        let interrupter = runtime + 0x20;
        registers.write_u32(interrupter + 0x08, 1);
        registers.write_u64(interrupter + 0x18, events.dequeue_physical());
        registers.write_u64(interrupter + 0x10, events.table_physical());
        registers.write_u32(operational + USBCMD, CMD_RUN);
        wait(&|| status(&registers) & STS_HALTED == 0)?;
        Ok(Self {
            registers,
            operational,
            runtime,
            doorbells,
            context_bytes,
            dcbaa,
            commands,
            events,
            clock,
        })
    }

    fn port_status(&self, port: usize) -> u32 {
        self.registers.read_u32(self.operational + PORTSC + 0x10 * port)
    }

    /// Resets root port `port`; returns its speed (PORTSC bits 10–13) once enabled.
    fn reset_port(&mut self, port: usize) -> Option<u32> {
        let at = self.operational + PORTSC + 0x10 * port;
        let status = self.registers.read_u32(at);
        self.registers.write_u32(at, (status & !PORT_WRITE_ONE_BITS) | PORT_RESET);
        let clock = &self.clock;
        let registers = &self.registers;
        let enabled = Deadline::after_ms(clock, STEP_MS).wait(clock, || {
            let status = registers.read_u32(at);
            (status & PORT_RESET == 0 && status & PORT_ENABLED != 0).then_some(status)
        });
        let status = enabled.ok()?;
        self.registers.write_u32(at, (status & !PORT_WRITE_ONE_BITS) | PORT_RESET_CHANGE);
        Some((status >> 10) & 0xF)
    }

    fn ring_doorbell(&self, slot: u32, target: u32) {
        self.registers.write_u32(self.doorbells + 4 * slot as usize, target);
    }

    fn acknowledge_events(&self) {
        // ERDP with the Event Handler Busy bit written 1 to clear it.
        let erdp = self.events.dequeue_physical() | (1 << 3);
        self.registers.write_u64(self.runtime + 0x20 + 0x18, erdp);
    }

    /// Waits for the event of `kind` that `matches`; other events are dropped.
    fn wait_event(
        &mut self,
        step: &'static str,
        kind: u32,
        matches: impl Fn(&[u32; 4]) -> bool,
    ) -> Result<[u32; 4], XhciError> {
        let deadline = Deadline::after_ms(&self.clock, STEP_MS);
        loop {
            let expired = deadline.expired(&self.clock);
            while let Some(event) = self.events.pop() {
                self.acknowledge_events();
                if (event[3] >> TYPE_SHIFT) & 0x3F == kind && matches(&event) {
                    let code = (event[2] >> 24) as u8;
                    return match code {
                        SUCCESS | SHORT_PACKET => Ok(event),
                        _ => Err(XhciError::Failed(step, code)),
                    };
                }
            }
            if expired {
                return Err(XhciError::Timeout(step));
            }
        }
    }

    /// Runs a command; returns its completion event.
    fn command(&mut self, step: &'static str, trb: [u32; 4]) -> Result<[u32; 4], XhciError> {
        let address = self.commands.push(trb);
        self.ring_doorbell(0, 0);
        self.wait_event(step, EVENT_COMMAND, |event| {
            u64::from(event[0]) | u64::from(event[1]) << 32 == address
        })
    }
}

/// A setup packet's eight bytes as the two dwords of a Setup TRB.
fn setup_words(request_type: u8, request: u8, value: u16, index: u16, length: u16) -> [u32; 2] {
    [
        u32::from(request_type) | u32::from(request) << 8 | u32::from(value) << 16,
        u32::from(index) | u32::from(length) << 16,
    ]
}

/// Runs a control transfer on EP0 of `slot`; `data` is an IN buffer of `length` bytes.
fn control<M: Mmio, B: DmaBuffer, C: Clock>(
    controller: &mut Controller<M, B, C>,
    ring: &mut ProducerRing<B>,
    slot: u32,
    step: &'static str,
    setup: [u32; 2],
    data: Option<(&B, u16)>,
) -> Result<(), XhciError> {
    let transfer_type = if data.is_some() { 3 } else { 0 };
    ring.push([setup[0], setup[1], 8, TRB_SETUP << TYPE_SHIFT | IDT | transfer_type << 16]);
    if let Some((buffer, length)) = data {
        let physical = buffer.physical();
        ring.push([
            physical as u32,
            (physical >> 32) as u32,
            u32::from(length),
            TRB_DATA << TYPE_SHIFT | 1 << 16,
        ]);
    }
    // The status stage goes the other way: OUT after IN data, IN without data.
    let status_in = if data.is_some() { 0 } else { 1 << 16 };
    let status = ring.push([0, 0, 0, TRB_STATUS << TYPE_SHIFT | IOC | status_in]);
    controller.ring_doorbell(slot, 1);
    controller
        .wait_event(step, EVENT_TRANSFER, |event| {
            u64::from(event[0]) | u64::from(event[1]) << 32 == status
        })
        .map(|_| ())
}

/// What the configuration descriptor says about a boot keyboard.
struct KeyboardInterface {
    configuration: u8,
    interface: u8,
    endpoint: u8,
    max_packet: u16,
    interval: u8,
}

fn find_keyboard(descriptor: &[u8]) -> Option<KeyboardInterface> {
    let configuration = *descriptor.get(5)?;
    let total = usize::from(u16::from_le_bytes([*descriptor.get(2)?, *descriptor.get(3)?]));
    let descriptor = &descriptor[..total.min(descriptor.len())];
    let mut at = 0;
    let mut keyboard_interface = None;
    while at + 2 <= descriptor.len() {
        let length = usize::from(descriptor[at]);
        if length < 2 || at + length > descriptor.len() {
            return None;
        }
        let item = &descriptor[at..at + length];
        match item[1] {
            4 if length >= 9 => {
                keyboard_interface =
                    (item[5] == 3 && item[6] == 1 && item[7] == 1).then_some(item[2]);
            }
            5 if length >= 7 => {
                if let Some(interface) = keyboard_interface
                    && item[2] & 0x80 != 0
                    && item[3] & 0x3 == 3
                {
                    return Some(KeyboardInterface {
                        configuration,
                        interface,
                        endpoint: item[2] & 0xF,
                        max_packet: u16::from_le_bytes([item[4], item[5]]) & 0x7FF,
                        interval: item[6],
                    });
                }
            }
            _ => {}
        }
        at += length;
    }
    None
}

/// Enumerates the device on `port`; gives the controller back if it is no keyboard.
#[allow(clippy::type_complexity)]
fn enumerate<M: Mmio, D: DmaAllocator, C: Clock>(
    mut controller: Controller<M, D::Buffer, C>,
    dma: &mut D,
    port: usize,
    speed: u32,
) -> Result<Keyboard<M, D::Buffer, C>, (Controller<M, D::Buffer, C>, XhciError)> {
    macro_rules! attempt {
        ($result:expr) => {
            match $result {
                Ok(value) => value,
                Err(error) => return Err((controller, error)),
            }
        };
    }
    let event =
        attempt!(controller.command("enable slot", [0, 0, 0, TRB_ENABLE_SLOT << TYPE_SHIFT]));
    let slot = event[3] >> 24;
    let size = controller.context_bytes;
    let device = attempt!(allocate(dma, 32 * size));
    let input = attempt!(allocate(dma, 33 * size));
    let mut control_ring =
        ProducerRing::new(attempt!(allocate(dma, TRANSFER_SLOTS * 16)), TRANSFER_SLOTS);
    controller.dcbaa.write_u64(slot as usize * 8, device.physical());
    // Input control context: add the slot and EP0 contexts.
    input.write_u32(4, 0b11);
    input.write_u32(size, speed << 20 | 1 << 27);
    input.write_u32(size + 4, (port as u32 + 1) << 16);
    let max_packet: u32 = match speed {
        3 => 64,
        4 => 512,
        _ => 8,
    };
    let ep0 = 2 * size;
    input.write_u32(ep0 + 4, 3 << 1 | 4 << 3 | max_packet << 16);
    input.write_u64(ep0 + 8, control_ring.physical() | 1);
    input.write_u32(ep0 + 16, 8);
    let physical = input.physical();
    attempt!(controller.command(
        "address device",
        [
            physical as u32,
            (physical >> 32) as u32,
            0,
            TRB_ADDRESS_DEVICE << TYPE_SHIFT | slot << 24
        ],
    ));
    let descriptor = attempt!(allocate(dma, CONFIG_BYTES));
    attempt!(control(
        &mut controller,
        &mut control_ring,
        slot,
        "get configuration descriptor",
        setup_words(0x80, 6, 0x0200, 0, CONFIG_BYTES as u16),
        Some((&descriptor, CONFIG_BYTES as u16)),
    ));
    let mut bytes = [0u8; CONFIG_BYTES];
    descriptor.read_bytes(0, &mut bytes);
    let Some(keyboard) = find_keyboard(&bytes) else {
        return Err((controller, XhciError::NoKeyboard));
    };
    attempt!(control(
        &mut controller,
        &mut control_ring,
        slot,
        "set configuration",
        setup_words(0x00, 9, u16::from(keyboard.configuration), 0, 0),
        None,
    ));
    attempt!(control(
        &mut controller,
        &mut control_ring,
        slot,
        "set boot protocol",
        setup_words(0x21, 0x0B, 0, u16::from(keyboard.interface), 0),
        None,
    ));
    // Endpoint context of the interrupt IN endpoint (device context index 2n + 1).
    let endpoint = 2 * u32::from(keyboard.endpoint) + 1;
    let ring = ProducerRing::new(attempt!(allocate(dma, TRANSFER_SLOTS * 16)), TRANSFER_SLOTS);
    for offset in (0..33 * size).step_by(4) {
        input.write_u32(offset, 0);
    }
    input.write_u32(4, 1 | 1 << endpoint);
    input.write_u32(size, speed << 20 | endpoint << 27);
    input.write_u32(size + 4, (port as u32 + 1) << 16);
    // Interval in 125 µs units as a power of two: frames (1 ms) for low and full
    // speed, already an exponent + 1 for high speed.
    let interval = match speed {
        3 | 4 => u32::from(keyboard.interval.clamp(1, 16)) - 1,
        _ => (u32::from(keyboard.interval.max(1)) * 8).ilog2().clamp(3, 10),
    };
    let context = (endpoint as usize + 1) * size;
    input.write_u32(context, interval << 16);
    input.write_u32(context + 4, 3 << 1 | 7 << 3 | u32::from(keyboard.max_packet) << 16);
    input.write_u64(context + 8, ring.physical() | 1);
    input.write_u32(context + 16, 8 | u32::from(keyboard.max_packet) << 16);
    attempt!(controller.command(
        "configure endpoint",
        [
            physical as u32,
            (physical >> 32) as u32,
            0,
            TRB_CONFIGURE_ENDPOINT << TYPE_SHIFT | slot << 24
        ],
    ));
    let report = attempt!(allocate(dma, 64));
    let mut keyboard = Keyboard {
        controller,
        slot,
        endpoint,
        ring,
        report,
        decoder: BootKeyboard::new(),
        pending: [0; 32],
        pending_len: 0,
        pending_at: 0,
        failed: None,
        _device: (device, control_ring),
    };
    keyboard.queue_transfer();
    Ok(keyboard)
}

impl<M: Mmio, B: DmaBuffer, C: Clock> Keyboard<M, B, C> {
    /// The completion code of the transfer error that ended this keyboard, if any.
    pub fn failed(&self) -> Option<u8> {
        self.failed
    }

    fn queue_transfer(&mut self) {
        let physical = self.report.physical();
        self.ring.push([
            physical as u32,
            (physical >> 32) as u32,
            8,
            TRB_NORMAL << TYPE_SHIFT | IOC | ISP,
        ]);
        self.controller.ring_doorbell(self.slot, self.endpoint);
    }

    /// The next byte typed, if any: left-over bytes of earlier reports, new reports
    /// (each re-arming the transfer), then a due key repeat.
    pub fn read_byte(&mut self) -> Option<u8> {
        if self.failed.is_some() {
            return None;
        }
        loop {
            if self.pending_at < self.pending_len {
                self.pending_at += 1;
                return Some(self.pending[self.pending_at - 1]);
            }
            let now = self.controller.clock.now_ns();
            let Some(event) = self.controller.events.pop() else {
                let repeat = self.decoder.repeat(now)?;
                let bytes = repeat.as_slice();
                self.pending[..bytes.len()].copy_from_slice(bytes);
                (self.pending_len, self.pending_at) = (bytes.len(), 0);
                continue;
            };
            self.controller.acknowledge_events();
            let kind = (event[3] >> TYPE_SHIFT) & 0x3F;
            let for_us = event[3] >> 24 == self.slot && (event[3] >> 16) & 0x1F == self.endpoint;
            if kind != EVENT_TRANSFER || !for_us {
                continue;
            }
            let code = (event[2] >> 24) as u8;
            if code != SUCCESS && code != SHORT_PACKET {
                // The endpoint halts on an error (a stall, a babbling device): the
                // keyboard is given up rather than re-armed into the same error.
                self.failed = Some(code);
                self.decoder = BootKeyboard::new();
                return None;
            }
            let mut report = [0u8; 8];
            self.report.read_bytes(0, &mut report);
            let presses = self.decoder.report(&report, now);
            self.pending_len = presses.write_to(&mut self.pending);
            self.pending_at = 0;
            self.queue_transfer();
        }
    }
}
