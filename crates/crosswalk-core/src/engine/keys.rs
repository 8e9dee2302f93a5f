//! Matching keys derived once per identity, and the hash indexes built over them.
//!
//! [`KeyRules`] is the one place a value becomes a key: the policy's transforms for the
//! side first, then the email rules and the fold. Indexing, exception look-ups and the
//! transform preview all go through it, so they cannot disagree.
//!
//! Keys are small strings ([`Key`]: up to 24 bytes inline, so most never touch the heap);
//! evidence notes are flags ([`EmailNote`], [`UsernameNote`], [`FoldNote`]) rendered as text
//! only when a mapping's evidence is built; a look-alike skeleton is kept as a 64-bit hash
//! and confirmed on the skeletons themselves when two hashes meet. The indexes hold one
//! `u32` per bucket and one slot per distinct key.

use std::borrow::Cow;
use std::hash::BuildHasher;

use compact_str::CompactString;
use hashbrown::HashTable;
use rayon::prelude::*;
use rustc_hash::FxBuildHasher;
use smallvec::SmallVec;

use crate::directory::{Account, Directory, Group};
use crate::normalize::{self, DomainAliases, EmailKey, EmailNote, FoldNote, InvalidEmail};
use crate::transform::{Rewrite, Side, TransformSet};

/// A matching key: derefs to `&str`.
pub(crate) type Key = CompactString;

/// Which field of an account a key came from: 0 is `email`, n is `alias_emails[n-1]`.
pub(crate) type EmailField = u16;

pub(crate) fn email_field_name(field: EmailField) -> String {
    email_field(field).into_string()
}

/// [`email_field_name`] as a small string (no allocation: the longest fits inline).
pub(crate) fn email_field(field: EmailField) -> CompactString {
    if field == 0 {
        CompactString::const_new("email")
    } else {
        compact_str::format_compact!("alias_emails[{}]", field - 1)
    }
}

/// The value of an account's email field `field`, as the platform gave it.
pub(crate) fn email_value(account: &Account, field: EmailField) -> &str {
    if field == 0 {
        account.email.as_deref().unwrap_or_default()
    } else {
        account
            .alias_emails
            .get(field as usize - 1)
            .map_or("", |e| e.as_str())
    }
}

pub(crate) struct KeyedEmail {
    pub(crate) field: EmailField,
    pub(crate) note: EmailNote,
    pub(crate) key: Key,
    /// [`normalize::skeleton_hash`] of the look-alike form.
    pub(crate) skeleton: u64,
    /// Where the key's last `@` is (`u32::MAX`: it has none): the name tier reads the local
    /// part of every candidate's addresses several times over.
    at: u32,
}

impl KeyedEmail {
    pub(crate) fn new(field: EmailField, note: EmailNote, key: Key, skeleton: u64) -> KeyedEmail {
        // A short key is searched byte by byte: cheaper than `rfind`'s word-at-a-time setup.
        let at = key
            .as_bytes()
            .iter()
            .rposition(|&b| b == b'@')
            .and_then(|at| u32::try_from(at).ok())
            .unwrap_or(u32::MAX);
        KeyedEmail {
            field,
            note,
            key,
            skeleton,
            at,
        }
    }

    /// The key's local part: what comes before its last `@`.
    pub(crate) fn local(&self) -> Option<&str> {
        self.key
            .get(..self.at as usize)
            .filter(|_| self.at != u32::MAX)
    }

    /// The key's domain: what comes after its last `@`.
    pub(crate) fn domain(&self) -> Option<&str> {
        self.key
            .get(self.at as usize + 1..)
            .filter(|_| self.at != u32::MAX)
    }

    /// [`normalize::email_in_domains`] without looking for the `@` again: the name tier asks
    /// it of the source's addresses for every candidate.
    pub(crate) fn in_domains(&self, domains: &[String]) -> bool {
        self.domain()
            .is_some_and(|domain| domains.iter().any(|d| d == domain))
    }
}

/// What the transforms and the fold did to a username.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct UsernameNote {
    pub(crate) fold: FoldNote,
    /// A transform changed it: the note names it and is rendered from the value again.
    pub(crate) transformed: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum NameField {
    DisplayName,
    GivenFamily,
}

impl NameField {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            NameField::DisplayName => "display_name",
            NameField::GivenFamily => "given_name+family_name",
        }
    }
}

/// How one side's values become keys: the policy's email rules, its compiled transforms,
/// and which side they are for.
#[derive(Clone, Copy)]
pub(crate) struct KeyRules<'a> {
    pub(crate) aliases: &'a DomainAliases,
    pub(crate) side: Side,
    pub(crate) transforms: &'a TransformSet,
}

impl<'a> KeyRules<'a> {
    pub(crate) fn new(
        aliases: &'a DomainAliases,
        side: Side,
        transforms: &'a TransformSet,
    ) -> KeyRules<'a> {
        KeyRules {
            aliases,
            side,
            transforms,
        }
    }

    /// The key of an address after this side's transforms, and the rewrite if one applied.
    /// The note names the transforms first, then what normalisation did.
    pub(crate) fn email_key(&self, raw: &str) -> Result<(EmailKey, Option<Rewrite>), InvalidEmail> {
        let rewrite = self.transforms.rewrite_email(self.side, raw);
        let value = rewrite.as_ref().map_or(raw, |r| r.value.as_str());
        let mut parsed = normalize::email_key(value, self.aliases)?;
        if let Some(rewrite) = &rewrite {
            parsed.note = join_notes(&self.transforms.note(&rewrite.applied), &parsed.note);
        }
        Ok((parsed, rewrite))
    }

    /// The username key after this side's transforms, with its evidence note; `None` for a
    /// blank username.
    pub(crate) fn username_key(&self, raw: &str) -> Option<(String, Cow<'static, str>)> {
        let rewrite = self.transforms.rewrite_username(self.side, raw);
        let value = rewrite.as_ref().map_or(raw, |r| r.value.as_str());
        let (folded, fold_note) = normalize::fold_with_note(value);
        if folded.is_empty() {
            return None;
        }
        let note = match &rewrite {
            None => Cow::Borrowed(fold_note.as_str()),
            Some(rewrite) => Cow::Owned(join_notes(
                &self.transforms.note(&rewrite.applied),
                fold_note.as_str(),
            )),
        };
        Some((folded.into_owned(), note))
    }
}

impl KeyRules<'_> {
    /// [`KeyRules::email_key`] as a small key, a skeleton hash and note flags.
    pub(crate) fn email_key_compact(
        &self,
        raw: &str,
    ) -> Result<(Key, u64, EmailNote), InvalidEmail> {
        let rewrite = self.transforms.rewrite_email(self.side, raw);
        let value = rewrite.as_ref().map_or(raw, |r| r.value.as_str());
        let (key, skeleton, mut note) = normalize::email_key_compact(value, self.aliases)?;
        note.detailed |= rewrite.is_some();
        Ok((key, skeleton, note))
    }

    /// [`KeyRules::username_key`] as a small key and note flags.
    pub(crate) fn username_key_compact(&self, raw: &str) -> Option<(Key, UsernameNote)> {
        let rewrite = self.transforms.rewrite_username(self.side, raw);
        let value = rewrite.as_ref().map_or(raw, |r| r.value.as_str());
        let (folded, fold) = normalize::fold_compact(value);
        if folded.is_empty() {
            return None;
        }
        Some((
            folded,
            UsernameNote {
                fold,
                transformed: rewrite.is_some(),
            },
        ))
    }

    /// The evidence note of an address: static text unless it names a domain, a subaddress
    /// or a transform, in which case it is derived from the value again.
    pub(crate) fn email_note(&self, account: &Account, email: &KeyedEmail) -> Cow<'static, str> {
        match email.note.as_str() {
            Some(text) => Cow::Borrowed(text),
            None => Cow::Owned(self.email_note_of(email_value(account, email.field))),
        }
    }

    /// The note [`KeyRules::email_key`] gives an address (empty for an invalid one), without
    /// the key.
    fn email_note_of(&self, raw: &str) -> String {
        let rewrite = self.transforms.rewrite_email(self.side, raw);
        let value = rewrite.as_ref().map_or(raw, |r| r.value.as_str());
        let Ok(note) = normalize::email_note(value, self.aliases) else {
            return String::new();
        };
        match &rewrite {
            Some(rewrite) => join_notes(&self.transforms.note(&rewrite.applied), &note),
            None => note,
        }
    }

    /// The evidence note of a username.
    pub(crate) fn username_note(&self, account: &Account, note: UsernameNote) -> Cow<'static, str> {
        if !note.transformed {
            return Cow::Borrowed(note.fold.as_str());
        }
        account
            .username
            .as_deref()
            .and_then(|u| self.username_key(u))
            .map_or(Cow::Borrowed(""), |(_, note)| note)
    }

    /// The skeleton of the look-alike form of an address, or `None` for an invalid one.
    pub(crate) fn skeleton(&self, raw: &str) -> Option<String> {
        self.email_key(raw)
            .ok()
            .map(|(k, _)| normalize::skeleton(&k.lookalike_form))
    }
}

fn join_notes(first: &str, second: &str) -> String {
    match (first.is_empty(), second.is_empty()) {
        (_, true) => first.to_string(),
        (true, false) => second.to_string(),
        (false, false) => format!("{first}, {second}"),
    }
}

/// The note of evidence that matched a source key to a destination key: what was done on
/// the source side, and on the destination side when that differs.
pub(crate) fn evidence_note(
    source: Cow<'static, str>,
    destination: Cow<'static, str>,
) -> Cow<'static, str> {
    if destination.is_empty() || destination == source {
        source
    } else if source.is_empty() {
        Cow::Owned(format!("destination: {destination}"))
    } else {
        Cow::Owned(format!("{source}; destination: {destination}"))
    }
}

/// The keys of one account. Two million of these live through a 1M × 1M run, so the layout
/// is kept tight: names sit in two fixed slots, invalid addresses in a boxed slice.
pub(crate) struct AccountKeys {
    pub(crate) emails: SmallVec<[KeyedEmail; 1]>,
    pub(crate) invalid_emails: Box<[(EmailField, InvalidEmail)]>,
    pub(crate) username: Option<Key>,
    /// [`normalize::skeleton_hash`] of the username key (0 without one): its look-alike form.
    pub(crate) username_skeleton: u64,
    /// What the transforms and the fold did to the username, for the evidence.
    pub(crate) username_note: UsernameNote,
    /// The display name's key, then the given+family key when it differs; empty when absent.
    name_slots: [Key; 2],
    /// What the fold did to each name slot.
    name_notes: [FoldNote; 2],
}

const NAME_FIELDS: [NameField; 2] = [NameField::DisplayName, NameField::GivenFamily];

impl AccountKeys {
    /// The keys of an account as `rules` derive them. The account itself is not changed.
    pub(crate) fn of(account: &Account, rules: &KeyRules<'_>) -> AccountKeys {
        let mut keys = AccountKeys::without_names(account, rules);
        keys.derive_names(account);
        keys
    }

    /// [`AccountKeys::of`] but for the names, which are the dearest keys to derive and which
    /// only the name tier reads: a source account derives them with
    /// [`AccountKeys::derive_names`] when it gets that far, and most are linked before.
    pub(crate) fn without_names(account: &Account, rules: &KeyRules<'_>) -> AccountKeys {
        let mut emails: SmallVec<[KeyedEmail; 1]> = SmallVec::new();
        let mut invalid_emails: Vec<(EmailField, InvalidEmail)> = Vec::new();
        for (field, raw) in account_emails(account) {
            match rules.email_key_compact(raw) {
                Ok((key, skeleton, note)) => {
                    if emails.iter().any(|e| e.key == key) {
                        continue;
                    }
                    emails.push(KeyedEmail::new(field, note, key, skeleton));
                }
                Err(why) => invalid_emails.push((field, why)),
            }
        }
        let (username, username_note) = match account
            .username
            .as_deref()
            .and_then(|u| rules.username_key_compact(u))
        {
            Some((key, note)) => (Some(key), note),
            None => (None, UsernameNote::default()),
        };
        let username_skeleton = username.as_deref().map_or(0, normalize::text_skeleton_hash);
        AccountKeys {
            emails,
            invalid_emails: invalid_emails.into_boxed_slice(),
            username,
            username_skeleton,
            username_note,
            name_slots: Default::default(),
            name_notes: Default::default(),
        }
    }

    /// Fills in the name keys [`AccountKeys::without_names`] left out.
    pub(crate) fn derive_names(&mut self, account: &Account) {
        (self.name_slots, self.name_notes) = account.name_key_slots();
    }

    /// The account's name keys with the field each came from: the display name first.
    pub(crate) fn names(&self) -> impl Iterator<Item = (NameField, &Key)> {
        NAME_FIELDS
            .into_iter()
            .zip(&self.name_slots)
            .filter(|(_, key)| !key.is_empty())
    }

    pub(crate) fn has_names(&self) -> bool {
        self.name_slots.iter().any(|key| !key.is_empty())
    }

    /// The address that came from `field`.
    pub(crate) fn email(&self, field: EmailField) -> Option<&KeyedEmail> {
        self.emails.iter().find(|e| e.field == field)
    }

    /// What the fold did to the name key `key`.
    pub(crate) fn name_note(&self, key: &str) -> FoldNote {
        self.name_slots
            .iter()
            .zip(&self.name_notes)
            .find(|(k, _)| !k.is_empty() && *k == key)
            .map_or(FoldNote::default(), |(_, n)| *n)
    }
}

/// Hashes ([`normalize::name_key_hash`]) of the name keys that more than one account of
/// `directory` has. Only hashes are kept: the name tier asks "does anyone else have this
/// name?" of every source account, and a set of the shared ones answers that without holding
/// a key per account. (Two different names sharing a hash would only make the engine more
/// careful.)
pub(crate) fn shared_name_hashes(directory: &Directory) -> rustc_hash::FxHashSet<u64> {
    let mut hashes: Vec<u64> = directory
        .accounts
        .par_iter()
        .with_min_len(1024)
        .flat_map_iter(|account| account.name_hashes().into_iter().flatten())
        .collect();
    hashes.par_sort_unstable();
    hashes
        .chunk_by(|a, b| a == b)
        .filter(|run| run.len() > 1)
        .map(|run| run[0])
        .collect()
}

/// Primary then aliases, with the field each came from; blank values are not addresses.
pub(crate) fn account_emails(account: &Account) -> impl Iterator<Item = (EmailField, &str)> {
    account
        .email
        .iter()
        .map(|e| (0u16, e.as_str()))
        .chain(
            account
                .alias_emails
                .iter()
                .enumerate()
                .map(|(i, e)| ((i + 1).min(u16::MAX as usize) as u16, e.as_str())),
        )
        .filter(|(_, e)| !normalize::trim(e).is_empty())
}

/// The identities sharing one key, as an index hands them out.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hits<'i, T>(&'i [T]);

impl<'i, T> Hits<'i, T> {
    pub(crate) fn as_slice(&self) -> &'i [T] {
        self.0
    }
}

/// One distinct key: its first identity inline (most keys have exactly one), the full list in
/// `overflow` when there are more.
struct Slot<K, T> {
    key: K,
    first: T,
    /// 0: only `first`; n: `overflow[n - 1]` holds every identity, `first` included.
    more: u32,
}

/// A multimap from keys to identities, in insertion order: a table of `u32` slot numbers
/// over a vector of slots, so an index costs about a slot and a bucket per distinct key.
/// A text key is held in its slot (inline when short, as most are): a look-up then reads the
/// key where it reads the slot, not from the identity's keys somewhere else in memory.
pub(crate) struct KeyIndex<K, T> {
    table: HashTable<u32>,
    slots: Vec<Slot<K, T>>,
    overflow: Vec<Vec<T>>,
}

fn hash_str(key: &str) -> u64 {
    FxBuildHasher.hash_one(key)
}

/// Skeleton hashes are hashes already; this spreads them over the table's bits.
fn hash_u64(key: u64) -> u64 {
    key.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29)
}

impl<K, T: Copy + PartialEq> KeyIndex<K, T> {
    fn with_capacity(n: usize) -> Self {
        KeyIndex {
            table: HashTable::with_capacity(n),
            slots: Vec::with_capacity(n),
            overflow: Vec::new(),
        }
    }

    /// Adds `value` under the key of slot `id`.
    fn add_to(&mut self, id: u32, value: T) {
        let slot = &mut self.slots[id as usize];
        if slot.more == 0 {
            if slot.first != value {
                self.overflow.push(vec![slot.first, value]);
                slot.more = self.overflow.len() as u32;
            }
        } else {
            // Each identity inserts a key once (keys are deduplicated per identity), so
            // only the last entry can repeat: checking it keeps skewed keys linear.
            let all = &mut self.overflow[slot.more as usize - 1];
            if all.last() != Some(&value) {
                all.push(value);
            }
        }
    }

    /// The slot of the key whose hash is `hash` and which `is_key` recognises.
    fn find(&self, hash: u64, is_key: impl Fn(&K) -> bool) -> Option<u32> {
        self.table
            .find(hash, |&id| is_key(&self.slots[id as usize].key))
            .copied()
    }

    /// Adds `value` under the key whose hash is `hash` and which `is_key` recognises; a new
    /// key gets a slot, holding the key `own` makes.
    fn insert_hashed(
        &mut self,
        hash: u64,
        is_key: impl Fn(&K) -> bool,
        own: impl FnOnce() -> K,
        value: T,
        rehash: impl Fn(&K) -> u64,
    ) {
        if let Some(id) = self.find(hash, is_key) {
            self.add_to(id, value);
            return;
        }
        let id = self.slots.len() as u32;
        self.slots.push(Slot {
            key: own(),
            first: value,
            more: 0,
        });
        let slots = &self.slots;
        self.table
            .insert_unique(hash, id, |&id| rehash(&slots[id as usize].key));
    }

    /// The identities under the key in slot `id` (from [`KeyIndex::slot`]).
    pub(crate) fn hits(&self, id: u32) -> Hits<'_, T> {
        let slot = &self.slots[id as usize];
        if slot.more == 0 {
            Hits(std::slice::from_ref(&slot.first))
        } else {
            Hits(&self.overflow[slot.more as usize - 1])
        }
    }
}

impl<K: Sync, T: Sync> KeyIndex<K, T> {
    /// Each distinct key with its slot, in slot order.
    pub(crate) fn par_keys(&self) -> impl IndexedParallelIterator<Item = (u32, &K)> + '_ {
        self.slots
            .par_iter()
            .enumerate()
            .map(|(id, slot)| (id as u32, &slot.key))
    }
}

impl<T: Copy + PartialEq> KeyIndex<Key, T> {
    fn insert(&mut self, key: &str, value: T) {
        self.insert_hashed(
            hash_str(key),
            |held| held == key,
            || Key::from(key),
            value,
            |held| hash_str(held),
        );
    }

    /// The slot of this key: equal slots, equal keys.
    pub(crate) fn slot(&self, key: &str) -> Option<u32> {
        self.find(hash_str(key), |held| held == key)
    }

    /// The identities with this key.
    pub(crate) fn get(&self, key: &str) -> Option<Hits<'_, T>> {
        self.slot(key).map(|id| self.hits(id))
    }
}

impl<T: Copy + PartialEq> KeyIndex<u64, T> {
    fn insert(&mut self, key: u64, value: T) {
        self.insert_hashed(
            hash_u64(key),
            |&held| held == key,
            || key,
            value,
            |&held| hash_u64(held),
        );
    }

    /// The slot of this key: equal slots, equal keys.
    pub(crate) fn slot(&self, key: u64) -> Option<u32> {
        self.find(hash_u64(key), |&held| held == key)
    }
}

/// Identities by their platform id: one `u32` per bucket, the ids read from the identities.
pub(crate) struct IdIndex<'a, I> {
    items: &'a [I],
    table: HashTable<u32>,
}

/// Something with a platform id.
pub(crate) trait HasId {
    fn id(&self) -> &str;
}

impl HasId for Account {
    fn id(&self) -> &str {
        &self.id
    }
}

impl HasId for Group {
    fn id(&self) -> &str {
        &self.id
    }
}

impl<'a, I: HasId> IdIndex<'a, I> {
    /// Ids are unique in a checked directory; if one repeats, the last holder wins.
    fn build(items: &'a [I]) -> Self {
        let mut table: HashTable<u32> = HashTable::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let hash = hash_str(item.id());
            match table.find_mut(hash, |&j| items[j as usize].id() == item.id()) {
                Some(j) => *j = i as u32,
                None => {
                    table.insert_unique(hash, i as u32, |&j| hash_str(items[j as usize].id()));
                }
            }
        }
        IdIndex { items, table }
    }

    /// The index of the identity with this id.
    pub(crate) fn get(&self, id: &str) -> Option<&u32> {
        self.table
            .find(hash_str(id), |&j| self.items[j as usize].id() == id)
    }
}

/// Which keys to derive and which of an [`AccountIndex`]'s tables to build.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tables {
    /// By id, address and username: what methods and exception rules look up.
    pub(crate) lookups: bool,
    /// By look-alike skeleton: only the destination is searched for look-alikes.
    pub(crate) skeletons: bool,
    /// By name key (and the name keys themselves): only the name tier reads them.
    pub(crate) names: bool,
}

impl Tables {
    pub(crate) const ALL: Tables = Tables {
        lookups: true,
        skeletons: true,
        names: true,
    };
    /// What exception rules and the transform preview look up.
    pub(crate) const LOOKUPS: Tables = Tables {
        lookups: true,
        skeletons: false,
        names: false,
    };
}

/// An address in the look-alike table: whose it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SkeletonEntry {
    index: u32,
    field: EmailField,
}

/// Indexes over one side's accounts; a table [`Tables`] left out is empty.
pub(crate) struct AccountIndex<'a> {
    pub(crate) by_id: IdIndex<'a, Account>,
    pub(crate) by_email: KeyIndex<Key, (u32, EmailField)>,
    pub(crate) by_username: KeyIndex<Key, u32>,
    pub(crate) by_name: KeyIndex<Key, u32>,
    /// By [`KeyedEmail::skeleton`]: confirm a hit with [`AccountIndex::look_alikes`].
    pub(crate) by_skeleton: KeyIndex<u64, SkeletonEntry>,
    /// By [`AccountKeys::username_skeleton`]: confirm a hit with
    /// [`AccountIndex::username_look_alikes`].
    pub(crate) by_username_skeleton: KeyIndex<u64, u32>,
    /// The rules the keys were derived with, so look-ups derive theirs the same way.
    pub(crate) rules: KeyRules<'a>,
    accounts: &'a [Account],
    keys: &'a [AccountKeys],
}

impl<'a> AccountIndex<'a> {
    pub(crate) fn build(
        accounts: &'a [Account],
        keys: &'a [AccountKeys],
        tables: Tables,
        rules: KeyRules<'a>,
    ) -> AccountIndex<'a> {
        let n = accounts.len();
        let with_skeletons = tables.skeletons;
        let lookups = if tables.lookups { n } else { 0 };
        let emails = || {
            let mut index: KeyIndex<Key, _> = KeyIndex::with_capacity(lookups + lookups / 16);
            for (i, keys) in keys.iter().enumerate().take(lookups) {
                for email in &keys.emails {
                    index.insert(email.key.as_str(), (i as u32, email.field));
                }
            }
            index
        };
        // Skeletons are only looked up on an index with every table.
        let skeletons = || {
            let mut index: KeyIndex<u64, _> =
                KeyIndex::with_capacity(if with_skeletons { n + n / 16 } else { 0 });
            for (i, keys) in keys
                .iter()
                .enumerate()
                .take(if with_skeletons { n } else { 0 })
            {
                for email in &keys.emails {
                    index.insert(
                        email.skeleton,
                        SkeletonEntry {
                            index: i as u32,
                            field: email.field,
                        },
                    );
                }
            }
            index
        };
        let usernames = || {
            let mut index: KeyIndex<Key, _> = KeyIndex::with_capacity(lookups);
            for (i, keys) in keys.iter().enumerate().take(lookups) {
                if let Some(username) = &keys.username {
                    index.insert(username.as_str(), i as u32);
                }
            }
            index
        };
        let username_skeletons = || {
            let mut index: KeyIndex<u64, _> =
                KeyIndex::with_capacity(if with_skeletons { n } else { 0 });
            for (i, keys) in keys
                .iter()
                .enumerate()
                .take(if with_skeletons { n } else { 0 })
            {
                if keys.username.is_some() {
                    index.insert(keys.username_skeleton, i as u32);
                }
            }
            index
        };
        let names = || {
            let mut index: KeyIndex<Key, _> =
                KeyIndex::with_capacity(if tables.names { n } else { 0 });
            for (i, keys) in keys
                .iter()
                .enumerate()
                .take(if tables.names { n } else { 0 })
            {
                for (_, name) in keys.names() {
                    index.insert(name.as_str(), i as u32);
                }
            }
            index
        };
        // Each table is filled by one thread; they are filled side by side.
        let ((by_email, (by_skeleton, by_username_skeleton)), ((by_username, by_id), by_name)) =
            rayon::join(
                || rayon::join(emails, || rayon::join(skeletons, username_skeletons)),
                || {
                    rayon::join(
                        || rayon::join(usernames, || IdIndex::build(&accounts[..lookups])),
                        names,
                    )
                },
            );
        AccountIndex {
            by_id,
            by_email,
            by_username,
            by_name,
            by_skeleton,
            by_username_skeleton,
            rules,
            accounts,
            keys,
        }
    }

    /// The platform id of the account at `index`.
    pub(crate) fn account_id(&self, index: u32) -> &'a str {
        &self.accounts[index as usize].id
    }

    /// Accounts whose username has the key `value` gets under this side's rules.
    pub(crate) fn accounts_with_username(&self, value: &str) -> Vec<u32> {
        self.rules
            .username_key_compact(value)
            .and_then(|(key, _)| {
                self.by_username
                    .get(key.as_str())
                    .map(|h| h.as_slice().to_vec())
            })
            .unwrap_or_default()
    }

    /// Accounts with an address whose key `value` shares under this side's rules.
    pub(crate) fn accounts_with_email(&self, value: &str) -> Vec<u32> {
        let mut found: Vec<u32> = self
            .rules
            .email_key_compact(value)
            .ok()
            .and_then(|(key, _, _)| {
                self.by_email
                    .get(key.as_str())
                    .map(|h| h.as_slice().iter().map(|(i, _)| *i).collect())
            })
            .unwrap_or_default();
        found.sort_unstable();
        found.dedup();
        found
    }

    /// The addresses of this side (a destination index) that only look like `email`, an
    /// address of `account` keyed by `rules` whose key has slot `same_address` in this
    /// index's address table and whose skeleton has slot `same_skeleton` in its look-alike
    /// table: same skeleton, different key. In index order, with the destination's address.
    pub(crate) fn look_alikes(
        &self,
        account: &Account,
        email: &KeyedEmail,
        (same_address, same_skeleton): (Option<u32>, Option<u32>),
        rules: &KeyRules<'_>,
    ) -> Vec<(u32, &'a KeyedEmail)> {
        let mut found = Vec::new();
        let Some(skeleton_slot) = same_skeleton else {
            return found;
        };
        let hits = self.by_skeleton.hits(skeleton_slot);
        // Most hits are this very address on the person's own account: the accounts holding
        // the same key, which the address table lists. Both tables list their accounts in
        // index order, fields in order, so the same address's holders are passed in step,
        // without reading any key; a hit that is not one of them has another key, and only
        // its skeleton is left to compare.
        let same = same_address.map_or(&[][..], |slot| self.by_email.hits(slot).as_slice());
        let mut same = same.iter().copied().peekable();
        let mut ours: Option<Option<String>> = None;
        for &SkeletonEntry { index, field } in hits.as_slice() {
            while same.next_if(|&holder| holder < (index, field)).is_some() {}
            if same.peek() == Some(&(index, field)) {
                continue;
            }
            let keys: &'a AccountKeys = &self.keys[index as usize];
            let Some(other) = keys.email(field) else {
                continue;
            };
            // Equal hashes: confirm on the skeletons themselves.
            let ours =
                ours.get_or_insert_with(|| rules.skeleton(email_value(account, email.field)));
            let theirs = self
                .rules
                .skeleton(email_value(&self.accounts[index as usize], field));
            if ours.is_some() && *ours == theirs {
                found.push((index, other));
            }
        }
        found
    }
}

impl AccountIndex<'_> {
    /// The accounts of this side (a destination index) whose username only looks like
    /// `username`, a source username key whose skeleton has slot `same_skeleton` in this
    /// index's username look-alike table: same skeleton, different key. In index order.
    pub(crate) fn username_look_alikes(
        &self,
        username: &str,
        same_skeleton: Option<u32>,
    ) -> SmallVec<[u32; 1]> {
        let mut found = SmallVec::new();
        let Some(slot) = same_skeleton else {
            return found;
        };
        let mut ours: Option<String> = None;
        for &index in self.by_username_skeleton.hits(slot).as_slice() {
            // Most hits are the same username: told apart without a skeleton.
            let Some(theirs) = self.keys[index as usize].username.as_deref() else {
                continue;
            };
            if theirs == username {
                continue;
            }
            // Equal hashes: confirm on the skeletons themselves.
            let ours = ours.get_or_insert_with(|| normalize::skeleton(username));
            if *ours == normalize::skeleton(theirs) {
                found.push(index);
            }
        }
        found
    }
}

/// The keys of `accounts` that `tables` need (name keys only for an index with names).
pub(crate) fn account_keys(
    accounts: &[Account],
    rules: &KeyRules<'_>,
    tables: Tables,
) -> Vec<AccountKeys> {
    accounts
        .par_iter()
        .with_min_len(1024)
        .map(|a| {
            if tables.names {
                AccountKeys::of(a, rules)
            } else {
                AccountKeys::without_names(a, rules)
            }
        })
        .collect()
}

/// Indexes over one side's groups: by id, by folded name and by the name's look-alike form.
pub(crate) struct GroupIndex<'a> {
    pub(crate) by_id: IdIndex<'a, Group>,
    pub(crate) by_name: KeyIndex<Key, u32>,
    /// By the [`normalize::skeleton`] of the name key.
    by_skeleton: KeyIndex<Key, u32>,
    names: &'a [String],
    groups: &'a [Group],
}

impl<'a> GroupIndex<'a> {
    pub(crate) fn build(groups: &'a [Group], names: &'a [String]) -> GroupIndex<'a> {
        let mut by_name: KeyIndex<Key, _> = KeyIndex::with_capacity(groups.len());
        let mut by_skeleton: KeyIndex<Key, _> = KeyIndex::with_capacity(groups.len());
        for (i, name) in names.iter().enumerate() {
            if !name.is_empty() {
                by_name.insert(name.as_str(), i as u32);
                by_skeleton.insert(&normalize::skeleton(name), i as u32);
            }
        }
        GroupIndex {
            by_id: IdIndex::build(groups),
            by_name,
            by_skeleton,
            names,
            groups,
        }
    }

    /// The platform id of the group at `index`.
    pub(crate) fn group_id(&self, index: u32) -> &'a str {
        &self.groups[index as usize].id
    }

    /// The groups of this side whose name only looks like the name key `name`: same
    /// skeleton, different key. In index order.
    pub(crate) fn look_alikes(&self, name: &str) -> Vec<u32> {
        if name.is_empty() {
            return Vec::new();
        }
        let Some(hits) = self.by_skeleton.get(&normalize::skeleton(name)) else {
            return Vec::new();
        };
        hits.as_slice()
            .iter()
            .copied()
            .filter(|&i| self.names[i as usize] != name)
            .collect()
    }
}

pub(crate) fn group_name_keys(groups: &[Group]) -> Vec<String> {
    groups
        .iter()
        .map(|g| normalize::fold(&g.name).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// An address's local part and domain, cut at the `@` found once when it is keyed,
        /// are what searching the key again finds: the name tier's domain checks agree with
        /// [`normalize::email_in_domains`].
        #[test]
        fn a_keyed_address_is_cut_where_its_last_at_is(key in "[a-c@.]{0,12}") {
            let email = KeyedEmail::new(0, EmailNote::default(), Key::from(key.as_str()), 0);
            let domains = ["a.b".to_string(), "c".to_string(), String::new()];
            proptest::prop_assert_eq!(email.in_domains(&domains), normalize::email_in_domains(&key, &domains));
            let cut = key.rsplit_once('@');
            proptest::prop_assert_eq!(email.local(), cut.map(|(local, _)| local));
            proptest::prop_assert_eq!(email.domain(), cut.map(|(_, domain)| domain));
        }
    }
}
