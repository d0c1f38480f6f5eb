//! Bytes per crate from the kernel's linker map (`ld.lld -Map`, written by
//! `boot/direct/build.rs`), so that `bench size` shows where growth comes from.
//!
//! The kernel is linked with LTO into one object, but every function and static keeps
//! its own input section (`.text.<symbol>`, `.rodata.<symbol>`), named by its v0-mangled
//! symbol (`_RNvNtCs…_10ingot_arch4apic…`). A section is counted for the crate of the
//! first crate root in that name: the crate that defines the function, or, for a
//! generic, the crate that defines the generic (`core::fmt` for a formatting routine
//! instantiated by the kernel). Code that LTO inlined into a caller counts for the
//! caller. Sections without a mangled name are grouped: string and constant pools
//! (`.rodata.str1.1`, `.Lanon.*`) and the unmangled assembly and `#[no_mangle]` items.

use std::collections::BTreeMap;

/// Where a byte of the image lies, by output section.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bytes {
    /// `.text` (and the fixed header with the API table).
    pub code: u64,
    /// `.rodata` (and the PVH note).
    pub rodata: u64,
    /// `.data`, with the GOT.
    pub data: u64,
    /// `.bss`: RAM only, not in `kernel.bin`.
    pub bss: u64,
}

impl Bytes {
    /// Bytes stored in the image (`kernel.bin`): everything but `.bss`.
    pub fn stored(&self) -> u64 {
        self.code + self.rodata + self.data
    }

    fn add(&mut self, output: &str, size: u64) {
        match output {
            ".text" | ".header" => self.code += size,
            ".rodata" | ".note.Xen" => self.rodata += size,
            ".data" => self.data += size,
            ".bss" => self.bss += size,
            _ => {}
        }
    }
}

/// Group for string literals, constant pools and the anonymous read-only-after-
/// relocation data (vtables, format-string pieces, panic locations), which have no
/// owner in the map.
pub const CONSTANTS: &str = "(strings, constants, format pieces, panic locations)";
/// Group for input sections without a mangled Rust name.
pub const UNMANGLED: &str = "(assembly and #[no_mangle])";

/// The map's totals and its bytes per crate.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CrateSizes {
    /// Sums of the output sections themselves (the image's real sizes).
    pub total: Bytes,
    /// Bytes per crate (or per group of unnamed sections).
    pub crates: BTreeMap<String, Bytes>,
}

impl CrateSizes {
    /// Crates by bytes stored in the image, largest first (`.bss` breaks ties).
    pub fn largest_first(&self) -> Vec<(&str, Bytes)> {
        let mut rows: Vec<(&str, Bytes)> =
            self.crates.iter().map(|(name, bytes)| (name.as_str(), *bytes)).collect();
        rows.sort_by_key(|row| std::cmp::Reverse((row.1.stored(), row.1.bss)));
        rows
    }
}

/// Reads an lld map: `VMA LMA Size Align Out In Symbol`, output sections one space
/// after the alignment, input sections (`file:(section)`) further in.
pub fn parse(map: &str) -> Result<CrateSizes, String> {
    let mut sizes = CrateSizes::default();
    let mut output = String::new();
    for line in map.lines() {
        let mut fields = line.split_whitespace();
        let numbers: Vec<&str> = fields.by_ref().take(4).collect();
        let [_, _, size, align] = numbers.as_slice() else { continue };
        let (Ok(size), true) = (u64::from_str_radix(size, 16), align.parse::<u64>().is_ok()) else {
            continue;
        };
        let rest = after_fields(line, 4);
        let indent = rest.len() - rest.trim_start().len();
        let rest = rest.trim();
        if indent == 1 {
            output = rest.to_string();
            sizes.total.add(&output, size);
        } else if let Some(section) = input_section(rest) {
            sizes.crates.entry(owner(section)).or_default().add(&output, size);
        }
    }
    if sizes.total.code == 0 {
        return Err("no .text section in the linker map".into());
    }
    Ok(sizes)
}

/// What follows the first `count` whitespace-separated fields of `line`.
fn after_fields(line: &str, count: usize) -> &str {
    let mut rest = line;
    for _ in 0..count {
        let start = rest.len() - rest.trim_start().len();
        let end = rest[start..].find(char::is_whitespace).map_or(rest.len(), |at| start + at);
        rest = &rest[end..];
    }
    rest
}

/// `section` of an input line `file:(section)`.
fn input_section(rest: &str) -> Option<&str> {
    let open = rest.rfind(":(")?;
    rest[open + 2..].strip_suffix(')')
}

/// The crate or group an input section counts for.
fn owner(section: &str) -> String {
    let name = section.trim_start_matches('.');
    let symbol = name.split_once('.').map_or("", |(_, symbol)| symbol);
    // Read-only after relocation (vtables, format pieces, panic locations).
    let symbol = symbol.strip_prefix("rel.ro.").unwrap_or(symbol);
    if let Some(mangled) = symbol.strip_prefix("_R")
        && let Some(krate) = first_crate_root(mangled)
    {
        return krate.to_string();
    }
    if symbol.starts_with(".L") || symbol.starts_with("str") || symbol.starts_with("cst") {
        return CONSTANTS.into();
    }
    UNMANGLED.into()
}

/// The identifier of the first crate root (`C`, an optional `s<base62>_`
/// disambiguator, then `<length><identifier>`) of a v0-mangled path.
fn first_crate_root(mangled: &str) -> Option<&str> {
    let bytes = mangled.as_bytes();
    (0..bytes.len()).filter(|&at| bytes[at] == b'C').find_map(|at| {
        let mut next = at + 1;
        if bytes.get(next) == Some(&b's') {
            next += 1;
            while bytes.get(next)?.is_ascii_alphanumeric() {
                next += 1;
            }
            if bytes.get(next) != Some(&b'_') {
                return None;
            }
            next += 1;
        }
        let digits = bytes[next..].iter().take_while(|b| b.is_ascii_digit()).count();
        let length: usize = mangled.get(next..next + digits)?.parse().ok()?;
        let ident = mangled.get(next + digits..next + digits + length)?;
        let is_ident = ident.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && ident.bytes().next().is_some_and(|b| b.is_ascii_alphabetic());
        is_ident.then_some(ident)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAP: &str = "             VMA              LMA     Size Align Out     In      Symbol
               0                0   100000     1 . = 0x100000
          100000           100000      188     8 .header
          100000           100000       80     1         k.o:(.ingot.header)
          100080           100080      108     8         k.o:(.ingot.api)
          100190           100190      300    16 .text
          100190           100190      100     1         k.o:(.text.boot)
          100190           100190        0     1                 pvh_entry
          100290           100290       6b     1         k.o:(.text._RNvMNtCs1TKlogE4fR1_10ingot_arch4apicNtB2_9LocalApic4send)
          100290           100290       6b     1                 <ingot_arch::apic::LocalApic>::send
          1002fb           1002fb       5f     1         k.o:(.text._RNvMs4_Csg5g6xq682rA_9raw_cpuidINtB5_5CpuIdNtNtB5_12native_cpuid17CpuIdReaderNativeE16get_feature_infoCs1TKlogE4fR1_10ingot_arch)
          10035a           10035a       36     1         k.o:(.text._RNvMsa_NtCsbQJWu2zlgTK_4core3fmtNtB5_9Formatter3pad)
          100490           100490       40    16 .rodata
          100490           100490       30     1         <internal>:(.rodata.str1.1)
          1004c0           1004c0       10     4         k.o:(.rodata..Lanon.3f9f25381a75f9ecba2420bd2e669513.19)
          1004d0           1004d0       30     8 .data
          1004d0           1004d0       20     8         k.o:(.data._RNvCs9TWYQjJrJxC_12ingot_kernel5DRIVERS)
          1004f0           1004f0       10     8         k.o:(.data.rel.ro..Lanon.3f9f25381a75f9ecba2420bd2e669513.7)
          101000           101000     2000  4096 .bss
          101000           101000     1000  4096         k.o:(.bss)
          102000           102000     1000     8         k.o:(.bss._RNvNtCs9TWYQjJrJxC_12ingot_kernel3smp5CORES)
";

    #[test]
    fn sections_count_for_the_crate_that_defines_them() {
        let sizes = parse(MAP).unwrap();
        assert_eq!(
            sizes.total,
            Bytes { code: 0x188 + 0x300, rodata: 0x40, data: 0x30, bss: 0x2000 }
        );
        let crate_of = |name: &str| sizes.crates.get(name).copied().unwrap_or_default();
        assert_eq!(crate_of("ingot_arch"), Bytes { code: 0x6b, ..Bytes::default() });
        assert_eq!(crate_of("raw_cpuid"), Bytes { code: 0x5f, ..Bytes::default() });
        assert_eq!(crate_of("core"), Bytes { code: 0x36, ..Bytes::default() });
        assert_eq!(crate_of("ingot_kernel"), Bytes { data: 0x20, bss: 0x1000, ..Bytes::default() });
        assert_eq!(crate_of(CONSTANTS), Bytes { rodata: 0x40, data: 0x10, ..Bytes::default() });
        assert_eq!(
            crate_of(UNMANGLED),
            Bytes { code: 0x188 + 0x100, bss: 0x1000, ..Bytes::default() }
        );
        let order: Vec<&str> = sizes.largest_first().iter().map(|row| row.0).collect();
        assert_eq!(order[..2], [UNMANGLED, "ingot_arch"]);
        assert_eq!(sizes.total.stored(), 0x188 + 0x300 + 0x40 + 0x30);
    }

    #[test]
    fn a_map_without_text_is_refused() {
        assert!(parse("not a map\n").is_err());
    }
}
