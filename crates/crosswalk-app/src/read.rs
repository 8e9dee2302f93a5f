//! The use cases that read a scope: scopes, jobs, report, explain, history, change feed;
//! and the ones that manage it: create a scope, retention, purge.

use std::collections::HashMap;

use crosswalk_core::{Confidence, IdentityKind, ReportRow, Resolution};
use crosswalk_store::scope::{
    ChangePage, ChoiceRow, ChoiceSwitchRow, Cursor, ExceptionRow, FindOutcome, IdentityValue,
    JobRow, MAX_BATCH, MappingHistory, MappingRow, Namespace, NewScope, PurgeReport, ReportOf,
    Retention, RetentionRow, RevisionRow, RunRow, ScopeRow, check_name,
};
use serde::Serialize;
use uuid::Uuid;

use crate::App;
use crate::access::Caller;
use crate::error::{AppError, AppResult, ErrorKind};

/// A scope with its jobs, for `scope show`.
#[derive(Debug, Clone, Serialize)]
pub struct ScopeOverview {
    pub scope: ScopeRow,
    pub jobs: Vec<JobRow>,
    pub exceptions_version: u32,
    /// The rules a run without an exceptions file resolves with.
    pub exception_rules: Vec<ExceptionRow>,
    pub retention: Vec<RetentionRow>,
    /// How runs handled the identities their fixes named (duplicate handling), in force.
    pub identity_choices: Vec<ChoiceRow>,
    /// Every choice a later run switched, forced or not, with who and when.
    pub choice_switches: Vec<ChoiceSwitchRow>,
}

/// Which report rows, besides the scope or job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportFilter {
    /// Empty: every resolution.
    pub resolutions: Vec<Resolution>,
    pub kind: Option<IdentityKind>,
    /// Only rows with a flag (needs [`App::report_entries`]: a row alone has no flags).
    pub flagged: bool,
}

/// A report row with the mapping's flags and confidence, as the JSON reports give them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportEntry {
    #[serde(flatten)]
    pub row: ReportRow,
    /// Snake_case, in the engine's order; empty when nothing is odd.
    pub flags: Vec<String>,
    pub confidence: Confidence,
    /// A suggestion (`crosswalk_core::review`): said only when it is one.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub suggested: bool,
}

impl From<crosswalk_store::scope::ReportItem> for ReportEntry {
    fn from(item: crosswalk_store::scope::ReportItem) -> ReportEntry {
        ReportEntry {
            row: item.row,
            flags: item.flags,
            confidence: Confidence::from_probability(f64::from(item.confidence) / 1000.0),
            suggested: item.suggested,
        }
    }
}

impl Explanation {
    /// The whole decision in one paragraph, as core's `Mapping::explanation` says it, from
    /// the stored value: the link (or what was decided instead) and its confidence, each
    /// piece of evidence, the review candidates, the message.
    pub fn in_short(&self) -> String {
        let value = &self.value;
        let confidence =
            |thousandths: u16| Confidence::from_probability(f64::from(thousandths) / 1000.0);
        let mut parts: Vec<String> = Vec::new();
        if value.target == "existing" && value.resolution != Resolution::Default.as_str() {
            parts.push(format!(
                "Linked by {} with confidence {}",
                value.resolution,
                confidence(value.confidence)
            ));
        } else {
            parts.push(format!(
                "{} with confidence {} that no destination {} found is this one",
                value.resolution,
                confidence(value.confidence),
                self.kind
            ));
        }
        for evidence in &value.evidence {
            let mut sentence = if evidence.source_field == evidence.destination_field {
                format!(
                    "both sides' {} give {:?}",
                    evidence.source_field, evidence.key
                )
            } else {
                format!(
                    "the source's {} and the destination's {} give {:?}",
                    evidence.source_field, evidence.destination_field, evidence.key
                )
            };
            if !evidence.note.is_empty() {
                sentence.push_str(&format!(" ({})", evidence.note));
            }
            parts.push(sentence);
        }
        match value.candidates.as_slice() {
            [] => {}
            [one] => parts.push(format!(
                "one candidate for review, scored {}: {}",
                confidence(one.score),
                one.reason
            )),
            [best, ..] => parts.push(format!(
                "{} candidates for review, best scored {}: {}",
                value.candidates.len(),
                confidence(best.score),
                best.reason
            )),
        }
        if !value.message.is_empty() {
            parts.push(value.message.clone());
        }
        parts.join("; ")
    }
}

/// Why a streamed report stopped.
#[derive(Debug)]
pub enum ReportStop {
    /// The application (or its store) failed.
    App(AppError),
    /// The sink failed, with its own error: a closed pipe, a full disk.
    Sink(std::io::Error),
}

/// One identity mapping with what explains it.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub kind: IdentityKind,
    pub mapping: MappingRow,
    pub value: IdentityValue,
    /// The revision that made the mapping what it is (which run or caller, when, who, why).
    pub last_change: Option<RevisionRow>,
}

impl App {
    pub async fn create_scope(&self, caller: &Caller, scope: &NewScope) -> AppResult<ScopeRow> {
        caller.check_create_scope(&scope.name)?;
        check_name("scope", &scope.name)?;
        let context = caller.context(self.clock.now());
        Ok(self.store.create_scope(scope, &context).await?)
    }

    /// The scopes the caller may see, by name.
    pub async fn scopes(&self, caller: &Caller) -> AppResult<Vec<ScopeRow>> {
        let mut scopes = self.store.scopes().await?;
        scopes.retain(|scope| caller.sees(&scope.name));
        Ok(scopes)
    }

    pub async fn scope(&self, caller: &Caller, scope: &str) -> AppResult<ScopeOverview> {
        caller.check_read(scope)?;
        let row = self
            .store
            .scope(scope)
            .await
            .map_err(|e| scope_error(scope, e))?;
        let jobs = self.store.jobs(scope).await?;
        let exceptions = self.store.exceptions(scope).await?;
        let retention = self.store.retention(scope).await?;
        let identity_choices = self.store.choices(scope).await?.choices;
        let choice_switches = self.store.choice_switches(scope).await?;
        Ok(ScopeOverview {
            scope: row,
            jobs,
            exceptions_version: exceptions.version,
            exception_rules: exceptions.rules,
            retention,
            identity_choices,
            choice_switches,
        })
    }

    pub async fn jobs(&self, caller: &Caller, scope: &str) -> AppResult<Vec<JobRow>> {
        caller.check_read(scope)?;
        self.store
            .scope(scope)
            .await
            .map_err(|e| scope_error(scope, e))?;
        Ok(self.store.jobs(scope).await?)
    }

    /// The scope's runs (of one job, or all), oldest first.
    pub async fn runs(
        &self,
        caller: &Caller,
        scope: &str,
        job: Option<&str>,
    ) -> AppResult<Vec<RunRow>> {
        caller.check_read(scope)?;
        self.store
            .scope(scope)
            .await
            .map_err(|e| scope_error(scope, e))?;
        Ok(self.store.runs(scope, job).await?)
    }

    /// The job a transfer id names. A transfer id of a scope the caller may not see is
    /// answered as unknown, so it does not tell that the scope exists.
    pub async fn job_by_transfer(
        &self,
        caller: &Caller,
        transfer_id: Uuid,
    ) -> AppResult<(ScopeRow, JobRow)> {
        let unknown = || AppError::not_found(format!("no job has transfer id {transfer_id}"));
        let (scope, job) =
            self.store
                .job_by_transfer(transfer_id)
                .await
                .map_err(|e| match e.kind() {
                    crosswalk_store::scope::ErrorKind::NotFound => unknown(),
                    _ => e.into(),
                })?;
        if !caller.sees(&scope.name) {
            return Err(unknown());
        }
        Ok((scope, job))
    }

    /// The 12-column report: the scope's current state, or what one job's latest run resolved.
    pub async fn report(
        &self,
        caller: &Caller,
        scope: &str,
        of: &ReportOf,
        filter: &ReportFilter,
    ) -> AppResult<Vec<ReportRow>> {
        self.check_report(caller, scope, of).await?;
        let mut rows = self.store.report(scope, of).await?;
        rows.retain(|row| {
            (filter.resolutions.is_empty() || filter.resolutions.contains(&row.resolution))
                && filter.kind.is_none_or(|kind| kind == row.kind)
        });
        Ok(rows)
    }

    /// Like [`App::report`], handing each row to `sink` as it is read, so an export of
    /// millions of rows runs in constant memory. A sink error stops the read and is
    /// returned as it was (a closed pipe stays a closed pipe).
    pub async fn report_each(
        &self,
        caller: &Caller,
        scope: &str,
        of: &ReportOf,
        filter: &ReportFilter,
        sink: &mut (dyn FnMut(ReportRow) -> std::io::Result<()> + Send),
    ) -> Result<u64, ReportStop> {
        self.check_report(caller, scope, of)
            .await
            .map_err(ReportStop::App)?;
        let mut sink_error: Option<std::io::Error> = None;
        let mut filtered = |row: ReportRow| {
            if !(filter.resolutions.is_empty() || filter.resolutions.contains(&row.resolution))
                || filter.kind.is_some_and(|kind| kind != row.kind)
            {
                return Ok(());
            }
            sink(row).map_err(|error| {
                let stop = crosswalk_store::scope::ScopeError::stopped(std::io::Error::new(
                    error.kind(),
                    error.to_string(),
                ));
                sink_error = Some(error);
                stop
            })
        };
        let read = self.store.report_each(scope, of, &mut filtered).await;
        match (read, sink_error) {
            (_, Some(error)) => Err(ReportStop::Sink(error)),
            (Ok(count), None) => Ok(count),
            (Err(error), None) => Err(ReportStop::App(error.into())),
        }
    }

    /// Checks that the caller may read the scope, and that it (and the job) exists: what a
    /// report needs before its output is created.
    pub async fn check_report(&self, caller: &Caller, scope: &str, of: &ReportOf) -> AppResult<()> {
        caller.check_read(scope)?;
        self.store
            .scope(scope)
            .await
            .map_err(|e| scope_error(scope, e))?;
        if let ReportOf::Job(job) = of {
            self.check_job(scope, job).await?;
        }
        Ok(())
    }

    /// The report rows with each mapping's flags and confidence (for the JSON reports and
    /// `--flagged`): the rows, joined with the scope's identity mappings read a page at a time.
    pub async fn report_entries(
        &self,
        caller: &Caller,
        scope: &str,
        of: &ReportOf,
        filter: &ReportFilter,
    ) -> AppResult<Vec<ReportEntry>> {
        let rows = self
            .report(
                caller,
                scope,
                of,
                &ReportFilter {
                    flagged: false,
                    ..filter.clone()
                },
            )
            .await?;
        let mut details: HashMap<(IdentityKind, String), (Vec<String>, u16)> =
            HashMap::with_capacity(rows.len());
        for kind in [IdentityKind::Account, IdentityKind::Group] {
            if filter.kind.is_some_and(|k| k != kind) {
                continue;
            }
            let namespace = Namespace::identity(kind);
            let mut after: Option<String> = None;
            loop {
                let page = self
                    .store
                    .mappings_page(scope, &namespace, after.as_deref(), MAX_BATCH)
                    .await?;
                for mapping in page.mappings {
                    if let (false, Some(value)) = (mapping.removed, mapping.value.as_identity()) {
                        details.insert(
                            (kind, mapping.source_key.clone()),
                            (value.flags.clone(), value.confidence),
                        );
                    }
                }
                match page.next {
                    Some(next) if !page.last_page => after = Some(next),
                    _ => break,
                }
            }
        }
        let mut entries = Vec::with_capacity(rows.len());
        for row in rows {
            let (flags, thousandths) = details
                .remove(&(row.kind, row.source_id.clone()))
                .unwrap_or_default();
            if filter.flagged && flags.is_empty() {
                continue;
            }
            entries.push(ReportEntry {
                row,
                flags,
                confidence: Confidence::from_probability(f64::from(thousandths) / 1000.0),
                suggested: false,
            });
        }
        Ok(entries)
    }

    /// One identity's current mapping with its evidence, candidates and flags. `key` is
    /// its source id, or any alternate key (username, address, `jira.userkey/…`).
    /// With `job`, the job must be one of the scope's (the mapping shown is still the
    /// scope's current one, whichever job last changed it).
    pub async fn explain(
        &self,
        caller: &Caller,
        scope: &str,
        job: Option<&str>,
        kind: IdentityKind,
        key: &str,
    ) -> AppResult<Explanation> {
        caller.check_read(scope)?;
        if let Some(job) = job {
            self.store
                .scope(scope)
                .await
                .map_err(|e| scope_error(scope, e))?;
            self.check_job(scope, job).await?;
        }
        let history = self
            .history(caller, scope, &Namespace::identity(kind), key)
            .await?;
        let last_change = history.revisions.last().cloned();
        let mapping = history.mapping;
        let value = mapping.value.as_identity().cloned().ok_or_else(|| {
            AppError::new(
                ErrorKind::Corrupt,
                format!(
                    "the {kind} mapping {:?} holds no identity",
                    mapping.source_key
                ),
            )
        })?;
        Ok(Explanation {
            kind,
            mapping,
            value,
            last_change,
        })
    }

    /// A mapping and every revision of it, oldest first. `key` is its source key, or, in
    /// `identity:user`, any alternate key.
    pub async fn history(
        &self,
        caller: &Caller,
        scope: &str,
        namespace: &Namespace,
        key: &str,
    ) -> AppResult<MappingHistory> {
        caller.check_read(scope)?;
        self.store
            .scope(scope)
            .await
            .map_err(|e| scope_error(scope, e))?;
        // A removed mapping keeps its history: try the key itself first.
        match self.store.mapping(scope, namespace, key).await {
            Ok(history) => return Ok(history),
            Err(error) if error.kind() != crosswalk_store::scope::ErrorKind::NotFound => {
                return Err(error.into());
            }
            Err(_) => {}
        }
        let keys = [key.to_string()];
        let answer = self
            .store
            .find(scope, namespace, &keys)
            .await?
            .into_iter()
            .next();
        match answer.map(|a| a.outcome) {
            Some(FindOutcome::Found { mapping, .. }) => Ok(self
                .store
                .mapping(scope, namespace, &mapping.source_key)
                .await?),
            Some(FindOutcome::Ambiguous { source_keys, .. }) => Err(AppError::invalid(format!(
                "{key:?} is an alternate key of several {namespace} mappings in scope {scope:?} ({}); name one by its source key",
                source_keys.join(", ")
            ))),
            _ => Err(AppError::not_found(format!(
                "scope {scope:?} has no {namespace} mapping for {key:?}"
            ))),
        }
    }

    /// The scope's revisions after `since` (a cursor a previous page returned; none: from
    /// the start), in commit order, at most `limit`.
    pub async fn changes(
        &self,
        caller: &Caller,
        scope: &str,
        since: Option<&str>,
        limit: usize,
    ) -> AppResult<ChangePage> {
        caller.check_read(scope)?;
        let after = since
            .map(Cursor::parse)
            .transpose()?
            .unwrap_or(Cursor::START);
        if limit == 0 || limit > MAX_BATCH {
            return Err(AppError::invalid(format!(
                "a page holds 1 to {MAX_BATCH} changes, not {limit}"
            )));
        }
        self.store
            .scope(scope)
            .await
            .map_err(|e| scope_error(scope, e))?;
        Ok(self.store.changes(scope, after, limit).await?)
    }

    pub async fn set_retention(
        &self,
        caller: &Caller,
        scope: &str,
        namespace: &Namespace,
        retention: Retention,
    ) -> AppResult<RetentionRow> {
        caller.check_write(scope)?;
        let context = caller.context(self.clock.now());
        self.store
            .set_retention(scope, namespace, retention, &context)
            .await
            .map_err(|e| scope_error(scope, e))
    }

    /// Removes for good the namespace's mappings marked removed longer ago than its
    /// retention allows, and records it; with `dry_run`, only says what it would remove.
    pub async fn purge(
        &self,
        caller: &Caller,
        scope: &str,
        namespace: &Namespace,
        dry_run: bool,
    ) -> AppResult<PurgeReport> {
        if dry_run {
            caller.check_read(scope)?;
        } else {
            caller.check_write(scope)?;
        }
        let context = caller.context(self.clock.now());
        self.store
            .purge(scope, namespace, &context, dry_run)
            .await
            .map_err(|e| scope_error(scope, e))
    }

    async fn check_job(&self, scope: &str, job: &str) -> AppResult<()> {
        let jobs = self.store.jobs(scope).await?;
        if jobs.iter().any(|j| j.name == job) {
            return Ok(());
        }
        let names: Vec<String> = jobs.iter().map(|j| format!("{:?}", j.name)).collect();
        Err(AppError::not_found(if names.is_empty() {
            format!(
                "scope {scope:?} has no job {job:?}, and no jobs yet; start one with `crosswalk run --scope {scope}`"
            )
        } else {
            format!(
                "scope {scope:?} has no job {job:?}; its jobs are {}",
                names.join(", ")
            )
        }))
    }
}

/// A store error about a scope; a missing scope says how to find or make one.
pub(crate) fn scope_error(scope: &str, error: crosswalk_store::scope::ScopeError) -> AppError {
    if error.kind() != crosswalk_store::scope::ErrorKind::NotFound
        || !error.message().contains(scope)
    {
        return error.into();
    }
    let hint = if scope == crate::run::DEFAULT_SCOPE {
        "; the first `crosswalk run` without --scope makes it"
    } else if error.message().contains("scopes:") {
        ""
    } else {
        "; `crosswalk scope list` shows the scopes there are"
    };
    AppError::not_found(format!("{}{hint}", error.message()))
}
