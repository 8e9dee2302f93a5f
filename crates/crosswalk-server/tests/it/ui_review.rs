//! The web UI's review, resolve, affected-items, re-attribution and check-and-plan pages in
//! process, over the demo's sample data (samples/) run by the application layer; and the
//! API's pre-flight gate on runs.

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use crosswalk_app::{App, Caller, InputFiles, RunRequest, SystemClock};
use crosswalk_server::{ServerState, router, tokens};
use crosswalk_store::scope::{ExceptionRow, NewScope, Role, SqliteScopeStore};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../samples")
}

struct Site {
    app: App,
    state: ServerState,
    reader: String,
    writer: String,
}

/// Scope `acme`: job `demo` run on the samples without their exceptions (Anna Kowalska and
/// Ahmed Hassan unresolved, Nadia Haddad a suggestion), with the sample item references when
/// `with_items`; scope `globex` empty. A reader and a writer token of `acme`.
async fn site(with_items: bool) -> Site {
    let store = SqliteScopeStore::open_in_memory().await.unwrap();
    let app = App::new(Arc::new(store.clone()), Arc::new(SystemClock));
    let cli = Caller::cli("test");
    for name in ["acme", "globex"] {
        let scope = NewScope {
            name: name.into(),
            source_label: "jira-server".into(),
            destination_label: "cloud".into(),
        };
        app.create_scope(&cli, &scope).await.unwrap();
    }
    let files = InputFiles {
        source: samples().join("server-directory.json"),
        destination: samples().join("cloud-directory.csv"),
        policy: Some(samples().join("policy.toml")),
        exceptions: None,
        fixes: None,
        skip_invalid: false,
    };
    let input = crosswalk_app::import(&files, &mut |_| {}).unwrap();
    app.run_job(
        &cli,
        RunRequest {
            scope: "acme".into(),
            job: Some("demo".into()),
            input,
            force: false,
        },
        &mut |_| {},
    )
    .await
    .unwrap();
    if with_items {
        let references =
            crosswalk_app::items::read_items_file(&samples().join("items.csv")).unwrap();
        app.import_items(&cli, "acme", &references).await.unwrap();
    }
    let at = time::OffsetDateTime::now_utc();
    let reader = tokens::issue(&store, Some("acme"), Role::Reader, "test", "cli:test", at)
        .await
        .unwrap()
        .token;
    let writer = tokens::issue(&store, Some("acme"), Role::Writer, "test", "cli:test", at)
        .await
        .unwrap()
        .token;
    let state = ServerState::new(app.clone(), Arc::new(store));
    Site {
        app,
        state,
        reader,
        writer,
    }
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

/// A signed-in browser: its session cookie and CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

fn csrf_of(body: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let at = body.find(marker).expect("a _csrf field") + marker.len();
    body[at..at + 64].to_string()
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

    async fn get(&self, path: &str, session: &Session) -> Answer {
        let request = Request::get(path)
            .header(header::HOST, "ui.test")
            .header(header::COOKIE, &session.cookie);
        self.send(request.body(Body::empty()).unwrap()).await
    }

    /// Posts `form` (the CSRF token added) from this site's own page.
    async fn post(&self, path: &str, session: &Session, form: &[(&str, &str)]) -> Answer {
        let mut body = url::form_urlencoded::Serializer::new(String::new());
        body.append_pair("_csrf", &session.csrf);
        for (key, value) in form {
            body.append_pair(key, value);
        }
        let request = Request::post(path)
            .header(header::HOST, "ui.test")
            .header(header::ORIGIN, "http://ui.test")
            .header(header::COOKIE, &session.cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.finish()))
            .unwrap();
        self.send(request).await
    }

    async fn sign_in(&self, token: &str) -> Session {
        let page = self
            .send(
                Request::get("/ui/sign-in")
                    .header(header::HOST, "ui.test")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        let pre = page
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
            .next()
            .unwrap();
        let form = format!("_csrf={}&next=%2Fui%2F&token={token}", csrf_of(&page.body));
        let request = Request::post("/ui/sign-in")
            .header(header::HOST, "ui.test")
            .header(header::ORIGIN, "http://ui.test")
            .header(header::COOKIE, pre)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap();
        let answer = self.send(request).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        let cookie = answer
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
            .find(|c| c.starts_with("crosswalk_session="))
            .unwrap();
        let mut session = Session {
            cookie,
            csrf: String::new(),
        };
        session.csrf = csrf_of(&self.get("/ui/", &session).await.body);
        session
    }

    async fn api(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"));
        let request = match body {
            Some(body) => request
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
            None => request.body(Body::empty()).unwrap(),
        };
        let answer = self.send(request).await;
        (
            answer.status,
            serde_json::from_str(&answer.body).unwrap_or(Value::String(answer.body)),
        )
    }

    async fn wait_for_task(&self, token: &str, task: &Value) -> Value {
        let path = format!("/api/v1/scopes/acme/tasks/{}", task["id"].as_str().unwrap());
        for _ in 0..1500 {
            let (_, status) = self.api("GET", &path, token, None).await;
            if status["state"] == "succeeded" || status["state"] == "failed" {
                return status;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("task {task} never finished");
    }

    async fn resolution_of(&self, session: &Session, key: &str) -> String {
        let page = self
            .get(&format!("/ui/scopes/acme/mappings/account/{key}"), session)
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let at = page.body.find("id=\"resolution\"").expect("the resolution");
        let badge = &page.body[at..];
        let start = badge.find("\">").unwrap() + 2;
        let start = start + badge[start..].find('>').unwrap() + 1;
        badge[start..start + badge[start..].find('<').unwrap()].to_string()
    }
}

/// The rows of the table `id` on a page, as the `data-source-id` of each.
fn row_keys(body: &str, table: &str) -> Vec<String> {
    let Some(at) = body.find(&format!("id=\"{table}\"")) else {
        return Vec::new();
    };
    let table = &body[at..at + body[at..].find("</table>").unwrap()];
    table
        .split("data-source-id=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suggestion_is_accepted_from_the_queue_and_a_reader_sees_but_cannot_decide() {
    let site = site(true).await;
    let writer = site.sign_in(&site.writer).await;
    let queue = site.get("/ui/scopes/acme/review", &writer).await;
    assert_eq!(queue.status, StatusCode::OK);
    assert_eq!(
        row_keys(&queue.body, "review-table"),
        ["JIRAUSER10041"],
        "{}",
        queue.body
    );
    assert!(
        queue.body.contains("0.92") && queue.body.contains("Haddad, Nadia"),
        "the candidate and its score"
    );
    assert!(
        queue
            .body
            .contains("name=\"accept\" value=\"JIRAUSER10041\"")
    );

    // The row's Accept button: an exception rule, applied at once.
    let answer = site
        .post(
            "/ui/scopes/acme/review",
            &writer,
            &[
                ("min_score", "0.90"),
                ("kind", ""),
                ("accept", "JIRAUSER10041"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(
        answer.body.contains("Accepted 1 suggestions")
            && answer.body.contains("applied at once by 1 run(s)"),
        "{}",
        answer.body
    );
    assert_eq!(
        site.resolution_of(&writer, "JIRAUSER10041").await,
        "Exception"
    );
    let queue = site.get("/ui/scopes/acme/review", &writer).await;
    assert!(row_keys(&queue.body, "review-table").is_empty());
    assert!(
        queue
            .body
            .contains("No suggestions at a score of 0.90 or more")
    );

    // A reader sees the queue and the mapping pages without decision buttons, and a decision
    // posted anyway is refused.
    let reader = site.sign_in(&site.reader).await;
    let queue = site
        .get("/ui/scopes/acme/review?min_score=0.5", &reader)
        .await;
    assert!(queue.body.contains("reader token") && !queue.body.contains("name=\"accept\""));
    let page = site
        .get("/ui/scopes/acme/mappings/account/JIRAUSER10017", &reader)
        .await;
    assert!(
        !page.body.contains("/resolve\""),
        "no resolve form for a reader"
    );
    let refused = site
        .post(
            "/ui/scopes/acme/mappings/account/JIRAUSER10017/resolve",
            &reader,
            &[("decision", "provision")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(
        site.resolution_of(&reader, "JIRAUSER10017").await,
        "Unresolved"
    );

    // Another scope's queue is the same 404 as a missing one; a bad score is a 400 naming it.
    assert_eq!(
        site.get("/ui/scopes/globex/review", &reader).await.status,
        StatusCode::NOT_FOUND
    );
    let bad = site
        .get("/ui/scopes/acme/review?min_score=2", &reader)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.body.contains("min_score=&quot;2&quot; is not a score"),
        "{}",
        bad.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suggestions_are_rejected_by_selection_and_accepted_all_above_a_score() {
    let site = site(true).await;
    let writer = site.sign_in(&site.writer).await;
    let nothing = site
        .post(
            "/ui/scopes/acme/review",
            &writer,
            &[("decision", "accept-selected")],
        )
        .await;
    assert_eq!(nothing.status, StatusCode::BAD_REQUEST);
    assert!(nothing.body.contains("No suggestion was selected"));

    // At a lower floor the queue holds more; all of them are accepted at once.
    let low = site
        .get("/ui/scopes/acme/review?min_score=0.5", &writer)
        .await;
    let keys = row_keys(&low.body, "review-table");
    assert!(keys.contains(&"JIRAUSER10041".to_string()), "{keys:?}");
    // First reject one by selection: it is not offered again, its mapping unchanged.
    let rejected = keys.last().unwrap().clone();
    let answer = site
        .post(
            "/ui/scopes/acme/review",
            &writer,
            &[
                ("min_score", "0.5"),
                ("key", &rejected),
                ("decision", "reject-selected"),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.body.contains("Rejected 1 suggestions"));
    assert_eq!(site.resolution_of(&writer, &rejected).await, "Unresolved");
    let rest: Vec<String> = keys.iter().filter(|k| **k != rejected).cloned().collect();
    assert_eq!(
        row_keys(
            &site
                .get("/ui/scopes/acme/review?min_score=0.5", &writer)
                .await
                .body,
            "review-table"
        ),
        rest
    );

    let answer = site
        .post(
            "/ui/scopes/acme/review",
            &writer,
            &[("min_score", "0.5"), ("decision", "accept-all")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(row_keys(&answer.body, "decided-table"), rest);
    for key in &rest {
        assert_eq!(site.resolution_of(&writer, key).await, "Exception", "{key}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapping_is_resolved_to_a_searched_account_and_its_items_are_listed_for_reattribution() {
    let site = site(true).await;
    let writer = site.sign_in(&site.writer).await;

    // Anna Kowalska: unresolved, with affected items; the search finds her new account.
    let page = site
        .get(
            "/ui/scopes/acme/mappings/account/JIRAUSER10017?find=nowak",
            &writer,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("id=\"affected-table\"") && page.body.contains("Payments runbook"),
        "{}",
        page.body
    );
    let at = page
        .body
        .find("id=\"search-results\"")
        .expect("search results");
    let results = &page.body[at..];
    let marker = "data-destination-id=\"";
    let start = results.find(marker).unwrap() + marker.len();
    let account = results[start..start + results[start..].find('"').unwrap()].to_string();
    assert!(account.starts_with("64e90b15"), "{account}");

    let answer = site
        .post(
            "/ui/scopes/acme/mappings/account/JIRAUSER10017/resolve",
            &writer,
            &[("decision", "to"), ("to", &format!("id:{account}"))],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(
        answer.body.contains("Resolved Anna Kowalska"),
        "{}",
        answer.body
    );
    let now = &answer.body[answer.body.find("id=\"new-resolution\"").unwrap()..];
    assert!(now[..now.find("</dd>").unwrap()].contains("Exception") && now.contains(&account));
    let table = &answer.body[answer
        .body
        .find("id=\"reattribution-table\"")
        .expect("the items it re-attributes")..];
    for title in [
        "Payments runbook",
        "Card reader fails at checkout",
        "/Finance/Q3/forecast.xlsx",
    ] {
        assert!(table.contains(title), "{title}");
    }
    assert_eq!(
        site.resolution_of(&writer, "JIRAUSER10017").await,
        "Exception"
    );
    let history = site
        .get("/ui/scopes/acme/mappings/account/JIRAUSER10017", &writer)
        .await;
    assert!(
        history.body.contains("run 2 of job demo"),
        "the decision is a revision of the mapping"
    );

    // Ahmed Hassan by address (his item's title starts with `=`), then two other outcomes.
    let answer = site
        .post(
            "/ui/scopes/acme/mappings/account/JIRAUSER10015/resolve",
            &writer,
            &[("decision", "to"), ("to", "email:ahmed.alhassan@acme.com")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let answer = site
        .post(
            "/ui/scopes/acme/mappings/account/JIRAUSER10016/resolve",
            &writer,
            &[("decision", "provision")],
        )
        .await;
    assert!(
        answer.body.contains("id:JIRAUSER10016 → !provision")
            && answer.body.contains("res-exception"),
        "{}",
        answer.body
    );
    let answer = site
        .post(
            "/ui/scopes/acme/mappings/account/JIRAUSER10013/resolve",
            &writer,
            &[("decision", "former-user")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let unknown = site
        .post(
            "/ui/scopes/acme/mappings/account/JIRAUSER10013/resolve",
            &writer,
            &[("decision", "to"), ("to", "email:nobody@nowhere.example")],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert!(
        unknown.body.contains("no destination account is"),
        "{}",
        unknown.body
    );

    // The re-attribution list: both changed mappings' items, old and new destination.
    let list = site.get("/ui/scopes/acme/reattribution", &writer).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.body.contains("data-source-key=\"JIRAUSER10017\"")
            && list.body.contains("data-source-key=\"JIRAUSER10015\"")
    );
    let csv = site.get("/ui/scopes/acme/reattribution.csv", &writer).await;
    assert_eq!(csv.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert!(
        csv.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .contains("reattribution-acme.csv")
    );
    let mut lines = csv.body.lines();
    assert_eq!(
        lines.next().unwrap(),
        crosswalk_app::items::REATTRIBUTION_COLUMNS.join(",")
    );
    let rows: Vec<&str> = lines.collect();
    assert!(
        rows.iter().any(|row| row.contains(",'=SUM(budget) notes,")),
        "the formula is neutralised: {rows:?}"
    );
    assert!(
        rows.iter()
            .any(|row| row.contains("Payments runbook") && row.contains(&account))
    );
    let json = site
        .get("/ui/scopes/acme/reattribution.json", &writer)
        .await;
    let entries: Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!(entries.as_array().unwrap().len(), rows.len());
    assert!(
        entries
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["title"] == "=SUM(budget) notes" && e["role"] == "creator")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn affected_items_filter_by_role_and_type_and_page() {
    let site = site(true).await;
    let reader = site.sign_in(&site.reader).await;
    let all = site
        .get("/ui/scopes/acme/mappings/account/JIRAUSER10017", &reader)
        .await;
    assert!(all.body.contains("id=\"items-counts\""), "{}", all.body);
    let count = |body: &str| {
        let at = body.find("id=\"affected-table\"").unwrap();
        body[at..at + body[at..].find("</table>").unwrap()]
            .matches("<tr>")
            .count()
            - 1
    };
    assert_eq!(
        count(&all.body),
        9,
        "nine references name her, by id, username or address"
    );
    let permissions = site
        .get(
            "/ui/scopes/acme/mappings/account/JIRAUSER10017?role=permission",
            &reader,
        )
        .await;
    assert_eq!(count(&permissions.body), 3);
    let issues = site
        .get(
            "/ui/scopes/acme/mappings/account/JIRAUSER10017?item_type=issue",
            &reader,
        )
        .await;
    assert_eq!(count(&issues.body), 1);
    assert!(issues.body.contains("Card reader fails at checkout"));
    let none = site
        .get(
            "/ui/scopes/acme/mappings/account/JIRAUSER10017?role=watcher",
            &reader,
        )
        .await;
    assert!(
        none.body
            .contains("No affected item matches these filters.")
    );
    let bad = site
        .get(
            "/ui/scopes/acme/mappings/account/JIRAUSER10017?role=janitor",
            &reader,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("role=&quot;janitor&quot; is not a role"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_item_references_or_runs_the_pages_say_why_and_what_to_do() {
    let site = site(false).await;
    let reader = site.sign_in(&site.reader).await;
    let page = site
        .get("/ui/scopes/acme/mappings/account/JIRAUSER10017", &reader)
        .await;
    assert!(
        page.body.contains("id=\"items-missing\"")
            && page.body.contains("No item references have been imported"),
        "{}",
        page.body
    );
    assert!(page.body.contains("crosswalk items import --scope acme"));
    let list = site.get("/ui/scopes/acme/reattribution", &reader).await;
    assert!(
        list.body.contains("id=\"reattribution-missing\"")
            && !list.body.contains("id=\"download-csv\"")
    );
    let csv = site.get("/ui/scopes/acme/reattribution.csv", &reader).await;
    assert_eq!(csv.status, StatusCode::NOT_FOUND);
    assert!(csv.body.contains("No item references have been imported"));

    // A scope where no job has run (the instance admin's view of globex).
    let store = SqliteScopeStore::open_in_memory().await.unwrap();
    let app = App::new(Arc::new(store.clone()), Arc::new(SystemClock));
    let scope = NewScope {
        name: "globex".into(),
        source_label: "a".into(),
        destination_label: "b".into(),
    };
    app.create_scope(&Caller::cli("test"), &scope)
        .await
        .unwrap();
    let token = tokens::issue(
        &store,
        Some("globex"),
        Role::Reader,
        "test",
        "cli:test",
        time::OffsetDateTime::now_utc(),
    )
    .await
    .unwrap()
    .token;
    let empty = Site {
        app: app.clone(),
        state: ServerState::new(app, Arc::new(store)),
        reader: token.clone(),
        writer: token,
    };
    let session = empty.sign_in(&empty.reader).await;
    let list = empty.get("/ui/scopes/globex/reattribution", &session).await;
    assert!(
        list.body
            .contains("No job of scope &quot;globex&quot; has run yet"),
        "{}",
        list.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_check_and_plan_page_shows_findings_and_what_a_run_would_change_writing_nothing() {
    let site = site(true).await;
    let reader = site.sign_in(&site.reader).await;
    let job = site.get("/ui/scopes/acme/jobs/demo", &reader).await;
    assert!(
        job.body
            .contains("href=\"/ui/scopes/acme/jobs/demo/check\"")
    );
    let page = site.get("/ui/scopes/acme/jobs/demo/check", &reader).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let invalid = &page.body[page
        .body
        .find("data-kind=\"INVALID_EMAIL\"")
        .expect("the invalid address")..];
    let invalid = &invalid[..invalid.find("</article>").unwrap()];
    assert!(
        invalid.contains("data-severity=\"blocker\"")
            && invalid.contains("JIRAUSER10015")
            && invalid.contains("Suggested fix"),
        "{invalid}"
    );
    assert!(
        page.body.contains("data-kind=\"DUPLICATE_EMAIL\""),
        "the shared mailbox"
    );
    assert!(page.body.contains("id=\"gate-note\""));
    assert!(
        page.body.contains("id=\"plan-none\""),
        "the same inputs again change nothing"
    );

    // An exception added since the run: the plan shows the one mapping it would change.
    let rule = ExceptionRow {
        kind: crosswalk_core::IdentityKind::Account,
        source: "id:JIRAUSER10016".into(),
        destination: "!provision".into(),
    };
    site.app
        .add_exception(&Caller::cli("test"), "acme", &rule)
        .await
        .unwrap();
    let runs_before = site
        .app
        .runs(&Caller::cli("test"), "acme", None)
        .await
        .unwrap()
        .len();
    let page = site.get("/ui/scopes/acme/jobs/demo/check", &reader).await;
    let plan = &page.body[page.body.find("id=\"plan-table\"").expect("a plan table")..];
    assert_eq!(plan.matches("data-change=\"changed\"").count(), 1, "{plan}");
    assert!(
        plan.contains("JIRAUSER10016") && plan.contains("res-exception"),
        "{plan}"
    );
    assert!(page.body.contains("id=\"plan-changed\">1<"));
    assert_eq!(
        site.app
            .runs(&Caller::cli("test"), "acme", None)
            .await
            .unwrap()
            .len(),
        runs_before,
        "the page wrote nothing"
    );
    assert_eq!(
        site.get("/ui/scopes/acme/jobs/nothing/check", &reader)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_refuses_a_run_with_blockers_unless_forced_and_records_who_forced_it() {
    let site = site(false).await;
    let read = |name: &str| std::fs::read_to_string(samples().join(name)).unwrap();
    let upload = |force: bool| {
        json!({
            "source": {"format": "json", "content": read("server-directory.json")},
            "destination": {"format": "csv", "content": read("cloud-directory.csv")},
            "policy": read("policy.toml"),
            "force": force,
        })
    };
    let (status, task) = site
        .api(
            "POST",
            "/api/v1/scopes/acme/jobs/wave-2/runs",
            &site.writer,
            Some(upload(false)),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{task}");
    let done = site.wait_for_task(&site.reader, &task).await;
    assert_eq!(done["state"], "failed", "{done}");
    assert_eq!(done["error"]["code"], "conflict", "{done}");
    let message = done["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("blockers (")
            && message.contains("INVALID_EMAIL")
            && message.contains("\"force\": true"),
        "{message}"
    );
    let (_, jobs) = site
        .api("GET", "/api/v1/scopes/acme/jobs", &site.reader, None)
        .await;
    assert_eq!(
        jobs.as_array().unwrap().len(),
        1,
        "a refused run writes nothing: {jobs}"
    );

    let (_, task) = site
        .api(
            "POST",
            "/api/v1/scopes/acme/jobs/wave-2/runs",
            &site.writer,
            Some(upload(true)),
        )
        .await;
    let done = site.wait_for_task(&site.reader, &task).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let (public_id, _) = tokens::parse(&site.writer).unwrap();
    let warnings = site
        .app
        .runs(&Caller::cli("test"), "acme", Some("wave-2"))
        .await
        .unwrap()
        .pop()
        .unwrap()
        .warnings;
    let note = warnings
        .iter()
        .find(|w| w.starts_with("pre-flight blockers overridden by"))
        .unwrap_or_else(|| panic!("{warnings:?}"));
    assert!(
        note.contains(&format!("token:{public_id}"))
            && note.contains(" at 20")
            && note.contains("INVALID_EMAIL"),
        "{note}"
    );

    // Directories without blockers run without forcing, and no override is noted.
    let clean = json!({
        "source": {"format": "csv", "content": "type,id,username,email\naccount,U1,ann,ann@acme.com\n"},
        "destination": {"format": "csv", "content": "type,id,username,email,email_verified\naccount,A1,,ann@acme.com,true\n"},
    });
    let (_, task) = site
        .api(
            "POST",
            "/api/v1/scopes/acme/jobs/wave-3/runs",
            &site.writer,
            Some(clean),
        )
        .await;
    let done = site.wait_for_task(&site.reader, &task).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert!(
        done["outcome"]["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| !w.as_str().unwrap().contains("overridden")),
        "{done}"
    );
}
