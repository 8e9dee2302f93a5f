//! The SCIM service's held group conflicts in the browser: an identity provider pushes other
//! members to a migrated group of the demo (sent here over SCIM by the page itself, with a
//! writer token, as Okta or Entra would), and the admin accepts one held change and rejects
//! another from the conflicts page.

use serde_json::{Value, json};

use super::support::{Browser, demo_site};

/// A SCIM request sent from the page (same origin) with a bearer token: status and body.
const SCIM: &str = "const [method, path, token, body] = arguments;
return fetch(path, { method, headers: { 'Authorization': 'Bearer ' + token, 'Content-Type': 'application/scim+json' },
  body: body ? JSON.stringify(body) : undefined })
  .then(async r => ({ status: r.status, body: await r.json() }));";

async fn scim(
    browser: &Browser,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Value {
    let answer = browser
        .script(
            SCIM,
            vec![
                json!(method),
                json!(path),
                json!(token),
                body.unwrap_or(Value::Null),
            ],
        )
        .await;
    assert!(
        answer["status"].as_u64().is_some_and(|s| s < 300),
        "{method} {path}: {answer}"
    );
    answer["body"].clone()
}

fn member_ids(group: &Value) -> Vec<String> {
    let mut ids: Vec<String> = group["members"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter_map(|m| m["value"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_accepts_and_rejects_a_providers_held_group_changes() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let site = demo_site();
    let server = &site.server;
    let provider = site.dir.ok(&[
        "token", "create", "--scope", "default", "--role", "writer", "--label", "okta",
    ]);
    let provider = provider.trim();
    browser.goto(&server.url("/ui/scopes/default")).await;
    browser.sign_in(server, &site.admin).await;

    // Nothing held yet.
    browser.click("#nav-scim-conflicts").await;
    browser
        .wait_for_path(|path| path == "/ui/scopes/default/scim/conflicts")
        .await;
    assert!(
        browser
            .text("#conflict-count")
            .await
            .starts_with("No group conflict is held")
    );

    // The provider adds an account to a migrated group with members: held, not applied.
    let groups = scim(&browser, "GET", "/scim/v2/Groups?count=100", provider, None).await;
    let groups: Vec<&Value> = groups["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| !member_ids(g).is_empty())
        .collect();
    assert!(
        groups.len() >= 2,
        "the demo has migrated groups with members: {groups:?}"
    );
    let (first, second) = (groups[0], groups[1]);
    for group in &groups {
        let mut unique = member_ids(group);
        unique.dedup();
        assert_eq!(
            unique,
            member_ids(group),
            "each member listed once, though the demo's directory repeats a row: {}",
            group["displayName"]
        );
    }
    let first_id = first["id"].as_str().unwrap().to_string();
    let users = scim(&browser, "GET", "/scim/v2/Users?count=100", provider, None).await;
    let newcomer = users["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .find(|id| !member_ids(first).contains(id))
        .expect("an account outside the group");
    let add = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Add", "path": "members", "value": [{"value": newcomer}]}]});
    scim(
        &browser,
        "PATCH",
        &format!("/scim/v2/Groups/{first_id}"),
        provider,
        Some(add),
    )
    .await;
    let after = scim(
        &browser,
        "GET",
        &format!("/scim/v2/Groups/{first_id}"),
        provider,
        None,
    )
    .await;
    assert_eq!(member_ids(&after), member_ids(first), "held, not applied");

    // And removes a member of another: held too.
    let second_id = second["id"].as_str().unwrap().to_string();
    let leaving = member_ids(second)[0].clone();
    let remove = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Remove", "path": "members", "value": [{"value": leaving}]}]});
    scim(
        &browser,
        "PATCH",
        &format!("/scim/v2/Groups/{second_id}"),
        provider,
        Some(remove),
    )
    .await;

    browser
        .goto(&server.url("/ui/scopes/default/scim/conflicts"))
        .await;
    assert_eq!(
        browser.text("#conflict-count").await,
        "2 group conflicts are held."
    );
    let first_row = format!("#conflict-table tr[data-group-id='{first_id}']");
    assert_eq!(
        browser.text(&format!("{first_row} td.added")).await,
        newcomer
    );
    assert_eq!(
        browser.text(&format!("{first_row} td.removed")).await,
        "none"
    );
    let second_row = format!("#conflict-table tr[data-group-id='{second_id}']");
    assert_eq!(
        browser.text(&format!("{second_row} td.removed")).await,
        leaving
    );

    // Accept the first: the provider's members are the group's.
    browser.click(&format!("{first_row} button.accept")).await;
    browser
        .wait_for_path(|path| path.starts_with("/ui/scopes/default/scim/conflicts/"))
        .await;
    assert!(
        browser
            .text("#decided")
            .await
            .starts_with("Accepted the provider's members")
    );
    let mut expected = member_ids(first);
    expected.push(newcomer.clone());
    expected.sort();
    let accepted = scim(
        &browser,
        "GET",
        &format!("/scim/v2/Groups/{first_id}"),
        provider,
        None,
    )
    .await;
    assert_eq!(member_ids(&accepted), expected);

    // Reject the second: its migrated members stay, and a later push changes nothing.
    browser.click("#back-to-conflicts").await;
    browser
        .wait_for_path(|path| path == "/ui/scopes/default/scim/conflicts")
        .await;
    assert_eq!(
        browser.text("#conflict-count").await,
        "1 group conflicts are held."
    );
    browser.click(&format!("{second_row} button.reject")).await;
    browser
        .wait_for_path(|path| path.starts_with("/ui/scopes/default/scim/conflicts/"))
        .await;
    assert!(
        browser
            .text("#decided")
            .await
            .starts_with("Kept the migrated members")
    );
    let remove = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Remove", "path": "members", "value": [{"value": leaving}]}]});
    scim(
        &browser,
        "PATCH",
        &format!("/scim/v2/Groups/{second_id}"),
        provider,
        Some(remove),
    )
    .await;
    let kept = scim(
        &browser,
        "GET",
        &format!("/scim/v2/Groups/{second_id}"),
        provider,
        None,
    )
    .await;
    assert_eq!(member_ids(&kept), member_ids(second));
    browser
        .goto(&server.url("/ui/scopes/default/scim/conflicts"))
        .await;
    assert!(
        browser
            .text("#conflict-count")
            .await
            .starts_with("No group conflict is held")
    );

    // A reader sees the conflicts but has no buttons.
    browser.close().await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    browser.goto(&server.url("/ui/scopes/default")).await;
    browser.sign_in(server, &site.reader).await;
    browser
        .goto(&server.url("/ui/scopes/default/scim/conflicts"))
        .await;
    assert!(browser.text(".reader-note").await.contains("writer token"));
}
