//! The monitor's commands. Each prints its answer, or one line `error: …` for an
//! unknown command or a bad argument.

use ingot_bmfs::Bmfs;
use ingot_sdk::run::{Ended, own_bytes, run_image, run_image_with_args};
use ingot_sdk::{cores, disk, memory_info, net, print, println};

use crate::files::{self, DiskWindow};

/// Bytes only the monitor's image holds: how it recognises itself as `init.app`.
static MONITOR_MARK: &[u8; 24] = b"Ingot monitor image mark";

/// What the prompt loop does after a command.
pub enum Next {
    /// Prompt again.
    Prompt,
    /// Return this status to the kernel (`exit`).
    Leave(u64),
}

const HELP: &str = "\
help                 this list
ver                  monitor and API version
info                 CPU, cores, memory, disks, network interfaces, PCI
dir                  files on the BMFS disk
run NAME [ARGS]      load NAME (or NAME.app) from BMFS, run it with ARGS, print its status
load NAME / exec     load a program from BMFS; run the loaded program
peek ADDR 1|2|4|8    read a value (ADDR in the monitor's free memory, hex)
poke ADDR HEX        write a value; its width is the number of hex digits (2/4/8/16)
dump ADDR COUNT [W]  COUNT values of width W (1, 2, 4, 8; 1 shows ASCII too)
disk                 the disks
net                  the network interfaces
cls                  clear the screen
exit                 return to the kernel
reboot / shutdown    restart or power off the machine";

/// The shell's state: its free memory (file buffer, peek/poke) and a loaded program.
pub struct Shell {
    memory: &'static mut [u8],
    loaded: usize,
}

impl Shell {
    /// A shell working in `memory` (the program's free memory).
    pub fn new(memory: &'static mut [u8]) -> Self {
        Self { memory, loaded: 0 }
    }

    /// Runs `init.app` from BMFS if there is one, unless it is this monitor (a disk
    /// image that boots to the monitor has the loaders pass it as `init.app`).
    pub fn run_init(&mut self) {
        let Some(mut fs) = files::open() else { return };
        if fs.find("init.app").is_none() || self.load(&mut fs, "init.app").is_err() {
            return;
        }
        let image = &self.memory[..self.loaded];
        if image.windows(MONITOR_MARK.len()).any(|window| window == MONITOR_MARK) {
            self.loaded = 0;
            return;
        }
        println!("monitor: running init.app");
        self.exec();
    }

    /// Runs one command line.
    pub fn execute(&mut self, line: &str) -> Next {
        let mut words = line.split_ascii_whitespace();
        let Some(command) = words.next() else { return Next::Prompt };
        let args: [Option<&str>; 3] = [words.next(), words.next(), words.next()];
        match (command, args) {
            ("help", _) => println!("{HELP}"),
            ("ver", _) => {
                let (major, minor) = ingot_sdk::api_version();
                println!("Ingot monitor {} (API {major}.{minor})", crate::VERSION);
            }
            ("info", _) => info(),
            ("dir", _) => dir(),
            ("disk", _) => disks(),
            ("net", _) => nics(),
            ("cls", _) => print!("\x0c"),
            ("run", [Some(name), ..]) => {
                // The program's words: its name as typed, then the arguments.
                let words = line.trim_start()[command.len()..].trim_start();
                self.run_program(name, words);
            }
            ("load", [Some(name), ..]) => {
                if self.load_named(name).is_ok() {
                    println!("loaded {name}: {} bytes; 'exec' runs it", self.loaded);
                }
            }
            ("exec", _) if self.loaded == 0 => println!("error: nothing loaded (load NAME)"),
            ("exec", _) => self.exec(),
            ("peek", [Some(address), Some(width), _]) => self.peek(address, width),
            ("poke", [Some(address), Some(value), _]) => self.poke(address, value),
            ("dump", [Some(address), Some(count), width]) => {
                self.dump(address, count, width.unwrap_or("1"))
            }
            ("exit", _) => return Next::Leave(0),
            ("reboot", _) => cores::reboot(),
            ("shutdown", _) => cores::shutdown(),
            ("run" | "load" | "peek" | "poke" | "dump", _) => {
                println!("error: {command}: missing arguments (see help)")
            }
            _ => println!("error: unknown command '{command}' (help lists them)"),
        }
        Next::Prompt
    }

    /// Loads `name` from BMFS and runs it with the words `args` (its name first);
    /// prints how it ended and returns its status if it returned.
    pub fn run_program(&mut self, name: &str, args: &str) -> Option<u64> {
        self.load_named(name).ok()?;
        let image = &self.memory[..self.loaded];
        self.loaded = 0;
        report(run_image_with_args(image, args))
    }

    fn load_named(&mut self, name: &str) -> Result<(), ()> {
        let Some(mut fs) = files::open() else {
            println!("error: no BMFS disk");
            return Err(());
        };
        // `run hello` finds `hello`, else `hello.app` (BMFS names hold up to 31 bytes).
        let mut with_app = [0u8; 36];
        let app_name = with_app.get_mut(..name.len() + 4).and_then(|buffer| {
            buffer[..name.len()].copy_from_slice(name.as_bytes());
            buffer[name.len()..].copy_from_slice(b".app");
            core::str::from_utf8(buffer).ok()
        });
        match app_name {
            Some(app_name) if fs.find(name).is_none() => self.load(&mut fs, app_name),
            _ => self.load(&mut fs, name),
        }
    }

    /// Reads file `name` into the start of free memory.
    fn load(&mut self, fs: &mut Bmfs<DiskWindow>, name: &str) -> Result<(), ()> {
        self.loaded = 0;
        let Some(entry) = fs.find(name) else {
            println!("error: no file '{name}' (dir lists them)");
            return Err(());
        };
        let room = self.image_room();
        if entry.file_size == 0 || entry.file_size > room as u64 {
            println!("error: {name} is {} bytes; a program must be 1..={room}", entry.file_size);
            return Err(());
        }
        let size = entry.file_size as usize;
        match fs.read_at(name, 0, &mut self.memory[..size]) {
            Ok(read) if read == size => {
                self.loaded = size;
                Ok(())
            }
            Ok(read) => {
                println!("error: {name}: read {read} of {size} bytes");
                Err(())
            }
            Err(error) => {
                println!("error: {name}: {error:?}");
                Err(())
            }
        }
    }

    /// Bytes a loaded image may have: it must lie below the part of the window the
    /// kernel parks the monitor in while the program runs.
    fn image_room(&self) -> usize {
        let Ok(info) = memory_info() else { return 0 };
        let parked = own_bytes().next_multiple_of(4096) + info.stack_bytes;
        let child_end = (info.window_base + info.window_bytes).saturating_sub(parked);
        let start = self.memory.as_ptr() as u64;
        (child_end.saturating_sub(start) as usize).min(self.memory.len())
    }

    fn exec(&mut self) {
        let image = &self.memory[..self.loaded];
        self.loaded = 0;
        report(run_image(image));
    }

    /// The offset in free memory of `address` (hex) for `bytes` bytes.
    fn offset(&self, address: &str, bytes: usize) -> Option<usize> {
        let address = parse_hex(address)?;
        let start = self.memory.as_ptr() as u64;
        let offset = address.checked_sub(start)? as usize;
        (offset.checked_add(bytes)? <= self.memory.len()).then_some(offset)
    }

    fn range_error(&self) {
        let start = self.memory.as_ptr() as u64;
        println!(
            "error: address outside the monitor's free memory {start:#x}..{:#x}",
            start + self.memory.len() as u64
        );
    }

    fn peek(&self, address: &str, width: &str) {
        let Some(width) = parse_width(width) else {
            return println!("error: width must be 1, 2, 4 or 8");
        };
        let Some(offset) = self.offset(address, width) else { return self.range_error() };
        println!("{:0digits$x}", self.value(offset, width), digits = width * 2);
    }

    fn poke(&mut self, address: &str, value: &str) {
        let digits = value.trim_start_matches("0x");
        let width = match digits.len() {
            2 | 4 | 8 | 16 => digits.len() / 2,
            _ => return println!("error: the value must have 2, 4, 8 or 16 hex digits"),
        };
        let Some(number) = parse_hex(digits) else {
            return println!("error: '{value}' is not a hex number");
        };
        let Some(offset) = self.offset(address, width) else { return self.range_error() };
        self.memory[offset..offset + width].copy_from_slice(&number.to_le_bytes()[..width]);
    }

    fn dump(&self, address: &str, count: &str, width: &str) {
        let Some(width) = parse_width(width) else {
            return println!("error: width must be 1, 2, 4 or 8");
        };
        let Some(count) = count.parse::<usize>().ok().filter(|c| (1..=4096).contains(c)) else {
            return println!("error: COUNT must be 1..=4096");
        };
        let Some(offset) = self.offset(address, count * width) else {
            return self.range_error();
        };
        let per_line = 16 / width;
        let base = self.memory.as_ptr() as u64 + offset as u64;
        for (row, first) in (0..count).step_by(per_line).enumerate() {
            print!("{:016x}:", base + (row * 16) as u64);
            let items = per_line.min(count - first);
            for item in 0..items {
                let value = self.value(offset + (first + item) * width, width);
                print!(" {value:0digits$x}", digits = width * 2);
            }
            if width == 1 {
                print!("  ");
                for byte in &self.memory[offset + first..offset + first + items] {
                    let shown = if byte.is_ascii_graphic() { *byte } else { b'.' };
                    print!("{}", char::from(shown));
                }
            }
            println!();
        }
    }

    fn value(&self, offset: usize, width: usize) -> u64 {
        let mut bytes = [0u8; 8];
        bytes[..width].copy_from_slice(&self.memory[offset..offset + width]);
        u64::from_le_bytes(bytes)
    }
}

/// Prints how a program ended; its status if it returned.
fn report(ended: Result<Ended, ingot_sdk::abi::Error>) -> Option<u64> {
    match ended {
        Ok(Ended::Returned(status)) => {
            println!("program exited status={status}");
            Some(status)
        }
        Ok(Ended::Faulted(vector)) => {
            println!("program faulted: exception {vector}");
            None
        }
        Err(error) => {
            println!("error: the kernel did not run it: {error:?}");
            None
        }
    }
}

fn parse_hex(text: &str) -> Option<u64> {
    u64::from_str_radix(text.trim_start_matches("0x"), 16).ok()
}

fn parse_width(text: &str) -> Option<usize> {
    match text {
        "1" => Some(1),
        "2" => Some(2),
        "4" => Some(4),
        "8" => Some(8),
        _ => None,
    }
}

fn info() {
    let brand = cpu_brand();
    let brand = core::str::from_utf8(&brand).unwrap_or("?").trim_matches(|c| c == ' ' || c == '\0');
    // The TSC's rate over a 10 ms busy-wait.
    let (tsc, ns) = (cores::read_tsc(), cores::time_ns());
    let _ = cores::delay_us(10_000);
    let (tsc, ns) = (cores::read_tsc() - tsc, cores::time_ns() - ns);
    println!("cpu: {brand}, {} MHz (TSC)", tsc * 1000 / ns.max(1));
    let count = cores::core_count();
    print!("cores: {count}");
    for core in 0..count {
        match cores::core_stats(core) {
            Ok(stats) => {
                print!("  #{core} tasks={} busy={}us", stats.tasks_run, stats.busy_ns / 1000);
                if let Ok(halted) = ingot_sdk::events::core_halted_ns(core) {
                    print!(" halted={}ms", halted / 1_000_000);
                }
            }
            Err(error) => print!("  #{core} {error:?}"),
        }
    }
    println!();
    let others = match (count, cores::cores_busy()) {
        (1, _) => "there are no others",
        (_, false) => "the others are idle",
        (_, true) => "another is running code or has code assigned",
    };
    println!("state: core {} runs the monitor; {others}", cores::core_id());
    match memory_info() {
        Ok(memory) => println!(
            "memory: ram={}MiB window={}KiB at {:#x}",
            memory.usable_ram_bytes >> 20,
            memory.window_bytes >> 10,
            memory.window_base
        ),
        Err(error) => println!("memory: {error:?}"),
    }
    disks();
    nics();
    pci();
}

fn pci() {
    let count = ingot_sdk::pci::count();
    println!("pci: {count}");
    for index in 0..count {
        match ingot_sdk::pci::info(index) {
            Ok(f) => println!(
                "  {:04x}:{:02x}:{:02x}.{} {:04x}:{:04x} class={:02x}.{:02x} driver={}",
                f.segment,
                f.bus,
                f.slot,
                f.function,
                f.vendor_id,
                f.device_id,
                f.base_class,
                f.subclass,
                match ingot_sdk::pci::driver_name(&f) {
                    "" => "none",
                    name => name,
                }
            ),
            Err(error) => println!("  pci {index}: {error:?}"),
        }
    }
}

fn cpu_brand() -> [u8; 48] {
    use core::arch::x86_64::__cpuid;
    let mut brand = [b' '; 48];
    if __cpuid(0x8000_0000).eax < 0x8000_0004 {
        return brand;
    }
    for (chunk, leaf) in brand.chunks_mut(16).zip(0x8000_0002u32..) {
        let result = __cpuid(leaf);
        for (part, word) in
            chunk.chunks_mut(4).zip([result.eax, result.ebx, result.ecx, result.edx])
        {
            part.copy_from_slice(&word.to_le_bytes());
        }
    }
    brand
}

fn disks() {
    let count = disk::count();
    println!("disks: {count}");
    for number in 0..count {
        match disk::info(number) {
            Ok(info) => {
                let model = core::str::from_utf8(&info.model).unwrap_or("?").trim();
                println!(
                    "  disk {number}: {} MiB ({} sectors of {}) {model}",
                    (info.sectors * u64::from(info.sector_size)) >> 20,
                    info.sectors,
                    info.sector_size
                );
            }
            Err(error) => println!("  disk {number}: {error:?}"),
        }
    }
}

fn nics() {
    let count = net::count();
    println!("nics: {count}");
    for number in 0..count {
        match net::info(number) {
            Ok(info) => {
                let m = info.mac;
                let driver = net::driver_name(&info);
                println!(
                    "  nic {number}: {} mac={:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} link={}",
                    driver,
                    m[0],
                    m[1],
                    m[2],
                    m[3],
                    m[4],
                    m[5],
                    if info.link_up != 0 { "up" } else { "down" }
                );
            }
            Err(error) => println!("  nic {number}: {error:?}"),
        }
    }
}

fn dir() {
    let Some(fs) = files::open() else { return println!("error: no BMFS disk") };
    println!("#   name                             size");
    for entry in fs.entries() {
        let name = entry.name.to_str().unwrap_or("?");
        println!("{:<3} {name:<32} {}", entry.slot, entry.file_size);
    }
}
