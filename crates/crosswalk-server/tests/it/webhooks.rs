//! The webhook routes in process (issue 21): who may manage subscriptions, the secret shown
//! once, another scope's token answered as a missing scope, the events in commit order, and
//! the payloads in the OpenAPI document.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use crosswalk_app::{App, Caller, EventAnnouncer, SystemClock};
use crosswalk_server::{ServerState, router, tokens};
use crosswalk_store::scope::{Namespace, NewScope, Role, SqliteScopeStore};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

async fn call(
    state: &ServerState,
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
    let response = router(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn admins_manage_subscriptions_readers_read_and_other_scopes_see_nothing() {
    let clock = Arc::new(SystemClock);
    let store = SqliteScopeStore::open_in_memory()
        .await
        .unwrap()
        .with_announcer(Arc::new(EventAnnouncer::new(clock.clone())));
    let app = App::new(Arc::new(store.clone()), clock).with_webhooks(Arc::new(store.clone()));
    let cli = Caller::cli("test");
    for name in ["acme", "globex"] {
        let scope = NewScope {
            name: name.into(),
            source_label: "jira-server https://jira".into(),
            destination_label: "cloud".into(),
        };
        app.create_scope(&cli, &scope).await.unwrap();
    }
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
    let (reader, admin, foreign) = (
        issue(Some("acme"), Role::Reader).await,
        issue(Some("acme"), Role::Admin).await,
        issue(Some("globex"), Role::Admin).await,
    );
    let state = ServerState::new(app.clone(), Arc::new(store.clone()));
    let hooks = "/api/v1/scopes/acme/webhooks";
    let body =
        json!({"url": "https://hooks.example.com/crosswalk", "events": ["mappings.changed"]});

    let (status, refused) = call(&state, "POST", hooks, &reader, Some(body.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    let (status, bad) = call(
        &state,
        "POST",
        hooks,
        &admin,
        Some(json!({"url": "http://10.0.0.1/x"})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "an internal address is refused: {bad}"
    );
    let (status, bad) = call(
        &state,
        "POST",
        hooks,
        &admin,
        Some(json!({"url": "https://x.example", "events": ["job.finished"]})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    assert!(
        bad["message"].as_str().unwrap().contains("job.completed"),
        "the error names the types: {bad}"
    );
    let (status, made) = call(&state, "POST", hooks, &admin, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let secret = made["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    let id = made["subscription"]["id"].as_str().unwrap().to_string();

    // Readers list it, never with its secret; another scope's token gets a missing scope.
    let (status, listed) = call(&state, "GET", hooks, &reader, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed[0]["id"], id.as_str());
    assert!(!listed.to_string().contains(&secret));
    for path in [
        hooks.to_string(),
        format!("{hooks}/deliveries"),
        "/api/v1/scopes/acme/events".to_string(),
    ] {
        let (status, _) = call(&state, "GET", &path, &foreign, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _) = call(
        &state,
        "POST",
        &format!("{hooks}/{id}/pause"),
        &foreign,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A write announces itself; the subscription gets a delivery of it.
    app.set_app_mapping(
        &cli,
        "acme",
        &Namespace::parse("jira:issue").unwrap(),
        "ISSUE-1",
        "10001",
    )
    .await
    .unwrap();
    let (status, events) = call(&state, "GET", "/api/v1/scopes/acme/events", &reader, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(events[0]["event"]["type"], "mappings.changed");
    assert_eq!(events[0]["event"]["data"]["namespaces"]["jira:issue"], 1);
    let (status, deliveries) = call(
        &state,
        "GET",
        &format!("{hooks}/deliveries?state=pending"),
        &reader,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(deliveries.as_array().unwrap().len(), 1);
    let delivery = deliveries[0]["id"].as_i64().unwrap();
    let (status, _) = call(
        &state,
        "POST",
        &format!("{hooks}/deliveries/{delivery}/redeliver"),
        &admin,
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a pending delivery is not redelivered"
    );

    let (status, paused) = call(&state, "POST", &format!("{hooks}/{id}/pause"), &admin, None).await;
    assert_eq!(
        (status, paused["paused"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    let (status, resumed) = call(
        &state,
        "POST",
        &format!("{hooks}/{id}/resume"),
        &admin,
        None,
    )
    .await;
    assert_eq!(
        (status, resumed["paused"].as_bool()),
        (StatusCode::OK, Some(false))
    );
    let (status, _) = call(&state, "DELETE", &format!("{hooks}/{id}"), &admin, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(&state, "DELETE", &format!("{hooks}/{id}"), &admin, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The OpenAPI document has the routes and every event payload.
    let (_, document) = call(&state, "GET", "/api/openapi.json", &reader, None).await;
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/api/v1/scopes/{scope}/webhooks",
        "/api/v1/scopes/{scope}/webhooks/deliveries",
        "/api/v1/scopes/{scope}/events",
    ] {
        assert!(paths.contains_key(path), "{path}");
    }
    let schemas = document["components"]["schemas"].to_string();
    for name in [
        "JobCompleted",
        "MappingsChanged",
        "ReviewDecided",
        "ScimGroupConflict",
        "RetentionPurged",
    ] {
        assert!(schemas.contains(name), "{name} missing from the schemas");
    }
}
