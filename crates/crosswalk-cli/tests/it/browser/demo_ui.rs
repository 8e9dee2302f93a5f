//! `crosswalk demo` ends by serving the web UI: the address and the token it prints sign a
//! browser in to the demo's report.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use super::support::{Browser, UiServer};
use crate::util::Dir;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_serves_the_ui_with_a_token_that_signs_in() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let dir = Dir::new();
    let mut demo = dir
        .command()
        .env_remove("CROSSWALK_DEMO_NO_SERVE")
        .args(["demo", "--serve-for", "120"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start crosswalk demo");
    let mut lines = BufReader::new(demo.stdout.take().expect("stdout")).lines();
    let mut address = None;
    let mut token = None;
    for line in lines.by_ref() {
        let line = line.expect("a line of the demo's output");
        if let Some(rest) = line.strip_prefix("the web UI: ") {
            address = rest.split_whitespace().next().map(str::to_string);
        } else if address.is_some() && line.trim_start().starts_with("cw_") {
            token = Some(line.trim().to_string());
            break;
        }
    }
    let (address, token) = (
        address.expect("the demo prints the UI's address"),
        token.expect("the demo prints a token"),
    );
    assert!(
        address.starts_with("http://127.0.0.1:") && address.ends_with("/ui/"),
        "{address}"
    );
    let server = UiServer::attach(demo, address.trim_end_matches("/ui/"));

    browser.goto(&address).await;
    browser.sign_in(&server, &token).await;
    assert_eq!(
        browser.texts("table.data tbody td:first-child").await,
        ["default"]
    );
    browser.click("a[href='/ui/scopes/default']").await;
    browser
        .wait_for_path(|path| path == "/ui/scopes/default")
        .await;
    browser
        .click("a[href='/ui/scopes/default/report?job=demo']")
        .await;
    browser
        .wait_for_path(|path| path == "/ui/scopes/default/report?job=demo")
        .await;
    assert_eq!(browser.text("h1").await, "Report of job demo");
    assert!(!browser.all("#report-grid tbody tr").await.is_empty());
    browser.close().await;
}

/// `--serve-for` stops the server by itself, exiting 0: the form `.ci/run` uses.
#[test]
fn the_demo_stops_serving_after_serve_for() {
    let dir = Dir::new();
    let out = dir
        .command()
        .env_remove("CROSSWALK_DEMO_NO_SERVE")
        .args(["demo", "--serve-for", "1"])
        .output()
        .expect("run crosswalk demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("the web UI: http://127.0.0.1:") && stdout.contains("stops after 1 s"),
        "{stdout}"
    );
    let no_serve = dir.ok(&["demo", "--no-serve"]);
    assert!(!no_serve.contains("the web UI"), "{no_serve}");
}
