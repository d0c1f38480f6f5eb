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

mod against_models {
    use ingot_device_models::HostMemory;
    use ingot_device_models::virtio::{NOTIFY_MULTIPLIER, WindowKind};
    use ingot_device_models::virtio_blk::VirtioBlkModel;
    use ingot_device_models::virtio_net::{F_MAC, F_STATUS, F_VERSION_1, VirtioNetModel};

    use crate::transport::{LegacyTransport, ModernTransport, Transport, status};
    use crate::{FEATURE_VERSION_1, FeaturesRefused, negotiate, queue_size};

    const MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];

    #[test]
    fn negotiation_takes_what_both_sides_want_on_block_and_net() {
        let memory = HostMemory::new(1 << 20);
        let blk = VirtioBlkModel::new(memory.clone(), 64);
        let mut legacy = LegacyTransport::new(blk.legacy(0xC000), 0xC000);
        let (accepted, running) = negotiate(&mut legacy, (1 << 9) | (1 << 20)).unwrap();
        assert_eq!(accepted, 1 << 9); // FLUSH offered; bit 20 not; no VERSION_1 on legacy
        assert_eq!(running, status::ACKNOWLEDGE | status::DRIVER);
        assert_eq!(queue_size(&mut legacy, 0, 16, 3), Some(128)); // legacy: the device's size
        assert_eq!(queue_size(&mut legacy, 1, 16, 3), None);

        let net = VirtioNetModel::new(memory, MAC, F_MAC | F_STATUS | F_VERSION_1);
        let mut modern = ModernTransport::new(
            net.window(WindowKind::Common),
            net.window(WindowKind::Notify),
            NOTIFY_MULTIPLIER,
            net.window(WindowKind::Device),
        );
        let (accepted, running) = negotiate(&mut modern, F_MAC).unwrap();
        assert_eq!(accepted, F_MAC | FEATURE_VERSION_1);
        assert_ne!(running & status::FEATURES_OK, 0);
        assert_eq!(net.state().core.driver_features, F_MAC | F_VERSION_1);
        assert_eq!(queue_size(&mut modern, 1, 16, 5), Some(16)); // modern: capped
        assert_eq!(queue_size(&mut modern, 2, 16, 5), None);
        assert_eq!(modern.config_u8(5), 1);
        assert_eq!(modern.config_u16(6), 1); // link up
    }

    #[test]
    fn a_modern_device_without_version_1_is_refused_and_failed() {
        let memory = HostMemory::new(1 << 20);
        let net = VirtioNetModel::new(memory, MAC, F_MAC);
        let mut modern = ModernTransport::new(
            net.window(WindowKind::Common),
            net.window(WindowKind::Notify),
            NOTIFY_MULTIPLIER,
            net.window(WindowKind::Device),
        );
        assert_eq!(negotiate(&mut modern, F_MAC), Err(FeaturesRefused));
        assert_ne!(net.state().core.status & status::FAILED, 0);
    }
}
