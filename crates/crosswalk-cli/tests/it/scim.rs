//! `/scim/v2` on the real `crosswalk serve` (issue 19): the request sequences Microsoft Entra
//! ID and Okta send (test connection, lookup before create, create, link, PATCH in both of
//! Entra's modes, PUT as Okta's custom apps, deactivate, group push with member add, remove
//! and replace, group delete, user delete), over a scope a real run filled, on an SQLite
//! file and on a fresh PostgreSQL database, with the same body. The bodies follow the
//! providers' documentation (crates/crosswalk-scim/tests/fixtures/README).

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

/// The destination the migration made: accounts without user names (cloud accounts are
/// known by address), an alias on John, and two groups with members.
const DESTINATION: &str = "\
type,id,username,email,aliases,display_name,given_name,family_name,active,source_directory,email_verified,name,group,member
account,5b10a001,,john.doe@acme.com,jd@acme.com,John Doe,John,Doe,true,,true,,,
account,5b10a002,,maria@acme.com,,Maria Smith,Maria,Smith,true,,true,,,
account,5b10a003,,kim@acme.com,,Kim Chan,Kim,Chan,true,,true,,,
group,c1,,,,,,,,,,Developers,,
group,c2,,,,,,,,,,QA,,
member,,,,,,,,,,,,c1,5b10a001
member,,,,,,,,,,,,c1,5b10a002
member,,,,,,,,,,,,c2,5b10a003
";

/// A response: status, headers (names lower-cased), body (JSON, or the text).
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Value,
}

impl Reply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `crosswalk serve` on a free port; killed if a test fails before it is stopped.
pub(crate) struct ScimServer {
    child: Child,
    pub(crate) address: String,
}

impl ScimServer {
    pub(crate) fn start(dir: &Dir, extra: &[&str]) -> ScimServer {
        let mut child = dir
            .command()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
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
        let server = ScimServer { child, address };
        assert!(!server.address.is_empty(), "no address in {line:?}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while server
            .try_send("GET", "/health", &[], None)
            .is_none_or(|reply| reply.status != 200)
        {
            assert!(
                Instant::now() < deadline,
                "the server never answered /health"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn try_send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Option<Reply> {
        let mut stream = TcpStream::connect(&self.address).ok()?;
        let body = body.map(Value::to_string).unwrap_or_default();
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.address,
            body.len()
        );
        if !body.is_empty()
            && !headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        {
            request.push_str("Content-Type: application/scim+json\r\n");
        }
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(&body);
        stream.write_all(request.as_bytes()).ok()?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response).ok()?;
        let text = String::from_utf8(response).ok()?;
        let (head, body) = text.split_once("\r\n\r\n")?;
        let mut lines = head.lines();
        let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        assert!(
            !headers
                .iter()
                .any(|(n, v)| n == "transfer-encoding" && v == "chunked"),
            "the test client reads whole bodies only"
        );
        let body = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(body).unwrap_or(Value::String(body.to_string()))
        };
        Some(Reply {
            status,
            headers,
            body,
        })
    }

    pub(crate) fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        self.try_send(method, path, headers, body.as_ref())
            .unwrap_or_else(|| panic!("no answer to {method} {path}"))
    }

    /// SIGTERM, then waits for a clean exit.
    pub(crate) fn stop(mut self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        while self
            .child
            .try_wait()
            .expect("wait for the server")
            .is_none()
        {
            assert!(
                Instant::now() < deadline,
                "the server did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for ScimServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scope `acme` with one run over the two directories, and a writer token of it.
pub(crate) fn migrated_scope(dir: &Dir) -> String {
    dir.write("source.csv", SOURCE);
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
    dir.ok(&["token", "create", "--scope", "acme", "--role", "writer"])
        .trim()
        .to_string()
}

/// `filter` percent-encoded for a query string.
fn q(filter: &str) -> String {
    filter
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

struct Provider<'s> {
    server: &'s ScimServer,
    bearer: String,
}

impl Provider<'_> {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        self.call_with(method, path, &[], body)
    }

    fn call_with(
        &self,
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        let mut headers = vec![("Authorization", self.bearer.as_str())];
        headers.extend_from_slice(extra);
        let reply = self
            .server
            .send(method, &format!("/scim/v2{path}"), &headers, body);
        if reply.body != Value::Null {
            assert_eq!(
                reply.header("content-type"),
                Some("application/scim+json"),
                "{method} {path}: {}",
                reply.body
            );
        }
        reply
    }

    fn lookup(&self, resource: &str, filter: &str) -> Vec<Value> {
        let reply = self.call(
            "GET",
            &format!("/{resource}?filter={}&startIndex=1&count=100", q(filter)),
            None,
        );
        assert_eq!(reply.status, 200, "{filter}: {}", reply.body);
        assert_eq!(
            reply.body["schemas"],
            json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
        );
        assert!(
            reply.body["totalResults"].is_u64(),
            "totalResults is an integer: {}",
            reply.body
        );
        reply.body["Resources"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn members(&self, group: &str) -> Vec<String> {
        let reply = self.call("GET", &format!("/Groups/{group}"), None);
        assert_eq!(reply.status, 200, "{}", reply.body);
        let mut members: Vec<String> = reply.body["members"]
            .as_array()
            .map(|m| {
                m.iter()
                    .map(|m| m["value"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default();
        members.sort();
        members
    }
}

fn assert_scim_error(reply: &Reply, status: u16, scim_type: Option<&str>) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(
        reply.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"]),
        "{}",
        reply.body
    );
    assert_eq!(
        reply.body["status"],
        json!(status.to_string()),
        "status is a string: {}",
        reply.body
    );
    match scim_type {
        Some(kind) => assert_eq!(reply.body["scimType"], kind, "{}", reply.body),
        None => assert!(reply.body.get("scimType").is_none(), "{}", reply.body),
    }
}

#[test]
fn entra_and_okta_sequences_link_migrated_accounts_on_sqlite() {
    providers_link_migrated_accounts(Dir::new());
}

#[test]
fn entra_and_okta_sequences_link_migrated_accounts_on_postgres() {
    let Some(database) = crate::postgres::fresh_database() else {
        return;
    };
    providers_link_migrated_accounts(Dir::on_database(&database.url));
}

fn providers_link_migrated_accounts(dir: Dir) {
    let token = migrated_scope(&dir);
    let server = ScimServer::start(&dir, &[]);
    let provider = Provider {
        server: &server,
        bearer: format!("Bearer {token}"),
    };

    // Discovery answers without a token; everything else needs one.
    let config = server.send("GET", "/scim/v2/ServiceProviderConfig", &[], None);
    assert_eq!(config.status, 200);
    assert_eq!(config.body["patch"]["supported"], true);
    assert_eq!(config.header("content-type"), Some("application/scim+json"));
    assert_scim_error(&server.send("GET", "/scim/v2/Users", &[], None), 401, None);
    assert_scim_error(
        &server.send(
            "GET",
            "/scim/v2/Users",
            &[("Authorization", "Bearer cw_nope")],
            None,
        ),
        401,
        None,
    );
    assert_scim_error(&provider.call("GET", "/Me", None), 501, None);

    // Entra's test connection: a filter on a value nobody has is an empty list.
    assert!(
        provider
            .lookup(
                "Users",
                "userName eq \"ffd2a3e5-2b86-4a7e-9b41-0c5b0bd3e52a\""
            )
            .is_empty()
    );

    // Lookup before create: caseless, by the address Okta sends as userName, by an alias,
    // and by Entra's work-email filter.
    let found = provider.lookup("Users", "userName eq \"John.Doe@ACME.com\"");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["id"], "5b10a001");
    assert_eq!(
        found[0]["userName"], "john.doe@acme.com",
        "a migrated account shows its address as userName"
    );
    assert_eq!(
        provider.lookup("Users", "userName eq \"JD@acme.com\"")[0]["id"],
        "5b10a001",
        "an alias finds the account"
    );
    let found = provider.lookup(
        "Users",
        "emails[type eq \"work\"].value eq \"MARIA@acme.com\"",
    );
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["id"], "5b10a002");
    assert_eq!(
        found[0]["groups"][0]["value"], "c1",
        "a user shows the groups it belongs to"
    );

    // A create for an account that exists is a 409 uniqueness, never a second account;
    // so is a create with an address the account holds under another userName.
    let john = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "externalId": "aad-0001", "userName": "john.doe@acme.com", "active": true,
        "name": {"givenName": "John", "familyName": "Doe"},
        "emails": [{"primary": true, "type": "work", "value": "john.doe@acme.com"}],
    });
    assert_scim_error(
        &provider.call("POST", "/Users", Some(john)),
        409,
        Some("uniqueness"),
    );
    let alias = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "jdoe2",
        "emails": [{"value": "jd@acme.com", "type": "work"}]});
    assert_scim_error(
        &provider.call("POST", "/Users", Some(alias)),
        409,
        Some("uniqueness"),
    );
    // A look-alike (Cyrillic о) is refused, never linked to the account it imitates.
    let fake = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "j\u{043e}hn.doe@acme.com"});
    let refused = provider.call("POST", "/Users", Some(fake));
    assert_scim_error(&refused, 400, Some("invalidValue"));
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("5b10a001"),
        "{}",
        refused.body
    );

    // Link, Entra's default job: PATCH with "Replace" and booleans as strings.
    let link = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "Replace", "path": "externalId", "value": "aad-0001"},
        {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "john.doe@acme.com"},
        {"op": "Replace", "path": "active", "value": "True"},
    ]});
    let linked = provider.call("PATCH", "/Users/5b10a001", Some(link));
    assert_eq!(linked.status, 200, "{}", linked.body);
    assert_eq!(linked.body["externalId"], "aad-0001");
    assert_eq!(
        provider.lookup("Users", "externalId eq \"aad-0001\"")[0]["id"],
        "5b10a001",
        "the link is stored"
    );
    // Entra with aadOptscim062020: a pathless replace with dotted and URN-prefixed keys.
    let rename = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "replace", "value": {"name.givenName": "Johnny",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "701984"}},
    ]});
    let renamed = provider.call("PATCH", "/Users/5b10a001", Some(rename));
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_eq!(renamed.body["name"]["givenName"], "Johnny");
    // Deactivate, Entra's way ("False" as a string).
    let off = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "Replace", "path": "active", "value": "False"}]});
    assert_eq!(
        provider.call("PATCH", "/Users/5b10a001", Some(off)).body["active"],
        false
    );

    // Okta: a user the migration did not make is created (201, Location, ETag).
    let ana = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ana.new@acme.com",
        "name": {"givenName": "Ana", "familyName": "New"}, "password": "t1meMa$heen", "active": true,
        "emails": [{"primary": true, "value": "ana.new@acme.com", "type": "work"}],
    });
    assert!(
        provider
            .lookup("Users", "userName eq \"ana.new@acme.com\"")
            .is_empty()
    );
    let created = provider.call("POST", "/Users", Some(ana.clone()));
    assert_eq!(created.status, 201, "{}", created.body);
    let ana_id = created.body["id"].as_str().unwrap().to_string();
    assert!(!ana_id.contains("bulkId"));
    assert!(
        created
            .header("location")
            .is_some_and(|l| l.ends_with(&format!("/scim/v2/Users/{ana_id}"))),
        "{:?}",
        created.headers
    );
    let etag = created.header("etag").expect("an ETag").to_string();
    assert_eq!(created.body["meta"]["version"], etag.as_str());
    // GET with the current ETag in If-None-Match: 304; PUT with a stale If-Match: 412.
    let same = provider.call_with(
        "GET",
        &format!("/Users/{ana_id}"),
        &[("If-None-Match", &etag)],
        None,
    );
    assert_eq!(same.status, 304);
    // Okta's custom apps update by PUT, deactivation included.
    let mut put = ana.clone();
    put["id"] = json!(ana_id);
    put["name"]["familyName"] = json!("Newer");
    let replaced = provider.call_with(
        "PUT",
        &format!("/Users/{ana_id}"),
        &[("If-Match", &etag)],
        Some(put.clone()),
    );
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert_eq!(replaced.body["name"]["familyName"], "Newer");
    assert_scim_error(
        &provider.call_with(
            "PUT",
            &format!("/Users/{ana_id}"),
            &[("If-Match", &etag)],
            Some(put.clone()),
        ),
        412,
        None,
    );
    put["active"] = json!(false);
    assert_eq!(
        provider
            .call("PUT", &format!("/Users/{ana_id}"), Some(put))
            .body["active"],
        false
    );
    // Okta's OIN apps reactivate with a pathless PATCH.
    let on = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "value": {"active": true}}]});
    assert_eq!(
        provider
            .call("PATCH", &format!("/Users/{ana_id}"), Some(on))
            .body["active"],
        true
    );
    // A bad filter says where.
    assert_scim_error(
        &provider.call("GET", &format!("/Users?filter={}", q("userName eq")), None),
        400,
        Some("invalidFilter"),
    );

    // Groups: Entra and Okta look the migrated group up by name and link it.
    let groups = provider.call(
        "GET",
        &format!(
            "/Groups?filter={}&excludedAttributes=members",
            q("displayName eq \"developers\"")
        ),
        None,
    );
    assert_eq!(groups.status, 200, "{}", groups.body);
    assert_eq!(groups.body["Resources"][0]["id"], "c1");
    assert!(
        groups.body["Resources"][0].get("members").is_none(),
        "excludedAttributes=members: {}",
        groups.body
    );
    let duplicate = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Developers"});
    assert_scim_error(
        &provider.call("POST", "/Groups", Some(duplicate)),
        409,
        Some("uniqueness"),
    );

    // A push that gives the migrated group other members is held for the admin.
    let add_ana = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "Add", "path": "members", "value": [{"value": ana_id}]}]});
    assert_eq!(
        provider.call("PATCH", "/Groups/c1", Some(add_ana)).status,
        200
    );
    assert_eq!(
        provider.members("c1"),
        ["5b10a001", "5b10a002"],
        "held, not applied"
    );
    let held: Value = serde_json::from_str(&dir.ok(&[
        "scim",
        "conflicts",
        "--scope",
        "acme",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(held[0]["group_id"], "c1");
    assert_eq!(held[0]["added"], json!([ana_id]));
    let listed = dir.ok(&["scim", "conflicts", "--scope", "acme"]);
    assert!(
        listed.contains("group c1 \"Developers\"") && listed.contains(&format!("+ {ana_id}")),
        "{listed}"
    );
    let accepted = server.send(
        "POST",
        "/api/v1/scopes/acme/scim/conflicts/c1/accept",
        &[("Authorization", &provider.bearer)],
        None,
    );
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    let mut expected = vec![
        "5b10a001".to_string(),
        "5b10a002".to_string(),
        ana_id.clone(),
    ];
    expected.sort();
    assert_eq!(provider.members("c1"), expected);
    // Entra's default member removal: path "members" and a value array removes only those.
    let remove = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "Remove", "path": "members", "value": [{"value": "5b10a002"}]}]});
    assert_eq!(
        provider.call("PATCH", "/Groups/c1", Some(remove)).status,
        200
    );
    expected.retain(|m| m != "5b10a002");
    assert_eq!(provider.members("c1"), expected);

    // A held change the admin rejects: the migrated members stay, later pushes change nothing.
    let replace_qa = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "replace", "path": "members", "value": [{"value": "5b10a001"}]}]});
    assert_eq!(
        provider
            .call("PATCH", "/Groups/c2", Some(replace_qa.clone()))
            .status,
        200
    );
    let out = dir.ok(&["scim", "reject", "--scope", "acme", "c2"]);
    assert!(out.contains("rejected"), "{out}");
    assert_eq!(
        provider
            .call("PATCH", "/Groups/c2", Some(replace_qa))
            .status,
        200
    );
    assert_eq!(provider.members("c2"), ["5b10a003"]);
    assert!(
        dir.ok(&["scim", "conflicts", "--scope", "acme"])
            .contains("no group conflicts")
    );

    // Okta's group push: create, rename (pathless replace with its own id), remove by a
    // value filter, add, replace; then "unlink pushed group" deletes it.
    let pushed = provider.call(
        "POST",
        "/Groups",
        Some(
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Okta Push", "members": [{"value": "5b10a003", "display": "kim@acme.com"}]}),
        ),
    );
    assert_eq!(pushed.status, 201, "{}", pushed.body);
    let group = pushed.body["id"].as_str().unwrap().to_string();
    let patch = |operations: Value| {
        let reply = provider.call("PATCH", &format!("/Groups/{group}"), Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations})));
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply
    };
    assert_eq!(
        patch(json!([{"op": "replace", "value": {"id": group, "displayName": "Okta Pushed"}}]))
            .body["displayName"],
        "Okta Pushed"
    );
    patch(
        json!([{"op": "add", "path": "members", "value": [{"value": "5b10a002"}, {"value": ana_id}]}]),
    );
    patch(json!([{"op": "remove", "path": "members[value eq \"5b10a003\"]"}]));
    let mut both = vec!["5b10a002".to_string(), ana_id.clone()];
    both.sort();
    assert_eq!(provider.members(&group), both);
    patch(json!([{"op": "replace", "path": "members", "value": [{"value": "5b10a001"}]}]));
    assert_eq!(provider.members(&group), ["5b10a001"]);
    assert_eq!(
        provider
            .lookup("Groups", &format!("members[value eq \"5b10a001\"]"))
            .len(),
        2
    );
    assert_eq!(
        provider
            .call("DELETE", &format!("/Groups/{group}"), None)
            .status,
        204
    );
    assert_scim_error(
        &provider.call("GET", &format!("/Groups/{group}"), None),
        404,
        None,
    );

    // User delete: deactivated and gone from the SCIM view; a later create brings it back.
    assert_eq!(
        provider
            .call("DELETE", &format!("/Users/{ana_id}"), None)
            .status,
        204
    );
    assert_scim_error(
        &provider.call("GET", &format!("/Users/{ana_id}"), None),
        404,
        None,
    );
    assert!(
        provider
            .lookup("Users", "userName eq \"ana.new@acme.com\"")
            .is_empty()
    );
    let again = provider.call("POST", "/Users", Some(ana));
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(
        again.body["id"],
        ana_id.as_str(),
        "the same account, not a second one"
    );

    // Bulk, with a bulkId reference.
    let bulk = provider.call("POST", "/Bulk", Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "failOnErrors": 1, "Operations": [
        {"method": "POST", "path": "/Groups", "bulkId": "g", "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Bulk Group", "members": [{"value": "bulkId:u"}]}},
        {"method": "POST", "path": "/Users", "bulkId": "u", "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bulk.user@acme.com"}},
    ]})));
    assert_eq!(bulk.status, 200, "{}", bulk.body);
    let statuses: Vec<&str> = bulk.body["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["201", "201"], "{}", bulk.body);
    let bulk_user = provider.lookup("Users", "userName eq \"bulk.user@acme.com\"");
    assert_eq!(
        provider.lookup("Groups", "displayName eq \"Bulk Group\"")[0]["members"][0]["value"],
        bulk_user[0]["id"]
    );

    // Paging: integer counts, stable order, and cursors.
    let first = provider.call("GET", "/Users?startIndex=1&count=2", None);
    assert_eq!(
        (
            first.body["totalResults"].as_u64(),
            first.body["itemsPerPage"].as_u64(),
            first.body["startIndex"].as_u64()
        ),
        (Some(5), Some(2), Some(1))
    );
    let mut ids = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = provider.call("GET", &format!("/Users?count=2&cursor={cursor}"), None);
        assert_eq!(page.status, 200, "{}", page.body);
        ids.extend(
            page.body["Resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_string()),
        );
        match page.body["nextCursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => break,
        }
    }
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!((ids.len(), sorted.len()), (5, 5), "{ids:?}");
    let by_name = provider.call(
        "GET",
        "/Users?sortBy=userName&sortOrder=descending&attributes=userName",
        None,
    );
    assert_eq!(
        by_name.body["Resources"][0]["userName"], "maria@acme.com",
        "{}",
        by_name.body
    );
    assert!(by_name.body["Resources"][0].get("emails").is_none());

    // Every change is a revision in the scope's change feed.
    let feed = dir.ok(&["changes", "--scope", "acme", "--format", "jsonl"]);
    assert!(
        feed.lines()
            .any(|l| l.contains("scim:user") && l.contains("5b10a001")),
        "{feed}"
    );
    assert!(
        feed.lines()
            .any(|l| l.contains("scim:group") && l.contains(&group)),
        "{feed}"
    );
    server.stop();
}

#[test]
fn scim_answers_429_with_retry_after_over_the_configured_rate() {
    let dir = Dir::new();
    let token = migrated_scope(&dir);
    let server = ScimServer::start(&dir, &["--scim-rate", "1"]);
    let bearer = format!("Bearer {token}");
    let replies: Vec<Reply> = (0..3)
        .map(|_| {
            server.send(
                "GET",
                "/scim/v2/Users?count=1",
                &[("Authorization", &bearer)],
                None,
            )
        })
        .collect();
    let limited = replies
        .iter()
        .find(|r| r.status == 429)
        .expect("a request beyond one a second is refused");
    assert_eq!(limited.body["status"], "429");
    assert!(
        limited
            .header("retry-after")
            .is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s >= 1)),
        "{:?}",
        limited.headers
    );
    assert_eq!(
        server.send("GET", "/health", &[], None).status,
        200,
        "the rest of the API is not limited"
    );
    server.stop();
}

#[test]
fn members_references_and_extensions_round_trip_on_sqlite() {
    members_references_and_extensions_round_trip(Dir::new());
}

#[test]
fn members_references_and_extensions_round_trip_on_postgres() {
    let Some(database) = crate::postgres::fresh_database() else {
        return;
    };
    members_references_and_extensions_round_trip(Dir::on_database(&database.url));
}

/// What the conformance tester scim2-tester checks beyond the provider sequences: group
/// members carry `type` and `$ref` (RFC 7643 §4.2), a user's groups their `$ref`, `/Schemas`
/// advertises only member sub-attributes that are kept, and Crosswalk's extension object
/// (read-only attributes) is there after a client adds it, even empty, and gone after a
/// client removes it.
fn members_references_and_extensions_round_trip(dir: Dir) {
    const USER_EXTENSION: &str = "urn:crosswalk:params:scim:schemas:extension:2.0:User";
    const GROUP_EXTENSION: &str = "urn:crosswalk:params:scim:schemas:extension:2.0:Group";
    let token = migrated_scope(&dir);
    let server = ScimServer::start(&dir, &[]);
    let provider = Provider {
        server: &server,
        bearer: format!("Bearer {token}"),
    };
    let base = format!("http://{}/scim/v2", server.address);
    let patch = |operations: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations});

    // A migrated group's members are Users, with the URI of each.
    let migrated = provider.call("GET", "/Groups/c2", None);
    assert_eq!(migrated.status, 200, "{}", migrated.body);
    assert_eq!(
        migrated.body["members"],
        json!([{"value": "5b10a003", "type": "User", "$ref": format!("{base}/Users/5b10a003")}]),
        "{}",
        migrated.body
    );
    // A user's groups carry the URI of each group.
    let kim = provider.call("GET", "/Users/5b10a003", None);
    assert_eq!(kim.body["groups"][0]["value"], "c2", "{}", kim.body);
    assert_eq!(
        kim.body["groups"][0]["$ref"],
        format!("{base}/Groups/c2"),
        "{}",
        kim.body
    );

    // A provider's group: a User member and a nested Group member, each typed from what
    // the id names; what the provider says of its type is checked, its display dropped.
    let created = provider.call(
        "POST",
        "/Groups",
        Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Platform",
            "members": [{"value": "5b10a001", "display": "John Doe"}, {"value": "c2", "type": "Group"}]})),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let platform = created.body["id"].as_str().unwrap().to_string();
    let members = json!([
        {"value": "5b10a001", "type": "User", "$ref": format!("{base}/Users/5b10a001")},
        {"value": "c2", "type": "Group", "$ref": format!("{base}/Groups/c2")},
    ]);
    assert_eq!(created.body["members"], members, "{}", created.body);
    assert_eq!(
        provider
            .call("GET", &format!("/Groups/{platform}"), None)
            .body["members"],
        members
    );
    let listed = provider.lookup("Groups", "displayName eq \"Platform\"");
    assert_eq!(listed[0]["members"], members, "{listed:?}");
    // Members the tester adds as it reads them back: `$ref` and `type` included.
    let added = provider.call(
        "PATCH",
        &format!("/Groups/{platform}"),
        Some(patch(json!([{"op": "add", "path": "members", "value": [
            {"value": "5b10a002", "type": "User", "$ref": format!("{base}/Users/5b10a002")}]}]))),
    );
    assert_eq!(added.status, 200, "{}", added.body);
    assert_eq!(
        added.body["members"][2],
        json!({"value": "5b10a002", "type": "User", "$ref": format!("{base}/Users/5b10a002")}),
        "{}",
        added.body
    );
    let wrong_type = provider.call(
        "PATCH",
        &format!("/Groups/{platform}"),
        Some(patch(
            json!([{"op": "add", "path": "members", "value": [{"value": "5b10a003", "type": "Group"}]}]),
        )),
    );
    assert_scim_error(&wrong_type, 400, Some("invalidValue"));
    assert!(
        wrong_type.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("5b10a003") && d.contains("is a User")),
        "{}",
        wrong_type.body
    );
    let bad_type = provider.call(
        "PATCH",
        &format!("/Groups/{platform}"),
        Some(patch(
            json!([{"op": "add", "path": "members", "value": [{"value": "5b10a003", "type": "Robot"}]}]),
        )),
    );
    assert_scim_error(&bad_type, 400, Some("invalidValue"));

    // /Schemas says members have value, $ref and type: display is not kept, and a filter
    // on it is refused as one on nothing stored.
    let schema = provider.call(
        "GET",
        "/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group",
        None,
    );
    assert_eq!(schema.status, 200, "{}", schema.body);
    let members_attribute = schema.body["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "members")
        .cloned()
        .unwrap();
    let subs: Vec<&str> = members_attribute["subAttributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(subs, ["value", "$ref", "type"]);
    assert_scim_error(
        &provider.call(
            "GET",
            &format!("/Groups?filter={}", q("members.display eq \"John Doe\"")),
            None,
        ),
        400,
        Some("invalidFilter"),
    );

    // Crosswalk's extension: a client that adds it (its `schemas` inside, as scim2-models
    // writes it; nothing else, every attribute being read-only) reads it back, and no
    // longer after it removes it. Writing a read-only attribute in it stays refused.
    let zed = provider.call(
        "POST",
        "/Users",
        Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "zed@acme.com"})),
    );
    assert_eq!(zed.status, 201, "{}", zed.body);
    assert!(zed.body.get(USER_EXTENSION).is_none(), "{}", zed.body);
    let zed = zed.body["id"].as_str().unwrap().to_string();
    for (path, resource, extension) in [
        (format!("/Users/{zed}"), "User", USER_EXTENSION),
        (format!("/Groups/{platform}"), "Group", GROUP_EXTENSION),
    ] {
        for op in ["add", "replace"] {
            let reply = provider.call(
                "PATCH",
                &path,
                Some(patch(
                    json!([{"op": op, "path": extension, "value": {"schemas": [extension]}}]),
                )),
            );
            assert_eq!(reply.status, 200, "{op} {resource}: {}", reply.body);
            assert_eq!(reply.body[extension], json!({}), "{op}: {}", reply.body);
            assert!(
                reply.body["schemas"]
                    .as_array()
                    .unwrap()
                    .contains(&json!(extension)),
                "{}",
                reply.body
            );
            let read = provider.call("GET", &path, None);
            assert_eq!(read.body[extension], json!({}), "{op}: {}", read.body);
            let removed = provider.call(
                "PATCH",
                &path,
                Some(patch(json!([{"op": "remove", "path": extension}]))),
            );
            assert_eq!(removed.status, 200, "{}", removed.body);
            assert!(removed.body.get(extension).is_none(), "{}", removed.body);
            let read = provider.call("GET", &path, None);
            assert!(read.body.get(extension).is_none(), "{}", read.body);
            assert_eq!(
                read.body["schemas"],
                json!([format!("urn:ietf:params:scim:schemas:core:2.0:{resource}")]),
                "{}",
                read.body
            );
        }
    }
    assert_scim_error(
        &provider.call(
            "PATCH",
            &format!("/Users/{zed}"),
            Some(patch(
                json!([{"op": "add", "path": USER_EXTENSION, "value": {"emailVerified": true}}]),
            )),
        ),
        400,
        Some("mutability"),
    );
    // A migrated account's extension holds read-only data: it cannot be removed.
    assert_eq!(
        provider.call("GET", "/Users/5b10a001", None).body[USER_EXTENSION],
        json!({"emailVerified": true})
    );
    assert_scim_error(
        &provider.call(
            "PATCH",
            "/Users/5b10a001",
            Some(patch(json!([{"op": "remove", "path": USER_EXTENSION}]))),
        ),
        400,
        Some("mutability"),
    );

    // A rename keeps a display name that was simply the name so: no extension appears.
    let renamed = provider.call(
        "PATCH",
        &format!("/Groups/{platform}"),
        Some(patch(
            json!([{"op": "replace", "path": "displayName", "value": "Platform Team"}]),
        )),
    );
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_eq!(renamed.body["displayName"], "Platform Team");
    assert!(
        renamed.body.get(GROUP_EXTENSION).is_none(),
        "{}",
        renamed.body
    );
    server.stop();
}
