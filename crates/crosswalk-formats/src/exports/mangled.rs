//! Values an export mangled beyond repair, which must not pass for data.
//!
//! Two ways exports lose information for good:
//! - PowerShell's `Export-Csv` writes a multi-valued property as the *type name* of the
//!   collection (`Microsoft.ActiveDirectory.Management.ADPropertyValueCollection` from
//!   Get-ADUser, `System.String[]` from Get-MgUser) unless the script joins it first.
//! - An export written in ASCII or the wrong code page turns each letter it cannot encode
//!   into `?` (Windows PowerShell 5.1's `-Encoding ASCII`, `Out-File` to a code page), or the
//!   decoder finds bytes that are not text and puts U+FFFD there.
//!
//! Used as data, the first would become an alias no one has and the second a name that
//! matches no one (`Ren? Dupont`), both silently. So the value is left out and the column is
//! reported once, with how many values and the first line.

use crate::error::{Diagnostic, Location, quoted};

/// What is wrong with a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mangling {
    TypeName,
    LostLetters,
}

/// A .NET type name where a value should be: `System.String[]`,
/// `System.Collections.Generic.List`1[System.String]`,
/// `Microsoft.ActiveDirectory.Management.ADPropertyValueCollection`.
pub(crate) fn is_type_name(value: &str) -> bool {
    let value = value.trim();
    (value.starts_with("System.") || value.starts_with("Microsoft."))
        && value.len() > 8
        && value.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '`' | '[' | ']' | ',' | '+')
        })
        && value
            .split(['[', ']', ',', '`'])
            .next()
            .is_some_and(|head| head.split('.').count() >= 2)
}

/// Letters replaced: U+FFFD anywhere, or a `?` touching a letter (`Ren?`, `J?rgen`), which
/// no name or address holds on purpose.
pub(crate) fn lost_letters(value: &str) -> bool {
    if value.contains('\u{FFFD}') {
        return true;
    }
    let chars: Vec<char> = value.chars().collect();
    chars.iter().enumerate().any(|(i, &c)| {
        c == '?'
            && (i
                .checked_sub(1)
                .and_then(|j| chars.get(j))
                .is_some_and(|c| c.is_alphabetic())
                || chars.get(i + 1).is_some_and(|c| c.is_alphabetic()))
    })
}

/// Checks a value; `None` when it is fine.
pub(crate) fn mangling(value: &str, is_list: bool) -> Option<Mangling> {
    if is_type_name(value) {
        Some(Mangling::TypeName)
    } else if !is_list && lost_letters(value) {
        Some(Mangling::LostLetters)
    } else if is_list && value.contains('\u{FFFD}') {
        Some(Mangling::LostLetters)
    } else {
        None
    }
}

struct Seen {
    column: String,
    kind: Mangling,
    first_line: u64,
    first_value: String,
    count: u64,
}

/// Mangled values met during a read, one entry per column and kind.
#[derive(Default)]
pub(crate) struct Warnings {
    seen: Vec<Seen>,
}

impl Warnings {
    pub(crate) fn note(&mut self, column: &str, kind: Mangling, line: u64, value: &str) {
        if let Some(seen) = self
            .seen
            .iter_mut()
            .find(|s| s.column == column && s.kind == kind)
        {
            seen.count += 1;
            return;
        }
        self.seen.push(Seen {
            column: column.to_string(),
            kind,
            first_line: line,
            first_value: value.to_string(),
            count: 1,
        });
    }

    pub(crate) fn into_diagnostics(self, file: &str) -> Vec<Diagnostic> {
        self.seen
            .into_iter()
            .map(|seen| {
                let values = if seen.count == 1 { "1 value".to_string() } else { format!("{} values", seen.count) };
                let reason = match seen.kind {
                    Mangling::TypeName => format!(
                        "{values} (first {}) are a .NET type name, not data: PowerShell wrote the type of a multi-valued property instead of its items. They were left out. Export the items joined, e.g. Select-Object @{{n='{}';e={{$_.{} -join ';'}}}}",
                        quoted(&seen.first_value),
                        seen.column,
                        seen.column
                    ),
                    Mangling::LostLetters => format!(
                        "{values} (first {}) have `?` or U+FFFD where a letter was: the export lost its accented letters (written as ASCII or in another code page). They were left out. Export again as UTF-8 (Export-Csv -Encoding UTF8), or if the file is ANSI, read it with --encoding windows-1252",
                        quoted(&seen.first_value)
                    ),
                };
                Diagnostic::new(Location::line(file, seen.first_line), Some(&seen.column), reason)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_and_lost_letters_are_told_from_data() {
        assert!(is_type_name(
            "Microsoft.ActiveDirectory.Management.ADPropertyValueCollection"
        ));
        assert!(is_type_name("System.String[]"));
        assert!(is_type_name(
            "System.Collections.Generic.List`1[System.String]"
        ));
        assert!(!is_type_name("System.Admin@acme.com"));
        assert!(!is_type_name("Microsoft Teams Room"));
        assert!(lost_letters("Ren? Dupont"));
        assert!(lost_letters("J?rgen"));
        assert!(lost_letters("Zo\u{FFFD}"));
        assert!(!lost_letters("Q&A ? team"));
        assert!(!lost_letters("René Dupont"));
        assert_eq!(mangling("SMTP:a@b.c;smtp:d@b.c", true), None);
    }
}
