//! The shared pieces on their own (capability windows, negotiation, the virtio-mmio
//! probe and queue placement); the transports and queues are exercised end to end
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
    use ingot_device_models::virtio_net::{
        F_MAC, F_STATUS, F_VERSION_1, QUEUE_SIZE as VIRTIO_NET_QUEUE_SIZE, VirtioNetModel,
    };

    use crate::transport::{LegacyTransport, ModernTransport, Transport, status};
    use crate::{FEATURE_VERSION_1, FeaturesRefused, negotiate, queue_size};

    extern crate std;
    use std::string::ToString;
    use std::vec;
    use std::vec::Vec;

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

    /// A window of plain bytes: what probe sees where no device (or another
    /// device) answers.
    struct PlainWindow(Vec<u8>);

    impl ingot_hal::Mmio for PlainWindow {
        fn len(&self) -> usize {
            self.0.len()
        }
        fn read_u8(&self, offset: usize) -> u8 {
            self.0[offset]
        }
        fn read_u16(&self, offset: usize) -> u16 {
            u16::from_le_bytes([self.0[offset], self.0[offset + 1]])
        }
        fn read_u32(&self, offset: usize) -> u32 {
            u32::from_le_bytes(self.0[offset..offset + 4].try_into().unwrap())
        }
        fn write_u8(&self, _: usize, _: u8) {
            panic!("probe wrote to a window that is not a device");
        }
        fn write_u16(&self, _: usize, _: u16) {
            panic!("probe wrote to a window that is not a device");
        }
        fn write_u32(&self, _: usize, _: u32) {
            panic!("probe wrote to a window that is not a device");
        }
    }

    fn registers(magic: u32, version: u32, device: u32, len: usize) -> PlainWindow {
        let mut bytes = vec![0u8; len];
        for (at, value) in [(0, magic), (4, version), (8, device)] {
            bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
        }
        PlainWindow(bytes)
    }

    #[test]
    fn mmio_probe_refuses_what_is_not_a_device_without_writing() {
        use crate::mmio::{MAGIC, ProbeError, probe};
        let refused = |window| probe(window).err();
        assert_eq!(refused(registers(0, 0, 0, 0x200)), Some(ProbeError::NoMagic(0)));
        assert_eq!(
            refused(registers(0xFFFF_FFFF, 2, 2, 0x200)),
            Some(ProbeError::NoMagic(0xFFFF_FFFF))
        );
        assert_eq!(refused(registers(MAGIC, 3, 2, 0x200)), Some(ProbeError::UnknownVersion(3)));
        assert_eq!(refused(registers(MAGIC, 0, 2, 0x200)), Some(ProbeError::UnknownVersion(0)));
        assert_eq!(refused(registers(MAGIC, 2, 0, 0x200)), Some(ProbeError::Empty));
        assert_eq!(refused(registers(MAGIC, 2, 2, 0xFC)), Some(ProbeError::TooSmall));
        assert_eq!(
            ProbeError::NoMagic(0x1234).to_string(),
            "not a virtio-mmio device (magic 0x00001234)"
        );
    }

    #[test]
    fn mmio_negotiation_on_both_versions_for_block_and_net() {
        use crate::mmio::probe;
        use ingot_device_models::virtio_mmio::VENDOR;
        for version in [1, 2] {
            let memory = HostMemory::new(1 << 20);
            let blk = VirtioBlkModel::new(memory.clone(), 64);
            let (mut transport, identity) = probe(blk.mmio(version)).unwrap();
            assert_eq!(
                (identity.version, identity.device_type, identity.vendor),
                (version, 2, VENDOR)
            );
            assert_eq!(transport.is_modern(), version == 2);
            let (accepted, running) = negotiate(&mut transport, (1 << 9) | (1 << 20)).unwrap();
            let version_1 = if version == 2 { FEATURE_VERSION_1 } else { 0 };
            assert_eq!(accepted, (1 << 9) | version_1);
            assert_eq!(running & status::FEATURES_OK != 0, version == 2);
            assert_eq!(blk.state().core.driver_features, accepted);
            // Capacity 64 sectors from the configuration space at 0x100.
            assert_eq!(transport.config_u64(0), 64);

            let net = VirtioNetModel::new(memory, MAC, F_MAC | F_STATUS | F_VERSION_1);
            let (mut transport, identity) = probe(net.mmio(version)).unwrap();
            assert_eq!(identity.device_type, 1);
            let (accepted, _) = negotiate(&mut transport, F_MAC | F_STATUS).unwrap();
            assert_eq!(accepted, F_MAC | F_STATUS | version_1);
            assert_eq!(
                queue_size(&mut transport, 1, 16, 5),
                Some(if version == 2 { 16 } else { VIRTIO_NET_QUEUE_SIZE })
            );
            assert_eq!(queue_size(&mut transport, 2, 16, 5), None);
            assert_eq!(transport.config_u8(5), 1);
            assert_eq!(transport.config_u16(6), 1); // link up
        }
    }

    #[test]
    fn mmio_queues_are_placed_where_the_driver_says() {
        use crate::mmio::probe;
        use crate::queue::{Segment, SplitQueue, layout};
        use ingot_hal::DmaAllocator;
        for version in [1, 2] {
            let memory = HostMemory::new(1 << 20);
            let blk = VirtioBlkModel::new(memory.clone(), 64);
            let (mut transport, _) = probe(blk.mmio(version)).unwrap();
            negotiate(&mut transport, 0).unwrap();
            let size = queue_size(&mut transport, 0, 16, 3).unwrap();
            let ring = memory.dma().allocate(layout(size).0).unwrap();
            let mut queue = SplitQueue::new(ring, size);
            let (address, used_offset) = queue.addresses();
            transport.setup_queue(0, size, address, used_offset);
            let rings = blk.state().core.queues[0].rings;
            let expected = (address, address + 16 * u64::from(size), address + used_offset);
            assert_eq!(rings, Some(expected), "version {version}");
            // A flush request (header, status) goes through the notify register.
            let buffer = memory.dma().allocate(4096).unwrap();
            let base = ingot_hal::DmaBuffer::physical(&buffer);
            ingot_hal::DmaBuffer::write_u32(&buffer, 0, 4);
            transport.set_status(status::ACKNOWLEDGE | status::DRIVER | status::DRIVER_OK);
            queue.push(
                0,
                &[
                    Segment { address: base, len: 16, device_writes: false },
                    Segment { address: base + 16, len: 1, device_writes: true },
                ],
            );
            transport.notify(0);
            assert_eq!(queue.pop_used(), Some(0), "version {version}");
            assert_eq!(blk.state().flushes, 1);
        }
    }
}
