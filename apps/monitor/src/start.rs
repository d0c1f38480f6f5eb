//! What the monitor does before its first prompt, chosen by the words the kernel
//! passed it (`init=NAME ARGS...` on the kernel command line, or `init` without one):
//! - no `init=` (the word `init`): run `init.app` from BMFS if there is one, as
//!   BareMetal's monitor does, then prompt;
//! - `init=monitor`: prompt at once, whatever BMFS holds;
//! - `init=NAME ARGS...`: run NAME (or NAME.app) from BMFS with those arguments and
//!   hand its status to the kernel (so `exit=` applies as for a boot program); if it
//!   cannot run or faults, say so and prompt.

/// Longest argument text rebuilt from the words (the kernel's command line holds at
/// most 1023 bytes; quotes may be added around words with blanks).
const ARGS_TEXT_BYTES: usize = 1536;

/// The choice.
pub enum Start {
    /// Prompt at once.
    Shell,
    /// Run `init.app` if present, then prompt.
    InitApp,
    /// Run the program the words name, with them ([`ArgsText::from_words`]).
    Program,
}

/// The choice for the first word the kernel passed (the program it was told to run).
pub fn choose(first: Option<&str>) -> Start {
    match first {
        None | Some("init") => Start::InitApp,
        Some("monitor" | "monitor.app") => Start::Shell,
        Some(_) => Start::Program,
    }
}

/// Words joined into the text `program_run_args` takes: blank-separated, a word with
/// blanks in double quotes.
pub struct ArgsText {
    bytes: [u8; ARGS_TEXT_BYTES],
    len: usize,
}

impl Default for ArgsText {
    fn default() -> Self {
        Self { bytes: [0; ARGS_TEXT_BYTES], len: 0 }
    }
}

impl ArgsText {
    /// `words` as text (words past the text's room are left off).
    pub fn from_words<'a>(words: impl Iterator<Item = &'a str>) -> Self {
        let mut text = Self::default();
        for word in words {
            if !text.push_word(word) {
                break;
            }
        }
        text
    }

    /// Appends `word`; false (and nothing appended) if it does not fit.
    fn push_word(&mut self, word: &str) -> bool {
        let quoted = word.is_empty() || word.contains(|c: char| c.is_ascii_whitespace());
        let needed = word.len() + usize::from(self.len > 0) + if quoted { 2 } else { 0 };
        if self.len + needed > self.bytes.len() {
            return false;
        }
        if self.len > 0 {
            self.put(b" ");
        }
        let quote: &[u8] = if quoted { b"\"" } else { b"" };
        self.put(quote);
        self.put(word.as_bytes());
        self.put(quote);
        true
    }

    fn put(&mut self, bytes: &[u8]) {
        self.bytes[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }

    /// The program's name: the first word.
    pub fn name(&self) -> &str {
        self.as_str().split(' ').next().unwrap_or("").trim_matches('"')
    }
}
