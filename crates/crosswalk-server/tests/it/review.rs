//! Review and resolve through the API: suggestions, accept (one, and in bulk above a score),
//! reject (and not suggested again), resolve to a candidate, another account, provision or
//! former user, each decision in the mapping's history with the token as who; readers and
//! other scopes refused.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use crosswalk_app::{App, Caller, InputFiles, RunRequest, SystemClock};
use crosswalk_server::{ServerState, router, tokens};
use crosswalk_store::scope::{NewScope, Role, SqliteScopeStore};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Olga (the same local part at home; an exact unique name on the cloud) is a suggestion at
/// 0.92, Alexander (no address; the cloud's Alexander Ryan has an opaque one) only at 0.82;
/// Sam Lee has two namesakes (ambiguous); Kenji has no cloud account.
pub(crate) const SOURCE: &str = "\
type,id,username,email,aliases,display_name,given_name,family_name,active,source_directory,email_verified,name,group,member
account,JIRAUSER1,jdoe,John.Doe@acme.com,,John Doe,John,Doe,true,internal,,,,
account,JIRAUSER7,,olga.petrova@home.example,,Olga Petrova,Olga,Petrova,true,internal,,,,
account,JIRAUSER8,,,,Alexander Ryan,Alexander,Ryan,true,internal,,,,
account,JIRAUSER9,,,,Sam Lee,Sam,Lee,true,internal,,,,
account,JIRAUSER10,,kenji@home.example,,Kenji Watanabe,Kenji,Watanabe,true,internal,,,,
group,G1,,,,,,,,,,developers,,
group,G2,,,,,,,,,,testers,,
";

pub(crate) const DESTINATION: &str = "\
type,id,username,email,aliases,display_name,given_name,family_name,active,source_directory,email_verified,name,group,member
account,5b10a001,,john.doe@acme.com,,John Doe,John,Doe,true,,true,,,
account,5b10a007,,olga.petrova@acme.com,,\"Petrova, Olga\",Olga,Petrova,true,,true,,,
account,5b10a008,,user7f3a@acme.com,,Alexander Ryan,Alexander,Ryan,true,,true,,,
account,5b10a009,,sam.lee@acme.com,,Sam Lee,Sam,Lee,true,,true,,,
account,5b10a010,,slee@acme.com,,Sam Lee,Sam,Lee,true,,true,,,
account,5b10a011,,kwatanabe@acme.com,,K. Watanabe,,,true,,true,,,
group,c1,,,,,,,,,,developers,,
group,c2,,,,,,,,,,qa,,
";

pub(crate) const POLICY: &str = "\
[name]
organisation_domains = [\"acme.com\"]
";

struct Fixture {
    _dir: tempfile::TempDir,
    state: ServerState,
    reader: String,
    writer: String,
    writer_id: String,
    foreign: String,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("source.csv", SOURCE),
        ("destination.csv", DESTINATION),
        ("policy.toml", POLICY),
    ] {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let store = SqliteScopeStore::open_in_memory().await.unwrap();
    let app = App::new(Arc::new(store.clone()), Arc::new(SystemClock));
    let cli = Caller::cli("test");
    for name in ["acme", "globex"] {
        let scope = NewScope {
            name: name.into(),
            source_label: "jira-server https://jira".into(),
            destination_label: "cloud".into(),
        };
        app.create_scope(&cli, &scope).await.unwrap();
    }
    let files = InputFiles {
        source: dir.path().join("source.csv"),
        destination: dir.path().join("destination.csv"),
        policy: Some(dir.path().join("policy.toml")),
        exceptions: None,
        fixes: None,
        skip_invalid: false,
    };
    let input = crosswalk_app::import(&files, &mut |_| {}).unwrap();
    app.run_job(
        &cli,
        RunRequest {
            scope: "acme".into(),
            job: Some("wave-1".into()),
            input,
            force: false,
        },
        &mut |_| {},
    )
    .await
    .unwrap();
    let at = time::OffsetDateTime::now_utc();
    let issue = |scope: Option<&'static str>, role| {
        let store = store.clone();
        async move {
            tokens::issue(&store, scope, role, "test", "cli:test", at)
                .await
                .unwrap()
                .token
        }
    };
    let reader = issue(Some("acme"), Role::Reader).await;
    let writer = issue(Some("acme"), Role::Writer).await;
    let foreign = issue(Some("globex"), Role::Admin).await;
    // `cw_<public id>_<secret>`: decisions record `token:<public id>`.
    let writer_id = writer.split('_').nth(1).unwrap().to_string();
    Fixture {
        _dir: dir,
        state: ServerState::new(app, Arc::new(store)),
        reader,
        writer,
        writer_id,
        foreign,
    }
}

impl Fixture {
    async fn call(
        &self,
        method: &str,
        uri: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let request = Request::builder()
            .method(method)
            .uri(uri)
            .header("authorization", format!("Bearer {token}"));
        let request = match body {
            Some(body) => request
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
            None => request.body(Body::empty()).unwrap(),
        };
        let response = router(self.state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn suggested(&self, query: &str) -> Vec<String> {
        let (status, body) = self
            .call(
                "GET",
                &format!("/api/v1/scopes/acme/review{query}"),
                &self.reader,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body.as_array()
            .unwrap()
            .iter()
            .map(|s| {
                format!(
                    "{}>{}",
                    s["source_key"].as_str().unwrap(),
                    s["candidate"]["destination"]["id"].as_str().unwrap()
                )
            })
            .collect()
    }

    async fn mapping(&self, key: &str) -> Value {
        let (status, body) = self
            .call(
                "GET",
                &format!("/api/v1/scopes/acme/namespaces/identity:user/mappings/{key}"),
                &self.reader,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

#[tokio::test]
async fn suggestions_are_listed_with_their_candidate_and_why_and_never_an_ambiguous_one() {
    let f = fixture().await;
    let (status, body) = f
        .call("GET", "/api/v1/scopes/acme/review", &f.reader, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let olga = body
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source_key"] == "JIRAUSER7")
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(olga["candidate"]["destination"]["id"], "5b10a007");
    assert!(
        olga["why"].as_str().unwrap().starts_with("scored 0.92"),
        "{olga}"
    );
    assert_eq!(
        f.suggested("").await,
        ["JIRAUSER7>5b10a007"],
        "Alexander's 0.82 is below the default 0.90"
    );
    assert_eq!(
        f.suggested("?min_score=0.8").await,
        ["JIRAUSER7>5b10a007", "JIRAUSER8>5b10a008"],
        "Sam Lee has two namesakes: never"
    );
    assert_eq!(f.suggested("?kind=group").await, Vec::<String>::new());
    for bad in ["?min_score=1.5", "?min_score=x", "?kind=robot"] {
        let (status, body) = f
            .call(
                "GET",
                &format!("/api/v1/scopes/acme/review{bad}"),
                &f.reader,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(
            body["code"].is_string() && body["message"].is_string(),
            "{body}"
        );
    }
    let (status, _) = f
        .call("GET", "/api/v1/scopes/acme/review", &f.foreign, None)
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another scope's token sees no such scope"
    );
}

#[tokio::test]
async fn accepting_one_applies_it_at_once_with_who_and_when_and_readers_are_refused() {
    let f = fixture().await;
    let accept = json!({"keys": ["JIRAUSER7"]});
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/review/accept",
            &f.reader,
            Some(accept.clone()),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden")),
        "{body}"
    );
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/review/accept",
            &f.foreign,
            Some(accept.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        f.mapping("JIRAUSER7").await["mapping"]["value"]["value"]["resolution"],
        "Unresolved",
        "nothing was written"
    );

    let (status, body) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/review/accept",
            &f.writer,
            Some(accept),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["decided"].as_array().unwrap().len(), 1);
    assert_eq!(body["runs"][0]["counts"]["changed"], 1, "{body}");
    let history = f.mapping("JIRAUSER7").await;
    let value = &history["mapping"]["value"]["value"];
    assert_eq!(
        (
            value["resolution"].as_str(),
            value["destination"]["id"].as_str()
        ),
        (Some("Exception"), Some("5b10a007"))
    );
    let last = history["revisions"].as_array().unwrap().last().unwrap();
    assert_eq!(last["who"], format!("token:{}", f.writer_id), "{last}");
    assert_eq!(last["reason"], "exception");
    assert!(last["at"].is_string());
    assert_eq!(
        f.suggested("?min_score=0.8").await,
        ["JIRAUSER8>5b10a008"],
        "an accepted suggestion is one no more"
    );

    // A key that is not a suggestion: nothing written, a 404 saying what to do.
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/review/accept",
            &f.writer,
            Some(json!({"keys": ["JIRAUSER9"]})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("crosswalk resolve"),
        "{body}"
    );
    for bad in [
        json!({}),
        json!({"all": true, "keys": ["JIRAUSER8"]}),
        json!({"all": true, "min_score": 2}),
        json!({"keys": "x"}),
        json!({"all": true, "bogus": 1}),
    ] {
        let (status, body) = f
            .call(
                "POST",
                "/api/v1/scopes/acme/review/accept",
                &f.writer,
                Some(bad.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
}

#[tokio::test]
async fn bulk_accept_takes_every_suggestion_above_the_score_only() {
    let f = fixture().await;
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/review/accept",
            &f.writer,
            Some(json!({"all": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let decided: Vec<&str> = body["decided"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["source_key"].as_str().unwrap())
        .collect();
    assert_eq!(decided, ["JIRAUSER7"]);
    assert_eq!(
        f.mapping("JIRAUSER8").await["mapping"]["value"]["value"]["resolution"],
        "Unresolved",
        "below the score: left"
    );
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/review/accept",
            &f.writer,
            Some(json!({"all": true, "min_score": 0.8})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        f.mapping("JIRAUSER8").await["mapping"]["value"]["value"]["destination"]["id"],
        "5b10a008"
    );
    assert_eq!(f.suggested("?min_score=0").await, Vec::<String>::new());
}

#[tokio::test]
async fn a_rejected_suggestion_is_not_suggested_again_and_the_mapping_stays() {
    let f = fixture().await;
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/review/reject",
            &f.reader,
            Some(json!({"keys": ["JIRAUSER8"], "min_score": 0.8})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/review/reject",
            &f.writer,
            Some(json!({"keys": ["JIRAUSER8"], "min_score": 0.8})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(f.suggested("?min_score=0.8").await, ["JIRAUSER7>5b10a007"]);
    assert_eq!(
        f.suggested("?min_score=0").await,
        ["JIRAUSER7>5b10a007"],
        "not at any score"
    );
    assert_eq!(
        f.mapping("JIRAUSER8").await["mapping"]["value"]["value"]["resolution"],
        "Unresolved"
    );
    // The rejection is kept with who and when.
    let (status, body) = f
        .call(
            "GET",
            "/api/v1/scopes/acme/namespaces/review:rejections/mappings/user%2FJIRAUSER8",
            &f.reader,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["mapping"]["value"]["value"], "[\"5b10a008\"]");
    assert_eq!(
        body["revisions"][0]["who"],
        format!("token:{}", f.writer_id)
    );
}

#[tokio::test]
async fn any_mapping_is_resolved_to_a_candidate_another_account_provision_or_former_user() {
    let f = fixture().await;
    let resolve = |key: &str| format!("/api/v1/scopes/acme/mappings/identity:user/{key}/resolve");
    let (status, _) = f
        .call(
            "POST",
            &resolve("JIRAUSER9"),
            &f.reader,
            Some(json!({"to": "5b10a009"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "readers do not decide");

    // The ambiguous Sam Lee: one of his two candidates.
    let (status, body) = f
        .call(
            "POST",
            &resolve("JIRAUSER9"),
            &f.writer,
            Some(json!({"to": "5b10a010"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["mapping"]["value"]["value"]["destination"]["id"],
        "5b10a010"
    );
    assert_eq!(body["revision"]["who"], format!("token:{}", f.writer_id));
    assert_eq!(body["exception"]["destination"], "id:5b10a010");
    // Kenji, to an account that was never his candidate, by its address.
    let (status, body) = f
        .call(
            "POST",
            &resolve("JIRAUSER10"),
            &f.writer,
            Some(json!({"to": "email:KWatanabe@acme.com"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["mapping"]["value"]["value"]["resolution"], "Exception");
    assert_eq!(
        body["mapping"]["value"]["value"]["destination"]["id"],
        "5b10a011"
    );
    // Then changed: to be provisioned, then as a former user; each a revision of its history.
    let (status, body) = f
        .call(
            "POST",
            &resolve("JIRAUSER10"),
            &f.writer,
            Some(json!({"provision": true})),
        )
        .await;
    assert_eq!(
        (status, body["mapping"]["value"]["value"]["target"].as_str()),
        (StatusCode::OK, Some("provision")),
        "{body}"
    );
    let (status, body) = f
        .call(
            "POST",
            &resolve("JIRAUSER10"),
            &f.writer,
            Some(json!({"former_user": true})),
        )
        .await;
    assert_eq!(
        (status, body["mapping"]["value"]["value"]["target"].as_str()),
        (StatusCode::OK, Some("former_user")),
        "{body}"
    );
    let history = f.mapping("JIRAUSER10").await;
    let targets: Vec<&str> = history["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["new_value"]["value"]["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets, ["", "existing", "provision", "former_user"]);
    // A group: to a destination group by name; a group is never a former user.
    let group = "/api/v1/scopes/acme/mappings/identity:group/G2/resolve";
    let (status, body) = f
        .call("POST", group, &f.writer, Some(json!({"to": "name:qa"})))
        .await;
    assert_eq!(
        (
            status,
            body["mapping"]["value"]["value"]["destination"]["id"].as_str()
        ),
        (StatusCode::OK, Some("c2")),
        "{body}"
    );
    let (status, _) = f
        .call("POST", group, &f.writer, Some(json!({"former_user": true})))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    for (uri, body, want) in [
        (
            resolve("JIRAUSER10"),
            json!({"to": "nobody@acme.com"}),
            StatusCode::NOT_FOUND,
        ),
        (
            resolve("NOBODY"),
            json!({"provision": true}),
            StatusCode::NOT_FOUND,
        ),
        (resolve("JIRAUSER10"), json!({}), StatusCode::BAD_REQUEST),
        (
            resolve("JIRAUSER10"),
            json!({"to": "5b10a009", "provision": true}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/scopes/acme/mappings/jira:issue/X/resolve".to_string(),
            json!({"provision": true}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/v1/scopes/acme/mappings/nonsense/X/resolve".to_string(),
            json!({"provision": true}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (status, answer) = f.call("POST", &uri, &f.writer, Some(body.clone())).await;
        assert_eq!(status, want, "{uri} {body}: {answer}");
        assert!(answer["code"].is_string(), "{answer}");
    }
}

#[tokio::test]
async fn destination_accounts_and_groups_are_searchable() {
    let f = fixture().await;
    let (status, body) = f
        .call(
            "GET",
            "/api/v1/scopes/acme/destination/accounts?search=SAM",
            &f.reader,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ids: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["5b10a009", "5b10a010"]);
    let (_, body) = f
        .call(
            "GET",
            "/api/v1/scopes/acme/destination/accounts?limit=2",
            &f.reader,
            None,
        )
        .await;
    assert_eq!(body.as_array().unwrap().len(), 2);
    let (_, body) = f
        .call(
            "GET",
            "/api/v1/scopes/acme/destination/groups?search=q",
            &f.reader,
            None,
        )
        .await;
    assert_eq!(
        body,
        json!([{"id": "c2", "name": "qa", "display_name": null, "members": []}])
    );
    for bad in ["?limit=0", "?limit=5000", "?limit=-1"] {
        let (status, _) = f
            .call(
                "GET",
                &format!("/api/v1/scopes/acme/destination/accounts{bad}"),
                &f.reader,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let (status, _) = f
        .call(
            "GET",
            "/api/v1/scopes/acme/destination/accounts",
            &f.foreign,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_review_routes_are_in_the_openapi_document() {
    let f = fixture().await;
    let (_, document) = f.call("GET", "/api/openapi.json", &f.reader, None).await;
    for path in [
        "/api/v1/scopes/{scope}/review",
        "/api/v1/scopes/{scope}/review/accept",
        "/api/v1/scopes/{scope}/review/reject",
        "/api/v1/scopes/{scope}/mappings/{namespace}/{key}/resolve",
        "/api/v1/scopes/{scope}/destination/accounts",
        "/api/v1/scopes/{scope}/destination/groups",
    ] {
        assert!(
            document["paths"][path].is_object(),
            "{path} is not documented"
        );
    }
}
