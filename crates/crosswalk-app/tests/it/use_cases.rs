//! The use cases end to end on the real SQLite scope store (in memory) and real files: what
//! the CLI and the server will see.

use std::path::PathBuf;
use std::sync::Arc;

use crosswalk_app::{
    App, AppError, Caller, DEFAULT_SCOPE, ErrorKind, FixedClock, InputFiles, Progress,
    ReportFilter, RunOutcome, RunRequest,
};
use crosswalk_core::{IdentityKind, Resolution};
use crosswalk_store::scope::{ChangeOrigin, Namespace, NewScope, Reason, ReportOf};
use time::macros::datetime;

const SOURCE: &str = "\
type,id,username,email,aliases,display_name,given_name,family_name,active,source_directory,email_verified,name,group,member
account,JIRAUSER1,jdoe,John.Doe@ACME.com,,John Doe,John,Doe,true,internal,,,,
account,JIRAUSER2,msmith,maria@acme-corp.com,,Maria Smith,Maria,Smith,true,ldap,,,,
account,JIRAUSER5,guest,guest@partner.example,,Guest User,,,true,internal,,,,
group,G1,,,,,,,,,,developers,,
";

const DESTINATION: &str = "\
type,id,username,email,aliases,display_name,given_name,family_name,active,source_directory,email_verified,name,group,member
account,5b10a001,,john.doe@acme.com,,John Doe,John,Doe,true,,true,,,
account,5b10a002,,maria@acme.com,,Maria Smith,Maria,Smith,true,,true,,,
group,c1,,,,,,,,,,Developers,,
";

const POLICY: &str = "\
[email]
domain_aliases = { \"acme-corp.com\" = \"acme.com\" }

[fallback]
external_domains = [\"partner.example\"]
";

struct Fixture {
    dir: tempfile::TempDir,
    app: App,
}

impl Fixture {
    async fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in [
            ("source.csv", SOURCE),
            ("destination.csv", DESTINATION),
            ("policy.toml", POLICY),
        ] {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let clock = Arc::new(FixedClock(datetime!(2026-12-05 08:00 UTC)));
        Fixture {
            dir,
            app: App::open_in_memory(clock).await.unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).unwrap();
    }

    fn files(&self) -> InputFiles {
        InputFiles {
            source: self.path("source.csv"),
            destination: self.path("destination.csv"),
            policy: Some(self.path("policy.toml")),
            exceptions: None,
            fixes: None,
            skip_invalid: false,
        }
    }

    async fn run(
        &self,
        caller: &Caller,
        scope: &str,
        job: &str,
        files: &InputFiles,
    ) -> Result<RunOutcome, AppError> {
        let input = crosswalk_app::import(files, &mut |_| {})?;
        let request = RunRequest {
            scope: scope.to_string(),
            job: Some(job.to_string()),
            input,
            force: false,
        };
        self.app.run_job(caller, request, &mut |_| {}).await
    }
}

fn cli() -> Caller {
    Caller::cli("ann")
}

fn new_scope(name: &str) -> NewScope {
    NewScope {
        name: name.to_string(),
        source_label: "jira-server https://jira.acme.local".to_string(),
        destination_label: "atlassian-cloud https://acme.atlassian.net".to_string(),
    }
}

#[tokio::test]
async fn the_first_run_creates_the_default_scope_and_an_identical_rerun_changes_nothing() {
    let fx = Fixture::new().await;
    let mut events = Vec::new();
    let input = crosswalk_app::import(&fx.files(), &mut |e| events.push(e)).unwrap();
    let request = RunRequest {
        scope: DEFAULT_SCOPE.to_string(),
        job: Some("wave-1".to_string()),
        input,
        force: false,
    };
    let first = fx
        .app
        .run_job(&cli(), request, &mut |e| events.push(e))
        .await
        .unwrap();
    assert_eq!(first.scope, "default");
    assert_eq!(first.run.number, 1);
    assert_eq!(
        (
            first.run.counts.added,
            first.run.counts.changed,
            first.run.counts.removed
        ),
        (4, 0, 0)
    );
    assert_eq!(first.run.who, "cli:ann");
    assert_eq!(first.run.started_at, datetime!(2026-12-05 08:00 UTC));
    assert!(matches!(events[0], Progress::Reading { .. }), "{events:?}");
    assert!(
        events.iter().any(|e| matches!(
            e,
            Progress::Resolving {
                source_identities: 4,
                destination_identities: 3
            }
        )),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Progress::Recording { mappings: 4 })),
        "{events:?}"
    );

    let again = fx
        .run(&cli(), DEFAULT_SCOPE, "wave-1", &fx.files())
        .await
        .unwrap();
    assert_eq!(again.run.number, 2);
    assert_eq!(again.run.counts.revisions(), 0, "{:?}", again.run.counts);
    assert_eq!(again.run.counts.unchanged, 4);
    assert_eq!(
        again.job.transfer_id, first.job.transfer_id,
        "a job keeps its transfer id"
    );
}

#[tokio::test]
async fn a_changed_input_records_exactly_what_changed_and_the_feed_returns_it_after_a_cursor() {
    let fx = Fixture::new().await;
    fx.run(&cli(), DEFAULT_SCOPE, "wave-1", &fx.files())
        .await
        .unwrap();
    let before = fx
        .app
        .changes(&cli(), DEFAULT_SCOPE, None, 100)
        .await
        .unwrap();
    assert_eq!(before.revisions.len(), 4);
    let cursor = before.cursor.to_string();

    // Maria gets an address of her own on the destination (no longer reachable by the
    // domain alias, so she is re-resolved), and the guest leaves the source.
    fx.write(
        "source.csv",
        &SOURCE.replace(
            "account,JIRAUSER5,guest,guest@partner.example,,Guest User,,,true,internal,,,,\n",
            "",
        ),
    );
    fx.write(
        "destination.csv",
        &DESTINATION.replace("maria@acme.com", "m.smith@acme.com"),
    );
    let second = fx
        .run(&cli(), DEFAULT_SCOPE, "wave-1", &fx.files())
        .await
        .unwrap();
    assert_eq!(
        (
            second.run.counts.added,
            second.run.counts.changed,
            second.run.counts.removed
        ),
        (0, 1, 1),
        "{:?}",
        second.run.counts
    );

    let after = fx
        .app
        .changes(&cli(), DEFAULT_SCOPE, Some(&cursor), 100)
        .await
        .unwrap();
    let keys: Vec<(&str, Reason)> = after
        .revisions
        .iter()
        .map(|r| (r.source_key.as_str(), r.reason))
        .collect();
    assert_eq!(
        keys,
        [
            ("JIRAUSER2", Reason::Resolution),
            ("JIRAUSER5", Reason::Removal)
        ]
    );
    assert!(
        matches!(&after.revisions[0].origin, ChangeOrigin::Run { job, run: 2, .. } if job == "wave-1")
    );

    // The current report no longer has the guest; the history still does.
    let rows = fx
        .app
        .report(
            &cli(),
            DEFAULT_SCOPE,
            &ReportOf::Scope,
            &ReportFilter::default(),
        )
        .await
        .unwrap();
    assert!(!rows.iter().any(|r| r.source_id == "JIRAUSER5"));
    let history = fx
        .app
        .history(
            &cli(),
            DEFAULT_SCOPE,
            &Namespace::identity_user(),
            "JIRAUSER5",
        )
        .await
        .unwrap();
    assert!(history.mapping.removed);
    assert_eq!(history.revisions.len(), 2);

    let error = fx
        .app
        .changes(&cli(), DEFAULT_SCOPE, Some("not-a-cursor"), 100)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Invalid);
}

#[tokio::test]
async fn a_second_job_reads_the_first_jobs_mappings_and_history_takes_alternate_keys() {
    let fx = Fixture::new().await;
    let created = fx
        .app
        .create_scope(&cli(), &new_scope("acme"))
        .await
        .unwrap();
    assert_eq!(created.created_by, "cli:ann");
    fx.run(&cli(), "acme", "wave-1", &fx.files()).await.unwrap();
    let second = fx.run(&cli(), "acme", "wave-2", &fx.files()).await.unwrap();
    assert_eq!(second.run.number, 1);
    assert_eq!(
        second.run.counts.revisions(),
        0,
        "the scope already holds these mappings"
    );

    let (scope, job) = fx
        .app
        .job_by_transfer(&cli(), second.job.transfer_id)
        .await
        .unwrap();
    assert_eq!((scope.name.as_str(), job.name.as_str()), ("acme", "wave-2"));
    let rows = fx
        .app
        .report(&cli(), "acme", &ReportOf::Scope, &ReportFilter::default())
        .await
        .unwrap();
    assert_eq!(rows.len(), 4);

    // By username, by address, and by Jira's prefixed form: the same mapping.
    for key in [
        "JIRAUSER1",
        "jdoe",
        "john.doe@acme.com",
        "jira.userkey/JIRAUSER1",
    ] {
        let history = fx
            .app
            .history(&cli(), "acme", &Namespace::identity_user(), key)
            .await
            .unwrap();
        assert_eq!(history.mapping.source_key, "JIRAUSER1", "{key}");
    }
    let explained = fx
        .app
        .explain(&cli(), "acme", None, IdentityKind::Account, "msmith")
        .await
        .unwrap();
    assert_eq!(explained.value.resolution, "Email");
    assert_eq!(explained.value.destination.id, "5b10a002");
    assert!(!explained.value.evidence.is_empty());

    let filter = ReportFilter {
        resolutions: vec![Resolution::External],
        ..ReportFilter::default()
    };
    let rows = fx
        .app
        .report(&cli(), "acme", &ReportOf::Job("wave-1".into()), &filter)
        .await
        .unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| r.source_id.as_str())
            .collect::<Vec<_>>(),
        ["JIRAUSER5"]
    );
    let error = fx
        .app
        .report(&cli(), "acme", &ReportOf::Job("wave-9".into()), &filter)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert!(
        error.message().contains("\"wave-1\""),
        "names the jobs there are: {error}"
    );
}

#[tokio::test]
async fn a_caller_bound_to_one_scope_never_reaches_another() {
    let fx = Fixture::new().await;
    fx.app
        .create_scope(&cli(), &new_scope("acme"))
        .await
        .unwrap();
    fx.app
        .create_scope(&cli(), &new_scope("globex"))
        .await
        .unwrap();
    let globex_run = fx
        .run(&cli(), "globex", "wave-1", &fx.files())
        .await
        .unwrap();

    let token = Caller::scoped("token:acme-app", "api", "acme", true).unwrap();
    let visible: Vec<String> = fx
        .app
        .scopes(&token)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(visible, ["acme"]);
    let forbidden = [
        fx.app.scope(&token, "globex").await.err(),
        fx.app.jobs(&token, "globex").await.err(),
        fx.app
            .report(&token, "globex", &ReportOf::Scope, &ReportFilter::default())
            .await
            .err(),
        fx.app.changes(&token, "globex", None, 10).await.err(),
        fx.app
            .history(&token, "globex", &Namespace::identity_user(), "JIRAUSER1")
            .await
            .err(),
        fx.run(&token, "globex", "wave-2", &fx.files()).await.err(),
        fx.app
            .create_scope(&token, &new_scope("initech"))
            .await
            .err(),
    ];
    for error in forbidden {
        assert_eq!(error.expect("refused").kind(), ErrorKind::Forbidden);
    }
    // A transfer id of a scope it cannot see reads as unknown.
    let error = fx
        .app
        .job_by_transfer(&token, globex_run.job.transfer_id)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);

    let reader = Caller::scoped("token:acme-report", "api", "acme", false).unwrap();
    assert!(fx.app.jobs(&reader, "acme").await.is_ok());
    assert_eq!(
        fx.run(&reader, "acme", "wave-1", &fx.files())
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Forbidden
    );
}

#[tokio::test]
async fn a_scope_other_than_default_must_exist_and_names_are_checked() {
    let fx = Fixture::new().await;
    let error = fx
        .run(&cli(), "acme", "wave-1", &fx.files())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert!(
        error.message().contains("crosswalk scope create acme"),
        "{error}"
    );
    assert!(
        fx.app.scopes(&cli()).await.unwrap().is_empty(),
        "nothing was created"
    );

    fx.app
        .create_scope(&cli(), &new_scope("acme"))
        .await
        .unwrap();
    assert_eq!(
        fx.app
            .create_scope(&cli(), &new_scope("acme"))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Conflict
    );
    assert_eq!(
        fx.app
            .create_scope(&cli(), &new_scope("  "))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Invalid
    );
    assert_eq!(
        fx.run(&cli(), "acme", "bad\u{7}job", &fx.files())
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Invalid
    );
    assert_eq!(
        fx.app.jobs(&cli(), "nope").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn an_exceptions_file_versions_the_scopes_rules_and_a_run_without_one_keeps_them() {
    let fx = Fixture::new().await;
    fx.write(
        "exceptions.csv",
        "type,source,destination\naccount,id:JIRAUSER5,email:maria@acme.com\n",
    );
    let files = InputFiles {
        exceptions: Some(fx.path("exceptions.csv")),
        ..fx.files()
    };
    let first = fx
        .run(&cli(), DEFAULT_SCOPE, "wave-1", &files)
        .await
        .unwrap();
    assert_eq!(first.exceptions_version, 1);
    assert_eq!(first.run.exceptions_version, 1);
    let guest = fx
        .app
        .explain(
            &cli(),
            DEFAULT_SCOPE,
            None,
            IdentityKind::Account,
            "JIRAUSER5",
        )
        .await
        .unwrap();
    assert_eq!(guest.value.resolution, "Exception");

    // The same file again: the same version, nothing changes.
    let again = fx
        .run(&cli(), DEFAULT_SCOPE, "wave-1", &files)
        .await
        .unwrap();
    assert_eq!(
        (again.exceptions_version, again.run.counts.revisions()),
        (1, 0)
    );
    // No file: the scope's rules still apply.
    let without = fx
        .run(&cli(), DEFAULT_SCOPE, "wave-1", &fx.files())
        .await
        .unwrap();
    assert_eq!(
        (without.exceptions_version, without.run.counts.revisions()),
        (1, 0)
    );
    // An empty file removes the rule: a new version, and the guest goes back to External.
    fx.write("exceptions.csv", "type,source,destination\n");
    let emptied = fx
        .run(&cli(), DEFAULT_SCOPE, "wave-1", &files)
        .await
        .unwrap();
    assert_eq!(emptied.exceptions_version, 2);
    // Two changes: the guest, and Maria, whose address led to the account the rule gave
    // the guest (two claims on one destination link neither) and now links her again.
    assert_eq!(emptied.run.counts.changed, 2);
    let maria = fx
        .app
        .explain(
            &cli(),
            DEFAULT_SCOPE,
            None,
            IdentityKind::Account,
            "JIRAUSER2",
        )
        .await
        .unwrap();
    assert_eq!(
        (
            maria.value.resolution.as_str(),
            maria.value.destination.id.as_str()
        ),
        ("Email", "5b10a002")
    );
    let guest = fx
        .app
        .history(
            &cli(),
            DEFAULT_SCOPE,
            &Namespace::identity_user(),
            "JIRAUSER5",
        )
        .await
        .unwrap();
    assert_eq!(
        guest.revisions.last().unwrap().reason,
        Reason::Exception,
        "a change away from an exception"
    );
}

#[tokio::test]
async fn bad_input_is_refused_with_its_location_and_nothing_is_stored() {
    let fx = Fixture::new().await;
    fx.write(
        "source.csv",
        &format!("{SOURCE}account,JIRAUSER9,x,not-an-address,,,,,maybe,,,,,\n"),
    );
    let error = crosswalk_app::import(&fx.files(), &mut |_| {}).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Invalid);
    assert!(error.message().contains("source.csv:6"), "{error}");
    assert!(fx.app.scopes(&cli()).await.unwrap().is_empty());
}

#[tokio::test]
async fn purge_says_what_it_would_remove_and_keeps_everything_by_default() {
    let fx = Fixture::new().await;
    fx.run(&cli(), DEFAULT_SCOPE, "wave-1", &fx.files())
        .await
        .unwrap();
    fx.write(
        "source.csv",
        &SOURCE.replace(
            "account,JIRAUSER5,guest,guest@partner.example,,Guest User,,,true,internal,,,,\n",
            "",
        ),
    );
    fx.run(&cli(), DEFAULT_SCOPE, "wave-1", &fx.files())
        .await
        .unwrap();
    let report = fx
        .app
        .purge(&cli(), DEFAULT_SCOPE, &Namespace::identity_user(), false)
        .await
        .unwrap();
    assert!(
        report.removed.is_empty(),
        "retention is forever unless set: {report:?}"
    );
    let history = fx
        .app
        .history(
            &cli(),
            DEFAULT_SCOPE,
            &Namespace::identity_user(),
            "JIRAUSER5",
        )
        .await
        .unwrap();
    assert!(history.mapping.removed);
}

/// A server holds the App as shared state and awaits use cases on its runtime's threads:
/// their futures must be Send, and the App Send + Sync + Clone.
#[tokio::test]
async fn use_case_futures_are_send_and_the_app_can_be_shared() {
    fn send<T: Send>(_: &T) {}
    fn shared<T: Send + Sync + Clone + 'static>() {}
    shared::<App>();
    let app = App::open_in_memory(Arc::new(FixedClock(datetime!(2026-12-05 08:00 UTC))))
        .await
        .unwrap();
    let caller = cli();
    send(&app.scopes(&caller));
    send(&app.report(&caller, "s", &ReportOf::Scope, &ReportFilter::default()));
    send(&app.changes(&caller, "s", None, 10));
    send(&app.purge(&caller, "s", &Namespace::identity_user(), true));
    let mut sink = |_: Progress| {};
    let input = crosswalk_app::JobInput {
        source: crosswalk_formats::Imported {
            directory: crosswalk_core::Directory {
                name: "s".into(),
                ..Default::default()
            },
            skipped: Vec::new(),
            warnings: Vec::new(),
        },
        source_origin: String::new(),
        destination: crosswalk_formats::Imported {
            directory: crosswalk_core::Directory {
                name: "d".into(),
                ..Default::default()
            },
            skipped: Vec::new(),
            warnings: Vec::new(),
        },
        destination_origin: String::new(),
        policy: crosswalk_core::Policy::default(),
        exceptions: None,
        fixes: None,
        handling: Default::default(),
    };
    send(&app.run_job(
        &caller,
        RunRequest {
            scope: "s".into(),
            job: None,
            input,
            force: false,
        },
        &mut sink,
    ));
}

#[tokio::test]
async fn app_mappings_are_written_by_callers_with_revisions_and_found_in_batches() {
    let fx = Fixture::new().await;
    fx.app
        .create_scope(&cli(), &new_scope("acme"))
        .await
        .unwrap();
    fx.run(&cli(), "acme", "wave-1", &fx.files()).await.unwrap();
    let pages = Namespace::parse("confluence:page").unwrap();
    let app = Caller::scoped("token:cmj", "confluence-migration", "acme", true).unwrap();

    let first = fx
        .app
        .set_app_mapping(&app, "acme", &pages, "1001", "cloud-5001")
        .await
        .unwrap()
        .expect("a revision");
    assert_eq!(
        (first.who.as_str(), first.reason),
        ("token:cmj", Reason::Manual)
    );
    assert!(
        matches!(&first.origin, ChangeOrigin::Caller { caller } if caller == "confluence-migration")
    );
    assert!(
        fx.app
            .set_app_mapping(&app, "acme", &pages, "1001", "cloud-5001")
            .await
            .unwrap()
            .is_none(),
        "same value, no revision"
    );
    fx.app
        .set_app_mapping(&app, "acme", &pages, "1002", "cloud-5002")
        .await
        .unwrap();
    assert!(
        fx.app
            .delete_app_mapping(&app, "acme", &pages, "1002")
            .await
            .unwrap()
            .is_some()
    );

    let page = fx
        .app
        .mappings(&app, "acme", &pages, None, 10)
        .await
        .unwrap();
    let keys: Vec<(&str, bool)> = page
        .mappings
        .iter()
        .map(|m| (m.source_key.as_str(), m.removed))
        .collect();
    assert_eq!(keys, [("1001", false), ("1002", true)]);
    assert!(page.last_page);

    let answers = fx
        .app
        .find(
            &app,
            "acme",
            &Namespace::identity_user(),
            &["jira.username/jdoe".into(), "nobody".into()],
        )
        .await
        .unwrap();
    assert_eq!(answers.len(), 2);
    assert!(
        matches!(&answers[0].outcome, crosswalk_store::scope::FindOutcome::Found { mapping, .. } if mapping.source_key == "JIRAUSER1")
    );
    assert!(matches!(
        answers[1].outcome,
        crosswalk_store::scope::FindOutcome::NotFound
    ));

    // Identity namespaces are the runs' to write; a read-only caller writes nothing.
    let error = fx
        .app
        .set_app_mapping(
            &cli(),
            "acme",
            &Namespace::identity_user(),
            "JIRAUSER1",
            "x",
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Invalid);
    let reader = app.clone().read_only();
    assert_eq!(
        fx.app
            .set_app_mapping(&reader, "acme", &pages, "1003", "x")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Forbidden
    );
    assert_eq!(
        fx.app
            .find(&reader, "acme", &pages, &[])
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Invalid
    );
    assert_eq!(
        fx.app
            .mappings(&reader, "acme", &pages, None, 0)
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Invalid
    );
}

#[tokio::test]
async fn a_streamed_report_filters_as_it_reads_and_a_sink_that_stops_is_told_apart() {
    let fx = Fixture::new().await;
    fx.run(&cli(), DEFAULT_SCOPE, "wave-1", &fx.files())
        .await
        .unwrap();
    let mut ids = Vec::new();
    let filter = ReportFilter {
        kind: Some(IdentityKind::Account),
        ..ReportFilter::default()
    };
    let mut sink = |row: crosswalk_core::ReportRow| {
        ids.push(row.source_id);
        Ok(())
    };
    let count = fx
        .app
        .report_each(&cli(), DEFAULT_SCOPE, &ReportOf::Scope, &filter, &mut sink)
        .await
        .unwrap();
    assert_eq!(count, 4, "every row read");
    assert_eq!(
        ids,
        ["JIRAUSER1", "JIRAUSER2", "JIRAUSER5"],
        "the accounts handed over, in order"
    );

    let mut closed =
        |_: crosswalk_core::ReportRow| Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
    let stop = fx
        .app
        .report_each(
            &cli(),
            DEFAULT_SCOPE,
            &ReportOf::Scope,
            &filter,
            &mut closed,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(stop, crosswalk_app::ReportStop::Sink(ref e) if e.kind() == std::io::ErrorKind::BrokenPipe),
        "{stop:?}"
    );
    let mut never = |_: crosswalk_core::ReportRow| Ok(());
    let stop = fx
        .app
        .report_each(&cli(), "nope", &ReportOf::Scope, &filter, &mut never)
        .await
        .unwrap_err();
    assert!(
        matches!(stop, crosswalk_app::ReportStop::App(ref e) if e.kind() == ErrorKind::NotFound),
        "{stop:?}"
    );
}

/// The stored decision explains itself as the engine's own mapping did when it was made:
/// on the bundled samples, which plant every resolution, look-alikes, candidates and exceptions.
#[tokio::test]
async fn the_stored_explanation_reads_as_the_engines() {
    let fx = Fixture::new().await;
    let samples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../samples");
    let files = InputFiles {
        source: samples.join("server-directory.json"),
        destination: samples.join("cloud-directory.csv"),
        policy: Some(samples.join("policy.toml")),
        exceptions: Some(samples.join("exceptions.csv")),
        fixes: None,
        skip_invalid: false,
    };
    fx.run(&cli(), DEFAULT_SCOPE, "demo", &files).await.unwrap();
    let input = crosswalk_app::import(&files, &mut |_| {}).unwrap();
    // The rules as the scope holds them, which is what a run resolves with.
    let rules: Vec<crosswalk_core::ExceptionRule> = input
        .exceptions
        .as_deref()
        .unwrap()
        .iter()
        .map(|rule| crosswalk_app::run::rule_from_row(&crosswalk_app::run::row_from_rule(rule)))
        .collect();
    let (source, destination) = (&input.source.directory, &input.destination.directory);
    let resolved = crosswalk_core::resolve(source, destination, &input.policy, &rules);
    let mut with_candidates = 0;
    for mapping in &resolved.mappings {
        let id = match mapping.kind {
            IdentityKind::Account => source.accounts[mapping.source as usize].id.to_string(),
            IdentityKind::Group => source.groups[mapping.source as usize].id.to_string(),
        };
        let explained = fx
            .app
            .explain(&cli(), DEFAULT_SCOPE, None, mapping.kind, &id)
            .await
            .unwrap();
        assert_eq!(
            explained.in_short(),
            mapping.explanation(),
            "{} {id}",
            mapping.kind
        );
        with_candidates += usize::from(!mapping.candidates.is_empty());
    }
    assert!(
        resolved.mappings.len() > 40 && with_candidates > 2,
        "the samples plant candidates"
    );
}

const DUPLICATES: &str = "\
type,id,username,email,aliases,display_name,given_name,family_name,active,source_directory,email_verified,name,group,member
account,JIRAUSER1,jdoe,John.Doe@ACME.com,,John Doe,John,Doe,true,internal,,,,
account,JIRAUSER7,pat,pat@acme.com,,Pat Lee,Pat,Lee,true,internal,,,,
account,JIRAUSER8,plee,PAT@acme.com,,Pat Lee,Pat,Lee,true,ldap,,,,
";

const FIXES_HEADER: &str =
    "UserKey,UserName,ErrorType,OldEmail,NewEmail,Tombstone,AccountType,Exclude,MergeInto\n";

#[tokio::test]
async fn a_wave_switching_duplicate_handling_is_refused_unless_forced_and_the_switch_is_recorded() {
    let fx = Fixture::new().await;
    fx.write("dupes.csv", DUPLICATES);
    fx.write("merge.csv", &format!("{FIXES_HEADER}JIRAUSER8,plee,DUPLICATE_EMAIL,PAT@acme.com,,false,account,false,JIRAUSER7\n"));
    fx.write("reemail.csv", &format!("{FIXES_HEADER}JIRAUSER8,plee,DUPLICATE_EMAIL,PAT@acme.com,pat.lee@acme.com,false,account,false,\n"));
    let files = |fixes: &str| InputFiles {
        source: fx.path("dupes.csv"),
        fixes: Some(fx.path(fixes)),
        ..fx.files()
    };
    let scope = NewScope {
        name: "acme".into(),
        source_label: "jira-server https://jira".into(),
        destination_label: "cloud".into(),
    };
    fx.app.create_scope(&cli(), &scope).await.unwrap();

    let first = fx
        .run(&cli(), "acme", "wave-1", &files("merge.csv"))
        .await
        .unwrap();
    assert_eq!(
        first.summary.accounts, 2,
        "the merged account is not migrated itself"
    );
    let overview = fx.app.scope(&cli(), "acme").await.unwrap();
    let chosen: Vec<(&str, String)> = overview
        .identity_choices
        .iter()
        .map(|c| (c.source_key.as_str(), format!("{:?}", c.handling)))
        .collect();
    assert_eq!(
        chosen,
        [
            ("JIRAUSER7", "Keep".to_string()),
            ("JIRAUSER8", "Merge { into: \"JIRAUSER7\" }".to_string())
        ]
    );

    // The same choice in a second wave is no switch.
    fx.run(&cli(), "acme", "wave-2", &files("merge.csv"))
        .await
        .unwrap();

    // Re-emailing the merged account now would make a second account for Pat.
    let input = crosswalk_app::import(&files("reemail.csv"), &mut |_| {}).unwrap();
    let planned = fx
        .app
        .plan(&cli(), "acme", Some("wave-3"), &input)
        .await
        .unwrap();
    assert_eq!(
        planned.refused_switches.len(),
        1,
        "the dry run says a run would be refused: {planned:?}"
    );
    let refused = fx
        .run(&cli(), "acme", "wave-3", &files("reemail.csv"))
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Conflict);
    let message = refused.message();
    assert!(
        message.contains("JIRAUSER8: merged into JIRAUSER7 (job \"wave-1\" run 1, by cli:ann at 2026-12-05T08:00:00Z); now given the new email pat.lee@acme.com"),
        "{message}"
    );
    assert!(
        message.contains("--force"),
        "says how to go ahead anyway: {message}"
    );
    assert!(
        fx.app
            .runs(&cli(), "acme", Some("wave-3"))
            .await
            .unwrap()
            .is_empty(),
        "nothing was run"
    );

    let input = crosswalk_app::import(&files("reemail.csv"), &mut |_| {}).unwrap();
    let forced = fx
        .app
        .run_job(
            &Caller::cli("bo"),
            RunRequest {
                scope: "acme".into(),
                job: Some("wave-3".into()),
                input,
                force: true,
            },
            &mut |_| {},
        )
        .await
        .unwrap();
    assert!(
        forced.warnings[0].starts_with("duplicate handling switched by cli:bo at 2026-12-05T08:00:00Z (forced): JIRAUSER8: merged into JIRAUSER7 before"),
        "{:?}",
        forced.warnings
    );
    let overview = fx.app.scope(&cli(), "acme").await.unwrap();
    let switch = &overview.choice_switches[0];
    assert_eq!(
        (
            switch.source_key.as_str(),
            switch.forced,
            switch.who.as_str(),
            switch.job.as_str()
        ),
        ("JIRAUSER8", true, "cli:bo", "wave-3")
    );
    assert_eq!(switch.at, datetime!(2026-12-05 08:00 UTC));
}
