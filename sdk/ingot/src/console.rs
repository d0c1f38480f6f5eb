//! `print!`/`println!` for programs, through the kernel's console call.

/// A `core::fmt::Write` sink that sends text to the kernel console.
///
/// # Example
///
/// ```ignore
/// let mut console = ingot_sdk::console::Console;
/// let _ = writeln!(console, "{} + {} = {}", 2, 3, 2 + 3);
/// ```
pub struct Console;

impl core::fmt::Write for Console {
    fn write_str(&mut self, text: &str) -> core::fmt::Result {
        crate::write(text.as_bytes()).map(|_| ()).map_err(|_| core::fmt::Error)
    }
}

#[doc(hidden)]
pub fn print(args: core::fmt::Arguments<'_>) {
    let _ = core::fmt::Write::write_fmt(&mut Console, args);
}

/// Prints to the console.
///
/// # Example
///
/// ```ignore
/// ingot_sdk::print!("no newline, ");
/// ingot_sdk::println!("then one");
/// ```
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::console::print(format_args!($($arg)*)) };
}

/// Prints a line to the console.
///
/// # Example
///
/// ```ignore
/// let written = ingot_sdk::write(b"hello from Rust\n")?;
/// ingot_sdk::println!("{written} bytes written, then formatted: {}", 6 * 7);
/// ```
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::console::print(format_args!("{}\n", format_args!($($arg)*))) };
}
