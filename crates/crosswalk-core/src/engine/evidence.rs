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

use std::sync::LazyLock;

use rustc_hash::FxHashMap;

use super::keys::{AccountKeys, NameField};
use super::{Context, Draft, NAME_BLOCK_CAP, Step};
use crate::directory::Account;
use crate::mapping::{Confidence, Evidence, Flag, Resolution};
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
    /// The destination's address or username spells the person's name.
    pub const HANDLE_SPELLS_NAME: f64 = 3.0;
    /// Both sides have the same username.
    pub const SAME_USERNAME: f64 = 3.0;
    /// Both sides have the same address local part (in different domains).
    pub const SAME_LOCAL_PART: f64 = 2.5;
    /// A username or local part on one side is close to one on the other (Jaro-Winkler ≥ 0.92).
    pub const SIMILAR_HANDLE: f64 = 1.0;
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

/// Jaro-Winkler similarity from which two handles count as similar.
const SIMILAR_HANDLE_FROM: f64 = 0.92;

/// How the names of a candidate pair agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Agreement {
    Exact,
    Transliterated,
    Nickname,
}

impl Agreement {
    fn weight(self) -> (f64, &'static str) {
        match self {
            Agreement::Exact => (Weights::SAME_NAME, "same name"),
            Agreement::Transliterated => (Weights::TRANSLITERATED_NAME, "same name once transliterated"),
            Agreement::Nickname => (Weights::NICKNAME, "nickname of the same name"),
        }
    }
}

/// One destination account the name blocks found for a source account.
struct Found {
    index: u32,
    agreement: Agreement,
    /// The destination's name key that agreed.
    key: String,
    /// How many destination accounts share that key.
    block: usize,
}

/// A scored candidate.
struct Scored {
    found: Found,
    probability: f64,
    /// `"same name +4.0, ..."`, the score's parts in the order they were added.
    explanation: String,
    corroboration: Option<Evidence>,
    /// The source's own organisation address that the destination lacks.
    contradiction: Option<String>,
}

impl Scored {
    fn confidence(&self) -> Confidence {
        Confidence::from_probability(self.probability)
    }

    fn reason(&self) -> String {
        format!("score {:.2}: {}", self.probability, self.explanation)
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

/// Destination accounts by the transliterated form of a name that has accents: the few
/// whose accent-free key differs from their key.
pub(crate) fn transliterated_index(keys: &[AccountKeys]) -> FxHashMap<String, Vec<u32>> {
    let mut index: FxHashMap<String, Vec<u32>> = FxHashMap::default();
    for (i, keys) in keys.iter().enumerate() {
        for (_, key) in &keys.names {
            if let Some(ascii) = transliterated_key(key) {
                let entry = index.entry(ascii).or_default();
                if entry.last() != Some(&(i as u32)) {
                    entry.push(i as u32);
                }
            }
        }
    }
    index
}

/// Nicknames both ways (`bob` → `robert`, `robert` → `bob`...), from the carltonnorthern
/// list in `data/nicknames/` (Apache 2.0).
fn nicknames(given: &str) -> &'static [&'static str] {
    static TABLE: LazyLock<FxHashMap<&'static str, Vec<&'static str>>> = LazyLock::new(|| {
        let mut table: FxHashMap<&'static str, Vec<&'static str>> = FxHashMap::default();
        for line in include_str!("../../data/nicknames/names.csv").lines().skip(1) {
            let mut parts = line.split(',');
            let (Some(name), Some("has_nickname"), Some(nickname)) = (parts.next(), parts.next(), parts.next()) else {
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
    normalize::fold(&deunicode::deunicode(text)).into_owned()
}

/// The given and family name of an account, folded to ASCII: the fields when both are set,
/// else the first and last words of the display name.
fn given_and_family(account: &Account) -> Option<(String, String)> {
    let words = |text: &str| -> Vec<String> {
        ascii_fold(text).split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_string).collect()
    };
    if let (Some(given), Some(family)) = (&account.given_name, &account.family_name) {
        let (given, family) = (words(given), words(family));
        if !given.is_empty() && !family.is_empty() {
            return Some((given.join(" "), family.join(" ")));
        }
    }
    let words = words(account.display_name.as_deref()?);
    match words.as_slice() {
        [first, .., last] => Some((first.clone(), last.clone())),
        _ => None,
    }
}

impl Context<'_> {
    /// The name tier for source account `i`.
    pub(super) fn by_name(&self, i: u32, keys: &AccountKeys, excluded: &[u32], draft: &mut Draft) -> Step {
        if self.organisation_domains.is_empty() || keys.names.is_empty() {
            return Step::Next;
        }
        // An external contractor is never linked to an organisation account by name.
        if keys.emails.iter().any(|e| normalize::email_in_domains(&e.key, &self.external_domains)) {
            return Step::Next;
        }
        let account = self.source.account(i);
        // A name shared by more accounts than a person could review is not compared pair by
        // pair: the cost would grow with the square of the block, and no answer could come
        // of it anyway, because names only link when unique.
        let block: usize = keys
            .names
            .iter()
            .map(|(_, key)| self.dst_index.by_name.get(key.as_str()).map_or(0, |h| h.as_slice().len()))
            .sum();
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
        let mut found = self.name_blocks(keys);
        self.nickname_blocks(account, &mut found);
        if found.is_empty() {
            return Step::Next;
        }
        if !account.active {
            draft.messages.push(
                "not matched by name: the source account is deactivated, and a name alone cannot tell a departed user from a namesake".into(),
            );
            return Step::Next;
        }
        let namesakes_in_source = keys.names.iter().any(|(_, key)| {
            self.src_index.by_name.get(key.as_str()).is_some_and(|h| h.as_slice().iter().any(|&other| other != i))
        });
        let exact: Vec<u32> = found.iter().filter(|f| f.agreement == Agreement::Exact).map(|f| f.index).collect();
        let eligible = |index: u32| {
            self.destination.account(index).active
                && !excluded.contains(&index)
                && self.dst_keys[index as usize]
                    .emails
                    .iter()
                    .any(|e| normalize::email_in_domains(&e.key, &self.organisation_domains))
        };
        let mut scored: Vec<Scored> = found
            .into_iter()
            .filter(|f| eligible(f.index))
            .map(|f| self.score(account, keys, f, namesakes_in_source))
            .filter(|s| s.probability >= REVIEW_FLOOR || s.found.agreement == Agreement::Exact)
            .collect();
        // Best first; ties by destination id so row order never shows.
        scored.sort_by(|a, b| {
            b.probability
                .total_cmp(&a.probability)
                .then_with(|| self.destination.account(a.found.index).id.cmp(&self.destination.account(b.found.index).id))
        });

        if exact.len() > 1 || (namesakes_in_source && !exact.is_empty()) {
            let same_name: Vec<u32> =
                scored.iter().filter(|s| s.found.agreement == Agreement::Exact).map(|s| s.found.index).collect();
            if same_name.is_empty() {
                return self.review_similar(&scored, draft);
            }
            self.offer(&scored, draft);
            let who = if namesakes_in_source { "other source accounts" } else { "several destination accounts" };
            draft.flag(
                Flag::Ambiguous,
                format!(
                    "the name {:?} is shared with {who} ({}): names alone never decide; add an exception",
                    account.display_name.as_deref().unwrap_or_default(),
                    self.list_accounts(&same_name)
                ),
            );
            return Step::Stop;
        }
        if let [index] = exact[..] {
            let Some(best) = scored.iter().position(|s| s.found.index == index && s.found.agreement == Agreement::Exact) else {
                if !excluded.contains(&index) {
                    draft.messages.push(format!(
                        "destination account {} has the same name but is deactivated or outside the organisation domains: not matched",
                        self.dst_account_label(index)
                    ));
                }
                return self.review_similar(&scored, draft);
            };
            let candidate = &scored[best];
            if let Some(own) = &candidate.contradiction {
                self.offer(&scored, draft);
                draft.messages.push(format!(
                    "destination account {} has the same name, but this person's own organisation address {own} is not on it: not linked by name; review",
                    self.dst_account_label(index),
                ));
                return Step::Stop;
            }
            let Some(corroboration) = candidate.corroboration.clone() else {
                self.offer(&scored, draft);
                draft.messages.push(format!(
                    "destination account {} has the same unique name, but no address or username agrees with it: left for review ({})",
                    self.dst_account_label(index),
                    candidate.reason()
                ));
                return Step::Stop;
            };
            let runner_up = scored.iter().enumerate().find(|(j, s)| *j != best && s.probability >= RUNNER_UP_CEILING);
            if candidate.probability < LINK_THRESHOLD || runner_up.is_some() {
                self.offer(&scored, draft);
                let why = match runner_up {
                    Some((_, other)) => format!(
                        "destination account {} also fits ({})",
                        self.dst_account_label(other.found.index),
                        other.reason()
                    ),
                    None => format!("the evidence scores {:.2}, below the {LINK_THRESHOLD} a name link needs", candidate.probability),
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
            let key = candidate.found.key.as_str();
            let src_field = keys.names.iter().find(|(_, k)| k == key).map_or(NameField::DisplayName, |(f, _)| *f);
            let dst_keys = &self.dst_keys[index as usize];
            let dst_field = dst_keys.names.iter().find(|(_, k)| k == key).map_or(NameField::DisplayName, |(f, _)| *f);
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
                        key: key.to_string(),
                        note,
                    },
                    corroboration,
                ],
            };
        }
        self.review_similar(&scored, draft)
    }

    /// Every destination account sharing a name key, a transliterated key or a nickname key
    /// with the source account. Weak blocks larger than [`NAME_BLOCK_CAP`] are skipped.
    fn name_blocks(&self, keys: &AccountKeys) -> Vec<Found> {
        let mut found: Vec<Found> = Vec::new();
        let add = |found: &mut Vec<Found>, hits: &[u32], agreement: Agreement, key: &str| {
            if agreement != Agreement::Exact && hits.len() > NAME_BLOCK_CAP {
                return;
            }
            for &index in hits {
                match found.iter_mut().find(|f| f.index == index) {
                    Some(f) if f.agreement <= agreement => {}
                    Some(f) => {
                        *f = Found { index, agreement, key: key.to_string(), block: hits.len() };
                    }
                    None => found.push(Found { index, agreement, key: key.to_string(), block: hits.len() }),
                }
            }
        };
        let by_name = |key: &str| self.dst_index.by_name.get(key).map(|h| h.as_slice());
        let by_transliteration = |key: &str| self.dst_transliterated.get(key).map(Vec::as_slice);
        for (_, key) in &keys.names {
            if let Some(hits) = by_name(key) {
                add(&mut found, hits, Agreement::Exact, key);
            }
            // The destination wrote the accents the source left out.
            if let Some(hits) = by_transliteration(key) {
                for &index in hits {
                    let theirs = self.dst_keys[index as usize]
                        .names
                        .iter()
                        .find(|(_, k)| transliterated_key(k).as_deref() == Some(key.as_str()))
                        .map_or(key.as_str(), |(_, k)| k.as_str());
                    add(&mut found, &[index], Agreement::Transliterated, theirs);
                }
            }
            // The source wrote accents the destination left out, or both differ.
            if let Some(ascii) = transliterated_key(key) {
                if let Some(hits) = by_name(&ascii) {
                    add(&mut found, hits, Agreement::Transliterated, &ascii);
                }
                if let Some(hits) = by_transliteration(&ascii) {
                    add(&mut found, hits, Agreement::Transliterated, &ascii);
                }
            }
        }
        found
    }

    fn nickname_blocks(&self, account: &Account, found: &mut Vec<Found>) {
        let Some((given, family)) = given_and_family(account) else { return };
        let first = given.split(' ').next().unwrap_or_default();
        for nickname in nicknames(first) {
            let Some(key) = normalize::name_key(&format!("{nickname} {family}")) else { continue };
            let Some(hits) = self.dst_index.by_name.get(key.as_str()).map(|h| h.as_slice()) else { continue };
            if hits.len() > NAME_BLOCK_CAP {
                continue;
            }
            for &index in hits {
                if !found.iter().any(|f| f.index == index) {
                    found.push(Found { index, agreement: Agreement::Nickname, key: key.clone(), block: hits.len() });
                }
            }
        }
    }

    fn score(&self, account: &Account, keys: &AccountKeys, found: Found, namesakes_in_source: bool) -> Scored {
        let dst_keys = &self.dst_keys[found.index as usize];
        let mut parts: Vec<(f64, String)> = vec![(Weights::PRIOR, "prior".into())];
        let (weight, what) = found.agreement.weight();
        parts.push((weight, what.into()));
        if found.block <= 1 {
            parts.push((Weights::UNIQUE_IN_DESTINATION, "unique in the destination".into()));
        } else {
            parts.push((
                Weights::SHARED_IN_DESTINATION * (found.block as f64).ln(),
                format!("shared by {} destination accounts", found.block),
            ));
        }
        if namesakes_in_source {
            parts.push((Weights::SHARED_IN_SOURCE, "namesakes in the source".into()));
        } else {
            parts.push((Weights::UNIQUE_IN_SOURCE, "unique in the source".into()));
        }
        let corroboration = corroborate(account, keys, dst_keys);
        match &corroboration {
            Some(evidence) => {
                let weight = match evidence.note.as_str() {
                    SPELLS => Weights::HANDLE_SPELLS_NAME,
                    SAME_USERNAME => Weights::SAME_USERNAME,
                    _ => Weights::SAME_LOCAL_PART,
                };
                parts.push((weight, evidence.note.clone()));
            }
            None => {
                if let Some((similarity, ours, theirs)) = closest_handles(keys, dst_keys)
                    && similarity >= SIMILAR_HANDLE_FROM
                {
                    parts.push((Weights::SIMILAR_HANDLE, format!("similar handles {ours} / {theirs} ({similarity:.2})")));
                }
            }
        }
        if dst_keys.emails.iter().any(|e| normalize::email_in_domains(&e.key, &self.organisation_domains)) {
            parts.push((Weights::ORGANISATION_ADDRESS, "organisation address".into()));
        }
        let contradiction = keys
            .emails
            .iter()
            .find(|e| {
                normalize::email_in_domains(&e.key, &self.organisation_domains)
                    && !dst_keys.emails.iter().any(|d| d.key == e.key)
            })
            .map(|e| e.key.clone());
        if let Some(own) = &contradiction {
            parts.push((Weights::CONTRADICTING_ADDRESS, format!("own organisation address {own} not on it")));
        }
        let log_odds: f64 = parts.iter().map(|(w, _)| w).sum();
        let probability = 1.0 / (1.0 + (-log_odds).exp());
        let explanation = parts
            .iter()
            .skip(1)
            .map(|(w, what)| format!("{what} {w:+.1}"))
            .chain(std::iter::once(format!("prior {:+.1}", Weights::PRIOR)))
            .collect::<Vec<_>>()
            .join(", ");
        Scored { found, probability, explanation, corroboration, contradiction }
    }

    /// Offers the scored candidates, best first, for review.
    fn offer(&self, scored: &[Scored], draft: &mut Draft) {
        for s in scored {
            draft.scored_candidate(s.found.index, Resolution::Name, s.reason(), s.confidence());
        }
    }

    /// No exact name decides: similar names (transliterated, nicknames) are offered for
    /// review instead of letting a fallback create a second account for the same person.
    fn review_similar(&self, scored: &[Scored], draft: &mut Draft) -> Step {
        let similar: Vec<&Scored> = scored.iter().filter(|s| s.probability >= REVIEW_FLOOR).collect();
        let Some(best) = similar.first() else { return Step::Next };
        for s in &similar {
            draft.scored_candidate(s.found.index, Resolution::Name, s.reason(), s.confidence());
        }
        draft.messages.push(format!(
            "no destination account has this exact name; {} with a similar one left for review, best {} ({})",
            if similar.len() == 1 { "one".to_string() } else { similar.len().to_string() },
            self.dst_account_label(best.found.index),
            best.reason()
        ));
        Step::Stop
    }
}

const SPELLS: &str = "the destination's handle spells the name";
const SAME_USERNAME: &str = "same username";
const SAME_LOCAL_PART: &str = "same address local part in another domain";

/// The username and address local parts of an account's keys.
fn handles(keys: &AccountKeys) -> impl Iterator<Item = &str> {
    keys.emails.iter().filter_map(|e| e.key.rsplit_once('@').map(|(local, _)| local)).chain(keys.username.as_deref())
}

/// The most similar pair of handles (Jaro-Winkler on the folded forms).
fn closest_handles<'a>(ours: &'a AccountKeys, theirs: &'a AccountKeys) -> Option<(f64, &'a str, &'a str)> {
    let mut best: Option<(f64, &str, &str)> = None;
    for a in handles(ours) {
        for b in handles(theirs) {
            let similarity = strsim::jaro_winkler(a, b);
            if best.is_none_or(|(s, _, _)| similarity > s) {
                best = Some((similarity, a, b));
            }
        }
    }
    best
}

/// The second field a name link needs: the destination's address or username spells the
/// person's name (`olga.petrova`, `opetrova`, `petrova.olga`), or both sides share a username
/// or an address local part. Transliteration (`Özlem` / `ozlem`) counts here only as agreement
/// between two different fields, never as proof that two names are equal.
fn corroborate(source: &Account, src_keys: &AccountKeys, dst_keys: &AccountKeys) -> Option<Evidence> {
    let evidence = |source_field: &str, destination_field: &str, key: &str, note: &str| Evidence {
        method: Resolution::Name,
        source_field: source_field.into(),
        destination_field: destination_field.into(),
        key: key.to_string(),
        note: note.into(),
    };
    // 1. The destination's handle spells the source's name.
    if let Some((first, last)) = given_and_family(source) {
        let compact = |s: &str| s.chars().filter(|c| c.is_alphanumeric()).collect::<String>();
        let (f, l) = (compact(&first), compact(&last));
        let initial: String = f.chars().take(1).collect();
        let spellings = [format!("{f}{l}"), format!("{l}{f}"), format!("{initial}{l}"), format!("{l}{initial}")];
        let locals = dst_keys.emails.iter().filter_map(|e| e.key.rsplit_once('@').map(|(l, _)| ("email", l)));
        for (field, handle) in locals.chain(dst_keys.username.as_deref().map(|u| ("username", u))) {
            let bare = compact(&ascii_fold(handle));
            let bare = bare.trim_end_matches(|c: char| c.is_ascii_digit());
            if !f.is_empty() && !l.is_empty() && spellings.iter().any(|s| s == bare) {
                return Some(evidence("display_name", field, handle, SPELLS));
            }
        }
    }
    // 2. Both sides use the same handle.
    if let (Some(a), Some(b)) = (&src_keys.username, &dst_keys.username)
        && a == b
    {
        return Some(evidence("username", "username", a, SAME_USERNAME));
    }
    let theirs: Vec<&str> = dst_keys.emails.iter().filter_map(|e| e.key.rsplit_once('@').map(|(l, _)| l)).collect();
    for local in src_keys.emails.iter().filter_map(|e| e.key.rsplit_once('@').map(|(l, _)| l)) {
        if local.len() > 2 && theirs.contains(&local) {
            return Some(evidence("email", "email", local, SAME_LOCAL_PART));
        }
    }
    None
}
