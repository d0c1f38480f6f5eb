//! `sdk/c/include/ingot.h`, generated from this crate: every struct with its fields in
//! Rust's order, and for every field a `_Static_assert` on its `offsetof` taken from
//! Rust's `offset_of!` (`_Static_assert` in C, `static_assert` in C++), so a compiler that lays a struct out differently from Rust
//! fails to compile the header. The test compares the checked-in header with what it
//! generates (`INGOT_BLESS=1 cargo test -p ingot-abi` rewrites it) and, where `gcc` is
//! installed, compiles `sdk/c/layout_check.c` with it.

extern crate std;

use core::mem::{offset_of, size_of};
use std::format;
use std::string::String;
use std::vec::Vec;

use crate::{ApiTable, CoreStats, DiskInfo, MemoryInfo, NetFrame, NetInfo, PciInfo};

/// One C struct: its name, size and fields (C declaration, name, Rust offset).
struct CStruct {
    name: &'static str,
    size: usize,
    fields: Vec<(String, &'static str, usize)>,
}

macro_rules! c_struct {
    ($rust:ty, $c:literal, { $($field:ident : $decl:literal),* $(,)? }) => {
        CStruct {
            name: $c,
            size: size_of::<$rust>(),
            fields: std::vec![$((String::from($decl), stringify!($field), offset_of!($rust, $field))),*],
        }
    };
}

fn structs() -> Vec<CStruct> {
    std::vec![
        c_struct!(MemoryInfo, "ingot_memory_info", {
            window_base: "uint64_t", window_bytes: "uint64_t", stack_bytes: "uint64_t",
            usable_ram_bytes: "uint64_t",
        }),
        c_struct!(DiskInfo, "ingot_disk_info", {
            sectors: "uint64_t", sector_size: "uint32_t", bounced: "uint32_t",
            model: "uint8_t [40]", serial: "uint8_t [40]",
        }),
        c_struct!(CoreStats, "ingot_core_stats", { tasks_run: "uint64_t", busy_ns: "uint64_t" }),
        c_struct!(NetInfo, "ingot_net_info", {
            mac: "uint8_t [6]", link_up: "uint8_t", reserved: "uint8_t", mtu: "uint32_t",
            reserved2: "uint32_t", driver: "uint8_t [16]", rx_frames: "uint64_t",
            rx_bytes: "uint64_t", tx_frames: "uint64_t", tx_bytes: "uint64_t",
            rx_dropped: "uint64_t", rx_errors: "uint64_t", tx_errors: "uint64_t",
        }),
        c_struct!(NetFrame, "ingot_net_frame", { address: "uint64_t", len: "uint64_t" }),
        c_struct!(PciInfo, "ingot_pci_info", {
            segment: "uint16_t", bus: "uint8_t", slot: "uint8_t", function: "uint8_t",
            base_class: "uint8_t", subclass: "uint8_t", prog_if: "uint8_t", vendor_id: "uint16_t",
            device_id: "uint16_t", revision: "uint8_t", reserved: "uint8_t [3]",
            driver: "uint8_t [16]",
        }),
        c_struct!(ApiTable, "ingot_api_table", {
            magic: "uint64_t", version: "uint32_t", size: "uint32_t",
            console_write: "int64_t (*)(const void *bytes, uint64_t len)",
            console_read: "int64_t (*)(void)",
            memory_info: "int64_t (*)(struct ingot_memory_info *info)",
            time_ns: "int64_t (*)(void)",
            delay_us: "int64_t (*)(uint64_t microseconds)",
            core_id: "int64_t (*)(void)",
            core_count: "int64_t (*)(void)",
            task_submit: "int64_t (*)(ingot_task_entry entry, uint64_t argument, uint64_t group)",
            task_run_one: "int64_t (*)(void)",
            group_create: "int64_t (*)(void)",
            group_wait: "int64_t (*)(uint64_t group)",
            group_release: "int64_t (*)(uint64_t group)",
            core_stats: "int64_t (*)(uint64_t core, struct ingot_core_stats *stats)",
            run_on_core: "int64_t (*)(uint64_t core, ingot_task_entry entry, uint64_t argument)",
            cores_busy: "int64_t (*)(void)",
            spin_lock: "int64_t (*)(uint64_t *lock)",
            spin_unlock: "int64_t (*)(uint64_t *lock)",
            reboot: "int64_t (*)(void)",
            shutdown: "int64_t (*)(void)",
            disk_count: "int64_t (*)(void)",
            disk_info: "int64_t (*)(uint64_t disk, struct ingot_disk_info *info)",
            disk_read: "int64_t (*)(uint64_t disk, uint64_t lba, uint64_t count, void *buffer)",
            disk_write: "int64_t (*)(uint64_t disk, uint64_t lba, uint64_t count, const void *buffer)",
            disk_flush: "int64_t (*)(uint64_t disk)",
            net_count: "int64_t (*)(void)",
            net_info: "int64_t (*)(uint64_t nic, struct ingot_net_info *info)",
            net_send: "int64_t (*)(uint64_t nic, const void *frame, uint64_t len)",
            net_receive: "int64_t (*)(uint64_t nic, void *buffer, uint64_t capacity)",
            net_send_batch: "int64_t (*)(uint64_t nic, const struct ingot_net_frame *frames, uint64_t count)",
            net_receive_batch: "int64_t (*)(uint64_t nic, struct ingot_net_frame *frames, uint64_t count)",
            program_run: "int64_t (*)(const void *image, uint64_t len, uint64_t keep_bytes)",
            disk_submit: "int64_t (*)(uint64_t disk, uint64_t direction, uint64_t lba, uint64_t count, void *buffer)",
            disk_poll: "int64_t (*)(uint64_t ticket)",
            disk_wait: "int64_t (*)(uint64_t ticket)",
            program_run_args: "int64_t (*)(const void *image, uint64_t len, uint64_t keep_bytes, const char *args, uint64_t args_len)",
            pci_count: "int64_t (*)(void)",
            pci_info: "int64_t (*)(uint64_t index, struct ingot_pci_info *info)",
            wait_events: "int64_t (*)(uint64_t events, uint64_t deadline_ns)",
            interrupt_events: "int64_t (*)(void)",
            core_halted_ns: "int64_t (*)(uint64_t core)",
            task_run_some: "int64_t (*)(uint64_t max)",
        }),
    ]
}

/// A declaration with the field name put where C wants it: `uint8_t [6]` → `uint8_t
/// mac[6]`, `int64_t (*)(void)` → `int64_t (*console_read)(void)`.
fn declare(decl: &str, name: &str) -> String {
    if let Some((before, after)) = decl.split_once("(*)") {
        format!("{before}(*{name}){after}")
    } else if let Some((before, after)) = decl.split_once(" [") {
        format!("{before} {name}[{after}")
    } else {
        format!("{decl} {name}")
    }
}

/// The header's text.
pub fn generate() -> String {
    let mut out = format!(
        "/* ingot.h: the Ingot program API for C and C++ (API version {}.{}).\n \
         * GENERATED from crates/abi by its c_header test; do not edit by hand:\n \
         * INGOT_BLESS=1 cargo test -p ingot-abi rewrites it. Every offset below is\n \
         * Rust's; the static asserts fail if a compiler lays a struct out otherwise.\n \
         * The calls are described in docs/api.md. */\n\
         #ifndef INGOT_H\n#define INGOT_H\n\n#include <stddef.h>\n#include <stdint.h>\n\n\
         #ifdef __cplusplus\nextern \"C\" {{\n#define INGOT_STATIC_ASSERT static_assert\n\
         #else\n#define INGOT_STATIC_ASSERT _Static_assert\n#endif\n\n",
        crate::API_VERSION_MAJOR,
        crate::API_VERSION_MINOR
    );
    let constants = [
        ("INGOT_API_MAGIC", format!("0x{:016X}ULL", crate::API_MAGIC)),
        ("INGOT_API_VERSION", format!("0x{:08X}u", crate::API_VERSION)),
        ("INGOT_API_TABLE_ADDRESS", format!("0x{:X}ULL", crate::API_TABLE_ADDRESS)),
        ("INGOT_PROGRAM_BASE", format!("0x{:X}ULL", crate::PROGRAM_BASE)),
        ("INGOT_NET_BATCH_MAX", format!("{}u", crate::NET_BATCH_MAX)),
        ("INGOT_NET_HEADER_BYTES", format!("{}u", crate::NET_HEADER_BYTES)),
        ("INGOT_DISK_READ", format!("{}u", crate::DISK_READ)),
        ("INGOT_DISK_WRITE", format!("{}u", crate::DISK_WRITE)),
        ("INGOT_EVENT_INPUT", format!("0x{:X}ULL", crate::events::INPUT)),
        ("INGOT_EVENT_TIMER", format!("0x{:X}ULL", crate::events::TIMER)),
        ("INGOT_EVENT_NET(nic)", "(1ULL << (nic))".into()),
        ("INGOT_EVENT_DISK(disk)", "(1ULL << (16 + (disk)))".into()),
        ("INGOT_NO_DEADLINE", "0xFFFFFFFFFFFFFFFFULL".into()),
    ];
    for (name, value) in constants {
        out += &format!("#define {name} {value}\n");
    }
    out += "\n/* Results: >= 0 success, negative an error. */\n";
    for error in [
        crate::Error::InvalidArgument,
        crate::Error::BadAddress,
        crate::Error::WouldBlock,
        crate::Error::NotFound,
        crate::Error::Busy,
        crate::Error::Exhausted,
        crate::Error::TimedOut,
        crate::Error::DeviceError,
    ] {
        let name = format!("{error:?}");
        let mut upper = String::new();
        for (i, c) in name.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                upper.push('_');
            }
            upper.push(c.to_ascii_uppercase());
        }
        out += &format!("#define INGOT_E_{upper} ({})\n", error.status());
    }
    out += "\n/* A task or per-core entry: runs with one argument, returns nothing. */\n";
    out += "typedef void (*ingot_task_entry)(uint64_t argument);\n";
    for s in structs() {
        out += &format!("\nstruct {} {{\n", s.name);
        for (decl, name, _) in &s.fields {
            out += &format!("    {};\n", declare(decl, name));
        }
        out += "};\n";
        out += &format!(
            "INGOT_STATIC_ASSERT(sizeof(struct {0}) == {1}, \"struct {0} size\");\n",
            s.name, s.size
        );
        for (_, name, offset) in &s.fields {
            out += &format!(
                "INGOT_STATIC_ASSERT(offsetof(struct {0}, {name}) == {offset}, \"{0}.{name}\");\n",
                s.name
            );
        }
    }
    out += "\n#ifdef __cplusplus\n}\n#endif\n\n#endif /* INGOT_H */\n";
    out
}

fn sdk_c() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sdk/c")
}

#[test]
fn every_field_of_the_table_is_in_the_header() {
    let table = structs().into_iter().find(|s| s.name == "ingot_api_table").unwrap();
    let last = table.fields.last().unwrap();
    assert_eq!(last.2 + 8, crate::API_TABLE_BYTES as usize, "a table field is missing");
    assert_eq!(table.fields.len(), 3 + (crate::API_TABLE_BYTES as usize - 16) / 8);
}

#[test]
fn checked_in_header_is_the_generated_one() {
    let path = sdk_c().join("include/ingot.h");
    let generated = generate();
    if std::env::var_os("INGOT_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "{} is stale: run INGOT_BLESS=1 cargo test -p ingot-abi",
        path.display()
    );
}

#[test]
fn a_c_compiler_agrees_with_the_layout() {
    let check = sdk_c().join("layout_check.c");
    let status = std::process::Command::new("gcc")
        .args(["-std=c11", "-fsyntax-only", "-Wall", "-Werror", "-I"])
        .arg(sdk_c().join("include"))
        .arg(&check)
        .status();
    match status {
        Ok(status) => assert!(status.success(), "gcc refused {}", check.display()),
        Err(error) => std::eprintln!("gcc not available ({error}); C layout not compiled"),
    }
}
