//! Host tests: the driver against the xHCI model with devices on its root ports.

use ingot_device_models::xhci::{UsbDevice, XhciModel};
use ingot_device_models::{HostBuffer, HostMemory, StepClock};

use super::*;

type TestKeyboard = Keyboard<XhciModel, HostBuffer, StepClock>;

fn controller(ports: Vec<Option<UsbDevice>>) -> (XhciModel, HostMemory) {
    let memory = HostMemory::new(4 << 20);
    (XhciModel::new(memory.clone(), ports), memory)
}

fn started(model: &XhciModel, memory: &HostMemory) -> Result<TestKeyboard, XhciError> {
    start(model.clone(), &mut memory.dma(), StepClock::new())
}

fn report(modifiers: u8, keys: &[u8]) -> [u8; 8] {
    let mut report = [0u8; 8];
    report[0] = modifiers;
    report[2..2 + keys.len()].copy_from_slice(keys);
    report
}

fn drain(keyboard: &mut TestKeyboard) -> Vec<u8> {
    core::iter::from_fn(|| keyboard.read_byte()).take(256).collect()
}

#[test]
fn finds_the_keyboard_behind_an_empty_port_and_a_storage_device() {
    let (model, memory) =
        controller(vec![None, Some(UsbDevice::storage()), Some(UsbDevice::keyboard())]);
    let keyboard = started(&model, &memory).expect("keyboard found");
    let state = model.state();
    // The storage device was read but left unconfigured; the keyboard was set up.
    assert_eq!(state.ports[1].as_ref().unwrap().configured, None);
    let device = state.ports[2].as_ref().unwrap();
    assert_eq!(device.configured, Some(1));
    assert_eq!(device.protocol, Some(0), "boot protocol");
    assert_eq!(keyboard.endpoint, 3, "endpoint 1 IN is device context index 3");
    assert_eq!(state.commands_seen, [9, 11, 9, 11, 12]);
}

#[test]
fn reports_become_typed_bytes_in_order() {
    let (model, memory) = controller(vec![Some(UsbDevice::keyboard())]);
    let mut keyboard = started(&model, &memory).expect("keyboard found");
    let mut typed = Vec::new();
    for r in [
        report(0x02, &[0x0B]),
        report(0, &[]),
        report(0, &[0x0C]),
        report(0, &[]),
        report(0, &[0x52]),
        report(0, &[]),
        report(0, &[0x28]),
        report(0, &[]),
    ] {
        model.send_report(r);
        // One transfer is queued at a time: the driver must take each report and
        // re-arm the endpoint before the next one can arrive.
        typed.extend(drain(&mut keyboard));
    }
    assert_eq!(typed, b"Hi\x1b[A\r");
}

#[test]
fn rings_wrap_over_many_reports() {
    let (model, memory) = controller(vec![Some(UsbDevice::keyboard())]);
    let mut keyboard = started(&model, &memory).expect("keyboard found");
    let mut typed = Vec::new();
    // 200 reports: past the 16-TRB transfer ring and the 64-TRB event ring many times.
    for round in 0..100 {
        let key = 0x04 + (round % 26) as u8;
        model.send_report(report(0, &[key]));
        typed.extend(drain(&mut keyboard));
        model.send_report(report(0, &[]));
        typed.extend(drain(&mut keyboard));
    }
    let expected: Vec<u8> = (0..100).map(|round| b'a' + (round % 26) as u8).collect();
    assert_eq!(typed, expected);
    assert_eq!(model.state().events_dropped, 0);
}

#[test]
fn sixty_four_byte_contexts_and_scratchpads() {
    let (model, memory) = controller(vec![Some(UsbDevice::keyboard())]);
    model.state().big_contexts = true;
    model.state().scratchpads = 4;
    let mut keyboard = started(&model, &memory).expect("keyboard found");
    model.send_report(report(0, &[0x1E]));
    assert_eq!(drain(&mut keyboard), b"1");
}

#[test]
fn no_keyboard_no_device_and_a_dead_controller_are_errors() {
    let (model, memory) = controller(vec![None, Some(UsbDevice::storage())]);
    assert_eq!(started(&model, &memory).err(), Some(XhciError::NoKeyboard));
    let (model, memory) = controller(vec![]);
    assert_eq!(started(&model, &memory).err(), Some(XhciError::NoKeyboard));
    let (model, memory) = controller(vec![Some(UsbDevice::keyboard())]);
    model.state().never_ready = true;
    assert_eq!(started(&model, &memory).err(), Some(XhciError::NotReady));
}

#[test]
fn a_stalled_descriptor_request_names_the_step_and_code() {
    let mut device = UsbDevice::keyboard();
    device.stall_descriptor = true;
    let (model, memory) = controller(vec![Some(device)]);
    assert_eq!(
        started(&model, &memory).err(),
        Some(XhciError::Failed("get configuration descriptor", 6))
    );
}

#[test]
fn a_held_key_repeats() {
    let (model, memory) = controller(vec![Some(UsbDevice::keyboard())]);
    let mut keyboard = started(&model, &memory).expect("keyboard found");
    model.send_report(report(0, &[0x07]));
    assert_eq!(keyboard.read_byte(), Some(b'd'));
    // The step clock advances 10 µs per reading: polling long enough passes the
    // 500 ms delay, and the held 'd' comes again.
    let again = (0..200_000).find_map(|_| keyboard.read_byte());
    assert_eq!(again, Some(b'd'));
    model.send_report(report(0, &[]));
    assert_eq!(drain(&mut keyboard), b"");
}

#[test]
fn a_failed_report_transfer_ends_the_keyboard_without_spinning() {
    let (model, memory) = controller(vec![Some(UsbDevice::keyboard())]);
    let mut keyboard = started(&model, &memory).expect("keyboard found");
    model.state().fail_next_report = Some(STALL_CODE);
    model.send_report(report(0, &[0x04]));
    assert_eq!(keyboard.read_byte(), None);
    assert_eq!(keyboard.failed(), Some(STALL_CODE as u8));
    model.send_report(report(0, &[0x05]));
    assert_eq!(keyboard.read_byte(), None);
}

const STALL_CODE: u32 = ingot_device_models::xhci::STALL;
