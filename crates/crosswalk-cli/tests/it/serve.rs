//! `crosswalk serve` end to end: the real binary on a free port over a store that real runs
//! filled, called over real TCP by a minimal HTTP/1.1 client (no client library needed for
//! one request per connection). The end-to-end and two-server tests run on an SQLite file
//! and on a fresh PostgreSQL database (CROSSWALK_TEST_DATABASE_URL), with the same body.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::Dir;

const SOURCE: &str = "\
type,id,username,email,aliases,display_name,given_name,family_name,active,source_directory,email_verified,name,group,member
account,JIRAUSER1,jdoe,John.Doe@acme.com,jd@acme.com,John Doe,John,Doe,true,internal,,,,
account,JIRAUSER2,msmith,maria@acme.com,,Maria Smith,Maria,Smith,true,ldap,,,,
account,JIRAUSER3,kchan,kim@acme.com,,Kim Chan,Kim,Chan,true,ldap,,,,
group,G1,,,,,,,,,,developers,,
";

const DESTINATION: &str = "\
type,id,username,email,aliases,display_name,given_name,family_name,active,source_directory,email_verified,name,group,member
account,5b10a001,,john.doe@acme.com,,John Doe,John,Doe,true,,true,,,
account,5b10a002,,maria@acme.com,,Maria Smith,Maria,Smith,true,,true,,,
account,5b10a003,,kim@acme.com,,Kim Chan,Kim,Chan,true,,true,,,
group,c1,,,,,,,,,,developers,,
";

/// The server process; killed if a test fails before it is stopped.
struct Server {
    child: Child,
    address: String,
}

impl Server {
    fn start(dir: &Dir) -> Server {
        Server::start_with(dir, &[])
    }

    /// Started with extra environment variables (such as a small report part limit).
    fn start_with(dir: &Dir, environment: &[(&str, &str)]) -> Server {
        let mut child = dir
            .command()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "info")
            .envs(environment.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start crosswalk serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the address line");
        let address = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_default()
            .to_string();
        let server = Server { child, address };
        assert!(!server.address.is_empty(), "no address in {line:?}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while server
            .try_call("GET", "/health", None, None)
            .is_none_or(|(status, _)| status != 200)
        {
            assert!(
                Instant::now() < deadline,
                "the server never answered /health"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn try_call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Option<(u16, Value)> {
        let mut stream = TcpStream::connect(&self.address).ok()?;
        let body = body.map(Value::to_string).unwrap_or_default();
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.address,
            body.len()
        );
        if !body.is_empty() {
            request.push_str("Content-Type: application/json\r\n");
        }
        if let Some(token) = token {
            request.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(&body);
        stream.write_all(request.as_bytes()).ok()?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).ok()?;
        let text = String::from_utf8(response).ok()?;
        let (head, body) = text.split_once("\r\n\r\n")?;
        assert!(
            !head
                .to_ascii_lowercase()
                .contains("transfer-encoding: chunked"),
            "the test client reads whole bodies only"
        );
        let status = head.split_whitespace().nth(1)?.parse().ok()?;
        Some((
            status,
            serde_json::from_str(body).unwrap_or(Value::String(body.to_string())),
        ))
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.try_call(method, path, token, body.as_ref())
            .unwrap_or_else(|| panic!("no answer to {method} {path}"))
    }

    /// A streamed download (asked as HTTP/1.0, so the body ends with the connection rather than
    /// in chunks): its status, lower-cased headers and text.
    fn download(&self, path: &str, token: &str) -> (u16, Vec<(String, String)>, String) {
        let mut stream = TcpStream::connect(&self.address).expect("connect");
        let request = format!(
            "GET {path} HTTP/1.0\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\r\n",
            self.address
        );
        stream.write_all(request.as_bytes()).expect("send");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .expect("a UTF-8 answer");
        let (head, body) = response.split_once("\r\n\r\n").expect("a head");
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .expect("a status");
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        (status, headers, body.to_string())
    }

    /// SIGTERM, then waits: a graceful stop exits 0.
    fn stop(mut self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the server") {
                assert!(
                    status.success(),
                    "the server exited with {status} after SIGTERM"
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run_job(dir: &Dir, job: &str) -> String {
    let out = dir.ok(&[
        "run",
        "--scope",
        "acme",
        "-s",
        "source.csv",
        "-d",
        "destination.csv",
        "--job",
        job,
        "--format",
        "json",
    ]);
    let value: Value = serde_json::from_str(&out).expect("run's JSON");
    value["transfer_id"]
        .as_str()
        .expect("a transfer id")
        .to_string()
}

/// Polls a background run's status (on any server) until it has ended; its last status.
fn finished_task(server: &Server, task: &Value, token: &str) -> Value {
    let task_path = format!("/api/v1/scopes/acme/tasks/{}", task["id"].as_str().unwrap());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, status) = server.call("GET", &task_path, Some(token), None);
        assert_eq!(code, 200, "{status}");
        if status["state"] == "succeeded" || status["state"] == "failed" {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "the run never finished: {status}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn token(dir: &Dir, args: &[&str]) -> String {
    let mut all = vec!["token", "create"];
    all.extend_from_slice(args);
    dir.ok(&all).trim().to_string()
}

/// Every `identity:user` source key, following the native API's keyset pages one at a time.
fn native_keys(server: &Server, token: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut after = String::new();
    loop {
        let (status, page) = server.call(
            "GET",
            &format!("/api/v1/scopes/acme/namespaces/identity:user/mappings?limit=1{after}"),
            Some(token),
            None,
        );
        assert_eq!(status, 200, "{page}");
        keys.extend(
            page["mappings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["source_key"].as_str().unwrap().to_string()),
        );
        if page["last_page"] == true {
            return keys;
        }
        after = format!("&after={}", page["next"].as_str().unwrap());
    }
}

/// Every `jira.userkey/` item of the compatible pages of a transfer, a page of one at a time.
fn compatible_items(server: &Server, token: &str, transfer: &str) -> Vec<(String, String)> {
    let mut items = Vec::new();
    let mut last = String::new();
    loop {
        let path = format!(
            "/rest/atlassian-connect/1/migration/mapping/{transfer}/page?namespace=identity:user&pageSize=1{last}"
        );
        let (status, page) = server.call("GET", &path, Some(token), None);
        assert_eq!(status, 200, "{page}");
        for (key, id) in page["items"].as_object().unwrap() {
            if key.starts_with("jira.userkey/") {
                items.push((key.clone(), id.as_str().unwrap().to_string()));
            }
        }
        if page["meta"]["hasNext"] == false {
            return items;
        }
        last = format!(
            "&lastEntity={}",
            page["meta"]["lastEntity"].as_str().unwrap()
        );
    }
}

#[test]
fn serve_answers_the_native_and_compatible_apis_over_real_runs() {
    answers_the_native_and_compatible_apis_over_real_runs(Dir::new());
}

#[test]
fn serve_on_postgres_answers_the_native_and_compatible_apis_over_real_runs() {
    let Some(database) = crate::postgres::fresh_database() else {
        return;
    };
    answers_the_native_and_compatible_apis_over_real_runs(Dir::on_database(&database.url));
}

fn answers_the_native_and_compatible_apis_over_real_runs(dir: Dir) {
    dir.write("source.csv", SOURCE);
    dir.write("destination.csv", DESTINATION);
    for scope in ["acme", "globex"] {
        dir.ok(&[
            "scope",
            "create",
            scope,
            "--source-label",
            "jira-server https://jira.acme.local",
            "--destination-label",
            "cloud",
        ]);
    }
    let first_transfer = run_job(&dir, "wave-1");
    let writer = token(&dir, &["--scope", "acme", "--role", "writer"]);
    let reader = token(&dir, &["--scope", "acme", "--role", "reader"]);
    let foreign = token(&dir, &["--scope", "globex", "--role", "admin"]);
    assert!(writer.starts_with("cw_"), "{writer}");
    let listed = dir.ok(&["token", "list"]);
    assert!(
        !listed.contains(&writer[20..]),
        "the list shows no secret: {listed}"
    );

    let server = Server::start(&dir);
    assert_eq!(
        native_keys(&server, &reader),
        ["JIRAUSER1", "JIRAUSER2", "JIRAUSER3"]
    );
    let expected: Vec<(String, String)> = [
        ("JIRAUSER1", "5b10a001"),
        ("JIRAUSER2", "5b10a002"),
        ("JIRAUSER3", "5b10a003"),
    ]
    .iter()
    .map(|(k, v)| (format!("jira.userkey/{k}"), v.to_string()))
    .collect();
    assert_eq!(
        compatible_items(&server, &reader, &first_transfer),
        expected
    );

    // A second job, run by the server on uploaded directories while it serves: its transfer
    // id reads the first job's mappings.
    let upload = json!({"source": {"format": "csv", "content": SOURCE}, "destination": {"format": "csv", "content": DESTINATION}});
    let (status, task) = server.call(
        "POST",
        "/api/v1/scopes/acme/jobs/wave-2/runs",
        Some(&writer),
        Some(upload),
    );
    assert_eq!(status, 202, "{task}");
    let task_path = format!("/api/v1/scopes/acme/tasks/{}", task["id"].as_str().unwrap());
    let done = finished_task(&server, &task, &reader);
    assert_eq!(done["state"], "succeeded", "{done}");
    let second_transfer = done["outcome"]["job"]["transfer_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(second_transfer, first_transfer);
    assert_eq!(
        compatible_items(&server, &reader, &second_transfer),
        expected
    );

    // The change feed so far, then an app namespace written and read back, then the feed after.
    let (_, feed) = server.call("GET", "/api/v1/scopes/acme/changes", Some(&reader), None);
    let cursor = feed["cursor"].as_str().unwrap().to_string();
    let (status, written) = server.call(
        "POST",
        "/api/v1/scopes/acme/namespaces/jira:issue/mappings",
        Some(&writer),
        Some(json!({"upsert": [{"key": "10001", "value": "20001"}, {"key": "10002", "value": "20002"}]})),
    );
    assert_eq!(status, 200, "{written}");
    let find = format!(
        "/rest/atlassian-connect/1/migration/mapping/{second_transfer}/find?namespace=jira:issue"
    );
    let (_, found) = server.call(
        "POST",
        &find,
        Some(&reader),
        Some(json!(["10001", "10002", "10003"])),
    );
    assert_eq!(found, json!({"10001": "20001", "10002": "20002"}));
    let (_, after) = server.call(
        "GET",
        &format!("/api/v1/scopes/acme/changes?after={cursor}"),
        Some(&reader),
        None,
    );
    let changed: Vec<&str> = after["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["source_key"].as_str().unwrap())
        .collect();
    assert_eq!(changed, ["10001", "10002"]);

    // Another scope's token: 404 everywhere, as for what does not exist; no token or a bad one: 401.
    let paths = [
        (
            "GET",
            format!(
                "/rest/atlassian-connect/1/migration/mapping/{first_transfer}/page?namespace=identity:user"
            ),
        ),
        ("POST", find.clone()),
        ("GET", "/api/v1/scopes/acme".to_string()),
        ("GET", "/api/v1/scopes/acme/jobs".to_string()),
        (
            "GET",
            "/api/v1/scopes/acme/namespaces/identity:user/mappings".to_string(),
        ),
        (
            "POST",
            "/api/v1/scopes/acme/namespaces/identity:user/find".to_string(),
        ),
        (
            "GET",
            "/api/v1/scopes/acme/namespaces/identity:user/mappings/JIRAUSER1".to_string(),
        ),
        (
            "POST",
            "/api/v1/scopes/acme/namespaces/jira:issue/mappings".to_string(),
        ),
        ("GET", "/api/v1/scopes/acme/changes".to_string()),
        ("GET", "/api/v1/scopes/acme/tokens".to_string()),
        ("GET", task_path.clone()),
        (
            "GET",
            format!("/v1/transfers/{second_transfer}/security_map?include=all"),
        ),
    ];
    let body = |method: &str, path: &str| match (method, path.contains("/find")) {
        ("POST", true) if path.starts_with("/rest") => Some(json!(["10001"])),
        ("POST", true) => Some(json!({"keys": ["jdoe"]})),
        ("POST", false) => Some(json!({"upsert": [{"key": "1", "value": "2"}]})),
        _ => None,
    };
    for (method, path) in &paths {
        let (status, answer) = server.call(method, path, Some(&foreign), body(method, path));
        assert_eq!(
            status, 404,
            "{method} {path} with another scope's token: {answer}"
        );
        let (status, answer) = server.call(method, path, None, body(method, path));
        assert_eq!(
            (status, answer["code"].as_str()),
            (401, Some("missing_token")),
            "{method} {path}"
        );
        let bad = format!(
            "{}{}",
            &reader[..reader.len() - 1],
            if reader.ends_with('0') { '1' } else { '0' }
        );
        let (status, answer) = server.call(method, path, Some(&bad), body(method, path));
        assert_eq!(
            (status, answer["code"].as_str()),
            (401, Some("invalid_token")),
            "{method} {path}"
        );
    }
    let (_, document) = server.call("GET", "/api/openapi.json", None, None);
    assert!(
        document["paths"].as_object().unwrap().len() >= 10,
        "{document}"
    );
    server.stop();
}

#[test]
fn sigterm_lets_a_request_in_flight_finish_then_exits() {
    let dir = Dir::new();
    dir.ok(&[
        "scope",
        "create",
        "acme",
        "--source-label",
        "jira-server https://jira.acme.local",
        "--destination-label",
        "cloud",
    ]);
    let reader = token(&dir, &["--scope", "acme", "--role", "reader"]);
    let mut server = Server::start(&dir);

    // A request whose body is only half sent when the signal comes.
    let body = json!({"keys": ["jdoe", "nobody"]}).to_string();
    let (first, rest) = body.split_at(body.len() / 2);
    let mut stream = TcpStream::connect(&server.address).expect("connect");
    let head = format!(
        "POST /api/v1/scopes/acme/namespaces/identity:user/find HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
         Authorization: Bearer {reader}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        server.address,
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(first.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let status = std::process::Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server left before the request in flight was answered"
    );

    stream.write_all(rest.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"not_found\""), "{response}");

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert!(status.success(), "exit after SIGTERM: {status}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop once the request was answered"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn two_servers_on_one_store_serve_the_same_data() {
    two_servers_serve_the_same_data(Dir::new());
}

#[test]
fn two_servers_on_one_postgres_database_serve_the_same_data() {
    let Some(database) = crate::postgres::fresh_database() else {
        return;
    };
    two_servers_serve_the_same_data(Dir::on_database(&database.url));
}

/// Two `crosswalk serve` processes on one store: what one writes (app mappings, exception
/// rules, a token's revocation, a new token) the other reads at once.
fn two_servers_serve_the_same_data(dir: Dir) {
    dir.ok(&[
        "scope",
        "create",
        "acme",
        "--source-label",
        "jira-server https://jira.acme.local",
        "--destination-label",
        "cloud",
    ]);
    let writer = token(&dir, &["--scope", "acme", "--role", "writer"]);
    let admin = token(&dir, &["--scope", "acme", "--role", "admin"]);
    let (one, two) = (Server::start(&dir), Server::start(&dir));
    for (index, (write, read)) in [(&one, &two), (&two, &one)].into_iter().enumerate() {
        let key = format!("1000{index}");
        let (status, body) = write.call(
            "POST",
            "/api/v1/scopes/acme/namespaces/jira:issue/mappings",
            Some(&writer),
            Some(json!({"upsert": [{"key": key, "value": format!("cloud-{index}")}]})),
        );
        assert_eq!(status, 200, "{body}");
        let (_, found) = read.call(
            "POST",
            "/api/v1/scopes/acme/namespaces/jira:issue/find",
            Some(&writer),
            Some(json!({"keys": [key]})),
        );
        assert_eq!(
            found["answers"][0]["mapping"]["destination_id"],
            format!("cloud-{index}"),
            "{found}"
        );

        // An exception rule added through one is the other's current version at once.
        let rule = json!({"type": "account", "source": format!("id:JIRAUSER{index}"), "destination": format!("5b10a00{index}")});
        let (status, added) = write.call(
            "POST",
            "/api/v1/scopes/acme/exceptions",
            Some(&writer),
            Some(rule),
        );
        assert_eq!(status, 200, "{added}");
        let (status, rules) =
            read.call("GET", "/api/v1/scopes/acme/exceptions", Some(&writer), None);
        assert_eq!(status, 200, "{rules}");
        assert_eq!(rules, added);
        assert_eq!(
            rules["rules"].as_array().unwrap().len(),
            index + 1,
            "{rules}"
        );

        // A token made while both serve is known to both; revoked through one, that one
        // refuses it at once and the other within its token cache's second
        // (`--token-cache-ms`, docs/api.md).
        let fresh = token(&dir, &["--scope", "acme", "--role", "reader"]);
        assert_eq!(
            read.call("GET", "/api/v1/scopes/acme", Some(&fresh), None)
                .0,
            200
        );
        assert_eq!(
            write
                .call("GET", "/api/v1/scopes/acme", Some(&fresh), None)
                .0,
            200
        );
        let public_id = fresh.split('_').nth(1).unwrap();
        let (status, revoked) = write.call(
            "DELETE",
            &format!("/api/v1/scopes/acme/tokens/{public_id}"),
            Some(&admin),
            None,
        );
        assert_eq!(status, 200, "{revoked}");
        let revoked_at = Instant::now();
        let (status, refused) = write.call("GET", "/api/v1/scopes/acme", Some(&fresh), None);
        assert_eq!(
            (status, refused["code"].as_str()),
            (401, Some("invalid_token")),
            "{refused}"
        );
        // The other server read the token just before: it may use it for up to a second.
        std::thread::sleep(Duration::from_secs(1).saturating_sub(revoked_at.elapsed()));
        let (status, refused) = read.call("GET", "/api/v1/scopes/acme", Some(&fresh), None);
        assert_eq!(
            (status, refused["code"].as_str()),
            (401, Some("invalid_token")),
            "{refused}"
        );
        let (_, listed) = read.call("GET", "/api/v1/scopes/acme/tokens", Some(&admin), None);
        let row = listed
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["public_id"] == public_id)
            .expect("the revoked token is listed");
        assert!(row["revoked_at"].is_string(), "{row}");
    }
    let (_, feed_one) = one.call("GET", "/api/v1/scopes/acme/changes", Some(&writer), None);
    let (_, feed_two) = two.call("GET", "/api/v1/scopes/acme/changes", Some(&writer), None);
    assert_eq!(feed_one, feed_two);
    assert_eq!(feed_one["revisions"].as_array().unwrap().len(), 2);

    // A run started through one server: the other answers its task's status, to the end.
    let upload = json!({"source": {"format": "csv", "content": SOURCE}, "destination": {"format": "csv", "content": DESTINATION}});
    let (status, task) = one.call(
        "POST",
        "/api/v1/scopes/acme/jobs/wave-1/runs",
        Some(&writer),
        Some(upload),
    );
    assert_eq!(status, 202, "{task}");
    let done = finished_task(&two, &task, &writer);
    assert_eq!(
        (done["state"].as_str(), done["job"].as_str()),
        (Some("succeeded"), Some("wave-1")),
        "{done}"
    );
    assert_eq!(done["outcome"]["run"]["number"], 1, "{done}");
    one.stop();
    two.stop();
}

#[test]
fn serve_checks_and_plans_uploads_answering_what_the_cli_prints() {
    let dir = Dir::new();
    let duplicated = format!(
        "{SOURCE}account,JIRAUSER4,kim2,KIM@acme.com,,Kim Chan,Kim,Chan,true,internal,,,,\n"
    );
    dir.write("source.csv", &duplicated);
    dir.write("destination.csv", DESTINATION);
    dir.ok(&[
        "scope",
        "create",
        "acme",
        "--source-label",
        "jira-server https://jira.acme.local",
        "--destination-label",
        "cloud",
    ]);
    dir.ok(&[
        "run",
        "--scope",
        "acme",
        "-s",
        "source.csv",
        "-d",
        "destination.csv",
        "--job",
        "wave-1",
    ]);
    let reader = token(&dir, &["--scope", "acme", "--role", "reader"]);
    let cli_check: Value = serde_json::from_str(&dir.ok(&[
        "check",
        "--scope",
        "acme",
        "-s",
        "source.csv",
        "-d",
        "destination.csv",
        "--format",
        "json",
    ]))
    .unwrap();
    let cli_plan: Value = serde_json::from_str(&dir.ok(&[
        "plan",
        "--scope",
        "acme",
        "-s",
        "source.csv",
        "-d",
        "destination.csv",
        "--job",
        "wave-1",
        "--format",
        "json",
    ]))
    .unwrap();

    let server = Server::start(&dir);
    let upload = json!({"source": {"format": "csv", "content": duplicated}, "destination": {"format": "csv", "content": DESTINATION}});
    let (status, checked) = server.call(
        "POST",
        "/api/v1/scopes/acme/check",
        Some(&reader),
        Some(upload.clone()),
    );
    assert_eq!(status, 200, "{checked}");
    assert_eq!(
        checked, cli_check,
        "the API answers what `crosswalk check --format json` prints"
    );
    assert_eq!(checked["outcome"]["blockers"], 2);
    let mut plan_upload = upload;
    plan_upload["job"] = json!("wave-1");
    let (status, planned) = server.call(
        "POST",
        "/api/v1/scopes/acme/plan",
        Some(&reader),
        Some(plan_upload),
    );
    assert_eq!(status, 200, "{planned}");
    assert_eq!(
        planned, cli_plan,
        "the API answers what `crosswalk plan --format json` prints"
    );
    assert_eq!(planned["counts"]["new"], 0, "{planned}");

    let bad = json!({"source": {"format": "csv", "content": "type,id,email\naccount,A1,a@x.example\naccount,,b@x.example\n"}});
    let (status, refused) = server.call(
        "POST",
        "/api/v1/scopes/acme/check",
        Some(&reader),
        Some(bad),
    );
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .starts_with("source.csv:3"),
        "{refused}"
    );
    server.stop();
}

#[test]
fn serve_splits_a_large_report_export_into_parts_fetched_one_by_one() {
    let dir = Dir::new();
    dir.ok(&["demo"]);
    let reader = token(&dir, &["--scope", "default", "--role", "reader"]);
    let server = Server::start_with(&dir, &[("CROSSWALK_REPORT_PART_ROWS", "20")]);
    let (status, counts) = server.call(
        "GET",
        "/api/v1/scopes/default/report/counts",
        Some(&reader),
        None,
    );
    assert_eq!(status, 200, "{counts}");
    assert_eq!(
        (
            counts["matching"].as_u64(),
            counts["parts"].as_u64(),
            counts["part_rows"].as_u64()
        ),
        (Some(50), Some(3), Some(20)),
        "{counts}"
    );
    let header_of = |headers: &[(String, String)], name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let whole = crate::util::csv_rows(&dir.ok(&["report"]));
    let mut joined = vec![whole[0].clone()];
    for (part, rows) in [(1, 20), (2, 20), (3, 10)] {
        let (status, headers, csv) = server.download(
            &format!("/api/v1/scopes/default/report/export?part={part}"),
            &reader,
        );
        assert_eq!(status, 200, "part {part}: {csv}");
        assert_eq!(
            (
                header_of(&headers, "x-report-parts"),
                header_of(&headers, "x-report-part")
            ),
            ("3".to_string(), part.to_string())
        );
        assert_eq!(header_of(&headers, "x-report-rows"), "50");
        let parsed = crate::util::csv_rows(&csv);
        assert_eq!(parsed[0], whole[0], "part {part} has the header");
        assert_eq!(parsed.len() - 1, rows, "part {part}");
        joined.extend(parsed.into_iter().skip(1));
    }
    assert_eq!(
        joined, whole,
        "the parts are the report the CLI writes, in order, each row once"
    );
    let miller = joined
        .iter()
        .find(|row| row[2] == "JIRAUSER10013")
        .expect("the planted row");
    assert!(
        miller[5].starts_with("'=HYPERLINK("),
        "neutralised in its part: {miller:?}"
    );
    // A part past the last is a client error with a JSON body, not an empty file.
    let (status, _, body) = server.download("/api/v1/scopes/default/report/export?part=4", &reader);
    assert!((400..500).contains(&status), "{status} {body}");
    let error: Value = serde_json::from_str(&body).expect("a JSON error body");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|e| e.contains("3 parts")),
        "says how many parts there are: {error}"
    );
    server.stop();
}
