//! `print!`/`println!` for programs, through the kernel's console call.

/// A `core::fmt::Write` sink that sends text to the kernel console.
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
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::console::print(format_args!($($arg)*)) };
}

/// Prints a line to the console.
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::console::print(format_args!("{}\n", format_args!($($arg)*))) };
}
