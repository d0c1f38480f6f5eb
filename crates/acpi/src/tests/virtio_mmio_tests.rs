//! The virtio-mmio devices of QEMU's microvm DSDT.

use super::builder::TableBuilder;
use super::machine::{DSDT, RSDP, dsdt_with, standard_machine};
use crate::{Acpi, VirtioMmioDevice};

/// QEMU 7.2 microvm's AML for one transport, as dumped from a running guest:
/// `Device (VRnn) { Name (_HID, "LNRO0005") Name (_UID, slot) Name (_CCA, One)
/// Name (_CRS, ResourceTemplate () { Memory32Fixed (ReadWrite, base, 0x200)
/// Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive) { irq } }) }`.
fn microvm_device(slot: u8, base: u32, irq: u32) -> Vec<u8> {
    let mut aml = vec![0x5B, 0x82, 0x42, 0x04, b'V', b'R', b'0' + slot / 10, b'0' + slot % 10];
    aml.extend_from_slice(b"\x08_HID\x0DLNRO0005\x00");
    aml.extend_from_slice(&[0x08, b'_', b'U', b'I', b'D', 0x0A, slot]);
    aml.extend_from_slice(&[0x08, b'_', b'C', b'C', b'A', 0x01]);
    aml.extend_from_slice(&[0x08, b'_', b'C', b'R', b'S', 0x11, 0x1A, 0x0A, 0x17]);
    aml.extend_from_slice(&[0x86, 0x09, 0x00, 0x01]);
    aml.extend_from_slice(&base.to_le_bytes());
    aml.extend_from_slice(&0x200u32.to_le_bytes());
    aml.extend_from_slice(&[0x89, 0x06, 0x00, 0x01, 0x01]);
    aml.extend_from_slice(&irq.to_le_bytes());
    aml.extend_from_slice(&[0x79, 0x00]);
    aml
}

fn parse_dsdt(table: Vec<u8>) -> Acpi {
    let mut memory = standard_machine();
    *memory.region_mut(DSDT) = table;
    Acpi::parse(&memory, RSDP).unwrap()
}

#[test]
fn microvm_transports_are_found_in_order_with_their_interrupts() {
    let mut aml = microvm_device(23, 0xFEB0_2E00, 47);
    aml.extend(microvm_device(22, 0xFEB0_2C00, 46));
    // Many placements, so the strings straddle the 256-byte search chunks.
    for prefix in 200..270 {
        let acpi = parse_dsdt(dsdt_with(prefix, &aml));
        assert_eq!(
            acpi.virtio_mmio.as_slice(),
            [
                VirtioMmioDevice { base: 0xFEB0_2E00, size: 0x200, irq: Some(47) },
                VirtioMmioDevice { base: 0xFEB0_2C00, size: 0x200, irq: Some(46) },
            ],
            "prefix {prefix}"
        );
    }
    // The standard machine's DSDT has none.
    assert!(Acpi::parse(&standard_machine(), RSDP).unwrap().virtio_mmio.is_empty());
}

#[test]
fn damaged_or_unexpected_templates_give_no_device() {
    let good = microvm_device(0, 0xFEB0_0000, 24);
    let crs = good.windows(4).position(|w| w == b"_CRS").unwrap();
    let mut cases: Vec<(Vec<u8>, &str)> = Vec::new();
    let mut no_crs = good.clone();
    no_crs[crs] = b'X';
    cases.push((no_crs, "no _CRS"));
    let mut method = good.clone();
    method[crs + 4] = 0x14; // a method instead of a buffer
    cases.push((method, "computed resources"));
    let mut zero = good.clone();
    zero[crs + 16..crs + 20].copy_from_slice(&0u32.to_le_bytes()); // window length 0
    cases.push((zero, "empty window"));
    let mut oversize = good.clone();
    oversize[crs + 10] = 0xF0; // a descriptor longer than the buffer
    cases.push((oversize, "descriptor past the buffer"));
    cases.push((good[..good.len() - 12].to_vec(), "cut off by the table's end"));
    for (aml, what) in cases {
        let table = TableBuilder::new(b"DSDT", 2).bytes(&aml).build();
        let acpi = parse_dsdt(table);
        assert!(acpi.virtio_mmio.is_empty(), "{what}");
        assert!(acpi.dsdt.is_some() && acpi.problems.is_empty(), "{what}");
    }
}
