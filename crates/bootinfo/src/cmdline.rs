//! The kernel command line: `key=value` words separated by spaces.
//!
//! A value may be quoted (`name="two words"`). A word without `=` is a flag. Unknown
//! keys and bad values are reported through a callback and otherwise ignored, so a
//! typo never stops a boot.

/// One word of the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arg<'a> {
    /// The part before `=` (or the whole word for a flag).
    pub key: &'a str,
    /// The part after `=`, without surrounding quotes; `None` for a flag.
    pub value: Option<&'a str>,
}

/// Iterator over the words of a command line.
pub struct Args<'a> {
    rest: &'a str,
}

/// `text` split at byte `at`; all of it and nothing when `at` is past the end or not
/// a character boundary. The parsers here only split where they found a character,
/// so that never happens; unlike slicing, this cannot panic, which keeps the
/// panic's message formatting (and Unicode tables) out of the kernel.
pub(crate) fn split_at(text: &str, at: usize) -> (&str, &str) {
    text.split_at_checked(at).unwrap_or((text, ""))
}

/// Splits a command line into its words.
pub fn args(line: &str) -> Args<'_> {
    Args { rest: line }
}

impl<'a> Iterator for Args<'a> {
    type Item = Arg<'a>;

    fn next(&mut self) -> Option<Arg<'a>> {
        let line = self.rest.trim_start();
        if line.is_empty() {
            self.rest = line;
            return None;
        }
        let key_end = line.find(|c: char| c == '=' || c.is_whitespace()).unwrap_or(line.len());
        let (key, after_key) = split_at(line, key_end);
        let Some(value_text) = after_key.strip_prefix('=') else {
            self.rest = after_key;
            return Some(Arg { key, value: None });
        };
        let (value, rest) = if let Some(quoted) = value_text.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => {
                    let (value, quote_and_rest) = split_at(quoted, end);
                    (value, split_at(quote_and_rest, 1).1)
                }
                None => (quoted, ""),
            }
        } else {
            let end = value_text.find(char::is_whitespace).unwrap_or(value_text.len());
            split_at(value_text, end)
        };
        self.rest = rest;
        Some(Arg { key, value: Some(value) })
    }
}

/// Splits a command line at its `init=` word: the kernel's options before it, and the
/// program's words from its value to the end of the line (`init=NAME ARGS...`: the
/// program is named, then given its arguments; everything after `init=` is the
/// program's, so its arguments may look like kernel options).
pub fn split_init(line: &str) -> (&str, Option<&str>) {
    for Arg { key, value } in args(line) {
        if key == "init" && value.is_some() {
            let at = key.as_ptr() as usize - line.as_ptr() as usize;
            let (options, init) = split_at(line, at);
            return (options, Some(split_at(init, "init=".len()).1));
        }
    }
    (line, None)
}

/// The words of a program's argument text: separated by blanks, a word in double
/// quotes may hold blanks (`a "b c" d` → `a`, `b c`, `d`).
pub fn program_words(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    core::iter::from_fn(move || {
        rest = rest.trim_start();
        if rest.is_empty() {
            return None;
        }
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            let (word, quote_and_rest) = split_at(quoted, end);
            rest = split_at(quote_and_rest, 1).1;
            return Some(word);
        }
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (word, after) = split_at(rest, end);
        rest = after;
        Some(word)
    })
}

/// What the kernel does after the program returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitMode {
    /// Stay up (idle); the default.
    Stay,
    /// End QEMU through `isa-debug-exit` with the program's status.
    Qemu,
    /// Reboot the machine.
    Reboot,
    /// Power the machine off.
    Shutdown,
}

use crate::virtio_mmio::{EntryError, MmioDevices};

/// Something wrong with one word of the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem<'a> {
    /// A key the kernel does not know.
    UnknownKey(&'a str),
    /// A known key with a value it does not accept.
    BadValue {
        /// The key.
        key: &'a str,
        /// The rejected value (empty for a missing value).
        value: &'a str,
    },
    /// A `virtio_mmio.device=` entry that cannot describe a device; it is skipped.
    BadMmioDevice {
        /// The entry.
        value: &'a str,
        /// Why.
        why: EntryError,
    },
}

impl core::fmt::Display for Problem<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::UnknownKey(key) => write!(f, "unknown key '{key}' ignored"),
            Self::BadValue { key, value } => write!(f, "bad value '{value}' for '{key}' ignored"),
            Self::BadMmioDevice { value, why } => {
                write!(f, "virtio_mmio.device '{value}' skipped: {why}")
            }
        }
    }
}

/// The options the kernel understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelOptions {
    /// `exit=qemu|stay|reboot|shutdown`.
    pub exit: ExitMode,
    /// `pci-ecam=<hex base>`: PCIe ECAM for segment 0, buses 0-255, at this address
    /// (for firmware without an ACPI MCFG table, and to test ECAM).
    pub pci_ecam: Option<u64>,
    /// `ide=pio|dma` (default `dma`): `pio` makes the IDE driver ignore bus-master DMA.
    pub ide_pio: bool,
    /// `virtio_mmio.device=<size>@<base>:<irq>[:<id>]`, any number of times: the
    /// virtio-mmio devices of a microVM (see [`crate::virtio_mmio`]).
    pub virtio_mmio: MmioDevices,
    /// `irq=on|off` (default `on`): `off` leaves every device polled (no vector is
    /// programmed), to compare interrupts with polling.
    pub interrupts: bool,
}

impl KernelOptions {
    /// Parses `line`, calling `report` for every word it cannot use.
    pub fn parse<'a>(line: &'a str, mut report: impl FnMut(Problem<'a>)) -> Self {
        let mut options = Self {
            exit: ExitMode::Stay,
            pci_ecam: None,
            ide_pio: false,
            virtio_mmio: MmioDevices::default(),
            interrupts: true,
        };
        let (line, _program) = split_init(line);
        for Arg { key, value } in args(line) {
            match key {
                "exit" => match value {
                    Some("qemu") => options.exit = ExitMode::Qemu,
                    Some("stay") => options.exit = ExitMode::Stay,
                    Some("reboot") => options.exit = ExitMode::Reboot,
                    Some("shutdown") => options.exit = ExitMode::Shutdown,
                    other => report(Problem::BadValue { key, value: other.unwrap_or("") }),
                },
                "irq" => match value {
                    Some("on") => options.interrupts = true,
                    Some("off") => options.interrupts = false,
                    other => report(Problem::BadValue { key, value: other.unwrap_or("") }),
                },
                "ide" => match value {
                    Some("pio") => options.ide_pio = true,
                    Some("dma") => options.ide_pio = false,
                    other => report(Problem::BadValue { key, value: other.unwrap_or("") }),
                },
                "pci-ecam" => match value
                    .and_then(|v| v.strip_prefix("0x"))
                    .and_then(|hex| u64::from_str_radix(hex, 16).ok())
                    .filter(|base| base.is_multiple_of(1 << 20))
                {
                    Some(base) => options.pci_ecam = Some(base),
                    None => report(Problem::BadValue { key, value: value.unwrap_or("") }),
                },
                "virtio_mmio.device" => {
                    let value = value.unwrap_or("");
                    if let Err(why) = options.virtio_mmio.add(value) {
                        report(Problem::BadMmioDevice { value, why });
                    }
                }
                _ => report(Problem::UnknownKey(key)),
            }
        }
        options
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<(&str, Option<&str>)> {
        args(line).map(|arg| (arg.key, arg.value)).collect()
    }

    #[test]
    fn splits_keys_values_flags_and_quotes() {
        assert_eq!(
            words("  exit=qemu quiet name=\"two words\" empty= last"),
            vec![
                ("exit", Some("qemu")),
                ("quiet", None),
                ("name", Some("two words")),
                ("empty", Some("")),
                ("last", None),
            ]
        );
        assert!(words("   ").is_empty());
        assert_eq!(words("k=\"unterminated"), vec![("k", Some("unterminated"))]);
        assert_eq!(words("a=b=c"), vec![("a", Some("b=c"))]);
    }

    #[test]
    fn init_takes_the_rest_of_the_line_as_program_words() {
        let line = "exit=qemu init=echo one \"two words\" exit=stay";
        let (kernel, program) = split_init(line);
        assert_eq!(kernel, "exit=qemu ");
        let words: Vec<&str> = program_words(program.unwrap()).collect();
        assert_eq!(words, vec!["echo", "one", "two words", "exit=stay"]);
        assert_eq!(KernelOptions::parse(line, |_| panic!()).exit, ExitMode::Qemu);
        assert_eq!(split_init("exit=qemu"), ("exit=qemu", None));
        assert_eq!(split_init("init"), ("init", None), "a flag named init is no program");
        assert_eq!(program_words("  ").count(), 0);
        assert_eq!(program_words("\"open").collect::<Vec<_>>(), vec!["open"]);
        assert_eq!(program_words("a \"\" b").collect::<Vec<_>>(), vec!["a", "", "b"]);
    }

    #[test]
    fn known_options_are_applied() {
        let mut problems = Vec::new();
        let options = KernelOptions::parse("exit=qemu", |problem| problems.push(problem));
        assert_eq!(options.exit, ExitMode::Qemu);
        assert!(problems.is_empty());
        assert_eq!(KernelOptions::parse("", |_| panic!()).exit, ExitMode::Stay);
        assert_eq!(KernelOptions::parse("exit=shutdown", |_| panic!()).exit, ExitMode::Shutdown);
        assert_eq!(KernelOptions::parse("exit=reboot", |_| panic!()).exit, ExitMode::Reboot);
        assert!(KernelOptions::parse("", |_| panic!()).interrupts);
        assert!(!KernelOptions::parse("irq=off", |_| panic!()).interrupts);
        let mut bad = Vec::new();
        assert!(KernelOptions::parse("irq=maybe", |problem| bad.push(problem)).interrupts);
        assert_eq!(bad, [Problem::BadValue { key: "irq", value: "maybe" }]);
        let ecam = KernelOptions::parse("pci-ecam=0xb0000000", |_| panic!());
        assert_eq!(ecam.pci_ecam, Some(0xB000_0000));
        assert!(KernelOptions::parse("ide=pio", |_| panic!()).ide_pio);
        let mut problems = Vec::new();
        let bad = KernelOptions::parse("pci-ecam=0xb0000001 pci-ecam=12", |p| problems.push(p));
        assert_eq!(bad.pci_ecam, None);
        assert_eq!(problems.len(), 2);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_reported_not_fatal() {
        let mut problems = Vec::new();
        let options =
            KernelOptions::parse("colour=blue exit=sometimes exit exit=qemu", |problem| {
                problems.push(problem)
            });
        assert_eq!(options.exit, ExitMode::Qemu);
        assert_eq!(
            problems,
            vec![
                Problem::UnknownKey("colour"),
                Problem::BadValue { key: "exit", value: "sometimes" },
                Problem::BadValue { key: "exit", value: "" },
            ]
        );
        assert_eq!(problems[0].to_string(), "unknown key 'colour' ignored");
    }

    #[test]
    fn virtio_mmio_entries_are_kept_and_malformed_ones_reported() {
        let mut problems = Vec::new();
        let line = "virtio_mmio.device=512@0xfeb02e00:47 exit=qemu \
                    virtio_mmio.device=512@0xfeb02e00:47 virtio_mmio.device=4K@nowhere:5 \
                    virtio_mmio.device virtio_mmio.device=4K@0xd0000000:5:2";
        let options = KernelOptions::parse(line, |problem| problems.push(problem));
        let found: Vec<_> = options.virtio_mmio.iter().map(|d| (d.base, d.size, d.irq)).collect();
        assert_eq!(found, [(0xFEB0_2E00, 512, 47), (0xD000_0000, 4096, 5)]);
        assert_eq!(options.exit, ExitMode::Qemu);
        let reports: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            reports,
            [
                "virtio_mmio.device '512@0xfeb02e00:47' skipped: same base as an earlier entry",
                "virtio_mmio.device '4K@nowhere:5' skipped: a number does not parse",
                "virtio_mmio.device '' skipped: expected <size>@<base>:<irq>[:<id>]",
            ]
        );
    }
}
