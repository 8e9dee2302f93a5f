//! The event JSON a receiver reads: stable names, the envelope, the documented examples,
//! and the OpenAPI schema the server will publish.

use std::collections::BTreeMap;

use crosswalk_events::{
    ChangeCounts, Event, EventFilter, EventPayload, EventType, ExceptionRecorded, JobCompleted,
    JobFailed, JobStarted, JobSummary, MappingsChanged, PurgedNamespace, RetentionPurged,
    ReviewDecided, ReviewDecision, ScimGroupConflict,
};
use proptest::prelude::*;
use serde_json::{Value, json};
use time::macros::datetime;
use uuid::Uuid;

use crate::docs_webhooks;

fn transfer() -> Uuid {
    Uuid::parse_str("2f8e4c1a-9b7d-4e3f-a6c5-1d2b3e4f5a6b").unwrap()
}

/// One payload of every type.
pub(crate) fn one_of_each() -> Vec<EventPayload> {
    let conflict = ScimGroupConflict {
        conflict_id: "17".into(),
        group: "jira-developers".into(),
        group_id: None,
        members_added: 4,
        members_removed: 19,
        decided_by: Some("token:alice".into()),
    };
    vec![
        EventPayload::JobStarted(JobStarted {
            job: "wave-1".into(),
            transfer_id: transfer(),
            run: 3,
            actor: "cli".into(),
        }),
        EventPayload::JobCompleted(JobCompleted {
            job: "wave-1".into(),
            transfer_id: transfer(),
            run: 3,
            actor: "cli".into(),
            summary: JobSummary {
                accounts: 10,
                groups: 2,
                linked: 7,
                created: 1,
                unresolved: 4,
                ambiguous: 1,
                flagged: 2,
            },
            changes: ChangeCounts {
                created: 1,
                changed: 2,
                removed: 0,
            },
            cursor: 48213,
        }),
        EventPayload::JobFailed(JobFailed {
            job: "wave-2".into(),
            transfer_id: transfer(),
            run: None,
            actor: "cli".into(),
            error: "source.csv:7: field \"active\": expected true or false".into(),
        }),
        EventPayload::MappingsChanged(MappingsChanged {
            from_cursor: 48169,
            to_cursor: 48213,
            changes: 44,
            namespaces: BTreeMap::from([
                ("identity:user".into(), 42),
                ("identity:group".into(), 2),
            ]),
            affected_items: Some(1873),
            job: Some("wave-1".into()),
            run: Some(3),
            actor: "cli".into(),
        }),
        EventPayload::ExceptionRecorded(ExceptionRecorded {
            version: 7,
            change: "added account jdoe".into(),
            actor: "token:alice".into(),
        }),
        EventPayload::ReviewDecided(ReviewDecided {
            namespace: "identity:user".into(),
            source_key: "JIRAUSER10042".into(),
            decision: ReviewDecision::FormerUser,
            destination: None,
            affected_items: None,
            actor: "token:alice".into(),
        }),
        EventPayload::ScimGroupConflictHeld(ScimGroupConflict {
            decided_by: None,
            ..conflict.clone()
        }),
        EventPayload::ScimGroupConflictAccepted(conflict.clone()),
        EventPayload::ScimGroupConflictRejected(conflict),
        EventPayload::RetentionPurged(RetentionPurged {
            namespaces: vec![PurgedNamespace {
                namespace: "jira:issue".into(),
                retention_days: 730,
                cutoff: datetime!(2024-06-01 02:00 UTC),
                revisions: 5120,
                mappings: 33,
            }],
            actor: "token:ops".into(),
        }),
    ]
}

#[test]
fn every_type_has_a_payload_and_a_stable_name() {
    let payloads = one_of_each();
    let types: Vec<EventType> = payloads.iter().map(EventPayload::event_type).collect();
    assert_eq!(
        types,
        EventType::ALL,
        "one example per type, in ALL's order"
    );
    let names: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
    // The wire names are the protocol: changing one breaks every receiver.
    assert_eq!(
        names,
        [
            "job.started",
            "job.completed",
            "job.failed",
            "mappings.changed",
            "exception.recorded",
            "review.decided",
            "scim.group_conflict.held",
            "scim.group_conflict.accepted",
            "scim.group_conflict.rejected",
            "retention.purged",
        ]
    );
    for name in names {
        // Standard Webhooks: full-stop delimited identifiers of [a-zA-Z0-9_].
        assert!(
            name.split('.').all(|part| !part.is_empty()
                && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        );
        let event_type: EventType = name.parse().unwrap();
        assert_eq!(event_type.as_str(), name);
        assert_eq!(
            serde_json::to_value(event_type).unwrap(),
            name,
            "serde and as_str agree"
        );
        assert_eq!(
            serde_json::from_value::<EventType>(json!(name)).unwrap(),
            event_type
        );
    }
}

#[test]
fn the_body_is_the_envelope_with_the_type_from_the_payload() {
    let time = datetime!(2026-05-04 12:15:00 +02:00);
    for payload in one_of_each() {
        let event = Event::new("acme", time, payload.clone());
        let body = event.to_body().unwrap();
        let value: Value = serde_json::from_str(&body).unwrap();
        let object = value.as_object().unwrap();
        let keys: Vec<&str> = object.keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 5, "{body}");
        for key in ["messageId", "type", "scope", "time", "data"] {
            assert!(object.contains_key(key), "{key} missing in {body}");
        }
        assert_eq!(value["type"], payload.event_type().as_str());
        assert_eq!(value["scope"], "acme");
        // Kept in UTC, written RFC 3339.
        assert_eq!(value["time"], "2026-05-04T10:15:00Z");
        assert_eq!(value["messageId"], event.message_id.to_string());
        assert!(!body.contains('\n'), "compact JSON");
        assert_eq!(
            Event::from_body(body.as_bytes()).unwrap(),
            event,
            "round trip"
        );
    }
}

#[test]
fn message_ids_are_unique_uuids() {
    let time = datetime!(2026-05-04 10:15 UTC);
    let payload = one_of_each().remove(0);
    let ids: std::collections::HashSet<Uuid> = (0..1000)
        .map(|_| Event::new("acme", time, payload.clone()).message_id)
        .collect();
    assert_eq!(ids.len(), 1000);
    assert!(ids.iter().all(|id| id.get_version_num() == 4));
}

#[test]
fn payload_fields_are_camel_case_and_optional_ones_are_left_out() {
    let time = datetime!(2026-05-04 10:15 UTC);
    let payloads = one_of_each();
    let completed: Value = serde_json::from_str(
        &Event::new("acme", time, payloads[1].clone())
            .to_body()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        completed["data"],
        json!({
            "job": "wave-1",
            "transferId": "2f8e4c1a-9b7d-4e3f-a6c5-1d2b3e4f5a6b",
            "run": 3,
            "actor": "cli",
            "summary": {"accounts": 10, "groups": 2, "linked": 7, "created": 1,
                        "unresolved": 4, "ambiguous": 1, "flagged": 2},
            "changes": {"created": 1, "changed": 2, "removed": 0},
            "cursor": 48213
        })
    );
    let changed: Value = serde_json::from_str(
        &Event::new("acme", time, payloads[3].clone())
            .to_body()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(changed["data"]["fromCursor"], 48169);
    assert_eq!(changed["data"]["toCursor"], 48213);
    assert_eq!(
        changed["data"]["namespaces"],
        json!({"identity:group": 2, "identity:user": 42})
    );
    assert_eq!(changed["data"]["affectedItems"], 1873);
    let failed: Value = serde_json::from_str(
        &Event::new("acme", time, payloads[2].clone())
            .to_body()
            .unwrap(),
    )
    .unwrap();
    assert!(
        failed["data"].get("run").is_none(),
        "absent, not null: {failed}"
    );
    let decided: Value = serde_json::from_str(
        &Event::new("acme", time, payloads[5].clone())
            .to_body()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(decided["data"]["decision"], "former_user");
    assert!(decided["data"].get("destination").is_none());
}

#[test]
fn receivers_may_meet_fields_added_later() {
    let body = r#"{"messageId":"6f1c8a52-2d4e-4b7a-9c1d-0e8f3a5b7c91","type":"job.started","scope":"acme","time":"2026-05-04T10:14:31Z","data":{"job":"wave-1","transferId":"2f8e4c1a-9b7d-4e3f-a6c5-1d2b3e4f5a6b","run":3,"actor":"cli","newField":true},"newEnvelopeField":1}"#;
    let event = Event::from_body(body.as_bytes()).unwrap();
    assert_eq!(event.event_type(), EventType::JobStarted);
}

#[test]
fn filters_name_types_and_say_which_exist() {
    let filter = EventFilter::parse(" job.completed, mappings.changed,job.completed ").unwrap();
    assert_eq!(
        filter.types(),
        [EventType::JobCompleted, EventType::MappingsChanged]
    );
    assert!(filter.accepts(EventType::MappingsChanged));
    assert!(!filter.accepts(EventType::JobStarted));
    assert_eq!(filter.to_string(), "job.completed,mappings.changed");
    let all = EventFilter::parse("").unwrap();
    assert!(EventType::ALL.iter().all(|t| all.accepts(*t)));
    assert_eq!(all.to_string(), "all");
    let error = EventFilter::parse("job.completed,job.finished")
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("unknown event type `job.finished`"),
        "{error}"
    );
    assert!(
        error.contains("job.completed") && error.contains("retention.purged"),
        "{error}"
    );
    // Stored as a JSON array of names.
    assert_eq!(
        serde_json::to_string(&filter).unwrap(),
        r#"["job.completed","mappings.changed"]"#
    );
    assert_eq!(
        serde_json::from_str::<EventFilter>(r#"["job.completed","mappings.changed"]"#).unwrap(),
        filter
    );
    assert!(serde_json::from_str::<EventFilter>(r#"["nope"]"#).is_err());
}

#[test]
fn every_example_in_the_documentation_parses_and_every_type_has_one() {
    let doc = docs_webhooks();
    let mut seen = Vec::new();
    for block in code_blocks(&doc, "json") {
        let event = Event::from_body(block.as_bytes()).unwrap_or_else(|error| {
            panic!("docs/webhooks.md example does not parse: {error}\n{block}")
        });
        // Written back, an example is the same JSON: no field the code does not know.
        let written: Value = serde_json::from_str(&event.to_body().unwrap()).unwrap();
        let documented: Value = serde_json::from_str(&block).unwrap();
        assert_eq!(
            written, documented,
            "the example has fields the code does not write"
        );
        seen.push(event.event_type());
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen, EventType::ALL);
}

/// The fenced blocks of one language in a Markdown text.
pub(crate) fn code_blocks(markdown: &str, language: &str) -> Vec<String> {
    let fence = format!("```{language}\n");
    let mut blocks = Vec::new();
    let mut rest = markdown;
    while let Some(start) = rest.find(&fence) {
        let body = &rest[start + fence.len()..];
        let end = body.find("```\n").expect("an unclosed code block");
        blocks.push(body[..end].to_owned());
        rest = &body[end..];
    }
    blocks
}

#[test]
fn the_openapi_document_describes_every_event_type() {
    use utoipa::OpenApi;

    #[derive(OpenApi)]
    #[openapi(components(schemas(Event, EventType, EventFilter)))]
    struct Doc;

    let document = serde_json::to_value(Doc::openapi()).unwrap();
    let schemas = &document["components"]["schemas"];
    for name in [
        "Event",
        "EventPayload",
        "JobCompleted",
        "JobSummary",
        "MappingsChanged",
        "ReviewDecision",
        "EventType",
    ] {
        assert!(schemas.get(name).is_some(), "no schema {name}: {schemas}");
    }
    let text = schemas.to_string();
    for event_type in EventType::ALL {
        assert!(
            text.contains(&format!("\"{}\"", event_type.as_str())),
            "{event_type} not in the schema"
        );
    }
    for field in [
        "messageId",
        "fromCursor",
        "toCursor",
        "affectedItems",
        "transferId",
    ] {
        assert!(text.contains(field), "{field} not in the schema");
    }
    assert_eq!(schemas["EventType"]["type"], "string");
    let names: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(schemas["EventType"]["enum"], json!(names));
    assert_eq!(
        schemas["EventFilter"]["type"], "array",
        "{}",
        schemas["EventFilter"]
    );
}

proptest! {
    /// Reading a body (what a receiver parses) never panics, and an event that reads
    /// writes back to the same event.
    #[test]
    fn reading_an_event_never_panics(
        bytes in proptest::collection::vec(any::<u8>(), 0..200),
        kind in 0usize..10,
        text in ".{0,30}",
        number in any::<i64>(),
    ) {
        let _ = Event::from_body(&bytes);
        let near_miss = format!(
            r#"{{"messageId":"6f1c8a52-2d4e-4b7a-9c1d-0e8f3a5b7c91","type":"{}","scope":{},"time":"2026-05-04T10:14:31Z","data":{{"job":{},"transferId":"2f8e4c1a-9b7d-4e3f-a6c5-1d2b3e4f5a6b","run":{number},"actor":"x","fromCursor":{number}}}}}"#,
            EventType::ALL[kind].as_str(),
            serde_json::to_string(&text).unwrap(),
            serde_json::to_string(&text).unwrap(),
        );
        if let Ok(event) = Event::from_body(near_miss.as_bytes()) {
            let body = event.to_body().unwrap();
            prop_assert_eq!(Event::from_body(body.as_bytes()).unwrap(), event);
        }
    }
}
