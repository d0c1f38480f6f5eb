//! Driver for the 16550 UART, the PC's COM ports, used as Ingot's first console.
//!
//! Polled transmit only: the kernel writes its log and the program's output here.
//! Written against [`ingot_hal::PortIo`] so it is tested on the host against a small
//! register model (see the tests at the end).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

use ingot_hal::PortIo;

/// I/O base of COM1.
pub const COM1: u16 = 0x3F8;

const DATA: u16 = 0;
const INTERRUPT_ENABLE: u16 = 1;
const DIVISOR_LOW: u16 = 0;
const DIVISOR_HIGH: u16 = 1;
const FIFO_CONTROL: u16 = 2;
const LINE_CONTROL: u16 = 3;
const MODEM_CONTROL: u16 = 4;
const LINE_STATUS: u16 = 5;
const SCRATCH: u16 = 7;

const LINE_CONTROL_DLAB: u8 = 0x80;
const LINE_CONTROL_8N1: u8 = 0x03;
const FIFO_ENABLE_CLEAR_14: u8 = 0xC7;
const MODEM_DTR_RTS_OUT2: u8 = 0x0B;
const LINE_STATUS_THR_EMPTY: u8 = 0x20;
const LINE_STATUS_DATA_READY: u8 = 0x01;

/// Bounded wait for the transmitter so a stuck or absent UART cannot hang the kernel.
const TRANSMIT_SPINS: u32 = 100_000;

/// A 16550-compatible UART at an I/O base.
pub struct Uart16550<P: PortIo> {
    ports: P,
    base: u16,
    present: bool,
}

impl<P: PortIo> Uart16550<P> {
    /// Probes and programs the UART for 115200 baud, 8N1, FIFOs on, interrupts off.
    ///
    /// A UART that does not keep a value written to its scratch register is treated as
    /// absent: writes are then dropped instead of spinning on a status bit that never sets.
    pub fn new(mut ports: P, base: u16) -> Self {
        ports.write_u8(base + SCRATCH, 0x5A);
        let present = ports.read_u8(base + SCRATCH) == 0x5A;
        if present {
            ports.write_u8(base + INTERRUPT_ENABLE, 0x00);
            ports.write_u8(base + LINE_CONTROL, LINE_CONTROL_DLAB);
            ports.write_u8(base + DIVISOR_LOW, 1);
            ports.write_u8(base + DIVISOR_HIGH, 0);
            ports.write_u8(base + LINE_CONTROL, LINE_CONTROL_8N1);
            ports.write_u8(base + FIFO_CONTROL, FIFO_ENABLE_CLEAR_14);
            ports.write_u8(base + MODEM_CONTROL, MODEM_DTR_RTS_OUT2);
        }
        Self { ports, base, present }
    }

    /// Gives back the port access this driver was made with.
    pub fn into_ports(self) -> P {
        self.ports
    }

    /// Whether the probe found a UART.
    pub fn is_present(&self) -> bool {
        self.present
    }

    /// Sends one byte, waiting (bounded) for room in the transmitter.
    pub fn write_byte(&mut self, byte: u8) {
        if !self.present {
            return;
        }
        for _ in 0..TRANSMIT_SPINS {
            if self.ports.read_u8(self.base + LINE_STATUS) & LINE_STATUS_THR_EMPTY != 0 {
                break;
            }
        }
        self.ports.write_u8(self.base + DATA, byte);
    }

    /// Sends bytes, turning `\n` into `\r\n` as terminals expect.
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            if byte == b'\n' {
                self.write_byte(b'\r');
            }
            self.write_byte(byte);
        }
    }

    /// Lets the UART raise its interrupt when a received byte waits (IER bit 0; the
    /// modem control's OUT2, set at start, gates it onto the PC's IRQ line).
    pub fn enable_receive_interrupt(&mut self) {
        self.ports.write_u8(self.base + INTERRUPT_ENABLE, 0x01);
    }

    /// Returns a received byte, if one is waiting.
    pub fn read_byte(&mut self) -> Option<u8> {
        if !self.present {
            return None;
        }
        let status = self.ports.read_u8(self.base + LINE_STATUS);
        (status & LINE_STATUS_DATA_READY != 0).then(|| self.ports.read_u8(self.base + DATA))
    }
}

impl<P: PortIo> core::fmt::Write for Uart16550<P> {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        self.write_bytes(text.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Register model of a 16550: scratch register, DLAB-switched divisor, a
    /// transmitter that is busy for `busy_reads` status reads after each byte.
    #[derive(Default)]
    struct UartModel {
        scratch: u8,
        line_control: u8,
        divisor: u16,
        sent: Vec<u8>,
        busy_reads: u32,
        busy_left: u32,
        receive: Vec<u8>,
        absent: bool,
        interrupt_enable: u8,
        modem_control: u8,
    }

    impl UartModel {
        /// The receive interrupt is asserted on the PC's IRQ line: data waiting, its
        /// enable bit set, and OUT2 gating the line on.
        fn irq_asserted(&self) -> bool {
            !self.receive.is_empty()
                && self.interrupt_enable & 1 != 0
                && self.modem_control & (1 << 3) != 0
        }
    }

    impl PortIo for &mut UartModel {
        fn read_u8(&mut self, port: u16) -> u8 {
            if self.absent {
                return 0xFF;
            }
            match port - COM1 {
                SCRATCH => self.scratch,
                LINE_STATUS => {
                    let ready = if self.receive.is_empty() { 0 } else { 1 };
                    if self.busy_left > 0 {
                        self.busy_left -= 1;
                        ready
                    } else {
                        LINE_STATUS_THR_EMPTY | ready
                    }
                }
                DATA => self.receive.remove(0),
                _ => 0,
            }
        }

        fn write_u8(&mut self, port: u16, value: u8) {
            if self.absent {
                return;
            }
            let dlab = self.line_control & LINE_CONTROL_DLAB != 0;
            match (port - COM1, dlab) {
                (SCRATCH, _) => self.scratch = value,
                (LINE_CONTROL, _) => self.line_control = value,
                (DIVISOR_LOW, true) => self.divisor = (self.divisor & 0xFF00) | u16::from(value),
                (DIVISOR_HIGH, true) => {
                    self.divisor = (self.divisor & 0x00FF) | (u16::from(value) << 8)
                }
                (DATA, false) => {
                    self.sent.push(value);
                    self.busy_left = self.busy_reads;
                }
                (INTERRUPT_ENABLE, false) => self.interrupt_enable = value,
                (MODEM_CONTROL, _) => self.modem_control = value,
                _ => {}
            }
        }
    }

    #[test]
    fn programs_115200_8n1_and_sends_with_crlf() {
        let mut model = UartModel { busy_reads: 3, ..Default::default() };
        let mut uart = Uart16550::new(&mut model, COM1);
        assert!(uart.is_present());
        uart.write_bytes(b"ok\n");
        let model = uart.into_ports();
        assert_eq!(model.divisor, 1);
        assert_eq!(model.line_control, LINE_CONTROL_8N1);
        assert_eq!(model.sent, b"ok\r\n");
    }

    #[test]
    fn absent_uart_drops_output_without_spinning() {
        let mut model = UartModel { absent: true, ..Default::default() };
        let mut uart = Uart16550::new(&mut model, COM1);
        assert!(!uart.is_present());
        uart.write_bytes(b"lost");
        assert_eq!(uart.read_byte(), None);
    }

    #[test]
    fn the_receive_interrupt_asserts_while_bytes_wait_once_enabled() {
        let mut model = UartModel { receive: b"k".to_vec(), ..Default::default() };
        let mut uart = Uart16550::new(&mut model, COM1);
        uart.write_bytes(b"");
        assert!(!uart.ports.irq_asserted(), "off after start: the kernel polls");
        uart.enable_receive_interrupt();
        assert!(uart.ports.irq_asserted());
        assert_eq!(uart.read_byte(), Some(b'k'));
        assert!(!uart.ports.irq_asserted(), "drained: the line drops");
    }

    #[test]
    fn receives_waiting_bytes() {
        let mut model = UartModel { receive: b"hi".to_vec(), ..Default::default() };
        let mut uart = Uart16550::new(&mut model, COM1);
        assert_eq!(uart.read_byte(), Some(b'h'));
        assert_eq!(uart.read_byte(), Some(b'i'));
        assert_eq!(uart.read_byte(), None);
    }
}
