//! True line numbers for CSV records.
//!
//! The csv crate gives each record the position where it *started looking* for it, which
//! is before any blank or comment lines it skipped on the way; a message quoting that line
//! would send the reader to a blank line. So the input goes through [`Tee`], which keeps
//! the bytes csv has not finished with, and [`LineFinder::start_line`] skips what csv
//! skipped (`\r`, `\n`, and comment lines, exactly csv-core's rule at a record's start).
//! The window is compacted as records are done with, so memory stays at about one read
//! buffer whatever the file size.

use std::cell::RefCell;
use std::io::Read;
use std::rc::Rc;

use crate::limits::{Budget, MAX_CSV_RECORD_BYTES};

#[derive(Default)]
struct Window {
    bytes: Vec<u8>,
    /// Stream offset of `bytes[0]`.
    base: u64,
}

/// Passes reads through, keeping a copy for [`LineFinder`], and refuses a record longer
/// than [`MAX_CSV_RECORD_BYTES`]: the window (and csv's own buffer) would otherwise grow
/// with it, and a file without line breaks is one endless record.
pub(crate) struct Tee<R> {
    inner: R,
    window: Rc<RefCell<Window>>,
    budget: Budget,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buffer)?;
        self.budget.spend(n)?;
        self.window
            .borrow_mut()
            .bytes
            .extend_from_slice(&buffer[..n]);
        Ok(n)
    }
}

/// Finds where records really start, from the bytes a [`Tee`] kept.
pub(crate) struct LineFinder {
    window: Rc<RefCell<Window>>,
    comment: Option<u8>,
    budget: Budget,
    /// Where the record after the last one released starts (csv's position there).
    next_record: RefCell<csv::Position>,
}

/// Wraps `input`; `comment` must be the comment byte given to the csv reader.
pub(crate) fn tee<R: Read>(input: R, comment: Option<u8>) -> (Tee<R>, LineFinder) {
    let window = Rc::new(RefCell::new(Window::default()));
    let budget = Budget::new("a CSV record", MAX_CSV_RECORD_BYTES);
    let finder = LineFinder {
        window,
        comment,
        budget: budget.clone(),
        next_record: RefCell::new(csv::Position::new()),
    };
    (
        Tee {
            inner: input,
            window: Rc::clone(&finder.window),
            budget,
        },
        finder,
    )
}

impl LineFinder {
    /// The 1-based line a record starts on, given the position csv reported for it.
    pub(crate) fn start_line(&self, position: &csv::Position) -> u64 {
        let window = self.window.borrow();
        let mut line = position.line();
        let Some(start) = position.byte().checked_sub(window.base) else {
            return line;
        };
        let mut bytes = window
            .bytes
            .iter()
            .skip(usize::try_from(start).unwrap_or(usize::MAX));
        let mut at_line_start = true;
        let mut in_comment = false;
        for &byte in bytes.by_ref() {
            match byte {
                b'\n' => {
                    line += 1;
                    at_line_start = true;
                    in_comment = false;
                }
                b'\r' if !in_comment => at_line_start = true,
                _ if in_comment => {}
                byte if at_line_start && Some(byte) == self.comment => in_comment = true,
                _ => break,
            }
        }
        line
    }

    /// The line the record being read starts on: the one after the last released. (The
    /// reader's own position moves on inside a record, a quoted one over many lines.)
    pub(crate) fn current_record_line(&self) -> u64 {
        self.start_line(&self.next_record.borrow())
    }

    /// Forgets the bytes before `end` (the end of the record just handled) once enough
    /// have piled up to make moving the rest worthwhile. The next record's size is counted
    /// from here (give or take the read-ahead of one buffer).
    pub(crate) fn release(&self, end: &csv::Position) {
        self.budget.mark();
        self.next_record.replace(end.clone());
        let offset = end.byte();
        let mut window = self.window.borrow_mut();
        let done = usize::try_from(offset.saturating_sub(window.base)).unwrap_or(usize::MAX);
        if done >= (1 << 20) && done <= window.bytes.len() {
            window.bytes.drain(..done);
            window.base = offset;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str, comment: Option<u8>) -> Vec<u64> {
        let (input, finder) = tee(text.as_bytes(), comment);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .comment(comment)
            .from_reader(input);
        let mut record = csv::ByteRecord::new();
        let mut out = Vec::new();
        while reader.read_byte_record(&mut record).unwrap() {
            out.push(finder.start_line(record.position().unwrap()));
            finder.release(reader.position());
        }
        out
    }

    #[test]
    fn skips_what_csv_skips() {
        assert_eq!(lines("a\nb\n", None), [1, 2]);
        assert_eq!(lines("a\n\n\nb\n", None), [1, 4]);
        assert_eq!(lines("a\r\n\r\n\r\nb\r\nc", None), [1, 4, 5]);
        assert_eq!(lines("\n#x,\"y\n#\n\na\n#c\nb\n", Some(b'#')), [5, 7]);
        assert_eq!(lines("a,\"1\n2\"\n\nb\n", None), [1, 4]);
        assert_eq!(lines("\u{feff}a\n\nb", None), [1, 3]);
    }
}
