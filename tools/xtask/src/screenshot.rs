//! Screenshots through QMP `screendump`, checked against the framebuffer console's own
//! rendering of the text the kernel printed on serial.
//!
//! The kernel draws every console line on the screen before sending it to serial, so
//! once a line is on serial the screen must show, pixel for pixel, what
//! `ingot_fbconsole` draws for the same lines from the banner on (grey on black). The
//! check renders those lines into a host buffer of the screenshot's size and counts
//! differing pixels.
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use ingot_fbconsole::{Colours, Console, Surface};

/// Asks the QEMU listening on the QMP socket `socket` for a screendump into `out` (PPM).
pub fn screendump(socket: &Path, out: &Path) -> Result<(), String> {
    let command =
        format!(r#"{{"execute":"screendump","arguments":{{"filename":"{}"}}}}"#, out.display());
    qmp(socket, &[command]).map(|_| ())
}

/// Runs QMP `commands` in order on the QEMU listening on `socket`; returns the replies.
/// An error reply ends the run with that reply as the error.
pub fn qmp(socket: &Path, commands: &[String]) -> Result<Vec<String>, String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let stream = loop {
        match UnixStream::connect(socket) {
            Ok(stream) => break stream,
            Err(e) if Instant::now() > deadline => {
                return Err(format!("cannot connect to QMP at {}: {e}", socket.display()));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    stream.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
    let mut writer = stream.try_clone().map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream);
    let reply = |reader: &mut BufReader<UnixStream>| -> Result<String, String> {
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).map_err(|e| format!("QMP read: {e}"))? == 0 {
                return Err("QMP closed the connection".into());
            }
            if line.contains("\"return\"") || line.contains("\"error\"") {
                return Ok(line);
            }
        }
    };
    let mut greeting = String::new();
    reader.read_line(&mut greeting).map_err(|e| format!("QMP greeting: {e}"))?;
    writeln!(writer, r#"{{"execute":"qmp_capabilities"}}"#).map_err(|e| e.to_string())?;
    reply(&mut reader)?;
    let mut replies = Vec::new();
    for command in commands {
        writeln!(writer, "{command}").map_err(|e| e.to_string())?;
        let answer = reply(&mut reader)?;
        if answer.contains("\"error\"") {
            return Err(format!("QMP {command} failed: {}", answer.trim()));
        }
        replies.push(answer);
    }
    Ok(replies)
}

/// An RGB image as 0xRRGGBB pixels.
pub struct Image {
    width: usize,
    height: usize,
    pixels: Vec<u32>,
}

/// Reads a binary PPM (P6, maxval 255), the format QEMU's screendump writes.
pub fn read_ppm(path: &Path) -> Result<Image, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while at < bytes.len() && !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        if start == at {
            return Err("PPM header cut short".into());
        }
        fields.push(String::from_utf8_lossy(&bytes[start..at]).into_owned());
    }
    let number =
        |text: &str| text.parse::<usize>().map_err(|_| format!("PPM: bad number `{text}`"));
    if fields[0] != "P6" || fields[3] != "255" {
        return Err(format!("not a P6/255 PPM: {} … {}", fields[0], fields[3]));
    }
    let (width, height) = (number(&fields[1])?, number(&fields[2])?);
    let data = &bytes[at + 1..];
    if data.len() < width * height * 3 {
        return Err("PPM pixel data cut short".into());
    }
    let pixels = data
        .as_chunks::<3>()
        .0
        .iter()
        .take(width * height)
        .map(|rgb| u32::from(rgb[0]) << 16 | u32::from(rgb[1]) << 8 | u32::from(rgb[2]))
        .collect();
    Ok(Image { width, height, pixels })
}

impl Surface for Image {
    fn width(&self) -> usize {
        self.width
    }
    fn height(&self) -> usize {
        self.height
    }
    fn put(&mut self, x: usize, y: usize, pixel: u32) {
        self.pixels[y * self.width + x] = pixel;
    }
    fn copy_rows(&mut self, from: usize, to: usize, rows: usize) {
        let w = self.width;
        self.pixels.copy_within(from * w..(from + rows) * w, to * w);
    }
    fn fill_rows(&mut self, y: usize, rows: usize, pixel: u32) {
        let w = self.width;
        self.pixels[y * w..(y + rows) * w].fill(pixel);
    }
}

/// Compares `shot` with the console rendering of `lines`; `Ok` with a summary when
/// every pixel matches.
pub fn compare_with_console(shot: &Image, lines: &[&str]) -> Result<String, String> {
    compare_rows(shot, lines, usize::MAX)
}

/// As [`compare_with_console`], but only the first `rows` text rows (the screen below
/// them, such as a prompt still being typed at, is not compared).
pub fn compare_rows(shot: &Image, lines: &[&str], rows: usize) -> Result<String, String> {
    compare_rendering(shot, lines, "", Some(rows))
}

/// As [`compare_rows`] through the row being typed at: `lines`, then `typed` (no line
/// end), so the cursor must stand just after the typed text. Rows are screen rows, so
/// lines that wrap are counted as the rows they take.
pub fn compare_typing(shot: &Image, lines: &[&str], typed: &str) -> Result<String, String> {
    compare_rendering(shot, lines, typed, None)
}

/// Compares the first `rows` text rows, or (`None`) every row through the cursor's.
fn compare_rendering(
    shot: &Image,
    lines: &[&str],
    typed: &str,
    rows: Option<usize>,
) -> Result<String, String> {
    let blank =
        Image { width: shot.width, height: shot.height, pixels: vec![0; shot.pixels.len()] };
    let colours = Colours::grey_on_black(16, 8, 0);
    let mut console = Console::new(blank, colours).ok_or("screenshot smaller than one cell")?;
    for line in lines {
        console.write_bytes(line.as_bytes());
        console.write_bytes(b"\n");
    }
    console.write_bytes(typed.as_bytes());
    let rows = rows.unwrap_or(console.cursor().1 + 1);
    let expected = console.surface();
    let lit = expected.pixels.iter().filter(|&&p| p != 0).count();
    let compared =
        shot.pixels.len().min(rows.saturating_mul(ingot_fbconsole::CELL_HEIGHT * shot.width));
    let differing: Vec<usize> =
        (0..compared).filter(|&i| shot.pixels[i] != expected.pixels[i]).collect();
    match differing.first() {
        None => Ok(format!("{} lines, {lit} lit pixels match", lines.len())),
        Some(&first) => Err(format!(
            "{} of {} pixels differ from the console rendering; first at x={} y={} (text row {}): got {:#08x}, expected {:#08x}",
            differing.len(),
            shot.pixels.len(),
            first % shot.width,
            first / shot.width,
            first / shot.width / ingot_fbconsole::CELL_HEIGHT,
            shot.pixels[first],
            expected.pixels[first]
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(lines: &[&str]) -> Image {
        let blank = Image { width: 200, height: 64, pixels: vec![0; 200 * 64] };
        let mut console = Console::new(blank, Colours::grey_on_black(16, 8, 0)).unwrap();
        for line in lines {
            console.write_bytes(line.as_bytes());
            console.write_bytes(b"\n");
        }
        let surface = console.surface();
        Image { width: surface.width, height: surface.height, pixels: surface.pixels.clone() }
    }

    #[test]
    fn same_text_matches_other_text_does_not() {
        let shot = rendered(&["Ingot 0.1.0", "ingot: ready"]);
        assert!(compare_with_console(&shot, &["Ingot 0.1.0", "ingot: ready"]).is_ok());
        let error = compare_with_console(&shot, &["Ingot 0.1.1", "ingot: ready"]).unwrap_err();
        assert!(error.contains("text row 0"), "{error}");
        let error = compare_with_console(&shot, &["Ingot 0.1.0"]).unwrap_err();
        assert!(error.contains("text row 1"), "{error}");
    }

    #[test]
    fn typing_is_compared_through_the_cursor_row_even_after_wrapped_lines() {
        let long = "x".repeat(40);
        let shot = {
            let blank = Image { width: 200, height: 64, pixels: vec![0; 200 * 64] };
            let mut console = Console::new(blank, Colours::grey_on_black(16, 8, 0)).unwrap();
            console.write_bytes(format!("{long}\n> V").as_bytes());
            let surface = console.surface();
            Image { width: surface.width, height: surface.height, pixels: surface.pixels.clone() }
        };
        assert!(compare_typing(&shot, &[&long], "> V").is_ok());
        let error = compare_typing(&shot, &[&long], "> ").unwrap_err();
        assert!(error.contains("text row 3"), "{error}");
    }

    #[test]
    fn ppm_round_trip() {
        let path = std::env::temp_dir().join(format!("ingot-ppm-{}.ppm", std::process::id()));
        let mut bytes = b"P6\n2 1\n255\n".to_vec();
        bytes.extend([0xC0, 0xC0, 0xC0, 0, 0, 1]);
        std::fs::write(&path, bytes).unwrap();
        let image = read_ppm(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!((image.width, image.height), (2, 1));
        assert_eq!(image.pixels, [0xC0C0C0, 1]);
    }
}
