//! Review and resolve as an admin does it in the browser, over the demo's data: accept the
//! planted suggestion from the queue, resolve an ambiguous mapping by choosing a candidate and
//! another by searching the destination directory, read the re-attribution list and its CSV,
//! and open a job's check-and-plan page.

use serde_json::json;

use super::support::{Browser, demo_site};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_accepts_a_suggestion_resolves_mappings_and_reads_what_to_reattribute() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let site = demo_site();
    let server = &site.server;
    browser.goto(&server.url("/ui/scopes/default")).await;
    browser.sign_in(server, &site.admin).await;

    // The review queue, reached from the scope's page: the planted suggestion, accepted with
    // the keyboard (its box ticked with the space bar) and "Accept selected".
    browser.click("#nav-review").await;
    browser
        .wait_for_path(|path| path == "/ui/scopes/default/review")
        .await;
    assert_eq!(
        browser
            .texts("#review-table tbody tr td:nth-child(2) code")
            .await,
        ["JIRAUSER10041"]
    );
    assert_eq!(browser.text("#review-table tbody td.score").await, "0.92");
    browser
        .find("#select-0")
        .await
        .send_keys(" ")
        .await
        .unwrap();
    assert!(
        browser.find("#select-0").await.is_selected().await.unwrap(),
        "the space bar ticks the box"
    );
    browser.click("#accept-selected").await;
    // The answer's table (none on the queue) says the new page is there.
    browser.find("#decided-table").await;
    assert_eq!(browser.text("h1").await, "Accepted 1 suggestions");
    browser.click("#decided-table a").await;
    browser
        .wait_for_path(|path| path == "/ui/scopes/default/mappings/account/JIRAUSER10041")
        .await;
    assert_eq!(browser.text("#resolution").await, "Exception");
    let revisions = browser.texts("#revision-table tbody tr").await;
    assert!(
        revisions.last().unwrap().contains("Exception"),
        "the decision is the mapping's latest revision: {revisions:?}"
    );

    // An ambiguous mapping (the shared mailbox: two source accounts claim one cloud account):
    // its candidate chosen on its page.
    browser
        .goto(&server.url("/ui/scopes/default/mappings/account/JIRAUSER10011"))
        .await;
    assert_eq!(browser.text("#resolution").await, "Unresolved");
    let candidate = browser
        .find("#candidate-table tbody button[data-destination-id]")
        .await;
    let chosen = candidate
        .attr("data-destination-id")
        .await
        .unwrap()
        .unwrap();
    candidate.click().await.unwrap();
    browser
        .wait_for_path(|path| path.ends_with("/resolve"))
        .await;
    assert_eq!(browser.text("h1").await, "Resolved Service Desk");
    let now = browser.text("#new-resolution").await;
    assert!(now.contains("Exception") && now.contains(&chosen), "{now}");
    browser.click("#back-to-mapping").await;
    browser
        .wait_for_path(|path| path == "/ui/scopes/default/mappings/account/JIRAUSER10011")
        .await;
    assert_eq!(browser.text("#resolution").await, "Exception");

    // Ahmed Hassan (an invalid address): his cloud account found by a search, and the items
    // his decision re-attributes listed at once, the one whose title starts with `=` among them.
    browser
        .goto(&server.url("/ui/scopes/default/mappings/account/JIRAUSER10015"))
        .await;
    browser.fill("#find-destination", "alhassan").await;
    browser.click("#find-button").await;
    browser
        .wait_for_path(|path| path.contains("find=alhassan"))
        .await;
    let results = browser.all("#search-results tbody tr").await;
    assert_eq!(results.len(), 1);
    browser.click("#search-results tbody button").await;
    browser
        .wait_for_path(|path| path.ends_with("/resolve"))
        .await;
    assert!(browser.text("#new-resolution").await.contains("Exception"));
    let reattributed = browser.text("#reattribution-table").await;
    assert!(
        reattributed.contains("=SUM(budget) notes"),
        "{reattributed}"
    );

    // The re-attribution list: Anna Kowalska's items (the demo's exception) and Ahmed's, with
    // the old and the new destination; the CSV download neutralises the formula.
    browser.goto(&server.url("/ui/scopes/default")).await;
    browser.click("#nav-reattribution").await;
    browser
        .wait_for_path(|path| path == "/ui/scopes/default/reattribution")
        .await;
    let keys: Vec<String> = {
        let mut keys = Vec::new();
        for row in browser.all("#reattribution-table tbody tr").await {
            keys.push(
                row.attr("data-source-key")
                    .await
                    .unwrap()
                    .unwrap_or_default(),
            );
        }
        keys
    };
    assert_eq!(
        keys.iter().filter(|k| *k == "JIRAUSER10017").count(),
        9,
        "{keys:?}"
    );
    assert!(keys.contains(&"JIRAUSER10015".to_string()), "{keys:?}");
    let href = browser
        .find("#download-csv")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let csv = browser
        .script(
            "return fetch(arguments[0], {credentials: 'same-origin'}).then(r => r.text());",
            vec![json!(href)],
        )
        .await;
    let csv = csv.as_str().unwrap();
    assert!(
        csv.starts_with("revision,namespace,source_key,container,"),
        "{csv}"
    );
    assert!(csv.contains(",'=SUM(budget) notes,"), "{csv}");

    // The job's check and plan: the planted blockers with their fixes; nothing left to change.
    browser
        .goto(&server.url("/ui/scopes/default/jobs/demo"))
        .await;
    browser.click("#check-and-plan").await;
    browser
        .wait_for_path(|path| path == "/ui/scopes/default/jobs/demo/check")
        .await;
    let invalid = browser.text("article[data-kind=INVALID_EMAIL]").await;
    assert!(
        invalid.contains("BLOCKER")
            && invalid.contains("JIRAUSER10015")
            && invalid.contains("Suggested fix"),
        "{invalid}"
    );
    assert!(browser.text("#gate-note").await.contains("\"force\": true"));
    assert_eq!(
        browser.text("#plan-none").await,
        "Running this job again with these inputs would change nothing."
    );
    browser.close().await;
}
