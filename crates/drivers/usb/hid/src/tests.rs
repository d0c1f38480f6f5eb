//! Host tests: boot reports as a keyboard sends them, and what they type.

use super::*;

fn report(modifiers: u8, keys: &[u8]) -> [u8; 8] {
    let mut report = [0u8; 8];
    report[0] = modifiers;
    report[2..2 + keys.len()].copy_from_slice(keys);
    report
}

/// Feeds reports (all at time 0) and collects what they typed.
fn typed(keyboard: &mut BootKeyboard, reports: &[[u8; 8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in reports {
        let mut buffer = [0u8; 64];
        let n = keyboard.report(r, 0).write_to(&mut buffer);
        out.extend_from_slice(&buffer[..n]);
    }
    out
}

#[test]
fn presses_type_once_releases_type_nothing() {
    let mut keyboard = BootKeyboard::new();
    // h, i held together then released one by one, then Enter.
    let reports = [
        report(0, &[0x0B]),
        report(0, &[0x0B, 0x0C]),
        report(0, &[0x0C]),
        report(0, &[]),
        report(0, &[0x28]),
        report(0, &[]),
    ];
    assert_eq!(typed(&mut keyboard, &reports), b"hi\r");
}

#[test]
fn shift_caps_lock_ctrl_and_alt() {
    let mut keyboard = BootKeyboard::new();
    let reports = [
        report(LEFT_SHIFT, &[0x04]), // A
        report(0, &[]),
        report(RIGHT_SHIFT, &[0x1F]), // @
        report(0, &[]),
        report(0, &[CAPS_LOCK]),
        report(0, &[0x05]), // B (caps)
        report(LEFT_SHIFT, &[]),
        report(LEFT_SHIFT, &[0x06]), // c (shift undoes caps)
        report(0, &[]),
        report(LEFT_CTRL, &[0x06]), // ctrl+c
        report(0, &[]),
        report(LEFT_ALT, &[0x1B]), // alt+x (caps on: X)
        report(0, &[]),
    ];
    assert_eq!(typed(&mut keyboard, &reports), b"A@Bc\x03\x1bX");
    assert!(keyboard.caps_lock());
}

#[test]
fn arrows_editing_keys_and_keypad() {
    let mut keyboard = BootKeyboard::new();
    let reports = [
        report(0, &[0x52]),
        report(0, &[]),
        report(0, &[0x51]),
        report(0, &[]),
        report(0, &[0x4F]),
        report(0, &[]),
        report(0, &[0x50]),
        report(0, &[]),
        report(0, &[0x4C]),
        report(0, &[]),
        report(0, &[0x2A]),
        report(0, &[]),
        report(0, &[0x59, 0x62, 0x57]),
        report(0, &[]),
    ];
    assert_eq!(typed(&mut keyboard, &reports), b"\x1b[A\x1b[B\x1b[C\x1b[D\x1b[3~\x0810+");
}

#[test]
fn roll_over_and_short_reports_change_nothing() {
    let mut keyboard = BootKeyboard::new();
    assert_eq!(typed(&mut keyboard, &[report(0, &[0x04])]), b"a");
    // Phantom state while 'a' is still held: no new press, and 'a' stays held.
    assert_eq!(typed(&mut keyboard, &[report(0, &[ROLL_OVER; 6])]), b"");
    assert_eq!(keyboard.report(&[0, 0, 0x05], 0).count, 0);
    assert_eq!(typed(&mut keyboard, &[report(0, &[0x04])]), b"");
    assert_eq!(typed(&mut keyboard, &[report(0, &[0x04, 0x05])]), b"b");
}

#[test]
fn a_held_key_repeats_after_the_delay_then_at_the_interval() {
    let mut keyboard = BootKeyboard::new();
    keyboard.report(&report(0, &[0x07]), 1_000);
    assert_eq!(keyboard.repeat(1_000 + REPEAT_DELAY_NS - 1), None);
    let first = keyboard.repeat(1_000 + REPEAT_DELAY_NS).map(|k| k.as_slice().to_vec());
    assert_eq!(first.as_deref(), Some(&b"d"[..]));
    let at = 1_000 + REPEAT_DELAY_NS;
    assert_eq!(keyboard.repeat(at + REPEAT_INTERVAL_NS - 1), None);
    assert!(keyboard.repeat(at + REPEAT_INTERVAL_NS).is_some());
    // Released: no more repeats.
    keyboard.report(&report(0, &[]), at + REPEAT_INTERVAL_NS + 1);
    assert_eq!(keyboard.repeat(at + 10 * REPEAT_DELAY_NS), None);
}

#[test]
fn the_last_key_pressed_is_the_one_that_repeats() {
    let mut keyboard = BootKeyboard::new();
    keyboard.report(&report(0, &[0x04]), 0);
    keyboard.report(&report(0, &[0x04, 0x05]), 10);
    let again = keyboard.repeat(10 + REPEAT_DELAY_NS).map(|k| k.as_slice().to_vec());
    assert_eq!(again.as_deref(), Some(&b"b"[..]));
    // 'b' released while 'a' is still held: nothing repeats (as PC keyboards do).
    keyboard.report(&report(0, &[0x04]), 20);
    assert_eq!(keyboard.repeat(20 + 2 * REPEAT_DELAY_NS), None);
}
