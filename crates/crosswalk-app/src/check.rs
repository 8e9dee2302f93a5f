//! The pre-flight check use case: read the source (and the destination and content
//! references when given), run every check, suggest fixes, and, with an edited findings
//! file, apply the admin's fixes and check again. Writes nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crosswalk_core::Directory;
use crosswalk_core::normalize::DomainAliases;
use crosswalk_plan::checks::{directory_order, has_blockers};
use crosswalk_plan::{
    CheckKind, CheckOptions, Finding, Fix, FixOutcome, MergeRule, ScopeResult, UserScope,
    apply_fixes, resolve_scope, run_checks, suggested_fixes,
};

use crate::error::{AppError, AppResult};

/// What to check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckRequest {
    pub source: PathBuf,
    pub destination: Option<PathBuf>,
    /// Content references (items CSV): enables the referenced-but-absent check.
    pub items: Option<PathBuf>,
    /// An edited findings CSV: its fixes are applied (all or none) before checking again.
    pub fixes: Option<PathBuf>,
    /// Template for new emails in the suggested fixes (`{id}`, `{username}`, `{local}`);
    /// without one, accounts with no usable email are suggested as former users.
    pub email_template: Option<String>,
    /// Source directories in priority order (first is in effect for a shared username).
    pub directory_order: Vec<String>,
    /// The job's user scope. `None`: every identity of the source is checked and no scope
    /// is reported. With a scope, findings are limited to its identities (content
    /// references absent from the source are reported either way).
    pub users: Option<UserScope>,
    /// How many users one group must bring into one container before it is reported.
    pub group_pull_threshold: usize,
}

/// What the applied fixes did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct AppliedFixes {
    pub merged: Vec<(String, String)>,
    pub tombstoned: Vec<String>,
    pub reemailed: Vec<String>,
    pub excluded: Vec<String>,
}

impl AppliedFixes {
    pub(crate) fn of(outcome: &FixOutcome) -> AppliedFixes {
        AppliedFixes {
            merged: outcome.merged.clone(),
            tombstoned: outcome.tombstoned.clone(),
            reemailed: outcome.reemailed.clone(),
            excluded: outcome.excluded.clone(),
        }
    }
}

/// Reads an edited findings CSV and applies its fixes to `source`: all of them or none.
/// Bad rows, and fixes that cannot be applied, are listed with the file's line each.
pub fn read_and_apply_fixes(
    path: &Path,
    source: &Directory,
) -> AppResult<(FixOutcome, BTreeMap<String, Fix>)> {
    let rows = crosswalk_formats::read_fixes_csv_file(path).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        AppError::invalid(format!(
            "{} bad rows, nothing applied:\n{}",
            lines.len(),
            lines.join("\n")
        ))
    })?;
    let lines: BTreeMap<&str, u64> = rows
        .iter()
        .map(|row| (row.user_key.as_str(), row.line))
        .collect();
    let fixes: BTreeMap<String, Fix> = rows
        .iter()
        .map(|row| (row.user_key.clone(), row.fix.clone()))
        .collect();
    let outcome = apply_fixes(source, &fixes, &DomainAliases::default()).map_err(|errors| {
        let name = path.display();
        let described: Vec<String> = errors
            .iter()
            .map(|e| match lines.get(e.user_key.as_str()) {
                Some(line) => format!("{name}:{line}: UserKey {}: {}", e.user_key, e.message),
                None => format!("{name}: UserKey {}: {}", e.user_key, e.message),
            })
            .collect();
        AppError::invalid(format!(
            "{} fixes cannot be applied, nothing applied:\n{}",
            described.len(),
            described.join("\n")
        ))
    })?;
    Ok((outcome, fixes))
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CheckOutcome {
    /// The findings (after the fixes, when fixes were given).
    pub findings: Vec<Finding>,
    pub blockers: usize,
    pub warnings: usize,
    /// The fixes Crosswalk suggests for what is still found.
    pub suggested: BTreeMap<String, Fix>,
    /// The merge rule in words, so the admin can see which account a merge keeps.
    pub merge_rule: String,
    pub applied: Option<AppliedFixes>,
    /// The user scope: each identity with its reasons, group pulls, and which referenced
    /// identities will get no mapping.
    pub scope: Option<ScopeResult>,
}

impl CheckOutcome {
    pub fn has_blockers(&self) -> bool {
        has_blockers(&self.findings)
    }
}

/// Runs the checks. Bad files are errors naming file:line and field; bad fixes list every
/// row at fault and nothing is applied.
pub fn check(request: &CheckRequest) -> AppResult<CheckOutcome> {
    if request.items.is_none()
        && matches!(
            request.users,
            Some(UserScope::Related { .. } | UserScope::None)
        )
    {
        return Err(AppError::invalid(
            "the user scope related or none needs the content references (items): they tell who is related",
        ));
    }
    if let Some(UserScope::Related { containers, .. }) = &request.users
        && containers.is_empty()
    {
        return Err(AppError::invalid(
            "the user scope related needs containers: the space, project or drive keys the job takes",
        ));
    }
    let (source, destination, references) = crate::check_read::read_check_inputs(request)?;
    let mut source = source;
    let aliases = DomainAliases::default();
    let rule = MergeRule {
        directory_order: directory_order(&source, &request.directory_order),
    };

    let mut applied = None;
    if let Some(path) = &request.fixes {
        let (outcome, _) = read_and_apply_fixes(path, &source)?;
        applied = Some(AppliedFixes::of(&outcome));
        source = outcome.directory;
    }

    let former_users = applied
        .as_ref()
        .map(|a| a.tombstoned.iter().cloned().collect())
        .unwrap_or_default();
    let options = CheckOptions {
        directory_order: request.directory_order.clone(),
        domain_aliases: aliases.clone(),
        former_users,
        ..Default::default()
    };
    let mut findings = run_checks(&source, destination.as_ref(), &references, &options);
    let scope = request
        .users
        .as_ref()
        .map(|users| resolve_scope(&source, &references, users, request.group_pull_threshold));
    if let Some(scope) = &scope
        && request.users != Some(UserScope::All)
    {
        for finding in &mut findings {
            if finding.kind != CheckKind::ReferencedButAbsent {
                finding
                    .rows
                    .retain(|row| scope.contains(row.kind, &row.user_key));
                finding.count = finding.rows.len();
            }
        }
        findings.retain(|finding| finding.count > 0);
    }
    let suggested = suggested_fixes(
        &source,
        &findings,
        request.email_template.as_deref(),
        &rule,
        &aliases,
    );
    let blockers = findings
        .iter()
        .filter(|f| f.severity == crosswalk_plan::Severity::Blocker)
        .map(|f| f.count)
        .sum();
    let warnings = findings
        .iter()
        .filter(|f| f.severity == crosswalk_plan::Severity::Warning)
        .map(|f| f.count)
        .sum();
    Ok(CheckOutcome {
        findings,
        blockers,
        warnings,
        suggested,
        merge_rule: rule.describe(),
        applied,
        scope,
    })
}

/// The blockers the pre-flight checks find in a job's two directories, as `KIND count`.
pub fn preflight_blockers(input: &crate::JobInput) -> Vec<String> {
    // The run's fixes are applied already; their tombstones migrate without an email.
    let former_users = input
        .fixes
        .as_ref()
        .map(|a| a.tombstoned.iter().cloned().collect())
        .unwrap_or_default();
    let options = CheckOptions {
        former_users,
        ..CheckOptions::default()
    };
    let findings = run_checks(
        &input.source.directory,
        Some(&input.destination.directory),
        &[],
        &options,
    );
    findings
        .iter()
        .filter(|f| f.severity == crosswalk_plan::Severity::Blocker)
        .map(|f| format!("{} {}", f.kind, f.count))
        .collect()
}

/// The refusal of a run with blockers, saying what to do.
pub fn preflight_refusal(input: &crate::JobInput, blockers: &[String]) -> AppError {
    AppError::conflict(format!(
        "the pre-flight check found blockers ({}); nothing was run. See them with `crosswalk check -s {} -d {}`, \
         fix them with --fixes, or run anyway with --override-blockers (API: \"force\": true; recorded with who and when)",
        blockers.join(", "),
        input.source_origin,
        input.destination_origin
    ))
}

impl crate::App {
    /// [`check`] for a caller that may read `scope`: the checks read the files given, never
    /// the store, so any reader may run them.
    pub fn check(
        &self,
        caller: &crate::Caller,
        scope: &str,
        request: &CheckRequest,
    ) -> AppResult<CheckOutcome> {
        caller.check_read(scope)?;
        check(request)
    }

    /// The note a run keeps with its warnings when `blockers` are overridden: who, when,
    /// which. (The store has no place of its own for overrides yet.)
    pub fn override_note(&self, caller: &crate::Caller, blockers: &[String]) -> String {
        let context = caller.context(self.clock.now());
        let at = context
            .at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        format!(
            "pre-flight blockers overridden by {} at {at}: {}",
            context.who,
            blockers.join(", ")
        )
    }
}
