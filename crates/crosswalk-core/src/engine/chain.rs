//! The decision chain: one source identity walks the policy's methods in order (Exception,
//! ID, Email, Username, Name by default) and stops at the first that links it or finds it
//! ambiguous; an identity no method decides gets the policy's fallback. Look-alikes are
//! found first and excluded from every method but an exception.
//!
//! A source account comes in as a [`Probe`]: its keys and where the destination's tables
//! hold them, looked up ahead by `batch.rs`. The chain reads those slots as it would read
//! its own look-ups.

use std::borrow::Cow;

use smallvec::SmallVec;

use super::Context;
use super::batch::{EmailSlots, Probe};
use super::keys::{self, AccountKeys, email_field_name};
use super::references::{DefaultAccount, ExceptionOutcome};
use crate::directory::{Account, IdentityKind};
use crate::mapping::{Candidate, Confidence, Evidence, Flag, Flags, Mapping, Resolution, Target};
use crate::normalize;
use crate::policy::Method;

/// A mapping being decided: the engine fills each [`Mapping`] in place and
/// [`Mapping::finish`]es it once every pass is done.
pub(super) type Draft = Mapping;

/// What one method concluded.
pub(super) enum Step {
    /// Nothing to say: try the next method.
    Next,
    /// Exactly one destination identity.
    Link {
        index: u32,
        method: Resolution,
        evidence: Vec<Evidence>,
        confidence: Confidence,
    },
    /// Stop here and leave the identity for review (ambiguity, unverified address...).
    Stop,
    /// An exception decided it is not linked to an existing identity: created, or migrated as
    /// a former user.
    Make {
        target: Target,
        evidence: Vec<Evidence>,
    },
}

impl Mapping {
    /// An undecided mapping for source identity `source` of kind `kind`.
    pub(super) fn draft(kind: IdentityKind, source: u32) -> Draft {
        Mapping {
            kind,
            source,
            resolution: Resolution::Unresolved,
            target: None,
            message: String::new(),
            evidence: Vec::new(),
            candidates: Vec::new(),
            flags: Flags::new(),
            confidence: Confidence::NONE,
        }
    }

    /// Adds a sentence to the message; sentences are separated by `"; "`.
    pub(super) fn say(&mut self, sentence: impl AsRef<str>) {
        let sentence = sentence.as_ref();
        if !self.message.is_empty() {
            self.message.push_str("; ");
        }
        self.message.push_str(sentence);
    }

    pub(super) fn flag(&mut self, flag: Flag, message: String) {
        if !self.flags.contains(&flag) {
            self.flags.push(flag);
        }
        self.say(message);
    }

    pub(super) fn candidate(
        &mut self,
        index: u32,
        method: Resolution,
        reason: impl Into<Cow<'static, str>>,
    ) {
        self.scored_candidate(index, method, reason, method_confidence(method));
    }

    pub(super) fn scored_candidate(
        &mut self,
        index: u32,
        method: Resolution,
        reason: impl Into<Cow<'static, str>>,
        score: Confidence,
    ) {
        if !self
            .candidates
            .iter()
            .any(|c| c.index == index && c.method == method)
        {
            self.candidates.push(Candidate {
                index,
                method,
                reason: reason.into(),
                score,
            });
        }
    }

    /// Says, for a fallback that makes an identity rather than linking one, what the
    /// destination gets: the report shows it under Destination without a destination id,
    /// because there is no existing destination identity to name (`docs/formats.md`).
    pub(super) fn say_what_is_made(&mut self, source_id: &str) {
        let kind = self.kind;
        match self.target {
            Some(Target::Provision) => self.say(format!(
                "a new destination {kind} will be created from this one's {}; it has no id until then",
                if kind == IdentityKind::Account { "username, address and display name" } else { "name" }
            )),
            Some(Target::Passthrough) => self.say(format!(
                "passed through: the destination gets this {kind} as it is, with the source's id {source_id}; it is not an existing destination {kind}"
            )),
            _ => {}
        }
    }

    /// An exception's decision not to link: the identity is created on the destination, or
    /// migrated as a former user. Resolved as Exception, because a person said so.
    pub(super) fn make_by_exception(
        &mut self,
        target: Target,
        evidence: Vec<Evidence>,
        source_id: &str,
    ) {
        self.resolution = Resolution::Exception;
        self.evidence = evidence;
        self.target = Some(target);
        if self.target == Some(Target::FormerUser) {
            self.say("migrated as a former user, as an exception says: its content keeps this name, and no destination account is linked or created");
        } else {
            self.say("created on the destination, as an exception says");
            self.say_what_is_made(source_id);
        }
    }

    /// `destination_id` names a destination identity of the mapping's kind: candidates are
    /// ranked best first, ties by destination id, so row order never shows.
    pub(super) fn finish<'d>(&mut self, destination_id: impl Fn(u32) -> &'d str) {
        self.flags.sort_unstable();
        let order = |a: &Candidate, b: &Candidate| {
            b.score
                .cmp(&a.score)
                .then_with(|| destination_id(a.index).cmp(destination_id(b.index)))
                .then(a.method.cmp(&b.method))
        };
        // The name tier offers its candidates ranked already: checking reads fewer ids than
        // sorting, and each id read is a cache miss.
        if !self.candidates.is_sorted_by(|a, b| order(a, b).is_le()) {
            self.candidates.sort_by(order);
        }
        let links = matches!(self.target, Some(Target::Existing { .. }))
            && self.resolution != Resolution::Default;
        if !links {
            // Nothing linked: how sure the engine is that none of the candidates is this one.
            self.confidence = self
                .candidates
                .first()
                .map_or(Confidence::CERTAIN, |c| c.score.complement());
        }
    }
}

impl Context<'_> {
    /// Compares the [`Context::dst_account_label`]s of two accounts without writing them.
    fn dst_account_label_cmp(&self, a: u32, b: u32) -> std::cmp::Ordering {
        // Labels start with the id: ids that differ before either ends decide at once.
        let (id_a, id_b) = (
            self.destination.account(a).id.as_bytes(),
            self.destination.account(b).id.as_bytes(),
        );
        let common = id_a.len().min(id_b.len());
        match id_a[..common].cmp(&id_b[..common]) {
            std::cmp::Ordering::Equal => {}
            decided => return decided,
        }
        let label = |index: u32| {
            let account = self.destination.account(index);
            let email = account.email.as_deref().filter(|e| !e.is_empty());
            let (open, close) = if email.is_some() {
                (" <", ">")
            } else {
                ("", "")
            };
            [account.id.as_str(), open, email.unwrap_or_default(), close]
                .into_iter()
                .flat_map(str::bytes)
        };
        label(a).cmp(label(b))
    }

    pub(super) fn dst_account_label(&self, index: u32) -> String {
        let mut label = String::new();
        self.push_dst_account_label(&mut label, index);
        label
    }

    /// [`Context::dst_account_label`] written onto the end of `text`, piece by piece: a
    /// common name lists dozens of these.
    fn push_dst_account_label(&self, text: &mut String, index: u32) {
        let account = self.destination.account(index);
        text.push_str(&account.id);
        if let Some(email) = account.email.as_deref().filter(|e| !e.is_empty()) {
            text.push_str(" <");
            text.push_str(email);
            text.push('>');
        }
    }

    pub(super) fn resolve_account(&self, i: u32, probe: Probe) -> Draft {
        let account = self.source.account(i);
        let Probe {
            mut keys,
            email_slots,
            skeleton_slots,
            username_skeleton_slot,
            same_id,
        } = probe;
        let mut draft = Draft::draft(IdentityKind::Account, i);
        for (field, why) in &keys.invalid_emails {
            let raw = keys::email_value(account, *field);
            draft.flag(
                Flag::InvalidEmail,
                format!(
                    "{} {raw:?} {} and was not used for matching",
                    email_field_name(*field),
                    why.describe()
                ),
            );
        }
        let excluded = self.look_alikes(
            account,
            &keys,
            (&email_slots, &skeleton_slots),
            username_skeleton_slot,
            &mut draft,
        );

        for method in &self.policy.order {
            let step = match method {
                Method::Exception => self.account_exception(i, &mut draft),
                Method::Id => self.by_id(same_id, account.id.as_str(), &excluded, &mut draft),
                Method::Email => self.by_email(account, &keys, &email_slots, &excluded, &mut draft),
                Method::Username => self.by_username(account, &keys, &excluded, &mut draft),
                Method::Name => {
                    keys.derive_names(account);
                    self.by_name(i, &keys, &excluded, &mut draft)
                }
            };
            match step {
                Step::Next => continue,
                Step::Stop => return draft,
                Step::Link {
                    index,
                    method,
                    evidence,
                    confidence,
                } => {
                    draft.confidence = confidence;
                    let target = self.destination.account(index);
                    if !target.active {
                        draft.flag(
                            Flag::Inactive,
                            format!(
                                "destination account {} is deactivated",
                                self.dst_account_label(index)
                            ),
                        );
                    }
                    draft.resolution = method;
                    draft.target = Some(Target::Existing { index });
                    draft.evidence = evidence;
                    return draft;
                }
                Step::Make { target, evidence } => {
                    draft.make_by_exception(target, evidence, &account.id);
                    return draft;
                }
            }
        }
        self.account_fallback(&keys, &excluded, draft)
    }

    /// Destination addresses and usernames that only look like one of the source's (see
    /// [`normalize::skeleton`]): flagged, listed as candidates, and those destination accounts
    /// are excluded from every method for this identity.
    fn look_alikes(
        &self,
        account: &Account,
        keys: &AccountKeys,
        slots: (&EmailSlots, &EmailSlots),
        username_skeleton_slot: Option<u32>,
        draft: &mut Draft,
    ) -> Vec<u32> {
        // (destination, its value, ours, found by username)
        let mut found: Vec<(u32, &str, &str, bool)> = Vec::new();
        for (email, slots) in keys
            .emails
            .iter()
            .zip(slots.0.iter().copied().zip(slots.1.iter().copied()))
        {
            for (index, other) in self
                .dst_index
                .look_alikes(account, email, slots, &self.src_rules)
            {
                if !found.iter().any(|f| f.0 == index) {
                    found.push((index, other.key.as_str(), email.key.as_str(), false));
                }
            }
        }
        if let Some(username) = keys.username.as_deref() {
            for index in self
                .dst_index
                .username_look_alikes(username, username_skeleton_slot)
            {
                if !found.iter().any(|f| f.0 == index)
                    && let Some(theirs) = self.dst_keys[index as usize].username.as_deref()
                {
                    found.push((index, theirs, username, true));
                }
            }
        }
        // Destination ids, not row positions, order the messages: the report must not
        // change when the same directory is exported in another order.
        found.sort_by(|a, b| {
            self.destination
                .account(a.0)
                .id
                .cmp(&self.destination.account(b.0).id)
        });
        for &(index, theirs, ours, by_username) in &found {
            let (method, what) = if by_username {
                (Resolution::Username, "username ")
            } else {
                (Resolution::Email, "")
            };
            draft.candidate(index, method, format!("look-alike of {what}{ours}"));
            draft.flag(
                Flag::LookAlike,
                format!(
                    "destination account {} has {what}{theirs:?}, which only looks like {ours:?} (confusable characters): never matched",
                    self.destination.account(index).id
                ),
            );
        }
        found.into_iter().map(|f| f.0).collect()
    }

    fn account_exception(&self, i: u32, draft: &mut Draft) -> Step {
        exception_step(self.exceptions.accounts.get(&i), draft)
    }

    /// A method whose hits include a look-alike account stops: which of them is the real
    /// person is for a human to say.
    fn stop_on_look_alike(&self, draft: &mut Draft, method: &str) -> Step {
        draft.say(format!(
            "{method} also matches a look-alike account named above: not linked"
        ));
        Step::Stop
    }

    /// `same_id`: the destination account with the source's `id`.
    fn by_id(&self, same_id: Option<u32>, id: &str, excluded: &[u32], draft: &mut Draft) -> Step {
        match same_id {
            Some(index) if excluded.contains(&index) => self.stop_on_look_alike(draft, "the id"),
            Some(index) => id_link(index, id),
            _ => Step::Next,
        }
    }

    fn by_email(
        &self,
        account: &Account,
        keys: &AccountKeys,
        email_slots: &EmailSlots,
        excluded: &[u32],
        draft: &mut Draft,
    ) -> Step {
        // Most accounts have one address, found on one account: no heap for either list.
        let mut found: SmallVec<[(u32, u16, &keys::KeyedEmail); 2]> = SmallVec::new();
        for (email, &slot) in keys.emails.iter().zip(email_slots) {
            if let Some(slot) = slot {
                for &(index, field) in self.dst_index.by_email.hits(slot).as_slice() {
                    if excluded.contains(&index) {
                        return self.stop_on_look_alike(draft, "the address");
                    }
                    found.push((index, field, email));
                }
            }
        }
        let mut indices: SmallVec<[u32; 2]> = found.iter().map(|f| f.0).collect();
        indices.sort_unstable();
        indices.dedup();
        match indices.as_slice() {
            [] => Step::Next,
            [index] => {
                let index = *index;
                let target = self.destination.account(index);
                if self.policy.email.require_verified && target.email_verified == Some(false) {
                    draft.candidate(index, Resolution::Email, "address not verified");
                    draft.flag(
                        Flag::UnverifiedEmail,
                        format!(
                            "destination account {} has this address but has not verified it; verify it or add an exception",
                            self.dst_account_label(index)
                        ),
                    );
                    return Step::Stop;
                }
                let evidence = found
                    .iter()
                    .map(|(_, field, email)| Evidence {
                        method: Resolution::Email,
                        source_field: keys::email_field(email.field),
                        destination_field: keys::email_field(*field),
                        key: email.key.clone(),
                        note: keys::evidence_note(
                            self.src_rules.email_note(account, email),
                            self.dst_keys[index as usize]
                                .email(*field)
                                .map_or(Cow::Borrowed(""), |e| {
                                    self.dst_index.rules.email_note(target, e)
                                }),
                        ),
                    })
                    .collect();
                Step::Link {
                    index,
                    method: Resolution::Email,
                    evidence,
                    confidence: method_confidence(Resolution::Email),
                }
            }
            many => {
                for (index, _, email) in &found {
                    draft.candidate(
                        *index,
                        Resolution::Email,
                        format!("has address {}", email.key),
                    );
                }
                draft.flag(
                    Flag::Ambiguous,
                    format!(
                        "{} destination accounts share this person's addresses ({}): none chosen; add an exception",
                        many.len(),
                        self.list_accounts(many)
                    ),
                );
                Step::Stop
            }
        }
    }

    /// Up to five destination accounts, by id, for a message. A common name can list fifty:
    /// the first five are chosen before any label is written.
    fn list_accounts(&self, indices: &[u32]) -> String {
        let mut list = String::new();
        self.write_accounts(&mut list, indices);
        list
    }

    /// [`Context::list_accounts`] written onto the end of `text`.
    pub(super) fn write_accounts(&self, text: &mut String, indices: &[u32]) {
        let mut shown: SmallVec<[u32; 64]> = SmallVec::from_slice(indices);
        let by_label = |a: &u32, b: &u32| self.dst_account_label_cmp(*a, *b);
        if shown.len() > 5 {
            shown.select_nth_unstable_by(4, by_label);
            shown.truncate(5);
        }
        shown.sort_by(by_label);
        for (n, &index) in shown.iter().enumerate() {
            if n > 0 {
                text.push_str(", ");
            }
            self.push_dst_account_label(text, index);
        }
        if indices.len() > 5 {
            use std::fmt::Write;
            let _ = write!(text, ", and {} more", indices.len() - 5);
        }
    }

    fn by_username(
        &self,
        account: &Account,
        keys: &AccountKeys,
        excluded: &[u32],
        draft: &mut Draft,
    ) -> Step {
        let Some(username) = &keys.username else {
            return Step::Next;
        };
        let Some(hits) = self.dst_index.by_username.get(username.as_str()) else {
            return Step::Next;
        };
        if hits.as_slice().iter().any(|i| excluded.contains(i)) {
            return self.stop_on_look_alike(draft, "the username");
        }
        match hits.as_slice() {
            [] => Step::Next,
            [index] => Step::Link {
                index: *index,
                confidence: method_confidence(Resolution::Username),
                method: Resolution::Username,
                evidence: vec![Evidence {
                    method: Resolution::Username,
                    source_field: "username".into(),
                    destination_field: "username".into(),
                    key: username.clone(),
                    note: keys::evidence_note(
                        self.src_rules.username_note(account, keys.username_note),
                        self.dst_index.rules.username_note(
                            self.destination.account(*index),
                            self.dst_keys[*index as usize].username_note,
                        ),
                    ),
                }],
            },
            many => {
                for &index in many {
                    draft.candidate(index, Resolution::Username, format!("username {username}"));
                }
                draft.flag(
                    Flag::Ambiguous,
                    format!(
                        "{} destination accounts have username {username:?} once case is ignored ({}): none chosen",
                        many.len(),
                        self.list_accounts(many)
                    ),
                );
                Step::Stop
            }
        }
    }

    fn account_fallback(&self, keys: &AccountKeys, excluded: &[u32], mut draft: Draft) -> Draft {
        if !excluded.is_empty() {
            // A look-alike needs a person to look at it: creating or defaulting could hand
            // the identity to the wrong side of an impersonation.
            return draft;
        }
        if let Some(email) = keys
            .emails
            .iter()
            .find(|e| e.in_domains(&self.external_domains))
        {
            draft.resolution = Resolution::External;
            draft.target = Some(Target::External);
            draft.say(format!(
                "{} is in an external domain: kept as an external user, a guest under its own address, not an existing destination account",
                email.key
            ));
            return draft;
        }
        if self.policy.fallback.provision {
            draft.resolution = Resolution::Provision;
            draft.target = Some(Target::Provision);
            return draft;
        }
        if self.policy.fallback.passthrough {
            draft.resolution = Resolution::Passthrough;
            draft.target = Some(Target::Passthrough);
            return draft;
        }
        match &self.default_account {
            DefaultAccount::Existing(index) => {
                draft.resolution = Resolution::Default;
                draft.target = Some(Target::Existing { index: *index });
                return draft;
            }
            DefaultAccount::Named(id) => {
                draft.resolution = Resolution::Default;
                draft.target = Some(Target::Named { id: id.clone() });
                draft.say(format!(
                    "default account {id:?} is not in the destination directory"
                ));
                return draft;
            }
            DefaultAccount::None => {}
        }
        draft.say(&self.no_match);
        draft
    }

    pub(super) fn resolve_group(&self, i: u32) -> Draft {
        let group = self.source.group(i);
        let mut draft = Draft::draft(IdentityKind::Group, i);
        let excluded = self.group_look_alikes(group, &mut draft);
        let mut step = Step::Next;
        for method in &self.policy.order {
            step = match method {
                Method::Exception => exception_step(self.exceptions.groups.get(&i), &mut draft),
                Method::Id => match self.dst_groups.by_id.get(group.id.as_str()) {
                    Some(index) if excluded.contains(index) => {
                        draft.say("the id also matches a look-alike group named above: not linked");
                        Step::Stop
                    }
                    Some(&index) => id_link(index, &group.id),
                    None => Step::Next,
                },
                _ => Step::Next,
            };
            if !matches!(step, Step::Next) {
                break;
            }
        }
        if matches!(step, Step::Next) && self.policy.groups.match_by_name {
            step = self.group_by_name(group, &mut draft);
        }
        match step {
            Step::Stop => draft,
            Step::Make { target, evidence } => {
                draft.make_by_exception(target, evidence, &group.id);
                draft
            }
            Step::Link {
                index,
                method,
                evidence,
                confidence,
            } => {
                draft.confidence = confidence;
                let name = &self.dst_group_names[index as usize];
                if self.is_reserved_group(name) {
                    let target = self.destination.group(index);
                    if method == Resolution::Exception {
                        draft.flag(
                            Flag::ReservedGroup,
                            format!("destination group {:?} is reserved by the platform; mapped only because an exception says so", target.name),
                        );
                    } else {
                        draft.candidate(index, method, "reserved group");
                        draft.flag(
                            Flag::ReservedGroup,
                            format!(
                                "destination group {:?} is reserved by the platform and is never merged into; its members are still mapped",
                                target.name
                            ),
                        );
                        return draft;
                    }
                }
                draft.resolution = method;
                draft.target = Some(Target::Existing { index });
                draft.evidence = evidence;
                draft
            }
            Step::Next => {
                if !excluded.is_empty() {
                    // A look-alike needs a person: creating the group could set up the
                    // impersonation it looks like.
                    return draft;
                }
                if self.is_reserved_group(&normalize::fold(&group.name)) {
                    draft.flag(
                        Flag::ReservedGroup,
                        format!(
                            "group {:?} is reserved on the destination and is not created there",
                            group.name
                        ),
                    );
                } else if self.policy.fallback.provision {
                    draft.resolution = Resolution::Provision;
                    draft.target = Some(Target::Provision);
                } else if self.policy.fallback.passthrough {
                    draft.resolution = Resolution::Passthrough;
                    draft.target = Some(Target::Passthrough);
                } else {
                    draft.say("no destination group has this id or name");
                }
                draft
            }
        }
    }

    /// Whether a group name key is, or looks like, a reserved group's name.
    fn is_reserved_group(&self, name: &str) -> bool {
        !self.reserved_groups.is_empty()
            && self.reserved_groups.contains(&normalize::skeleton(name))
    }

    /// Destination groups whose name only looks like the source group's: flagged, listed as
    /// candidates, and excluded from every method but an exception.
    fn group_look_alikes(&self, group: &crate::directory::Group, draft: &mut Draft) -> Vec<u32> {
        let ours = normalize::fold(&group.name);
        let mut found = self.dst_groups.look_alikes(&ours);
        found.sort_by(|&a, &b| {
            self.destination
                .group(a)
                .id
                .cmp(&self.destination.group(b).id)
        });
        for &index in &found {
            let target = self.destination.group(index);
            draft.candidate(
                index,
                Resolution::Name,
                format!("look-alike of group name {ours}"),
            );
            draft.flag(
                Flag::LookAlike,
                format!(
                    "destination group {} is named {:?}, which only looks like {:?} (confusable characters): never matched",
                    target.id, target.name, group.name
                ),
            );
        }
        found
    }

    fn group_by_name(&self, group: &crate::directory::Group, draft: &mut Draft) -> Step {
        let key = normalize::fold(&group.name);
        let Some(hits) = self.dst_groups.by_name.get(&key) else {
            return Step::Next;
        };
        match hits.as_slice() {
            [index] => Step::Link {
                index: *index,
                confidence: method_confidence(Resolution::Name),
                method: Resolution::Name,
                evidence: vec![Evidence {
                    method: Resolution::Name,
                    source_field: "name".into(),
                    destination_field: "name".into(),
                    key: key.as_ref().into(),
                    note: if self.destination.group(*index).name == group.name {
                        Cow::Borrowed("")
                    } else {
                        "case folded".into()
                    },
                }],
            },
            many => {
                for &index in many {
                    draft.candidate(index, Resolution::Name, format!("group name {key}"));
                }
                draft.flag(
                    Flag::Ambiguous,
                    format!(
                        "{} destination groups are named {:?} once case is ignored: none chosen",
                        many.len(),
                        group.name
                    ),
                );
                Step::Stop
            }
        }
    }
}

/// How sure a link by `method` alone is: an exception is a person's word, an id or a verified
/// address is one person's, a username is usually one person's; a name is scored by the
/// evidence tier instead (this is its floor when nothing else agrees).
fn method_confidence(method: Resolution) -> Confidence {
    Confidence::from_probability(match method {
        Resolution::Exception => 1.0,
        Resolution::Id => 0.99,
        Resolution::Email => 0.98,
        Resolution::Username => 0.9,
        Resolution::Name => 0.95,
        _ => 0.5,
    })
}

/// The ID method's link, for accounts and groups alike: ids are compared exactly.
fn id_link(index: u32, id: &str) -> Step {
    Step::Link {
        index,
        method: Resolution::Id,
        confidence: method_confidence(Resolution::Id),
        evidence: vec![Evidence {
            method: Resolution::Id,
            source_field: "id".into(),
            destination_field: "id".into(),
            key: id.into(),
            note: Cow::Borrowed(""),
        }],
    }
}

/// The Exception method for accounts and groups alike: a rule links, a bad rule stops.
fn exception_step(outcome: Option<&ExceptionOutcome>, draft: &mut Draft) -> Step {
    match outcome {
        None => Step::Next,
        Some(ExceptionOutcome::Bad(message)) => {
            draft.flag(Flag::BadException, message.clone());
            Step::Stop
        }
        Some(ExceptionOutcome::To { index, rule }) => Step::Link {
            index: *index,
            method: Resolution::Exception,
            confidence: Confidence::CERTAIN,
            evidence: vec![exception_evidence(rule)],
        },
        Some(ExceptionOutcome::Make { target, rule }) => Step::Make {
            target: target.clone(),
            evidence: vec![exception_evidence(rule)],
        },
    }
}

fn exception_evidence(rule: &str) -> Evidence {
    Evidence {
        method: Resolution::Exception,
        source_field: "exception".into(),
        destination_field: "exception".into(),
        key: rule.into(),
        note: "explicit rule".into(),
    }
}
