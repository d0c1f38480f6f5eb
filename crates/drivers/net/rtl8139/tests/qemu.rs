//! The driver against QEMU's own RTL8139 (`-device rtl8139`), not our model. The
//! machine's firmware is 64 KiB of `hlt`, so no guest code runs (QEMU passes frames
//! only while the machine runs, so it cannot simply be paused); the qtest protocol on
//! stdio lets this test play the CPU (PCI configuration, register reads and writes,
//! RAM for DMA). The NIC's network side is a Unix datagram socket, one Ethernet frame
//! per datagram, so the test sees every frame the driver sends and can hand it frames
//! to receive; QMP pulls the virtual cable for the link state.
//!
//! Needs `qemu-system-x86_64` (a prerequisite of `cargo xtask test` anyway). QEMU
//! finishes every register access before answering it, so no wait depends on the
//! host's speed beyond a generous per-frame limit.

#![forbid(unsafe_code)]

use std::cell::RefCell;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use ingot_hal::{Clock, DmaAllocator, DmaBuffer, DmaError, Mmio};
use ingot_net::{MacAddress, NetDevice, NetError, Segment, SliceSink};
use ingot_rtl8139::{PhysicalMemory, Rtl8139, start};

const MAC: [u8; 6] = [0x52, 0x54, 0x00, 0xAB, 0xCD, 0xEF];
/// Where the test places BAR1 (inside the pc machine's PCI hole).
const BAR1: u64 = 0xF000_0000;
/// Guest RAM handed out for DMA (above the first 16 MiB).
const DMA_BASE: u64 = 16 << 20;

/// One QEMU under qtest control.
struct Qtest {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl Qtest {
    /// Sends one command; returns what follows `OK` in the answer.
    fn command(&mut self, line: &str) -> String {
        writeln!(self.input, "{line}").expect("qtest command");
        let mut answer = String::new();
        loop {
            answer.clear();
            assert!(self.output.read_line(&mut answer).expect("qtest answer") > 0, "QEMU exited");
            if let Some(rest) = answer.strip_prefix("OK") {
                return rest.trim().to_string();
            }
            assert!(!answer.starts_with("ERR") && !answer.starts_with("FAIL"), "{line}: {answer}");
        }
    }

    fn number(&mut self, line: &str) -> u64 {
        let text = self.command(line);
        u64::from_str_radix(text.trim_start_matches("0x"), 16).expect("hex answer")
    }

    fn read(&mut self, address: u64, out: &mut [u8]) {
        if out.is_empty() {
            return;
        }
        let text = self.command(&format!("read {address:#x} {:#x}", out.len()));
        let hex = text.trim_start_matches("0x");
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex byte");
        }
    }

    fn write(&mut self, address: u64, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let hex: String = data.iter().map(|b| format!("{b:02x}")).collect();
        self.command(&format!("write {address:#x} {:#x} 0x{hex}", data.len()));
    }

    fn config_write(&mut self, device: u8, offset: u8, value: u32) {
        self.command(&format!(
            "outl 0xcf8 {:#x}",
            0x8000_0000u32 | u32::from(device) << 11 | u32::from(offset)
        ));
        self.command(&format!("outl 0xcfc {value:#x}"));
    }

    fn config_read(&mut self, device: u8, offset: u8) -> u32 {
        self.command(&format!(
            "outl 0xcf8 {:#x}",
            0x8000_0000u32 | u32::from(device) << 11 | u32::from(offset)
        ));
        self.number("inl 0xcfc") as u32
    }
}

impl Drop for Qtest {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// QEMU's machine protocol (QMP), for what qtest cannot do: pulling the cable.
struct Monitor(BufReader<UnixStream>);

impl Monitor {
    fn connect(path: &std::path::Path) -> Self {
        let mut monitor = Self(BufReader::new(UnixStream::connect(path).expect("QMP socket")));
        let mut greeting = String::new();
        monitor.0.read_line(&mut greeting).expect("QMP greeting");
        monitor.execute(r#"{"execute":"qmp_capabilities"}"#);
        monitor
    }

    /// Runs one command and waits for its `return` (events in between are skipped).
    fn execute(&mut self, command: &str) {
        writeln!(self.0.get_mut(), "{command}").expect("QMP command");
        let mut answer = String::new();
        while !answer.contains("\"return\"") {
            answer.clear();
            assert!(self.0.read_line(&mut answer).expect("QMP answer") > 0, "QMP closed");
            assert!(!answer.contains("\"error\""), "{command}: {answer}");
        }
    }
}

type Shared = Rc<RefCell<Qtest>>;

struct Registers(Shared);

impl Mmio for Registers {
    fn len(&self) -> usize {
        256
    }
    fn read_u8(&self, offset: usize) -> u8 {
        self.0.borrow_mut().number(&format!("readb {:#x}", BAR1 + offset as u64)) as u8
    }
    fn read_u16(&self, offset: usize) -> u16 {
        self.0.borrow_mut().number(&format!("readw {:#x}", BAR1 + offset as u64)) as u16
    }
    fn read_u32(&self, offset: usize) -> u32 {
        self.0.borrow_mut().number(&format!("readl {:#x}", BAR1 + offset as u64)) as u32
    }
    fn write_u8(&self, offset: usize, value: u8) {
        self.0.borrow_mut().command(&format!("writeb {:#x} {value:#x}", BAR1 + offset as u64));
    }
    fn write_u16(&self, offset: usize, value: u16) {
        self.0.borrow_mut().command(&format!("writew {:#x} {value:#x}", BAR1 + offset as u64));
    }
    fn write_u32(&self, offset: usize, value: u32) {
        self.0.borrow_mut().command(&format!("writel {:#x} {value:#x}", BAR1 + offset as u64));
    }
}

struct GuestRam {
    qemu: Shared,
    next: u64,
}

struct GuestBuffer {
    qemu: Shared,
    physical: u64,
    len: usize,
}

impl DmaAllocator for GuestRam {
    type Buffer = GuestBuffer;
    fn allocate(&mut self, bytes: usize) -> Result<GuestBuffer, DmaError> {
        let len = bytes.next_multiple_of(4096);
        let physical = self.next;
        self.next += len as u64;
        self.qemu.borrow_mut().write(physical, &vec![0; len]);
        Ok(GuestBuffer { qemu: self.qemu.clone(), physical, len })
    }
}

impl DmaBuffer for GuestBuffer {
    fn physical(&self) -> u64 {
        self.physical
    }
    fn len(&self) -> usize {
        self.len
    }
    fn read_bytes(&self, offset: usize, out: &mut [u8]) {
        self.qemu.borrow_mut().read(self.physical + offset as u64, out);
    }
    fn write_bytes(&self, offset: usize, data: &[u8]) {
        self.qemu.borrow_mut().write(self.physical + offset as u64, data);
    }
    fn read_u16(&self, offset: usize) -> u16 {
        let mut b = [0; 2];
        self.read_bytes(offset, &mut b);
        u16::from_le_bytes(b)
    }
    fn read_u32(&self, offset: usize) -> u32 {
        let mut b = [0; 4];
        self.read_bytes(offset, &mut b);
        u32::from_le_bytes(b)
    }
    fn read_u64(&self, offset: usize) -> u64 {
        let mut b = [0; 8];
        self.read_bytes(offset, &mut b);
        u64::from_le_bytes(b)
    }
    fn write_u16(&self, offset: usize, value: u16) {
        self.write_bytes(offset, &value.to_le_bytes());
    }
    fn write_u32(&self, offset: usize, value: u32) {
        self.write_bytes(offset, &value.to_le_bytes());
    }
    fn write_u64(&self, offset: usize, value: u64) {
        self.write_bytes(offset, &value.to_le_bytes());
    }
}

struct CpuView(Shared);

impl PhysicalMemory for CpuView {
    fn read(&self, address: u64, buffer: &mut [u8]) -> bool {
        self.0.borrow_mut().read(address, buffer);
        true
    }
}

struct HostClock(Instant);

impl Clock for HostClock {
    fn now_ns(&self) -> u64 {
        self.0.elapsed().as_nanos() as u64
    }
}

fn frame(destination: [u8; 6], len: usize, seed: u8) -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect();
    bytes[..6].copy_from_slice(&destination);
    bytes[6..12].copy_from_slice(&[0x52, 0x54, 0, 7, 7, seed]);
    bytes
}

type Driver = Rtl8139<Registers, GuestBuffer, HostClock, CpuView>;

/// The next frame the driver receives, waiting up to 10 s for it to arrive.
fn receive_within_10s(nic: &mut Driver) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buffer = vec![0; 2048];
    loop {
        match nic.receive(&mut SliceSink { buffer: &mut buffer }) {
            Ok(len) => {
                buffer.truncate(len);
                return buffer;
            }
            Err(NetError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => panic!("receive failed or nothing came within 10 s: {e}"),
        }
    }
}

#[test]
fn frames_round_trip_through_qemus_rtl8139() {
    let directory = std::env::temp_dir().join(format!("ingot-rtl8139-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&directory);
    std::fs::create_dir_all(&directory).unwrap();
    let (nic_side, test_side): (PathBuf, PathBuf) = (directory.join("nic"), directory.join("test"));
    let wire = UnixDatagram::bind(&test_side).unwrap();
    wire.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mac = MAC.map(|b| format!("{b:02x}")).join(":");
    let firmware = directory.join("halt.bin");
    std::fs::write(&firmware, vec![0xF4; 64 * 1024]).unwrap();
    let mut child = Command::new("qemu-system-x86_64")
        .args(["-machine", "pc", "-display", "none", "-nodefaults"])
        .arg("-bios")
        .arg(&firmware)
        .args(["-qtest", "stdio", "-qtest-log", "/dev/null"])
        .arg("-netdev")
        .arg(format!(
            "dgram,id=n,local.type=unix,local.path={},remote.type=unix,remote.path={}",
            nic_side.display(),
            test_side.display()
        ))
        .args(["-device", &format!("rtl8139,id=nic,netdev=n,mac={mac},addr=3,romfile=")])
        .arg("-qmp")
        .arg(format!("unix:{},server=on,wait=off", directory.join("qmp").display()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("qemu-system-x86_64");
    let (input, output) = (child.stdin.take().unwrap(), child.stdout.take().unwrap());
    let qemu = Rc::new(RefCell::new(Qtest { child, input, output: BufReader::new(output) }));
    {
        let mut q = qemu.borrow_mut();
        assert_eq!(q.config_read(3, 0), 0x8139_10EC);
        q.config_write(3, 0x14, BAR1 as u32);
        q.config_write(3, 0x04, 0b110); // memory space and bus master
    }
    let mut ram = GuestRam { qemu: qemu.clone(), next: DMA_BASE };
    let clock = HostClock(Instant::now());
    let mut nic =
        start(Registers(qemu.clone()), &mut ram, clock, CpuView(qemu.clone())).expect("start");
    assert_eq!(nic.mac(), MacAddress(MAC));
    assert!(nic.link_up());

    // Out: frames of one to four pieces, some shorter than the minimum.
    for n in 0..12usize {
        let bytes = frame([0xFF; 6], 20 + n * 123, n as u8);
        let pieces: Vec<&[u8]> = bytes.chunks(bytes.len().div_ceil(1 + n % 4)).collect();
        let mut segments = Vec::new();
        for piece in pieces {
            let buffer = ram.allocate(piece.len()).unwrap();
            buffer.write_bytes(1, piece);
            segments.push(Segment { physical: buffer.physical() + 1, len: piece.len() });
        }
        nic.transmit(&segments).expect("transmit");
        let mut datagram = vec![0; 2048];
        let len = wire.recv(&mut datagram).expect("frame on the wire");
        assert_eq!(len, bytes.len().max(60), "frame {n}");
        assert_eq!(&datagram[..bytes.len()], &bytes[..], "frame {n}");
    }
    assert_eq!(nic.counters().tx_frames, 12);

    // In: 30 frames of up to 1514 bytes go round the 8 KiB ring several times.
    wire.connect(&nic_side).unwrap();
    for n in 0..30usize {
        let bytes = frame(MAC, 60 + (n * 211) % 1455, n as u8);
        wire.send(&bytes).unwrap();
        assert_eq!(receive_within_10s(&mut nic), bytes, "frame {n}");
    }
    let counters = nic.counters();
    assert_eq!((counters.rx_frames, counters.rx_dropped, counters.rx_errors), (30, 0, 0));

    // A header QEMU never wrote (the ring out of step with the MAC) resets the
    // receiver, and frames flow again.
    wire.send(&frame(MAC, 200, 0xAA)).unwrap();
    let registers = Registers(qemu.clone());
    let deadline = Instant::now() + Duration::from_secs(10);
    while registers.read_u8(0x37) & 1 != 0 {
        assert!(Instant::now() < deadline, "frame never reached the ring");
        std::thread::sleep(Duration::from_millis(1));
    }
    let ring = u64::from(registers.read_u32(0x30));
    let header = u64::from(registers.read_u16(0x38).wrapping_add(16)) % 8192;
    qemu.borrow_mut().write(ring + header, &0x7000_0001u32.to_le_bytes());
    let mut buffer = vec![0; 2048];
    assert_eq!(nic.receive(&mut SliceSink { buffer: &mut buffer }), Err(NetError::WouldBlock));
    assert_eq!(nic.counters().rx_errors, 1);
    let after = frame(MAC, 300, 0xBB);
    wire.send(&after).unwrap();
    assert_eq!(receive_within_10s(&mut nic), after);

    // Link state follows QEMU's `set_link`.
    let mut monitor = Monitor::connect(&directory.join("qmp"));
    monitor.execute(r#"{"execute":"set_link","arguments":{"name":"nic","up":false}}"#);
    assert!(!nic.link_up());
    monitor.execute(r#"{"execute":"set_link","arguments":{"name":"nic","up":true}}"#);
    assert!(nic.link_up());
    std::fs::remove_dir_all(&directory).unwrap();
}
