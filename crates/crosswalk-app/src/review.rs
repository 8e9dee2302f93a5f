//! Review and resolve: the suggestions (core's rule, `crosswalk_core::review`) over a scope's
//! current mappings, accepting or rejecting them one by one or in bulk, and resolving any
//! identity mapping to a destination identity, to be provisioned, or as a former user.
//!
//! A decision is an exception rule (the scope's rules, a new version, with who and when),
//! applied at once by resolving the mapping's job again from what its latest run stored (its
//! directories and policy): the mapping's new value is an ordinary identity revision, made by
//! that run with the decider as its `who`. A rejection changes no mapping; it is kept, with
//! who and when, as an app mapping in [`REJECTIONS_NAMESPACE`] (one per source identity, its
//! value the rejected destination ids), so the same candidate is not suggested again.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crosswalk_core::{Confidence, Flag, IdentityKind, IdentityRef, ReviewCandidate, suggestion};
use crosswalk_store::scope::{
    AccountRow, CandidateRow, ExceptionRow, GroupRow, IdentityValue, MAX_BATCH, MappingRow,
    Namespace, RevisionRow, RunRow, SideRow,
};
use serde::Serialize;

use crate::App;
use crate::access::Caller;
use crate::error::{AppError, AppResult};
use crate::read::scope_error;
use crate::run::{RunOutcome, RunRequest};

/// Where rejected suggestions are kept: key `user/<source key>` or `group/<source key>`,
/// value a JSON array of the rejected destination ids.
pub const REJECTIONS_NAMESPACE: &str = "review:rejections";

/// The most destination identities one search returns.
pub const MAX_SEARCH_RESULTS: usize = 1000;

/// One suggestion: an Unresolved mapping, the candidate to accept, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuggestionEntry {
    pub kind: IdentityKind,
    pub namespace: Namespace,
    pub source_key: String,
    pub source: SideRow,
    /// The job whose run last wrote the mapping.
    pub job: Option<String>,
    pub candidate: CandidateRow,
    pub score: Confidence,
    pub why: String,
    /// The mapping's message: why the engine did not decide.
    pub message: String,
}

/// Which suggestions to accept or reject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewSelection {
    /// Only suggestions scored at least this (default [`crosswalk_core::SUGGESTION_THRESHOLD`]).
    pub min_score: Confidence,
    /// Only accounts, or only groups; `None`: both.
    pub kind: Option<IdentityKind>,
    /// Every suggestion at or above `min_score` (then `keys` must be empty).
    pub all: bool,
    /// The source keys of the suggestions to take.
    pub keys: Vec<String>,
}

/// What accepting or rejecting did.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewOutcome {
    /// The suggestions decided on.
    pub decided: Vec<SuggestionEntry>,
    /// The scope's exception rules' version after the decisions (accept only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exceptions_version: Option<u32>,
    /// The runs that applied them (accept only): one per job whose mappings changed.
    pub runs: Vec<RunRow>,
}

/// What a person decided for one mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Link it to this destination identity: its id, or `email:`, `username:` (`name:` for a
    /// group) or a bare value, found in the destination directory the job last resolved with.
    To(String),
    /// Create it on the destination.
    Provision,
    /// Migrate it as a former user (accounts only).
    FormerUser,
}

/// What resolving one mapping did.
#[derive(Debug, Clone, Serialize)]
pub struct ResolveOutcome {
    /// The rule recorded.
    pub exception: ExceptionRow,
    pub exceptions_version: u32,
    /// The run that applied it.
    pub run: RunRow,
    /// The mapping as it stands now.
    pub mapping: MappingRow,
    /// The revision the decision made (none when the mapping already had that value).
    pub revision: Option<RevisionRow>,
}

/// A destination identity, as the searchable list shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum DestinationIdentity {
    Account(AccountRow),
    Group(GroupRow),
}

fn rejection_key(kind: IdentityKind, source_key: &str) -> String {
    match kind {
        IdentityKind::Account => format!("user/{source_key}"),
        IdentityKind::Group => format!("group/{source_key}"),
    }
}

fn rejections_namespace() -> Namespace {
    // A constant that parses: `review:rejections`.
    Namespace::parse(REJECTIONS_NAMESPACE).unwrap_or_else(|_| Namespace::identity_user())
}

fn kinds(kind: Option<IdentityKind>) -> Vec<IdentityKind> {
    match kind {
        Some(kind) => vec![kind],
        None => vec![IdentityKind::Account, IdentityKind::Group],
    }
}

/// Core's flags back from their stored names (an unknown name counts as a flag that stops a
/// suggestion: never suggest what this version cannot read).
fn flags_of(value: &IdentityValue) -> Vec<Flag> {
    value
        .flags
        .iter()
        .map(|name| {
            serde_json::from_value(serde_json::Value::String(name.clone()))
                .unwrap_or(Flag::LookAlike)
        })
        .collect()
}

/// The suggestion for a stored mapping, if it is one, given the destination ids already
/// rejected for it.
fn suggest_stored(
    kind: IdentityKind,
    row: &MappingRow,
    rejected: &BTreeSet<String>,
    min_score: Confidence,
) -> Option<SuggestionEntry> {
    if row.removed {
        return None;
    }
    let value = row.value.as_identity()?;
    let resolution = crosswalk_core::Resolution::parse(&value.resolution)?;
    let candidates: Vec<ReviewCandidate<'_>> = value
        .candidates
        .iter()
        .map(|c| ReviewCandidate {
            score: Confidence::from_thousandths(c.score),
            reason: &c.reason,
            rejected: rejected.contains(&c.destination.id),
        })
        .collect();
    let found = suggestion(resolution, &flags_of(value), &candidates, min_score)?;
    Some(SuggestionEntry {
        kind,
        namespace: row.namespace.clone(),
        source_key: row.source_key.clone(),
        source: value.source.clone(),
        job: row.job.clone(),
        candidate: value.candidates[found.candidate].clone(),
        score: found.score,
        why: found.why,
        message: value.message.clone(),
    })
}

impl App {
    /// The scope's suggestions at `min_score` (of one kind, or both), accounts first, each
    /// in source-key order.
    pub async fn suggestions(
        &self,
        caller: &Caller,
        scope: &str,
        min_score: Confidence,
        kind: Option<IdentityKind>,
    ) -> AppResult<Vec<SuggestionEntry>> {
        caller.check_read(scope)?;
        self.store
            .scope(scope)
            .await
            .map_err(|e| scope_error(scope, e))?;
        let rejections = self.rejections(scope).await?;
        let none = BTreeSet::new();
        let mut found = Vec::new();
        for kind in kinds(kind) {
            self.each_mapping(scope, &Namespace::identity(kind), |row| {
                let rejected = rejections
                    .get(&(kind, row.source_key.clone()))
                    .unwrap_or(&none);
                if let Some(entry) = suggest_stored(kind, row, rejected, min_score) {
                    found.push(entry);
                }
            })
            .await?;
        }
        Ok(found)
    }

    /// Accepts the selected suggestions: one exception rule each (a new version per rule,
    /// with who and when), then each affected job is resolved again so the mappings change
    /// at once. Nothing is written when the selection names something that is not a
    /// suggestion.
    pub async fn accept_suggestions(
        &self,
        caller: &Caller,
        scope: &str,
        selection: &ReviewSelection,
    ) -> AppResult<ReviewOutcome> {
        caller.check_write(scope)?;
        let chosen = self.select(caller, scope, selection).await?;
        let mut version = None;
        for entry in &chosen {
            let rule = ExceptionRow {
                kind: entry.kind,
                source: format!("id:{}", entry.source_key),
                destination: format!("id:{}", entry.candidate.destination.id),
            };
            let note = crate::webhooks::DecisionNote {
                namespace: match entry.kind {
                    IdentityKind::Account => crosswalk_store::scope::Namespace::IDENTITY_USER,
                    IdentityKind::Group => crosswalk_store::scope::Namespace::IDENTITY_GROUP,
                }
                .to_owned(),
                source_key: entry.source_key.clone(),
                decision: crosswalk_events::ReviewDecision::Accepted,
                destination: Some(entry.candidate.destination.id.clone()),
            };
            version = Some(
                self.add_exception_deciding(caller, scope, &rule, note)
                    .await?
                    .version,
            );
        }
        let jobs: BTreeSet<String> = chosen
            .iter()
            .filter_map(|entry| entry.job.clone())
            .collect();
        let mut runs = Vec::with_capacity(jobs.len());
        for job in jobs {
            runs.push(self.resolve_job_again(caller, scope, &job).await?.run);
        }
        Ok(ReviewOutcome {
            decided: chosen,
            exceptions_version: version,
            runs,
        })
    }

    /// Rejects the selected suggestions: each rejected candidate is remembered for its mapping
    /// (a revision of [`REJECTIONS_NAMESPACE`], with who and when) and not suggested again.
    /// The mappings themselves stay as they are.
    pub async fn reject_suggestions(
        &self,
        caller: &Caller,
        scope: &str,
        selection: &ReviewSelection,
    ) -> AppResult<ReviewOutcome> {
        caller.check_write(scope)?;
        let chosen = self.select(caller, scope, selection).await?;
        let namespace = rejections_namespace();
        let rejections = self.rejections(scope).await?;
        for entry in &chosen {
            let mut rejected = rejections
                .get(&(entry.kind, entry.source_key.clone()))
                .cloned()
                .unwrap_or_default();
            rejected.insert(entry.candidate.destination.id.clone());
            let value = serde_json::to_string(&rejected).unwrap_or_default();
            self.set_app_mapping(
                caller,
                scope,
                &namespace,
                &rejection_key(entry.kind, &entry.source_key),
                &value,
            )
            .await?;
        }
        Ok(ReviewOutcome {
            decided: chosen,
            exceptions_version: None,
            runs: Vec::new(),
        })
    }

    /// Resolves one identity mapping (by its source key or any alternate key) as `decision`
    /// says: an exception rule, applied at once by resolving the mapping's job again.
    pub async fn resolve_mapping(
        &self,
        caller: &Caller,
        scope: &str,
        namespace: &Namespace,
        key: &str,
        decision: &Decision,
    ) -> AppResult<ResolveOutcome> {
        caller.check_write(scope)?;
        let Some(kind) = namespace.identity_kind() else {
            return Err(AppError::invalid(format!(
                "{namespace} is not an identity namespace; only identity:user and identity:group mappings are resolved by a decision"
            )));
        };
        let history = self.history(caller, scope, namespace, key).await?;
        let mapping = history.mapping;
        if mapping.removed {
            return Err(AppError::invalid(format!(
                "the {namespace} mapping {:?} is marked removed (its source identity is gone); there is nothing to resolve",
                mapping.source_key
            )));
        }
        let job = mapping.job.clone().ok_or_else(|| {
            AppError::invalid(format!(
                "the {namespace} mapping {:?} was not written by a run; run its job first",
                mapping.source_key
            ))
        })?;
        let destination = match decision {
            Decision::To(reference) => {
                let latest = self.latest_run(scope, &job).await?;
                let content = self
                    .store
                    .content(scope, &latest.destination_content)
                    .await?;
                format!("id:{}", find_destination(&content, kind, reference)?)
            }
            Decision::Provision => crosswalk_core::PROVISION_DESTINATION.to_string(),
            Decision::FormerUser if kind == IdentityKind::Group => {
                return Err(AppError::invalid(
                    "a group cannot be a former user; resolve it to a destination group or --provision it",
                ));
            }
            Decision::FormerUser => crosswalk_core::FORMER_USER_DESTINATION.to_string(),
        };
        let rule = ExceptionRow {
            kind,
            source: format!("id:{}", mapping.source_key),
            destination,
        };
        let note = crate::webhooks::DecisionNote {
            namespace: namespace.as_str().to_owned(),
            source_key: mapping.source_key.clone(),
            decision: match decision {
                Decision::To(_) => crosswalk_events::ReviewDecision::Resolved,
                Decision::Provision => crosswalk_events::ReviewDecision::Provision,
                Decision::FormerUser => crosswalk_events::ReviewDecision::FormerUser,
            },
            destination: matches!(decision, Decision::To(_))
                .then(|| rule.destination.trim_start_matches("id:").to_owned()),
        };
        let set = self
            .add_exception_deciding(caller, scope, &rule, note)
            .await?;
        let outcome = self.resolve_job_again(caller, scope, &job).await?;
        let after = self
            .store
            .mapping(scope, namespace, &mapping.source_key)
            .await?;
        let revision = after
            .revisions
            .last()
            .filter(|r| Some(r.cursor) != history.revisions.last().map(|l| l.cursor))
            .cloned();
        Ok(ResolveOutcome {
            exception: rule,
            exceptions_version: set.version,
            run: outcome.run,
            mapping: after.mapping,
            revision,
        })
    }

    /// The destination identities (of one kind) the scope's jobs last resolved against,
    /// whose id, username, address, alias or name contains `search` (ignoring case), by id;
    /// at most `limit` (1 to [`MAX_SEARCH_RESULTS`]).
    pub async fn destination_identities(
        &self,
        caller: &Caller,
        scope: &str,
        kind: IdentityKind,
        search: Option<&str>,
        limit: usize,
    ) -> AppResult<Vec<DestinationIdentity>> {
        caller.check_read(scope)?;
        if limit == 0 || limit > MAX_SEARCH_RESULTS {
            return Err(AppError::invalid(format!(
                "a search returns 1 to {MAX_SEARCH_RESULTS} identities, not {limit}"
            )));
        }
        self.store
            .scope(scope)
            .await
            .map_err(|e| scope_error(scope, e))?;
        let needle = search
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_lowercase);
        let hit = |fields: &[&str]| {
            needle
                .as_deref()
                .is_none_or(|n| fields.iter().any(|f| f.to_lowercase().contains(n)))
        };
        // The latest run of each job: its destination directory (most scopes have one).
        let mut latest: BTreeMap<String, RunRow> = BTreeMap::new();
        for run in self.store.runs(scope, None).await? {
            latest.insert(run.job.clone(), run);
        }
        let hashes: BTreeSet<String> = latest
            .into_values()
            .map(|run| run.destination_content)
            .collect();
        let mut found: BTreeMap<String, DestinationIdentity> = BTreeMap::new();
        for hash in hashes {
            let content = self.store.content(scope, &hash).await?;
            match kind {
                IdentityKind::Account => {
                    for account in content.accounts {
                        let mut fields = vec![account.id.as_str()];
                        fields.extend(account.username.as_deref());
                        fields.extend(account.email.as_deref());
                        fields.extend(account.display_name.as_deref());
                        fields.extend(account.alias_emails.iter().map(String::as_str));
                        if hit(&fields) {
                            found
                                .entry(account.id.clone())
                                .or_insert(DestinationIdentity::Account(account));
                        }
                    }
                }
                IdentityKind::Group => {
                    for group in content.groups {
                        let fields = [
                            group.id.as_str(),
                            group.name.as_str(),
                            group.display_name.as_deref().unwrap_or_default(),
                        ];
                        if hit(&fields) {
                            found
                                .entry(group.id.clone())
                                .or_insert(DestinationIdentity::Group(group));
                        }
                    }
                }
            }
        }
        Ok(found.into_values().take(limit).collect())
    }

    /// The suggestions a selection names, checked: `all` or keys, not both, not neither; each
    /// key a current suggestion at the selection's score.
    async fn select(
        &self,
        caller: &Caller,
        scope: &str,
        selection: &ReviewSelection,
    ) -> AppResult<Vec<SuggestionEntry>> {
        match (selection.all, selection.keys.is_empty()) {
            (true, false) => {
                return Err(AppError::invalid(
                    "give either all or source keys, not both",
                ));
            }
            (false, true) => {
                return Err(AppError::invalid(
                    "say which suggestions: all of them (all / --all) or their source keys",
                ));
            }
            _ => {}
        }
        if selection.keys.len() > MAX_BATCH {
            return Err(AppError::invalid(format!(
                "at most {MAX_BATCH} source keys at once, not {}",
                selection.keys.len()
            )));
        }
        let suggestions = self
            .suggestions(caller, scope, selection.min_score, selection.kind)
            .await?;
        if selection.all {
            return Ok(suggestions);
        }
        let mut by_key: HashMap<&str, Vec<&SuggestionEntry>> = HashMap::new();
        for entry in &suggestions {
            by_key
                .entry(entry.source_key.as_str())
                .or_default()
                .push(entry);
        }
        let mut chosen: Vec<SuggestionEntry> = Vec::with_capacity(selection.keys.len());
        let mut missing = Vec::new();
        for key in &selection.keys {
            match by_key.get(key.as_str()).map(Vec::as_slice) {
                Some([one]) => {
                    if !chosen
                        .iter()
                        .any(|c| c.kind == one.kind && c.source_key == one.source_key)
                    {
                        chosen.push((*one).clone());
                    }
                }
                Some(_) => {
                    return Err(AppError::invalid(format!(
                        "{key:?} is both an account's and a group's source key; say which with the kind (--kind user or --kind group)"
                    )));
                }
                None => missing.push(format!("{key:?}")),
            }
        }
        if !missing.is_empty() {
            return Err(AppError::not_found(format!(
                "not a suggestion in scope {scope:?} at score {}: {}; `crosswalk review list --scope {scope}` shows them, \
                 and `crosswalk resolve` decides any mapping",
                selection.min_score,
                missing.join(", ")
            )));
        }
        Ok(chosen)
    }

    /// The rejected destination ids per (kind, source key).
    pub(crate) async fn rejections(
        &self,
        scope: &str,
    ) -> AppResult<HashMap<(IdentityKind, String), BTreeSet<String>>> {
        let mut rejections = HashMap::new();
        self.each_mapping(scope, &rejections_namespace(), |row| {
            let (Some(text), false) = (app_value(row), row.removed) else {
                return;
            };
            let kind_and_key = if let Some(key) = row.source_key.strip_prefix("user/") {
                Some((IdentityKind::Account, key))
            } else {
                row.source_key
                    .strip_prefix("group/")
                    .map(|key| (IdentityKind::Group, key))
            };
            // A value this version did not write rejects nothing.
            if let (Some((kind, key)), Ok(ids)) =
                (kind_and_key, serde_json::from_str::<BTreeSet<String>>(text))
            {
                rejections.insert((kind, key.to_string()), ids);
            }
        })
        .await?;
        Ok(rejections)
    }

    /// Every mapping of a namespace, a page at a time.
    async fn each_mapping(
        &self,
        scope: &str,
        namespace: &Namespace,
        mut each: impl FnMut(&MappingRow),
    ) -> AppResult<()> {
        let mut after: Option<String> = None;
        loop {
            let page = self
                .store
                .mappings_page(scope, namespace, after.as_deref(), MAX_BATCH)
                .await?;
            for row in &page.mappings {
                each(row);
            }
            match page.next {
                Some(next) if !page.last_page => after = Some(next),
                _ => return Ok(()),
            }
        }
    }

    async fn latest_run(&self, scope: &str, job: &str) -> AppResult<RunRow> {
        self.store
            .runs(scope, Some(job))
            .await?
            .pop()
            .ok_or_else(|| {
                AppError::not_found(format!(
                    "job {job:?} of scope {scope:?} has not run yet; run it first"
                ))
            })
    }

    /// Runs `job` again on what its latest run stored (both directories and the policy), with
    /// the scope's current exception rules: how a decision is applied at once. It is a run
    /// like any other (numbered, recorded, `who` the caller), writing only what changed.
    pub async fn resolve_job_again(
        &self,
        caller: &Caller,
        scope: &str,
        job: &str,
    ) -> AppResult<RunOutcome> {
        caller.check_write(scope)?;
        // The stored directories already hold the fixes' effect; carrying the scope's
        // duplicate-handling choices keeps a decision from reading as a switch of them.
        let (_, input) = self.stored_job_input(scope, job).await?;
        let request = RunRequest {
            scope: scope.to_string(),
            job: Some(job.to_string()),
            input,
            force: false,
        };
        self.run_job(caller, request, &mut |_| {}).await
    }
}

fn app_value(row: &MappingRow) -> Option<&str> {
    match &row.value {
        crosswalk_store::scope::MappingValue::App(text) => Some(text),
        crosswalk_store::scope::MappingValue::Identity(_) => None,
    }
}

/// The one destination identity of `kind` a reference names in stored contents: by id, or
/// `email:`, `username:` (`name:` for groups), or a bare value as any of them. Returns its id.
fn find_destination(
    content: &crosswalk_store::scope::DirectoryContent,
    kind: IdentityKind,
    reference: &str,
) -> AppResult<String> {
    let reference = reference.trim();
    if reference.is_empty() {
        return Err(AppError::invalid(
            "the destination is empty; name a destination identity by its id, email: or username:",
        ));
    }
    let same = |a: &str, b: &str| a.to_lowercase() == b.to_lowercase();
    let parsed = IdentityRef::parse(reference);
    let ids: Vec<&str> = match kind {
        IdentityKind::Account => content
            .accounts
            .iter()
            .filter(|a| {
                let by_id = a.id == parsed.value();
                let by_username = a
                    .username
                    .as_deref()
                    .is_some_and(|u| same(u, parsed.value()));
                let by_email = a.email.as_deref().is_some_and(|e| same(e, parsed.value()))
                    || a.alias_emails.iter().any(|e| same(e, parsed.value()));
                match &parsed {
                    IdentityRef::Id(_) => by_id,
                    IdentityRef::Username(_) => by_username,
                    IdentityRef::Email(_) => by_email,
                    IdentityRef::Any(_) => by_id || by_username || by_email,
                }
            })
            .map(|a| a.id.as_str())
            .collect(),
        IdentityKind::Group => content
            .groups
            .iter()
            .filter(|g| {
                let by_id = g.id == parsed.value();
                let by_name = same(&g.name, parsed.value());
                match &parsed {
                    IdentityRef::Id(_) => by_id,
                    IdentityRef::Username(_) | IdentityRef::Email(_) => by_name,
                    IdentityRef::Any(_) => by_id || by_name,
                }
            })
            .map(|g| g.id.as_str())
            .collect(),
    };
    match ids.as_slice() {
        [one] => Ok((*one).to_string()),
        [] => Err(AppError::not_found(format!(
            "no destination {kind} is {reference:?}; `crosswalk review destinations --scope S --search TEXT` lists them"
        ))),
        many => Err(AppError::invalid(format!(
            "{reference:?} names {} destination {kind}s ({}); name one by its id",
            many.len(),
            many.join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crosswalk_store::scope::DirectoryContent;

    fn account(id: &str, username: &str, email: &str) -> AccountRow {
        AccountRow {
            id: id.into(),
            username: Some(username.into()),
            email: Some(email.into()),
            alias_emails: vec![],
            display_name: None,
            given_name: None,
            family_name: None,
            active: true,
            source_directory: None,
            email_verified: None,
        }
    }

    #[test]
    fn a_destination_is_found_by_id_username_or_address_and_never_guessed() {
        let content = DirectoryContent {
            accounts: vec![
                account("a1", "ann", "ann@acme.com"),
                account("a2", "a1", "bob@acme.com"),
            ],
            groups: vec![],
        };
        assert_eq!(
            find_destination(&content, IdentityKind::Account, "id:a1").unwrap(),
            "a1"
        );
        assert_eq!(
            find_destination(&content, IdentityKind::Account, "ANN@acme.com").unwrap(),
            "a1"
        );
        assert_eq!(
            find_destination(&content, IdentityKind::Account, "username:a1").unwrap(),
            "a2"
        );
        // `a1` is one account's id and another's username: not chosen between.
        assert_eq!(
            find_destination(&content, IdentityKind::Account, "a1")
                .unwrap_err()
                .kind(),
            crate::ErrorKind::Invalid
        );
        assert_eq!(
            find_destination(&content, IdentityKind::Account, "carol")
                .unwrap_err()
                .kind(),
            crate::ErrorKind::NotFound
        );
        assert_eq!(
            find_destination(&content, IdentityKind::Account, " ")
                .unwrap_err()
                .kind(),
            crate::ErrorKind::Invalid
        );
    }
}
