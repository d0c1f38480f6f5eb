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

    /// The text the buffer shows, recognised cell by cell against the font.
    fn text_row(&self, row: usize, columns: usize) -> String {
        (0..columns)
            .map(|column| {
                (0x20u8..0x7F)
                    .find(|&byte| {
                        (0..CELL_HEIGHT).all(|y| {
                            (0..CELL_WIDTH).all(|x| {
                                let at =
                                    (row * CELL_HEIGHT + y) * self.width + column * CELL_WIDTH + x;
                                self.pixels[at] == cell_pixel(COLOURS, byte, x, y)
                            })
                        })
                    })
                    .map_or('#', char::from)
            })
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
    // The 'I' at (0,0): font row 0 is .###. so pixels x=3..9 of y=1..2 are lit.
    let p = &c.surface().pixels;
    let width = c.surface().width;
    assert_eq!(p[width + 2], 0);
    assert_eq!(p[width + 3], COLOURS.foreground);
    assert_eq!(p[2 * width + 8], COLOURS.foreground);
    assert_eq!(p[2 * width + 9], 0);
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
}

#[test]
fn the_spare_margin_is_cleared_but_never_drawn() {
    let c = console(2, 1);
    let b = c.surface();
    assert!(b.pixels.iter().all(|&p| p == 0));
    assert!(Console::new(Buffer::new(CELL_WIDTH - 1, 100), COLOURS).is_none());
}

#[test]
fn colours_follow_the_pixel_format() {
    assert_eq!(Colours::grey_on_black(16, 8, 0).foreground, 0x00C0_C0C0);
    assert_eq!(Colours::grey_on_black(0, 8, 16).foreground, 0x00C0_C0C0);
    assert_eq!(Colours::grey_on_black(24, 16, 8).foreground, 0xC0C0_C000);
}
