//! The shared pieces on their own; the transports and queues are exercised end to end
//! by the virtio-blk and virtio-net tests against their models.

use super::*;

#[test]
fn modern_windows_are_found_in_vendor_capabilities() {
    // Capabilities at 0x40 (common), 0x54 (notify, multiplier 4), 0x68 (isr), 0x7c (device).
    let caps: [(u16, [u32; 5]); 4] = [
        (0x40, [0x0110_0009, 4, 0x0000, 0x38, 0]),
        (0x54, [0x0214_0009, 4, 0x3000, 0x1000, 4]),
        (0x68, [0x0310_0009, 4, 0x1000, 0x4, 0]),
        (0x7C, [0x0410_0009, 4, 0x2000, 0x1000, 0]),
    ];
    let read = |offset: u16| {
        caps.iter()
            .find_map(|(base, words)| {
                (offset >= *base && offset < base + 20)
                    .then(|| words[usize::from(offset - base) / 4])
            })
            .unwrap_or(0)
    };
    let windows = pci::modern_windows(read, caps.iter().map(|c| c.0)).unwrap();
    assert_eq!(windows.common, pci::Window { bar: 4, offset: 0, len: 0x38 });
    assert_eq!(windows.notify, (pci::Window { bar: 4, offset: 0x3000, len: 0x1000 }, 4));
    assert_eq!(windows.device, pci::Window { bar: 4, offset: 0x2000, len: 0x1000 });
    // A legacy-only device has none.
    assert_eq!(pci::modern_windows(read, core::iter::empty()), None);
}

#[test]
fn device_ids_follow_the_type() {
    assert_eq!(pci::transitional_id(pci::device_type::NET), 0x1000);
    assert_eq!(pci::transitional_id(pci::device_type::BLOCK), 0x1001);
    assert_eq!(pci::modern_id(pci::device_type::NET), 0x1041);
    assert!(pci::matches(pci::device_type::BLOCK, 0x1AF4, 0x1042));
    assert!(!pci::matches(pci::device_type::NET, 0x1AF4, 0x1042));
    assert!(!pci::matches(pci::device_type::NET, 0x8086, 0x1000));
}
