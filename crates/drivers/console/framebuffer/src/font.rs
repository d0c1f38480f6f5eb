//! Ingot's built-in font: printable ASCII in 5×8 glyphs, drawn by hand for this
//! project in `glyphs.txt` (one line per character from 0x20 to 0x7E: the character,
//! then eight rows of five `#`/`.` separated by `|`) and turned into bitmaps at
//! compile time, so the art file is the single source of truth.
//!
//! Capitals, digits and lowercase letters stand on [`BASELINE_ROW`] (lowercase from
//! row 2); the rows below it belong to descenders, so `g`, `j`, `p`, `q` and `y`
//! reach under the line instead of sitting on it.

/// Glyph width in font pixels.
pub const GLYPH_WIDTH: usize = 5;
/// Glyph height in font pixels.
pub const GLYPH_HEIGHT: usize = 8;
/// The lowest row of letters without descenders.
pub const BASELINE_ROW: usize = 6;
const FIRST: u8 = 0x20;
const COUNT: usize = 95;
/// Bytes per line of `glyphs.txt`: the character, then 8 × (`|` + 5 pixels), newline.
const LINE_BYTES: usize = 1 + GLYPH_HEIGHT * (1 + GLYPH_WIDTH) + 1;

/// Each glyph's rows, top first; bit 4 is the leftmost pixel.
static GLYPHS: [[u8; GLYPH_HEIGHT]; COUNT] = parse(include_bytes!("glyphs.txt"));

const fn parse(text: &[u8]) -> [[u8; GLYPH_HEIGHT]; COUNT] {
    assert!(text.len() == COUNT * LINE_BYTES, "glyphs.txt: one 50-byte line per character");
    let mut glyphs = [[0u8; GLYPH_HEIGHT]; COUNT];
    let mut index = 0;
    while index < COUNT {
        let line = index * LINE_BYTES;
        assert!(text[line] == FIRST + index as u8, "glyphs.txt: characters out of order");
        assert!(text[line + LINE_BYTES - 1] == b'\n', "glyphs.txt: line too long");
        let mut row = 0;
        while row < GLYPH_HEIGHT {
            let at = line + 1 + row * (1 + GLYPH_WIDTH);
            assert!(text[at] == b'|', "glyphs.txt: rows are separated by |");
            let mut bits = 0u8;
            let mut column = 0;
            while column < GLYPH_WIDTH {
                bits <<= 1;
                match text[at + 1 + column] {
                    b'#' => bits |= 1,
                    b'.' => {}
                    _ => panic!("glyphs.txt: pixels are # or ."),
                }
                column += 1;
            }
            glyphs[index][row] = bits;
            row += 1;
        }
        index += 1;
    }
    glyphs
}

/// The glyph for `byte`; characters outside printable ASCII draw as `?`.
pub fn glyph(byte: u8) -> &'static [u8; GLYPH_HEIGHT] {
    let index =
        if (FIRST..FIRST + COUNT as u8).contains(&byte) { byte - FIRST } else { b'?' - FIRST };
    &GLYPHS[usize::from(index)]
}

/// Whether font pixel (`x`, `y`) of `byte`'s glyph is set.
pub fn pixel(byte: u8, x: usize, y: usize) -> bool {
    x < GLYPH_WIDTH && y < GLYPH_HEIGHT && glyph(byte)[y] & (1 << (GLYPH_WIDTH - 1 - x)) != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_come_from_the_art() {
        assert_eq!(glyph(b' '), &[0; 8]);
        assert_eq!(
            glyph(b'I'),
            &[0b01110, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110, 0]
        );
        assert!(pixel(b'L', 0, 6) && pixel(b'L', 4, 6) && !pixel(b'L', 4, 5));
        assert_eq!(glyph(b'p')[6..], [0b10000, 0b10000], "the stem of p goes under the line");
        assert_eq!(glyph(0x07), glyph(b'?'));
        assert_eq!(glyph(0xFF), glyph(b'?'));
    }

    /// The lowest row with ink.
    fn bottom(byte: u8) -> usize {
        (0..GLYPH_HEIGHT).rev().find(|&row| glyph(byte)[row] != 0).unwrap()
    }

    #[test]
    fn descenders_reach_below_the_baseline_and_nothing_else_does() {
        for byte in 0x21..0x7F {
            let expected = match byte {
                b'g' | b'j' | b'p' | b'q' | b'y' => BASELINE_ROW + 1,
                _ => bottom(byte).min(BASELINE_ROW),
            };
            assert_eq!(bottom(byte), expected, "{}", byte as char);
        }
        for byte in b'A'..=b'Z' {
            assert_eq!(bottom(byte), BASELINE_ROW, "{}", byte as char);
        }
    }

    #[test]
    fn every_printable_glyph_but_space_has_ink_and_they_differ() {
        for byte in 0x21..0x7F {
            assert!(glyph(byte).iter().any(|&row| row != 0), "{}", byte as char);
        }
        for a in 0x20..0x7F {
            for b in a + 1..0x7F {
                assert_ne!(glyph(a), glyph(b), "{} and {}", a as char, b as char);
            }
        }
    }
}
