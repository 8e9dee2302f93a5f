//! Character encodings and CSV delimiters of the files platforms export.
//!
//! Exports come as UTF-8 with or without a byte order mark (Entra, Google, Atlassian),
//! UTF-16 with a BOM (Windows PowerShell 5.1's `Export-Csv -Encoding Unicode`, and what
//! Excel's "Unicode text" writes), or an ANSI code page (Windows-1252) when an older script
//! wrote them. A BOM decides by itself; Windows-1252 cannot be told from UTF-8 by looking,
//! so it is used only when asked for. [`Decoder`] turns any of them into UTF-8 as it reads,
//! so the CSV reader behind it sees one encoding and memory stays at one buffer.
//!
//! The conversions are the standard library's (`char::decode_utf16`) and the 32-entry table
//! below (the WHATWG index for windows-1252, bytes 0x80 to 0x9F; every other byte is the
//! Unicode code point of the same number), which is all these four encodings need.

use std::io::{self, Read};

/// An encoding an export may be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    Utf8,
    Utf16Le,
    Utf16Be,
    Windows1252,
}

impl Encoding {
    /// The names accepted by `--encoding` (and after `+` in a `FORMAT+ENCODING:PATH` source).
    pub const NAMES: &'static str = "utf-8, utf-16le, utf-16be, windows-1252";

    /// Parses a name as people write it: `utf-8`, `UTF8`, `utf-16le`, `unicode` (what
    /// PowerShell calls UTF-16 LE), `windows-1252`, `cp1252`, `ansi`, `latin1`.
    pub fn parse(name: &str) -> Option<Encoding> {
        let name: String = name
            .trim()
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .collect();
        match name.to_ascii_lowercase().as_str() {
            "utf8" => Some(Encoding::Utf8),
            "utf16" | "utf16le" | "unicode" => Some(Encoding::Utf16Le),
            "utf16be" | "bigendianunicode" => Some(Encoding::Utf16Be),
            "windows1252" | "cp1252" | "ansi" | "latin1" | "iso88591" => {
                Some(Encoding::Windows1252)
            }
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf16Le => "utf-16le",
            Encoding::Utf16Be => "utf-16be",
            Encoding::Windows1252 => "windows-1252",
        }
    }

    /// The encoding a byte order mark at the start of `bytes` announces, and its length.
    pub fn from_bom(bytes: &[u8]) -> Option<(Encoding, usize)> {
        if bytes.starts_with(b"\xEF\xBB\xBF") {
            Some((Encoding::Utf8, 3))
        } else if bytes.starts_with(b"\xFF\xFE") {
            Some((Encoding::Utf16Le, 2))
        } else if bytes.starts_with(b"\xFE\xFF") {
            Some((Encoding::Utf16Be, 2))
        } else {
            None
        }
    }
}

/// Windows-1252 bytes 0x80..=0x9F. The five bytes the code page leaves undefined map to the
/// C1 control of the same number, as WHATWG's decoder does.
const WINDOWS_1252_HIGH: [char; 32] = [
    '\u{20AC}', '\u{0081}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{008D}', '\u{017D}', '\u{008F}',
    '\u{0090}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}', '\u{0153}', '\u{009D}', '\u{017E}', '\u{0178}',
];

fn windows_1252(byte: u8) -> char {
    match byte {
        0x80..=0x9F => WINDOWS_1252_HIGH[usize::from(byte - 0x80)],
        _ => char::from(byte),
    }
}

/// Reads `inner` in `encoding` and yields UTF-8. A byte order mark at the start is dropped
/// (whichever encoding it is, it is not data). Unpaired UTF-16 surrogates become U+FFFD,
/// which the readers then report as a mangled value; a dangling odd byte at the end of a
/// UTF-16 file is an error, since the file was cut short.
pub struct Decoder<R> {
    inner: R,
    encoding: Encoding,
    /// Raw bytes read but not yet decoded (an odd UTF-16 byte, half a surrogate pair).
    raw: Vec<u8>,
    /// Decoded UTF-8 not yet handed out, from `out_start`.
    out: Vec<u8>,
    out_start: usize,
    at_start: bool,
    at_end: bool,
}

impl<R: Read> Decoder<R> {
    pub fn new(inner: R, encoding: Encoding) -> Decoder<R> {
        Decoder {
            inner,
            encoding,
            raw: Vec::new(),
            out: Vec::new(),
            out_start: 0,
            at_start: true,
            at_end: false,
        }
    }

    /// Reads and decodes the next chunk into `out`; `false` at the end of the input.
    fn refill(&mut self) -> io::Result<bool> {
        self.out.clear();
        self.out_start = 0;
        while self.out.is_empty() {
            if self.at_end {
                return Ok(false);
            }
            let mut chunk = [0u8; 1 << 15];
            let n = self.inner.read(&mut chunk)?;
            if n == 0 {
                self.at_end = true;
            }
            self.raw.extend_from_slice(&chunk[..n]);
            if self.at_start {
                // Wait for enough bytes to see a whole byte order mark.
                if self.raw.len() < 3 && !self.at_end {
                    continue;
                }
                self.at_start = false;
                if let Some((_, len)) =
                    Encoding::from_bom(&self.raw).filter(|(bom, _)| *bom == self.encoding)
                {
                    self.raw.drain(..len);
                }
            }
            self.decode()?;
        }
        Ok(true)
    }

    fn decode(&mut self) -> io::Result<()> {
        let mut buffer = [0u8; 4];
        match self.encoding {
            Encoding::Utf8 => {
                self.out.append(&mut self.raw);
            }
            Encoding::Windows1252 => {
                for &byte in &self.raw {
                    self.out
                        .extend_from_slice(windows_1252(byte).encode_utf8(&mut buffer).as_bytes());
                }
                self.raw.clear();
            }
            Encoding::Utf16Le | Encoding::Utf16Be => {
                let mut usable = self.raw.len() & !1;
                if !self.at_end && usable >= 2 {
                    // Keep a trailing high surrogate for the next chunk, where its pair is.
                    let last = unit(&self.raw, self.encoding, usable - 2);
                    if (0xD800..0xDC00).contains(&last) {
                        usable -= 2;
                    }
                }
                let (raw, encoding, out) = (&self.raw, self.encoding, &mut self.out);
                let units = (0..usable).step_by(2).map(|i| unit(raw, encoding, i));
                for decoded in char::decode_utf16(units) {
                    let c = decoded.unwrap_or(char::REPLACEMENT_CHARACTER);
                    out.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
                }
                self.raw.drain(..usable);
                if self.at_end && !self.raw.is_empty() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "the file ends in the middle of a UTF-16 character (an odd number of bytes); was it cut short?",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The UTF-16 code unit at byte `i` of `raw`.
fn unit(raw: &[u8], encoding: Encoding, i: usize) -> u16 {
    let pair = [raw[i], raw[i + 1]];
    match encoding {
        Encoding::Utf16Be => u16::from_be_bytes(pair),
        _ => u16::from_le_bytes(pair),
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        if self.out_start >= self.out.len() && !self.refill()? {
            return Ok(0);
        }
        let available = &self.out[self.out_start..];
        let n = available.len().min(buffer.len());
        buffer[..n].copy_from_slice(&available[..n]);
        self.out_start += n;
        Ok(n)
    }
}

/// The encoding of a file that starts with `start`: the one its BOM names, else `asked`,
/// else UTF-8. A BOM that contradicts what was asked wins, because it cannot be data.
pub fn choose_encoding(start: &[u8], asked: Option<Encoding>) -> Encoding {
    if let Some((bom, _)) = Encoding::from_bom(start) {
        return bom;
    }
    // UTF-16 without a BOM: ASCII text has a NUL in every other byte.
    if asked.is_none() && start.len() >= 4 {
        let pairs = start.len() / 2;
        let even_nul = start
            .iter()
            .step_by(2)
            .take(pairs)
            .filter(|&&b| b == 0)
            .count();
        let odd_nul = start
            .iter()
            .skip(1)
            .step_by(2)
            .take(pairs)
            .filter(|&&b| b == 0)
            .count();
        if odd_nul * 2 > pairs && even_nul == 0 {
            return Encoding::Utf16Le;
        }
        if even_nul * 2 > pairs && odd_nul == 0 {
            return Encoding::Utf16Be;
        }
    }
    asked.unwrap_or(Encoding::Utf8)
}

/// The delimiter of a CSV file, judged from its header line: whichever of `,` `;` and tab
/// occurs most outside double quotes (a comma on a tie, and with none at all, since a
/// one-column file has no delimiter to find). Column names hold none of the three, so the
/// header is a fair judge where a data line (a display name "Doe, John") would not be.
pub fn sniff_delimiter(header: &str) -> u8 {
    let (mut commas, mut semicolons, mut tabs) = (0usize, 0usize, 0usize);
    let mut quoted = false;
    for c in header.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => commas += 1,
            ';' if !quoted => semicolons += 1,
            '\t' if !quoted => tabs += 1,
            '\n' if !quoted => break,
            _ => {}
        }
    }
    if tabs > commas && tabs >= semicolons {
        b'\t'
    } else if semicolons > commas {
        b';'
    } else {
        b','
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8], encoding: Encoding) -> io::Result<String> {
        let mut text = String::new();
        // One byte at a time, so every boundary case (BOM, surrogate pairs) is crossed.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
                let Some((&first, rest)) = self.0.split_first() else {
                    return Ok(0);
                };
                if buffer.is_empty() {
                    return Ok(0);
                }
                buffer[0] = first;
                self.0 = rest;
                Ok(1)
            }
        }
        Decoder::new(Trickle(bytes), encoding).read_to_string(&mut text)?;
        Ok(text)
    }

    fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
        let mut bytes = Vec::new();
        let units = bom.then_some(0xFEFF).into_iter().chain(text.encode_utf16());
        for unit in units {
            bytes.extend_from_slice(&if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            });
        }
        bytes
    }

    #[test]
    fn decodes_each_encoding_and_drops_the_bom() {
        let text = "Zoë;Müller;😀;€\r\n";
        assert_eq!(
            decode(
                &[b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
                Encoding::Utf8
            )
            .unwrap(),
            text
        );
        assert_eq!(
            decode(&utf16(text, false, true), Encoding::Utf16Le).unwrap(),
            text
        );
        assert_eq!(
            decode(&utf16(text, true, true), Encoding::Utf16Be).unwrap(),
            text
        );
        assert_eq!(
            decode(b"Zo\xEB \x80 \x93x\x94", Encoding::Windows1252).unwrap(),
            "Zoë € \u{201C}x\u{201D}"
        );
    }

    #[test]
    fn a_cut_utf16_file_is_an_error_and_a_lone_surrogate_is_replaced() {
        let mut bytes = utf16("ab", false, true);
        bytes.push(b'c');
        assert!(decode(&bytes, Encoding::Utf16Le).is_err());
        let lone = [0xFF, 0xFE, 0x00, 0xD8, b'a', 0];
        assert_eq!(decode(&lone, Encoding::Utf16Le).unwrap(), "\u{FFFD}a");
    }

    #[test]
    fn the_bom_decides_then_what_was_asked() {
        assert_eq!(
            choose_encoding(b"\xFF\xFEa\0", Some(Encoding::Windows1252)),
            Encoding::Utf16Le
        );
        assert_eq!(choose_encoding(b"\xFE\xFF\0a", None), Encoding::Utf16Be);
        assert_eq!(
            choose_encoding(b"abc", Some(Encoding::Windows1252)),
            Encoding::Windows1252
        );
        assert_eq!(choose_encoding(b"a\0b\0c\0", None), Encoding::Utf16Le);
        assert_eq!(choose_encoding(b"abc,def", None), Encoding::Utf8);
        assert_eq!(Encoding::parse("Unicode"), Some(Encoding::Utf16Le));
        assert_eq!(Encoding::parse("CP-1252"), Some(Encoding::Windows1252));
        assert_eq!(Encoding::parse("ebcdic"), None);
    }

    #[test]
    fn delimiter_from_the_header() {
        assert_eq!(sniff_delimiter("a,b,c"), b',');
        assert_eq!(sniff_delimiter("\"a\";\"b\";\"c\""), b';');
        assert_eq!(sniff_delimiter("a\tb\tc\n1,2,3,4,5"), b'\t');
        assert_eq!(sniff_delimiter("\"a;b\",c"), b',');
        assert_eq!(sniff_delimiter("single"), b',');
    }
}
