//! Host tests: the driver against the 8042 model, and the scan-code decoder.

use ingot_device_models::StepClock;
use ingot_device_models::i8042::{CONFIG_PORT1_IRQ, CONFIG_TRANSLATION, I8042Model};

use super::*;

fn started() -> Ps2Keyboard<I8042Model> {
    Ps2Keyboard::start(I8042Model::new(), &StepClock::new()).expect("keyboard starts")
}

fn drain(keyboard: &mut Ps2Keyboard<I8042Model>) -> Vec<u8> {
    core::iter::from_fn(|| keyboard.read_byte()).collect()
}

/// Make then break code of each key in `codes`.
fn taps(codes: &[u8]) -> Vec<u8> {
    codes.iter().flat_map(|&code| [code, code | 0x80]).collect()
}

#[test]
fn start_sets_translation_turns_interrupts_off_and_resets_the_keyboard() {
    let keyboard = started();
    let model = &keyboard.ports;
    assert_ne!(model.config & CONFIG_TRANSLATION, 0);
    assert_eq!(model.config & CONFIG_PORT1_IRQ, 0);
    assert!(model.port1_enabled && model.scanning);
    assert_eq!(model.keyboard_commands, [0xFF, 0xF4]);
}

#[test]
fn stale_bytes_are_flushed_before_set_up() {
    let mut model = I8042Model::new();
    model.type_scancodes(&taps(&[0x1E, 0x30]));
    let mut keyboard = Ps2Keyboard::start(model, &StepClock::new()).expect("starts");
    assert_eq!(drain(&mut keyboard), b"");
}

#[test]
fn a_missing_controller_is_an_error_not_a_hang() {
    let result = Ps2Keyboard::start(I8042Model::absent(), &StepClock::new());
    assert_eq!(result.err(), Some(Ps2Error::NoController));
}

#[test]
fn a_failed_self_test_is_reported_with_its_answer() {
    let mut model = I8042Model::new();
    model.self_test_result = 0xFC;
    let result = Ps2Keyboard::start(model, &StepClock::new());
    assert_eq!(result.err(), Some(Ps2Error::SelfTestFailed(0xFC)));
}

#[test]
fn typed_words_arrive_in_order_with_shift_and_enter() {
    let mut keyboard = started();
    // "Hi 2" then Enter: shift held for H.
    let mut codes = vec![0x2A, 0x23, 0x23 | 0x80, 0xAA];
    codes.extend(taps(&[0x17, 0x39, 0x03, 0x1C]));
    keyboard.ports.type_scancodes(&codes);
    assert_eq!(drain(&mut keyboard), b"Hi 2\r");
}

#[test]
fn caps_lock_changes_letters_only_and_shift_inverts_it() {
    let mut keyboard = started();
    keyboard.ports.type_scancodes(&taps(&[0x3A, 0x1E, 0x02]));
    keyboard.ports.type_scancodes(&[0x36, 0x1E, 0x9E, 0xB6]);
    assert_eq!(drain(&mut keyboard), b"A1a");
    assert!(keyboard.decoder.caps_lock());
}

#[test]
fn ctrl_and_alt_combinations() {
    let mut keyboard = started();
    // ctrl+c, right ctrl (E0 1D) + a, alt+x
    keyboard.ports.type_scancodes(&[0x1D, 0x2E, 0xAE, 0x9D]);
    keyboard.ports.type_scancodes(&[0xE0, 0x1D, 0x1E, 0x9E, 0xE0, 0x9D]);
    keyboard.ports.type_scancodes(&[0x38, 0x2D, 0xAD, 0xB8]);
    assert_eq!(drain(&mut keyboard), b"\x03\x01\x1bx");
}

#[test]
fn arrows_and_editing_keys_become_terminal_sequences() {
    let mut keyboard = started();
    let mut typed = Vec::new();
    for code in [0x48, 0x50, 0x4D, 0x4B, 0x53] {
        keyboard.ports.type_scancodes(&[0xE0, code, 0xE0, code | 0x80]);
        typed.extend(drain(&mut keyboard));
    }
    keyboard.ports.type_scancodes(&taps(&[0x0E]));
    typed.extend(drain(&mut keyboard));
    assert_eq!(typed, b"\x1b[A\x1b[B\x1b[C\x1b[D\x1b[3~\x08");
}

#[test]
fn keypad_gives_digits_and_operators() {
    let mut keyboard = started();
    keyboard.ports.type_scancodes(&taps(&[0x47, 0x4F, 0x52, 0x4E, 0x37, 0x53]));
    let mut typed = drain(&mut keyboard);
    keyboard.ports.type_scancodes(&[0xE0, 0x35, 0xE0, 0xB5, 0xE0, 0x1C, 0xE0, 0x9C]);
    typed.extend(drain(&mut keyboard));
    assert_eq!(typed, b"710+*./\r");
}

#[test]
fn keys_beyond_the_keyboards_buffer_are_the_keyboards_loss_not_a_mix_up() {
    let mut keyboard = started();
    // 9 taps = 18 bytes: one more than the output buffer and the keyboard hold.
    keyboard.ports.type_scancodes(&taps(&[0x1E; 9]));
    assert_eq!(keyboard.ports.keys_dropped, 1);
    assert_eq!(drain(&mut keyboard), b"aaaaaaaaa");
    keyboard.ports.type_scancodes(&taps(&[0x30]));
    // The lost release of the ninth 'a' leaves nothing held: the next key is plain.
    assert_eq!(drain(&mut keyboard), b"b");
}

#[test]
fn fast_typing_within_the_keyboards_buffer_loses_nothing() {
    let mut keyboard = started();
    // 8 keys = 16 bytes typed before the driver polls once.
    let word = [0x14, 0x23, 0x17, 0x31, 0x25, 0x1F, 0x18, 0x11];
    keyboard.ports.type_scancodes(&taps(&word));
    assert_eq!(keyboard.ports.keys_dropped, 0);
    assert_eq!(drain(&mut keyboard), b"thinksow");
}

#[test]
fn enable_interrupt_sets_only_the_port_1_irq_bit_and_keys_still_read() {
    let mut keyboard = started();
    let before = keyboard.ports.config;
    keyboard.enable_interrupt(&StepClock::new()).expect("config written");
    assert_eq!(keyboard.ports.config, before | CONFIG_PORT1_IRQ);
    keyboard.ports.type_scancodes(&taps(&[0x1E]));
    assert_eq!(drain(&mut keyboard), b"a");
}
