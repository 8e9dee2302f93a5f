//! `crosswalk review list|accept|reject|destinations` and `crosswalk resolve`: the review
//! queue and decisions, each one call into the application and its printing.

use anyhow::Result;
use crosswalk_app::{
    App, Decision, DestinationIdentity, ReviewOutcome, ReviewSelection, SuggestionEntry,
};
use crosswalk_core::{IdentityKind, SUGGESTION_THRESHOLD};
use crosswalk_store::scope::{Namespace, SideRow};

use super::report::check_exists;
use super::run::store_hint;
use super::{block_on, caller, open_app};
use crate::cli::{
    ResolveArgs, ReviewCommand, ReviewDecideArgs, ScopeArg, StoreArgs, SummaryFormat, shell_word,
};

/// Opens the application, runs `work` with it, and closes it whatever `work` returned.
fn with_app<T>(
    store: &StoreArgs,
    work: impl AsyncFnOnce(&App) -> Result<T, crosswalk_app::AppError>,
) -> Result<T> {
    check_exists(store)?;
    block_on(async {
        let app = open_app(store).await?;
        let result = work(&app).await;
        app.close().await;
        Ok(result?)
    })
}

fn side(side: &SideRow) -> String {
    let mut text = side.id.clone();
    let name = if side.display_name.is_empty() {
        &side.username
    } else {
        &side.display_name
    };
    if !name.is_empty() {
        text.push_str(&format!(" {name}"));
    }
    if !side.name.is_empty() && side.name != *name {
        text.push_str(&format!(" <{}>", side.name));
    }
    text
}

fn kind_word(kind: IdentityKind) -> &'static str {
    match kind {
        IdentityKind::Account => "user",
        IdentityKind::Group => "group",
    }
}

fn print_suggestion(entry: &SuggestionEntry) -> Result<()> {
    outln!(
        "{:<5} {}  ->  {}",
        kind_word(entry.kind),
        side(&entry.source),
        side(&entry.candidate.destination)
    )?;
    outln!("      {}", entry.why)?;
    Ok(())
}

fn scope_flag(scope: &ScopeArg) -> String {
    format!("--scope {}", shell_word(&scope.scope))
}

pub(crate) fn review(command: ReviewCommand) -> Result<()> {
    match command {
        ReviewCommand::List(args) => {
            let min_score = args.min_score.unwrap_or(SUGGESTION_THRESHOLD);
            let kind = args.kind.map(|k| k.kind());
            let scope = &args.scope.scope;
            let found = with_app(&args.store, async |app| {
                app.suggestions(&caller(), scope, min_score, kind).await
            })?;
            if args.format == SummaryFormat::Json {
                outln!("{}", serde_json::to_string_pretty(&found)?)?;
                return Ok(());
            }
            if found.is_empty() {
                outln!("no suggestions in scope {scope:?} at score {min_score} or more")?;
                outln!(
                    "the Unresolved mappings still to decide: crosswalk report {} --resolution unresolved{}",
                    scope_flag(&args.scope),
                    store_hint(&args.store)
                )?;
                return Ok(());
            }
            outln!(
                "{} suggestion{} in scope {scope:?} at score {min_score} or more:",
                found.len(),
                plural(found.len())
            )?;
            for entry in &found {
                print_suggestion(entry)?;
            }
            outln!(
                "next: crosswalk review accept {} SOURCE_KEY... (or --all), or crosswalk review reject {} SOURCE_KEY...{}",
                scope_flag(&args.scope),
                scope_flag(&args.scope),
                store_hint(&args.store)
            )?;
        }
        ReviewCommand::Accept(args) => decide(args, true)?,
        ReviewCommand::Reject(args) => decide(args, false)?,
        ReviewCommand::Destinations(args) => {
            let scope = &args.scope.scope;
            let kind = args.kind.kind();
            let found = with_app(&args.store, async |app| {
                app.destination_identities(
                    &caller(),
                    scope,
                    kind,
                    args.search.as_deref(),
                    args.limit,
                )
                .await
            })?;
            if args.format == SummaryFormat::Json {
                outln!("{}", serde_json::to_string_pretty(&found)?)?;
                return Ok(());
            }
            if found.is_empty() {
                outln!("no destination {kind} in scope {scope:?} matches")?;
            }
            for identity in &found {
                match identity {
                    DestinationIdentity::Account(a) => outln!(
                        "{}  {}  {}  {}{}",
                        a.id,
                        a.username.as_deref().unwrap_or("-"),
                        a.email.as_deref().unwrap_or("-"),
                        a.display_name.as_deref().unwrap_or("-"),
                        if a.active { "" } else { "  (deactivated)" }
                    )?,
                    DestinationIdentity::Group(g) => outln!(
                        "{}  {}  {}",
                        g.id,
                        g.name,
                        g.display_name.as_deref().unwrap_or("-")
                    )?,
                }
            }
        }
    }
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn decide(args: ReviewDecideArgs, accept: bool) -> Result<()> {
    let selection = ReviewSelection {
        min_score: args.min_score.unwrap_or(SUGGESTION_THRESHOLD),
        kind: args.kind.map(|k| k.kind()),
        all: args.all,
        keys: args.keys.clone(),
    };
    let scope = &args.scope.scope;
    let outcome: ReviewOutcome = with_app(&args.store, async |app| {
        if accept {
            app.accept_suggestions(&caller(), scope, &selection).await
        } else {
            app.reject_suggestions(&caller(), scope, &selection).await
        }
    })?;
    if args.format == SummaryFormat::Json {
        outln!("{}", serde_json::to_string_pretty(&outcome)?)?;
        return Ok(());
    }
    let verb = if accept { "accepted" } else { "rejected" };
    if outcome.decided.is_empty() {
        outln!(
            "no suggestions in scope {scope:?} at score {}: nothing {verb}",
            selection.min_score
        )?;
        return Ok(());
    }
    outln!(
        "{verb} {} suggestion{}:",
        outcome.decided.len(),
        plural(outcome.decided.len())
    )?;
    for entry in &outcome.decided {
        print_suggestion(entry)?;
    }
    if let Some(version) = outcome.exceptions_version {
        outln!("recorded as exception rules (version {version} of scope {scope:?}'s rules)")?;
    }
    for run in &outcome.runs {
        outln!(
            "applied by run {} of job {:?}: {} changed, {} added, {} removed",
            run.number,
            run.job,
            run.counts.changed,
            run.counts.added,
            run.counts.removed
        )?;
    }
    if !accept {
        outln!(
            "they stay Unresolved and are not suggested again; decide them with `crosswalk resolve`"
        )?;
    }
    Ok(())
}

pub(crate) fn resolve(args: ResolveArgs) -> Result<()> {
    let decision = match (&args.to, args.provision, args.former_user) {
        (Some(to), _, _) => Decision::To(to.clone()),
        (None, true, _) => Decision::Provision,
        _ => Decision::FormerUser,
    };
    let kind = args.kind.kind();
    let namespace = Namespace::identity(kind);
    let scope = &args.scope.scope;
    let outcome = with_app(&args.store, async |app| {
        app.resolve_mapping(&caller(), scope, &namespace, &args.key, &decision)
            .await
    })?;
    if args.format == SummaryFormat::Json {
        outln!("{}", serde_json::to_string_pretty(&outcome)?)?;
        return Ok(());
    }
    let value = outcome.mapping.value.as_identity();
    let (resolution, destination, message) = value
        .map(|v| {
            (
                v.resolution.as_str(),
                side(&v.destination),
                v.message.as_str(),
            )
        })
        .unwrap_or(("?", String::new(), ""));
    outln!(
        "{} {}: {resolution} -> {}",
        kind_word(kind),
        outcome.mapping.source_key,
        if destination.is_empty() {
            "(no destination account)"
        } else {
            &destination
        }
    )?;
    if !message.is_empty() {
        outln!("  {message}")?;
    }
    outln!(
        "recorded as exception rule {} -> {} (version {}), applied by run {} of job {:?}",
        outcome.exception.source,
        outcome.exception.destination,
        outcome.exceptions_version,
        outcome.run.number,
        outcome.run.job
    )?;
    match &outcome.revision {
        Some(revision) => outln!(
            "revision {} by {} at {}",
            revision.cursor,
            revision.who,
            revision.at
        )?,
        None => outln!("the mapping already had this value: no new revision")?,
    }
    outln!(
        "its history: crosswalk history {}{} {}{}",
        scope_flag(&args.scope),
        if kind == IdentityKind::Group {
            " --namespace identity:group"
        } else {
            ""
        },
        shell_word(&outcome.mapping.source_key),
        store_hint(&args.store)
    )?;
    Ok(())
}
