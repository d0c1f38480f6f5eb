//! A text console on a linear framebuffer, with the built-in [`font`].
//!
//! Each character cell is [`CELL_WIDTH`] × [`CELL_HEIGHT`] pixels holding a 5×7 glyph
//! drawn at twice its size (so 10×14) with a one-pixel margin. Text wraps at the right
//! edge, `\n` starts a new line, `\r` returns to column 0, `\t` moves to the next
//! multiple of 8, backspace moves one cell left; when the cursor leaves the last row
//! the screen scrolls up one row. The console draws through the [`Surface`] trait,
//! so it is tested on the host against a pixel buffer; the platform supplies the real
//! framebuffer.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod font;

/// Font pixels are drawn as SCALE × SCALE screen pixels.
pub const SCALE: usize = 2;
/// Cell width in screen pixels.
pub const CELL_WIDTH: usize = font::GLYPH_WIDTH * SCALE + 2;
/// Cell height in screen pixels.
pub const CELL_HEIGHT: usize = font::GLYPH_HEIGHT * SCALE + 2;
/// Where the glyph starts inside its cell.
const MARGIN: usize = 1;

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
}

impl<S: Surface> Console<S> {
    /// A console filling `surface`, which is cleared. `None` if not even one cell fits.
    pub fn new(mut surface: S, colours: Colours) -> Option<Self> {
        let columns = surface.width() / CELL_WIDTH;
        let rows = surface.height() / CELL_HEIGHT;
        if columns == 0 || rows == 0 {
            return None;
        }
        let height = surface.height();
        surface.fill_rows(0, height, colours.background);
        Some(Self { surface, colours, columns, rows, column: 0, row: 0 })
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

    /// Writes bytes (ASCII; anything unprintable draws as `?`).
    pub fn write_bytes(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_byte(byte);
        }
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
        self.column += 1;
    }

    fn new_line(&mut self) {
        self.column = 0;
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
    let inside = x >= MARGIN && y >= MARGIN;
    if inside && font::pixel(byte, (x - MARGIN) / SCALE, (y - MARGIN) / SCALE) {
        colours.foreground
    } else {
        colours.background
    }
}

#[cfg(test)]
mod tests;
