use crosswalk_core::{
    Account, Candidate, Confidence, Directory, Evidence, Flag, Group, IdentityKind, Mapping,
    ReportRow, Resolution, Summary, Target,
};
use crosswalk_store::{
    DirectoryId, DirectoryMeta, MappingStore, NewRun, ReportEntry, ReportQuery, RunId, Store,
    StoreError,
};
use proptest::prelude::*;
use sqlx::Connection;

fn account(
    id: &str,
    username: Option<&str>,
    email: Option<&str>,
    display: Option<&str>,
) -> Account {
    Account {
        id: id.into(),
        username: username.map(Into::into),
        email: email.map(Into::into),
        display_name: display.map(Into::into),
        active: true,
        ..Default::default()
    }
}

fn source_directory() -> Directory {
    let mut accounts = vec![
        Account {
            id: "u-003".into(),
            username: Some("jdoe".into()),
            email: Some("John.Doe@Acme.com".into()),
            alias_emails: vec!["smtp:jd@acme-corp.com".into(), "jöhn@bücher.example".into()],
            display_name: Some("Doe, John".into()),
            given_name: Some("John".into()),
            family_name: Some("Doe".into()),
            active: true,
            source_directory: Some("ldap".into()),
            email_verified: None,
        },
        Account {
            id: "u-001".into(),
            username: Some("asmith".into()),
            email: Some("a.smith@acme.com".into()),
            display_name: Some("Alice Smith".into()),
            active: false,
            source_directory: Some("internal".into()),
            email_verified: Some(false),
            ..Default::default()
        },
        account("u-002", None, None, None),
        account(
            "u-004",
            Some("guest"),
            Some("guest@partner.org"),
            Some("A Guest"),
        ),
        account(
            "u-005",
            Some("nobody"),
            Some("not-an-email"),
            Some("Nobody \"quoted\", with comma"),
        ),
        account(
            "u-006",
            Some("provisioned"),
            Some("new@acme.com"),
            Some("New Person"),
        ),
    ];
    accounts[5].email_verified = Some(true);
    let groups = vec![
        Group {
            id: "g-2".into(),
            name: "devs".into(),
            display_name: None,
            members: vec!["u-001".into(), "u-003".into()],
        },
        Group {
            id: "g-1".into(),
            name: "site-admins".into(),
            display_name: Some("Site Admins".into()),
            members: vec!["g-2".into()],
        },
        Group {
            id: "g-3".into(),
            name: "empty".into(),
            display_name: Some("".into()),
            members: vec![],
        },
    ];
    Directory::new("jira-server", accounts, groups).unwrap()
}

fn destination_directory() -> Directory {
    let accounts = vec![
        account(
            "d-10",
            Some("john.doe"),
            Some("john.doe@acme.com"),
            Some("John Doe"),
        ),
        account(
            "d-11",
            Some("alice"),
            Some("a.smith@acme.com"),
            Some("Alice S."),
        ),
        account(
            "d-12",
            Some("john.doe2"),
            Some("jd@acme.com"),
            Some("J. Doe"),
        ),
    ];
    let groups = vec![
        Group {
            id: "dg-1".into(),
            name: "developers".into(),
            display_name: Some("Developers".into()),
            members: vec![],
        },
        Group {
            id: "dg-2".into(),
            name: "site-admins".into(),
            display_name: None,
            members: vec!["d-10".into()],
        },
    ];
    Directory::new("jira-cloud", accounts, groups).unwrap()
}

fn evidence(method: Resolution, field: &str, key: &str, note: &str) -> Evidence {
    Evidence {
        method,
        source_field: field.into(),
        destination_field: "email".into(),
        key: key.into(),
        note: note.to_string().into(),
    }
}

/// One mapping per source identity, covering every target shape, evidence, candidates and flags.
fn mappings() -> Vec<Mapping> {
    let m = |kind, source, resolution, target| Mapping {
        kind,
        source,
        resolution,
        target,
        message: String::new(),
        evidence: vec![],
        candidates: vec![],
        flags: vec![].into(),
        confidence: Confidence::CERTAIN,
    };
    use IdentityKind::{Account as A, Group as G};
    vec![
        Mapping {
            evidence: vec![
                evidence(
                    Resolution::Email,
                    "email",
                    "john.doe@acme.com",
                    "case folded",
                ),
                evidence(
                    Resolution::Email,
                    "alias_emails[0]",
                    "jd@acme.com",
                    "prefix removed; acme-corp.com treated as acme.com",
                ),
            ],
            flags: vec![Flag::LookAlike, Flag::UnverifiedEmail].into(),
            message: "matched on email".into(),
            ..m(A, 0, Resolution::Email, Some(Target::Existing { index: 0 }))
        },
        Mapping {
            evidence: vec![evidence(Resolution::Email, "email", "a.smith@acme.com", "")],
            flags: vec![Flag::Inactive].into(),
            ..m(A, 1, Resolution::Email, Some(Target::Existing { index: 1 }))
        },
        Mapping {
            message: "nothing matched".into(),
            candidates: vec![
                Candidate {
                    index: 0,
                    method: Resolution::Name,
                    reason: "same display name".into(),
                    score: Confidence::from_probability(0.62),
                },
                Candidate {
                    index: 2,
                    method: Resolution::Name,
                    reason: "same display name, «other» domain".into(),
                    score: Confidence::from_probability(0.31),
                },
            ],
            flags: vec![Flag::Ambiguous].into(),
            ..m(A, 2, Resolution::Unresolved, None)
        },
        Mapping {
            message: "partner.org is external".into(),
            ..m(A, 3, Resolution::External, Some(Target::External))
        },
        Mapping {
            flags: vec![Flag::InvalidEmail].into(),
            ..m(
                A,
                4,
                Resolution::Default,
                Some(Target::Named {
                    id: "service-account".into(),
                }),
            )
        },
        m(A, 5, Resolution::Provision, Some(Target::Provision)),
        m(G, 0, Resolution::Name, Some(Target::Existing { index: 0 })),
        Mapping {
            flags: vec![Flag::ReservedGroup].into(),
            message: "site-admins is reserved".into(),
            ..m(G, 1, Resolution::Passthrough, Some(Target::Passthrough))
        },
        m(G, 2, Resolution::Provision, Some(Target::Provision)),
    ]
}

struct Fixture {
    store: Store,
    source: Directory,
    destination: Directory,
    source_id: DirectoryId,
    destination_id: DirectoryId,
}

impl Fixture {
    async fn new(store: Store) -> Fixture {
        let source = source_directory();
        let destination = destination_directory();
        let meta = |label: &str| DirectoryMeta {
            label: label.into(),
            origin: format!("{label}.csv"),
            imported_at: 1_700_000_000,
        };
        let source_id = store
            .save_directory(&source, &meta("source"), None)
            .await
            .unwrap();
        let destination_id = store
            .save_directory(&destination, &meta("destination"), None)
            .await
            .unwrap();
        Fixture {
            store,
            source,
            destination,
            source_id,
            destination_id,
        }
    }

    fn run<'a>(
        &'a self,
        job: &'a str,
        mappings: &'a [Mapping],
        summary: &'a Summary,
        started_at: i64,
    ) -> NewRun<'a> {
        NewRun {
            job,
            source_directory: self.source_id,
            destination_directory: self.destination_id,
            policy_json: r#"{"order":["exception","id","email"]}"#,
            exceptions_json: "[]",
            started_at,
            source: &self.source,
            destination: &self.destination,
            mappings,
            summary,
            warnings: &[],
        }
    }

    async fn save(
        &self,
        job: &str,
        mappings: &[Mapping],
        started_at: i64,
    ) -> Result<RunId, StoreError> {
        let summary = Summary::of(mappings);
        self.store
            .save_run(&self.run(job, mappings, &summary, started_at), None)
            .await
    }

    /// What the report should say for these mappings, in report order.
    fn expected(&self, job: &str, mappings: &[Mapping]) -> Vec<ReportRow> {
        let mut rows: Vec<ReportRow> = mappings
            .iter()
            .map(|m| ReportRow::build(job, &self.source, &self.destination, m))
            .collect();
        rows.sort_by(|a, b| (a.kind, &a.source_id).cmp(&(b.kind, &b.source_id)));
        rows
    }
}

async fn memory_fixture() -> Fixture {
    Fixture::new(Store::open_in_memory().await.unwrap()).await
}

async fn count(path: &std::path::Path, table: &str) -> i64 {
    let url = format!("sqlite://{}", path.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    n
}

#[tokio::test]
async fn directory_round_trips_exactly() {
    let store = Store::open_in_memory().await.unwrap();
    let directory = source_directory();
    let meta = DirectoryMeta {
        label: "source".into(),
        origin: "/tmp/users.csv".into(),
        imported_at: 42,
    };
    let mut calls = Vec::new();
    let mut progress = |n: u64| calls.push(n);
    let id = store
        .save_directory(&directory, &meta, Some(&mut progress))
        .await
        .unwrap();
    assert_eq!(
        calls.last(),
        Some(&9),
        "progress ends at accounts + groups: {calls:?}"
    );
    assert_eq!(store.load_directory(id).await.unwrap(), directory);
    let info = store.directory(id).await.unwrap();
    assert_eq!(
        (
            info.name.as_str(),
            info.label.as_str(),
            info.origin.as_str()
        ),
        ("jira-server", "source", "/tmp/users.csv")
    );
    assert_eq!((info.imported_at, info.accounts, info.groups), (42, 6, 3));
    assert_eq!(store.directories().await.unwrap(), vec![info]);

    // A second save is a second snapshot.
    let again = store.save_directory(&directory, &meta, None).await.unwrap();
    assert_ne!(again, id);
    assert_eq!(store.load_directory(again).await.unwrap(), directory);

    let empty = Directory::new("empty", vec![], vec![]).unwrap();
    let id = store
        .save_directory(&empty, &DirectoryMeta::default(), None)
        .await
        .unwrap();
    assert_eq!(store.load_directory(id).await.unwrap(), empty);
}

#[tokio::test]
async fn large_directory_round_trips_across_statements() {
    let store = Store::open_in_memory().await.unwrap();
    let accounts: Vec<Account> = (0..7000)
        .map(|i| Account {
            id: format!("u{i}").into(),
            email: Some(format!("user{i}@acme.com").into()),
            alias_emails: (0..i % 3)
                .map(|k| format!("alias{k}.{i}@acme.com").into())
                .collect(),
            active: i % 2 == 0,
            email_verified: [None, Some(true), Some(false)][i % 3],
            ..Default::default()
        })
        .collect();
    let groups: Vec<Group> = (0..6000)
        .map(|i| Group {
            id: format!("g{i}").into(),
            name: format!("group {i}").into(),
            display_name: None,
            members: vec![format!("u{i}").into()],
        })
        .collect();
    let directory = Directory::new("big", accounts, groups).unwrap();
    let mut last = 0;
    let mut progress = |n: u64| {
        assert!(n >= last);
        last = n;
    };
    let id = store
        .save_directory(&directory, &DirectoryMeta::default(), Some(&mut progress))
        .await
        .unwrap();
    assert_eq!(last, 13_000);
    assert_eq!(store.load_directory(id).await.unwrap(), directory);
}

fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-zA-Z0-9.@_ -]{1,12}",
        "\\PC{0,8}",
        Just("quote\"s, 'and' \\ [json]".to_string())
    ]
}

fn arb_account() -> impl Strategy<Value = Account> {
    (
        (
            arb_text(),
            proptest::option::of(arb_text()),
            proptest::option::of(arb_text()),
        ),
        proptest::collection::vec(arb_text(), 0..3),
        (
            proptest::option::of(arb_text()),
            proptest::option::of(arb_text()),
            proptest::option::of(arb_text()),
        ),
        (
            any::<bool>(),
            proptest::option::of(arb_text()),
            proptest::option::of(any::<bool>()),
        ),
    )
        .prop_map(
            |(
                (id, username, email),
                alias_emails,
                (display_name, given_name, family_name),
                (active, source_directory, email_verified),
            )| {
                Account {
                    id: id.into(),
                    username: username.map(Into::into),
                    email: email.map(Into::into),
                    alias_emails: alias_emails.into_iter().map(Into::into).collect(),
                    display_name: display_name.map(Into::into),
                    given_name: given_name.map(Into::into),
                    family_name: family_name.map(Into::into),
                    active,
                    source_directory: source_directory.map(Into::into),
                    email_verified,
                }
            },
        )
}

fn arb_directory() -> impl Strategy<Value = Directory> {
    (
        arb_text(),
        proptest::collection::vec(arb_account(), 0..12),
        proptest::collection::vec(
            (
                arb_text(),
                proptest::option::of(arb_text()),
                proptest::collection::vec(any::<prop::sample::Index>(), 0..4),
            ),
            0..6,
        ),
    )
        .prop_map(|(name, mut accounts, groups)| {
            // Ids must be unique and non-empty: make them so while keeping the generated text.
            for (i, a) in accounts.iter_mut().enumerate() {
                a.id = format!("{i}:{}", a.id).into();
            }
            let groups = groups
                .into_iter()
                .enumerate()
                .map(|(i, (gname, display_name, members))| Group {
                    id: format!("g{i}").into(),
                    name: gname.into(),
                    display_name: display_name.map(Into::into),
                    members: if accounts.is_empty() {
                        vec![]
                    } else {
                        members
                            .iter()
                            .map(|m| accounts[m.index(accounts.len())].id.clone())
                            .collect()
                    },
                })
                .collect();
            Directory {
                name,
                accounts,
                groups,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn any_directory_round_trips(directory in arb_directory()) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let loaded = runtime.block_on(async {
            let store = Store::open_in_memory().await.unwrap();
            let id = store.save_directory(&directory, &DirectoryMeta::default(), None).await.unwrap();
            store.load_directory(id).await.unwrap()
        });
        prop_assert_eq!(loaded, directory);
    }
}

#[tokio::test]
async fn report_rows_are_report_row_build_in_report_order() {
    let f = memory_fixture().await;
    let mappings = mappings();
    let mut calls = Vec::new();
    let summary = Summary::of(&mappings);
    let mut progress = |n: u64| calls.push(n);
    let run = f
        .store
        .save_run(
            &f.run("jira", &mappings, &summary, 1000),
            Some(&mut progress),
        )
        .await
        .unwrap();
    assert_eq!(calls.last(), Some(&(mappings.len() as u64)));

    let expected = f.expected("jira", &mappings);
    assert_eq!(expected.first().unwrap().source_id, "u-001");
    assert_eq!(
        f.store.report(&ReportQuery::default()).await.unwrap(),
        expected
    );
    assert_eq!(
        f.store.report(&ReportQuery::job("jira")).await.unwrap(),
        expected
    );
    assert_eq!(
        f.store.report(&ReportQuery::run(run)).await.unwrap(),
        expected
    );
    assert_eq!(
        f.store.report_count(&ReportQuery::default()).await.unwrap(),
        9
    );

    let mut streamed = Vec::new();
    let n = f
        .store
        .report_each(&ReportQuery::default(), |row| {
            streamed.push(row);
            Ok::<_, StoreError>(())
        })
        .await
        .unwrap();
    assert_eq!((n, streamed), (9, expected.clone()));

    // A sink error stops the export and comes back as is.
    let mut seen = 0;
    let error = f
        .store
        .report_each(&ReportQuery::default(), |_| {
            seen += 1;
            if seen == 3 {
                Err(SinkError("disk full".into()))
            } else {
                Ok(())
            }
        })
        .await;
    assert_eq!(error, Err(SinkError("disk full".into())));
    assert_eq!(seen, 3);

    let info = f.store.run(run).await.unwrap();
    assert_eq!(info.summary, summary);
    assert_eq!(
        (
            info.job.as_str(),
            info.number,
            info.mappings,
            info.started_at
        ),
        ("jira", 1, 9, 1000)
    );
    assert_eq!(info.policy_json, r#"{"order":["exception","id","email"]}"#);
    assert_eq!(
        (info.source_directory, info.destination_directory),
        (f.source_id, f.destination_id)
    );
}

#[derive(Debug, PartialEq)]
struct SinkError(String);

impl From<StoreError> for SinkError {
    fn from(error: StoreError) -> SinkError {
        SinkError(error.to_string())
    }
}

#[tokio::test]
async fn report_filters_by_resolution_kind_and_pages() {
    let f = memory_fixture().await;
    let mappings = mappings();
    f.save("jira", &mappings, 1).await.unwrap();
    let all = f.expected("jira", &mappings);
    let query = |resolutions: Vec<Resolution>, kind: Option<IdentityKind>| ReportQuery {
        resolutions,
        kind,
        ..Default::default()
    };

    let email = f
        .store
        .report(&query(vec![Resolution::Email], None))
        .await
        .unwrap();
    assert_eq!(
        email,
        all.iter()
            .filter(|r| r.resolution == Resolution::Email)
            .cloned()
            .collect::<Vec<_>>()
    );
    assert_eq!(email.len(), 2);

    let provision_or_unresolved = f
        .store
        .report(&query(
            vec![Resolution::Provision, Resolution::Unresolved],
            None,
        ))
        .await
        .unwrap();
    assert_eq!(provision_or_unresolved.len(), 3);

    let groups = f
        .store
        .report(&query(vec![], Some(IdentityKind::Group)))
        .await
        .unwrap();
    assert_eq!(
        groups,
        all.iter()
            .filter(|r| r.kind == IdentityKind::Group)
            .cloned()
            .collect::<Vec<_>>()
    );

    let group_provisions = f
        .store
        .report(&query(
            vec![Resolution::Provision],
            Some(IdentityKind::Group),
        ))
        .await
        .unwrap();
    assert_eq!(
        group_provisions
            .iter()
            .map(|r| r.source_id.as_str())
            .collect::<Vec<_>>(),
        ["g-3"]
    );
    assert_eq!(
        f.store
            .report_count(&query(
                vec![Resolution::Provision],
                Some(IdentityKind::Group)
            ))
            .await
            .unwrap(),
        1
    );

    assert!(
        f.store
            .report(&query(vec![Resolution::Id], None))
            .await
            .unwrap()
            .is_empty()
    );

    let page = ReportQuery {
        limit: Some(4),
        offset: Some(3),
        ..Default::default()
    };
    assert_eq!(f.store.report(&page).await.unwrap(), all[3..7].to_vec());
    let past_end = ReportQuery {
        offset: Some(100),
        ..Default::default()
    };
    assert!(f.store.report(&past_end).await.unwrap().is_empty());
}

/// Report entries are the report's rows with each mapping's flags and confidence, and the
/// flagged filter keeps exactly the mappings with a flag, with the other filters and paging.
#[tokio::test]
async fn report_entries_carry_flags_and_confidence_and_filter_on_them() {
    let f = memory_fixture().await;
    let mappings = mappings();
    f.save("jira", &mappings, 1).await.unwrap();
    let mut expected: Vec<ReportEntry> = mappings
        .iter()
        .map(|m| ReportEntry {
            row: ReportRow::build("jira", &f.source, &f.destination, m),
            flags: m.flags.clone(),
            confidence: m.confidence,
        })
        .collect();
    expected.sort_by(|a, b| (a.row.kind, &a.row.source_id).cmp(&(b.row.kind, &b.row.source_id)));

    let entries = f
        .store
        .report_entries(&ReportQuery::default())
        .await
        .unwrap();
    assert_eq!(entries, expected);
    assert_eq!(
        entries.iter().map(|e| e.row.clone()).collect::<Vec<_>>(),
        f.store.report(&ReportQuery::default()).await.unwrap()
    );

    let flagged_query = ReportQuery {
        flagged: true,
        ..Default::default()
    };
    let flagged = f.store.report_entries(&flagged_query).await.unwrap();
    let with_flags: Vec<ReportEntry> = expected
        .iter()
        .filter(|e| !e.flags.is_empty())
        .cloned()
        .collect();
    assert_eq!(flagged, with_flags);
    assert_eq!(flagged.len(), 5);
    assert_eq!(f.store.report_count(&flagged_query).await.unwrap(), 5);
    let flagged_groups = ReportQuery {
        flagged: true,
        kind: Some(IdentityKind::Group),
        ..Default::default()
    };
    let groups = f.store.report_entries(&flagged_groups).await.unwrap();
    assert_eq!(
        groups
            .iter()
            .map(|e| e.flags.as_slice())
            .collect::<Vec<_>>(),
        [&[Flag::ReservedGroup][..]]
    );
    let page = ReportQuery {
        flagged: true,
        offset: Some(1),
        limit: Some(2),
        ..Default::default()
    };
    assert_eq!(
        f.store.report_entries(&page).await.unwrap(),
        with_flags[1..3].to_vec()
    );

    let json = serde_json::to_value(&entries[0]).unwrap();
    assert_eq!(
        json["source_id"],
        entries[0].row.source_id.as_str(),
        "the row's keys, flattened: {json}"
    );
    assert!(
        json["flags"].is_array() && json["confidence"].is_f64(),
        "{json}"
    );
}

#[tokio::test]
async fn the_report_reads_the_latest_run_unless_asked_for_another() {
    let f = memory_fixture().await;
    let first = mappings();
    let mut second = mappings();
    second[2] = Mapping {
        resolution: Resolution::Username,
        target: Some(Target::Existing { index: 2 }),
        message: "resolved by hand".into(),
        candidates: vec![],
        flags: vec![].into(),
        ..second[2].clone()
    };
    let run1 = f.save("jira", &first, 100).await.unwrap();
    let run2 = f.save("jira", &second, 200).await.unwrap();

    assert_eq!(
        f.store.report(&ReportQuery::default()).await.unwrap(),
        f.expected("jira", &second)
    );
    assert_eq!(
        f.store.report(&ReportQuery::job("jira")).await.unwrap(),
        f.expected("jira", &second)
    );
    assert_eq!(
        f.store.report(&ReportQuery::run(run1)).await.unwrap(),
        f.expected("jira", &first)
    );

    let latest = f.store.latest_run("jira").await.unwrap();
    assert_eq!(
        (latest.id, latest.number, latest.started_at),
        (run2, 2, 200)
    );
    let runs = f.store.runs(Some("jira")).await.unwrap();
    assert_eq!(
        runs.iter().map(|r| (r.id, r.number)).collect::<Vec<_>>(),
        [(run1, 1), (run2, 2)]
    );
    let jobs = f.store.jobs().await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        (jobs[0].name.as_str(), jobs[0].runs, jobs[0].latest.id),
        ("jira", 2, run2)
    );

    // The old run's details are still there.
    let old = f
        .store
        .mapping_details(run1, IdentityKind::Account, "u-002")
        .await
        .unwrap();
    assert_eq!(old.mapping.resolution, Resolution::Unresolved);
    let new = f
        .store
        .mapping_details(run2, IdentityKind::Account, "u-002")
        .await
        .unwrap();
    assert_eq!(new.mapping.resolution, Resolution::Username);
}

#[tokio::test]
async fn two_jobs_report_in_job_name_order() {
    let f = memory_fixture().await;
    let mappings = mappings();
    let zeta = f.save("zeta", &mappings[..4], 1).await.unwrap();
    let alpha = f.save("alpha", &mappings[4..], 2).await.unwrap();
    let mut expected = f.expected("alpha", &mappings[4..]);
    expected.extend(f.expected("zeta", &mappings[..4]));
    assert_eq!(
        f.store.report(&ReportQuery::default()).await.unwrap(),
        expected
    );
    assert_eq!(
        f.store.report(&ReportQuery::job("zeta")).await.unwrap(),
        f.expected("zeta", &mappings[..4])
    );

    // Paging crosses from one job to the next.
    let page = ReportQuery {
        offset: Some(4),
        limit: Some(3),
        ..Default::default()
    };
    assert_eq!(
        f.store.report(&page).await.unwrap(),
        expected[4..7].to_vec()
    );
    assert_eq!(
        f.store.report_count(&ReportQuery::default()).await.unwrap(),
        9
    );

    let jobs = f.store.jobs().await.unwrap();
    assert_eq!(
        jobs.iter()
            .map(|j| (j.name.as_str(), j.latest.id))
            .collect::<Vec<_>>(),
        [("alpha", alpha), ("zeta", zeta)]
    );
    assert_eq!(f.store.runs(None).await.unwrap().len(), 2);

    let mismatch = f
        .store
        .report(&ReportQuery {
            job: Some("alpha".into()),
            run: Some(zeta),
            ..Default::default()
        })
        .await;
    assert!(
        matches!(mismatch, Err(StoreError::RunNotInJob { .. })),
        "{mismatch:?}"
    );
}

#[tokio::test]
async fn evidence_candidates_and_flags_round_trip() {
    let f = memory_fixture().await;
    let mappings = mappings();
    let run = f.save("jira", &mappings, 1).await.unwrap();

    assert_eq!(f.store.load_mappings(run).await.unwrap(), mappings);

    let details = f
        .store
        .mapping_details(run, IdentityKind::Account, "u-003")
        .await
        .unwrap();
    assert_eq!(details.mapping, mappings[0]);
    assert_eq!(
        details.row,
        ReportRow::build("jira", &f.source, &f.destination, &mappings[0])
    );
    assert_eq!(details.mapping.confidence, Confidence::CERTAIN);
    assert_eq!(details.run, run);

    let details = f
        .store
        .mapping_details(run, IdentityKind::Account, "u-002")
        .await
        .unwrap();
    assert_eq!(details.mapping, mappings[2]);
    let named: Vec<(&str, &str, &str)> = details
        .candidates
        .iter()
        .map(|c| {
            (
                c.destination_id.as_str(),
                c.destination_username.as_str(),
                c.destination_name.as_str(),
            )
        })
        .collect();
    assert_eq!(
        named,
        [
            ("d-10", "john.doe", "john.doe@acme.com"),
            ("d-12", "john.doe2", "jd@acme.com")
        ]
    );
    assert_eq!(details.candidates[1].candidate, mappings[2].candidates[1]);

    let named = f
        .store
        .mapping_details(run, IdentityKind::Account, "u-005")
        .await
        .unwrap();
    assert_eq!(
        named.mapping.target,
        Some(Target::Named {
            id: "service-account".into()
        })
    );
    assert_eq!(named.row.destination_id, "service-account");

    let missing = f
        .store
        .mapping_details(run, IdentityKind::Group, "u-003")
        .await;
    assert!(
        matches!(missing, Err(StoreError::NoSuchMapping { number: 1, .. })),
        "{missing:?}"
    );
    assert!(
        missing
            .unwrap_err()
            .to_string()
            .starts_with("run 1 of job "),
        "the job's own run number"
    );
    let missing = f
        .store
        .mapping_details(RunId(99), IdentityKind::Account, "u-003")
        .await;
    assert!(
        matches!(missing, Err(StoreError::NoSuchRun { .. })),
        "{missing:?}"
    );
}

#[tokio::test]
async fn the_report_survives_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.crosswalk");
    let mappings = mappings();
    let (expected, run) = {
        let f = Fixture::new(Store::open(&path).await.unwrap()).await;
        let run = f.save("jira", &mappings, 7).await.unwrap();
        let expected = f.expected("jira", &mappings);
        f.store.close().await;
        (expected, run)
    };
    let store = Store::open(&path).await.unwrap();
    assert_eq!(
        store.report(&ReportQuery::default()).await.unwrap(),
        expected
    );
    assert_eq!(store.load_mappings(run).await.unwrap(), mappings);
    assert_eq!(
        store.latest_run("jira").await.unwrap().summary,
        Summary::of(&mappings)
    );
    assert_eq!(
        store.load_directory(DirectoryId(1)).await.unwrap(),
        source_directory()
    );
    let mode: String = {
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut conn)
            .await
            .unwrap()
    };
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn a_failed_save_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let f = Fixture::new(Store::open(&path).await.unwrap()).await;
    f.save("kept", &mappings(), 1).await.unwrap();

    // Enough good mappings for several INSERT statements, then one whose target is out of
    // range: it is found only after the earlier statements were written.
    let source = Directory::new(
        "many",
        (0..5000)
            .map(|i| {
                account(
                    &format!("s{i:05}"),
                    None,
                    Some(&format!("s{i}@acme.com")),
                    None,
                )
            })
            .collect(),
        vec![],
    )
    .unwrap();
    let source_id = f
        .store
        .save_directory(&source, &DirectoryMeta::default(), None)
        .await
        .unwrap();
    let before = table_counts(&path).await;
    let mut bad: Vec<Mapping> = (0..5000)
        .map(|i| Mapping {
            kind: IdentityKind::Account,
            source: i,
            resolution: Resolution::Email,
            target: Some(Target::Existing { index: i % 3 }),
            message: String::new(),
            evidence: vec![evidence(Resolution::Email, "email", "k", "")],
            candidates: vec![Candidate {
                index: 1,
                method: Resolution::Name,
                reason: "".into(),
                score: Confidence::NONE,
            }],
            flags: vec![].into(),
            confidence: Confidence::CERTAIN,
        })
        .collect();
    bad[4999].target = Some(Target::Existing { index: 3 });
    let summary = Summary::of(&bad);
    let many = |mappings| NewRun {
        source_directory: source_id,
        source: &source,
        ..f.run("failing", mappings, &summary, 2)
    };
    let mut progress_seen = 0;
    let mut progress = |n: u64| progress_seen = n;
    let error = f
        .store
        .save_run(&many(&bad), Some(&mut progress))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::IndexOutOfRange {
                position: 4999,
                side: "target",
                index: 3,
                len: 3,
                ..
            }
        ),
        "{error}"
    );
    assert!(
        progress_seen > 0,
        "the failure came after rows were written"
    );
    assert!(error.to_string().contains("Nothing was saved"), "{error}");
    assert_eq!(table_counts(&path).await, before);
    assert!(matches!(
        f.store.latest_run("failing").await,
        Err(StoreError::NoSuchJob { .. })
    ));

    // A source index out of range and a duplicate are refused too, and write nothing.
    let mut out_of_range = bad.clone();
    out_of_range[4999].target = None;
    out_of_range[10].source = 5000;
    let error = f
        .store
        .save_run(&many(&out_of_range), None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::IndexOutOfRange {
                position: 10,
                side: "source",
                ..
            }
        ),
        "{error}"
    );
    let mut duplicate = out_of_range.clone();
    duplicate[10].source = 11;
    let error = f.store.save_run(&many(&duplicate), None).await.unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::DuplicateMapping {
                first: 10,
                second: 11,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(table_counts(&path).await, before);

    // Bad JSON and a directory that is not the stored one.
    let error = f
        .store
        .save_run(
            &NewRun {
                policy_json: "{not json",
                ..f.run("x", &[], &summary, 3)
            },
            None,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::InvalidJson { what: "policy", .. }),
        "{error}"
    );
    let error = f
        .store
        .save_run(
            &NewRun {
                source_directory: f.destination_id,
                ..f.run("x", &[], &summary, 3)
            },
            None,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::DirectoryMismatch { .. }),
        "{error}"
    );
    let error = f
        .store
        .save_run(
            &NewRun {
                source_directory: DirectoryId(77),
                ..f.run("x", &[], &summary, 3)
            },
            None,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::NoSuchDirectory { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("1 (jira-server)"), "{error}");
    assert_eq!(table_counts(&path).await, before);

    // The store is still usable afterwards.
    f.save("kept", &mappings(), 4).await.unwrap();
    assert_eq!(f.store.runs(Some("kept")).await.unwrap().len(), 2);
}

/// Stores opened at once on a file that does not exist yet (each its own pool, as separate
/// processes are) all open: the schema is applied once, under SQLite's write lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn opening_a_new_store_from_many_places_at_once_is_safe() {
    for _ in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.sqlite");
        let opens = (0..8).map(|_| {
            let path = path.clone();
            tokio::spawn(async move { Store::open(&path).await })
        });
        let stores: Vec<Store> = futures_util::future::join_all(opens)
            .await
            .into_iter()
            .map(|opened| {
                opened
                    .unwrap()
                    .unwrap_or_else(|error| panic!("a concurrent open failed: {error}"))
            })
            .collect();
        for store in &stores {
            assert!(store.jobs().await.unwrap().is_empty());
            store.close().await;
        }
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let applied: Vec<i64> =
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
                .fetch_all(&mut conn)
                .await
                .unwrap();
        assert_eq!(applied, [1, 2], "each migration recorded once");
        conn.close().await.unwrap();
    }
}

/// Opening a store that is up to date takes no write lock: a report can be read while a
/// long run holds the lock to save.
#[tokio::test]
async fn opening_an_up_to_date_store_does_not_wait_for_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("busy.sqlite");
    let f = Fixture::new(Store::open(&path).await.unwrap()).await;
    f.save("wave-1", &mappings(), 4).await.unwrap();
    f.store.close().await;
    let mut writer = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut writer)
        .await
        .unwrap();
    // Without the lock-free path this waits out the 30-second busy timeout and fails.
    let store = Store::open(&path).await.unwrap();
    assert_eq!(store.latest_run("wave-1").await.unwrap().number, 1);
    store.close().await;
    sqlx::query("ROLLBACK").execute(&mut writer).await.unwrap();
    writer.close().await.unwrap();
}

/// Rows in directories, jobs, runs, mappings, evidence, candidates.
async fn table_counts(path: &std::path::Path) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "directories",
        "jobs",
        "runs",
        "mappings",
        "evidence",
        "candidates",
    ] {
        counts.push(count(path, table).await);
    }
    counts
}

#[tokio::test]
async fn errors_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();

    let junk = dir.path().join("notes.txt");
    let text = "these are not the droids you are looking for, and this is not SQLite either";
    std::fs::write(&junk, text).unwrap();
    let error = Store::open(&junk).await.unwrap_err();
    assert!(matches!(error, StoreError::NotAStore { .. }), "{error:?}");
    assert!(
        error.to_string().contains("not an SQLite database"),
        "{error}"
    );
    assert_eq!(
        std::fs::read_to_string(&junk).unwrap(),
        text,
        "the file is left alone"
    );

    let foreign = dir.path().join("other.db");
    {
        let mut conn =
            sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", foreign.display()))
                .await
                .unwrap();
        sqlx::query("CREATE TABLE invoices (id INTEGER)")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }
    let error = Store::open(&foreign).await.unwrap_err();
    assert!(matches!(error, StoreError::NotAStore { .. }), "{error:?}");
    assert!(error.to_string().contains("invoices"), "{error}");

    // The scope store shares a file with this one, and may have made it first.
    let scoped = dir.path().join("scoped.db");
    {
        let mut conn =
            sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", scoped.display()))
                .await
                .unwrap();
        sqlx::raw_sql("CREATE TABLE _crosswalk_scope_migrations (version INTEGER PRIMARY KEY); CREATE TABLE scopes (id INTEGER)")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    }
    let store = Store::open(&scoped).await.unwrap();
    assert!(store.jobs().await.unwrap().is_empty());
    store.close().await;

    let error = Store::open(dir.path()).await.unwrap_err();
    assert!(matches!(error, StoreError::CannotOpen { .. }), "{error:?}");
    let error = Store::open(dir.path().join("missing-folder/store.db"))
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::CannotOpen { .. }), "{error:?}");

    let newer = dir.path().join("newer.db");
    Store::open(&newer).await.unwrap().close().await;
    {
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", newer.display()))
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (99, 'from the future', 1, x'00', 0)",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
    }
    let error = Store::open(&newer).await.unwrap_err();
    assert!(
        matches!(error, StoreError::NewerStore { version: 99, .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("newer Crosswalk (migration 99 unknown"),
        "{error}"
    );

    let f = memory_fixture().await;
    let error = f.store.latest_run("jira").await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "no job named \"jira\"; no job has been run yet"
    );
    f.save("beta", &mappings(), 1).await.unwrap();
    f.save("alpha", &mappings(), 1).await.unwrap();
    let error = f.store.report(&ReportQuery::job("jira")).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "no job named \"jira\"; jobs in this store: alpha, beta"
    );
    let error = f.store.runs(Some("gamma")).await.unwrap_err();
    assert!(matches!(error, StoreError::NoSuchJob { .. }), "{error:?}");
    let error = f.store.run(RunId(5)).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "no run 5 in this store; runs: 2 (alpha #1), 1 (beta #1)"
    );
    let error = f.store.load_directory(DirectoryId(9)).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("directories: 1 (jira-server), 2 (jira-cloud)"),
        "{error}"
    );

    let bad = Directory {
        name: "dup".into(),
        accounts: vec![account("a", None, None, None); 2],
        groups: vec![],
    };
    let error = f
        .store
        .save_directory(&bad, &DirectoryMeta::default(), None)
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::InvalidDirectory { .. }),
        "{error:?}"
    );
}
