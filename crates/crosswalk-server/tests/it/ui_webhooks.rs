//! The web UI's webhooks page in process (issue 21): a reader sees a failed delivery with its
//! error but no Redeliver button and may not redeliver; another scope's token finds no such
//! scope; an admin redelivers, and what cannot be redelivered is refused with a reason. (The
//! browser test in crosswalk-cli fails and redelivers one to a real receiver.)

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use crosswalk_app::{App, Caller, DeliverySettings, EventAnnouncer, SystemClock};
use crosswalk_events::{
    Deliverer, DeliveryConfig, Event, EventFilter, EventPayload, JobFailed, TargetPolicy,
    parse_range,
};
use crosswalk_server::{ServerState, router, tokens};
use crosswalk_store::scope::{DeliveryState, NewScope, Role, SqliteScopeStore};
use http_body_util::BodyExt;
use tower::ServiceExt;

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Answer {
    fn cookie_pair(&self, name: &str) -> String {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
            .find(|c| c.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} cookie"))
    }

    fn csrf(&self) -> String {
        let marker = "name=\"_csrf\" value=\"";
        let at = self.body.find(marker).expect("a _csrf field") + marker.len();
        self.body[at..at + 64].to_string()
    }
}

async fn send(state: &ServerState, request: Request<Body>) -> Answer {
    let response = router(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn get(state: &ServerState, path: &str, cookie: &str) -> Answer {
    let request = Request::get(path)
        .header(header::HOST, "ui.test")
        .header(header::COOKIE, cookie);
    send(state, request.body(Body::empty()).unwrap()).await
}

/// Posts the session's CSRF token from this site's own page.
async fn post(state: &ServerState, path: &str, session: &(String, String)) -> Answer {
    let request = Request::post(path)
        .header(header::HOST, "ui.test")
        .header(header::ORIGIN, "http://ui.test")
        .header(header::COOKIE, &session.0)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("_csrf={}", session.1)))
        .unwrap();
    send(state, request).await
}

/// Signs in with `token` as a browser would: the session's `Cookie` pair and CSRF token.
async fn sign_in(state: &ServerState, token: &str) -> (String, String) {
    let page = send(
        state,
        Request::get("/ui/sign-in")
            .header(header::HOST, "ui.test")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let request = Request::post("/ui/sign-in")
        .header(header::HOST, "ui.test")
        .header(header::ORIGIN, "http://ui.test")
        .header(header::COOKIE, page.cookie_pair("crosswalk_sign_in"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "_csrf={}&next=%2Fui%2F&token={token}",
            page.csrf()
        )))
        .unwrap();
    let answer = send(state, request).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let cookie = answer.cookie_pair("crosswalk_session");
    let home = get(state, "/ui/", &cookie).await;
    (cookie, home.csrf())
}

#[tokio::test]
async fn a_failed_delivery_is_shown_to_readers_and_redelivered_by_an_admin_only() {
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
    // Subscribed while loopback was allowed; delivered by a worker that does not allow it:
    // refused at once, so the delivery fails without any network.
    let allowing = TargetPolicy::default().allow(parse_range("127.0.0.0/8").unwrap());
    let url = "http://127.0.0.1:9/hooks/crosswalk";
    app.add_webhook(&cli, "acme", url, &EventFilter::all(), &allowing)
        .await
        .unwrap();
    let now = time::OffsetDateTime::now_utc();
    let event = Event::new(
        "acme",
        now,
        EventPayload::JobFailed(JobFailed {
            job: "wave-1".into(),
            transfer_id: uuid::Uuid::new_v4(),
            run: Some(2),
            actor: "cli:test".into(),
            error: "the source file is gone".into(),
        }),
    );
    app.announce("acme", &[event]).await.unwrap();
    let deliverer = Deliverer::new(DeliveryConfig::default()).unwrap();
    let round = app
        .deliver_due(&deliverer, &DeliverySettings::default(), now)
        .await
        .unwrap();
    assert_eq!(round.failed, 1, "{round:?}");
    let deliveries = app
        .webhook_deliveries(&cli, "acme", None, None, 10)
        .await
        .unwrap();
    let id = deliveries[0].id;
    let issue = |scope: &'static str, role| {
        let store = store.clone();
        async move {
            tokens::issue(&store, Some(scope), role, "test", "cli:test", now)
                .await
                .unwrap()
                .token
        }
    };
    let (reader, admin, foreign) = (
        issue("acme", Role::Reader).await,
        issue("acme", Role::Admin).await,
        issue("globex", Role::Admin).await,
    );
    let state = ServerState::new(app.clone(), Arc::new(store.clone()));
    let page = "/ui/scopes/acme/webhooks";
    let redeliver = format!("{page}/deliveries/{id}/redeliver");

    // A reader: the subscription and the failed delivery with its reason, no button.
    let reader = sign_in(&state, &reader).await;
    let seen = get(&state, page, &reader.0).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    assert!(seen.body.contains(url), "{}", seen.body);
    assert!(seen.body.contains("data-state=\"failed\""), "{}", seen.body);
    assert!(seen.body.contains("refused"), "{}", seen.body);
    assert!(seen.body.contains("--webhook-allow"), "{}", seen.body);
    assert!(!seen.body.contains("class=\"redeliver\""), "{}", seen.body);
    assert!(seen.body.contains("--role admin"), "{}", seen.body);
    let refused = post(&state, &redeliver, &reader).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(
        app.webhook_deliveries(&cli, "acme", None, None, 10)
            .await
            .unwrap()[0]
            .state,
        DeliveryState::Failed
    );
    let bad = get(&state, &format!("{page}?state=lost"), &reader.0).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body.contains("pending, delivered or failed"),
        "{}",
        bad.body
    );

    // Another scope's admin: no such scope, for the page and the button alike.
    let foreign = sign_in(&state, &foreign).await;
    assert_eq!(
        get(&state, page, &foreign.0).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post(&state, &redeliver, &foreign).await.status,
        StatusCode::NOT_FOUND
    );
    // The scope's own page links here.
    let admin = sign_in(&state, &admin).await;
    let scope_page = get(&state, "/ui/scopes/acme", &admin.0).await;
    assert!(
        scope_page
            .body
            .contains("href=\"/ui/scopes/acme/webhooks\""),
        "{}",
        scope_page.body
    );

    // The admin: a button on the failed row; redelivering comes back here, pending again.
    let seen = get(&state, page, &admin.0).await;
    assert!(seen.body.contains("class=\"redeliver\""), "{}", seen.body);
    let done = post(&state, &redeliver, &admin).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let location = done.headers[header::LOCATION].to_str().unwrap().to_string();
    assert_eq!(location, format!("{page}?redelivered={id}"));
    let back = get(&state, &location, &admin.0).await;
    assert!(back.body.contains("id=\"redeliver-note\""), "{}", back.body);
    assert!(
        back.body.contains("data-state=\"pending\""),
        "{}",
        back.body
    );
    let failed_only = get(&state, &format!("{page}?state=failed"), &admin.0).await;
    assert!(
        failed_only.body.contains("No failed deliveries."),
        "{}",
        failed_only.body
    );
    // Pending already: refused, saying why; a delivery that is not a number: refused too.
    let again = post(&state, &redeliver, &admin).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(again.body.contains("still pending"), "{}", again.body);
    let nonsense = post(&state, &format!("{page}/deliveries/x1/redeliver"), &admin).await;
    assert_eq!(
        nonsense.status,
        StatusCode::BAD_REQUEST,
        "{}",
        nonsense.body
    );
    assert!(
        nonsense.body.contains("not a delivery number"),
        "{}",
        nonsense.body
    );
}
