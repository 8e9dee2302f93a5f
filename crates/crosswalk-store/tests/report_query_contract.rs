//! The report query's contract (filters, search, sort, keyset pages, counts, the filtered
//! stream), written once and run against each backend, over mappings made by hand so every
//! filter has rows on both sides of it.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crosswalk_core::{IdentityKind, Resolution};
use crosswalk_store::scope::{
    CandidateRow, ChangeContext, DirectoryContent, ErrorKind, IdentityMapping, IdentityValue,
    Namespace, NewScope, Rejections, ReportColumn, ReportOf, ReportView, RunRecord, ScopeWrite,
    SideRow,
};
use time::OffsetDateTime;

#[path = "support/backends.rs"]
mod backends;
use backends::{postgres_store, sqlite_store};

macro_rules! contract_tests {
    ($backend:ident, $constructor:ident; $($case:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(backend) = super::$constructor().await else { return };
                    super::$case(backend.store.clone()).await;
                }
            )*
        }
    };
}

contract_tests!(sqlite, sqlite_store; every_filter_keeps_exactly_its_rows, the_search_reads_every_source_and_destination_field,
    every_column_sorts_both_ways_and_pages_by_keyset, counts_and_the_stream_follow_the_filters, a_job_and_the_scope_are_reported_apart);
contract_tests!(postgres, postgres_store; every_filter_keeps_exactly_its_rows, the_search_reads_every_source_and_destination_field,
    every_column_sorts_both_ways_and_pages_by_keyset, counts_and_the_stream_follow_the_filters, a_job_and_the_scope_are_reported_apart);

fn context() -> ChangeContext {
    ChangeContext {
        at: OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap(),
        who: "ada@acme.example".into(),
        caller: "cli".into(),
    }
}

fn side(id: &str, username: &str, name: &str, display: &str) -> SideRow {
    SideRow {
        id: id.into(),
        username: username.into(),
        name: name.into(),
        display_name: display.into(),
    }
}

fn candidate(id: &str, score: u16, reason: &str) -> CandidateRow {
    CandidateRow {
        destination: side(id, "", &format!("{id}@cloud.example"), id),
        method: "Name".into(),
        reason: reason.into(),
        score,
    }
}

fn mapping(
    kind: IdentityKind,
    source: SideRow,
    destination: SideRow,
    resolution: &str,
) -> IdentityMapping {
    IdentityMapping {
        namespace: Namespace::identity(kind),
        source_key: source.id.clone(),
        value: IdentityValue {
            source_emails: if source.name.contains('@') {
                vec![source.name.clone(), format!("alias.{}", source.name)]
            } else {
                Vec::new()
            },
            destination,
            source,
            resolution: resolution.into(),
            target: if resolution == "Unresolved" {
                String::new()
            } else {
                "existing".into()
            },
            message: String::new(),
            evidence: Vec::new(),
            candidates: Vec::new(),
            flags: Vec::new(),
            confidence: 1000,
        },
    }
}

fn none() -> SideRow {
    side("", "", "", "")
}

/// Ten mappings: email, id, username matches; a suggestion, a weak candidate, an ambiguous
/// pair of namesakes, a look-alike; a provisioned user; two groups.
fn mappings() -> Vec<IdentityMapping> {
    use IdentityKind::{Account, Group};
    let mut all = vec![
        mapping(
            Account,
            side("u01", "ada", "ada@acme.example", "Ada Lovelace"),
            side("c01", "ada", "ada@acme.example", "Ada Lovelace"),
            "Email",
        ),
        mapping(
            Account,
            side("u02", "bob", "bob@acme.example", "Bob Ho"),
            side("c02", "bobby", "robert@acme.example", "Robert Ho"),
            "ID",
        ),
        mapping(
            Account,
            side("u03", "cy", "cy@acme.example", "Cy Twombly"),
            side("c03", "cy", "cy@cloud.example", "Cy T"),
            "Username",
        ),
        mapping(
            Account,
            side("u04", "dee", "dee@old.example", "Dee Dee"),
            none(),
            "Unresolved",
        ),
        mapping(
            Account,
            side("u05", "eve", "eve@old.example", "Eve Arden"),
            none(),
            "Unresolved",
        ),
        mapping(
            Account,
            side("u06", "fay", "fay@old.example", "Fay Wray"),
            none(),
            "Unresolved",
        ),
        mapping(
            Account,
            side("u07", "gus", "gus@acme.example", "=HYPERLINK(\"x\")"),
            side("c07", "gus", "gus@acme.example", "Gus"),
            "Email",
        ),
        mapping(
            Account,
            side("u08", "hal", "hal@acme.example", "Hal Émile"),
            side("", "hal", "hal@acme.example", "Hal Émile"),
            "Provision",
        ),
        mapping(
            Group,
            side("g-devs", "", "developers", "Developers"),
            side("cg-devs", "", "developers", "Developers"),
            "Name",
        ),
        mapping(
            Group,
            side("g-ops", "", "operations", "Operations"),
            none(),
            "Unresolved",
        ),
    ];
    // u04: a strong, clear candidate: a suggestion.
    all[3].value.candidates = vec![candidate("c04", 950, "same name, same department")];
    all[3].value.message = "no exact match; one strong candidate".into();
    // u05: only a weak candidate.
    all[4].value.candidates = vec![candidate("c05", 500, "similar name")];
    // u06: two namesakes, nothing chosen.
    all[5].value.candidates = vec![
        candidate("c06a", 950, "same name"),
        candidate("c06b", 950, "same name"),
    ];
    all[5].value.flags = vec!["ambiguous".into()];
    // u03: a look-alike address.
    all[2].value.flags = vec!["look_alike".into()];
    all
}

async fn seeded(store: &dyn ScopeWrite, identities: Vec<IdentityMapping>, job: &str) {
    if store.scope("acme").await.is_err() {
        let scope = NewScope {
            name: "acme".into(),
            source_label: "server".into(),
            destination_label: "cloud".into(),
        };
        store.create_scope(&scope, &context()).await.unwrap();
    }
    let record = RunRecord {
        scope: "acme".into(),
        job: job.into(),
        started_at: OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap(),
        who: "ada".into(),
        policy: String::new(),
        exceptions_version: 0,
        source: DirectoryContent {
            accounts: Vec::new(),
            groups: Vec::new(),
        },
        destination: DirectoryContent {
            accounts: Vec::new(),
            groups: Vec::new(),
        },
        identities,
        warnings: Vec::new(),
    };
    store.record_run(&record).await.unwrap();
}

/// Every row of a view, read a page of `limit` at a time; the ids in order.
async fn all_ids(
    store: &dyn ScopeWrite,
    view: &ReportView,
    rejected: &Rejections,
    limit: usize,
) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..100 {
        let page = store
            .report_page("acme", view, rejected, after.as_deref(), limit)
            .await
            .unwrap();
        assert!(page.rows.len() <= limit);
        ids.extend(page.rows.iter().map(|item| item.row.source_id.clone()));
        match page.next {
            Some(next) => after = Some(next),
            None => return ids,
        }
    }
    panic!("the pages never ended")
}

async fn ids(store: &dyn ScopeWrite, view: ReportView) -> Vec<String> {
    all_ids(store, &view, &Rejections::new(), 100).await
}

async fn every_filter_keeps_exactly_its_rows(store: Arc<dyn ScopeWrite>) {
    let store = &*store;
    seeded(store, mappings(), "wave-1").await;
    let all = ids(store, ReportView::default()).await;
    assert_eq!(
        all,
        [
            "u01", "u02", "u03", "u04", "u05", "u06", "u07", "u08", "g-devs", "g-ops"
        ]
    );
    let view = |edit: fn(&mut ReportView)| {
        let mut view = ReportView::default();
        edit(&mut view);
        view
    };
    assert_eq!(
        ids(
            store,
            view(|v| v.resolutions = vec![Resolution::Email, Resolution::Name])
        )
        .await,
        ["u01", "u07", "g-devs"]
    );
    assert_eq!(
        ids(
            store,
            view(|v| v.resolutions = vec![Resolution::Unresolved])
        )
        .await,
        ["u04", "u05", "u06", "g-ops"]
    );
    assert_eq!(
        ids(store, view(|v| v.kind = Some(IdentityKind::Group))).await,
        ["g-devs", "g-ops"]
    );
    assert_eq!(
        ids(store, view(|v| v.kind = Some(IdentityKind::Account)))
            .await
            .len(),
        8
    );
    assert_eq!(ids(store, view(|v| v.flagged = true)).await, ["u03", "u06"]);
    assert_eq!(ids(store, view(|v| v.ambiguous = true)).await, ["u06"]);
    assert_eq!(ids(store, view(|v| v.suggested = true)).await, ["u04"]);
    // Filters combine.
    assert_eq!(
        ids(
            store,
            view(|v| {
                v.resolutions = vec![Resolution::Unresolved];
                v.kind = Some(IdentityKind::Group);
            })
        )
        .await,
        ["g-ops"]
    );
    // A rejected candidate is no longer suggested.
    let mut rejected: Rejections = HashMap::new();
    rejected.insert(
        (IdentityKind::Account, "u04".into()),
        BTreeSet::from(["c04".to_string()]),
    );
    assert!(
        all_ids(store, &view(|v| v.suggested = true), &rejected, 10)
            .await
            .is_empty()
    );
    // A page says which rows are suggestions and carries their flags.
    let page = store
        .report_page("acme", &ReportView::default(), &Rejections::new(), None, 10)
        .await
        .unwrap();
    let u04 = page
        .rows
        .iter()
        .find(|item| item.row.source_id == "u04")
        .unwrap();
    assert!(u04.suggested);
    let u06 = page
        .rows
        .iter()
        .find(|item| item.row.source_id == "u06")
        .unwrap();
    assert_eq!(
        (u06.suggested, u06.flags.as_slice()),
        (false, &["ambiguous".to_string()][..])
    );
}

async fn the_search_reads_every_source_and_destination_field(store: Arc<dyn ScopeWrite>) {
    let store = &*store;
    seeded(store, mappings(), "wave-1").await;
    let search = |text: &str| ReportView {
        search: Some(text.into()),
        ..ReportView::default()
    };
    // Source id, username, name, display name; destination id, username, name, display name;
    // an alias address; case folded, non-ASCII too.
    for (text, expected) in [
        ("U02", vec!["u02"]),
        ("BOBBY", vec!["u02"]),
        ("robert@", vec!["u02"]),
        ("robert ho", vec!["u02"]),
        ("c03", vec!["u03"]),
        ("cy@cloud", vec!["u03"]),
        ("cy t", vec!["u03"]),
        ("twombly", vec!["u03"]),
        ("alias.dee", vec!["u04"]),
        ("OPERATIONS", vec!["g-ops"]),
        ("émile", vec!["u08"]),
        ("ÉMILE", vec!["u08"]),
        ("=hyperlink", vec!["u07"]),
        ("old.example", vec!["u04", "u05", "u06"]),
        ("nobody-has-this", vec![]),
    ] {
        assert_eq!(ids(store, search(text)).await, expected, "search {text:?}");
    }
    // Blank is no search; search and filters combine.
    assert_eq!(ids(store, search("  ")).await.len(), 10);
    let view = ReportView {
        search: Some("acme.example".into()),
        resolutions: vec![Resolution::Email],
        ..ReportView::default()
    };
    assert_eq!(ids(store, view).await, ["u01", "u07"]);
}

async fn every_column_sorts_both_ways_and_pages_by_keyset(store: Arc<dyn ScopeWrite>) {
    let store = &*store;
    seeded(store, mappings(), "wave-1").await;
    let rows = store.report("acme", &ReportOf::Scope).await.unwrap();
    for column in ReportColumn::ALL {
        for descending in [false, true] {
            let view = ReportView {
                sort: column,
                descending,
                ..ReportView::default()
            };
            // What a full sort says: the column's value, then type, then source id.
            let mut expected: Vec<&crosswalk_core::ReportRow> = rows.iter().collect();
            expected.sort_by(|a, b| {
                let order = column
                    .value(a)
                    .cmp(column.value(b))
                    .then((a.kind == IdentityKind::Group).cmp(&(b.kind == IdentityKind::Group)))
                    .then(a.source_id.cmp(&b.source_id));
                if descending { order.reverse() } else { order }
            });
            let expected: Vec<String> = expected.iter().map(|row| row.source_id.clone()).collect();
            for limit in [1, 3, 10] {
                assert_eq!(
                    all_ids(store, &view, &Rejections::new(), limit).await,
                    expected,
                    "{} desc={descending} limit={limit}",
                    column.as_str()
                );
            }
        }
    }
    // A cursor is the place after a row, not an offset: a row added before it later does not
    // move the next page.
    let view = ReportView {
        sort: ReportColumn::SourceDisplayName,
        ..ReportView::default()
    };
    let first = store
        .report_page("acme", &view, &Rejections::new(), None, 3)
        .await
        .unwrap();
    let mut more = mappings();
    more.push(mapping(
        IdentityKind::Account,
        side("u00", "aaa", "aaa@acme.example", "AAA first"),
        none(),
        "Unresolved",
    ));
    seeded(store, more, "wave-1").await;
    let second = store
        .report_page("acme", &view, &Rejections::new(), first.next.as_deref(), 3)
        .await
        .unwrap();
    let before: Vec<String> = all_ids(store, &view, &Rejections::new(), 100).await;
    let at = before
        .iter()
        .position(|id| *id == first.rows[2].row.source_id)
        .unwrap();
    assert_eq!(
        second
            .rows
            .iter()
            .map(|item| item.row.source_id.clone())
            .collect::<Vec<_>>(),
        before[at + 1..at + 4]
    );
    // A cursor of another sort, a made-up cursor and a bad page size are refused.
    let other = ReportView {
        descending: true,
        ..view.clone()
    };
    let refused = store
        .report_page("acme", &other, &Rejections::new(), first.next.as_deref(), 3)
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Invalid);
    assert!(
        refused.message().contains("first page"),
        "{}",
        refused.message()
    );
    assert_eq!(
        store
            .report_page("acme", &view, &Rejections::new(), Some("not-a-cursor"), 3)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Invalid
    );
    assert_eq!(
        store
            .report_page("acme", &view, &Rejections::new(), None, 0)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Invalid
    );
    assert_eq!(
        store
            .report_page("nope", &view, &Rejections::new(), None, 3)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
}

async fn counts_and_the_stream_follow_the_filters(store: Arc<dyn ScopeWrite>) {
    let store = &*store;
    seeded(store, mappings(), "wave-1").await;
    let view = ReportView {
        kind: Some(IdentityKind::Account),
        resolutions: vec![Resolution::Unresolved],
        ..ReportView::default()
    };
    let counts = store
        .report_counts("acme", &view, &Rejections::new())
        .await
        .unwrap();
    assert_eq!(counts.matching, 3);
    let per: HashMap<Resolution, u64> = counts
        .resolutions
        .iter()
        .map(|c| (c.resolution, c.count))
        .collect();
    // Every filter but the resolution one: the accounts per resolution.
    assert_eq!(
        (
            per[&Resolution::Email],
            per[&Resolution::Unresolved],
            per[&Resolution::Name],
            per[&Resolution::Provision]
        ),
        (2, 3, 0, 1)
    );
    assert_eq!(counts.resolutions.len(), Resolution::ALL.len());

    // The stream: the rows the view matches, in the natural order, a part at a time.
    let mut streamed = Vec::new();
    let every = ReportView {
        search: Some("example".into()),
        ..ReportView::default()
    };
    let mut keep = |row: crosswalk_core::ReportRow| {
        streamed.push(row.source_id);
        Ok(())
    };
    assert_eq!(
        store
            .report_view_each("acme", &every, &Rejections::new(), 0, None, &mut keep)
            .await
            .unwrap(),
        8
    );
    assert_eq!(
        streamed,
        ["u01", "u02", "u03", "u04", "u05", "u06", "u07", "u08"]
    );
    let mut part = Vec::new();
    let mut keep = |row: crosswalk_core::ReportRow| {
        part.push(row.source_id);
        Ok(())
    };
    assert_eq!(
        store
            .report_view_each("acme", &every, &Rejections::new(), 3, Some(3), &mut keep)
            .await
            .unwrap(),
        3
    );
    assert_eq!(part, ["u04", "u05", "u06"]);
}

async fn a_job_and_the_scope_are_reported_apart(store: Arc<dyn ScopeWrite>) {
    let store = &*store;
    seeded(store, mappings(), "wave-1").await;
    let view = ReportView {
        of: ReportOf::Job("wave-1".into()),
        ..ReportView::default()
    };
    // This job's latest run recorded no directory contents: none of the scope's rows are its.
    assert!(ids(store, view).await.is_empty());
    let view = ReportView {
        of: ReportOf::Job("wave-9".into()),
        ..ReportView::default()
    };
    assert_eq!(
        store
            .report_page("acme", &view, &Rejections::new(), None, 5)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    let page = store
        .report_page("acme", &ReportView::default(), &Rejections::new(), None, 5)
        .await
        .unwrap();
    assert!(page.rows.iter().all(|item| item.row.job == "wave-1"));
}
