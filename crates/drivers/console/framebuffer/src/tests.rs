//! Host tests: the console drawn into a plain pixel buffer.

use super::*;

struct Buffer {
    width: usize,
    height: usize,
    pixels: Vec<u32>,
}

impl Buffer {
    fn new(width: usize, height: usize) -> Self {
        Self { width, height, pixels: vec![0xDEAD; width * height] }
    }

    /// Whether the cell at (`column`, `row`) shows exactly `byte` in `colours`.
    fn cell_is(&self, column: usize, row: usize, byte: u8, colours: Colours) -> bool {
        (0..CELL_HEIGHT).all(|y| {
            (0..CELL_WIDTH).all(|x| {
                let at = (row * CELL_HEIGHT + y) * self.width + column * CELL_WIDTH + x;
                self.pixels[at] == cell_pixel(colours, byte, x, y)
            })
        })
    }

    /// The byte a cell shows, and whether the cursor is on it (`None`: no glyph).
    fn cell(&self, column: usize, row: usize) -> Option<(u8, bool)> {
        (0x20u8..0x7F).find_map(|byte| {
            if self.cell_is(column, row, byte, COLOURS) {
                Some((byte, false))
            } else if self.cell_is(column, row, byte, COLOURS.inverted()) {
                Some((byte, true))
            } else {
                None
            }
        })
    }

    /// The text the buffer shows, recognised cell by cell against the font (the cursor
    /// cell as the byte under it; `#` for a cell that is no glyph).
    fn text_row(&self, row: usize, columns: usize) -> String {
        (0..columns)
            .map(|column| self.cell(column, row).map_or('#', |(b, _)| char::from(b)))
            .collect()
    }

    /// Every cell drawn as the cursor, as (column, row).
    fn cursor_cells(&self, columns: usize, rows: usize) -> Vec<(usize, usize)> {
        (0..rows)
            .flat_map(|row| (0..columns).map(move |column| (column, row)))
            .filter(|&(column, row)| self.cell(column, row).is_some_and(|(_, cursor)| cursor))
            .collect()
    }
}

impl Surface for Buffer {
    fn width(&self) -> usize {
        self.width
    }
    fn height(&self) -> usize {
        self.height
    }
    fn put(&mut self, x: usize, y: usize, pixel: u32) {
        assert!(x < self.width && y < self.height);
        self.pixels[y * self.width + x] = pixel;
    }
    fn copy_rows(&mut self, from: usize, to: usize, rows: usize) {
        self.pixels.copy_within(from * self.width..(from + rows) * self.width, to * self.width);
    }
    fn fill_rows(&mut self, y: usize, rows: usize, pixel: u32) {
        self.pixels[y * self.width..(y + rows) * self.width].fill(pixel);
    }
}

const COLOURS: Colours = Colours { foreground: 0x00C0_C0C0, background: 0 };

fn console(columns: usize, rows: usize) -> Console<Buffer> {
    // One spare pixel column and row: the console must use whole cells only.
    Console::new(Buffer::new(columns * CELL_WIDTH + 1, rows * CELL_HEIGHT + 1), COLOURS).unwrap()
}

#[test]
fn draws_text_pixel_exactly() {
    let mut c = console(20, 3);
    c.write_bytes(b"Ingot 0.1.0\nready");
    assert_eq!(c.surface().text_row(0, 20), "Ingot 0.1.0         ");
    assert_eq!(c.surface().text_row(1, 20), "ready               ");
    assert_eq!(c.cursor(), (5, 1));
    assert_eq!(c.surface().cursor_cells(20, 3), [(5, 1)]);
    // The 'I' at (0,0): font row 0 is .###. so pixels x=3..9 of y=0..1 are lit.
    let p = &c.surface().pixels;
    let width = c.surface().width;
    assert_eq!(p[2], 0);
    assert_eq!(p[3], COLOURS.foreground);
    assert_eq!(p[width + 8], COLOURS.foreground);
    assert_eq!(p[width + 9], 0);
}

/// The lowest pixel row of cell (`column`, 0) with foreground pixels.
fn lowest_ink(buffer: &Buffer, column: usize) -> usize {
    (0..CELL_HEIGHT)
        .rev()
        .find(|&y| {
            (0..CELL_WIDTH).any(|x| {
                buffer.pixels[y * buffer.width + column * CELL_WIDTH + x] == COLOURS.foreground
            })
        })
        .unwrap()
}

#[test]
fn descenders_hang_below_the_baseline() {
    let mut c = console(8, 2);
    c.write_bytes(
        b"ingot
",
    );
    assert_eq!(c.surface().text_row(0, 8), "ingot   ");
    let b = c.surface();
    let baseline = lowest_ink(b, 0); // 'i'
    assert_eq!(baseline, (font::BASELINE_ROW + 1) * SCALE - 1);
    assert_eq!(lowest_ink(b, 1), baseline, "n sits on the baseline");
    assert!(lowest_ink(b, 2) > baseline, "g reaches below it");
    assert_eq!(lowest_ink(b, 2), CELL_HEIGHT - 1);
    let mut c = console(8, 2);
    c.write_bytes(
        b"agpqyj
",
    );
    let a = lowest_ink(c.surface(), 0);
    for column in 1..6 {
        assert_eq!(lowest_ink(c.surface(), column), a + SCALE, "column {column}");
    }
}

#[test]
fn the_cursor_follows_the_text_and_is_erased_behind_it() {
    let mut c = console(6, 3);
    assert_eq!(c.surface().cursor_cells(6, 3), [(0, 0)], "shown from the start");
    assert!(c.surface().cell_is(0, 0, b' ', COLOURS.inverted()), "a block on a blank cell");
    c.write_bytes(b"ab");
    assert_eq!(c.surface().cursor_cells(6, 3), [(2, 0)]);
    assert!(c.surface().cell_is(1, 0, b'b', COLOURS), "b drawn plainly");
    c.write_bytes(b"c");
    assert_eq!(c.surface().cursor_cells(6, 3), [(3, 0)]);
    assert!(c.surface().cell_is(2, 0, b'c', COLOURS), "the cursor's old cell redrawn");
    // Back over text: the cursor shows the character under it, which reappears after.
    c.write_bytes(b"\r");
    assert_eq!(c.surface().cell(0, 0), Some((b'a', true)));
    assert!(c.surface().cell_is(3, 0, b' ', COLOURS));
    c.write_bytes(b"\x08x\x08");
    assert_eq!(c.surface().cell(0, 0), Some((b'x', true)));
    c.write_bytes(b"\n");
    assert_eq!(c.surface().cell(0, 0), Some((b'x', false)));
    assert_eq!(c.surface().cursor_cells(6, 3), [(0, 1)]);
    // Wrapping at the right edge moves it to the next row.
    c.write_bytes(b"123456");
    assert_eq!(c.surface().cursor_cells(6, 3), [(0, 2)]);
    assert_eq!(c.surface().text_row(1, 6), "123456");
}

#[test]
fn the_cursor_does_not_scroll_up_with_the_text() {
    let mut c = console(6, 2);
    c.write_bytes(b"one\ntwo\nthree");
    assert_eq!(c.surface().text_row(0, 6), "two   ");
    assert_eq!(c.surface().text_row(1, 6), "three ");
    assert_eq!(c.surface().cursor_cells(6, 2), [(5, 1)]);
    c.write_bytes(b"\n");
    assert_eq!(c.surface().text_row(0, 6), "three ", "scrolled without the cursor");
    assert_eq!(c.surface().cursor_cells(6, 2), [(0, 1)], "only in the new blank row");
    assert_eq!(c.surface().text_row(1, 6), "      ");
}

#[test]
fn wraps_and_scrolls() {
    let mut c = console(4, 2);
    c.write_bytes(b"abcdefgh\nij");
    // "abcd" then wrap "efgh", wrap → scroll; then "\n" → scroll again; then "ij".
    assert_eq!(c.surface().text_row(0, 4), "    ");
    assert_eq!(c.surface().text_row(1, 4), "ij  ");
    let mut c = console(4, 2);
    c.write_bytes(b"ab\ncd\nef");
    assert_eq!(c.surface().text_row(0, 4), "cd  ");
    assert_eq!(c.surface().text_row(1, 4), "ef  ");
}

#[test]
fn control_characters() {
    let mut c = console(16, 2);
    c.write_bytes(b"xyz\rA\tB\x08C\x01");
    // The tab draws blanks over "yz"; C replaces B; 0x01 is unprintable.
    assert_eq!(c.surface().text_row(0, 16), "A       C?      ");
    assert_eq!(c.surface().cursor_cells(16, 2), [(10, 0)]);
}

#[test]
fn the_spare_margin_is_cleared_but_never_drawn() {
    let c = console(2, 1);
    let b = c.surface();
    // Only the cursor block at (0, 0) is lit; the spare column and row stay background.
    for y in 0..b.height {
        for x in 0..b.width {
            let cursor = x < CELL_WIDTH && y < CELL_HEIGHT;
            let expected = if cursor { cell_pixel(COLOURS.inverted(), b' ', x, y) } else { 0 };
            assert_eq!(b.pixels[y * b.width + x], expected, "({x}, {y})");
        }
    }
    assert!(Console::new(Buffer::new(CELL_WIDTH - 1, 100), COLOURS).is_none());
}

#[test]
fn colours_follow_the_pixel_format() {
    assert_eq!(Colours::grey_on_black(16, 8, 0).foreground, 0x00C0_C0C0);
    assert_eq!(Colours::grey_on_black(0, 8, 16).foreground, 0x00C0_C0C0);
    assert_eq!(Colours::grey_on_black(24, 16, 8).foreground, 0xC0C0_C000);
}

#[test]
fn form_feed_clears_the_screen_and_homes_the_cursor() {
    let mut console = console(6, 3);
    console.write_bytes(b"abc\ndef\ngh");
    console.write_bytes(&[FORM_FEED]);
    assert_eq!(console.cursor(), (0, 0));
    for row in 0..3 {
        assert_eq!(console.surface().text_row(row, 6), "      ", "row {row}");
    }
    assert_eq!(console.surface().cursor_cells(6, 3), vec![(0, 0)]);
    console.write_bytes(b"ok");
    assert_eq!(console.surface().text_row(0, 6), "ok    ");
}
