//! Walking the buses.

use alloc::vec::Vec;

use ingot_hal::{PciAddress, PciConfig};

use crate::{PciFunction, offsets};

/// Where enumeration starts: a segment and the bus range its configuration access
/// covers (bus 0..=255 on segment 0 for mechanism #1, an MCFG entry for ECAM).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Root {
    /// Segment group.
    pub segment: u16,
    /// First bus.
    pub first_bus: u8,
    /// Last bus (inclusive).
    pub last_bus: u8,
}

/// Every function reachable from `roots`: each root's first bus is scanned and every
/// PCI-to-PCI bridge found is followed to its secondary bus (if the secondary bus
/// lies in the root's range and was not scanned yet). Sorted by address.
pub fn enumerate(config: &impl PciConfig, roots: &[Root]) -> Vec<PciFunction> {
    let mut found = Vec::new();
    for root in roots {
        let mut scanned = [false; 256];
        let mut pending = Vec::from([root.first_bus]);
        // Extra host bridges show up as functions of 00.0 on the first bus: each of
        // them roots the bus numbered after its function (PCI firmware convention).
        while let Some(bus) = pending.pop() {
            if scanned[usize::from(bus)] || bus < root.first_bus || bus > root.last_bus {
                continue;
            }
            scanned[usize::from(bus)] = true;
            scan_bus(config, root.segment, bus, &mut found, &mut pending);
        }
    }
    // Insertion sort: the scan order is nearly sorted already (only bridged buses
    // come out of order), and it keeps the kernel small next to the std sorts.
    for i in 1..found.len() {
        let mut j = i;
        while j > 0 && found[j - 1].address > found[j].address {
            found.swap(j - 1, j);
            j -= 1;
        }
    }
    found
}

fn scan_bus(
    config: &impl PciConfig,
    segment: u16,
    bus: u8,
    found: &mut Vec<PciFunction>,
    pending: &mut Vec<u8>,
) {
    for device in 0..32 {
        let first = PciAddress { segment, bus, device, function: 0 };
        if !present(config, first) {
            continue;
        }
        let multi = config.read_u8(first, offsets::HEADER + 2) & 0x80 != 0;
        for function in 0..if multi { 8 } else { 1 } {
            let address = PciAddress { function, ..first };
            if !present(config, address) {
                continue;
            }
            let found_function = PciFunction::read(config, address);
            if found_function.header_type == 1 {
                let secondary = config.read_u8(address, offsets::BUS_NUMBERS + 1);
                if secondary != 0 {
                    pending.push(secondary);
                }
            } else if bus == 0 && device == 0 && function > 0 && found_function.class == 0x06 {
                pending.push(function);
            }
            found.push(found_function);
        }
    }
}

fn present(config: &impl PciConfig, address: PciAddress) -> bool {
    let vendor = config.read_u16(address, offsets::ID);
    vendor != 0xFFFF && vendor != 0
}
