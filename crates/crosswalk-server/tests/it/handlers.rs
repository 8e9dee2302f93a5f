use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use crosswalk_app::{App, Caller, InputFiles, RunRequest, SystemClock};
use crosswalk_server::{ServerState, router, tokens};
use crosswalk_store::scope::{NewScope, Role, SqliteScopeStore, TokenStore};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const SOURCE: &str = "\
type,id,username,email,aliases,display_name,given_name,family_name,active,source_directory,email_verified,name,group,member
account,JIRAUSER1,jdoe,John.Doe@acme.com,jd@acme.com,John Doe,John,Doe,true,internal,,,,
account,JIRAUSER2,msmith,maria@acme.com,,Maria Smith,Maria,Smith,true,ldap,,,,
account,JIRAUSER3,nobody,nobody@elsewhere.example,,No Body,,,true,internal,,,,
group,G1,,,,,,,,,,developers,,
";

const DESTINATION: &str = "\
type,id,username,email,aliases,display_name,given_name,family_name,active,source_directory,email_verified,name,group,member
account,5b10a001,,john.doe@acme.com,,John Doe,John,Doe,true,,true,,,
account,5b10a002,,maria@acme.com,,Maria Smith,Maria,Smith,true,,true,,,
group,c1,,,,,,,,,,developers,,
";

struct Fixture {
    _dir: tempfile::TempDir,
    state: ServerState,
    transfer: String,
    reader: String,
    writer: String,
    foreign: String,
    admin: String,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("source.csv"), SOURCE).unwrap();
    std::fs::write(dir.path().join("destination.csv"), DESTINATION).unwrap();
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
        policy: None,
        exceptions: None,
        fixes: None,
        skip_invalid: false,
    };
    let input = crosswalk_app::import(&files, &mut |_| {}).unwrap();
    let outcome = app
        .run_job(
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
    let admin = issue(None, Role::Admin).await;
    Fixture {
        _dir: dir,
        state: ServerState::new(app, Arc::new(store)),
        transfer: outcome.job.transfer_id.to_string(),
        reader,
        writer,
        foreign,
        admin,
    }
}

impl Fixture {
    async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.raw(method, uri, token, body.map(|b| b.to_string()))
            .await
    }

    async fn raw(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => request
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap(),
            None => request.body(Body::empty()).unwrap(),
        };
        let response = router(self.state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, value)
    }
}

#[tokio::test]
async fn health_needs_no_token_and_echoes_a_request_id() {
    let f = fixture().await;
    let (status, body) = f.call("GET", "/health", None, None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"status": "ok"})));
    let (status, _) = f.call("GET", "/ready", None, None).await;
    assert_eq!(status, StatusCode::OK);

    let request = Request::get("/health")
        .header("x-request-id", "abc-123")
        .body(Body::empty())
        .unwrap();
    let response = router(f.state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.headers()["x-request-id"], "abc-123");
    let response = router(f.state.clone())
        .oneshot(Request::get("/health").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert!(
        !response.headers()["x-request-id"].is_empty(),
        "a request without an id gets one"
    );
}

#[tokio::test]
async fn a_missing_or_bad_token_is_401_in_json() {
    let f = fixture().await;
    let path = format!(
        "/rest/atlassian-connect/1/migration/mapping/{}/page?namespace=identity:user",
        f.transfer
    );
    let (status, body) = f.call("GET", &path, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "missing_token");
    // Right shape, wrong secret; a made-up public id; not a token at all.
    let (public, _) = tokens::parse(&f.reader).unwrap();
    for bad in [
        format!("cw_{public}_{}", "0".repeat(64)),
        format!("cw_{}_{}", "1".repeat(16), "0".repeat(64)),
        "hunter2".to_string(),
    ] {
        let (status, body) = f.call("GET", &path, Some(&bad), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{bad}");
        assert_eq!(body["code"], "invalid_token");
    }
    let (status, _) = f.call("GET", "/api/v1/scopes", Some(&f.reader), None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_compatible_page_gives_every_key_form_of_the_jira_platform() {
    let f = fixture().await;
    let path = format!(
        "/rest/atlassian-connect/1/migration/mapping/{}/page?namespace=identity:user&pageSize=10000",
        f.transfer
    );
    let (status, body) = f.call("GET", &path, Some(&f.reader), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["meta"],
        json!({"pageSize": 10000, "hasNext": false, "lastEntity": null})
    );
    let items = body["items"].as_object().unwrap();
    assert_eq!(items["jira.userkey/JIRAUSER1"], "5b10a001");
    assert_eq!(items["jira.username/jdoe"], "5b10a001");
    assert_eq!(items["email/John.Doe@acme.com"], "5b10a001");
    assert_eq!(items["email/jd@acme.com"], "5b10a001");
    assert_eq!(items["jira.userkey/JIRAUSER2"], "5b10a002");
    // JIRAUSER3 has no cloud account: no entry, rather than an empty id.
    assert!(!items.keys().any(|k| k.contains("JIRAUSER3")), "{items:?}");
}

#[tokio::test]
async fn compatible_pages_of_one_follow_last_entity_to_the_end() {
    let f = fixture().await;
    let mut seen = Vec::new();
    let mut last: Option<String> = None;
    for _ in 0..10 {
        let mut path = format!(
            "/rest/atlassian-connect/1/migration/mapping/{}/page?namespace=identity:user&pageSize=1",
            f.transfer
        );
        if let Some(last) = &last {
            path.push_str(&format!("&lastEntity={last}"));
        }
        let (status, body) = f.call("GET", &path, Some(&f.reader), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        seen.extend(
            body["items"]
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| k.starts_with("jira.userkey/"))
                .cloned(),
        );
        if !body["meta"]["hasNext"].as_bool().unwrap() {
            break;
        }
        last = Some(body["meta"]["lastEntity"].as_str().unwrap().to_string());
    }
    assert_eq!(seen, ["jira.userkey/JIRAUSER1", "jira.userkey/JIRAUSER2"]);
}

#[tokio::test]
async fn compatible_find_answers_the_keys_it_finds_in_any_form() {
    let f = fixture().await;
    let path = format!(
        "/rest/atlassian-connect/1/migration/mapping/{}/find?namespace=identity:user",
        f.transfer
    );
    let keys = json!([
        "jira.userkey/JIRAUSER1",
        "email/MARIA@acme.com",
        "jira.username/jdoe",
        "jira.userkey/NOPE"
    ]);
    let (status, body) = f.call("POST", &path, Some(&f.reader), Some(keys)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"jira.userkey/JIRAUSER1": "5b10a001", "email/MARIA@acme.com": "5b10a002", "jira.username/jdoe": "5b10a001"})
    );
}

#[tokio::test]
async fn limits_are_refused_naming_the_limit() {
    let f = fixture().await;
    let base = format!("/rest/atlassian-connect/1/migration/mapping/{}", f.transfer);
    let (status, body) = f
        .call(
            "GET",
            &format!("{base}/page?namespace=identity:user&pageSize=10001"),
            Some(&f.reader),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "page_size_too_large");
    assert!(
        body["message"].as_str().unwrap().contains("10000"),
        "{body}"
    );

    let keys: Vec<String> = (0..10_001).map(|i| format!("k{i}")).collect();
    let (status, body) = f
        .call(
            "POST",
            &format!("{base}/find?namespace=identity:user"),
            Some(&f.reader),
            Some(json!(keys)),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "too_many_keys");

    let huge = format!(
        "[\"{}\"]",
        "x".repeat(crosswalk_server::limits::MAX_BODY_BYTES + 1)
    );
    let (status, body) = f
        .raw(
            "POST",
            &format!("{base}/find?namespace=identity:user"),
            Some(&f.reader),
            Some(huge),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["code"], "body_too_large");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains(&crosswalk_server::limits::MAX_BODY_BYTES.to_string())
    );
}

#[tokio::test]
async fn malformed_input_is_a_400_never_a_500() {
    let f = fixture().await;
    let base = format!("/rest/atlassian-connect/1/migration/mapping/{}", f.transfer);
    for (method, path, body) in [
        (
            "POST",
            format!("{base}/find?namespace=identity:user"),
            Some("{not json".to_string()),
        ),
        (
            "POST",
            format!("{base}/find?namespace=identity:user"),
            Some("{\"keys\": 1}".to_string()),
        ),
        (
            "GET",
            format!("{base}/page?namespace=identity:user&pageSize=-1"),
            None,
        ),
        (
            "GET",
            format!("{base}/page?namespace=NOT%20A%20NAMESPACE"),
            None,
        ),
        ("GET", format!("{base}/page"), None),
        (
            "GET",
            "/api/v1/scopes/acme/namespaces/identity:user/mappings?limit=0".to_string(),
            None,
        ),
        (
            "GET",
            "/api/v1/scopes/acme/changes?after=zzz".to_string(),
            None,
        ),
    ] {
        let (status, answer) = f.raw(method, &path, Some(&f.reader), body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path}: {answer}");
        assert!(
            answer["code"].is_string() && answer["message"].is_string(),
            "{answer}"
        );
    }
}

#[tokio::test]
async fn a_foreign_token_gets_404_exactly_as_for_a_missing_scope() {
    let f = fixture().await;
    let page = format!(
        "/rest/atlassian-connect/1/migration/mapping/{}/page?namespace=identity:user",
        f.transfer
    );
    let (status, foreign) = f.call("GET", &page, Some(&f.foreign), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let missing = page.replace(&f.transfer, "00000000-0000-4000-8000-000000000000");
    let (_, unknown) = f.call("GET", &missing, Some(&f.reader), None).await;
    assert_eq!(foreign["code"], unknown["code"]);
    assert_eq!(
        foreign["message"]
            .as_str()
            .unwrap()
            .replace(&f.transfer, "X"),
        unknown["message"]
            .as_str()
            .unwrap()
            .replace("00000000-0000-4000-8000-000000000000", "X")
    );

    for path in [
        "/api/v1/scopes/acme",
        "/api/v1/scopes/acme/jobs",
        "/api/v1/scopes/acme/namespaces/identity:user/mappings",
        "/api/v1/scopes/acme/changes",
    ] {
        let (status, foreign) = f.call("GET", path, Some(&f.foreign), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        let (status, missing) = f
            .call("GET", &path.replace("acme", "nosuch"), Some(&f.admin), None)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            foreign["message"].as_str().unwrap().replace("acme", "X"),
            missing["message"].as_str().unwrap().replace("nosuch", "X")
        );
    }
    let (status, scopes) = f
        .call("GET", "/api/v1/scopes", Some(&f.foreign), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        scopes.as_array().unwrap().len(),
        1,
        "a scope token sees its own scope only: {scopes}"
    );
}

#[tokio::test]
async fn native_pages_find_and_app_namespaces() {
    let f = fixture().await;
    let (status, page) = f
        .call(
            "GET",
            "/api/v1/scopes/acme/namespaces/identity:user/mappings?limit=2",
            Some(&f.reader),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["mappings"].as_array().unwrap().len(), 2);
    assert_eq!(page["last_page"], false);
    let next = page["next"].as_str().unwrap();
    let (_, rest) = f
        .call(
            "GET",
            &format!("/api/v1/scopes/acme/namespaces/identity:user/mappings?limit=2&after={next}"),
            Some(&f.reader),
            None,
        )
        .await;
    assert_eq!(rest["mappings"].as_array().unwrap().len(), 1);
    assert_eq!(rest["last_page"], true);

    let (status, found) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/namespaces/identity:user/find",
            Some(&f.reader),
            Some(json!({"keys": ["jdoe", "nope"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["answers"][0]["outcome"], "found");
    assert_eq!(found["answers"][0]["by"], "username");
    assert_eq!(found["answers"][1]["outcome"], "not_found");
    // By default a found key answers where it goes and how, not the evidence.
    assert_eq!(
        found["answers"][0]["mapping"],
        json!({"source_key": "JIRAUSER1", "destination_id": "5b10a001", "resolution": "Email", "removed": false})
    );
    let (status, full) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/namespaces/identity:user/find?view=full",
            Some(&f.reader),
            Some(json!({"keys": ["jdoe", "nope"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{full}");
    let mapping = &full["answers"][0]["mapping"];
    assert_eq!(mapping["source_key"], "JIRAUSER1");
    assert_eq!(mapping["value"]["value"]["destination"]["id"], "5b10a001");
    assert!(
        !mapping["value"]["value"]["evidence"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{full}"
    );
    assert_eq!(full["answers"][1]["outcome"], "not_found");
    let (status, refused) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/namespaces/identity:user/find?view=evidence",
            Some(&f.reader),
            Some(json!({"keys": ["jdoe"]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(
        refused["message"].as_str().unwrap().contains("view"),
        "{refused}"
    );

    let write = json!({"upsert": [{"key": "10001", "value": "cloud-10001"}]});
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/namespaces/jira:issue/mappings",
            Some(&f.reader),
            Some(write.clone()),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a reader does not write: {body}"
    );
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/namespaces/jira:issue/mappings",
            Some(&f.writer),
            Some(write),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["revisions"].as_array().unwrap().len(), 1);
    let (_, history) = f
        .call(
            "GET",
            "/api/v1/scopes/acme/namespaces/jira:issue/mappings/10001",
            Some(&f.reader),
            None,
        )
        .await;
    assert_eq!(history["mapping"]["value"]["value"], "cloud-10001");
    let (_, history) = f
        .call(
            "GET",
            "/api/v1/scopes/acme/namespaces/identity:user/mappings/jira.username%2Fjdoe",
            Some(&f.reader),
            None,
        )
        .await;
    assert_eq!(history["mapping"]["source_key"], "JIRAUSER1", "{history}");
    assert!(
        !history["mapping"]["value"]["value"]["evidence"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let (_, feed) = f
        .call(
            "GET",
            "/api/v1/scopes/acme/changes?limit=10000",
            Some(&f.reader),
            None,
        )
        .await;
    let revisions = feed["revisions"].as_array().unwrap();
    assert_eq!(revisions.last().unwrap()["source_key"], "10001");
    let cursor = feed["cursor"].as_str().unwrap();
    let (_, after) = f
        .call(
            "GET",
            &format!("/api/v1/scopes/acme/changes?after={cursor}"),
            Some(&f.reader),
            None,
        )
        .await;
    assert!(after["revisions"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn the_openapi_document_lists_the_routes() {
    let f = fixture().await;
    let (status, document) = f.call("GET", "/api/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/health",
        "/rest/atlassian-connect/1/migration/mapping/{transferId}/page",
        "/rest/atlassian-connect/1/migration/mapping/{transferId}/find",
        "/api/v1/scopes/{scope}/namespaces/{namespace}/mappings",
        "/api/v1/scopes/{scope}/namespaces/{namespace}/find",
        "/api/v1/scopes/{scope}/check",
        "/api/v1/scopes/{scope}/plan",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from {:?}",
            paths.keys().collect::<Vec<_>>()
        );
    }
    // Batch find documents its `view` (brief by default, or full).
    let find = &paths["/api/v1/scopes/{scope}/namespaces/{namespace}/find"]["post"];
    let view = find["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "view")
        .unwrap_or_else(|| panic!("find has no view parameter: {find}"));
    assert_eq!(view["in"], "query", "{view}");
    assert!(
        view.to_string().contains("\"brief\"") && view.to_string().contains("\"full\""),
        "{view}"
    );
    let (status, body) = f.call("GET", "/no/such/route", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "no_such_route");
}

#[tokio::test]
async fn scope_admins_manage_their_tokens_and_revoked_tokens_stop_working() {
    let f = fixture().await;
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/tokens",
            Some(&f.writer),
            Some(json!({"role": "reader", "label": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, made) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/tokens",
            Some(&f.admin),
            Some(json!({"role": "reader", "label": "ci"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let token = made["token"].as_str().unwrap().to_string();
    let (_, listed) = f
        .call("GET", "/api/v1/scopes/acme/tokens", Some(&f.admin), None)
        .await;
    assert!(
        !listed.to_string().contains(&token[20..]),
        "a list never shows a secret"
    );
    let public_id = made["details"]["public_id"].as_str().unwrap();
    let (status, _) = f
        .call("GET", "/api/v1/scopes/acme", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = f
        .call(
            "DELETE",
            &format!("/api/v1/scopes/acme/tokens/{public_id}"),
            Some(&f.admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = f
        .call("GET", "/api/v1/scopes/acme", Some(&token), None)
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_token"))
    );
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/scopes",
            Some(&f.writer),
            Some(json!({"name": "n", "source_label": "s", "destination_label": "d"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/scopes",
            Some(&f.admin),
            Some(json!({"name": "n", "source_label": "s", "destination_label": "d"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

/// Tokens are kept in memory for a moment (`crosswalk serve --token-cache-ms`): a token
/// revoked by another process (another server on the store, `crosswalk token revoke`) is
/// refused once that time has passed; with the cache off, at once.
#[tokio::test]
async fn a_token_revoked_elsewhere_is_refused_within_the_token_cache_time() {
    let store = SqliteScopeStore::open_in_memory().await.unwrap();
    let app = App::new(Arc::new(store.clone()), Arc::new(SystemClock));
    let scope = NewScope {
        name: "acme".into(),
        source_label: "jira-server https://jira".into(),
        destination_label: "cloud".into(),
    };
    app.create_scope(&Caller::cli("test"), &scope)
        .await
        .unwrap();
    let ttl = std::time::Duration::from_millis(300);
    let cached = ServerState::new(app.clone(), Arc::new(store.clone())).with_token_cache(ttl);
    let uncached =
        ServerState::new(app, Arc::new(store.clone())).with_token_cache(std::time::Duration::ZERO);
    let call = |state: &ServerState, token: &str| {
        let request = Request::get("/api/v1/scopes/acme")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let router = router(state.clone());
        async move { router.oneshot(request).await.unwrap().status() }
    };
    let issue = || async {
        tokens::issue(
            &store,
            Some("acme"),
            Role::Reader,
            "test",
            "cli:test",
            time::OffsetDateTime::now_utc(),
        )
        .await
        .unwrap()
        .token
    };
    let revoke_in_store = |token: &str| {
        let public_id = tokens::parse(token).unwrap().0.to_string();
        let store = store.clone();
        async move {
            store
                .revoke_token(&public_id, time::OffsetDateTime::now_utc())
                .await
                .unwrap();
        }
    };

    // Used once (so the cache holds it), then revoked behind this server's back.
    let token = issue().await;
    assert_eq!(call(&cached, &token).await, StatusCode::OK);
    revoke_in_store(&token).await;
    tokio::time::sleep(ttl).await;
    assert_eq!(
        call(&cached, &token).await,
        StatusCode::UNAUTHORIZED,
        "refused once the cache time has passed"
    );

    // Without the cache, at once.
    let token = issue().await;
    assert_eq!(call(&uncached, &token).await, StatusCode::OK);
    revoke_in_store(&token).await;
    assert_eq!(call(&uncached, &token).await, StatusCode::UNAUTHORIZED);

    // A token made after the cache was filled works at once; a wrong secret for a cached
    // public id is refused (the cache keeps the hash, not a verdict).
    let token = issue().await;
    assert_eq!(call(&cached, &token).await, StatusCode::OK);
    let (public_id, _) = tokens::parse(&token).unwrap();
    let wrong = format!("cw_{public_id}_{}", "0".repeat(64));
    assert_eq!(call(&cached, &wrong).await, StatusCode::UNAUTHORIZED);
    assert_eq!(call(&cached, &token).await, StatusCode::OK);
}

#[tokio::test]
async fn the_security_map_lists_the_jobs_mappings_in_the_report_seed_shape() {
    let f = fixture().await;
    let (status, body) = f
        .call(
            "GET",
            &format!("/v1/transfers/{}/security_map?include=all", f.transfer),
            Some(&f.reader),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let items = body["item"].as_array().unwrap();
    assert_eq!(items.len(), 4, "three accounts and a group: {body}");
    let john = items
        .iter()
        .find(|i| i["source"]["id"] == "JIRAUSER1")
        .unwrap();
    assert_eq!(
        john["source"],
        json!({"name": "John Doe", "email": "John.Doe@acme.com", "id": "JIRAUSER1", "type": "account"})
    );
    assert_eq!(john["resolution"], "email");
    assert_eq!(john["destination"]["id"], "5b10a001");
    assert_eq!(john["id"].as_str().unwrap().len(), 32);
    let nobody = items
        .iter()
        .find(|i| i["source"]["id"] == "JIRAUSER3")
        .unwrap();
    assert_eq!(nobody["resolution"], "unresolved");
    let (status, _) = f
        .call(
            "GET",
            &format!("/v1/transfers/{}/security_map?include=all", f.transfer),
            Some(&f.foreign),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn retention_is_an_admins_setting_and_purge_lists_before_it_removes() {
    let f = fixture().await;
    let path = "/api/v1/scopes/acme/namespaces/jira:issue/retention";
    let (status, _) = f
        .call("PUT", path, Some(&f.writer), Some(json!({"keep_days": 0})))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = f
        .call("PUT", path, Some(&f.admin), Some(json!({"keep_days": 0})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, listed) = f
        .call(
            "GET",
            "/api/v1/scopes/acme/retention",
            Some(&f.reader),
            None,
        )
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let (status, report) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/namespaces/jira:issue/purge?dry_run=true",
            Some(&f.reader),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert!(report["removed"].as_array().unwrap().is_empty());
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/namespaces/jira:issue/purge",
            Some(&f.reader),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn wait_for_task(f: &Fixture, token: &str, task: &str) -> Value {
    for _ in 0..600 {
        let (status, body) = f
            .call(
                "GET",
                &format!("/api/v1/scopes/acme/tasks/{task}"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if body["state"] == "succeeded" || body["state"] == "failed" {
            return body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("task {task} never finished");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_runs_on_uploaded_directories_in_the_background() {
    let f = fixture().await;
    let upload = json!({
        "source": {"format": "csv", "content": SOURCE},
        "destination": {"format": "csv", "content": DESTINATION},
    });
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/jobs/wave-2/runs",
            Some(&f.reader),
            Some(upload.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a reader runs nothing");
    let (status, task) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/jobs/wave-2/runs",
            Some(&f.writer),
            Some(upload),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{task}");
    let done = wait_for_task(&f, &f.reader, task["id"].as_str().unwrap()).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(done["outcome"]["job"]["name"], "wave-2");
    assert_eq!(
        done["outcome"]["run"]["counts"]["added"], 0,
        "the same inputs change nothing: {done}"
    );
    let (_, jobs) = f
        .call("GET", "/api/v1/scopes/acme/jobs", Some(&f.reader), None)
        .await;
    assert_eq!(jobs.as_array().unwrap().len(), 2);

    let bad = json!({
        "source": {"format": "csv", "content": "type,id\naccount,\n"},
        "destination": {"format": "csv", "content": DESTINATION},
    });
    let (_, task) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/jobs/wave-3/runs",
            Some(&f.writer),
            Some(bad),
        )
        .await;
    let done = wait_for_task(&f, &f.reader, task["id"].as_str().unwrap()).await;
    assert_eq!(done["state"], "failed", "{done}");
    let message = done["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("source.csv:"),
        "the error names the uploaded file and line, not where it was kept: {message}"
    );
    assert_eq!(done["error"]["code"], "invalid_request");
    let (_, jobs) = f
        .call("GET", "/api/v1/scopes/acme/jobs", Some(&f.reader), None)
        .await;
    assert_eq!(
        jobs.as_array().unwrap().len(),
        2,
        "a refused run leaves no job behind"
    );

    let (status, _) = f
        .call(
            "GET",
            &format!("/api/v1/scopes/acme/tasks/{}", task["id"].as_str().unwrap()),
            Some(&f.foreign),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_body_without_a_json_content_type_is_a_400() {
    let f = fixture().await;
    let request = Request::post("/api/v1/scopes/acme/namespaces/identity:user/find")
        .header("authorization", format!("Bearer {}", f.reader))
        .body(Body::from("{\"keys\": []}"))
        .unwrap();
    let response = router(f.state.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value =
        serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(body["code"], "invalid_body");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Content-Type: application/json"),
        "{body}"
    );
}

#[tokio::test]
async fn writers_add_and_remove_exception_rules_each_a_new_version() {
    let f = fixture().await;
    let (_, before) = f
        .call(
            "GET",
            "/api/v1/scopes/acme/exceptions",
            Some(&f.reader),
            None,
        )
        .await;
    let version = before["version"].as_u64().unwrap();
    let rule = json!({"type": "account", "source": "ID:JIRAUSER3", "destination": "id:5b10a002"});
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/exceptions",
            Some(&f.reader),
            Some(rule.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, added) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/exceptions",
            Some(&f.writer),
            Some(rule),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(added["version"].as_u64().unwrap(), version + 1);
    assert_eq!(
        added["rules"][0]["source"], "id:JIRAUSER3",
        "kept as a run reads it: {added}"
    );
    let (status, removed) = f
        .call(
            "DELETE",
            "/api/v1/scopes/acme/exceptions/account/id%3AJIRAUSER3",
            Some(&f.writer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{removed}");
    assert_eq!(removed["version"].as_u64().unwrap(), version + 2);
    assert!(removed["rules"].as_array().unwrap().is_empty());
    let (status, _) = f
        .call(
            "DELETE",
            "/api/v1/scopes/acme/exceptions/account/id%3AJIRAUSER3",
            Some(&f.writer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = f
        .call(
            "DELETE",
            "/api/v1/scopes/acme/exceptions/robot/x",
            Some(&f.writer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = f
        .call(
            "GET",
            "/api/v1/scopes/acme/exceptions",
            Some(&f.foreign),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn ready_is_503_when_the_store_does_not_answer() {
    let f = fixture().await;
    let store = SqliteScopeStore::open_in_memory().await.unwrap();
    let app = App::new(Arc::new(store.clone()), Arc::new(SystemClock));
    let state = ServerState::new(app, Arc::new(store.clone()));
    store.close().await;
    let response = router(state)
        .oneshot(Request::get("/ready").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value =
        serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(body["code"], "unavailable");
    // The live one is ready.
    assert_eq!(f.call("GET", "/ready", None, None).await.0, StatusCode::OK);
}

// ---------------------------------------------------------------------------------------
// Item references, affected items and re-attribution.

const ITEMS_CSV: &str =
    "container,container_type,item,item_type,title,role,type,identity,permissions
ENG,space,page-1,page,=HYPERLINK(\"x\"),creator,account,JIRAUSER1,
ENG,space,page-1,page,=HYPERLINK(\"x\"),mentioned,account,jdoe,
ENG,space,page-2,page,Notes,commenter,account,John.Doe@acme.com,
ENG,space,,,,permission,account,JIRAUSER1,4
OPS,project,OPS-1,issue,Broken,assignee,account,JIRAUSER2,
OPS,project,,,,permission,group,G1,2
";

#[tokio::test]
async fn items_upload_needs_a_writer_and_refuses_a_bad_file_whole() {
    let f = fixture().await;
    let upload = |content: &str, format: &str| json!({"format": format, "content": content});
    let (status, body) = f
        .call("GET", "/api/v1/scopes/acme/items", Some(&f.reader), None)
        .await;
    assert_eq!(
        (status, body["references"].clone()),
        (StatusCode::OK, json!(0))
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("No item references have been imported"),
        "{body}"
    );

    let (status, body) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/items",
            Some(&f.reader),
            Some(upload(ITEMS_CSV, "csv")),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/items",
            Some(&f.foreign),
            Some(upload(ITEMS_CSV, "csv")),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another scope's token learns nothing: {body}"
    );
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/items",
            None,
            Some(upload(ITEMS_CSV, "csv")),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, body) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/items",
            Some(&f.writer),
            Some(upload(ITEMS_CSV, "csv")),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["references"].clone(), body["items"].clone()),
        (json!(6), json!(5))
    );
    assert!(body.get("message").is_none(), "{body}");

    let bad = [
        (
            upload(
                "container,item,role,type,identity\nENG,p,creator,robot,u\n",
                "csv",
            ),
            "upload.csv:2: field \"type\"",
        ),
        (
            upload("container,item,role,type\nENG,p,creator,account\n", "csv"),
            "upload.csv:1: field \"identity\"",
        ),
        (
            upload(
                "{\"container\":\"ENG\",\"item\":\"p\",\"references\":[{\"role\":\"boss\",\"type\":\"account\",\"identity\":\"u\"}]}\n",
                "jsonl",
            ),
            "upload.jsonl:1: /references/0/role",
        ),
        (upload("not json\n", "jsonl"), "upload.jsonl:1"),
    ];
    for (body, expected) in bad {
        let (status, answer) = f
            .call(
                "POST",
                "/api/v1/scopes/acme/items",
                Some(&f.writer),
                Some(body),
            )
            .await;
        assert_eq!(
            (status, answer["code"].clone()),
            (StatusCode::BAD_REQUEST, json!("invalid_items")),
            "{answer}"
        );
        assert!(
            answer["message"].as_str().unwrap().starts_with(expected),
            "{answer}"
        );
    }
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/items",
            Some(&f.writer),
            Some(json!({"format": "xml", "content": ""})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, body) = f
        .call("GET", "/api/v1/scopes/acme/items", Some(&f.reader), None)
        .await;
    assert_eq!(
        body["references"],
        json!(6),
        "nothing of a refused upload is stored: {body}"
    );

    let jsonl = "{\"container\":\"ENG\",\"item\":\"p\",\"references\":[{\"role\":\"owner\",\"type\":\"account\",\"identity\":\"msmith\"}]}\n";
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/items",
            Some(&f.writer),
            Some(upload(jsonl, "jsonl")),
        )
        .await;
    assert_eq!(
        (status, body["references"].clone()),
        (StatusCode::OK, json!(1)),
        "an upload replaces the set: {body}"
    );
}

#[tokio::test]
async fn affected_items_filter_page_and_count_and_follow_a_changed_destination() {
    let f = fixture().await;
    let (status, body) = f
        .call(
            "GET",
            "/api/v1/scopes/acme/namespaces/identity:user/mappings/jdoe/items",
            Some(&f.reader),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"], json!([]));
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("crosswalk items import"),
        "no references yet says how to import: {body}"
    );
    let (_, body) = f
        .call(
            "GET",
            "/api/v1/scopes/acme/reattribution",
            Some(&f.reader),
            None,
        )
        .await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("POST /api/v1/scopes/acme/items"),
        "{body}"
    );
    let (_, body) = f
        .call(
            "GET",
            "/api/v1/scopes/globex/namespaces/identity:user/mappings/jdoe/items",
            Some(&f.admin),
            None,
        )
        .await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("No job of scope \"globex\" has run yet"),
        "{body}"
    );

    f.call(
        "POST",
        "/api/v1/scopes/acme/items",
        Some(&f.writer),
        Some(json!({"format": "csv", "content": ITEMS_CSV})),
    )
    .await;
    let base = "/api/v1/scopes/acme/namespaces/identity:user/mappings";
    let (status, body) = f
        .call("GET", &format!("{base}/jdoe/items"), Some(&f.reader), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["source_key"],
        json!("JIRAUSER1"),
        "a username names the mapping"
    );
    assert_eq!(body["items"].as_array().unwrap().len(), 4, "{body}");
    assert_eq!(body["counts"]["references"], json!(4));
    assert_eq!(body["counts"]["items"], json!(3));
    assert_eq!(body["counts"]["permissions"], json!(4));
    assert_eq!(
        body["counts"]["by_role"],
        json!({"commenter": 1, "creator": 1, "mentioned": 1, "permission": 1})
    );

    let (_, body) = f
        .call(
            "GET",
            &format!("{base}/JIRAUSER1/items?role=last%20modifier"),
            Some(&f.reader),
            None,
        )
        .await;
    assert_eq!(body["items"], json!([]));
    let (_, body) = f
        .call(
            "GET",
            &format!("{base}/JIRAUSER1/items?role=creator"),
            Some(&f.reader),
            None,
        )
        .await;
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    let (_, body) = f
        .call(
            "GET",
            &format!("{base}/JIRAUSER1/items?type=page&container=ENG"),
            Some(&f.reader),
            None,
        )
        .await;
    assert_eq!(body["items"].as_array().unwrap().len(), 3);
    let (_, body) = f
        .call(
            "GET",
            &format!("{base}/JIRAUSER1/items?container=OPS"),
            Some(&f.reader),
            None,
        )
        .await;
    assert_eq!(body["items"], json!([]));
    let (status, body) = f
        .call(
            "GET",
            &format!("{base}/JIRAUSER1/items?role=boss"),
            Some(&f.reader),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = f
        .call(
            "GET",
            &format!("{base}/nobody-at-all/items"),
            Some(&f.reader),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = f
        .call(
            "GET",
            &format!("{base}/JIRAUSER1/items"),
            Some(&f.foreign),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Keyset pages of one item: nothing repeated or skipped.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let uri = match &after {
            Some(next) => format!("{base}/JIRAUSER1/items?limit=1&after={next}"),
            None => format!("{base}/JIRAUSER1/items?limit=1"),
        };
        let (status, body) = f.call("GET", &uri, Some(&f.reader), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        seen.extend(
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| format!("{}/{}/{}", i["container"], i["item"], i["role"])),
        );
        if body["last_page"] == json!(true) {
            break;
        }
        after = Some(body["next"].as_str().unwrap().to_string());
    }
    assert_eq!(seen.len(), 4, "{seen:?}");
    let (status, _) = f
        .call(
            "GET",
            &format!("{base}/JIRAUSER1/items?after=bogus"),
            Some(&f.reader),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (_, group) = f
        .call(
            "GET",
            "/api/v1/scopes/acme/namespaces/identity:group/mappings/G1/items",
            Some(&f.reader),
            None,
        )
        .await;
    assert_eq!(group["counts"]["permissions"], json!(2), "{group}");

    // The security map counts permissions now.
    let (_, map) = f
        .call(
            "GET",
            &format!("/v1/transfers/{}/security_map?include=all", f.transfer),
            Some(&f.reader),
            None,
        )
        .await;
    let entry = |id: &str| {
        map["item"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["source"]["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(entry("JIRAUSER1")["permissions"], json!(4), "{map}");
    assert_eq!(entry("G1")["permissions"], json!(2), "{map}");
    assert_eq!(entry("JIRAUSER3")["permissions"], json!(0), "{map}");

    // Nothing changed yet: nothing to re-attribute.
    let (_, before) = f
        .call(
            "GET",
            "/api/v1/scopes/acme/reattribution",
            Some(&f.reader),
            None,
        )
        .await;
    assert_eq!(before["entries"], json!([]), "{before}");
    let cursor = before["cursor"].as_str().unwrap().to_string();

    // An exception moves John to Maria's cloud account; the second run changes his destination.
    let cli = Caller::cli("test");
    let rule = crosswalk_store::scope::ExceptionRow {
        kind: crosswalk_core::IdentityKind::Account,
        source: "id:JIRAUSER1".into(),
        destination: "id:5b10a002".into(),
    };
    f.state
        .app
        .add_exception(&cli, "acme", &rule)
        .await
        .unwrap();
    let files = InputFiles {
        source: f._dir.path().join("source.csv"),
        destination: f._dir.path().join("destination.csv"),
        policy: None,
        fixes: None,
        exceptions: None,
        skip_invalid: false,
    };
    let input = crosswalk_app::import(&files, &mut |_| {}).unwrap();
    f.state
        .app
        .run_job(
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

    let (status, after_run) = f
        .call(
            "GET",
            &format!("/api/v1/scopes/acme/reattribution?since={cursor}"),
            Some(&f.reader),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{after_run}");
    let entries = after_run["entries"].as_array().unwrap();
    let john: Vec<&Value> = entries
        .iter()
        .filter(|e| e["source_key"] == "JIRAUSER1")
        .collect();
    assert_eq!(john.len(), 4, "each of John's items: {after_run}");
    for entry in &john {
        assert_eq!(
            (
                entry["old_destination_id"].clone(),
                entry["new_destination_id"].clone()
            ),
            (json!("5b10a001"), json!("5b10a002")),
            "{entry}"
        );
        assert_eq!(entry["reason"], json!("exception"));
    }
    assert!(
        john.iter()
            .any(|e| e["role"] == "permission" && e["permissions"] == 4)
    );
    assert!(
        entries
            .iter()
            .all(|e| e["old_destination_id"] != e["new_destination_id"])
    );
    let (_, later) = f
        .call(
            "GET",
            &format!(
                "/api/v1/scopes/acme/reattribution?since={}",
                after_run["cursor"].as_str().unwrap()
            ),
            Some(&f.reader),
            None,
        )
        .await;
    assert_eq!(
        (later["entries"].clone(), later["last_page"].clone()),
        (json!([]), json!(true))
    );
    let (status, _) = f
        .call(
            "GET",
            "/api/v1/scopes/acme/reattribution?since=nope",
            Some(&f.reader),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = f
        .call(
            "GET",
            "/api/v1/scopes/acme/reattribution",
            Some(&f.foreign),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The change feed says how many items John's change affects.
    let (_, feed) = f
        .call(
            "GET",
            &format!("/api/v1/scopes/acme/changes?after={cursor}"),
            Some(&f.reader),
            None,
        )
        .await;
    let change = feed["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["source_key"] == "JIRAUSER1")
        .unwrap()
        .clone();
    assert_eq!(change["affected_items"], json!(4), "{change}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_check_uploaded_files_and_get_what_the_cli_prints() {
    let f = fixture().await;
    let duplicated = format!(
        "{SOURCE}account,JIRAUSER4,john2,john.doe@acme.com,,John Doe,John,Doe,true,ldap,,,,\n"
    );
    let upload = json!({
        "source": {"format": "csv", "content": duplicated},
        "destination": {"format": "csv", "content": DESTINATION},
    });
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/check",
            Some(&f.reader),
            Some(upload.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "acme");
    let outcome = &body["outcome"];
    assert_eq!(outcome["blockers"], 2, "{outcome}");
    let duplicate = &outcome["findings"][0];
    assert_eq!(
        (
            duplicate["kind"].as_str(),
            duplicate["severity"].as_str(),
            duplicate["count"].as_u64()
        ),
        (Some("duplicate_email"), Some("blocker"), Some(2))
    );
    assert_eq!(duplicate["rows"].as_array().unwrap().len(), 2);
    assert!(
        duplicate["suggested_fix"]
            .as_str()
            .unwrap()
            .starts_with("merge")
    );
    assert_eq!(
        outcome["suggested"]["JIRAUSER4"],
        json!({"fix": "merge", "into": "JIRAUSER1"}),
        "by the stated rule: {outcome}"
    );
    assert!(
        outcome["merge_rule"]
            .as_str()
            .unwrap()
            .starts_with("keep the active account")
    );
    let group = outcome["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "group_exists_in_destination")
        .expect("the group warning");
    assert_eq!(group["rows"][0]["user_key"], "G1");

    // The admin's edited CSV, imported back: the blocker is gone, the fix listed.
    let fixes = "UserKey,UserName,ErrorType,OldEmail,NewEmail,Tombstone,AccountType,Exclude,MergeInto\n\
                 JIRAUSER4,john2,DUPLICATE_EMAIL,john.doe@acme.com,,false,account,false,JIRAUSER1\n";
    let mut fixed = upload.clone();
    fixed["fixes"] = json!(fixes);
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/check",
            Some(&f.reader),
            Some(fixed),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["outcome"]["blockers"], 0);
    assert_eq!(
        body["outcome"]["applied"]["merged"],
        json!([["JIRAUSER4", "JIRAUSER1"]])
    );

    // Each bad input is a 400 naming the uploaded file, its line and the field.
    let mut bad_fixes = upload.clone();
    bad_fixes["fixes"] = json!("UserKey,NewEmail,Tombstone\nJIRAUSER4,,maybe\n");
    let mut bad_items = upload.clone();
    bad_items["items"] =
        json!("container,item,role,type,identity\nENG,page-1,boss,account,JIRAUSER1\n");
    let mut no_items = upload.clone();
    no_items["users"] = json!("related");
    no_items["containers"] = json!(["ENG"]);
    let bad_source = json!({"source": {"format": "csv", "content": "type,id\naccount,\n"}});
    for (request, expected) in [
        (
            bad_fixes,
            vec!["fixes.csv:2", "Tombstone", "nothing applied"],
        ),
        (bad_items, vec!["items.csv:2", "role"]),
        (no_items, vec!["items"]),
        (bad_source, vec!["source.csv:2"]),
    ] {
        let (status, body) = f
            .call(
                "POST",
                "/api/v1/scopes/acme/check",
                Some(&f.reader),
                Some(request),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["code"], "invalid_request");
        let message = body["message"].as_str().unwrap();
        for part in expected {
            assert!(message.contains(part), "{part:?} missing from {message}");
        }
        assert!(
            !message.contains("/tmp"),
            "names the file as uploaded: {message}"
        );
    }

    // The user scope: who is related to ENG, and why.
    let mut scoped = upload.clone();
    scoped["items"] = json!(
        "container,item,role,type,identity\nENG,page-1,creator,account,JIRAUSER2\nENG,page-2,mentioned,account,ghost\n"
    );
    scoped["users"] = json!("related");
    scoped["containers"] = json!(["ENG"]);
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/check",
            Some(&f.reader),
            Some(scoped),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let in_scope = &body["outcome"]["scope"]["in_scope"];
    assert_eq!(in_scope.as_array().unwrap().len(), 1, "{body}");
    assert_eq!(in_scope[0]["id"], "JIRAUSER2");
    assert_eq!(
        body["outcome"]["blockers"], 0,
        "the duplicates are not in scope"
    );

    let (status, foreign) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/check",
            Some(&f.foreign),
            Some(upload.clone()),
        )
        .await;
    let (_, missing) = f
        .call(
            "POST",
            "/api/v1/scopes/nowhere/check",
            Some(&f.foreign),
            Some(upload),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        foreign["message"]
            .as_str()
            .unwrap()
            .replace("acme", "nowhere"),
        missing["message"].as_str().unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_plan_uploaded_inputs_against_the_stored_scope_writing_nothing() {
    let f = fixture().await;
    let upload = json!({
        "source": {"format": "csv", "content": SOURCE},
        "destination": {"format": "csv", "content": DESTINATION},
        "job": "wave-1",
    });
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/plan",
            Some(&f.reader),
            Some(upload),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "acme");
    assert_eq!(
        body["counts"],
        json!({"new": 0, "changed": 0, "removed": 0, "unchanged": 4}),
        "the same inputs change nothing: {body}"
    );
    assert!(body["rows"].as_array().unwrap().is_empty());

    // A wave without JIRAUSER3 and with a new account: one removed, one new; still nothing written.
    let source = SOURCE.replace(
        "account,JIRAUSER3,nobody,nobody@elsewhere.example,,No Body,,,true,internal,,,,\n",
        "",
    ) + "account,JIRAUSER9,kim,kim@acme.com,,Kim,,,true,internal,,,,\n";
    let upload = json!({
        "source": {"format": "csv", "content": source},
        "destination": {"format": "csv", "content": DESTINATION},
        "job": "wave-1",
    });
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/plan",
            Some(&f.reader),
            Some(upload.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (
            body["counts"]["new"].as_u64(),
            body["counts"]["removed"].as_u64()
        ),
        (Some(1), Some(1)),
        "{body}"
    );
    let rows: Vec<(&str, &str)> = body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["change"].as_str().unwrap(),
                r["source_key"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows, [("removed", "JIRAUSER3"), ("new", "JIRAUSER9")]);
    let (_, again) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/plan",
            Some(&f.reader),
            Some(upload),
        )
        .await;
    assert_eq!(again["counts"], body["counts"], "the dry run wrote nothing");

    let bad = json!({
        "source": {"format": "csv", "content": SOURCE},
        "destination": {"format": "csv", "content": DESTINATION},
        "policy": "[email]\ndomain_aliases = 7\n",
    });
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/plan",
            Some(&f.reader),
            Some(bad),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("policy.toml:"),
        "{body}"
    );
    let valid = json!({"source": {"format": "csv", "content": SOURCE}, "destination": {"format": "csv", "content": DESTINATION}});
    let (status, _) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/plan",
            Some(&f.foreign),
            Some(valid),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = f
        .call(
            "POST",
            "/api/v1/scopes/acme/plan",
            Some(&f.reader),
            Some(json!({"source": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

// Peer tools' mapping files (issue 20).
#[tokio::test]
async fn the_scope_exports_as_a_peer_tools_mapping_file() {
    let f = fixture().await;
    let (status, body) = f
        .call(
            "GET",
            "/api/v1/scopes/acme/export?format=sharegate",
            Some(&f.reader),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let text = body.as_str().unwrap();
    assert!(text.starts_with("SourceValue,DestinationValue\n"), "{text}");
    assert!(text.contains(",john.doe@acme.com\n"), "{text}");
    let (status, body) = f
        .call(
            "GET",
            "/api/v1/scopes/acme/export?format=excel",
            Some(&f.reader),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"].as_str().unwrap().contains("spmt, gwm"),
        "{body}"
    );
    let (status, _) = f
        .call(
            "GET",
            "/api/v1/scopes/acme/export?format=spmt",
            Some(&f.foreign),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = f
        .call("GET", "/api/v1/scopes/acme/export?format=spmt", None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, document) = f.call("GET", "/api/openapi.json", None, None).await;
    assert!(document["paths"]["/api/v1/scopes/{scope}/export"]["get"].is_object());
}

// ---------------------------------------------------------------------------------------
// The report query: pages, counts, export.

/// The body and headers of a GET, as text.
async fn get_text(
    f: &Fixture,
    uri: &str,
    token: &str,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let request = Request::builder()
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let response = router(f.state.clone()).oneshot(request).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
}

fn page_ids(page: &Value) -> Vec<String> {
    page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["source_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_report_api_filters_searches_sorts_pages_counts_and_exports() {
    let f = fixture().await;
    // A second wave whose account has a display name a spreadsheet would run.
    let source = "type,id,username,email,aliases,display_name,given_name,family_name,active,source_directory,email_verified,name,group,member\n\
        account,JIRAUSER9,mallory,mallory@elsewhere.example,,=cmd|' /C calc'!A0,,,true,internal,,,,\n";
    std::fs::write(f._dir.path().join("wave2.csv"), source).unwrap();
    let files = InputFiles {
        source: f._dir.path().join("wave2.csv"),
        destination: f._dir.path().join("destination.csv"),
        policy: None,
        exceptions: None,
        fixes: None,
        skip_invalid: false,
    };
    let input = crosswalk_app::import(&files, &mut |_| {}).unwrap();
    f.state
        .app
        .run_job(
            &Caller::cli("test"),
            RunRequest {
                scope: "acme".into(),
                job: Some("wave-2".into()),
                input,
                force: false,
            },
            &mut |_| {},
        )
        .await
        .unwrap();
    let token = Some(f.reader.as_str());

    let (status, all) = f
        .call("GET", "/api/v1/scopes/acme/report", token, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(
        page_ids(&all),
        ["JIRAUSER1", "JIRAUSER2", "JIRAUSER3", "JIRAUSER9", "G1"]
    );
    assert_eq!(all["next"], Value::Null);
    // Filters, several resolutions at once, type, search (any case, destination fields too).
    for (query, expected) in [
        ("resolution=Unresolved", vec!["JIRAUSER3", "JIRAUSER9"]),
        (
            "resolution=email,name",
            vec!["JIRAUSER1", "JIRAUSER2", "G1"],
        ),
        ("type=group", vec!["G1"]),
        ("search=MARIA", vec!["JIRAUSER2"]),
        ("search=5b10A001", vec!["JIRAUSER1"]),
        ("search=jd%40acme", vec!["JIRAUSER1"]),
        (
            "search=acme&type=account&resolution=Email",
            vec!["JIRAUSER1", "JIRAUSER2"],
        ),
        ("flagged=true", vec![]),
        ("ambiguous=true", vec![]),
        ("suggested=true", vec![]),
        ("job=wave-2", vec!["JIRAUSER9"]),
    ] {
        let (status, page) = f
            .call(
                "GET",
                &format!("/api/v1/scopes/acme/report?{query}"),
                token,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{query}: {page}");
        assert_eq!(page_ids(&page), expected, "{query}");
    }
    // Sorted, a keyset page at a time.
    let mut seen = Vec::new();
    let mut uri =
        "/api/v1/scopes/acme/report?sort=source_display_name&order=desc&limit=2".to_string();
    loop {
        let (status, page) = f.call("GET", &uri, token, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(page_ids(&page));
        match page["next"].as_str() {
            Some(next) => {
                uri = format!(
                    "/api/v1/scopes/acme/report?sort=source_display_name&order=desc&limit=2&after={next}"
                )
            }
            None => break,
        }
    }
    // Byte order: "developers" (lower case) after "No Body"; "=cmd…" before every letter.
    assert_eq!(
        seen,
        ["G1", "JIRAUSER3", "JIRAUSER2", "JIRAUSER1", "JIRAUSER9"]
    );
    // Bad values are 400s naming the parameter.
    for (query, says) in [
        ("sort=colour", "sort \"colour\""),
        ("order=up", "order"),
        ("resolution=Fuzzy", "resolution"),
        ("type=robot", "type"),
        ("after=zz", "cursor"),
        ("limit=0", "limit"),
    ] {
        let (status, body) = f
            .call(
                "GET",
                &format!("/api/v1/scopes/acme/report?{query}"),
                token,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains(says),
            "{query}: {body}"
        );
    }
    // Counts under the filters.
    let (status, counts) = f
        .call(
            "GET",
            "/api/v1/scopes/acme/report/counts?type=account&resolution=Email",
            token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (counts["matching"].as_u64(), counts["parts"].as_u64()),
        (Some(2), Some(1))
    );
    let unresolved = counts["resolutions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["resolution"] == "Unresolved")
        .unwrap();
    assert_eq!(
        unresolved["count"], 2,
        "every filter but the resolution one"
    );
    // The export: the 12 columns, the filters, the formula neutralised, its parts said.
    let (status, headers, csv) = get_text(
        &f,
        "/api/v1/scopes/acme/report/export?type=account",
        &f.reader,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        (
            headers["x-report-parts"].to_str().unwrap(),
            headers["x-report-rows"].to_str().unwrap()
        ),
        ("1", "4")
    );
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], crosswalk_core::report::REPORT_COLUMNS.join(","));
    assert_eq!(lines.len(), 5);
    assert!(
        lines[4].starts_with("account,wave-2,JIRAUSER9,mallory,mallory@elsewhere.example,'=cmd|"),
        "{}",
        lines[4]
    );
    let (status, _, body) =
        get_text(&f, "/api/v1/scopes/acme/report/export?part=2", &f.reader).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("part 1 to 1"), "{body}");
    // Another scope's token: the same 404 as a missing scope.
    let (status, _) = f
        .call("GET", "/api/v1/scopes/acme/report", Some(&f.foreign), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = get_text(&f, "/api/v1/scopes/acme/report/export", &f.foreign).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
