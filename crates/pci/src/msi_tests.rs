//! MSI and MSI-X programming against the device model of the capability structures
//! and the MSI-X table: the messages the function sends afterwards are compared.

extern crate std;

use ingot_device_models::msi::{ADDRESS, BAR0_BASE, MsiFunctionModel, Signal, TABLE_OFFSET};

use crate::msi::{self, MsiError, MsiMessage};
use crate::{PciConfig, PciFunction, Root, enumerate};

fn found(model: &MsiFunctionModel) -> PciFunction {
    let functions = enumerate(model, &[Root { segment: 0, first_bus: 0, last_bus: 0 }]);
    functions.into_iter().find(|f| f.address == ADDRESS).expect("the model's function")
}

#[test]
fn messages_are_the_x86_fixed_format() {
    let message = MsiMessage::fixed(3, 0x41).unwrap();
    assert_eq!((message.address, message.data), (0xFEE0_3000, 0x41));
    assert_eq!(MsiMessage::fixed(256, 0x41), Err(MsiError::DestinationTooLarge(256)));
    assert_eq!(MsiMessage::fixed(0, 15), Err(MsiError::BadVector(15)));
}

#[test]
fn msi_64_bit_with_masking_sends_the_programmed_message() {
    let model = MsiFunctionModel::new(true, 4, 0);
    let function = found(&model);
    assert_eq!(model.signal(0), Signal::Intx, "before: the INTx line");
    // Firmware left vector 0 masked.
    model.write_u32(ADDRESS, 0x50 + 0x10, 1);
    msi::enable_msi(&model, &function, MsiMessage::fixed(2, 0x33).unwrap()).unwrap();
    assert_eq!(model.signal(0), Signal::Message { address: 0xFEE0_2000, data: 0x33 });
    // One vector only (multiple-message enable 0), INTx disabled.
    assert_eq!((model.read_u16(ADDRESS, 0x52) >> 4) & 7, 0);
    assert_ne!(model.read_u16(ADDRESS, 4) & (1 << 10), 0);
    msi::disable_messages(&model, &function);
    assert_eq!(model.signal(0), Signal::Nothing, "INTx stays disabled");
    msi::enable_intx(&model, &function);
    assert_eq!(model.signal(0), Signal::Intx);
    assert_eq!(msi::intx_line(&model, &function), Some(11));
}

#[test]
fn msi_32_bit_puts_data_after_the_low_address() {
    let model = MsiFunctionModel::new(false, 4, 0);
    let function = found(&model);
    assert!(!function.msi.unwrap().address_64);
    msi::enable_msi(&model, &function, MsiMessage::fixed(0, 0x30).unwrap()).unwrap();
    assert_eq!(model.signal(0), Signal::Message { address: 0xFEE0_0000, data: 0x30 });
}

#[test]
fn msix_programs_the_listed_entries_and_masks_the_rest() {
    let model = MsiFunctionModel::new(true, 8, 0xDEAD_BEEF);
    let function = found(&model);
    let (bar, offset, len) = msi::msix_table_location(&function).unwrap();
    assert_eq!(bar.memory().map(|(base, _)| base as u32), Some(BAR0_BASE));
    assert_eq!((offset, len), (u64::from(TABLE_OFFSET), 8 * 16));
    let entries =
        [(0, MsiMessage::fixed(0, 0x40).unwrap()), (2, MsiMessage::fixed(1, 0x41).unwrap())];
    msi::enable_msix(&model, &function, &model.table(), &entries).unwrap();
    assert_eq!(model.signal(0), Signal::Message { address: 0xFEE0_0000, data: 0x40 });
    assert_eq!(model.signal(1), Signal::Pending, "an entry not listed stays masked");
    assert_eq!(model.signal(2), Signal::Message { address: 0xFEE0_1000, data: 0x41 });
    assert_eq!(model.signal(7), Signal::Pending);
    // No message with the garbage the table held went out at any point.
    assert!(
        model
            .sent()
            .iter()
            .all(|signal| !matches!(signal, Signal::Message { data: 0xDEAD_BEEF, .. }))
    );
    // Function mask off, MSI-X on, INTx off.
    assert_eq!(model.read_u16(ADDRESS, 0x72) >> 14, 0b10);
    assert_ne!(model.read_u16(ADDRESS, 4) & (1 << 10), 0);
}

#[test]
fn msix_refuses_bad_entries_and_tables() {
    let model = MsiFunctionModel::new(true, 4, 0);
    let function = found(&model);
    let message = MsiMessage::fixed(0, 0x40).unwrap();
    assert_eq!(
        msi::enable_msix(&model, &function, &model.table(), &[(4, message)]),
        Err(MsiError::NoSuchEntry(4))
    );
    assert_eq!(model.read_u16(ADDRESS, 0x72) >> 15, 0, "nothing enabled after a refusal");
    let small = MsiFunctionModel::new(true, 2, 0);
    assert_eq!(
        msi::enable_msix(&model, &function, &small.table(), &[(0, message)]),
        Err(MsiError::BadTable)
    );
    let mut past_bar = function.clone();
    past_bar.msix.as_mut().unwrap().table.1 = 0x3FF0;
    assert_eq!(msi::msix_table_location(&past_bar).map(|_| ()), Err(MsiError::BadTable));
    let mut none = function.clone();
    (none.msi, none.msix) = (None, None);
    assert_eq!(msi::enable_msi(&model, &none, message), Err(MsiError::NotSupported));
    assert_eq!(msi::msix_table_location(&none).map(|_| ()), Err(MsiError::NotSupported));
}

#[test]
fn an_msix_entry_is_aimed_elsewhere_without_a_half_written_message() {
    let model = MsiFunctionModel::new(true, 4, 0);
    let function = found(&model);
    let entries =
        [(0, MsiMessage::fixed(0, 0x40).unwrap()), (1, MsiMessage::fixed(0, 0x41).unwrap())];
    msi::enable_msix(&model, &function, &model.table(), &entries).unwrap();
    msi::aim_msix_entry(&model.table(), 1, MsiMessage::fixed(3, 0x41).unwrap());
    assert_eq!(model.signal(1), Signal::Message { address: 0xFEE0_3000, data: 0x41 });
    assert_eq!(model.signal(0), Signal::Message { address: 0xFEE0_0000, data: 0x40 });
    // Every message sent went to one of the two whole destinations.
    assert!(model.sent().iter().all(|signal| match signal {
        Signal::Message { address, .. } => [0xFEE0_0000, 0xFEE0_3000].contains(address),
        _ => true,
    }));
    // An entry past the table is left alone.
    msi::aim_msix_entry(&model.table(), 4, MsiMessage::fixed(3, 0x42).unwrap());
    assert_eq!(model.signal(3), Signal::Pending);
}
