//! Limits and characters no identifier holds: every reader refuses with a located error,
//! and a file without line breaks is refused without being read whole.

use crosswalk_formats::limits::{MAX_CSV_RECORD_BYTES, MAX_FIELD_BYTES, MAX_POLICY_BYTES};
use crosswalk_formats::{
    FormatError, ReadOptions, read_directory_csv, read_directory_file, read_exceptions,
    read_policy_file, read_scim,
};

const HEADER: &str = "type,id,username,email,aliases,display_name";

#[track_caller]
fn assert_message(error: FormatError, parts: &[&str]) {
    let message = error.to_string();
    for part in parts {
        assert!(message.contains(part), "message {message:?} lacks {part:?}");
    }
}

/// A reader that gives `len` copies of one byte and then ends: a file without line breaks,
/// never held in memory.
struct Repeat {
    byte: u8,
    len: u64,
}

impl std::io::Read for Repeat {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let n = buffer
            .len()
            .min(usize::try_from(self.len).unwrap_or(usize::MAX));
        buffer[..n].fill(self.byte);
        self.len -= n as u64;
        Ok(n)
    }
}

#[test]
fn a_csv_without_line_breaks_is_refused_at_its_first_line() {
    for byte in [b'a', 0, b'"'] {
        let input = Repeat {
            byte,
            len: 64 * MAX_CSV_RECORD_BYTES,
        };
        let error =
            read_directory_csv("endless.csv", input, ReadOptions::skipping_invalid()).unwrap_err();
        assert_message(error, &["endless.csv:1:", "a CSV record longer than 1 MiB"]);
    }
    // A record that starts further down is located there.
    let start = format!("{HEADER}\naccount,u1,,,,\n\n");
    let input = std::io::Read::chain(
        start.as_bytes(),
        Repeat {
            byte: b'x',
            len: 2 * MAX_CSV_RECORD_BYTES,
        },
    );
    let error = read_directory_csv("accounts.csv", input, ReadOptions::default()).unwrap_err();
    assert_message(error, &["accounts.csv:4:", "longer than 1 MiB"]);
    // A quote left open runs to the end of the file: the same limit says so.
    let open_quote = format!(
        "{HEADER}\naccount,u1,,,,\naccount,u2,,,,\"Doe, John\n{}",
        "account,u3,,,,x\n".repeat(100_000)
    );
    assert_message(
        read_directory_csv("q.csv", open_quote.as_bytes(), ReadOptions::default()).unwrap_err(),
        &["q.csv:3:", "quote left open"],
    );
}

#[cfg(unix)]
#[test]
fn dev_zero_is_refused_without_exhausting_memory() {
    let error = read_directory_file("/dev/zero", ReadOptions::default()).unwrap_err();
    assert_message(error, &["/dev/zero:1:", "longer than 1 MiB"]);
}

#[test]
fn a_value_over_the_field_limit_is_refused_naming_its_field() {
    let long = "x".repeat(MAX_FIELD_BYTES + 1);
    let csv = format!("{HEADER}\naccount,u1,,,,ok\naccount,u2,,,,{long}\n");
    let error =
        read_directory_csv("accounts.csv", csv.as_bytes(), ReadOptions::default()).unwrap_err();
    assert_message(
        error,
        &[
            "accounts.csv:3: field \"display_name\"",
            "longer than 64 KiB",
        ],
    );
    let skipped = read_directory_csv(
        "accounts.csv",
        csv.as_bytes(),
        ReadOptions::skipping_invalid(),
    )
    .unwrap();
    assert_eq!(
        (skipped.directory.accounts.len(), skipped.skipped.len()),
        (1, 1)
    );
    let scim = format!(
        r#"{{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u1","userName":"{long}"}}"#
    );
    let error = read_scim("users.jsonl", scim.as_bytes(), ReadOptions::default()).unwrap_err();
    assert_message(error, &["users.jsonl:1: /userName:", "longer than 64 KiB"]);
    let rules = format!("type,source,destination\naccount,a,{long}\n");
    assert_message(
        read_exceptions("exceptions.csv", rules.as_bytes()).unwrap_err(),
        &["exceptions.csv:2: field \"destination\"", "64 KiB"],
    );
}

#[test]
fn an_exceptions_file_without_line_breaks_is_refused() {
    let input = std::io::Read::chain(
        &b"type,source,destination\naccount,a,\""[..],
        Repeat {
            byte: b'b',
            len: 4 * MAX_CSV_RECORD_BYTES,
        },
    );
    assert_message(
        read_exceptions("exceptions.csv", input).unwrap_err(),
        &["exceptions.csv:2:", "longer than 1 MiB"],
    );
}

#[test]
fn a_policy_over_its_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.toml");
    let text = format!("# policy\n{}", "#".repeat(MAX_POLICY_BYTES as usize + 10));
    std::fs::write(&path, text).unwrap();
    assert_message(
        read_policy_file(&path).unwrap_err(),
        &["policy.toml:2:", "1 MiB"],
    );
}

/// NUL, other control characters and invisible formatting characters are no part of an id,
/// a username or an address: refused with the line (or pointer) and the field.
#[test]
fn control_and_invisible_characters_in_identifiers_are_refused() {
    for (value, column, what) in [
        ("u\u{0}1", "id", "U+0000 (NUL)"),
        ("j\u{0}doe", "username", "U+0000 (NUL)"),
        ("jo\u{1}@acme.com", "email", "U+0001"),
        ("a@b.com;c\u{7f}@d.com", "aliases", "U+007F"),
        (
            "jo\u{200b}hn",
            "username",
            "U+200B, an invisible formatting character",
        ),
        ("\u{202e}nimda", "username", "U+202E"),
    ] {
        let mut cells = ["account", "u9", "", "", "", ""];
        let at = HEADER.split(',').position(|c| c == column).unwrap();
        cells[at] = value;
        let csv = format!("{HEADER}\naccount,u1,,,,\n\"{}\"\n", cells.join("\",\""));
        let error =
            read_directory_csv("accounts.csv", csv.as_bytes(), ReadOptions::default()).unwrap_err();
        assert_message(
            error,
            &[
                &format!("accounts.csv:3: field \"{column}\""),
                what,
                "cannot be part of an identifier",
            ],
        );
    }
    // A display name may hold what a name holds, but never a NUL.
    let csv = format!("{HEADER}\naccount,u1,,,,\"Ann\u{200d}Lee\"\naccount,u2,,,,\"A\u{0}\"\n");
    assert_message(
        read_directory_csv("a.csv", csv.as_bytes(), ReadOptions::default()).unwrap_err(),
        &["a.csv:3: field \"display_name\"", "NUL"],
    );
    let scim = "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"id\":\"u1\",\"emails\":[{\"value\":\"a\\u0000@b.com\"}]}\n";
    assert_message(
        read_scim("u.jsonl", scim.as_bytes(), ReadOptions::default()).unwrap_err(),
        &["u.jsonl:1: /emails:", "NUL"],
    );
    let group = "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"id\":\"g\\u0000\",\"displayName\":\"devs\"}\n";
    assert_message(
        read_scim("g.jsonl", group.as_bytes(), ReadOptions::default()).unwrap_err(),
        &["g.jsonl:1: /id:", "NUL"],
    );
}
