//! A text console on a linear framebuffer, with the built-in [`font`].
//!
//! Each character cell is [`CELL_WIDTH`] × [`CELL_HEIGHT`] pixels holding a 5×8 glyph
//! drawn at twice its size (so 10×16) after a one-pixel left margin; the glyph's last
//! row is for descenders. Text wraps at the right edge, `\n` starts a new line, `\r`
//! returns to column 0, `\t` moves to the next multiple of 8, backspace moves one cell
//! left; when the cursor leaves the last row the screen scrolls up one row.
//!
//! The cursor is a block cursor: the cell at the write position drawn with foreground
//! and background swapped. It is taken off before a write changes anything and put
//! back at the new position afterwards, so it never stays behind or scrolls up with
//! the text. To redraw the cell under it the console remembers the bytes of the
//! current row (rows below it are always blank).
//!
//! The console draws through the [`Surface`] trait, so it is tested on the host
//! against a pixel buffer; the platform supplies the real framebuffer.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod font;

/// Font pixels are drawn as SCALE × SCALE screen pixels.
pub const SCALE: usize = 2;
/// Cell width in screen pixels.
pub const CELL_WIDTH: usize = font::GLYPH_WIDTH * SCALE + 2;
/// Cell height in screen pixels.
pub const CELL_HEIGHT: usize = font::GLYPH_HEIGHT * SCALE;
/// Where the glyph starts inside its cell, from the left (it fills the cell's height).
const MARGIN: usize = 1;
/// Most text columns used, however wide the screen (the current row is kept in a
/// buffer of this size).
pub const MAX_COLUMNS: usize = 1024;

/// A rectangle of 32-bit pixels the console draws on.
pub trait Surface {
    /// Width in pixels.
    fn width(&self) -> usize;
    /// Height in pixels.
    fn height(&self) -> usize;
    /// Sets one pixel (coordinates are always inside the surface).
    fn put(&mut self, x: usize, y: usize, pixel: u32);
    /// Copies `rows` whole pixel rows from row `from` to row `to` (`to` < `from`).
    fn copy_rows(&mut self, from: usize, to: usize, rows: usize);
    /// Fills `rows` whole pixel rows from row `y` with `pixel`.
    fn fill_rows(&mut self, y: usize, rows: usize, pixel: u32);
}

/// Text colours as raw pixel values in the surface's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colours {
    /// Glyph pixels.
    pub foreground: u32,
    /// Everything else.
    pub background: u32,
}

impl Colours {
    /// Foreground and background swapped: how the cursor cell is drawn.
    pub fn inverted(self) -> Self {
        Self { foreground: self.background, background: self.foreground }
    }

    /// Light grey on black for a pixel format with 8-bit channels at these bit positions.
    pub fn grey_on_black(red_shift: u8, green_shift: u8, blue_shift: u8) -> Self {
        let grey = 0xC0u32;
        Self {
            foreground: (grey << red_shift) | (grey << green_shift) | (grey << blue_shift),
            background: 0,
        }
    }
}

/// The console: a cursor over a surface.
pub struct Console<S: Surface> {
    surface: S,
    colours: Colours,
    columns: usize,
    rows: usize,
    column: usize,
    row: usize,
    /// The bytes drawn in the current row, for redrawing the cell under the cursor.
    line: [u8; MAX_COLUMNS],
}

/// Form feed: clears the screen and puts the cursor top left (the monitor's `cls`).
pub const FORM_FEED: u8 = 0x0C;

impl<S: Surface> Console<S> {
    /// A console filling `surface`, which is cleared. `None` if not even one cell fits.
    pub fn new(mut surface: S, colours: Colours) -> Option<Self> {
        let columns = (surface.width() / CELL_WIDTH).min(MAX_COLUMNS);
        let rows = surface.height() / CELL_HEIGHT;
        if columns == 0 || rows == 0 {
            return None;
        }
        let height = surface.height();
        surface.fill_rows(0, height, colours.background);
        let line = [b' '; MAX_COLUMNS];
        let mut console = Self { surface, colours, columns, rows, column: 0, row: 0, line };
        console.show_cursor(true);
        Some(console)
    }

    /// Text columns and rows.
    pub fn size(&self) -> (usize, usize) {
        (self.columns, self.rows)
    }

    /// The cursor (column, row).
    pub fn cursor(&self) -> (usize, usize) {
        (self.column, self.row)
    }

    /// The surface, for inspection.
    pub fn surface(&self) -> &S {
        &self.surface
    }

    /// Writes bytes (ASCII; anything unprintable draws as `?`) and moves the cursor
    /// after them.
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.show_cursor(false);
        for &byte in bytes {
            self.write_byte(byte);
        }
        self.show_cursor(true);
    }

    /// Draws the cell at the cursor with (`true`) or without the cursor.
    fn show_cursor(&mut self, shown: bool) {
        let colours = if shown { self.colours.inverted() } else { self.colours };
        let (left, top) = (self.column * CELL_WIDTH, self.row * CELL_HEIGHT);
        draw_cell(&mut self.surface, colours, left, top, self.line[self.column]);
    }

    fn write_byte(&mut self, byte: u8) {
        match byte {
            b'\n' => self.new_line(),
            b'\r' => self.column = 0,
            b'\t' => {
                let next = (self.column / 8 + 1) * 8;
                while self.column < next.min(self.columns) {
                    self.draw(b' ');
                }
                if self.column >= self.columns {
                    self.new_line();
                }
            }
            0x08 => self.column = self.column.saturating_sub(1),
            FORM_FEED => {
                let height = self.surface.height();
                self.surface.fill_rows(0, height, self.colours.background);
                self.line.fill(b' ');
                (self.column, self.row) = (0, 0);
            }
            _ => {
                self.draw(byte);
                if self.column >= self.columns {
                    self.new_line();
                }
            }
        }
    }

    /// Draws `byte` at the cursor and advances it (no wrap).
    fn draw(&mut self, byte: u8) {
        let (left, top) = (self.column * CELL_WIDTH, self.row * CELL_HEIGHT);
        draw_cell(&mut self.surface, self.colours, left, top, byte);
        self.line[self.column] = byte;
        self.column += 1;
    }

    fn new_line(&mut self) {
        self.column = 0;
        self.line.fill(b' ');
        if self.row + 1 < self.rows {
            self.row += 1;
            return;
        }
        let text_height = self.rows * CELL_HEIGHT;
        self.surface.copy_rows(CELL_HEIGHT, 0, text_height - CELL_HEIGHT);
        self.surface.fill_rows(text_height - CELL_HEIGHT, CELL_HEIGHT, self.colours.background);
    }
}

impl<S: Surface> core::fmt::Write for Console<S> {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        self.write_bytes(text.as_bytes());
        Ok(())
    }
}

/// Draws one whole cell (glyph and background) with its top-left corner at (`left`, `top`).
pub fn draw_cell(surface: &mut impl Surface, colours: Colours, left: usize, top: usize, byte: u8) {
    for y in 0..CELL_HEIGHT {
        for x in 0..CELL_WIDTH {
            surface.put(left + x, top + y, cell_pixel(colours, byte, x, y));
        }
    }
}

/// The pixel at (`x`, `y`) inside the cell of `byte`: what a screenshot must show.
pub fn cell_pixel(colours: Colours, byte: u8, x: usize, y: usize) -> u32 {
    if x >= MARGIN && font::pixel(byte, (x - MARGIN) / SCALE, y / SCALE) {
        colours.foreground
    } else {
        colours.background
    }
}

#[cfg(test)]
mod tests;
