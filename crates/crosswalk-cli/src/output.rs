//! Standard output, written one way by every command.
//!
//! Rust ignores SIGPIPE, so a write to a pipe whose reader has gone (`crosswalk eval | head
//! -1`) fails with `BrokenPipe`, and `println!` panics on that. Commands write through
//! [`outln!`] and [`out!`] instead, which return the error for `?` to pass up, and `main`
//! ends quietly with success when the error is that one ([`reader_gone`]): the reader had
//! what it wanted.

use std::fmt;
use std::io::{self, Write};

/// `println!` that returns the write's error instead of panicking.
macro_rules! outln {
    () => {
        $crate::output::write_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::output::write_line(format_args!($($arg)*))
    };
}

/// `print!` that returns the write's error instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write(format_args!($($arg)*))
    };
}

pub(crate) fn write(text: fmt::Arguments<'_>) -> io::Result<()> {
    io::stdout().lock().write_fmt(text)
}

pub(crate) fn write_line(text: fmt::Arguments<'_>) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_fmt(text)?;
    stdout.write_all(b"\n")
}

/// Whether a command stopped because the reader of its output went away. Only a pipe or a
/// socket can say `BrokenPipe` (a file never does), so that is what it means wherever the
/// error came from: standard output, or a report's `--output` that is a named pipe.
pub(crate) fn reader_gone(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
