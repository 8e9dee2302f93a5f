//! The report pages as a person uses them: sign in, the grid, its filters and pages, the bar
//! chart, a mapping's page, sign out; and what the UI refuses: another scope, a form from
//! another site or without its CSRF token.

use serde_json::json;

use super::support::{Browser, DemoSite, demo_site};

/// The resolution shown in each row of the grid.
async fn grid_resolutions(browser: &Browser) -> Vec<String> {
    browser.texts("#report-grid tbody td .badge").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_signs_in_filters_pages_and_opens_a_mapping() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let site = demo_site();
    let server = &site.server;

    // A page asked for before signing in comes back after it; the token is in no address.
    browser.goto(&server.url("/ui/scopes/default/report")).await;
    let path = browser
        .wait_for_path(|path| path.starts_with("/ui/sign-in"))
        .await;
    assert_eq!(path, "/ui/sign-in?next=%2Fui%2Fscopes%2Fdefault%2Freport");
    assert_eq!(
        browser.all(":focus").await.len(),
        1,
        "the token field has the focus"
    );
    browser.sign_in(server, &site.reader).await;
    let path = browser.path().await;
    assert_eq!(path, "/ui/scopes/default/report");
    assert!(!path.contains(&site.reader));
    let cookies = browser.client().get_all_cookies().await.unwrap();
    let session = cookies
        .iter()
        .find(|c| c.name() == "crosswalk_session")
        .expect("a session cookie");
    assert_eq!(session.http_only(), Some(true), "{session:?}");
    assert_eq!(
        format!("{:?}", session.same_site()),
        "Some(Strict)",
        "{session:?}"
    );
    assert!(
        !session.value().contains(&site.reader),
        "the cookie is a session id, not the token"
    );

    // The whole report: 50 rows on one page, with the counts as a bar chart.
    assert_eq!(
        browser.text("#grid-count").await,
        "50 users and groups match; showing 1–50."
    );
    assert_eq!(grid_resolutions(&browser).await.len(), 50);
    let chart = browser.find("#resolution-chart svg").await;
    let label = chart.attr("aria-label").await.unwrap().unwrap_or_default();
    assert!(
        label.contains("Email 28") && label.contains("Unresolved 10"),
        "{label}"
    );
    let bars = browser.all("#resolution-chart g.bar").await;
    assert_eq!(bars.len(), 7, "one bar per resolution present: {label}");

    // Filter: Unresolved only, then groups only; the form's address is the filter.
    browser.click("#filter-resolution-unresolved").await;
    browser.click("#apply-filters").await;
    browser
        .wait_for_path(|path| path.contains("resolution=Unresolved"))
        .await;
    let resolutions = grid_resolutions(&browser).await;
    assert_eq!(resolutions.len(), 10);
    assert!(
        resolutions.iter().all(|r| r == "Unresolved"),
        "{resolutions:?}"
    );
    browser
        .find("#filter-type")
        .await
        .select_by_value("group")
        .await
        .unwrap();
    browser.click("#apply-filters").await;
    browser
        .wait_for_path(|path| path.contains("type=group"))
        .await;
    assert_eq!(
        browser.texts("#report-grid tbody tr td:first-child").await,
        ["Group", "Group"]
    );
    assert_eq!(
        browser.text("#grid-count").await,
        "2 groups match; showing 1–2."
    );

    // Flagged only, over every resolution: the look-alike is there.
    browser
        .goto(&server.url("/ui/scopes/default/report?flagged=1"))
        .await;
    let flagged_ids = browser.texts("#report-grid tbody td:nth-child(3)").await;
    assert!(
        flagged_ids.contains(&"JIRAUSER10014".to_string()),
        "{flagged_ids:?}"
    );
    assert!(
        browser
            .texts("#report-grid tbody .flag")
            .await
            .iter()
            .any(|f| f == "look alike")
    );

    // Pages of 25: the second holds the rest, and no row is on both.
    browser.goto(&server.url("/ui/scopes/default/report")).await;
    browser
        .find("#filter-per-page")
        .await
        .select_by_value("25")
        .await
        .unwrap();
    browser.click("#apply-filters").await;
    browser
        .wait_for_path(|path| path.contains("per_page=25"))
        .await;
    let first_page = browser.texts("#report-grid tbody td:nth-child(3)").await;
    assert_eq!(first_page.len(), 25);
    browser.click("nav.pager a[rel=next]").await;
    browser.wait_for_path(|path| path.contains("after=")).await;
    assert_eq!(browser.text("nav.pager span").await, "Page 2 of 2");
    let second_page = browser.texts("#report-grid tbody td:nth-child(3)").await;
    assert_eq!(second_page.len(), 25);
    assert!(
        second_page.iter().all(|id| !first_page.contains(id)),
        "{first_page:?} {second_page:?}"
    );

    // Search (any case, any field) and a sortable header; the export link keeps the search.
    browser.goto(&server.url("/ui/scopes/default/report")).await;
    browser.fill("#filter-search", "HADDAD").await;
    browser.click("#apply-filters").await;
    browser
        .wait_for_path(|path| path.contains("search=HADDAD"))
        .await;
    assert_eq!(
        browser.texts("#report-grid tbody td:nth-child(3)").await,
        ["JIRAUSER10041"]
    );
    assert!(
        browser
            .texts("#report-grid tbody .flag")
            .await
            .iter()
            .any(|f| f == "suggestion")
    );
    let export = browser
        .find("#export-csv")
        .await
        .attr("href")
        .await
        .unwrap()
        .unwrap_or_default();
    assert_eq!(export, "/ui/scopes/default/report/export?search=HADDAD");
    // The Export button's response (what the download saves), fetched by the page itself.
    let fetch = "return fetch(arguments[0], { credentials: 'same-origin' }).then(r => r.text());";
    let csv = browser.script(fetch, vec![json!(export)]).await;
    let lines: Vec<&str> = csv.as_str().unwrap().lines().collect();
    assert_eq!(
        lines[0],
        "Type,Job,Source ID,Source Username,Source Name,Source Display Name,Destination ID,Destination Username,Destination Name,Destination Display Name,Resolution,Message"
    );
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[1].starts_with("account,demo,JIRAUSER10041,nhaddad,"),
        "{lines:?}"
    );
    browser
        .goto(&server.url("/ui/scopes/default/report?search=evil.example"))
        .await;
    // This one through the browser's own download: the file Chromium saves.
    let (name, csv) = browser.download("#export-csv").await;
    assert!(name.ends_with(".csv"), "{name}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "Type,Job,Source ID,Source Username,Source Name,Source Display Name,Destination ID,Destination Username,Destination Name,Destination Display Name,Resolution,Message"
    );
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[1].contains(",\"'=HYPERLINK(\"\"https://evil.example/\"\""),
        "the formula is neutralised: {lines:?}"
    );
    browser
        .goto(&server.url("/ui/scopes/default/report?suggested=1"))
        .await;
    assert_eq!(
        browser.texts("#report-grid tbody td:nth-child(3)").await,
        ["JIRAUSER10041"]
    );
    browser.goto(&server.url("/ui/scopes/default/report")).await;
    browser.click("th[data-sort=source_id] a").await;
    browser
        .wait_for_path(|path| path.contains("sort=source_id"))
        .await;
    browser.click("th[data-sort=source_id] a").await;
    browser
        .wait_for_path(|path| path.contains("order=desc"))
        .await;
    assert_eq!(
        browser
            .find("th[data-sort=source_id]")
            .await
            .attr("aria-sort")
            .await
            .unwrap()
            .as_deref(),
        Some("descending")
    );
    let descending = browser.texts("#report-grid tbody td:nth-child(3)").await;
    let mut expected = descending.clone();
    expected.sort();
    expected.reverse();
    assert_eq!(descending, expected);

    // A mapping's page: the look-alike, with its flag, candidates and the run that wrote it.
    browser
        .goto(&server.url("/ui/scopes/default/report?flagged=1"))
        .await;
    browser
        .click("tr[data-source-id=JIRAUSER10014] a[href*='/mappings/account/']")
        .await;
    browser
        .wait_for_path(|path| path == "/ui/scopes/default/mappings/account/JIRAUSER10014")
        .await;
    assert_eq!(browser.texts("#flag-list li").await, ["look alike"]);
    assert!(
        !browser.all("#candidate-table tbody tr").await.is_empty(),
        "a look-alike is listed as a candidate"
    );
    let revisions = browser.texts("#revision-table tbody tr").await;
    assert_eq!(revisions.len(), 1, "{revisions:?}");
    assert!(revisions[0].contains("run 1 of job demo"), "{revisions:?}");
    // An email link has its evidence.
    browser
        .goto(&server.url("/ui/scopes/default/mappings/account/JIRAUSER10001"))
        .await;
    assert_eq!(browser.text("#resolution").await, "Email");
    assert!(!browser.all("#evidence-table tbody tr").await.is_empty());

    // The keyboard: the first Tab reaches the skip link.
    browser
        .find("body")
        .await
        .send_keys("\u{E004}")
        .await
        .unwrap();
    let focused = browser.client().active_element().await.unwrap();
    assert_eq!(focused.text().await.unwrap(), "Skip to content");

    // Sign out: the session is gone, and pages ask to sign in again.
    browser.click("form.sign-out button").await;
    browser
        .wait_for_path(|path| path.starts_with("/ui/sign-in"))
        .await;
    assert_eq!(browser.text("p.notice").await, "You are signed out.");
    browser.goto(&server.url("/ui/scopes/default")).await;
    browser
        .wait_for_path(|path| path.starts_with("/ui/sign-in?next="))
        .await;
    browser.close().await;
}

/// Another scope's pages answer exactly as a scope that does not exist; the instance admin
/// sees every scope.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_scope_is_not_found_and_the_admin_sees_all() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let site = demo_site();
    let server = &site.server;
    let foreign = DemoSite::FOREIGN_SCOPE;

    browser.goto(&server.url("/ui/")).await;
    browser.sign_in(server, &site.reader).await;
    assert_eq!(
        browser.texts("table.data tbody td:first-child").await,
        ["default"]
    );
    for path in [
        format!("/ui/scopes/{foreign}"),
        format!("/ui/scopes/{foreign}/report"),
        format!("/ui/scopes/{foreign}/mappings/account/JIRAUSER10001"),
    ] {
        assert_eq!(browser.status_of("GET", &path, "").await, 404, "{path}");
    }
    assert_eq!(
        browser.status_of("GET", "/ui/scopes/nowhere", "").await,
        404
    );
    browser
        .goto(&server.url(&format!("/ui/scopes/{foreign}/report")))
        .await;
    assert_eq!(browser.text("h1").await, "Not found");
    let foreign_message = browser.text("p.problem").await;
    browser.goto(&server.url("/ui/scopes/nowhere/report")).await;
    let missing_message = browser.text("p.problem").await;
    assert_eq!(
        foreign_message.replace(foreign, "X"),
        missing_message.replace("nowhere", "X"),
        "word for word alike"
    );
    assert!(
        !browser.text("body").await.contains("forbidden"),
        "nothing says the scope exists"
    );

    // The foreign scope's own token sees it (and only it).
    browser.goto(&server.url("/ui/")).await;
    browser.click("form.sign-out button").await;
    browser
        .wait_for_path(|path| path.starts_with("/ui/sign-in"))
        .await;
    browser.sign_in(server, &site.foreign).await;
    assert_eq!(
        browser.texts("table.data tbody td:first-child").await,
        [foreign]
    );
    browser
        .goto(&server.url(&format!("/ui/scopes/{foreign}/report")))
        .await;
    assert!(
        browser
            .text("p.notice")
            .await
            .contains("no job has run in it"),
        "an empty scope says why it is empty"
    );

    // A wrong token is refused on the sign-in page itself.
    browser.click("form.sign-out button").await;
    browser
        .wait_for_path(|path| path.starts_with("/ui/sign-in"))
        .await;
    browser
        .fill(
            "#token",
            "cw_0000000000000000_0000000000000000000000000000000000000000000000000000000000000000",
        )
        .await;
    browser.click("form.sign-in button[type=submit]").await;
    assert!(browser.text("#sign-in-problem").await.contains("not valid"));

    browser.sign_in(server, &site.admin).await;
    assert_eq!(
        browser.texts("table.data tbody td:first-child").await,
        ["default", foreign]
    );
    browser
        .goto(&server.url("/ui/scopes/default/jobs/demo"))
        .await;
    // The demo runs its job twice: before and after the account exception (re-attribution).
    assert_eq!(browser.texts("table.runs tbody tr").await.len(), 2);
    browser.close().await;
}

/// A POST without the session's CSRF token is refused even from the UI's own page; a form
/// another site makes the browser send is refused too; neither ends or changes the session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_without_the_csrf_token_or_from_another_site_are_refused() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let site = demo_site();
    let server = &site.server;
    browser.goto(&server.url("/ui/")).await;
    browser.sign_in(server, &site.reader).await;

    // Same origin, with the session cookie, but no token (or a wrong one): 403.
    assert_eq!(browser.status_of("POST", "/ui/sign-out", "").await, 403);
    assert_eq!(
        browser
            .status_of("POST", "/ui/sign-out", "_csrf=0123abcd")
            .await,
        403
    );
    browser.goto(&server.url("/ui/")).await;
    assert_eq!(browser.text("h1").await, "Scopes", "still signed in");

    // Another site's page (here an opaque origin) posting the sign-out form to this server.
    browser.goto("about:blank").await;
    let script = "const form = document.createElement('form'); form.method = 'POST'; form.action = arguments[0]; \
        document.body.appendChild(form); form.submit();";
    browser
        .script(script, vec![json!(server.url("/ui/sign-out"))])
        .await;
    browser.wait_for_path(|path| path == "/ui/sign-out").await;
    assert_eq!(browser.text("h1").await, "Refused");
    assert!(browser.text("p.problem").await.contains("another site"));
    browser.goto(&server.url("/ui/")).await;
    assert_eq!(browser.text("h1").await, "Scopes", "the session survived");

    // A sign-in posted from another site (login CSRF) is refused as well.
    browser.goto("about:blank").await;
    let script = "const form = document.createElement('form'); form.method = 'POST'; form.action = arguments[0]; \
        const token = document.createElement('input'); token.name = 'token'; token.value = arguments[1]; form.appendChild(token); \
        document.body.appendChild(form); form.submit();";
    browser
        .script(
            script,
            vec![json!(server.url("/ui/sign-in")), json!(site.foreign)],
        )
        .await;
    browser.wait_for_path(|path| path == "/ui/sign-in").await;
    assert_eq!(browser.text("h1").await, "Refused");
    browser.goto(&server.url("/ui/")).await;
    assert_eq!(
        browser.texts("table.data tbody td:first-child").await,
        ["default"],
        "still the reader's session"
    );
    browser.close().await;
}
