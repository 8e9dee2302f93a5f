//! Matching keys. Originals are never changed: these functions derive the folded forms
//! the engine compares, and say what the fold did so the evidence can show it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;

/// Caseless matching key for free text: NFKC, full case folding, NFKC again (the fold can
/// produce sequences that need recomposing). Turkish `İ`/`ı` fold to plain `i`, because the
/// default fold turns `İ` into `i` plus a combining dot that never matches the Latin letter.
/// Pure ASCII takes a fast path that gives the same answer.
pub fn fold(text: &str) -> Cow<'_, str> {
    let text = text.trim();
    if text.is_ascii() {
        if text.bytes().any(|b| b.is_ascii_uppercase()) {
            return Cow::Owned(text.to_ascii_lowercase());
        }
        return Cow::Borrowed(text);
    }
    let dotless: String = text
        .chars()
        .map(|c| match c {
            '\u{130}' | '\u{131}' => 'i',
            other => other,
        })
        .collect();
    let nfkc: String = dotless.nfkc().collect();
    let folded = caseless::default_case_fold_str(&nfkc);
    Cow::Owned(folded.nfkc().collect())
}

/// Why an address cannot be used as a matching key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidEmail {
    Empty,
    NoAt,
    SeveralAts,
    EmptyLocalPart,
    BadLocalPart,
    BadDomain,
}

impl InvalidEmail {
    pub fn describe(self) -> &'static str {
        match self {
            InvalidEmail::Empty => "is empty",
            InvalidEmail::NoAt => "has no @",
            InvalidEmail::SeveralAts => "has more than one @",
            InvalidEmail::EmptyLocalPart => "has nothing before the @",
            InvalidEmail::BadLocalPart => "has spaces or control characters before the @",
            InvalidEmail::BadDomain => "has no valid domain after the @",
        }
    }
}

/// An address reduced to the key it matches on: folded local part, `@`, the ASCII (IDNA)
/// domain after domain aliases.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailKey {
    pub key: String,
    /// The folded address with its domain in Unicode, for look-alike (skeleton) comparison:
    /// a Cyrillic domain must be compared as letters, not as punycode.
    pub lookalike_form: String,
    /// What normalisation did, for the evidence: empty when the key is the address as given.
    pub note: String,
}

/// Domain aliases from the policy, folded once: `alias domain -> canonical domain`.
#[derive(Debug, Clone, Default)]
pub struct DomainAliases {
    map: BTreeMap<String, String>,
}

impl DomainAliases {
    pub fn new(aliases: &BTreeMap<String, String>) -> DomainAliases {
        let map = aliases
            .iter()
            .filter_map(|(from, to)| Some((domain_key(from)?, domain_key(to)?)))
            .collect();
        DomainAliases { map }
    }

    fn canonical<'a>(&'a self, domain: &'a str) -> &'a str {
        self.map.get(domain).map_or(domain, String::as_str)
    }
}

/// ASCII form of a domain (IDNA ToASCII, lowercase, no trailing dot), or `None` when it
/// is not a plausible mail domain (needs a dot, LDH labels).
pub fn domain_key(domain: &str) -> Option<String> {
    let domain = domain.trim().trim_end_matches('.');
    if domain.is_empty() {
        return None;
    }
    let ascii = if domain.is_ascii() {
        domain.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(domain).ok()?
    };
    let labels: Vec<&str> = ascii.split('.').collect();
    if labels.len() < 2 {
        return None;
    }
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    labels.iter().all(label_ok).then_some(ascii)
}

/// Strips the prefixes directories put before addresses: `SMTP:`/`smtp:` (AD proxyAddresses)
/// and `mailto:`.
pub fn strip_address_prefix(raw: &str) -> &str {
    let raw = raw.trim();
    for prefix in ["smtp:", "mailto:"] {
        // `get` rather than slicing: the prefix length may fall inside a multi-byte character.
        if let (Some(head), Some(rest)) = (raw.get(..prefix.len()), raw.get(prefix.len()..)) {
            if head.eq_ignore_ascii_case(prefix) && !rest.is_empty() {
                return rest.trim();
            }
        }
    }
    raw
}

/// Parses an address into its matching key, or says why it cannot be one.
pub fn email_key(raw: &str, aliases: &DomainAliases) -> Result<EmailKey, InvalidEmail> {
    let address = strip_address_prefix(raw);
    if address.is_empty() {
        return Err(InvalidEmail::Empty);
    }
    let mut parts = address.rsplitn(2, '@');
    let domain = parts.next().unwrap_or_default();
    let Some(local) = parts.next() else {
        return Err(InvalidEmail::NoAt);
    };
    if local.contains('@') && !(local.starts_with('"') && local.ends_with('"')) {
        return Err(InvalidEmail::SeveralAts);
    }
    if local.is_empty() {
        return Err(InvalidEmail::EmptyLocalPart);
    }
    if local.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(InvalidEmail::BadLocalPart);
    }
    let domain_ascii = domain_key(domain).ok_or(InvalidEmail::BadDomain)?;
    let canonical = aliases.canonical(&domain_ascii);
    let local_key = fold(local);
    let key = format!("{local_key}@{canonical}");
    let mut notes: Vec<String> = Vec::new();
    if address != raw.trim() {
        notes.push("prefix removed".into());
    }
    if local_key != local || domain_ascii != domain {
        notes.push("case folded".into());
    }
    if canonical != domain_ascii {
        notes.push(format!("domain {domain_ascii} treated as {canonical}"));
    }
    let lookalike_domain =
        if canonical != domain_ascii { Cow::Borrowed(canonical) } else { fold(domain) };
    let lookalike_form = format!("{local_key}@{lookalike_domain}");
    Ok(EmailKey { key, lookalike_form, note: notes.join(", ") })
}

/// Name key: folded words with punctuation removed, sorted, so "Smith, John" and
/// "john smith" agree. Accents are kept: they are not proof of anything either way.
pub fn name_key(name: &str) -> Option<String> {
    let folded = fold(name);
    let mut words: Vec<&str> = folded
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '.' | ';' | '(' | ')' | '"' | '\''))
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return None;
    }
    words.sort_unstable();
    Some(words.join(" "))
}

/// UTS #39 skeleton of an already folded key: two keys with the same skeleton look alike.
/// ASCII goes through a table built once from the same data.
pub fn skeleton(key: &str) -> String {
    if key.is_ascii() {
        let table = ascii_skeletons();
        let mut out = String::with_capacity(key.len());
        for b in key.bytes() {
            out.push_str(&table[b as usize]);
        }
        return out;
    }
    unicode_security::skeleton(key).collect::<String>().nfkc().collect()
}

fn ascii_skeletons() -> &'static [String; 128] {
    static TABLE: OnceLock<[String; 128]> = OnceLock::new();
    TABLE.get_or_init(|| {
        std::array::from_fn(|i| {
            let c = char::from(i as u8);
            let mut buf = [0u8; 4];
            unicode_security::skeleton(c.encode_utf8(&mut buf)).collect::<String>().nfkc().collect()
        })
    })
}

/// Whether the address belongs to one of these (already `domain_key`ed) domains.
pub fn email_in_domains(email_key: &str, domains: &[String]) -> bool {
    match email_key.rsplit_once('@') {
        Some((_, domain)) => domains.iter().any(|d| d == domain),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_width_and_sharp_s() {
        assert_eq!(fold("JOHN"), "john");
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold("ＪＯＨＮ"), "john");
        assert_eq!(fold("İstanbul"), fold("istanbul"));
        assert_eq!(fold("IŞIK"), fold("ışık"));
    }

    #[test]
    fn email_keys_fold_and_alias_domains() {
        let mut map = BTreeMap::new();
        map.insert("Acme-Corp.com".to_string(), "acme.com".to_string());
        let aliases = DomainAliases::new(&map);
        let key = email_key("SMTP:John.Doe@ACME-corp.com", &aliases).unwrap();
        assert_eq!(key.key, "john.doe@acme.com");
        assert!(key.note.contains("prefix removed"));
        assert!(key.note.contains("treated as acme.com"));
        assert_eq!(email_key("jo@bücher.example", &aliases).unwrap().key, "jo@xn--bcher-kva.example");
    }

    #[test]
    fn invalid_addresses_say_why() {
        let none = DomainAliases::default();
        assert_eq!(email_key("", &none), Err(InvalidEmail::Empty));
        assert_eq!(email_key("john", &none), Err(InvalidEmail::NoAt));
        assert_eq!(email_key("a@b@c.com", &none), Err(InvalidEmail::SeveralAts));
        assert_eq!(email_key("@acme.com", &none), Err(InvalidEmail::EmptyLocalPart));
        assert_eq!(email_key("jo hn@acme.com", &none), Err(InvalidEmail::BadLocalPart));
        assert_eq!(email_key("john@localhost", &none), Err(InvalidEmail::BadDomain));
        assert_eq!(email_key("john@acme..com", &none), Err(InvalidEmail::BadDomain));
    }

    #[test]
    fn names_agree_in_any_order() {
        assert_eq!(name_key("Smith, John"), name_key("john  SMITH"));
        assert_ne!(name_key("José Smith"), name_key("Jose Smith"));
        assert_eq!(name_key(" , "), None);
    }

    #[test]
    fn multibyte_addresses_never_panic() {
        let none = DomainAliases::default();
        for raw in ["jo@bücher.example", "ü", "smtpü", "mailtö:x@y.com", "ﬀ@ﬀ.com"] {
            let _ = email_key(raw, &none);
        }
    }

    #[test]
    fn cyrillic_o_looks_like_latin_o() {
        let latin = fold("john@acme.com").into_owned();
        let cyrillic = fold("j\u{43e}hn@acme.com").into_owned();
        assert_ne!(latin, cyrillic);
        assert_eq!(skeleton(&latin), skeleton(&cyrillic));
    }
}
