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
    fold_with_note(text).0
}

/// What [`fold`] changed in a value, for the evidence. `Copy` and allocation-free: the text
/// comes from [`FoldNote::as_str`], which hands out static strings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct FoldNote {
    /// Canonical composition changed the text (a letter and a combining accent became one).
    pub normalised: bool,
    /// Fullwidth or halfwidth forms became their ordinary forms (`ＫＡＴＥ` → `KATE`).
    pub width: bool,
    /// Other compatibility forms were folded: ligatures, superscripts, circled letters...
    pub compatibility: bool,
    /// Upper case (and Turkish dotted/dotless i) folded.
    pub case: bool,
}

impl FoldNote {
    const CASE: FoldNote = FoldNote { normalised: false, width: false, compatibility: false, case: true };

    pub fn is_empty(self) -> bool {
        self == FoldNote::default()
    }

    /// Both notes' changes.
    pub fn union(self, other: FoldNote) -> FoldNote {
        FoldNote {
            normalised: self.normalised || other.normalised,
            width: self.width || other.width,
            compatibility: self.compatibility || other.compatibility,
            case: self.case || other.case,
        }
    }

    fn bits(self) -> usize {
        usize::from(self.normalised)
            | usize::from(self.width) << 1
            | usize::from(self.compatibility) << 2
            | usize::from(self.case) << 3
    }

    /// `"width folded, case folded"`; empty when the fold changed nothing.
    pub fn as_str(self) -> &'static str {
        static TEXTS: OnceLock<[String; 16]> = OnceLock::new();
        let texts = TEXTS.get_or_init(|| {
            std::array::from_fn(|bits| {
                let parts = [
                    (1, "Unicode normalised"),
                    (2, "width folded"),
                    (4, "compatibility forms folded"),
                    (8, "case folded"),
                ];
                parts.iter().filter(|(bit, _)| bits & bit != 0).map(|(_, text)| *text).collect::<Vec<_>>().join(", ")
            })
        });
        &texts[self.bits()]
    }
}

impl std::fmt::Display for FoldNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// [`fold`], saying what it changed: case, width, compatibility forms. Surrounding
/// whitespace is trimmed without comment.
pub fn fold_with_note(text: &str) -> (Cow<'_, str>, FoldNote) {
    let text = text.trim();
    if text.is_ascii() {
        if text.bytes().any(|b| b.is_ascii_uppercase()) {
            return (Cow::Owned(text.to_ascii_lowercase()), FoldNote::CASE);
        }
        return (Cow::Borrowed(text), FoldNote::default());
    }
    let mut note = FoldNote::default();
    let dotless: Cow<'_, str> = if text.contains(['\u{130}', '\u{131}']) {
        note.case = true;
        Cow::Owned(text.replace(['\u{130}', '\u{131}'], "i"))
    } else {
        Cow::Borrowed(text)
    };
    let nfkc: String = dotless.nfkc().collect();
    if nfkc != *dotless {
        for c in dotless.chars().filter(|c| !c.is_ascii()) {
            if std::iter::once(c).nfkc().ne(std::iter::once(c).nfc()) {
                if matches!(c, '\u{3000}' | '\u{FF00}'..='\u{FFEF}') {
                    note.width = true;
                } else {
                    note.compatibility = true;
                }
            }
        }
        if !note.width && !note.compatibility {
            note.normalised = true;
        }
    }
    let folded = caseless::default_case_fold_str(&nfkc);
    if folded != nfkc {
        note.case = true;
    }
    (Cow::Owned(folded.nfkc().collect()), note)
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
/// domain after domain aliases; the subaddress removed where the policy says the domain uses
/// them, and Gmail's dots ignored on gmail.com.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailKey {
    pub key: String,
    /// The folded address with its domain in Unicode, for look-alike (skeleton) comparison:
    /// a Cyrillic domain must be compared as letters, not as punycode.
    pub lookalike_form: String,
    /// What normalisation did, for the evidence: empty when the key is the address as given.
    pub note: String,
}

/// Consumer Gmail. Gmail ignores dots in the local part and delivers googlemail.com mail to
/// gmail.com, always; Google Workspace domains do neither, so only these two get the rule.
pub const GMAIL: &str = "gmail.com";
const GOOGLEMAIL: &str = "googlemail.com";

/// The policy's address rules, prepared once: domain aliases (`alias domain -> canonical
/// domain`) and the domains whose subaddresses (`jo+tag@`) are removed. Named for its first
/// job; [`DomainAliases::new`] gives aliases only, [`DomainAliases::from_policy`] everything.
#[derive(Debug, Clone, Default)]
pub struct DomainAliases {
    map: BTreeMap<String, String>,
    /// `domain_key`ed domains where the subaddress is removed.
    subaddress_domains: Vec<String>,
    subaddress_separator: String,
}

impl DomainAliases {
    pub fn new(aliases: &BTreeMap<String, String>) -> DomainAliases {
        let map = aliases
            .iter()
            .filter_map(|(from, to)| Some((domain_key(from)?, domain_key(to)?)))
            .collect();
        DomainAliases { map, ..DomainAliases::default() }
    }

    /// Every address rule of the policy: aliases and subaddress domains. Entries that are not
    /// domains are ignored here; [`crate::Policy::validate`] reports them.
    pub fn from_policy(email: &crate::policy::EmailPolicy) -> DomainAliases {
        DomainAliases::new(&email.domain_aliases)
            .with_subaddresses(&email.subaddress_domains, &email.subaddress_separator)
    }

    /// Removes `separator` and what follows it from local parts in these domains (exact
    /// domains; an alias counts under either name). An empty separator turns it off.
    pub fn with_subaddresses(mut self, domains: &[String], separator: &str) -> DomainAliases {
        self.subaddress_domains = domains.iter().filter_map(|d| domain_key(d)).collect();
        self.subaddress_separator = separator.to_string();
        self
    }

    fn canonical<'a>(&'a self, domain: &'a str) -> &'a str {
        self.map.get(domain).map_or(domain, String::as_str)
    }

    /// The separator, when one of these names of a domain has subaddresses removed.
    fn subaddress_separator(&self, names: [&str; 3]) -> Option<&str> {
        if self.subaddress_domains.is_empty() || self.subaddress_separator.is_empty() {
            return None;
        }
        self.subaddress_domains
            .iter()
            .any(|d| names.contains(&d.as_str()))
            .then_some(self.subaddress_separator.as_str())
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
        if let (Some(head), Some(rest)) = (raw.get(..prefix.len()), raw.get(prefix.len()..))
            && head.eq_ignore_ascii_case(prefix)
            && !rest.is_empty()
        {
            return rest.trim();
        }
    }
    raw
}

/// Splits an address (prefix already removed) into local part and domain, checking the
/// local part. The domain is not checked here: see [`domain_key`].
pub fn split_address(address: &str) -> Result<(&str, &str), InvalidEmail> {
    if address.is_empty() {
        return Err(InvalidEmail::Empty);
    }
    let Some((local, domain)) = address.rsplit_once('@') else {
        return Err(InvalidEmail::NoAt);
    };
    if local.contains('@') && !(local.starts_with('"') && local.ends_with('"')) {
        return Err(InvalidEmail::SeveralAts);
    }
    check_local_part(local)?;
    Ok((local, domain))
}

/// Whether text can be the part of an address before the `@`.
pub fn check_local_part(local: &str) -> Result<(), InvalidEmail> {
    if local.is_empty() {
        return Err(InvalidEmail::EmptyLocalPart);
    }
    if local.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(InvalidEmail::BadLocalPart);
    }
    Ok(())
}

/// Parses an address into its matching key, or says why it cannot be one.
pub fn email_key(raw: &str, aliases: &DomainAliases) -> Result<EmailKey, InvalidEmail> {
    let address = strip_address_prefix(raw);
    let (local, domain) = split_address(address)?;
    let domain_ascii = domain_key(domain).ok_or(InvalidEmail::BadDomain)?;
    let aliased = aliases.canonical(&domain_ascii);
    let canonical = if aliased == GOOGLEMAIL { GMAIL } else { aliased };
    let (mut local_key, local_note) = fold_with_note(local);
    let mut notes: Vec<Cow<'static, str>> = Vec::new();
    if address != raw.trim() {
        notes.push("prefix removed".into());
    }
    let mut fold_note = local_note;
    if domain.is_ascii() {
        fold_note.case |= domain.bytes().any(|b| b.is_ascii_uppercase());
    } else {
        fold_note.case |= domain.chars().any(char::is_uppercase);
        notes.push("domain IDNA-encoded".into());
    }
    if !fold_note.is_empty() {
        notes.push(fold_note.as_str().into());
    }
    if aliased != domain_ascii {
        notes.push(format!("domain {domain_ascii} treated as {aliased}").into());
    }
    if canonical != aliased {
        notes.push(format!("domain {aliased} treated as {canonical}").into());
    }
    if let Some(separator) = aliases.subaddress_separator([domain_ascii.as_str(), aliased, canonical])
        && let Some(at) = local_key.find(separator).filter(|&at| at > 0)
    {
        notes.push(format!("subaddress {} removed", &local_key[at..]).into());
        local_key.to_mut().truncate(at);
    }
    if canonical == GMAIL && local_key.contains('.') {
        let without_dots: String = local_key.chars().filter(|&c| c != '.').collect();
        if !without_dots.is_empty() {
            notes.push("dots ignored (gmail.com)".into());
            local_key = Cow::Owned(without_dots);
        }
    }
    let key = format!("{local_key}@{canonical}");
    let lookalike_domain =
        if canonical != domain_ascii { Cow::Borrowed(canonical) } else { fold(domain) };
    let lookalike_form = format!("{local_key}@{lookalike_domain}");
    Ok(EmailKey { key, lookalike_form, note: notes.join(", ") })
}

/// Name key: folded words with punctuation removed, sorted, so "Smith, John" and
/// "john smith" agree. Accents are kept: they are not proof of anything either way.
pub fn name_key(name: &str) -> Option<String> {
    name_key_with_note(name).map(|(key, _)| key)
}

/// [`name_key`], with what the fold changed (reordering and punctuation are not noted: they
/// are what a name key is).
pub fn name_key_with_note(name: &str) -> Option<(String, FoldNote)> {
    let (folded, note) = fold_with_note(name);
    let mut words: Vec<&str> = folded
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '.' | ';' | '(' | ')' | '"' | '\''))
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return None;
    }
    words.sort_unstable();
    Some((words.join(" "), note))
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
    fn fold_notes_say_what_changed() {
        assert_eq!(fold_with_note("jo").1, FoldNote::default());
        assert_eq!(fold_with_note("Jo").1.as_str(), "case folded");
        assert_eq!(fold_with_note("ｊｏ").1.as_str(), "width folded");
        assert_eq!(fold_with_note("ＪＯ").1.as_str(), "width folded, case folded");
        assert_eq!(fold_with_note("ﬃ").1.as_str(), "compatibility forms folded");
        assert_eq!(fold_with_note("İstanbul").1.as_str(), "case folded");
        assert_eq!(fold_with_note("jose\u{301}").1.as_str(), "Unicode normalised");
        assert_eq!(fold_with_note("josé").1, FoldNote::default());
        for text in ["ＪＯ", "ﬃ", "İstanbul", "Straße", "jose\u{301}", "ışık"] {
            assert_eq!(fold_with_note(text).0, fold(text));
        }
    }

    #[test]
    fn email_notes_say_width_and_case() {
        let none = DomainAliases::default();
        assert_eq!(email_key("ＫＡＴＥ@acme.com", &none).unwrap().note, "width folded, case folded");
        assert_eq!(email_key("kate@ACME.com", &none).unwrap().note, "case folded");
        assert_eq!(email_key("kate@acme.com", &none).unwrap().note, "");
    }

    #[test]
    fn subaddresses_are_removed_only_where_the_policy_says() {
        let rules = DomainAliases::default().with_subaddresses(&["Acme.com".to_string()], "+");
        let key = email_key("Jo+Jira@acme.com", &rules).unwrap();
        assert_eq!(key.key, "jo@acme.com");
        assert!(key.note.contains("subaddress +jira removed"), "{}", key.note);
        assert_eq!(email_key("jo+jira@other.com", &rules).unwrap().key, "jo+jira@other.com");
        assert_eq!(email_key("+jira@acme.com", &rules).unwrap().key, "+jira@acme.com", "nothing before the tag");
        let dash = DomainAliases::default().with_subaddresses(&["acme.com".to_string()], "-");
        assert_eq!(email_key("jo-list@acme.com", &dash).unwrap().key, "jo@acme.com");
        // An alias counts under either name.
        let aliased = DomainAliases::new(&BTreeMap::from([("acme-corp.com".to_string(), "acme.com".to_string())]))
            .with_subaddresses(&["acme.com".to_string()], "+");
        assert_eq!(email_key("jo+x@acme-corp.com", &aliased).unwrap().key, "jo@acme.com");
    }

    #[test]
    fn gmail_ignores_dots_and_googlemail_is_gmail() {
        let none = DomainAliases::default();
        let key = email_key("John.Smith@gmail.com", &none).unwrap();
        assert_eq!(key.key, "johnsmith@gmail.com");
        assert!(key.note.contains("dots ignored"), "{}", key.note);
        let key = email_key("john.smith@googlemail.com", &none).unwrap();
        assert_eq!(key.key, "johnsmith@gmail.com");
        assert!(key.note.contains("googlemail.com treated as gmail.com"), "{}", key.note);
        // Workspace domains keep their dots; gmail keeps +tags unless the policy lists it.
        assert_eq!(email_key("john.smith@acme.com", &none).unwrap().key, "john.smith@acme.com");
        assert_eq!(email_key("john+x@gmail.com", &none).unwrap().key, "john+x@gmail.com");
        let rules = DomainAliases::default().with_subaddresses(&["gmail.com".to_string()], "+");
        assert_eq!(email_key("j.ohn+x.y@googlemail.com", &rules).unwrap().key, "john@gmail.com");
        assert_eq!(email_key("...@gmail.com", &none).unwrap().key, "...@gmail.com");
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
