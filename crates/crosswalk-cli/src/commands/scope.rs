//! `crosswalk scope create|list|show|retention`, `history`, `changes` and `purge`: the
//! scope-centric commands, each one call into the application and its printing.

use anyhow::Result;
use crosswalk_app::App;
use crosswalk_store::scope::{
    ChangeOrigin, MappingValue, Namespace, NewScope, Retention, RevisionRow,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::report::{check_exists, store_missing};
use super::run::{scope_hint, store_hint};
use super::{block_on, caller, open_app};
use crate::cli::{
    ChangesArgs, ChangesFormat, HistoryArgs, PurgeArgs, ScopeCommand, StoreArgs, SummaryFormat,
};

/// Opens the application, runs `work` with it, and closes it whatever `work` returned.
fn with_app<T>(
    store: &StoreArgs,
    work: impl AsyncFnOnce(&App) -> Result<T, crosswalk_app::AppError>,
) -> Result<T> {
    block_on(async {
        let app = open_app(store).await?;
        let result = work(&app).await;
        app.close().await;
        Ok(result?)
    })
}

fn date(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

pub(crate) fn scope(command: ScopeCommand) -> Result<()> {
    match command {
        ScopeCommand::Create(args) => {
            let new = NewScope {
                name: args.name,
                source_label: args.source_label,
                destination_label: args.destination_label,
            };
            let row = with_app(&args.store, async |app| {
                app.create_scope(&caller(), &new).await
            })?;
            outln!(
                "scope {:?} created: {} -> {}",
                row.name,
                row.source_label,
                row.destination_label
            )?;
            outln!(
                "next: crosswalk run --scope {} -s SOURCE -d DESTINATION --job wave-1{}",
                crate::cli::shell_word(&row.name),
                store_hint(&args.store)
            )?;
        }
        ScopeCommand::List(args) => {
            if store_missing(&args.store)? {
                outln!(
                    "no scopes yet: there is no store at {}; the first `crosswalk run` makes one",
                    args.store.database()?.describe()
                )?;
                return Ok(());
            }
            let scopes = with_app(&args.store, async |app| app.scopes(&caller()).await)?;
            if args.format == SummaryFormat::Json {
                outln!("{}", serde_json::to_string_pretty(&scopes)?)?;
                return Ok(());
            }
            if scopes.is_empty() {
                outln!(
                    "no scopes yet; `crosswalk scope create NAME ...` makes one, and the first `crosswalk run` makes `default`"
                )?;
            }
            for scope in scopes {
                outln!(
                    "{:<24} {} -> {}  (created {} by {})",
                    scope.name,
                    scope.source_label,
                    scope.destination_label,
                    date(scope.created_at),
                    scope.created_by
                )?;
            }
        }
        ScopeCommand::Show(args) => {
            check_exists(&args.store)?;
            let overview = with_app(&args.store, async |app| {
                app.scope(&caller(), &args.name).await
            })?;
            if args.format == SummaryFormat::Json {
                outln!("{}", serde_json::to_string_pretty(&overview)?)?;
                return Ok(());
            }
            let scope = &overview.scope;
            outln!("scope {:?}", scope.name)?;
            let prefixes: Vec<&str> = crosswalk_store::scope::keys::prefixes(scope.source_platform)
                .iter()
                .map(|(prefix, _)| *prefix)
                .collect();
            outln!(
                "  source:      {} (look-ups also take {})",
                scope.source_label,
                prefixes.join(", ")
            )?;
            outln!("  destination: {}", scope.destination_label)?;
            outln!(
                "  created:     {} by {}",
                date(scope.created_at),
                scope.created_by
            )?;
            outln!(
                "  exceptions:  {} rules, version {}",
                overview.exception_rules.len(),
                overview.exceptions_version
            )?;
            for rule in &overview.exception_rules {
                outln!("    {} {} -> {}", rule.kind, rule.source, rule.destination)?;
            }
            if overview.retention.is_empty() {
                outln!("  retention:   every namespace keeps removed mappings forever")?;
            }
            for retention in &overview.retention {
                outln!(
                    "  retention:   {} {}",
                    retention.namespace,
                    retention_text(retention.retention)
                )?;
            }
            outln!("  jobs:        {}", overview.jobs.len())?;
            for job in &overview.jobs {
                outln!(
                    "    {:<24} transfer id {}  {} runs",
                    job.name,
                    job.transfer_id,
                    job.runs
                )?;
            }
            if !overview.identity_choices.is_empty() {
                outln!(
                    "  duplicate handling: {} identities (runs with --fixes; a later wave may not switch them without --force)",
                    overview.identity_choices.len()
                )?;
                const SHOWN: usize = 20;
                for choice in overview.identity_choices.iter().take(SHOWN) {
                    outln!(
                        "    {:<24} {}  (job {:?} run {})",
                        choice.source_key,
                        handling_text(&choice.handling),
                        choice.job,
                        choice.run
                    )?;
                }
                if overview.identity_choices.len() > SHOWN {
                    outln!(
                        "    ... and {} more (--format json lists them all)",
                        overview.identity_choices.len() - SHOWN
                    )?;
                }
            }
            for switch in &overview.choice_switches {
                outln!(
                    "  switched:    {} from {} to {}{} by {} at {} (job {:?} run {})",
                    switch.source_key,
                    handling_text(&switch.before),
                    handling_text(&switch.after),
                    if switch.forced { " (forced)" } else { "" },
                    switch.who,
                    date(switch.at),
                    switch.job,
                    switch.run
                )?;
            }
        }
        ScopeCommand::Retention(args) => {
            let namespace = Namespace::parse(&args.namespace)?;
            let retention = parse_retention(&args.keep)?;
            let scope = args.scope.scope.clone();
            let row = with_app(&args.store, async |app| {
                app.set_retention(&caller(), &scope, &namespace, retention)
                    .await
            })?;
            outln!(
                "scope {scope:?}, {}: {}",
                row.namespace,
                retention_text(row.retention)
            )?;
            if row.retention != Retention::Forever {
                outln!(
                    "nothing is removed until you run: crosswalk purge --namespace {}{}{}",
                    row.namespace,
                    scope_hint(&scope),
                    store_hint(&args.store)
                )?;
            }
        }
    }
    Ok(())
}

fn parse_retention(text: &str) -> Result<Retention> {
    if text.eq_ignore_ascii_case("forever") {
        return Ok(Retention::Forever);
    }
    match text.parse::<u32>() {
        Ok(days) => Ok(Retention::Days(days)),
        Err(_) => anyhow::bail!(
            "{text:?} is not a retention; give a number of days (e.g. 90) or `forever`"
        ),
    }
}

fn retention_text(retention: Retention) -> String {
    match retention {
        Retention::Forever => "removed mappings are kept forever".to_string(),
        Retention::Days(days) => {
            format!("removed mappings may be purged {days} days after their removal")
        }
    }
}

/// A value as one line: an identity's destination and resolution, or an app's string.
fn value_text(value: Option<&MappingValue>) -> String {
    match value {
        None => "(none)".to_string(),
        Some(MappingValue::App(text)) => format!("{text:?}"),
        Some(MappingValue::Identity(identity)) => {
            let destination = if identity.destination.id.is_empty() {
                identity.destination.name.as_str()
            } else {
                identity.destination.id.as_str()
            };
            if destination.is_empty() {
                identity.resolution.clone()
            } else {
                format!("{} {destination}", identity.resolution)
            }
        }
    }
}

fn origin_text(origin: &ChangeOrigin) -> String {
    match origin {
        ChangeOrigin::Run { job, run, .. } => format!("job {job:?} run {run}"),
        ChangeOrigin::Caller { caller } => caller.clone(),
    }
}

fn revision_line(revision: &RevisionRow) -> String {
    format!(
        "{} {} {} {:<10} {} -> {}  ({}, by {})",
        revision.cursor,
        date(revision.at),
        revision.namespace,
        revision.reason.as_str(),
        value_text(revision.old_value.as_ref()),
        value_text(revision.new_value.as_ref()),
        origin_text(&revision.origin),
        revision.who
    )
}

pub(crate) fn history(args: HistoryArgs) -> Result<()> {
    let namespace = Namespace::parse(&args.namespace)?;
    check_exists(&args.store)?;
    let scope = args.scope.scope.clone();
    let history = with_app(&args.store, async |app| {
        app.history(&caller(), &scope, &namespace, &args.key).await
    })?;
    if args.format == SummaryFormat::Json {
        outln!("{}", serde_json::to_string_pretty(&history)?)?;
        return Ok(());
    }
    let mapping = &history.mapping;
    let state = if mapping.removed {
        "removed (its source identity is gone; kept until a purge)"
    } else {
        "current"
    };
    outln!(
        "{} {} in scope {scope:?}: {}, {state}",
        mapping.namespace,
        mapping.source_key,
        value_text(Some(&mapping.value))
    )?;
    outln!("{} revisions, oldest first:", history.revisions.len())?;
    for revision in &history.revisions {
        outln!("  {}", revision_line(revision))?;
    }
    Ok(())
}

pub(crate) fn changes(args: ChangesArgs) -> Result<()> {
    check_exists(&args.store)?;
    let scope = args.scope.scope.clone();
    let page = with_app(&args.store, async |app| {
        app.changes_with_items(&caller(), &scope, args.since.as_deref(), args.limit)
            .await
    })?;
    match args.format {
        ChangesFormat::Jsonl => {
            for entry in &page.revisions {
                outln!("{}", serde_json::to_string(entry)?)?;
            }
            outln!(
                "{}",
                serde_json::json!({ "cursor": page.cursor.to_string(), "last_page": page.last_page })
            )?;
        }
        ChangesFormat::Text => {
            for entry in &page.revisions {
                let items = entry
                    .affected_items
                    .map(|n| format!(" ({n} affected items)"))
                    .unwrap_or_default();
                outln!(
                    "{} {}{items}",
                    entry.revision.source_key,
                    revision_line(&entry.revision)
                )?;
            }
            let more = if page.last_page {
                ""
            } else {
                " (more: run it again with this cursor)"
            };
            outln!(
                "{} changes; next: crosswalk changes --since {}{}{}{more}",
                page.revisions.len(),
                page.cursor,
                scope_hint(&scope),
                store_hint(&args.store)
            )?;
        }
    }
    Ok(())
}

pub(crate) fn purge(args: PurgeArgs) -> Result<()> {
    let namespace = Namespace::parse(&args.namespace)?;
    check_exists(&args.store)?;
    let scope = args.scope.scope.clone();
    let report = with_app(&args.store, async |app| {
        app.purge(&caller(), &scope, &namespace, args.dry_run).await
    })?;
    let verb = if args.dry_run {
        "would remove"
    } else {
        "removed"
    };
    outln!(
        "scope {scope:?}, {}: {}",
        report.namespace,
        retention_text(report.retention)
    )?;
    outln!(
        "{verb} {} mappings for good{}",
        report.removed.len(),
        if report.removed.is_empty() { "" } else { ":" }
    )?;
    for key in &report.removed {
        outln!("  {key}")?;
    }
    if args.dry_run && !report.removed.is_empty() {
        outln!("nothing was removed (--dry-run)")?;
    }
    Ok(())
}

fn handling_text(handling: &crosswalk_store::scope::StoredHandling) -> String {
    use crosswalk_store::scope::StoredHandling;
    match handling {
        StoredHandling::Keep => "kept as its own account".to_string(),
        StoredHandling::Merge { into } => format!("merged into {into}"),
        StoredHandling::Tombstone => "migrated as a former user".to_string(),
        StoredHandling::NewEmail { email } => format!("given the new email {email}"),
        StoredHandling::Exclude => "excluded".to_string(),
    }
}
