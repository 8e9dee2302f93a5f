//! The policy file: TOML deserialised into [`crosswalk_core::Policy`], then validated.
//!
//! Every field is optional (the core's defaults fill the gaps) and an unknown field is an
//! error, so a typo cannot silently leave a safety setting at its default. Errors name the
//! line and the key path (`email.require_verified`, `order[1]`); the toml crate only gives
//! a byte span, so the key path is found by walking the parsed document's spans.
//! `docs/policy.example.toml` shows every field with its default.

use std::ops::Range;
use std::path::Path;

use crosswalk_core::{Policy, PolicyError};
use toml::de::{DeTable, DeValue};

use crate::error::{FormatError, Location};

/// Parses and validates a policy. `source_name` is only used in messages.
pub fn read_policy(source_name: &str, text: &str) -> Result<Policy, FormatError> {
    let policy: Policy =
        toml::from_str(text).map_err(|error| toml_error(source_name, text, &error))?;
    policy
        .validate()
        .map_err(|error| locate_policy_error(source_name, text, error))?;
    Ok(policy)
}

/// A policy error put at the line of its key in the policy's text: validation's own, and
/// those only the directories can show (`crosswalk_core::check_policy_against`).
pub fn locate_policy_error(source_name: &str, text: &str, error: PolicyError) -> FormatError {
    let PolicyError::Invalid { field, problem } = error;
    let line = key_span(text, &field).map(|span| line_of(text, span.start));
    FormatError::invalid(
        Location {
            file: source_name.to_string(),
            line,
            pointer: None,
        },
        Some(&field),
        problem,
    )
}

/// [`locate_policy_error`] for a policy file, read again to find the line (without one if it
/// cannot be read now).
pub fn locate_policy_file_error(path: impl AsRef<Path>, error: PolicyError) -> FormatError {
    let name = path.as_ref().display().to_string();
    let text = std::fs::read_to_string(path.as_ref()).unwrap_or_default();
    locate_policy_error(&name, &text, error)
}

/// [`read_policy`] on a file, named by its path.
pub fn read_policy_file(path: impl AsRef<Path>) -> Result<Policy, FormatError> {
    let (name, reader) = crate::open(path.as_ref())?;
    let text = crate::read_to_string(&name, reader)?;
    read_policy(&name, &text)
}

fn toml_error(source_name: &str, text: &str, error: &toml::de::Error) -> FormatError {
    let span = error.span();
    let line = span.as_ref().map(|span| line_of(text, span.start));
    // A syntax error has no key path; a type or unknown-field error does, and says more.
    let (field, reason) = match (span, DeTable::parse(text)) {
        (Some(span), Ok(document)) => {
            let mut best = Vec::new();
            deepest_path(document.get_ref(), span.start, &mut Vec::new(), &mut best);
            let field = (!best.is_empty()).then(|| render_path(&best));
            (field, error.message().to_string())
        }
        _ => (None, format!("invalid TOML: {}", error.message())),
    };
    FormatError::invalid(
        Location {
            file: source_name.to_string(),
            line,
            pointer: None,
        },
        field.as_deref(),
        reason,
    )
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> u64 {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
        + 1
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

fn contains(span: &Range<usize>, offset: usize) -> bool {
    span.start <= offset && offset < span.end.max(span.start + 1)
}

/// The longest key path whose key or value span contains `offset`. Every entry is visited,
/// because a table's own span may be just its `[header]` line rather than its body.
fn deepest_path(
    table: &DeTable<'_>,
    offset: usize,
    path: &mut Vec<Segment>,
    best: &mut Vec<Segment>,
) {
    for (key, value) in table.iter() {
        path.push(Segment::Key(key.get_ref().to_string()));
        if (contains(&key.span(), offset) || contains(&value.span(), offset))
            && path.len() > best.len()
        {
            best.clone_from(path);
        }
        deepest_in_value(value.get_ref(), offset, path, best);
        path.pop();
    }
}

fn deepest_in_value(
    value: &DeValue<'_>,
    offset: usize,
    path: &mut Vec<Segment>,
    best: &mut Vec<Segment>,
) {
    match value {
        DeValue::Table(table) => deepest_path(table, offset, path, best),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Segment::Index(i));
                if contains(&item.span(), offset) && path.len() > best.len() {
                    best.clone_from(path);
                }
                deepest_in_value(item.get_ref(), offset, path, best);
                path.pop();
            }
        }
        _ => {}
    }
}

/// `email.domain_aliases."acme-corp.com"`, `order[1]`: the spelling the core uses too.
fn render_path(path: &[Segment]) -> String {
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                if !key.is_empty()
                    && key
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                {
                    out.push_str(key);
                } else {
                    out.push_str(&format!("{key:?}"));
                }
            }
            Segment::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Reads a path as [`render_path`] (and `Policy::validate`) writes it.
fn parse_path(path: &str) -> Option<Vec<Segment>> {
    let mut segments = Vec::new();
    let mut chars = path.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            '.' => {
                chars.next();
            }
            '[' => {
                chars.next();
                let digits: String = chars.by_ref().take_while(|&c| c != ']').collect();
                segments.push(Segment::Index(digits.parse().ok()?));
            }
            '"' => {
                chars.next();
                let mut key = String::new();
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            'n' => key.push('\n'),
                            't' => key.push('\t'),
                            'r' => key.push('\r'),
                            other => key.push(other),
                        },
                        other => key.push(other),
                    }
                }
                segments.push(Segment::Key(key));
            }
            _ => {
                let mut key = String::new();
                while let Some(&c) = chars.peek() {
                    if c == '.' || c == '[' {
                        break;
                    }
                    key.push(c);
                    chars.next();
                }
                segments.push(Segment::Key(key));
            }
        }
    }
    Some(segments)
}

/// Where a key path is in the document, to put a line on a validation error.
fn key_span(text: &str, path: &str) -> Option<Range<usize>> {
    let document = DeTable::parse(text).ok()?;
    let mut segments = parse_path(path)?.into_iter();
    let first = segments.next()?;
    let Segment::Key(first) = first else {
        return None;
    };
    let (key, mut value) = document
        .get_ref()
        .iter()
        .find(|(k, _)| k.get_ref() == &first)?;
    let mut span = key.span();
    for segment in segments {
        match (segment, value.get_ref()) {
            (Segment::Key(name), DeValue::Table(table)) => {
                let (key, next) = table.iter().find(|(k, _)| k.get_ref() == &name)?;
                span = key.span();
                value = next;
            }
            (Segment::Index(i), DeValue::Array(items)) => {
                let item = items.get(i)?;
                span = item.span();
                value = item;
            }
            _ => return None,
        }
    }
    Some(span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_and_parse_back() {
        let path = vec![
            Segment::Key("email".into()),
            Segment::Key("domain_aliases".into()),
            Segment::Key("acme-corp.com".into()),
        ];
        assert_eq!(
            render_path(&path),
            r#"email.domain_aliases."acme-corp.com""#
        );
        assert_eq!(parse_path(&render_path(&path)), Some(path));
        assert_eq!(
            parse_path("name.organisation_domains[2]"),
            Some(vec![
                Segment::Key("name".into()),
                Segment::Key("organisation_domains".into()),
                Segment::Index(2)
            ])
        );
        assert_eq!(parse_path("order[x]"), None);
        assert_eq!(parse_path("\"unterminated"), None);
    }
}
