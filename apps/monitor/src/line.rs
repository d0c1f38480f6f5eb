//! Reading one command line with editing: backspace, left/right, history with up/down.
//!
//! Input is the console's byte stream: serial bytes as a terminal sends them, and
//! keyboard keys the kernel turns into the same bytes (arrows as `ESC [ A`…`D`).
//! Output redraws with backspaces and spaces only, which both serial terminals and
//! the framebuffer console understand.

use ingot_sdk::{events, print, read_byte};

/// Longest command line.
pub const LINE_BYTES: usize = 120;
/// Lines kept for up/down.
const HISTORY_LINES: usize = 8;

/// A line buffer with a cursor.
#[derive(Clone, Copy)]
pub struct Line {
    bytes: [u8; LINE_BYTES],
    len: usize,
}

impl Line {
    const EMPTY: Self = Self { bytes: [0; LINE_BYTES], len: 0 };

    /// The text typed (bytes outside printable ASCII never get in).
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

/// The editor: the history survives from one line to the next.
pub struct Editor {
    history: [Line; HISTORY_LINES],
    stored: usize,
}

/// Where an escape sequence is.
enum Escape {
    None,
    Started,
    Bracket,
}

impl Editor {
    /// An editor with an empty history.
    pub const fn new() -> Self {
        Self { history: [Line::EMPTY; HISTORY_LINES], stored: 0 }
    }

    /// Reads a line (echoing and editing as keys arrive) until Enter.
    pub fn read_line(&mut self) -> Line {
        let mut line = Line::EMPTY;
        let mut cursor = 0;
        let mut escape = Escape::None;
        // 0 = the line being typed; n = the n-th most recent history line.
        let mut recalled = 0;
        loop {
            let Some(byte) = read_byte() else {
                // Halt until input arrives (a kernel before API 1.4 refuses: spin).
                if events::wait(events::INPUT, events::NO_DEADLINE).is_err() {
                    core::hint::spin_loop();
                }
                continue;
            };
            match (&escape, byte) {
                (Escape::Started, b'[') => {
                    escape = Escape::Bracket;
                    continue;
                }
                (Escape::Bracket, b'A') if recalled < self.stored => {
                    recalled += 1;
                    cursor = replace(&mut line, cursor, &self.recall(recalled));
                }
                (Escape::Bracket, b'B') if recalled > 0 => {
                    recalled -= 1;
                    let next = if recalled == 0 { Line::EMPTY } else { self.recall(recalled) };
                    cursor = replace(&mut line, cursor, &next);
                }
                (Escape::Bracket, b'C') if cursor < line.len => {
                    ingot_sdk::write(&line.bytes[cursor..=cursor]).ok();
                    cursor += 1;
                }
                (Escape::Bracket, b'D') if cursor > 0 => {
                    print!("\x08");
                    cursor -= 1;
                }
                (Escape::None, b'\r' | b'\n') => {
                    print!("\n");
                    if line.len > 0 {
                        self.remember(line);
                    }
                    return line;
                }
                (Escape::None, 0x08 | 0x7F) if cursor > 0 => {
                    line.bytes.copy_within(cursor..line.len, cursor - 1);
                    line.len -= 1;
                    cursor -= 1;
                    print!("\x08");
                    redraw_tail(&line, cursor, 1);
                }
                (Escape::None, 0x1B) => {
                    escape = Escape::Started;
                    continue;
                }
                (Escape::None, 0x20..=0x7E) if line.len < LINE_BYTES => {
                    line.bytes.copy_within(cursor..line.len, cursor + 1);
                    line.bytes[cursor] = byte;
                    line.len += 1;
                    ingot_sdk::write(&line.bytes[cursor..=cursor]).ok();
                    cursor += 1;
                    redraw_tail(&line, cursor, 0);
                }
                _ => {}
            }
            escape = Escape::None;
        }
    }

    fn remember(&mut self, line: Line) {
        self.history.copy_within(0..HISTORY_LINES - 1, 1);
        self.history[0] = line;
        self.stored = (self.stored + 1).min(HISTORY_LINES);
    }

    /// The `n`-th most recent line (1 = the last one).
    fn recall(&self, n: usize) -> Line {
        self.history[n - 1]
    }
}

/// Prints the line from `cursor` to its end, blanks `erased` cells after it, and moves
/// the terminal's cursor back to `cursor`.
fn redraw_tail(line: &Line, cursor: usize, erased: usize) {
    ingot_sdk::write(&line.bytes[cursor..line.len]).ok();
    for _ in 0..erased {
        print!(" ");
    }
    for _ in cursor..line.len + erased {
        print!("\x08");
    }
}

/// Replaces the shown line with `with`; returns the new cursor (its end).
fn replace(line: &mut Line, cursor: usize, with: &Line) -> usize {
    for _ in 0..cursor {
        print!("\x08");
    }
    ingot_sdk::write(&with.bytes[..with.len]).ok();
    let erased = line.len.saturating_sub(with.len);
    for _ in 0..erased {
        print!(" ");
    }
    for _ in 0..erased {
        print!("\x08");
    }
    *line = *with;
    line.len
}
