//! The name tier: candidates found by blocking on name keys, each scored by the evidence the
//! pair has, and a link only when an exact, unique, corroborated name scores above
//! [`LINK_THRESHOLD`] with no runner-up.
//!
//! A name is the weakest key there is: a departed employee and a new hire can share one, and
//! FEBRL4's corrupted records show how often unrelated people do. So the score is evidence
//! for a human as much as for the engine. Hard rules come first and the score cannot
//! overrule them: the source is active, the destination active and in an organisation
//! domain, the source's own organisation address does not contradict it, the name is exact
//! (in any word order) and unique on both sides, and a second field agrees. Transliterations
//! (`Özlem` / `Ozlem`) and nicknames (`Bob` / `Robert`) are blocking keys and weak evidence:
//! they rank review candidates and never link on their own.
//!
//! The score is a log-odds sum ([`Weights`]), turned into a probability by the logistic
//! function. The weights and thresholds are documented in `docs/matching.md`.

use std::borrow::Cow;
use std::hash::BuildHasher;
use std::sync::LazyLock;

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use smallvec::SmallVec;

use super::batch::{self, Bits};
use super::chain::{Draft, Step};
use super::keys::{AccountKeys, Key, KeyIndex, KeyedEmail, NameField};
use super::{Context, NAME_BLOCK_CAP};
use crate::directory::{Account, Directory};
use crate::mapping::{Confidence, Evidence, Flag, Resolution, Target};
use crate::normalize::{self, FoldNote};

/// A name link needs a score at least this high (and every hard rule).
pub const LINK_THRESHOLD: f64 = 0.95;
/// Candidates scoring below this are not offered for review.
pub const REVIEW_FLOOR: f64 = 0.2;
/// A name link also needs every other candidate to score below this: when two fit, the
/// engine does not choose.
pub const RUNNER_UP_CEILING: f64 = 0.5;

/// The log-odds each piece of evidence adds. Published so the documentation and the tests
/// read the same numbers the engine uses.
pub struct Weights;

impl Weights {
    /// Where every pair starts: two accounts in the same name block are usually not one
    /// person until something else agrees.
    pub const PRIOR: f64 = -4.5;
    /// The same name once folded, in any word order.
    pub const SAME_NAME: f64 = 4.0;
    /// The same name only once accents are transliterated (`Özlem` / `Ozlem`).
    pub const TRANSLITERATED_NAME: f64 = 2.0;
    /// The same family name and given names that are nicknames of each other.
    pub const NICKNAME: f64 = 1.5;
    /// Names spelled almost alike (Jaro-Winkler ≥ 0.9 on the name keys: a typo, a dropped
    /// letter), among destination accounts nobody else claimed.
    pub const SIMILAR_NAME: f64 = 2.0;
    /// The destination's address or username spells the person's name. Weak: a namesake's
    /// account spells it just as well.
    pub const HANDLE_SPELLS_NAME: f64 = 0.5;
    /// Both sides have the same username, and the name does not explain it.
    pub const SAME_USERNAME: f64 = 3.0;
    /// Both sides have the same address local part (in different domains), and the name does
    /// not explain it.
    pub const SAME_LOCAL_PART: f64 = 2.5;
    /// Both sides share a handle that only spells the name (`andrew.taylor`): a namesake
    /// following the same naming pattern would share it too.
    pub const SHARED_NAME_HANDLE: f64 = 1.0;
    /// A username or local part on one side is close to one on the other (Jaro-Winkler ≥
    /// 0.92) without being equal. Weak for the same reason.
    pub const SIMILAR_HANDLE: f64 = 0.5;
    /// Only one destination account has the name.
    pub const UNIQUE_IN_DESTINATION: f64 = 1.0;
    /// Per natural-log unit of how many destination accounts share the name.
    pub const SHARED_IN_DESTINATION: f64 = -1.0;
    /// No other source account has the name.
    pub const UNIQUE_IN_SOURCE: f64 = 0.5;
    /// Other source accounts have the name: which of them this destination is, is unknown.
    pub const SHARED_IN_SOURCE: f64 = -2.0;
    /// The destination account has an address in an organisation domain.
    pub const ORGANISATION_ADDRESS: f64 = 0.5;
    /// The source has its own organisation address, and the destination does not have it.
    pub const CONTRADICTING_ADDRESS: f64 = -6.0;
}

/// The reason recorded for a same-name candidate that scored below [`REVIEW_FLOOR`].
const BELOW_REVIEW_FLOOR: &str = "same name; scored below the review floor";

/// Jaro-Winkler similarity from which two handles count as similar.
const SIMILAR_HANDLE_FROM: f64 = 0.92;
/// Jaro-Winkler similarity of two name keys from which they count as a near miss.
const SIMILAR_NAME_FROM: f64 = 0.9;

/// How the names of a candidate pair agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Agreement {
    Exact,
    Transliterated,
    Nickname,
    /// Close spellings (a typo, a letter dropped), found only among unclaimed destination
    /// accounts by [`Context::offer_near_misses`].
    Similar,
}

impl Agreement {
    fn weight(self) -> (f64, &'static str) {
        match self {
            Agreement::Exact => (Weights::SAME_NAME, "same name"),
            Agreement::Transliterated => (
                Weights::TRANSLITERATED_NAME,
                "same name once transliterated",
            ),
            Agreement::Nickname => (Weights::NICKNAME, "nickname of the same name"),
            Agreement::Similar => (Weights::SIMILAR_NAME, "similar name"),
        }
    }
}

/// One destination account the name blocks found for a source account. `'k` is the life
/// of the keys it borrows from.
struct Found<'k> {
    index: u32,
    agreement: Agreement,
    /// The destination's name key that agreed.
    key: Cow<'k, str>,
    /// How many destination accounts share that key.
    block: usize,
}

/// One piece of a score. A common name puts dozens of candidates in a block and each is
/// scored, but only those a person is shown need words: the text is written then, from here.
#[derive(Clone, Copy)]
enum Part<'k> {
    Prior,
    Agreement(Agreement),
    UniqueInDestination,
    SharedInDestination(usize),
    UniqueInSource,
    NamesakesInSource,
    Handles(Handles<'k>),
    OrganisationAddress,
    ContradictingAddress(&'k str),
}

impl std::fmt::Display for Part<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Part::Prior => f.write_str("prior"),
            Part::Agreement(agreement) => f.write_str(agreement.weight().1),
            Part::UniqueInDestination => f.write_str("unique in the destination"),
            Part::SharedInDestination(block) => write!(f, "shared by {block} destination accounts"),
            Part::UniqueInSource => f.write_str("unique in the source"),
            Part::NamesakesInSource => f.write_str("namesakes in the source"),
            Part::Handles(handles) => handles.fmt(f),
            Part::OrganisationAddress => f.write_str("organisation address"),
            Part::ContradictingAddress(own) => {
                write!(f, "own organisation address {own} not on it")
            }
        }
    }
}

/// Probabilities in [`f64::total_cmp`] order, as a sort key.
struct ProbabilityOrder(f64);

impl Ord for ProbabilityOrder {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl PartialOrd for ProbabilityOrder {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for ProbabilityOrder {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for ProbabilityOrder {}

/// A scored candidate. What the score is made of is kept as facts, and the weighted parts
/// are derived from them when they are summed or put into words: a common name puts dozens
/// of candidates in a block, and most are never explained.
struct Scored<'k> {
    found: Found<'k>,
    probability: f64,
    namesakes_in_source: bool,
    handles: Option<Handles<'k>>,
    organisation_address: bool,
    /// The source's own organisation address, which the destination does not have.
    contradiction: Option<&'k str>,
}

impl<'k> Scored<'k> {
    fn new(
        found: Found<'k>,
        namesakes_in_source: bool,
        handles: Option<Handles<'k>>,
        organisation_address: bool,
        contradiction: Option<&'k str>,
    ) -> Scored<'k> {
        let mut scored = Scored {
            found,
            probability: 0.0,
            namesakes_in_source,
            handles,
            organisation_address,
            contradiction,
        };
        // Summed in the order `parts` lists them, as the explanation adds them up; nothing
        // is collected, because most candidates are never explained.
        let mut log_odds = -0.0;
        scored.each_part(|weight, _| log_odds += weight);
        scored.probability = 1.0 / (1.0 + (-log_odds).exp());
        scored
    }

    /// The score's parts with their weights, the prior first.
    fn parts(&self) -> SmallVec<[(f64, Part<'k>); 7]> {
        let mut parts: SmallVec<[(f64, Part<'k>); 7]> = SmallVec::new();
        self.each_part(|weight, part| parts.push((weight, part)));
        parts
    }

    /// Calls `each` with every part of the score and its weight, the prior first.
    #[inline(always)]
    fn each_part(&self, mut each: impl FnMut(f64, Part<'k>)) {
        each(Weights::PRIOR, Part::Prior);
        each(
            self.found.agreement.weight().0,
            Part::Agreement(self.found.agreement),
        );
        let block = self.found.block;
        if block <= 1 {
            each(Weights::UNIQUE_IN_DESTINATION, Part::UniqueInDestination);
        } else {
            each(
                Weights::SHARED_IN_DESTINATION * (block as f64).ln(),
                Part::SharedInDestination(block),
            );
        }
        if self.namesakes_in_source {
            each(Weights::SHARED_IN_SOURCE, Part::NamesakesInSource);
        } else {
            each(Weights::UNIQUE_IN_SOURCE, Part::UniqueInSource);
        }
        if let Some(handles) = self.handles {
            each(handles.weight(), Part::Handles(handles));
        }
        if self.organisation_address {
            each(Weights::ORGANISATION_ADDRESS, Part::OrganisationAddress);
        }
        if let Some(own) = self.contradiction {
            each(
                Weights::CONTRADICTING_ADDRESS,
                Part::ContradictingAddress(own),
            );
        }
    }

    fn confidence(&self) -> Confidence {
        Confidence::from_probability(self.probability)
    }

    /// The handle both sides share that the name does not explain: the second field a name
    /// link needs.
    fn corroboration(&self) -> Option<Evidence> {
        self.handles.and_then(Handles::corroboration)
    }

    /// `"same name +4.0, ..., prior -4.5"`.
    fn explanation(&self) -> String {
        use std::fmt::Write;
        let mut text = String::with_capacity(160);
        let parts = self.parts();
        for (weight, what) in parts.iter().skip(1).chain(parts.first()) {
            if !text.is_empty() {
                text.push_str(", ");
            }
            let _ = write!(text, "{what} ");
            push_tenths(&mut text, *weight);
        }
        // Kept on a candidate for the life of the run: no spare capacity.
        text.shrink_to_fit();
        text
    }

    /// The score and its parts, for messages.
    fn reason(&self) -> String {
        format!("score {}: {}", self.confidence(), self.explanation())
    }
}

/// Appends a weight as `+4.0` / `-1.5` with integer arithmetic: float formatting was a
/// tenth of the name tier's time.
fn push_tenths(text: &mut String, weight: f64) {
    use std::fmt::Write;
    let tenths = (weight * 10.0).round() as i64;
    let sign = if tenths < 0 { '-' } else { '+' };
    let tenths = tenths.unsigned_abs();
    let _ = write!(text, "{sign}{}.{}", tenths / 10, tenths % 10);
}

/// What the name tier needs of a source account's name, derived once per account.
struct SourceName {
    /// ASCII-folded given name (all its words) and family name.
    given: String,
    family: String,
    /// The usual handle spellings of the name: `firstlast`, `lastfirst`, `flast`, `lastf`.
    spellings: [String; 4],
}

impl SourceName {
    fn of(account: &Account) -> Option<SourceName> {
        let (given, family) = given_and_family(account)?;
        let compact = |s: &str| {
            s.chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
        };
        let (f, l) = (compact(&given), compact(&family));
        let initial = &f[..f.chars().next()?.len_utf8()];
        if l.is_empty() {
            return None;
        }
        // Written piece by piece: every account the name tier sees has these.
        let joined = |a: &str, b: &str| {
            let mut text = String::with_capacity(a.len() + b.len());
            text.push_str(a);
            text.push_str(b);
            text
        };
        let spellings = [
            joined(&f, &l),
            joined(&l, &f),
            joined(initial, &l),
            joined(&l, initial),
        ];
        Some(SourceName {
            given,
            family,
            spellings,
        })
    }

    /// Whether a handle is one of the usual spellings of the name, with separators and a
    /// trailing number ignored. Asked of every handle of every candidate: a short ASCII
    /// handle is compared on the stack, anything else the general way.
    fn spelled_by(&self, handle: &str) -> bool {
        self.spelled_by_on_stack(handle)
            .unwrap_or_else(|| self.spelled_by_folding(handle))
    }

    /// [`SourceName::spelled_by`] the general way: folded to ASCII, letters and digits kept.
    fn spelled_by_folding(&self, handle: &str) -> bool {
        let bare: String = ascii_fold(handle)
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect();
        let bare = bare.trim_end_matches(|c: char| c.is_ascii_digit());
        self.spellings.iter().any(|s| s == bare)
    }

    /// [`SourceName::spelled_by`] of an ASCII handle of at most 64 bytes, on the stack
    /// through a byte table; `None` for any other handle.
    fn spelled_by_on_stack(&self, handle: &str) -> Option<bool> {
        if !handle.is_ascii() || handle.len() > 64 {
            return None;
        }
        // Each byte to its lowercase letter or digit, or to 0 (dropped) for anything else.
        const BARE: [u8; 128] = {
            let mut table = [0u8; 128];
            let mut b = 0;
            while b < 128 {
                if (b as u8).is_ascii_alphanumeric() {
                    table[b] = (b as u8).to_ascii_lowercase();
                }
                b += 1;
            }
            table
        };
        let mut bare = [0u8; 64];
        let mut len = 0;
        for b in handle.bytes() {
            let kept = BARE[usize::from(b & 0x7f)];
            bare[len] = kept;
            len += usize::from(kept != 0);
        }
        while len > 0 && bare[len - 1].is_ascii_digit() {
            len -= 1;
        }
        let bare = &bare[..len];
        Some(self.spellings.iter().any(|s| s.as_bytes() == bare))
    }
}

/// The accent-free form of a name key, words sorted again (transliteration can split a
/// word). `None` when it equals the key or has no words.
pub(crate) fn transliterated_key(key: &str) -> Option<String> {
    if key.is_ascii() {
        return None;
    }
    let ascii = deunicode::deunicode(key);
    normalize::name_key(&ascii).filter(|a| a != key)
}

/// [`Context::dst_name_targets`]: active destination accounts with an address in one of
/// the (folded) organisation domains.
pub(crate) fn name_targets(
    destination: &Directory,
    keys: &[AccountKeys],
    organisation_domains: &[String],
) -> Bits {
    Bits::from_bools(
        destination
            .accounts
            .par_iter()
            .zip(keys)
            .map(|(account, keys)| {
                account.active
                    && keys
                        .emails
                        .iter()
                        .any(|e| e.in_domains(organisation_domains))
            }),
    )
}

/// Destination accounts by the transliterated form of a name that has accents: the few
/// whose accent-free key differs from their key. `by_name` is the destination's name table.
pub(crate) fn transliterated_index(by_name: &KeyIndex<Key, u32>) -> FxHashMap<String, Vec<u32>> {
    // Transliterating is the dear part: done once per distinct name, on every thread.
    let transliterated: Vec<(String, u32)> = by_name
        .par_keys()
        .with_min_len(1024)
        .filter_map(|(slot, key)| Some((transliterated_key(key)?, slot)))
        .collect();
    let mut index: FxHashMap<String, Vec<u32>> = FxHashMap::default();
    for (ascii, slot) in transliterated {
        index
            .entry(ascii)
            .or_default()
            .extend_from_slice(by_name.hits(slot).as_slice());
    }
    // Each block lists its accounts once, in index order, as the name table does.
    for block in index.values_mut() {
        block.sort_unstable();
        block.dedup();
    }
    index
}

/// Adds destination account `index` to the block `key`, once. Accounts are added in index
/// order, and an account's keys one after another, so only the last entry can repeat.
fn add_to_block<K: std::hash::Hash + Eq>(blocks: &mut FxHashMap<K, Vec<u32>>, key: K, index: u32) {
    let entry = blocks.entry(key).or_default();
    if entry.last() != Some(&index) {
        entry.push(index);
    }
}

/// Nicknames both ways (`bob` → `robert`, `robert` → `bob`...), from the carltonnorthern
/// list in `data/nicknames/` (Apache 2.0).
fn nicknames(given: &str) -> &'static [&'static str] {
    static TABLE: LazyLock<FxHashMap<&'static str, Vec<&'static str>>> = LazyLock::new(|| {
        let mut table: FxHashMap<&'static str, Vec<&'static str>> = FxHashMap::default();
        for line in include_str!("../../data/nicknames/names.csv")
            .lines()
            .skip(1)
        {
            let mut parts = line.split(',');
            let (Some(name), Some("has_nickname"), Some(nickname)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let (name, nickname) = (name.trim(), nickname.trim());
            if name.is_empty() || nickname.is_empty() || name == nickname {
                continue;
            }
            table.entry(name).or_default().push(nickname);
            table.entry(nickname).or_default().push(name);
        }
        for list in table.values_mut() {
            list.sort_unstable();
            list.dedup();
        }
        table
    });
    TABLE.get(given).map_or(&[], Vec::as_slice)
}

fn ascii_fold(text: &str) -> String {
    // `deunicode`'s own placeholder, without copying text that is ASCII already.
    normalize::fold(&deunicode::deunicode_with_tofu_cow(text, "[?]")).into_owned()
}

/// The given and family name of an account, folded to ASCII: the fields when both are set,
/// else the first and last words of the display name.
fn given_and_family(account: &Account) -> Option<(String, String)> {
    let words = |text: &str| -> String {
        let folded = ascii_fold(text);
        let mut words = String::with_capacity(folded.len());
        for word in folded
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            if !words.is_empty() {
                words.push(' ');
            }
            words.push_str(word);
        }
        words
    };
    if let (Some(given), Some(family)) = (&account.given_name, &account.family_name) {
        let (given, family) = (words(given), words(family));
        if !given.is_empty() && !family.is_empty() {
            return Some((given, family));
        }
    }
    let words = words(account.display_name.as_deref()?);
    let (first, rest) = words.split_once(' ')?;
    let last = rest.rsplit(' ').next()?;
    Some((first.to_string(), last.to_string()))
}

impl Context<'_> {
    /// The name tier for source account `i`.
    pub(super) fn by_name(
        &self,
        i: u32,
        keys: &AccountKeys,
        excluded: &[u32],
        draft: &mut Draft,
    ) -> Step {
        if self.organisation_domains.is_empty() || !keys.has_names() {
            return Step::Next;
        }
        // An external contractor is never linked to an organisation account by name.
        if self.is_external(keys) {
            return Step::Next;
        }
        let account = self.source.account(i);
        // A name shared by more accounts than a person could review is not compared pair by
        // pair: the cost would grow with the square of the block, and no answer could come
        // of it anyway, because names only link when unique.
        // Each name key with the destination accounts that have it, looked up once.
        let named: SmallVec<[(&Key, &[u32]); 2]> = keys
            .names()
            .map(|(_, key)| {
                (
                    key,
                    self.dst_index
                        .by_name
                        .get(key.as_str())
                        .map_or(&[][..], |h| h.as_slice()),
                )
            })
            .collect();
        let block: usize = named.iter().map(|(_, hits)| hits.len()).sum();
        if block > NAME_BLOCK_CAP {
            if account.active {
                draft.flag(
                    Flag::Ambiguous,
                    format!(
                        "the name {:?} is shared by {block} destination accounts, too many to compare: add an exception",
                        account.display_name.as_deref().unwrap_or_default()
                    ),
                );
                return Step::Stop;
            }
            return Step::Next;
        }
        let mut found = self.name_blocks(&named);
        let name = SourceName::of(account);
        self.nickname_blocks(name.as_ref(), &mut found);
        if found.is_empty() {
            return Step::Next;
        }
        if !account.active {
            draft.say(
                "not matched by name: the source account is deactivated, and a name alone cannot tell a departed user from a namesake",
            );
            return Step::Next;
        }
        batch::fetch_candidates(self, found.iter().map(|f| f.index));
        let namesakes_in_source = self.has_namesakes_in_source(keys);
        let exact: Vec<u32> = found
            .iter()
            .filter(|f| f.agreement == Agreement::Exact)
            .map(|f| f.index)
            .collect();
        let eligible = |index: u32| self.dst_name_targets.get(index) && !excluded.contains(&index);
        let mut scored: Vec<Scored> = found
            .into_iter()
            .filter(|f| eligible(f.index))
            .map(|f| self.score(name.as_ref(), keys, f, namesakes_in_source))
            .filter(|s| s.probability >= REVIEW_FLOOR || s.found.agreement == Agreement::Exact)
            .collect();
        self.rank(&mut scored);

        if exact.len() > 1 || (namesakes_in_source && !exact.is_empty()) {
            let same_name: Vec<u32> = scored
                .iter()
                .filter(|s| s.found.agreement == Agreement::Exact)
                .map(|s| s.found.index)
                .collect();
            if same_name.is_empty() {
                return self.review_similar(&scored, draft);
            }
            self.offer(&scored, draft);
            // Written piece by piece, once: a common name gives thousands of these.
            use std::fmt::Write;
            let name = account.display_name.as_deref().unwrap_or_default();
            let mut why = String::with_capacity(256);
            if namesakes_in_source {
                let _ = write!(
                    why,
                    "other source accounts also have the name {name:?}, so the destination accounts with it ("
                );
                self.write_accounts(&mut why, &same_name);
                why.push_str(") are not linked by name");
            } else {
                let _ = write!(
                    why,
                    "the name {name:?} is shared by several destination accounts ("
                );
                self.write_accounts(&mut why, &same_name);
                why.push(')');
            }
            why.push_str(": names alone never decide; add an exception");
            draft.flag(Flag::Ambiguous, why);
            return Step::Stop;
        }
        if let [index] = exact[..] {
            let Some(best) = scored
                .iter()
                .position(|s| s.found.index == index && s.found.agreement == Agreement::Exact)
            else {
                if !excluded.contains(&index) {
                    draft.say(format!(
                        "destination account {} has the same name but is deactivated or outside the organisation domains: not matched",
                        self.dst_account_label(index)
                    ));
                }
                return self.review_similar(&scored, draft);
            };
            let candidate = &scored[best];
            if let Some(own) = candidate.contradiction {
                self.offer(&scored, draft);
                draft.say(format!(
                    "destination account {} has the same name, but this person's own organisation address {own} is not on it: not linked by name; review",
                    self.dst_account_label(index),
                ));
                return Step::Stop;
            }
            let Some(corroboration) = candidate.corroboration() else {
                self.offer(&scored, draft);
                draft.say(format!(
                    "destination account {} has the same unique name, but no address or username agrees with it beyond spelling the name, as a namesake's would: left for review ({})",
                    self.dst_account_label(index),
                    candidate.reason()
                ));
                return Step::Stop;
            };
            let runner_up = scored
                .iter()
                .enumerate()
                .find(|(j, s)| *j != best && s.probability >= RUNNER_UP_CEILING);
            if candidate.probability < LINK_THRESHOLD || runner_up.is_some() {
                self.offer(&scored, draft);
                let why = match runner_up {
                    Some((_, other)) => format!(
                        "destination account {} also fits ({})",
                        self.dst_account_label(other.found.index),
                        other.reason()
                    ),
                    None => format!(
                        "the evidence scores {:.2}, below the {LINK_THRESHOLD} a name link needs",
                        candidate.probability
                    ),
                };
                draft.flag(
                    Flag::Ambiguous,
                    format!(
                        "destination account {} has the same name, but {why}: left for review",
                        self.dst_account_label(index)
                    ),
                );
                return Step::Stop;
            }
            let key = &*candidate.found.key;
            let src_field = keys
                .names()
                .find(|(_, k)| *k == key)
                .map_or(NameField::DisplayName, |(f, _)| f);
            let dst_keys = &self.dst_keys[index as usize];
            let dst_field = dst_keys
                .names()
                .find(|(_, k)| *k == key)
                .map_or(NameField::DisplayName, |(f, _)| f);
            let fold: FoldNote = keys.name_note(key).union(dst_keys.name_note(key));
            let note = if fold.is_empty() {
                candidate.reason()
            } else {
                format!("{}; {fold}", candidate.reason())
            };
            return Step::Link {
                index,
                method: Resolution::Name,
                confidence: candidate.confidence(),
                evidence: vec![
                    Evidence {
                        method: Resolution::Name,
                        source_field: src_field.as_str().into(),
                        destination_field: dst_field.as_str().into(),
                        key: key.into(),
                        note: note.into(),
                    },
                    corroboration,
                ],
            };
        }
        self.review_similar(&scored, draft)
    }

    /// Every destination account sharing a name key or a transliterated key with the source
    /// account, given its name keys with the accounts that have each (`named`). Weak blocks
    /// larger than [`NAME_BLOCK_CAP`] are skipped.
    fn name_blocks<'k>(&'k self, named: &[(&'k Key, &'k [u32])]) -> Vec<Found<'k>> {
        let mut found: Vec<Found<'k>> = Vec::new();
        let by_name = |key: &str| self.dst_index.by_name.get(key).map(|h| h.as_slice());
        let by_transliteration = |key: &str| self.dst_transliterated.get(key).map(Vec::as_slice);
        for &(key, hits) in named {
            if !hits.is_empty() {
                add_block(&mut found, hits, Agreement::Exact, Cow::Borrowed(key));
            }
            // The destination wrote the accents the source left out.
            if let Some(hits) = by_transliteration(key) {
                for &index in hits {
                    let theirs = self.dst_keys[index as usize]
                        .names()
                        .find(|(_, k)| transliterated_key(k).as_deref() == Some(key.as_str()))
                        .map_or(key.as_str(), |(_, k)| k.as_str());
                    add_block(
                        &mut found,
                        &[index],
                        Agreement::Transliterated,
                        Cow::Borrowed(theirs),
                    );
                }
            }
            // The source wrote accents the destination left out, or both differ.
            if let Some(ascii) = transliterated_key(key) {
                if let Some(hits) = by_name(&ascii) {
                    add_block(
                        &mut found,
                        hits,
                        Agreement::Transliterated,
                        Cow::Owned(ascii.clone()),
                    );
                }
                if let Some(hits) = by_transliteration(&ascii) {
                    add_block(
                        &mut found,
                        hits,
                        Agreement::Transliterated,
                        Cow::Owned(ascii),
                    );
                }
            }
        }
        found
    }

    fn nickname_blocks(&self, name: Option<&SourceName>, found: &mut Vec<Found<'_>>) {
        let Some(name) = name else { return };
        let first = name.given.split(' ').next().unwrap_or_default();
        let family: Vec<&str> = name.family.split(' ').filter(|w| !w.is_empty()).collect();
        for nickname in nicknames(first) {
            // A name key is the folded words, sorted: nicknames and the family are folded already.
            let mut words: Vec<&str> = Vec::with_capacity(family.len() + 1);
            words.push(nickname);
            words.extend_from_slice(&family);
            words.sort_unstable();
            let key = words.join(" ");
            if let Some(hits) = self.dst_index.by_name.get(key.as_str()) {
                add_block(found, hits.as_slice(), Agreement::Nickname, Cow::Owned(key));
            }
        }
    }

    fn score<'k>(
        &'k self,
        name: Option<&SourceName>,
        keys: &'k AccountKeys,
        found: Found<'k>,
        namesakes_in_source: bool,
    ) -> Scored<'k> {
        let dst_keys = &self.dst_keys[found.index as usize];
        let handles = Handles::of(name, keys, dst_keys);
        // Every candidate scored is a name target: active, in an organisation domain.
        let organisation_address = self.dst_name_targets.get(found.index);
        let contradiction = keys.emails.iter().find(|e| {
            e.in_domains(&self.organisation_domains)
                && !dst_keys.emails.iter().any(|d| d.key == e.key)
        });
        Scored::new(
            found,
            namesakes_in_source,
            handles,
            organisation_address,
            contradiction.map(|own| own.key.as_str()),
        )
    }

    /// Best first; ties by destination id, so row order never shows.
    fn rank(&self, scored: &mut [Scored]) {
        // Each id is read once, not once per comparison: a block can hold fifty namesakes,
        // most with the same score, so ids mostly decide: by their prefixes, seldom whole.
        scored.sort_by_cached_key(|s| {
            let id = self.destination.account(s.found.index).id.as_str();
            (
                std::cmp::Reverse(ProbabilityOrder(s.probability)),
                batch::id_prefix(id),
                id,
            )
        });
    }

    /// Whether another source account has one of this account's name keys.
    fn has_namesakes_in_source(&self, keys: &AccountKeys) -> bool {
        keys.names().any(|(_, key)| {
            self.src_shared_names
                .contains(&normalize::name_key_hash(key))
        })
    }

    /// Whether the account has an address in one of the policy's external domains: a
    /// contractor, never linked to an organisation account by name.
    fn is_external(&self, keys: &AccountKeys) -> bool {
        keys.emails
            .iter()
            .any(|e| e.in_domains(&self.external_domains))
    }

    /// Offers the scored candidates, best first, for review. Same-name candidates scoring
    /// below the review floor are recorded (an ambiguity always names its candidates) with
    /// a fixed reason instead of their full score: a common name can put dozens of them on
    /// one mapping, and what they share is in the mapping's message.
    fn offer<'s, 'k: 's>(
        &self,
        scored: impl IntoIterator<Item = &'s Scored<'k>, IntoIter: ExactSizeIterator>,
        draft: &mut Draft,
    ) {
        let scored = scored.into_iter();
        draft.candidates.reserve_exact(scored.len());
        for s in scored {
            let reason: Cow<'static, str> = if s.probability < REVIEW_FLOOR {
                Cow::Borrowed(BELOW_REVIEW_FLOOR)
            } else {
                Cow::Owned(s.explanation())
            };
            draft.scored_candidate(s.found.index, Resolution::Name, reason, s.confidence());
        }
    }

    /// No exact name decides: similar names (transliterated, nicknames) are offered for
    /// review instead of letting a fallback create a second account for the same person.
    fn review_similar(&self, scored: &[Scored], draft: &mut Draft) -> Step {
        let similar: Vec<&Scored> = scored
            .iter()
            .filter(|s| s.probability >= REVIEW_FLOOR)
            .collect();
        let Some(best) = similar.first() else {
            return Step::Next;
        };
        self.offer(similar.iter().copied(), draft);
        draft.say(format!(
            "no destination account has this exact name; {} with a similar one left for review, best {} ({})",
            if similar.len() == 1 { "one".to_string() } else { similar.len().to_string() },
            self.dst_account_label(best.found.index),
            best.reason()
        ));
        Step::Stop
    }
}

/// Adds a block of destination accounts found by `key` with `agreement` to `found`: an
/// account found already keeps its stronger agreement. Weak blocks larger than
/// [`NAME_BLOCK_CAP`] are skipped.
fn add_block<'k>(
    found: &mut Vec<Found<'k>>,
    hits: &[u32],
    agreement: Agreement,
    key: Cow<'k, str>,
) {
    if agreement != Agreement::Exact && hits.len() > NAME_BLOCK_CAP {
        return;
    }
    if found.is_empty() {
        // A block lists each account once: the first needs no comparing, and it is the
        // exact name's block, the largest.
        found.extend(hits.iter().map(|&index| Found {
            index,
            agreement,
            key: key.clone(),
            block: hits.len(),
        }));
        return;
    }
    for &index in hits {
        match found.iter_mut().find(|f| f.index == index) {
            Some(f) if f.agreement <= agreement => {}
            Some(f) => {
                *f = Found {
                    index,
                    agreement,
                    key: key.clone(),
                    block: hits.len(),
                }
            }
            None => found.push(Found {
                index,
                agreement,
                key: key.clone(),
                block: hits.len(),
            }),
        }
    }
}

/// Near-miss blocking keys of a name key: each word with the initials of the others
/// (`john smith` → `john|s`, `smith|j`), so a typo in one word still meets the other. Kept
/// as 64-bit hashes, built on the stack: the destination side makes hundreds of thousands.
/// (Two blocks colliding would only put more candidates before the similarity check.)
fn near_miss_keys(key: &str) -> impl Iterator<Item = u64> + '_ {
    let words: SmallVec<[&str; 8]> = key.split(' ').filter(|w| !w.is_empty()).collect();
    let count = words.len();
    (0..count).filter(move |_| count >= 2).filter_map(move |i| {
        if words[i].chars().count() < 2 {
            return None;
        }
        let mut initials: SmallVec<[char; 8]> = words
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .filter_map(|(_, w)| w.chars().next())
            .collect();
        initials.sort_unstable();
        let mut block: SmallVec<[u8; 96]> = SmallVec::new();
        block.extend_from_slice(words[i].as_bytes());
        block.push(b'|');
        for initial in initials {
            block.extend_from_slice(initial.encode_utf8(&mut [0; 4]).as_bytes());
        }
        Some(rustc_hash::FxBuildHasher.hash_one(&block[..]))
    })
}

impl Context<'_> {
    /// The last look before a fallback creates an account: a source account about to be
    /// provisioned or passed through, or left with nothing to review, is compared with the
    /// destination accounts nobody claimed whose names are spelled almost alike. Those that
    /// score above the review floor stop it for review. A near miss never links.
    pub(super) fn offer_near_misses(&self, drafts: &mut [Draft]) {
        if self.organisation_domains.is_empty() {
            return;
        }
        let pending = |draft: &Draft| {
            // An exception's decision to create is a person's: no near miss overrules it.
            let creates = matches!(draft.target, Some(Target::Provision | Target::Passthrough))
                && draft.resolution != Resolution::Exception;
            let nothing =
                draft.target.is_none() && draft.candidates.is_empty() && draft.flags.is_empty();
            // Whether it has a name at all is seen in `near_misses_of`, which derives its keys.
            (creates || nothing) && self.source.account(draft.source).active
        };
        if !drafts.iter().any(pending) {
            return;
        }
        let mut claimed = vec![false; self.destination.accounts.len()];
        let links: Vec<u32> = drafts
            .par_iter()
            .filter_map(|draft| match draft.target {
                Some(Target::Existing { index }) => Some(index),
                _ => None,
            })
            .collect();
        for index in links {
            claimed[index as usize] = true;
        }
        // Only the blocks the pending accounts will look in are built: they are few, and the
        // destination has a block for nearly every unclaimed name.
        let wanted: FxHashSet<u64> = drafts
            .par_iter()
            .filter(|draft| pending(draft))
            .flat_map_iter(|draft| {
                let (names, _) = self.source.account(draft.source).name_key_slots();
                names
                    .iter()
                    .flat_map(|name| near_miss_keys(name))
                    .collect::<SmallVec<[u64; 8]>>()
            })
            .collect();
        // Built in a few pieces at once, each over a run of destination accounts, then joined
        // in order: every block lists its accounts in index order, as one pass would.
        let pieces = self.dst_keys.len() / rayon::current_num_threads().max(1) / 4 + 1;
        let blocks: FxHashMap<u64, Vec<u32>> = self
            .dst_keys
            .par_iter()
            .enumerate()
            .with_min_len(pieces)
            .fold(
                FxHashMap::default,
                |mut blocks: FxHashMap<u64, Vec<u32>>, (index, keys)| {
                    if claimed[index] || !self.dst_name_targets.get(index as u32) {
                        return blocks;
                    }
                    for (_, name) in keys.names() {
                        for block in near_miss_keys(name).filter(|block| wanted.contains(block)) {
                            add_to_block(&mut blocks, block, index as u32);
                        }
                    }
                    blocks
                },
            )
            .reduce(FxHashMap::default, |mut left, right| {
                for (block, indices) in right {
                    left.entry(block).or_default().extend(indices);
                }
                left
            });
        if blocks.is_empty() {
            return;
        }
        drafts
            .par_iter_mut()
            .with_min_len(256)
            .filter(|draft| pending(draft))
            .for_each(|draft| {
                self.near_misses_of(draft.source, &blocks, draft);
            });
    }

    fn near_misses_of(&self, i: u32, blocks: &FxHashMap<u64, Vec<u32>>, draft: &mut Draft) {
        let account = self.source.account(i);
        let keys = &AccountKeys::of(account, &self.src_rules);
        if self.is_external(keys) {
            return;
        }
        let mut found: Vec<Found> = Vec::new();
        for (_, ours) in keys.names() {
            for block in near_miss_keys(ours) {
                let Some(hits) = blocks.get(&block) else {
                    continue;
                };
                if hits.len() > NAME_BLOCK_CAP {
                    continue;
                }
                for &index in hits {
                    if found.iter().any(|f| f.index == index) {
                        continue;
                    }
                    let best = self.dst_keys[index as usize]
                        .names()
                        .map(|(_, theirs)| (jaro_winkler(ours, theirs), theirs))
                        .max_by(|a, b| a.0.total_cmp(&b.0));
                    if let Some((similarity, theirs)) = best
                        && similarity >= SIMILAR_NAME_FROM
                        && theirs != ours
                    {
                        found.push(Found {
                            index,
                            agreement: Agreement::Similar,
                            key: Cow::Borrowed(theirs),
                            block: 1,
                        });
                    }
                }
            }
        }
        if found.is_empty() {
            return;
        }
        let namesakes_in_source = self.has_namesakes_in_source(keys);
        let name = SourceName::of(account);
        let mut scored: Vec<Scored> = found
            .into_iter()
            .map(|f| self.score(name.as_ref(), keys, f, namesakes_in_source))
            .filter(|s| s.probability >= REVIEW_FLOOR && s.contradiction.is_none())
            .collect();
        if scored.is_empty() {
            return;
        }
        self.rank(&mut scored);
        let best = &scored[0];
        let instead = match draft.resolution {
            Resolution::Provision => "not created",
            Resolution::Passthrough => "not passed through",
            _ => "left for review",
        };
        draft.say(format!(
            "{instead}: {} no one else claimed {} a similar name and could be this person, best {} ({})",
            if scored.len() == 1 { "a destination account".to_string() } else { format!("{} destination accounts", scored.len()) },
            if scored.len() == 1 { "has" } else { "have" },
            self.dst_account_label(best.found.index),
            best.reason()
        ));
        self.offer(&scored, draft);
        draft.resolution = Resolution::Unresolved;
        draft.target = None;
    }
}

const SPELLS: &str = "the destination's handle spells the name";
const SAME_USERNAME: &str = "same username";
const SAME_LOCAL_PART: &str = "same address local part in another domain";

/// The username and address local parts of an account's keys.
fn handles(keys: &AccountKeys) -> impl Iterator<Item = &str> {
    locals(keys).chain(keys.username.as_deref())
}

/// Jaro-Winkler similarity. Text that is all ASCII is compared byte by byte, which gives
/// the same figure as comparing characters without decoding them again and again.
fn jaro_winkler(a: &str, b: &str) -> f64 {
    if a.is_ascii() && b.is_ascii() {
        if let Some(similarity) = short_jaro_winkler(a.as_bytes(), b.as_bytes()) {
            return similarity;
        }
        /// Bytes as `strsim`'s generic functions take them.
        struct Bytes<'s>(&'s [u8]);
        impl<'b> IntoIterator for &'b Bytes<'_> {
            type Item = &'b u8;
            type IntoIter = std::slice::Iter<'b, u8>;
            fn into_iter(self) -> Self::IntoIter {
                self.0.iter()
            }
        }
        return strsim::generic_jaro_winkler(&Bytes(a.as_bytes()), &Bytes(b.as_bytes()));
    }
    strsim::jaro_winkler(a, b)
}

/// `strsim`'s Jaro-Winkler of two byte strings of at most 64 bytes, step for step and with
/// the same arithmetic, so the same figure to the last bit; the matched positions are kept
/// in two words on the stack where `strsim` allocates flags (the name tier compares a few
/// handles for each of a million candidates). `None` for longer strings, or any but ASCII.
fn short_jaro_winkler(a: &[u8], b: &[u8]) -> Option<f64> {
    if a.len() > 64 || b.len() > 64 {
        return None;
    }
    if a.is_empty() || b.is_empty() {
        return Some(if a.is_empty() && b.is_empty() {
            1.0
        } else {
            0.0
        });
    }
    let search_range = (a.len().max(b.len()) / 2).saturating_sub(1);
    // Where each byte value stands in `b`, a bit per position: the first unmatched `b[j]`
    // equal to `a[i]` inside `i`'s window is then the lowest bit of one AND, where `strsim`
    // walks the window.
    let mut positions = [0u64; 128];
    for (j, &byte) in b.iter().enumerate() {
        *positions.get_mut(usize::from(byte))? |= 1 << j;
    }
    let below = |end: usize| {
        if end >= 64 {
            u64::MAX
        } else {
            (1u64 << end) - 1
        }
    };
    let (mut a_matched, mut b_matched) = (0u64, 0u64);
    let mut matches = 0usize;
    for (i, &byte) in a.iter().enumerate() {
        let (low, high) = (
            i.saturating_sub(search_range),
            b.len().min(i + search_range + 1),
        );
        let window = below(high) & !below(low);
        let free = *positions.get(usize::from(byte))? & window & !b_matched;
        if free != 0 {
            a_matched |= 1 << i;
            b_matched |= free & free.wrapping_neg();
            matches += 1;
        }
    }
    if matches == 0 {
        return Some(0.0);
    }
    // The k-th matched byte of `a` against the k-th of `b`.
    let mut transpositions = 0usize;
    let mut b_left = b_matched;
    let mut a_left = a_matched;
    while a_left != 0 {
        let (i, j) = (
            a_left.trailing_zeros() as usize,
            b_left.trailing_zeros() as usize,
        );
        if a[i] != b[j] {
            transpositions += 1;
        }
        a_left &= a_left - 1;
        b_left &= b_left - 1;
    }
    transpositions /= 2;
    let m = matches as f64;
    let jaro =
        ((m / a.len() as f64) + (m / b.len() as f64) + ((matches - transpositions) as f64 / m))
            / 3.0;
    if jaro > 0.7 {
        let prefix = a.iter().take(4).zip(b).take_while(|(x, y)| x == y).count();
        return Some(jaro + 0.1 * prefix as f64 * (1.0 - jaro));
    }
    Some(jaro)
}

/// The most similar pair of handles (Jaro-Winkler on the folded forms).
fn closest_handles<'a>(
    ours: &'a AccountKeys,
    theirs: &'a AccountKeys,
) -> Option<(f64, &'a str, &'a str)> {
    let mut best: Option<(f64, &str, &str)> = None;
    for a in handles(ours) {
        for b in handles(theirs) {
            let similarity = jaro_winkler(a, b);
            if best.is_none_or(|(s, _, _)| similarity > s) {
                best = Some((similarity, a, b));
            }
        }
    }
    best
}

/// What the handles (usernames, address local parts) of a pair say. A handle built from the
/// name (`olga.petrova`, `opetrova`) is what a namesake's account would have too, so it is
/// weak evidence; a handle both sides share that the name does not explain (`kitty`,
/// `e10442`) is the independent agreement a name link needs.
#[derive(Clone, Copy)]
enum Handles<'k> {
    /// Both sides have this handle, and it only spells the name.
    SharedSpelling { note: &'static str, handle: &'k str },
    /// Both sides have this handle, and the name does not explain it: the corroboration.
    Shared {
        field: &'static str,
        note: &'static str,
        handle: &'k str,
        weight: f64,
    },
    /// The destination's handle spells the source's name.
    Spells(&'k str),
    /// Handles close without being equal.
    Similar {
        ours: &'k str,
        theirs: &'k str,
        similarity: f64,
    },
}

impl<'k> Handles<'k> {
    fn of(
        name: Option<&SourceName>,
        src_keys: &'k AccountKeys,
        dst_keys: &'k AccountKeys,
    ) -> Option<Handles<'k>> {
        let spells = |handle: &str| name.is_some_and(|n| n.spelled_by(handle));
        // 1. Both sides use the same handle.
        let shared: Option<(&'static str, &'k str, &'static str, f64)> =
            match (&src_keys.username, &dst_keys.username) {
                (Some(a), Some(b)) if a == b => Some((
                    "username",
                    a.as_str(),
                    SAME_USERNAME,
                    Weights::SAME_USERNAME,
                )),
                _ => locals(src_keys)
                    .find(|l| l.chars().count() > 2 && locals(dst_keys).any(|t| t == *l))
                    .map(|l| ("email", l, SAME_LOCAL_PART, Weights::SAME_LOCAL_PART)),
            };
        if let Some((field, handle, note, weight)) = shared {
            if spells(handle) {
                return Some(Handles::SharedSpelling { note, handle });
            }
            return Some(Handles::Shared {
                field,
                note,
                handle,
                weight,
            });
        }
        // 2. The destination's handle spells the source's name.
        if let Some(handle) = handles(dst_keys).find(|h| spells(h)) {
            return Some(Handles::Spells(handle));
        }
        // 3. Handles that are close without being equal.
        let (similarity, ours, theirs) = closest_handles(src_keys, dst_keys)?;
        (similarity >= SIMILAR_HANDLE_FROM).then_some(Handles::Similar {
            ours,
            theirs,
            similarity,
        })
    }

    fn weight(self) -> f64 {
        match self {
            Handles::SharedSpelling { .. } => Weights::SHARED_NAME_HANDLE,
            Handles::Shared { weight, .. } => weight,
            Handles::Spells(_) => Weights::HANDLE_SPELLS_NAME,
            Handles::Similar { .. } => Weights::SIMILAR_HANDLE,
        }
    }

    /// Evidence for a name link: only a shared handle the name does not explain.
    fn corroboration(self) -> Option<Evidence> {
        let Handles::Shared {
            field,
            note,
            handle,
            ..
        } = self
        else {
            return None;
        };
        Some(Evidence {
            method: Resolution::Name,
            source_field: field.into(),
            destination_field: field.into(),
            key: handle.into(),
            note: note.into(),
        })
    }
}

impl std::fmt::Display for Handles<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Handles::SharedSpelling { note, handle } => {
                write!(f, "{note} {handle}, which only spells the name")
            }
            Handles::Shared { note, handle, .. } => write!(f, "{note} {handle}"),
            Handles::Spells(handle) => write!(f, "{SPELLS} ({handle})"),
            Handles::Similar {
                ours,
                theirs,
                similarity,
            } => {
                write!(
                    f,
                    "similar handles {ours} / {theirs} (Jaro-Winkler {})",
                    Confidence::from_probability(*similarity)
                )
            }
        }
    }
}

/// The address local parts of an account's keys.
fn locals(keys: &AccountKeys) -> impl Iterator<Item = &str> {
    keys.emails.iter().filter_map(KeyedEmail::local)
}

#[cfg(test)]
mod tests {
    proptest::proptest! {
        /// Handles and name keys compared byte by byte score exactly what `strsim` scores
        /// comparing characters: the evidence tier's thresholds see the same figures.
        #[test]
        fn ascii_jaro_winkler_is_strsims(a in "[a-e0-9._ -]{0,14}", b in "[a-e0-9._ -]{0,14}") {
            proptest::prop_assert_eq!(super::jaro_winkler(&a, &b).to_bits(), strsim::jaro_winkler(&a, &b).to_bits());
        }

        /// The same at every length, on both sides of the 64 bytes the stack version takes,
        /// over few letters so that long strings still match and transpose.
        #[test]
        fn jaro_winkler_is_strsims_at_any_length(a in "[ab]{0,70}", b in "[abc]{0,70}") {
            proptest::prop_assert_eq!(super::jaro_winkler(&a, &b).to_bits(), strsim::jaro_winkler(&a, &b).to_bits());
        }

        /// A short ASCII handle, checked on the stack, spells the name exactly when the
        /// general way (fold, keep letters and digits, drop a trailing number) says it does:
        /// separators, case, numbers, any length (separators never change the answer).
        #[test]
        fn a_handle_spells_a_name_on_the_stack_as_the_general_way_says(
            handle in "[._ -]?(Ann|ann|ANN|Lee|lee|a|A|l|x|7)[._ -]?(Lee|lee|LEE|ann|Ann|l|L|a|x)?[0-9]{0,3}[._ -]?[0-9a-z]?"
        ) {
            let account = crate::directory::Account {
                given_name: Some("Ann".into()),
                family_name: Some("Lee".into()),
                ..crate::directory::Account::default()
            };
            let name = super::SourceName::of(&account).expect("a name");
            let general = name.spelled_by_folding(&handle);
            proptest::prop_assert_eq!(name.spelled_by_on_stack(&handle), Some(general));
            proptest::prop_assert_eq!(name.spelled_by(&handle), general);
            // Past 64 bytes the stack declines and the general way answers, the same.
            let long = format!("{handle}{}", ".".repeat(64));
            proptest::prop_assert_eq!(name.spelled_by_on_stack(&long), None);
            proptest::prop_assert_eq!(name.spelled_by(&long), general);
        }
    }
}
