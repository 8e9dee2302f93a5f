//! The shortcuts of key derivation: each takes the usual values (ASCII, or text whose every
//! character folds on its own, short enough for the stack) in one pass without allocating,
//! and declines anything else, which the general way in `mod.rs` then takes. Two million
//! addresses and names are keyed in a 1M × 1M run, nearly all of them usual.
//!
//! A shortcut only declines; it never decides differently. [`tests`] holds them all to that
//! with one tester, `every_shortcut_agrees`, run on arbitrary text and on every character
//! of the Basic Multilingual Plane.

use std::sync::OnceLock;

use compact_str::CompactString;
use smallvec::SmallVec;
use unicode_normalization::{IsNormalized, is_nfkc_quick};

use super::{
    DomainAliases, EmailNote, FoldNote, Folding, GMAIL, GOOGLEMAIL, SKELETON_HASH_K, fold_whole,
    name_word_hash, separates_name_words, skeleton_hash, skeleton_hash_step, skeleton_whole,
    strip_address_prefix,
};

/// `str::trim`, without decoding a character when the text begins and ends with a visible
/// ASCII character, as nearly every value does: there is then nothing to trim. Every address
/// and username is trimmed, on both sides.
pub(crate) fn trim(text: &str) -> &str {
    match (text.as_bytes().first(), text.as_bytes().last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => text,
        _ => text.trim(),
    }
}

/// A string [`fold_by_character`] can write into.
pub(super) trait FoldOutput {
    fn with_capacity(capacity: usize) -> Self;
    fn push(&mut self, c: char);
    fn push_str(&mut self, s: &str);
}

impl FoldOutput for String {
    fn with_capacity(capacity: usize) -> Self {
        String::with_capacity(capacity)
    }
    fn push(&mut self, c: char) {
        String::push(self, c)
    }
    fn push_str(&mut self, s: &str) {
        String::push_str(self, s)
    }
}

impl FoldOutput for CompactString {
    fn with_capacity(capacity: usize) -> Self {
        CompactString::with_capacity(capacity)
    }
    fn push(&mut self, c: char) {
        CompactString::push(self, c)
    }
    fn push_str(&mut self, s: &str) {
        CompactString::push_str(self, s)
    }
}

/// [`fold_whole`] one character at a time, for text made only of characters where that gives
/// the same answer (accented Latin, Greek, Cyrillic, Arabic, CJK... in their usual composed
/// forms); `None` sends anything else to [`fold_whole`]. Names are most of what is folded,
/// and most names in most scripts qualify: this avoids two normalisation passes and a copy
/// per name. Each [`Folding`] has its own table. Agreement with [`fold_whole`], for both
/// foldings, is tested for every character of the BMP.
pub(super) fn fold_by_character<S: FoldOutput>(
    text: &str,
    folding: Folding,
) -> Option<(S, FoldNote)> {
    // Folding seldom changes a text's length much: one allocation, not one per growth.
    let mut out = S::with_capacity(text.len() + text.len() / 4);
    let mut case = false;
    let mut ascii_from = 0;
    for (at, c) in text.char_indices() {
        if c.is_ascii() {
            if c.is_ascii_uppercase() {
                out.push_str(&text[ascii_from..at]);
                out.push(c.to_ascii_lowercase());
                ascii_from = at + 1;
                case = true;
            }
            continue;
        }
        out.push_str(&text[ascii_from..at]);
        ascii_from = at + c.len_utf8();
        match CharFold::of(c, folding) {
            CharFold::Same => out.push(c),
            CharFold::To(folded) => {
                out.push(folded);
                case = true;
            }
            CharFold::ToMany(folded) => {
                out.push_str(folded);
                case = true;
            }
            CharFold::InContext => return None,
        }
    }
    out.push_str(&text[ascii_from..]);
    Some((
        out,
        FoldNote {
            case,
            ..FoldNote::default()
        },
    ))
}

/// How one non-ASCII character folds when [`fold_by_character`] may fold it on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CharFold {
    Same,
    To(char),
    ToMany(&'static str),
    /// Normalisation may change it or its neighbours (combining marks, compatibility forms,
    /// spaces, characters outside the BMP): only [`fold_whole`] may fold it.
    InContext,
}

impl CharFold {
    /// A text of characters that are NFKC quick-check "Yes" with combining class 0 is NFKC
    /// as it stands, and case folding is per character; so a character qualifies when it is
    /// such a character and so is everything it folds to. The table is built a block of
    /// 256 characters at a time, on first use, from the same Unicode data as [`fold_whole`].
    fn of(c: char, folding: Folding) -> CharFold {
        const BLOCKS: usize = 0x100;
        type Table = [OnceLock<Box<[CharFold; 256]>>; BLOCKS];
        static IDENTITY: Table = [const { OnceLock::new() }; BLOCKS];
        static COMPATIBLE: Table = [const { OnceLock::new() }; BLOCKS];
        let code = c as usize;
        if code >= BLOCKS * 256 {
            return CharFold::InContext;
        }
        let table = match folding {
            Folding::Identity => &IDENTITY,
            Folding::Compatible => &COMPATIBLE,
        };
        let block = table[code >> 8].get_or_init(|| {
            Box::new(std::array::from_fn(|low| {
                char::from_u32(((code >> 8) << 8 | low) as u32)
                    .map_or(CharFold::InContext, |c| CharFold::derive(c, folding))
            }))
        });
        block[code & 0xFF]
    }

    fn derive(c: char, folding: Folding) -> CharFold {
        use unicode_normalization::char::canonical_combining_class;
        let stands_alone = |c: char| {
            canonical_combining_class(c) == 0
                && is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes
                && !c.is_whitespace()
        };
        if c.is_ascii() || !stands_alone(c) {
            return CharFold::InContext;
        }
        let mut buf = [0u8; 4];
        let (folded, note) = fold_whole(c.encode_utf8(&mut buf), folding);
        // The note must be what folding by character would say: only "case", and only when
        // the character changed (`ΐ` folds to three characters that recompose to itself).
        let says = FoldNote {
            case: folded.chars().ne([c]),
            ..FoldNote::default()
        };
        if folded.is_empty()
            || note != says
            || !folded.chars().all(|f| f.is_ascii() || stands_alone(f))
        {
            return CharFold::InContext;
        }
        let mut chars = folded.chars();
        match (chars.next(), chars.next()) {
            (Some(one), None) if one == c => CharFold::Same,
            (Some(one), None) => CharFold::To(one),
            // A handful of characters (ß, ŉ, ǰ...) fold to several: kept for the process's life.
            _ => CharFold::ToMany(Box::leak(folded.into_boxed_str())),
        }
    }
}

/// The longest address [`email_key_ascii`] takes (the longest a mail server accepts).
const ASCII_EMAIL_MAX: usize = 254;

/// [`email_key_compact`] for the usual address, in one pass on the stack: ASCII, a valid
/// local part without `@`, a domain of letters, digits, hyphens and inner dots, no subaddress
/// rule and not consumer Gmail. `None` sends the address the general way, which also says why
/// an invalid one is invalid. The two agree on every address this one takes (property-tested):
/// two million addresses are keyed in a 1M × 1M run, most of them this simple.
pub(super) fn email_key_ascii(
    raw: &str,
    aliases: &DomainAliases,
) -> Option<(CompactString, u64, EmailNote)> {
    if !raw.is_ascii() {
        return None;
    }
    let trimmed = trim(raw);
    // Only `smtp:` and `mailto:` are prefixes: most addresses need not be asked.
    let address = if matches!(trimmed.as_bytes().first(), Some(b's' | b'S' | b'm' | b'M')) {
        strip_address_prefix(trimmed)
    } else {
        trimmed
    };
    let bytes = address.as_bytes();
    if bytes.len() > ASCII_EMAIL_MAX {
        return None;
    }
    let at = bytes.iter().rposition(|&b| b == b'@')?;
    let (local, domain) = (&bytes[..at], &bytes[at + 1..]);
    // Space and control characters are what `check_local_part` refuses in ASCII.
    let mut local_case = false;
    for &b in local {
        if b == b'@' || b <= b' ' || b == 0x7f {
            return None;
        }
        local_case |= b.is_ascii_uppercase();
    }
    if local.is_empty() {
        return None;
    }
    // The domain's labels: 1 to 63 letters, digits and inner hyphens; two labels at least.
    let (mut domain_case, mut labels, mut label_len, mut previous) = (false, 0, 0, b'.');
    for &b in domain {
        if b == b'.' {
            if label_len == 0 || previous == b'-' {
                return None;
            }
            labels += 1;
            label_len = 0;
        } else {
            if !(b.is_ascii_alphanumeric() || b == b'-' && label_len > 0) {
                return None;
            }
            domain_case |= b.is_ascii_uppercase();
            label_len += 1;
        }
        if label_len > 63 {
            return None;
        }
        previous = b;
    }
    if label_len == 0 || previous == b'-' || labels < 1 {
        return None;
    }
    let written = &address[at + 1..];
    let lowered;
    let domain_ascii = if domain_case {
        lowered = written.to_ascii_lowercase();
        lowered.as_str()
    } else {
        written
    };
    let aliased = aliases
        .map
        .get(domain_ascii)
        .map_or(domain_ascii, String::as_str);
    let canonical = if aliased == GOOGLEMAIL {
        GMAIL
    } else {
        aliased
    };
    if canonical == GMAIL
        || aliases
            .subaddress_separator([domain_ascii, aliased, canonical])
            .is_some()
    {
        return None;
    }
    let detailed = aliased != domain_ascii || canonical != aliased;
    let mut key = if canonical == written {
        CompactString::from(address)
    } else {
        let mut key = CompactString::with_capacity(at + 1 + canonical.len());
        key.push_str(&address[..=at]);
        key.push_str(canonical);
        key
    };
    if local_case {
        key.as_mut_str()[..at].make_ascii_lowercase();
    }
    // The look-alike form is the key itself: the domain as written, folded, is its ASCII form.
    let skeleton = ascii_skeleton_hash(key.as_bytes()).unwrap_or_else(|| skeleton_hash(&[&key]));
    let prefix = address.len() != trimmed.len();
    let fold = FoldNote {
        case: local_case || domain_case,
        ..FoldNote::default()
    };
    Some((
        key,
        skeleton,
        EmailNote {
            fold,
            prefix,
            idna: false,
            dots: false,
            detailed,
        },
    ))
}

/// [`separates_name_words`] for each byte, as a table.
const SEPARATES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 128 {
        table[b] = separates_name_words(b as u8 as char);
        b += 1;
    }
    table
};

/// The longest folded name keyed on the stack; a longer one is keyed the general way.
const NAME_ON_STACK: usize = 128;

/// A name folded on the stack, as UTF-8 bytes: a name is keyed on each side, and most names
/// are far shorter than this. `overflowed` when the fold did not fit.
pub(super) struct FoldedName {
    bytes: [u8; NAME_ON_STACK],
    len: usize,
    overflowed: bool,
}

impl FoldedName {
    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    fn push_bytes(&mut self, bytes: &[u8]) {
        match self.bytes.get_mut(self.len..self.len + bytes.len()) {
            Some(room) => {
                room.copy_from_slice(bytes);
                self.len += bytes.len();
            }
            None => self.overflowed = true,
        }
    }
}

impl FoldOutput for FoldedName {
    fn with_capacity(_: usize) -> Self {
        FoldedName {
            bytes: [0; NAME_ON_STACK],
            len: 0,
            overflowed: false,
        }
    }
    fn push(&mut self, c: char) {
        // Written in place: most of a name's pieces are a character or two.
        match self.bytes.get_mut(self.len..) {
            Some(room) if room.len() >= 4 => self.len += c.encode_utf8(room).len(),
            _ => self.push_bytes(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    fn push_str(&mut self, s: &str) {
        // Most pieces are a few letters between two accented ones: copied byte by byte, not
        // by a call to `memcpy`.
        if s.len() <= 8
            && let Some(room) = self.bytes.get_mut(self.len..self.len + s.len())
        {
            for (to, &from) in room.iter_mut().zip(s.as_bytes()) {
                *to = from;
            }
            self.len += s.len();
            return;
        }
        self.push_bytes(s.as_bytes());
    }
}

/// A name folded as [`fold_with_note`] folds it, on the stack, when it can be folded a
/// character at a time ([`fold_by_character`]; ASCII always can) and fits; `None` sends it to
/// [`name_key_folded`]. Such a fold leaves no whitespace but ASCII, so its words can be split
/// on bytes; the surrounding whitespace [`fold_with_note`] trims is then ASCII too, and
/// separates no words.
pub(super) fn fold_name_by_character(name: &str) -> Option<(FoldedName, FoldNote)> {
    if name.is_ascii() {
        let mut folded = FoldedName::with_capacity(0);
        folded.push_str(name);
        folded.bytes[..folded.len].make_ascii_lowercase();
        let case = name.bytes().any(|b| b.is_ascii_uppercase());
        return (!folded.overflowed).then_some((
            folded,
            FoldNote {
                case,
                ..FoldNote::default()
            },
        ));
    }
    fold_by_character::<FoldedName>(name, Folding::Compatible)
        .filter(|(folded, _)| !folded.overflowed)
}

/// Calls `each` with the words of a name [`fold_name_by_character`] folded, split on
/// [`separates_name_words`], in the order written.
fn for_each_name_word<'t>(folded: &'t [u8], mut each: impl FnMut(&'t [u8])) {
    let mut start = 0;
    for (i, &b) in folded.iter().enumerate() {
        if SEPARATES[usize::from(b)] {
            if i > start {
                each(&folded[start..i]);
            }
            start = i + 1;
        }
    }
    if folded.len() > start {
        each(&folded[start..]);
    }
}

/// The name key of a name [`fold_name_by_character`] folded: its words sorted, one space
/// between them.
pub(super) fn sorted_name_key(
    folded: &FoldedName,
    note: FoldNote,
) -> Option<(CompactString, FoldNote)> {
    let mut words: SmallVec<[&[u8]; 8]> = SmallVec::new();
    for_each_name_word(folded.as_bytes(), |word| words.push(word));
    if words.is_empty() {
        return None;
    }
    words.sort_unstable();
    // The key is no longer than the folded name: its words and fewer separators.
    let mut key = [0u8; NAME_ON_STACK];
    let mut end = 0;
    for word in &words {
        if end > 0 {
            key[end] = b' ';
            end += 1;
        }
        key[end..end + word.len()].copy_from_slice(word);
        end += word.len();
    }
    // Words split at ASCII bytes are whole characters, so this never fails.
    let key = std::str::from_utf8(&key[..end]).ok()?;
    Some((CompactString::from(key), note))
}

/// [`skeleton_hash`] of an ASCII text without writing its skeleton out; `None` for any other
/// text. A step is affine in the hash, so the steps of a character's whole skeleton are one:
/// `hash -> hash * multiply + add`, from [`ascii_skeleton_steps`].
pub(super) fn ascii_skeleton_hash(text: &[u8]) -> Option<u64> {
    let steps = ascii_skeleton_steps();
    let mut hash = 0u64;
    for &b in text {
        let &(multiply, add) = steps.get(usize::from(b))?;
        hash = hash.wrapping_mul(multiply).wrapping_add(add);
    }
    Some(hash)
}

/// Each ASCII character's skeleton as one hash step: `(multiply, add)` such that
/// `hash * multiply + add` is [`skeleton_hash_step`] applied to each byte of the skeleton.
fn ascii_skeleton_steps() -> &'static [(u64, u64); 128] {
    static TABLE: OnceLock<[(u64, u64); 128]> = OnceLock::new();
    TABLE.get_or_init(|| {
        std::array::from_fn(|i| {
            ascii_skeletons()[i]
                .bytes()
                .fold((1u64, 0u64), |(multiply, add), byte| {
                    (
                        multiply.wrapping_mul(SKELETON_HASH_K),
                        skeleton_hash_step(add, byte),
                    )
                })
        })
    })
}

/// [`super::skeleton`] of an ASCII text, a character at a time from a table built once from
/// the definition; `None` for any other text.
pub(super) fn ascii_skeleton(key: &str) -> Option<String> {
    if !key.is_ascii() {
        return None;
    }
    let table = ascii_skeletons();
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        out.push_str(&table[b as usize]);
    }
    Some(out)
}

/// [`super::name_key_hash`] of a name [`fold_name_by_character`] folded, its words hashed as
/// they are split, without sorting them or writing the key.
pub(super) fn folded_name_hash(folded: &FoldedName) -> Option<u64> {
    let mut sum = None;
    for_each_name_word(folded.as_bytes(), |word| {
        sum = Some(sum.unwrap_or(0u64).wrapping_add(name_word_hash(word)));
    });
    sum
}

fn ascii_skeletons() -> &'static [String; 128] {
    static TABLE: OnceLock<[String; 128]> = OnceLock::new();
    TABLE.get_or_init(|| {
        std::array::from_fn(|i| {
            let c = char::from(i as u8);
            skeleton_whole(c.encode_utf8(&mut [0u8; 4]))
        })
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::super::{
        fold_compact, fold_with_note, name_hash, name_key, name_key_compact, name_key_folded,
        name_key_hash, text_skeleton_hash,
    };
    use super::*;

    /// The address rules the tester keys addresses under: none, and a domain alias with a
    /// subaddress domain (which the ASCII address shortcut must decline or agree with).
    fn address_rules() -> [DomainAliases; 2] {
        let aliases = BTreeMap::from([("acme-corp.com".to_string(), "acme.com".to_string())]);
        [
            DomainAliases::default(),
            DomainAliases::new(&aliases).with_subaddresses(&["sub.example".to_string()], "+"),
        ]
    }

    /// The one tester: every shortcut of this module against the general way it skips, on one
    /// text. Each shortcut either declines the text or gives exactly what the general way
    /// gives (key, note, hash), whatever the text is.
    fn every_shortcut_agrees(text: &str) -> Result<(), TestCaseError> {
        // Trimming without decoding.
        prop_assert_eq!(trim(text), text.trim(), "trim of {:?}", text);
        // Folding a character at a time, under either folding; callers give it trimmed text
        // that is not ASCII (ASCII is lowercased before it is asked).
        let trimmed = text.trim();
        if !trimmed.is_ascii() {
            for folding in [Folding::Identity, Folding::Compatible] {
                if let Some(fast) = fold_by_character::<String>(trimmed, folding) {
                    prop_assert_eq!(
                        fast,
                        fold_whole(trimmed, folding),
                        "{:?} folded as {:?}",
                        trimmed,
                        folding
                    );
                }
            }
        }
        // The small-string fold (ASCII on the stack, else by character) is the string fold.
        let (compact, compact_note) = fold_compact(text);
        let (long, long_note) = fold_with_note(text);
        prop_assert_eq!(
            (compact.as_str(), compact_note),
            (&*long, long_note),
            "compact fold of {:?}",
            text
        );
        // The ASCII look-alike table, and its hash taken without writing the skeleton.
        if let Some(fast) = ascii_skeleton(text) {
            prop_assert_eq!(&fast, &skeleton_whole(text), "skeleton of {:?}", text);
        }
        let written = skeleton_whole(text).bytes().fold(0, skeleton_hash_step);
        if let Some(fast) = ascii_skeleton_hash(text.as_bytes()) {
            prop_assert_eq!(fast, written, "skeleton hash of {:?}", text);
        }
        prop_assert_eq!(
            text_skeleton_hash(text),
            written,
            "skeleton hash of {:?}",
            text
        );
        prop_assert_eq!(
            skeleton_hash(&[text]),
            written,
            "skeleton hash of {:?}",
            text
        );
        // Names folded on the stack and split on bytes: the key, and the hash taken without it.
        let general = name_key_folded(text);
        if let Some((folded, note)) = fold_name_by_character(text) {
            prop_assert_eq!(
                sorted_name_key(&folded, note),
                general.clone(),
                "name key of {:?}",
                text
            );
            prop_assert_eq!(
                folded_name_hash(&folded),
                general.as_ref().map(|(key, _)| name_key_hash(key)),
                "name hash of {:?}",
                text
            );
        }
        prop_assert_eq!(name_key_compact(text), general, "name key of {:?}", text);
        prop_assert_eq!(
            name_hash(text),
            name_key(text).map(|key| name_key_hash(&key)),
            "name hash of {:?}",
            text
        );
        // The one-pass ASCII address, under each set of rules.
        for aliases in &address_rules() {
            if let Some(fast) = email_key_ascii(text, aliases) {
                prop_assert_eq!(
                    Ok(fast),
                    super::super::email_key_parsed(text, aliases),
                    "address {:?}",
                    text
                );
            }
        }
        Ok(())
    }

    /// Addresses as directories hold them: prefixes, case, aliases, Gmail, subaddress domains,
    /// bad local parts and domains, surrounding space.
    fn addresses() -> impl Strategy<Value = String> {
        (
            "(|SMTP:|smtp:|mailto:|Mailto: | )",
            "[a-zA-Z0-9.+_@\" \t\x01-]{0,12}",
            "(acme-corp\\.com|ACME\\.com|gmail\\.com|GoogleMail\\.com|sub\\.example|([a-zA-Z0-9-]{0,4}\\.){0,3}[a-zA-Z0-9_-]{0,4}\\.?)",
            "(| |\t)",
        )
            .prop_map(|(prefix, local, domain, suffix)| format!("{prefix}{local}@{domain}{suffix}"))
    }

    /// Names with separators, spaces around them, and characters only the whole fold may
    /// fold; repeated, too long to fold on the stack.
    fn names() -> impl Strategy<Value = String> {
        let name = "([a-zA-Z0-9 ,.;()\"'\t\n\x0b\x0c\r_-]|ä|Ö|ß|İ|ı|Ａ|ﬁ|ž|ΐ|王|\u{a0}|\u{3000}|\u{301}|\u{85}){0,20}";
        prop_oneof![name.prop_map(|n| n), name.prop_map(|n| n.repeat(9))]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(6000))]

        /// Every shortcut agrees with the general way on any text: arbitrary Unicode, printable
        /// and control ASCII, mixed scripts with combining marks and compatibility forms,
        /// addresses and names.
        #[test]
        fn every_shortcut_agrees_with_the_general_way(
            text in prop_oneof![
                any::<String>(),
                "[\x00-\x7f]{0,30}",
                "[a-zA-Z ,.İıßςΣЁёéÉ\u{301}\u{308}\u{300}\u{345}Ａａﬃŉǰΐᾳ王\u{a0}\u{3000}\u{1F600}𝐣]{0,12}",
                "[ \t\n\x0b\x0c\r\u{85}\u{a0}\u{3000}a~é.]{0,6}",
                addresses(),
                names(),
            ]
        ) {
            every_shortcut_agrees(&text)?;
        }
    }

    /// Every character of the Basic Multilingual Plane, alone and amid ASCII, through the
    /// same tester; and the fold by character takes most of them, so it is not empty.
    #[test]
    fn every_shortcut_agrees_on_every_bmp_character() {
        let mut taken = [0usize; 2];
        for c in (0u32..0x10000).filter_map(char::from_u32) {
            for text in [c.to_string(), format!("A{c}b"), format!("{c}@acme.com")] {
                if let Err(failure) = every_shortcut_agrees(&text) {
                    panic!("U+{:04X}: {failure}", c as u32);
                }
            }
            for (n, folding) in [Folding::Identity, Folding::Compatible]
                .into_iter()
                .enumerate()
            {
                taken[n] += usize::from(
                    !c.is_ascii() && fold_by_character::<String>(&c.to_string(), folding).is_some(),
                );
            }
        }
        assert!(taken.iter().all(|&n| n > 30_000), "{taken:?}");
    }

    /// Texts proptest once shrank a failure to, and the values the shortcuts exist for.
    #[test]
    fn every_shortcut_agrees_on_known_texts() {
        for text in [
            "ΐ",
            "A",
            "Σ",
            "A @sub.example",
            "",
            " ",
            "İpek Işık",
            "Straße",
            "jose\u{301}",
            "ＪＯ",
            "ﬃ",
            "Jo.Smith@Acme.COM",
            "SMTP:jo@acme.com",
        ] {
            if let Err(failure) = every_shortcut_agrees(text) {
                panic!("{text:?}: {failure}");
            }
        }
    }

    /// The shortcuts are not empty: they take the usual values, and decline what only the
    /// general way may decide.
    #[test]
    fn the_shortcuts_take_the_usual_values() {
        let aliases = DomainAliases::default();
        for raw in [
            "jo@acme.com",
            "Jo.Smith@Acme.COM",
            "SMTP:jo@acme.com",
            " jo_1@a-b.example.org ",
        ] {
            assert!(email_key_ascii(raw, &aliases).is_some(), "{raw}");
        }
        for raw in [
            "jo@gmail.com",
            "jo@acme.com.",
            "\"a@b\"@acme.com",
            "jo@-acme.com",
            "jo@acme",
            "jö@acme.com",
            "jo @acme.com",
        ] {
            assert!(email_key_ascii(raw, &aliases).is_none(), "{raw}");
        }
        for folding in [Folding::Identity, Folding::Compatible] {
            // Accented Latin, Greek, Cyrillic, Arabic and CJK all fold a character at a time.
            for text in [
                "José",
                "Øyvind Løkken",
                "Ђорђе",
                "Σωκράτης",
                "Straße",
                "王伟",
                "محمد",
            ] {
                assert!(
                    fold_by_character::<String>(text, folding).is_some(),
                    "{text}"
                );
            }
            for text in ["jose\u{301}", "ＪＯ", "ﬃ", "a\u{a0}b", "𝐀"] {
                assert!(
                    fold_by_character::<String>(text, folding).is_none(),
                    "{text:?}"
                );
            }
        }
        // `İ` decomposes to `I` and a combining dot, which only the whole fold may handle.
        assert!(fold_by_character::<String>("İpek Işık", Folding::Compatible).is_some());
        assert!(fold_by_character::<String>("Işık", Folding::Identity).is_some());
        assert!(fold_by_character::<String>("İpek", Folding::Identity).is_none());
        assert!(fold_name_by_character("Ann Lee").is_some());
        assert!(
            fold_name_by_character(&"Ann Lee ".repeat(20)).is_none(),
            "too long for the stack"
        );
        assert!(ascii_skeleton("j0hn").is_some() && ascii_skeleton("jöhn").is_none());
    }
}
