//! A scope's webhooks page as an admin uses it (issue 21): a receiver on loopback refuses
//! every event until the retry period runs out, the page lists the delivery as failed with
//! its attempts and last error, and its Redeliver button sends it again to the receiver,
//! which now accepts it, and the page then lists it as delivered.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crosswalk_events::EventType;

use super::support::{Browser, UiServer};
use crate::webhooks::{Receiver, run, setup, subscribe, wait_for};

/// Opens the webhooks page again until a delivery row in `state` is listed (the worker
/// delivers in the background); returns its text.
async fn reload_until(browser: &Browser, server: &UiServer, state: &str) -> String {
    let css = format!("#delivery-table tbody tr[data-state={state}]");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        browser.goto(&server.url("/ui/scopes/acme/webhooks")).await;
        browser.find("h1").await;
        if let Some(row) = browser.all(&css).await.into_iter().next() {
            return row.text().await.expect("a row's text");
        }
        assert!(
            Instant::now() < deadline,
            "no {state} delivery listed: {}",
            browser.text("main").await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_webhook_delivery_is_listed_with_its_error_and_redelivered_from_the_page() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let dir = setup();
    // The receiver refuses (503) until told to accept.
    let accepting = Arc::new(AtomicBool::new(false));
    let receiver = {
        let accepting = accepting.clone();
        Receiver::start(
            move |_| {
                if accepting.load(Ordering::SeqCst) {
                    200
                } else {
                    503
                }
            },
            None,
        )
    };
    let (subscription, _secret) = subscribe(&dir, &receiver.url, &["--events", "job.completed"]);
    let admin = dir
        .ok(&[
            "token", "create", "--scope", "acme", "--role", "admin", "--label", "browser",
        ])
        .trim()
        .to_string();
    // Retries a few times over a fraction of a second, then gives up: the delivery fails.
    let server = UiServer::start(
        &dir,
        &[
            "--webhook-allow",
            "127.0.0.0/8",
            "--webhook-first-delay-ms",
            "50",
            "--webhook-max-delay-ms",
            "100",
            "--webhook-retry-period-ms",
            "500",
            "--webhook-poll-ms",
            "50",
            "--webhook-timeout-ms",
            "2000",
        ],
    );
    run(&dir, "wave-1");

    // From the scope's page to its webhooks.
    browser.goto(&server.url("/ui/scopes/acme")).await;
    browser.sign_in(&server, &admin).await;
    browser.click("#nav-webhooks").await;
    browser
        .wait_for_path(|path| path == "/ui/scopes/acme/webhooks")
        .await;
    assert_eq!(browser.text("h1").await, "Webhooks");
    let subscription_row = browser
        .text(&format!(
            "#subscription-table tr[data-subscription='{subscription}']"
        ))
        .await;
    assert!(
        subscription_row.contains(&receiver.url)
            && subscription_row.contains("job.completed")
            && subscription_row.contains("active"),
        "{subscription_row}"
    );

    // The delivery, failed after its retries, with its attempts and the receiver's refusal.
    let failed = reload_until(&browser, &server, "failed").await;
    let row_css = "#delivery-table tbody tr[data-state=failed]";
    assert!(failed.contains("job.completed"), "{failed}");
    let error = browser.text(&format!("{row_css} td.last-error")).await;
    assert!(
        error.contains("HTTP 503") && error.contains("gave up after"),
        "{error}"
    );
    assert_eq!(browser.text(&format!("{row_css} td.status")).await, "503");
    let attempts: u32 = browser
        .text(&format!("{row_css} td.attempts"))
        .await
        .parse()
        .expect("attempts are a number");
    assert!(attempts >= 2, "retried before failing: {attempts} attempts");
    let refused = receiver.received();
    assert_eq!(refused.len(), attempts as usize, "each attempt reached it");
    assert!(refused.iter().all(|r| r.status == 503));
    assert_eq!(
        browser.text("#subscription-table tbody td.failed").await,
        "1",
        "the subscription counts one failed delivery"
    );

    // The receiver accepts now; Redeliver sends the same event again.
    accepting.store(true, Ordering::SeqCst);
    let message_id = browser
        .find(row_css)
        .await
        .attr("data-message-id")
        .await
        .unwrap()
        .expect("the row's message id");
    browser.click(&format!("{row_css} button.redeliver")).await;
    browser
        .wait_for_path(|path| path.starts_with("/ui/scopes/acme/webhooks?redelivered="))
        .await;
    assert!(
        browser
            .text("#redeliver-note")
            .await
            .contains("pending again"),
    );
    let delivered = reload_until(&browser, &server, "delivered").await;
    assert!(delivered.contains("job.completed"), "{delivered}");
    assert!(
        browser.all(row_css).await.is_empty(),
        "nothing is left failed"
    );
    let row_css = "#delivery-table tbody tr[data-state=delivered]";
    assert_eq!(browser.text(&format!("{row_css} td.status")).await, "200");
    assert!(
        browser
            .all(&format!("{row_css} button.redeliver"))
            .await
            .is_empty()
    );
    wait_for("the receiver accepting the event", || {
        !receiver.accepted().is_empty()
    });
    let accepted = receiver.accepted();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].event_type(), EventType::JobCompleted);
    assert_eq!(accepted[0].message_id.to_string(), message_id);
    browser.close().await;
}
