//! What the use cases announce (issue 21): the events the outbox holds after each, with the
//! payloads a receiver reads, on the real SQLite store.

use std::sync::Arc;

use crosswalk_app::{App, Caller, Decision, FixedClock, InputFiles, RunRequest};
use crosswalk_events::{Event, EventFilter, EventPayload, EventType, ReviewDecision, TargetPolicy};
use crosswalk_store::scope::{Namespace, NewScope};
use time::macros::datetime;

const SOURCE: &str = "\
type,id,username,email,aliases,display_name,given_name,family_name,active,source_directory,email_verified,name,group,member
account,JIRAUSER1,jdoe,John.Doe@acme.com,,John Doe,John,Doe,true,internal,,,,
account,JIRAUSER7,nobody,nobody@acme.com,,No Body,,,true,internal,,,,
";

const DESTINATION: &str = "\
type,id,username,email,aliases,display_name,given_name,family_name,active,source_directory,email_verified,name,group,member
account,5b10a001,,john.doe@acme.com,,John Doe,John,Doe,true,,true,,,
account,5b10a009,,other@acme.com,,Other,,,true,,true,,,
";

async fn events(app: &App, caller: &Caller) -> Vec<Event> {
    app.outbox(caller, "acme", 0, 1000)
        .await
        .unwrap()
        .iter()
        .map(|row| Event::from_body(row.body.as_bytes()).unwrap())
        .collect()
}

#[tokio::test]
async fn runs_exceptions_decisions_and_app_writes_announce_what_they_committed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("source.csv"), SOURCE).unwrap();
    std::fs::write(dir.path().join("destination.csv"), DESTINATION).unwrap();
    let app = App::open_in_memory(Arc::new(FixedClock(datetime!(2026-12-05 08:00 UTC))))
        .await
        .unwrap();
    let caller = Caller::cli("ann");
    let scope = NewScope {
        name: "acme".into(),
        source_label: "jira-server x".into(),
        destination_label: "cloud".into(),
    };
    app.create_scope(&caller, &scope).await.unwrap();
    // A subscription to mappings only; loopback is refused unless allowed.
    let policy = TargetPolicy::default();
    assert!(
        app.add_webhook(
            &caller,
            "acme",
            "http://127.0.0.1:9/x",
            &EventFilter::all(),
            &policy
        )
        .await
        .is_err()
    );
    let made = app
        .add_webhook(
            &caller,
            "acme",
            "https://hooks.example.com/x",
            &EventFilter::only([EventType::MappingsChanged]),
            &policy,
        )
        .await
        .unwrap();
    assert!(made.secret.starts_with("whsec_"));
    assert!(
        !serde_json::to_string(&app.webhooks(&caller, "acme").await.unwrap())
            .unwrap()
            .contains(&made.secret),
        "listed without its secret"
    );

    let files = InputFiles {
        source: dir.path().join("source.csv"),
        destination: dir.path().join("destination.csv"),
        policy: None,
        exceptions: None,
        fixes: None,
        skip_invalid: false,
    };
    let run = |job: &'static str| {
        let input = crosswalk_app::import(&files, &mut |_| {}).unwrap();
        let request = RunRequest {
            scope: "acme".into(),
            job: Some(job.into()),
            input,
            force: false,
        };
        let app = app.clone();
        let caller = caller.clone();
        async move { app.run_job(&caller, request, &mut |_| {}).await.unwrap() }
    };
    let first = run("wave-1").await;
    let all = events(&app, &caller).await;
    let types: Vec<EventType> = all.iter().map(Event::event_type).collect();
    assert_eq!(
        types,
        [
            EventType::JobStarted,
            EventType::MappingsChanged,
            EventType::JobCompleted
        ]
    );
    let feed = app.changes(&caller, "acme", None, 100).await.unwrap();
    match (&all[1].payload, &all[2].payload) {
        (EventPayload::MappingsChanged(changed), EventPayload::JobCompleted(completed)) => {
            assert_eq!(changed.changes, 2);
            assert_eq!(format!("r{}", changed.to_cursor), feed.cursor.to_string());
            assert_eq!(
                (changed.job.as_deref(), changed.run),
                (Some("wave-1"), Some(1))
            );
            assert_eq!(
                (
                    completed.transfer_id,
                    completed.run,
                    completed.changes.created
                ),
                (first.job.transfer_id, 1, 2)
            );
            assert_eq!(
                (
                    completed.summary.accounts,
                    completed.summary.linked,
                    completed.summary.unresolved
                ),
                (2, 1, 1)
            );
            assert_eq!(completed.cursor, changed.to_cursor);
        }
        other => panic!("{other:?}"),
    }

    // Deciding the unresolved one: the exception, the decision, then the job's run again.
    let users = Namespace::identity_user();
    app.resolve_mapping(&caller, "acme", &users, "JIRAUSER7", &Decision::Provision)
        .await
        .unwrap();
    let after: Vec<EventType> = events(&app, &caller).await[3..]
        .iter()
        .map(Event::event_type)
        .collect();
    assert_eq!(
        after,
        [
            EventType::ExceptionRecorded,
            EventType::ReviewDecided,
            EventType::JobStarted,
            EventType::MappingsChanged,
            EventType::JobCompleted
        ]
    );
    let decided = events(&app, &caller).await.remove(4);
    assert!(
        matches!(&decided.payload, EventPayload::ReviewDecided(d) if d.decision == ReviewDecision::Provision && d.source_key == "JIRAUSER7")
    );

    // An app write announces its one revision; deliveries go to the subscription's type only.
    app.set_app_mapping(
        &caller,
        "acme",
        &Namespace::parse("jira:issue").unwrap(),
        "ISSUE-1",
        "10001",
    )
    .await
    .unwrap();
    assert_eq!(
        events(&app, &caller).await.last().unwrap().event_type(),
        EventType::MappingsChanged
    );
    let deliveries = app
        .webhook_deliveries(&caller, "acme", None, None, 100)
        .await
        .unwrap();
    assert_eq!(deliveries.len(), 3);
    assert!(
        deliveries
            .iter()
            .all(|d| d.event_type == "mappings.changed")
    );

    // A caller bound to another scope learns nothing of this one's webhooks.
    let other = Caller::scoped("token:x", "api", "globex", true).unwrap();
    assert!(app.webhooks(&other, "acme").await.is_err());
    assert!(
        app.add_webhook(
            &other,
            "acme",
            "https://hooks.example.com/y",
            &EventFilter::all(),
            &policy
        )
        .await
        .is_err()
    );
}
