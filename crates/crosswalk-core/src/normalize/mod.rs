//! Matching keys. Originals are never changed: these functions derive the folded forms
//! the engine compares, and say what the fold did so the evidence can show it.
//!
//! This module is the general way, written as the standards define it. The shortcuts that
//! make the usual values cheap (folding a character at a time, the one-pass ASCII address,
//! names keyed on the stack, the ASCII look-alike table) live beside it in `fast.rs`; each
//! entry point here tries its shortcut first and takes the general way when the shortcut
//! declines. A shortcut only declines; it never decides differently, and one tester in
//! `fast.rs` holds every shortcut to the general way on arbitrary text.

mod fast;

pub(crate) use fast::trim;
use fast::{
    ascii_skeleton, ascii_skeleton_hash, email_key_ascii, fold_by_character,
    fold_name_by_character, folded_name_hash, sorted_name_key,
};

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::OnceLock;

use compact_str::CompactString;
use smallvec::SmallVec;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// Which equivalence a fold keys text by. Two values are the same identity when their
/// identity keys are equal; values that are only alike (compatibility forms, confusable
/// letters) are told apart by identity and brought together by resemblance, which the engine
/// uses to flag look-alikes and to block and rank names, never to link a handle or address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Folding {
    /// Canonical equivalence and simple case folding (each character to one character, as
    /// `CaseFolding.txt`'s C and S entries do): `JOSÉ`, `jose\u{301}` and `josé` are one value,
    /// and so are `STRAẞE` and `straße`. Full case folding is left out because it is partly a
    /// compatibility fold: it maps the ligature `ﬁ` to `fi` and `ß` to `ss`. So `ｊｏｓé`
    /// (fullwidth), `ﬁ`, `𝐣` (mathematical bold), `ss` for `ß` and the Turkish `İ`/`ı` are
    /// other values than the letters they resemble.
    Identity,
    /// Compatibility caseless matching: NFKC, full case folding, NFKC again, and Turkish
    /// `İ`/`ı` read as `i`. `ＪＯＨＮ`, `ﬁona` and `𝐣𝐨𝐡𝐧` fold to `john`, `fiona`: resemblance.
    Compatible,
}

/// Identity key for a handle (username, address local part, group name): canonical
/// equivalence and simple case folding, nothing more. Text that differs only in width,
/// compatibility forms or confusable letters keeps different keys: that is a look-alike
/// ([`skeleton`]), never the same identity. Pure ASCII takes a fast path that gives the same
/// answer.
pub fn fold(text: &str) -> Cow<'_, str> {
    fold_with_note(text).0
}

/// Resemblance key for free text (names): NFKC, full case folding, NFKC again (the fold can
/// produce sequences that need recomposing), so fullwidth letters, ligatures and
/// mathematical letters read as the plain letters they show. Turkish `İ`/`ı` fold to plain
/// `i`, because the default fold turns `İ` into `i` plus a combining dot that never matches
/// the Latin letter. Used for name keys (blocking and ranking) and as the first step of
/// [`skeleton`]; never as the key of a handle or an address.
pub fn fold_compatible(text: &str) -> Cow<'_, str> {
    fold_compatible_with_note(text).0
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
    const CASE: FoldNote = FoldNote {
        normalised: false,
        width: false,
        compatibility: false,
        case: true,
    };

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
                parts
                    .iter()
                    .filter(|(bit, _)| bits & bit != 0)
                    .map(|(_, text)| *text)
                    .collect::<Vec<_>>()
                    .join(", ")
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

/// [`fold`], saying what it changed: case, canonical composition. Surrounding whitespace is
/// trimmed without comment.
pub fn fold_with_note(text: &str) -> (Cow<'_, str>, FoldNote) {
    fold_trimmed(trim(text), Folding::Identity)
}

/// [`fold_compatible`], saying what it changed: case, width, compatibility forms.
/// Surrounding whitespace is trimmed without comment.
pub fn fold_compatible_with_note(text: &str) -> (Cow<'_, str>, FoldNote) {
    fold_trimmed(trim(text), Folding::Compatible)
}

fn fold_trimmed(text: &str, folding: Folding) -> (Cow<'_, str>, FoldNote) {
    if text.is_ascii() {
        if text.bytes().any(|b| b.is_ascii_uppercase()) {
            return (Cow::Owned(text.to_ascii_lowercase()), FoldNote::CASE);
        }
        return (Cow::Borrowed(text), FoldNote::default());
    }
    if let Some((folded, note)) = fold_by_character::<String>(text, folding) {
        return (Cow::Owned(folded), note);
    }
    let (folded, note) = fold_whole(text, folding);
    (Cow::Owned(folded), note)
}

/// [`fold_with_note`] into a small string: short ASCII values never touch the heap.
pub(crate) fn fold_compact(text: &str) -> (CompactString, FoldNote) {
    let text = trim(text);
    if text.is_ascii() {
        let mut out = CompactString::from(text);
        if !text.bytes().any(|b| b.is_ascii_uppercase()) {
            return (out, FoldNote::default());
        }
        out.as_mut_str().make_ascii_lowercase();
        return (out, FoldNote::CASE);
    }
    if let Some(folded) = fold_by_character::<CompactString>(text, Folding::Identity) {
        return folded;
    }
    let (folded, note) = fold_whole(text, Folding::Identity);
    (CompactString::from(folded), note)
}

/// The fold as the standard defines it, on a trimmed, non-ASCII text: the reference that
/// [`fold_by_character`] must agree with.
fn fold_whole(text: &str, folding: Folding) -> (String, FoldNote) {
    match folding {
        Folding::Identity => fold_whole_canonical(text),
        Folding::Compatible => fold_whole_compatible(text),
    }
}

/// The identity key: canonical decomposition, simple case folding a character at a time,
/// canonical composition (so that a key reads as the text it came from).
fn fold_whole_canonical(text: &str) -> (String, FoldNote) {
    let mut note = FoldNote::default();
    let mut folded = String::with_capacity(text.len());
    for c in text.nfd() {
        let f = simple_case_fold(c);
        note.case |= f != c;
        folded.push(f);
    }
    note.normalised = !unicode_normalization::is_nfc(text);
    (folded.nfc().collect(), note)
}

/// Simple case folding: the full fold when it is one character (`CaseFolding.txt`'s C
/// entries), else the lower case when that is one character (its S entries: `ẞ` → `ß`,
/// `ᾈ` → `ᾀ`), else the character itself (`ß`, `ﬁ`, `İ` have only multi-character folds).
fn simple_case_fold(c: char) -> char {
    use caseless::Caseless;
    let mut full = std::iter::once(c).default_case_fold();
    if let (Some(one), None) = (full.next(), full.next()) {
        return one;
    }
    let mut lower = c.to_lowercase();
    if let (Some(one), None) = (lower.next(), lower.next()) {
        return one;
    }
    c
}

/// The compatibility fold: NFKC, case fold, NFKC, Turkish `İ`/`ı` (and `İ` decomposed) as `i`.
fn fold_whole_compatible(text: &str) -> (String, FoldNote) {
    let mut note = FoldNote::default();
    let dotless: Cow<'_, str> = if text.contains(['\u{130}', '\u{131}']) {
        note.case = true;
        Cow::Owned(text.replace(['\u{130}', '\u{131}'], "i"))
    } else {
        Cow::Borrowed(text)
    };
    // The quick check answers "already NFKC" for most text without building a copy.
    let nfkc: Cow<'_, str> = if is_nfkc_quick(dotless.chars()) == IsNormalized::Yes {
        Cow::Borrowed(&*dotless)
    } else {
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
        Cow::Owned(nfkc)
    };
    let mut folded = caseless::default_case_fold_str(&nfkc);
    if folded != *nfkc {
        note.case = true;
    }
    if is_nfkc_quick(folded.chars()) != IsNormalized::Yes {
        folded = folded.nfkc().collect();
    }
    // An `i` with a combining dot above is the decomposed `İ`: read as `i` too.
    if folded.contains("i\u{307}") {
        note.case = true;
        folded = folded.replace("i\u{307}", "i");
    }
    (folded, note)
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
        DomainAliases {
            map,
            ..DomainAliases::default()
        }
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
    domain_ascii(domain).map(Cow::into_owned)
}

/// [`domain_key`], borrowing when the domain is already lowercase ASCII.
fn domain_ascii(domain: &str) -> Option<Cow<'_, str>> {
    let domain = domain.trim().trim_end_matches('.');
    if domain.is_empty() {
        return None;
    }
    let ascii: Cow<'_, str> = if domain.is_ascii() {
        if domain.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(domain.to_ascii_lowercase())
        } else {
            Cow::Borrowed(domain)
        }
    } else {
        Cow::Owned(idna::domain_to_ascii(domain).ok()?)
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let mut labels = 0;
    for label in ascii.split('.') {
        if !label_ok(label) {
            return None;
        }
        labels += 1;
    }
    (labels >= 2).then_some(ascii)
}

/// Strips the prefixes directories put before addresses: `SMTP:`/`smtp:` (AD proxyAddresses)
/// and `mailto:`.
pub fn strip_address_prefix(raw: &str) -> &str {
    let raw = trim(raw);
    for prefix in ["smtp:", "mailto:"] {
        // `get` rather than slicing: the prefix length may fall inside a multi-byte character.
        if let (Some(head), Some(rest)) = (raw.get(..prefix.len()), raw.get(prefix.len()..))
            && head.eq_ignore_ascii_case(prefix)
            && !rest.is_empty()
        {
            return trim(rest);
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

/// An address taken apart: everything [`email_key`] and [`email_key_compact`] need, so the
/// two cannot disagree.
struct ParsedEmail<'r, 'a> {
    local_key: Cow<'r, str>,
    /// The domain as written.
    domain: &'r str,
    domain_ascii: Cow<'r, str>,
    /// The policy's canonical name for the domain, when it has one.
    alias: Option<&'a str>,
    prefix: bool,
    idna: bool,
    fold: FoldNote,
    /// The subaddress removed, with its separator.
    subaddress: Option<String>,
    dots: bool,
}

impl ParsedEmail<'_, '_> {
    fn aliased(&self) -> &str {
        self.alias.unwrap_or(&self.domain_ascii)
    }

    fn canonical(&self) -> &str {
        let aliased = self.aliased();
        if aliased == GOOGLEMAIL {
            GMAIL
        } else {
            aliased
        }
    }

    /// The domain of the look-alike form: in Unicode unless an alias replaced it.
    fn lookalike_domain(&self) -> Cow<'_, str> {
        let canonical = self.canonical();
        if canonical != self.domain_ascii {
            Cow::Borrowed(canonical)
        } else {
            fold(self.domain)
        }
    }
}

fn parse_email<'r, 'a>(
    raw: &'r str,
    aliases: &'a DomainAliases,
) -> Result<ParsedEmail<'r, 'a>, InvalidEmail> {
    let address = strip_address_prefix(raw);
    let (local, domain) = split_address(address)?;
    let domain_ascii = domain_ascii(domain).ok_or(InvalidEmail::BadDomain)?;
    let alias = aliases.map.get(&*domain_ascii).map(String::as_str);
    let (local_key, local_note) = fold_with_note(local);
    let mut parsed = ParsedEmail {
        local_key,
        domain,
        domain_ascii,
        alias,
        prefix: address != raw.trim(),
        idna: !domain.is_ascii(),
        fold: local_note,
        subaddress: None,
        dots: false,
    };
    if domain.is_ascii() {
        parsed.fold.case |= domain.bytes().any(|b| b.is_ascii_uppercase());
    } else {
        parsed.fold.case |= domain.chars().any(char::is_uppercase);
    }
    let (aliased, canonical) = (parsed.aliased(), parsed.canonical());
    if let Some(separator) =
        aliases.subaddress_separator([&*parsed.domain_ascii, aliased, canonical])
        && let Some(at) = parsed.local_key.find(separator).filter(|&at| at > 0)
    {
        parsed.subaddress = Some(parsed.local_key[at..].to_string());
        parsed.local_key.to_mut().truncate(at);
    }
    if parsed.canonical() == GMAIL && parsed.local_key.contains('.') {
        let without_dots: String = parsed.local_key.chars().filter(|&c| c != '.').collect();
        if !without_dots.is_empty() {
            parsed.dots = true;
            parsed.local_key = Cow::Owned(without_dots);
        }
    }
    Ok(parsed)
}

/// Parses an address into its matching key, or says why it cannot be one.
pub fn email_key(raw: &str, aliases: &DomainAliases) -> Result<EmailKey, InvalidEmail> {
    let parsed = parse_email(raw, aliases)?;
    let key = format!("{}@{}", parsed.local_key, parsed.canonical());
    let lookalike_form = format!("{}@{}", parsed.local_key, parsed.lookalike_domain());
    Ok(EmailKey {
        key,
        lookalike_form,
        note: parsed.note(),
    })
}

/// [`email_key`]'s note alone: what evidence shows of an address whose note names a domain
/// or a subaddress.
pub(crate) fn email_note(raw: &str, aliases: &DomainAliases) -> Result<String, InvalidEmail> {
    Ok(parse_email(raw, aliases)?.note())
}

impl ParsedEmail<'_, '_> {
    /// What normalisation did, for the evidence: empty when the key is the address as given.
    fn note(&self) -> String {
        let (aliased, canonical) = (self.aliased(), self.canonical());
        let mut notes: Vec<Cow<'static, str>> = Vec::new();
        if self.prefix {
            notes.push("prefix removed".into());
        }
        if self.idna {
            notes.push("domain IDNA-encoded".into());
        }
        if !self.fold.is_empty() {
            notes.push(self.fold.as_str().into());
        }
        if aliased != self.domain_ascii {
            notes.push(format!("domain {} treated as {aliased}", self.domain_ascii).into());
        }
        if canonical != aliased {
            notes.push(format!("domain {aliased} treated as {canonical}").into());
        }
        if let Some(tag) = &self.subaddress {
            notes.push(format!("subaddress {tag} removed").into());
        }
        if self.dots {
            notes.push("dots ignored (gmail.com)".into());
        }
        notes.join(", ")
    }
}

/// What normalisation did to an address, as flags: the common notes are static text
/// ([`EmailNote::as_str`]); the rest (domain aliases, subaddresses, transforms) are
/// `detailed` and rendered again from the value when evidence needs them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct EmailNote {
    pub(crate) fold: FoldNote,
    pub(crate) prefix: bool,
    pub(crate) idna: bool,
    pub(crate) dots: bool,
    /// The note names a domain, a subaddress or a transform: see [`email_key`].
    pub(crate) detailed: bool,
}

impl EmailNote {
    /// The note's text, or `None` when it is `detailed`.
    pub(crate) fn as_str(self) -> Option<&'static str> {
        static TEXTS: OnceLock<Vec<String>> = OnceLock::new();
        if self.detailed {
            return None;
        }
        let texts = TEXTS.get_or_init(|| {
            (0..128usize)
                .map(|bits| {
                    let fold = FoldNote {
                        normalised: bits & 1 != 0,
                        width: bits & 2 != 0,
                        compatibility: bits & 4 != 0,
                        case: bits & 8 != 0,
                    };
                    let mut notes: Vec<&str> = Vec::new();
                    if bits & 16 != 0 {
                        notes.push("prefix removed");
                    }
                    if bits & 32 != 0 {
                        notes.push("domain IDNA-encoded");
                    }
                    if !fold.is_empty() {
                        notes.push(fold.as_str());
                    }
                    if bits & 64 != 0 {
                        notes.push("dots ignored (gmail.com)");
                    }
                    notes.join(", ")
                })
                .collect()
        });
        let bits = self.fold.bits()
            | usize::from(self.prefix) << 4
            | usize::from(self.idna) << 5
            | usize::from(self.dots) << 6;
        Some(texts[bits].as_str())
    }
}

/// [`email_key`] without the text: the key as a small string, the hash of the look-alike
/// form's skeleton ([`skeleton_hash`]) and the note as flags. Allocation-free for short ASCII
/// addresses.
pub(crate) fn email_key_compact(
    raw: &str,
    aliases: &DomainAliases,
) -> Result<(CompactString, u64, EmailNote), InvalidEmail> {
    match email_key_ascii(raw, aliases) {
        Some(keyed) => Ok(keyed),
        None => email_key_parsed(raw, aliases),
    }
}

/// [`email_key_compact`] the general way, through [`parse_email`].
fn email_key_parsed(
    raw: &str,
    aliases: &DomainAliases,
) -> Result<(CompactString, u64, EmailNote), InvalidEmail> {
    let parsed = parse_email(raw, aliases)?;
    let (aliased, canonical) = (parsed.aliased(), parsed.canonical());
    let mut key = CompactString::with_capacity(parsed.local_key.len() + 1 + canonical.len());
    key.push_str(&parsed.local_key);
    key.push('@');
    key.push_str(canonical);
    let skeleton = skeleton_hash(&[&parsed.local_key, "@", &parsed.lookalike_domain()]);
    let note = EmailNote {
        fold: parsed.fold,
        prefix: parsed.prefix,
        idna: parsed.idna,
        dots: parsed.dots,
        detailed: aliased != parsed.domain_ascii
            || canonical != aliased
            || parsed.subaddress.is_some(),
    };
    Ok((key, skeleton, note))
}

/// Name key: folded words with punctuation removed, sorted, so "Smith, John" and
/// "john smith" agree. Accents are kept: they are not proof of anything either way.
pub fn name_key(name: &str) -> Option<String> {
    name_key_with_note(name).map(|(key, _)| key)
}

/// [`name_key`], with what the fold changed (reordering and punctuation are not noted: they
/// are what a name key is).
pub fn name_key_with_note(name: &str) -> Option<(String, FoldNote)> {
    name_key_compact(name).map(|(key, note)| (key.into_string(), note))
}

/// [`name_key_with_note`] into a small string.
pub(crate) fn name_key_compact(name: &str) -> Option<(CompactString, FoldNote)> {
    match fold_name_by_character(name) {
        Some((folded, note)) => sorted_name_key(&folded, note),
        None => name_key_folded(name),
    }
}

/// [`name_key_compact`] the general way: folded, then split into words.
fn name_key_folded(name: &str) -> Option<(CompactString, FoldNote)> {
    let (folded, note) = fold_compatible_with_note(name);
    let mut words: SmallVec<[&str; 8]> = folded
        .split(separates_name_words)
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return None;
    }
    words.sort_unstable();
    let mut key =
        CompactString::with_capacity(words.iter().map(|w| w.len() + 1).sum::<usize>() - 1);
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            key.push(' ');
        }
        key.push_str(word);
    }
    Some((key, note))
}

/// Whether a character separates the words of a name: whitespace, or punctuation a name
/// key drops.
const fn separates_name_words(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | '.' | ';' | '(' | ')' | '"' | '\'')
}

/// A hash of a name key that does not depend on the order of its words: the sum of a hash
/// of each word. A key's words are sorted, so equal keys give equal hashes; a name's words
/// need not be sorted (nor the key written) to give its key's hash, which is what
/// [`name_hash`] saves. Two different keys can share one, as any two hashes can.
pub(crate) fn name_key_hash(key: &str) -> u64 {
    key.split(' ')
        .filter(|w| !w.is_empty())
        .fold(0, |sum, word| {
            sum.wrapping_add(name_word_hash(word.as_bytes()))
        })
}

/// A word's part of [`name_key_hash`]: mixed after hashing, so that the sum of two words'
/// hashes is not the hash of some third word but for chance.
fn name_word_hash(word: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    let mut hash = rustc_hash::FxBuildHasher.hash_one(word);
    // The finaliser of MurmurHash3.
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^ (hash >> 33)
}

/// [`name_key_hash`] of the name key of `name`; `None` when it has no key. The words are
/// hashed as they are split, without sorting them or writing the key.
pub(crate) fn name_hash(name: &str) -> Option<u64> {
    match fold_name_by_character(name) {
        Some((folded, _)) => folded_name_hash(&folded),
        None => name_key_compact(name).map(|(key, _)| name_key_hash(&key)),
    }
}

/// The look-alike form of a key: two keys with the same skeleton look alike. It is the UTS #39
/// skeleton of the key's compatibility fold ([`fold_compatible`]), folded again: fullwidth
/// letters, ligatures and mathematical letters look like the plain ones, and confusable
/// letters like their prototypes (`а` Cyrillic like `a`, `rn` like `m`, `1` like `l`). The
/// fold after the skeleton makes it caseless: UTS #39 maps the digit `0` to the capital `O`,
/// which a lower-case key would never meet, so `j0hn` and `john` look alike too.
/// ASCII goes through a table built once from the same steps, a character at a time.
pub fn skeleton(key: &str) -> String {
    ascii_skeleton(key).unwrap_or_else(|| skeleton_whole(key))
}

/// [`skeleton`] by its definition, for any text: the reference the ASCII table is built
/// from and agrees with. The text is not trimmed: keys are, and a character on its own must
/// give what it gives inside a key.
fn skeleton_whole(key: &str) -> String {
    let untrimmed_fold = |text: &str| -> String {
        if text.is_ascii() {
            return text.to_ascii_lowercase();
        }
        fold_by_character::<String>(text, Folding::Compatible)
            .unwrap_or_else(|| fold_whole(text, Folding::Compatible))
            .0
    };
    let prototypes: String = unicode_security::skeleton(&untrimmed_fold(key)).collect();
    untrimmed_fold(&prototypes)
}

/// A 64-bit hash of the [`skeleton`] of the concatenated `pieces` (the hash of its text).
/// Equal skeletons hash equal; unequal ones almost never do, so a match on the hash is
/// confirmed on the skeletons themselves.
pub(crate) fn skeleton_hash(pieces: &[&str]) -> u64 {
    if let [text] = pieces {
        return text_skeleton_hash(text);
    }
    text_skeleton_hash(&pieces.concat())
}

/// [`skeleton_hash`] of one text, not copied: an ASCII username's is taken a character at a
/// time without allocating.
pub(crate) fn text_skeleton_hash(text: &str) -> u64 {
    ascii_skeleton_hash(text.as_bytes())
        .unwrap_or_else(|| skeleton(text).bytes().fold(0, skeleton_hash_step))
}

/// The multiplier of [`skeleton_hash_step`] (odd, with well-mixed bits: rustc-hash's).
const SKELETON_HASH_K: u64 = 0xf135_7aea_2e62_a9c5;

/// One byte of a skeleton into its hash: `hash -> (hash + byte) * K`.
fn skeleton_hash_step(hash: u64, byte: u8) -> u64 {
    hash.wrapping_add(u64::from(byte))
        .wrapping_mul(SKELETON_HASH_K)
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
        assert_eq!(fold_compatible("JOHN"), "john");
        assert_eq!(fold_compatible("Straße"), "strasse");
        assert_eq!(fold_compatible("ＪＯＨＮ"), "john");
        assert_eq!(fold_compatible("İstanbul"), fold_compatible("istanbul"));
        assert_eq!(fold_compatible("IŞIK"), fold_compatible("ışık"));
    }

    /// Identity is case and canonical equivalence; width, compatibility forms, confusable
    /// letters and the Turkish dotted and dotless i are resemblance: other keys, one skeleton.
    #[test]
    fn identity_is_case_and_canonical_equivalence_and_the_rest_is_resemblance() {
        for (a, b) in [
            ("JOHN", "john"),
            ("STRAẞE", "straße"),
            ("JOSÉ", "jose\u{301}"),
            ("josé", "JOSE\u{301}"),
            ("Ωmega", "ωMEGA"),
            ("ΣΑΣ", "σας"),
        ] {
            assert_eq!(fold(a), fold(b), "{a:?} and {b:?} are one identity");
        }
        let look_alikes = [
            ("ｊｏｈｎ", "john"),
            ("ＪＯＨＮ", "john"),
            ("ﬁona", "fiona"),
            ("𝐣𝐨𝐡𝐧", "john"),
            ("straße", "strasse"),
            ("\u{430}dmin", "admin"),
            ("j0hn.doe", "john.doe"),
            ("a1ice", "alice"),
            ("İpek", "ipek"),
            ("ışık", "işık"),
            ("jsrnith", "jsmith"),
        ];
        for (a, b) in look_alikes {
            assert_ne!(fold(a), fold(b), "{a:?} and {b:?} are different identities");
            assert_eq!(
                skeleton(&fold(a)),
                skeleton(&fold(b)),
                "{a:?} looks like {b:?}"
            );
        }
        for (a, b) in [("john", "joan"), ("j0hn", "jahn"), ("ann", "anne")] {
            assert_ne!(
                skeleton(&fold(a)),
                skeleton(&fold(b)),
                "{a:?} does not look like {b:?}"
            );
        }
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
        assert_eq!(
            email_key("jo@bücher.example", &aliases).unwrap().key,
            "jo@xn--bcher-kva.example"
        );
    }

    proptest::proptest! {
        /// Whatever resembles under identity resembles: equal identity keys have equal
        /// skeletons.
        #[test]
        fn one_identity_has_one_skeleton(a in "[a-cA-CéÉ\u{301}ßﬁＡ0o1lı ]{0,8}", b in "[a-cA-CéÉ\u{301}ßﬁＡ0o1lı ]{0,8}") {
            if fold(&a) == fold(&b) {
                proptest::prop_assert_eq!(skeleton(&fold(&a)), skeleton(&fold(&b)));
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Words in another order, case and separators give the same hash.
        #[test]
        fn a_names_hash_ignores_order_case_and_separators(words in proptest::collection::vec("[a-z]{1,6}", 1..4)) {
            let forward = words.join(" ");
            let backward: Vec<String> = words.iter().rev().map(|w| w.to_uppercase()).collect();
            proptest::prop_assert_eq!(name_hash(&forward), name_hash(&backward.join(", ")));
        }
    }

    #[test]
    fn names_with_other_words_hash_apart() {
        let hash = |name: &str| name_hash(name).expect("a key");
        assert_ne!(hash("Ann Lee"), hash("Ann Li"));
        assert_ne!(hash("Ann Lee"), hash("Ann Ann Lee"));
        assert_ne!(hash("Ann Lee"), hash("Annlee"));
        assert_eq!(name_hash(" ,. "), None);
    }

    #[test]
    fn fold_notes_say_what_changed() {
        assert_eq!(fold_compatible_with_note("jo").1, FoldNote::default());
        assert_eq!(fold_compatible_with_note("Jo").1.as_str(), "case folded");
        assert_eq!(fold_compatible_with_note("ｊｏ").1.as_str(), "width folded");
        assert_eq!(
            fold_compatible_with_note("ＪＯ").1.as_str(),
            "width folded, case folded"
        );
        assert_eq!(
            fold_compatible_with_note("ﬃ").1.as_str(),
            "compatibility forms folded"
        );
        assert_eq!(
            fold_compatible_with_note("İstanbul").1.as_str(),
            "case folded"
        );
        assert_eq!(
            fold_compatible_with_note("jose\u{301}").1.as_str(),
            "Unicode normalised"
        );
        assert_eq!(fold_compatible_with_note("josé").1, FoldNote::default());
        for text in ["ＪＯ", "ﬃ", "İstanbul", "Straße", "jose\u{301}", "ışık"] {
            assert_eq!(fold_compatible_with_note(text).0, fold_compatible(text));
            assert_eq!(fold_with_note(text).0, fold(text));
        }
        // The identity fold says only what it does: case and canonical composition.
        assert_eq!(fold_with_note("jo").1, FoldNote::default());
        assert_eq!(fold_with_note("Jo").1.as_str(), "case folded");
        assert_eq!(
            fold_with_note("ｊｏ"),
            (Cow::Owned("ｊｏ".into()), FoldNote::default())
        );
        assert_eq!(fold_with_note("ＪＯ").1.as_str(), "case folded");
        assert_eq!(
            fold_with_note("ﬃ"),
            (Cow::Owned("ﬃ".into()), FoldNote::default())
        );
        assert_eq!(
            fold_with_note("jose\u{301}").1.as_str(),
            "Unicode normalised"
        );
        assert_eq!(
            fold_with_note("JOSE\u{301}").1.as_str(),
            "Unicode normalised, case folded"
        );
        assert_eq!(fold_with_note("josé").1, FoldNote::default());
    }

    #[test]
    fn email_notes_say_width_and_case() {
        let none = DomainAliases::default();
        // Fullwidth letters are other letters: the key keeps them, folded for case only.
        let fullwidth = email_key("ＫＡＴＥ@acme.com", &none).unwrap();
        assert_eq!(
            (fullwidth.key.as_str(), fullwidth.note.as_str()),
            ("ｋａｔｅ@acme.com", "case folded")
        );
        assert_eq!(
            email_key("kate@ACME.com", &none).unwrap().note,
            "case folded"
        );
        assert_eq!(email_key("kate@acme.com", &none).unwrap().note, "");
    }

    #[test]
    fn subaddresses_are_removed_only_where_the_policy_says() {
        let rules = DomainAliases::default().with_subaddresses(&["Acme.com".to_string()], "+");
        let key = email_key("Jo+Jira@acme.com", &rules).unwrap();
        assert_eq!(key.key, "jo@acme.com");
        assert!(
            key.note.contains("subaddress +jira removed"),
            "{}",
            key.note
        );
        assert_eq!(
            email_key("jo+jira@other.com", &rules).unwrap().key,
            "jo+jira@other.com"
        );
        assert_eq!(
            email_key("+jira@acme.com", &rules).unwrap().key,
            "+jira@acme.com",
            "nothing before the tag"
        );
        let dash = DomainAliases::default().with_subaddresses(&["acme.com".to_string()], "-");
        assert_eq!(
            email_key("jo-list@acme.com", &dash).unwrap().key,
            "jo@acme.com"
        );
        // An alias counts under either name.
        let aliased = DomainAliases::new(&BTreeMap::from([(
            "acme-corp.com".to_string(),
            "acme.com".to_string(),
        )]))
        .with_subaddresses(&["acme.com".to_string()], "+");
        assert_eq!(
            email_key("jo+x@acme-corp.com", &aliased).unwrap().key,
            "jo@acme.com"
        );
    }

    #[test]
    fn gmail_ignores_dots_and_googlemail_is_gmail() {
        let none = DomainAliases::default();
        let key = email_key("John.Smith@gmail.com", &none).unwrap();
        assert_eq!(key.key, "johnsmith@gmail.com");
        assert!(key.note.contains("dots ignored"), "{}", key.note);
        let key = email_key("john.smith@googlemail.com", &none).unwrap();
        assert_eq!(key.key, "johnsmith@gmail.com");
        assert!(
            key.note.contains("googlemail.com treated as gmail.com"),
            "{}",
            key.note
        );
        // Workspace domains keep their dots; gmail keeps +tags unless the policy lists it.
        assert_eq!(
            email_key("john.smith@acme.com", &none).unwrap().key,
            "john.smith@acme.com"
        );
        assert_eq!(
            email_key("john+x@gmail.com", &none).unwrap().key,
            "john+x@gmail.com"
        );
        let rules = DomainAliases::default().with_subaddresses(&["gmail.com".to_string()], "+");
        assert_eq!(
            email_key("j.ohn+x.y@googlemail.com", &rules).unwrap().key,
            "john@gmail.com"
        );
        assert_eq!(
            email_key("...@gmail.com", &none).unwrap().key,
            "...@gmail.com"
        );
    }

    #[test]
    fn invalid_addresses_say_why() {
        let none = DomainAliases::default();
        assert_eq!(email_key("", &none), Err(InvalidEmail::Empty));
        assert_eq!(email_key("john", &none), Err(InvalidEmail::NoAt));
        assert_eq!(email_key("a@b@c.com", &none), Err(InvalidEmail::SeveralAts));
        assert_eq!(
            email_key("@acme.com", &none),
            Err(InvalidEmail::EmptyLocalPart)
        );
        assert_eq!(
            email_key("jo hn@acme.com", &none),
            Err(InvalidEmail::BadLocalPart)
        );
        assert_eq!(
            email_key("john@localhost", &none),
            Err(InvalidEmail::BadDomain)
        );
        assert_eq!(
            email_key("john@acme..com", &none),
            Err(InvalidEmail::BadDomain)
        );
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
        for raw in [
            "jo@bücher.example",
            "ü",
            "smtpü",
            "mailtö:x@y.com",
            "ﬀ@ﬀ.com",
        ] {
            let _ = email_key(raw, &none);
        }
    }

    #[test]
    fn compact_forms_agree_with_the_string_forms() {
        let rules = DomainAliases::new(&BTreeMap::from([(
            "acme-corp.com".to_string(),
            "acme.com".to_string(),
        )]))
        .with_subaddresses(&["acme.com".to_string()], "+");
        let texts = [
            "",
            " Jo ",
            "JOHN",
            "Straße",
            "ＪＯＨＮ",
            "İstanbul",
            "IŞIK",
            "ﬃ",
            "jose\u{301}",
            "Smith, John",
            "Élodie Dupont",
            "Zoë O'Brien-Smith",
            "  (Kim)  Lee ",
            "Ｋａｔｅ Ｂｒｏｗｎ",
        ];
        for text in texts {
            let (compact, note) = fold_compact(text);
            assert_eq!(
                (compact.as_str(), note),
                (&*fold(text), fold_with_note(text).1),
                "{text:?}"
            );
            let compact = name_key_compact(text).map(|(k, n)| (k.to_string(), n));
            assert_eq!(compact, name_key_with_note(text), "{text:?}");
        }
        let addresses = [
            "John.Doe@ACME.com",
            "SMTP:jo@acme-corp.com",
            "jo+tag@acme.com",
            "J.O.Hn@googlemail.com",
            "ＫＡＴＥ@acme.com",
            "jo@bücher.example",
            "j\u{43e}hn@acme.com",
            "mailto:x@y.com.",
            "bad",
            "a@b@c.com",
            "jo@acme..com",
        ];
        for raw in addresses {
            match (email_key(raw, &rules), email_key_compact(raw, &rules)) {
                (Ok(full), Ok((key, skeleton, note))) => {
                    assert_eq!(full.key, key.as_str(), "{raw}");
                    assert_eq!(skeleton_hash(&[&full.lookalike_form]), skeleton, "{raw}");
                    if let Some(text) = note.as_str() {
                        assert_eq!(full.note, text, "{raw}");
                    }
                }
                (Err(a), Err(b)) => assert_eq!(a, b, "{raw}"),
                (a, b) => panic!("{raw}: {a:?} / {b:?}"),
            }
        }
        assert_eq!(
            skeleton_hash(&["john@acme.com"]),
            skeleton_hash(&["j\u{43e}hn@acme.com"]),
            "equal skeletons hash equal"
        );
        assert_ne!(
            skeleton_hash(&["john@acme.com"]),
            skeleton_hash(&["joan@acme.com"])
        );
    }

    #[test]
    fn cyrillic_o_looks_like_latin_o() {
        let latin = fold("john@acme.com").into_owned();
        let cyrillic = fold("j\u{43e}hn@acme.com").into_owned();
        assert_ne!(latin, cyrillic);
        assert_eq!(skeleton(&latin), skeleton(&cyrillic));
    }
}
