//! Enumeration against a small model of configuration space: a host bridge, a
//! device with a 64-bit BAR, MSI and MSI-X behind a bridge, and an I/O-BAR device.

extern crate std;

use core::cell::RefCell;
use std::collections::BTreeMap;
use std::vec::Vec;

use super::*;

/// One function's registers plus its BAR size masks (writable bits of each BAR).
struct ModelFunction {
    regs: [u32; 64],
    bar_masks: [u32; 6],
}

#[derive(Default)]
struct ConfigModel {
    functions: RefCell<BTreeMap<PciAddress, ModelFunction>>,
    /// (address, offset) of every write, to check that decoding was restored.
    writes: RefCell<Vec<(PciAddress, u16, u32)>>,
}

impl ConfigModel {
    fn add(&self, address: PciAddress, regs: &[(u16, u32)], bar_masks: [u32; 6]) {
        let mut function = ModelFunction { regs: [0; 64], bar_masks };
        for &(offset, value) in regs {
            function.regs[usize::from(offset / 4)] = value;
        }
        self.functions.borrow_mut().insert(address, function);
    }
}

impl PciConfig for ConfigModel {
    fn read_u32(&self, address: PciAddress, offset: u16) -> u32 {
        self.functions
            .borrow()
            .get(&address)
            .map_or(0xFFFF_FFFF, |f| f.regs[usize::from(offset / 4)])
    }

    fn write_u32(&self, address: PciAddress, offset: u16, value: u32) {
        self.writes.borrow_mut().push((address, offset, value));
        if let Some(f) = self.functions.borrow_mut().get_mut(&address) {
            let index = usize::from(offset / 4);
            if (4..10).contains(&index) {
                let mask = f.bar_masks[index - 4];
                let kind = f.regs[index] & !mask;
                f.regs[index] = (value & mask) | (kind & if mask == 0 { 0 } else { 0xF });
            } else if index == 1 {
                f.regs[index] = (f.regs[index] & 0xFFFF_0000) | (value & 0xFFFF);
            } else {
                f.regs[index] = value;
            }
        }
    }
}

fn machine() -> ConfigModel {
    let model = ConfigModel::default();
    // Host bridge 8086:1237.
    model.add(PciAddress::new(0, 0, 0), &[(0, 0x1237_8086), (8, 0x0600_0000)], [0; 6]);
    // Bridge at 00:1e.0 to bus 2, multi-function header.
    model.add(
        PciAddress::new(0, 0x1e, 0),
        &[(0, 0x244e_8086), (8, 0x0604_0000), (0xC, 0x0081_0000), (0x18, 0x0002_0200)],
        [0; 6],
    );
    // Device behind the bridge: 64-bit prefetchable BAR0 of 16 KiB at 0x8_0000_0000,
    // MSI at 0x40 and MSI-X at 0x50 (table in BAR0 at 0x2000, 8 entries).
    model.add(
        PciAddress::new(2, 0, 0),
        &[
            (0, 0x0010_1b36),
            (4, 0x0010_0006),
            (8, 0x0108_0202),
            (0x10, 0x0000_000C),
            (0x14, 0x0000_0008),
            (0x34, 0x40),
            (0x40, 0x0080_5005 | (2 << 17)),
            (0x50, 0x0007_0011),
            (0x54, 0x2000),
            (0x58, 0x3000),
        ],
        [0xFFFF_C000, 0xFFFF_FFFF, 0, 0, 0, 0],
    );
    model.functions.borrow_mut().get_mut(&PciAddress::new(2, 0, 0)).unwrap().regs[5] = 8;
    // Legacy-IDE-like device with an 8-port I/O BAR at 0x1f0 and a 32-bit MMIO BAR.
    model.add(
        PciAddress::new(0, 3, 0),
        &[(0, 0x1001_1af4), (8, 0x0100_0000), (0x10, 0xC041), (0x14, 0xFEB0_0000)],
        [0xFFFF_FFC0, 0xFFFF_F000, 0, 0, 0, 0],
    );
    model
}

#[test]
fn finds_every_function_including_behind_bridges() {
    let model = machine();
    let found = enumerate(&model, &[Root { segment: 0, first_bus: 0, last_bus: 255 }]);
    let addresses: Vec<_> = found.iter().map(|f| f.address).collect();
    assert_eq!(
        addresses,
        [
            PciAddress::new(0, 0, 0),
            PciAddress::new(0, 3, 0),
            PciAddress::new(0, 0x1e, 0),
            PciAddress::new(2, 0, 0)
        ]
    );
    let nvme = &found[3];
    assert_eq!((nvme.vendor, nvme.device, nvme.class, nvme.subclass), (0x1b36, 0x10, 1, 8));
}

#[test]
fn sizes_64_bit_and_io_bars_and_restores_them() {
    let model = machine();
    let found = enumerate(&model, &[Root { segment: 0, first_bus: 0, last_bus: 255 }]);
    let nvme = found.iter().find(|f| f.vendor == 0x1b36).unwrap();
    assert_eq!(nvme.bars[0].memory(), Some((0x8_0000_0000, 0x4000)));
    assert!(nvme.bars[0].is_64_bit() && nvme.bars[0].is_prefetchable());
    assert_eq!(nvme.bars[1], Bar::NONE);
    assert!(nvme.bars[1].is_none() && nvme.bars[1].memory().is_none());
    let virtio = found.iter().find(|f| f.vendor == 0x1af4).unwrap();
    assert_eq!(virtio.bars[0].io(), Some((0xC040, 0x40)));
    assert!(virtio.bars[0].memory().is_none());
    assert!(!virtio.bars[1].is_64_bit() && !virtio.bars[1].is_prefetchable());
    assert_eq!(virtio.bars[1].memory(), Some((0xFEB0_0000, 0x1000)));
    // BARs hold their original values again and the command register is restored.
    assert_eq!(model.read_u32(nvme.address, 0x10), 0xC);
    assert_eq!(model.read_u32(nvme.address, 0x14), 8);
    assert_eq!(model.read_u16(nvme.address, 4), 6);
}

#[test]
fn sizes_bars_only_while_decoding_is_off() {
    let model = machine();
    let nvme = PciAddress::new(2, 0, 0);
    enumerate(&model, &[Root { segment: 0, first_bus: 0, last_bus: 255 }]);
    // Replay the writes to the NVMe-like function: whenever a BAR is written with all
    // ones, the command register last written must have memory and I/O decoding off.
    let mut command = 0x0006u32; // memory space and bus master on, as the model starts
    let mut probes = 0;
    for &(address, offset, value) in model.writes.borrow().iter() {
        if address != nvme {
            continue;
        }
        match offset {
            offsets::COMMAND => command = value,
            0x10..=0x24 if value == 0xFFFF_FFFF => {
                probes += 1;
                assert_eq!(command & 0x3, 0, "BAR {offset:#x} sized with decoding on");
            }
            _ => {}
        }
    }
    assert_eq!(probes, 6, "every BAR slot of the type-0 header is probed");
    assert_eq!(command & 0x3, 0x2, "memory decoding is restored afterwards");
}

#[test]
fn decodes_msi_and_msix() {
    let model = machine();
    let found = enumerate(&model, &[Root { segment: 0, first_bus: 0, last_bus: 255 }]);
    let nvme = found.iter().find(|f| f.vendor == 0x1b36).unwrap();
    assert_eq!(
        nvme.capabilities,
        [Capability { id: 0x05, offset: 0x40 }, Capability { id: 0x11, offset: 0x50 }]
    );
    assert_eq!(nvme.msi, Some(MsiInfo { offset: 0x40, vectors: 4, address_64: true }));
    assert_eq!(
        nvme.msix,
        Some(MsixInfo { offset: 0x50, table_size: 8, table: (0, 0x2000), pending: (0, 0x3000) })
    );
}

#[test]
fn a_bridge_outside_the_root_range_is_not_followed() {
    let model = machine();
    let found = enumerate(&model, &[Root { segment: 0, first_bus: 0, last_bus: 1 }]);
    assert!(found.iter().all(|f| f.address.bus == 0));
}
