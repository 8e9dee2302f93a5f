//! The web UI's handlers in process: sign-in and its cookies, the CSRF and Origin guard,
//! scope isolation, the pages' answers. (The browser tests in crosswalk-cli drive the same
//! pages through a real Chromium.)

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use crosswalk_app::{App, Caller, InputFiles, RunRequest, SystemClock};
use crosswalk_server::{ServerState, router, tokens};
use crosswalk_store::scope::{NewScope, Role, SqliteScopeStore};
use http_body_util::BodyExt;
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

struct Site {
    _dir: tempfile::TempDir,
    state: ServerState,
    reader: String,
}

/// Scope `acme` with one run, scope `globex` empty, a reader token of `acme`.
async fn site(secure_cookies: bool) -> Site {
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
    let reader = tokens::issue(
        &store,
        Some("acme"),
        Role::Reader,
        "test",
        "cli:test",
        time::OffsetDateTime::now_utc(),
    )
    .await
    .unwrap()
    .token;
    let state = ServerState::new(app, Arc::new(store)).with_secure_cookies(secure_cookies);
    Site {
        _dir: dir,
        state,
        reader,
    }
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .map_or("", |v| v.to_str().unwrap())
    }

    fn cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }

    /// The value `name` is set to, as a `Cookie` header pair.
    fn cookie_pair(&self, name: &str) -> String {
        let set = self
            .cookies()
            .into_iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} cookie"));
        set.split(';').next().unwrap().to_string()
    }

    /// The value of the hidden `_csrf` field of the page's first form that has one.
    fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"_csrf\" value=\"")
            .expect("a _csrf field")
            + "name=\"_csrf\" value=\"".len();
        self.body[at..at + 64].to_string()
    }
}

impl Site {
    async fn send(&self, request: Request<Body>) -> Answer {
        let response = router(self.state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> Answer {
        let mut request = Request::get(path).header(header::HOST, "ui.test");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    async fn post(&self, path: &str, cookie: &str, origin: Option<&str>, form: &str) -> Answer {
        let mut request = Request::post(path)
            .header(header::HOST, "ui.test")
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(origin) = origin {
            request = request.header(header::ORIGIN, origin);
        }
        self.send(request.body(Body::from(form.to_string())).unwrap())
            .await
    }

    /// Signs in with `token` as a browser would; returns the session's `Cookie` pair and its
    /// CSRF token.
    async fn sign_in(&self, token: &str) -> (String, String) {
        let page = self.get("/ui/sign-in", None).await;
        let pre = page.cookie_pair("crosswalk_sign_in");
        let form = format!("_csrf={}&next=%2Fui%2F&token={token}", page.csrf());
        let answer = self
            .post("/ui/sign-in", &pre, Some("http://ui.test"), &form)
            .await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        let session = answer.cookie_pair("crosswalk_session");
        let home = self.get("/ui/", Some(&session)).await;
        assert_eq!(home.status, StatusCode::OK);
        (session, home.csrf())
    }
}

#[tokio::test]
async fn the_root_leads_to_the_ui_and_the_ui_to_sign_in() {
    let site = site(false).await;
    let root = site.get("/", None).await;
    assert_eq!(
        (root.status, root.location()),
        (StatusCode::SEE_OTHER, "/ui/")
    );
    let report = site.get("/ui/scopes/acme/report?type=group", None).await;
    assert_eq!(report.status, StatusCode::SEE_OTHER);
    assert_eq!(
        report.location(),
        "/ui/sign-in?next=%2Fui%2Fscopes%2Facme%2Freport%3Ftype%3Dgroup"
    );
    let page = site.get("/ui/sign-in", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert_eq!(page.headers[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");
    let css = site.get("/ui/assets/style.css", None).await;
    assert_eq!(
        (
            css.status,
            css.headers[header::CONTENT_TYPE].to_str().unwrap()
        ),
        (StatusCode::OK, "text/css; charset=utf-8")
    );
    let unknown = site.get("/ui/nothing/here", None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(unknown.body.contains("<h1>Not found</h1>"));
    // The UI is not part of the API's document.
    let document = site.get("/api/openapi.json", None).await;
    assert!(!document.body.contains("/ui/"));
}

#[tokio::test]
async fn signing_in_sets_a_strict_http_only_session_cookie_and_never_echoes_the_token() {
    let site = site(false).await;
    let page = site.get("/ui/sign-in", None).await;
    let pre = page.cookies().join(" | ");
    assert!(
        pre.contains("Path=/ui/sign-in; HttpOnly; SameSite=Strict"),
        "{pre}"
    );
    let form = format!(
        "_csrf={}&next=%2Fui%2Fscopes%2Facme&token={}",
        page.csrf(),
        site.reader
    );
    let answer = site
        .post(
            "/ui/sign-in",
            &page.cookie_pair("crosswalk_sign_in"),
            Some("http://ui.test"),
            &form,
        )
        .await;
    assert_eq!(
        (answer.status, answer.location()),
        (StatusCode::SEE_OTHER, "/ui/scopes/acme")
    );
    let session = answer
        .cookies()
        .into_iter()
        .find(|c| c.starts_with("crosswalk_session="))
        .unwrap();
    assert!(
        session.ends_with("; Path=/ui; HttpOnly; SameSite=Strict"),
        "{session}"
    );
    assert!(!session.contains(&site.reader) && !answer.location().contains(&site.reader));
    assert_eq!(site.state.sessions.live(), 1);

    // A wrong token: the form again, 401, no session.
    let page = site.get("/ui/sign-in", None).await;
    let form = format!("_csrf={}&token=cw_nonsense", page.csrf());
    let answer = site
        .post(
            "/ui/sign-in",
            &page.cookie_pair("crosswalk_sign_in"),
            None,
            &form,
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(
        answer.body.contains("That token is not valid") && !answer.body.contains("cw_nonsense")
    );
    assert_eq!(site.state.sessions.live(), 1);

    // Behind TLS the cookies are Secure.
    let secure = self::site(true).await;
    let page = secure.get("/ui/sign-in", None).await;
    assert!(
        page.cookies()[0].ends_with("; Secure"),
        "{:?}",
        page.cookies()
    );
}

#[tokio::test]
async fn a_post_needs_its_csrf_token_and_this_sites_origin() {
    let site = site(false).await;
    // The sign-in form: without the pre-session token, or from another origin, refused.
    let page = site.get("/ui/sign-in", None).await;
    let pre = page.cookie_pair("crosswalk_sign_in");
    let good = format!("_csrf={}&token={}", page.csrf(), site.reader);
    let no_token = format!("token={}", site.reader);
    for (cookie, origin, form) in [
        (pre.as_str(), None, no_token.as_str()),
        ("", None, good.as_str()),
        (pre.as_str(), Some("http://evil.test"), good.as_str()),
    ] {
        let answer = site.post("/ui/sign-in", cookie, origin, form).await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "{cookie} {origin:?} {form}"
        );
        assert!(
            answer
                .cookies()
                .iter()
                .all(|c| !c.starts_with("crosswalk_session="))
        );
    }
    assert_eq!(site.state.sessions.live(), 0);

    let (session, csrf) = site.sign_in(&site.reader).await;
    for (origin, form) in [
        (None, String::new()),
        (None, format!("_csrf={}", "0".repeat(64))),
        (Some("null"), format!("_csrf={csrf}")),
        (Some("http://evil.test"), format!("_csrf={csrf}")),
    ] {
        let answer = site.post("/ui/sign-out", &session, origin, &form).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{origin:?} {form}");
        assert!(answer.body.contains("This form was refused"));
    }
    assert_eq!(
        site.get("/ui/", Some(&session)).await.status,
        StatusCode::OK,
        "still signed in"
    );
    let answer = site
        .post(
            "/ui/sign-out",
            &session,
            Some("http://ui.test"),
            &format!("_csrf={csrf}"),
        )
        .await;
    assert_eq!(
        (answer.status, answer.location()),
        (StatusCode::SEE_OTHER, "/ui/sign-in?signed_out=1")
    );
    assert_eq!(
        site.get("/ui/", Some(&session)).await.status,
        StatusCode::SEE_OTHER,
        "signed out"
    );
    assert_eq!(site.state.sessions.live(), 0);
}

#[tokio::test]
async fn a_session_sees_what_its_token_sees_and_ends_with_it() {
    let site = site(false).await;
    let (session, _) = site.sign_in(&site.reader).await;
    let scopes = site.get("/ui/", Some(&session)).await;
    assert!(scopes.body.contains("/ui/scopes/acme") && !scopes.body.contains("globex"));
    let foreign = site.get("/ui/scopes/globex/report", Some(&session)).await;
    let missing = site.get("/ui/scopes/nowhere/report", Some(&session)).await;
    assert_eq!(
        (foreign.status, missing.status),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    assert_eq!(
        foreign.body.replace("globex", "X"),
        missing.body.replace("nowhere", "X")
    );
    for path in [
        "/ui/scopes/globex",
        "/ui/scopes/globex/jobs/wave-1",
        "/ui/scopes/globex/mappings/account/JIRAUSER1",
    ] {
        assert_eq!(
            site.get(path, Some(&session)).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }

    let grid = site
        .get("/ui/scopes/acme/report?resolution=Email", Some(&session))
        .await;
    assert_eq!(grid.status, StatusCode::OK);
    assert!(
        grid.body.contains("2 users and groups match"),
        "{}",
        grid.body
    );
    assert!(
        grid.body.contains("<svg") && grid.body.contains("aria-label=\"Mappings per resolution: ")
    );
    let bad = site
        .get("/ui/scopes/acme/report?resolution=Fuzzy", Some(&session))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body
            .contains("resolution=&quot;Fuzzy&quot; is not a resolution"),
        "{}",
        bad.body
    );
    let detail = site
        .get("/ui/scopes/acme/mappings/account/jdoe", Some(&session))
        .await;
    assert_eq!(
        detail.status,
        StatusCode::OK,
        "an alternate key finds the mapping"
    );
    assert!(detail.body.contains("JIRAUSER1") && detail.body.contains("run 1 of job wave-1"));

    // Revoking the token through this server ends the session at its next request (through
    // another process: within the token cache's second, handlers.rs tests that).
    let (public_id, _) = tokens::parse(&site.reader).unwrap();
    site.state
        .tokens
        .revoke_token(public_id, time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    let after = site.get("/ui/", Some(&session)).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(site.state.sessions.live(), 0);
}
