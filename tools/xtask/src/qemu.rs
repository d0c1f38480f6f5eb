//! QEMU command lines, built from data.
//!
//! Every way xtask starts QEMU (`run`, the test harness, benchmarks) goes through
//! [`QemuConfig::args`], so all of them boot with exactly the same device model:
//! `-nodefaults` (no NIC, VGA or floppy; faster and deterministic), serial on stdio,
//! `-no-reboot` (a triple fault ends QEMU with status 0 instead of looping) and an
//! `isa-debug-exit` port at 0xf4 so the kernel can report a result as the exit status.

use std::path::PathBuf;

/// Name of the QEMU binary we run (looked up on `PATH`).
pub const QEMU: &str = "qemu-system-x86_64";

/// QEMU machine models we boot on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Machine {
    /// i440FX + PIIX, the classic PC.
    Pc,
    /// Q35 + ICH9, PCIe.
    Q35,
    /// The minimal virtio-mmio machine (qboot firmware, no PCI).
    Microvm,
}

impl Machine {
    /// The short name, as `--machine` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Machine::Pc => "pc",
            Machine::Q35 => "q35",
            Machine::Microvm => "microvm",
        }
    }

    /// The value passed to `-M`.
    fn qemu_machine(self) -> &'static str {
        match self {
            Machine::Pc => "pc",
            Machine::Q35 => "q35",
            // No option ROMs (qboot loads Multiboot and PVH kernels itself) and an RTC
            // so the kernel has a wall clock.
            Machine::Microvm => "microvm,x-option-roms=off,rtc=on",
        }
    }
}

impl std::fmt::Display for Machine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One QEMU invocation, built up with methods, turned into args.
#[derive(Clone, Debug)]
pub struct QemuConfig {
    /// Machine model (`-M`).
    pub machine: Machine,
    /// Guest RAM (`-m`), e.g. `"128M"`.
    pub memory: String,
    /// Number of CPUs (`-smp`).
    pub cores: u32,
    /// CPU model (`-cpu`); QEMU's default when `None`.
    pub cpu: Option<String>,
    /// Kernel image (`-kernel`).
    pub kernel: Option<PathBuf>,
    /// Initial ramdisk / Multiboot module (`-initrd`).
    pub initrd: Option<PathBuf>,
    /// Kernel command line (`-append`).
    pub append: Option<String>,
    /// Further arguments, appended verbatim after everything else.
    pub extra: Vec<String>,
    /// Serial input: once a serial line contains the text, the bytes are typed on
    /// QEMU's stdin (COM1), each entry once, in order.
    pub serial_input: Vec<(String, Vec<u8>)>,
    /// A network namespace to run QEMU in (`ip netns exec NAME`), for tap devices
    /// that live inside it.
    pub netns: Option<String>,
}

impl QemuConfig {
    /// A configuration for `machine` with 128 MiB of RAM and one core.
    pub fn new(machine: Machine) -> Self {
        QemuConfig {
            machine,
            memory: "128M".to_string(),
            cores: 1,
            cpu: None,
            kernel: None,
            initrd: None,
            append: None,
            extra: Vec::new(),
            serial_input: Vec::new(),
            netns: None,
        }
    }

    /// Runs QEMU inside network namespace `name` (which must exist when it starts).
    pub fn netns(mut self, name: impl Into<String>) -> Self {
        self.netns = Some(name.into());
        self
    }

    /// Types `bytes` on the serial console once a serial line contains `text`.
    pub fn type_after(mut self, text: impl Into<String>, bytes: &[u8]) -> Self {
        self.serial_input.push((text.into(), bytes.to_vec()));
        self
    }

    /// Sets guest RAM (QEMU syntax: `"128M"`, `"1G"`).
    pub fn memory(mut self, memory: impl Into<String>) -> Self {
        self.memory = memory.into();
        self
    }

    /// Sets the number of CPUs.
    pub fn cores(mut self, cores: u32) -> Self {
        self.cores = cores;
        self
    }

    /// Sets the CPU model (e.g. `"max"`, `"qemu64,+rdrand"`).
    pub fn cpu(mut self, cpu: impl Into<String>) -> Self {
        self.cpu = Some(cpu.into());
        self
    }

    /// Sets the kernel image.
    pub fn kernel(mut self, kernel: impl Into<PathBuf>) -> Self {
        self.kernel = Some(kernel.into());
        self
    }

    /// Sets the initial ramdisk / Multiboot module.
    pub fn initrd(mut self, initrd: impl Into<PathBuf>) -> Self {
        self.initrd = Some(initrd.into());
        self
    }

    /// Sets the kernel command line.
    pub fn append(mut self, append: impl Into<String>) -> Self {
        self.append = Some(append.into());
        self
    }

    /// Appends one raw argument.
    #[allow(dead_code, reason = "builder API; scenarios will need raw devices and drives")]
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.extra.push(arg.into());
        self
    }

    /// Appends several raw arguments. (Named `extra_args` because [`QemuConfig::args`]
    /// produces the final argument list.)
    #[allow(dead_code, reason = "builder API; scenarios will need raw devices and drives")]
    pub fn extra_args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.extra.extend(args.into_iter().map(Into::into));
        self
    }

    /// The full argument list, without the binary name.
    pub fn args(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut push = |a: &str, b: &str| {
            out.push(a.to_string());
            out.push(b.to_string());
        };
        push("-M", self.machine.qemu_machine());
        push("-m", &self.memory);
        push("-smp", &self.cores.to_string());
        if let Some(cpu) = &self.cpu {
            push("-cpu", cpu);
        }
        if let Some(kernel) = &self.kernel {
            push("-kernel", &kernel.display().to_string());
        }
        if let Some(initrd) = &self.initrd {
            push("-initrd", &initrd.display().to_string());
        }
        if let Some(append) = &self.append {
            push("-append", append);
        }
        out.push("-nodefaults".to_string());
        out.extend(
            [
                "-display",
                "none",
                "-serial",
                "stdio",
                "-no-reboot",
                "-device",
                "isa-debug-exit,iobase=0xf4,iosize=0x04",
            ]
            .map(String::from),
        );
        out.extend(self.extra.iter().cloned());
        out
    }

    /// A `std::process::Command` for QEMU with [`QemuConfig::args`] applied
    /// (stdio left at the defaults; callers set pipes as they need).
    pub fn command(&self) -> std::process::Command {
        let mut command = match &self.netns {
            Some(name) => {
                let mut command = std::process::Command::new("ip");
                command.args(["netns", "exec", name, QEMU]);
                command
            }
            None => std::process::Command::new(QEMU),
        };
        command.args(self.args());
        command
    }

    /// The command line as one shell-like string, for logs and reports.
    pub fn command_line(&self) -> String {
        let netns = self
            .netns
            .iter()
            .flat_map(|name| ["ip".into(), "netns".into(), "exec".into(), name.clone()]);
        netns
            .chain(std::iter::once(QEMU.to_string()))
            .chain(
                self.args()
                    .into_iter()
                    .map(|a| if a.contains([' ', '"', '\'']) { format!("'{a}'") } else { a }),
            )
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::{Machine, QemuConfig};

    #[test]
    fn machine_names_are_what_the_command_line_takes() {
        use clap::ValueEnum;
        for m in Machine::value_variants() {
            assert_eq!(Machine::from_str(m.name(), false), Ok(*m));
        }
        assert!(Machine::from_str("isapc", true).is_err());
    }

    #[test]
    fn args_in_order() {
        let args = QemuConfig::new(Machine::Microvm)
            .kernel("/k.elf")
            .append("quiet")
            .cores(2)
            .arg("-S")
            .args();
        let joined = args.join(" ");
        assert!(joined.starts_with("-M microvm,x-option-roms=off,rtc=on -m 128M -smp 2 -kernel /k.elf -append quiet -nodefaults"));
        assert!(joined.ends_with("isa-debug-exit,iobase=0xf4,iosize=0x04 -S"));
        assert!(!joined.contains("-cpu"));
    }
}
