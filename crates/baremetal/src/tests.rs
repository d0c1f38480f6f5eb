use super::*;

#[test]
fn the_frame_matches_the_stub_push_order() {
    // The stubs push RFLAGS first and R15 last: RFLAGS at the highest offset.
    assert_eq!(core::mem::size_of::<Registers>(), 16 * 8);
    assert_eq!(core::mem::offset_of!(Registers, r15), 0);
    assert_eq!(core::mem::offset_of!(Registers, rbp), 8 * 8);
    assert_eq!(core::mem::offset_of!(Registers, rax), 14 * 8);
    assert_eq!(core::mem::offset_of!(Registers, rflags), 15 * 8);
}

#[test]
fn flags_and_results_touch_only_what_they_document() {
    let mut frame =
        Registers { rax: 0x1234_5678_0000_0055, rflags: 0x202 | CARRY, ..Default::default() };
    frame.set_input_byte(0);
    assert_eq!(frame.rax, 0x1234_5678_0000_0000);
    assert_eq!(frame.rflags, 0x202 | ZERO);
    frame.set_input_byte(b'k');
    assert_eq!(frame.rax, 0x1234_5678_0000_006B);
    assert_eq!(frame.rflags, 0x202);
    frame.fail(-2);
    assert_eq!(frame.rax as i64, -2);
    assert_eq!(frame.rflags, 0x202 | CARRY);
    frame.rax = 7;
    frame.fail_flag();
    assert_eq!(frame.rax, 7);
    frame.succeed();
    assert_eq!(frame.rflags, 0x202);
}

#[test]
fn packed_bus_addresses_decode_as_the_reference_packs_them() {
    // Segment 1, bus 2, device 3 function 4, dword 5.
    let packed = (1u64 << 32) | (2 << 24) | (((3 << 3) | 4) << 16) | 5;
    assert_eq!(
        bus_address(packed),
        Some(BusAddress { segment: 1, bus: 2, device: 3, function: 4, offset: 20 })
    );
    assert_eq!(bus_address(1023).map(|a| a.offset), Some(4092));
    assert_eq!(bus_address(1024), None, "past the 4 KiB space");
    assert_eq!(bus_address(1 << 48), None, "bits above 47");
}

#[test]
fn mac_and_keys() {
    assert_eq!(mac_value([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]), 0x5254_0012_3456);
    assert_eq!(key_code(b'\r'), 0x1C);
    assert_eq!(key_code(b'\n'), 0x1C);
    assert_eq!(key_code(0x7F), 0x0E);
    assert_eq!(key_code(0x08), 0x0E);
    assert_eq!(key_code(b'a'), b'a');
}

#[test]
fn nvs_ranges_in_device_sectors() {
    assert_eq!(nvs_range(3, 37, 512, 16384), Ok(NvsRange { per_sector: 8, bytes: 37 * 4096 }));
    assert_eq!(nvs_range(0, 2048, 4096, 2048), Ok(NvsRange { per_sector: 1, bytes: 2048 * 4096 }));
    assert_eq!(nvs_range(0, 2049, 4096, 2048), Err(NvsError::OutOfRange));
    assert_eq!(nvs_range(2047, 1, 512, 16383), Err(NvsError::OutOfRange), "last 4 KiB not whole");
    assert_eq!(nvs_range(u64::MAX - 2, 4, 512, u64::MAX), Err(NvsError::OutOfRange));
    assert_eq!(nvs_range(1 << 62, 1, 512, u64::MAX), Err(NvsError::OutOfRange));
    assert_eq!(nvs_range(0, 1 << 60, 4096, u64::MAX), Err(NvsError::OutOfRange));
    assert_eq!(nvs_range(0, 1, 1000, 100), Err(NvsError::SectorSize));
    assert_eq!(nvs_range(0, 1, 8192, 100), Err(NvsError::SectorSize));
    assert_eq!(nvs_range(0, 0, 512, 0), Ok(NvsRange { per_sector: 8, bytes: 0 }));
}

#[test]
fn tagged_tasks_never_look_like_native_entries() {
    let address = 0xFFFF_8000_0000_1230;
    let tagged = tag_task(address);
    assert_eq!(untag_task(tagged), Some(address));
    assert_eq!(untag_task(address), None, "a native entry in the window");
    assert_eq!(untag_task(u64::MAX), None, "the slot's claiming marker");
    assert_eq!(untag_task(0), None, "an empty slot");
    assert_eq!(untag_task(0x1000), None);
}
