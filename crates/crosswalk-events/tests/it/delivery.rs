//! Delivering to a real receiver on loopback (plain HTTP and HTTPS): what arrives, what
//! each answer comes to, what is refused before anything is sent.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use crosswalk_events::sign::DEFAULT_TOLERANCE;
use crosswalk_events::{
    Attempt, Deliverer, DeliveryConfig, DeliveryOutcome, Event, FailureKind, TargetPolicy,
    WebhookSecret, parse_range, verify,
};
use time::OffsetDateTime;
use tokio::net::TcpListener;

use crate::events::one_of_each;

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    flaky_failures_left: Arc<AtomicUsize>,
}

impl Receiver {
    fn requests(&self, path: &str) -> Vec<Received> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }
}

async fn receive(
    State(receiver): State<Receiver>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    receiver.received.lock().unwrap().push(Received {
        path: path.clone(),
        headers: headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    value.to_str().unwrap_or("").to_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
    });
    match path.as_str() {
        "/ok" => StatusCode::NO_CONTENT.into_response(),
        "/fail" => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "database down at 10.0.0.5",
        )
            .into_response(),
        "/busy" => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "120")],
        )
            .into_response(),
        "/gone" => StatusCode::GONE.into_response(),
        "/redirect" => (StatusCode::FOUND, [(header::LOCATION, "/ok")]).into_response(),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            StatusCode::OK.into_response()
        }
        "/flaky" => {
            let left = receiver.flaky_failures_left.load(Ordering::SeqCst);
            if left > 0 {
                receiver
                    .flaky_failures_left
                    .store(left - 1, Ordering::SeqCst);
                StatusCode::BAD_GATEWAY.into_response()
            } else {
                StatusCode::OK.into_response()
            }
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

fn app(receiver: Receiver) -> Router {
    Router::new()
        .route("/{*path}", post(receive))
        .with_state(receiver)
}

/// A plain HTTP receiver on 127.0.0.1; returns it and its port.
async fn start_receiver() -> (Receiver, u16) {
    let receiver = Receiver::default();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let router = app(receiver.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (receiver, port)
}

fn loopback_allowed() -> DeliveryConfig {
    DeliveryConfig {
        policy: TargetPolicy::new().allow(parse_range("127.0.0.0/8").unwrap()),
        ..DeliveryConfig::default()
    }
}

fn unix_now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

struct Sent {
    message_id: String,
    body: String,
    secret: WebhookSecret,
    timestamp: i64,
}

fn an_event() -> Sent {
    let event = Event::new("acme", OffsetDateTime::now_utc(), one_of_each().remove(1));
    Sent {
        message_id: event.message_id.to_string(),
        body: event.to_body().unwrap(),
        secret: WebhookSecret::generate().unwrap(),
        timestamp: unix_now(),
    }
}

async fn send(deliverer: &Deliverer, url: &str, sent: &Sent) -> DeliveryOutcome {
    deliverer
        .deliver(Attempt {
            url,
            message_id: &sent.message_id,
            body: sent.body.as_bytes(),
            secrets: &[&sent.secret],
            timestamp: sent.timestamp,
        })
        .await
}

fn failure(outcome: DeliveryOutcome) -> crosswalk_events::DeliveryFailure {
    match outcome {
        DeliveryOutcome::Failed(failure) => failure,
        delivered => panic!("expected a failure, got {delivered:?}"),
    }
}

#[tokio::test]
async fn every_event_type_arrives_signed_and_verifiable() {
    let (receiver, port) = start_receiver().await;
    let deliverer = Deliverer::new(loopback_allowed()).unwrap();
    let secret = WebhookSecret::generate().unwrap();
    let url = format!("http://127.0.0.1:{port}/ok");
    for payload in one_of_each() {
        let event = Event::new("acme", OffsetDateTime::now_utc(), payload);
        let body = event.to_body().unwrap();
        let outcome = deliverer
            .deliver(Attempt {
                url: &url,
                message_id: &event.message_id.to_string(),
                body: body.as_bytes(),
                secrets: &[&secret],
                timestamp: unix_now(),
            })
            .await;
        assert!(
            matches!(outcome, DeliveryOutcome::Delivered { status: 204, .. }),
            "{outcome:?}"
        );
    }
    let requests = receiver.requests("/ok");
    assert_eq!(requests.len(), one_of_each().len());
    for request in requests {
        let h = &request.headers;
        assert_eq!(h["content-type"], "application/json");
        assert!(h["user-agent"].starts_with("Crosswalk-Webhooks/"));
        verify(
            &secret,
            &h["webhook-id"],
            &h["webhook-timestamp"],
            &h["webhook-signature"],
            &request.body,
            unix_now(),
            DEFAULT_TOLERANCE,
        )
        .expect("the receiver verifies the signature");
        let event = Event::from_body(&request.body).unwrap();
        assert_eq!(
            event.message_id.to_string(),
            h["webhook-id"],
            "webhook-id is the messageId"
        );
    }
}

#[tokio::test]
async fn a_receiver_that_fails_then_recovers_gets_the_same_message_again() {
    let (receiver, port) = start_receiver().await;
    receiver.flaky_failures_left.store(2, Ordering::SeqCst);
    let deliverer = Deliverer::new(loopback_allowed()).unwrap();
    let mut sent = an_event();
    let url = format!("http://127.0.0.1:{port}/flaky");
    for _ in 0..2 {
        let failed = failure(send(&deliverer, &url, &sent).await);
        assert_eq!(
            (failed.kind, failed.retryable, failed.status),
            (FailureKind::Status, true, Some(502))
        );
        sent.timestamp += 1;
    }
    assert!(send(&deliverer, &url, &sent).await.is_delivered());
    let requests = receiver.requests("/flaky");
    assert_eq!(requests.len(), 3);
    // Same id and body on every attempt (receivers dedupe by it), a fresh timestamp each.
    assert!(
        requests
            .iter()
            .all(|r| r.headers["webhook-id"] == sent.message_id && r.body == sent.body.as_bytes())
    );
    let stamps: Vec<&str> = requests
        .iter()
        .map(|r| r.headers["webhook-timestamp"].as_str())
        .collect();
    assert_ne!(stamps[0], stamps[2]);
}

#[tokio::test]
async fn a_500_is_retryable_and_its_error_is_short() {
    let (_, port) = start_receiver().await;
    let deliverer = Deliverer::new(loopback_allowed()).unwrap();
    let sent = an_event();
    let failed = failure(
        send(
            &deliverer,
            &format!("http://127.0.0.1:{port}/fail?token=receiver-token"),
            &sent,
        )
        .await,
    );
    assert_eq!(failed.kind, FailureKind::Status);
    assert!(failed.retryable);
    assert_eq!(failed.status, Some(500));
    assert_eq!(
        failed.error, "HTTP 500 Internal Server Error",
        "the receiver's body is not copied"
    );
}

#[tokio::test]
async fn retry_after_and_gone_are_honoured() {
    let (_, port) = start_receiver().await;
    let deliverer = Deliverer::new(loopback_allowed()).unwrap();
    let sent = an_event();
    let busy = failure(send(&deliverer, &format!("http://127.0.0.1:{port}/busy"), &sent).await);
    assert_eq!(
        (busy.status, busy.retryable, busy.retry_after),
        (Some(503), true, Some(Duration::from_secs(120)))
    );
    let gone = failure(send(&deliverer, &format!("http://127.0.0.1:{port}/gone"), &sent).await);
    assert_eq!((gone.kind, gone.retryable), (FailureKind::Gone, false));
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let (receiver, port) = start_receiver().await;
    let deliverer = Deliverer::new(loopback_allowed()).unwrap();
    let failed = failure(
        send(
            &deliverer,
            &format!("http://127.0.0.1:{port}/redirect"),
            &an_event(),
        )
        .await,
    );
    assert_eq!(
        (failed.kind, failed.status),
        (FailureKind::Redirect, Some(302))
    );
    assert!(failed.error.contains("not followed"), "{}", failed.error);
    assert_eq!(receiver.requests("/redirect").len(), 1);
    assert!(
        receiver.requests("/ok").is_empty(),
        "the redirect was followed"
    );
}

#[tokio::test]
async fn a_slow_receiver_times_out() {
    let (_, port) = start_receiver().await;
    let config = DeliveryConfig {
        timeout: Duration::from_millis(300),
        ..loopback_allowed()
    };
    let deliverer = Deliverer::new(config).unwrap();
    let failed = failure(
        send(
            &deliverer,
            &format!("http://127.0.0.1:{port}/slow"),
            &an_event(),
        )
        .await,
    );
    assert_eq!(
        (failed.kind, failed.retryable),
        (FailureKind::Timeout, true)
    );
    assert_eq!(failed.error, "no answer within 300 ms");
    assert!(
        failed.elapsed < Duration::from_secs(2),
        "{:?}",
        failed.elapsed
    );
}

#[tokio::test]
async fn a_closed_port_is_a_retryable_connect_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let deliverer = Deliverer::new(loopback_allowed()).unwrap();
    let failed = failure(
        send(
            &deliverer,
            &format!("http://127.0.0.1:{port}/ok?token=receiver-token"),
            &an_event(),
        )
        .await,
    );
    assert_eq!(
        (failed.kind, failed.retryable),
        (FailureKind::Connect, true)
    );
    assert!(
        failed.error.starts_with("cannot connect"),
        "{}",
        failed.error
    );
    assert!(
        !failed.error.contains("receiver-token") && !failed.error.contains("127.0.0.1"),
        "{}",
        failed.error
    );
}

#[tokio::test]
async fn a_disallowed_target_is_refused_before_anything_is_sent() {
    let (receiver, port) = start_receiver().await;
    let deliverer = Deliverer::new(DeliveryConfig::default()).unwrap();
    let sent = an_event();
    // An address in the URL is checked before connecting.
    let literal = failure(send(&deliverer, &format!("http://127.0.0.1:{port}/ok"), &sent).await);
    assert_eq!(
        (literal.kind, literal.retryable),
        (FailureKind::Refused, false)
    );
    assert!(
        literal.error.contains("loopback") && literal.error.contains("--webhook-allow 127.0.0.0/8"),
        "{}",
        literal.error
    );
    // A name is checked on the addresses it resolves to, when connecting.
    let named = failure(send(&deliverer, &format!("http://localhost:{port}/ok"), &sent).await);
    assert_eq!(
        (named.kind, named.retryable),
        (FailureKind::Refused, false),
        "{}",
        named.error
    );
    assert!(
        named.error.contains("localhost") && named.error.contains("loopback"),
        "{}",
        named.error
    );
    for url in [
        "http://[::ffff:127.0.0.1]/ok",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
    ] {
        assert_eq!(
            failure(send(&deliverer, url, &sent).await).kind,
            FailureKind::Refused,
            "{url}"
        );
    }
    let invalid = failure(send(&deliverer, "https://user:pw@example.com/", &sent).await);
    assert_eq!(
        (invalid.kind, invalid.retryable),
        (FailureKind::InvalidRequest, false)
    );
    assert!(
        receiver.received.lock().unwrap().is_empty(),
        "something reached the receiver"
    );

    // Allowed explicitly, the same receiver is reached by name.
    let allowed = Deliverer::new(loopback_allowed()).unwrap();
    assert!(
        send(&allowed, &format!("http://localhost:{port}/ok"), &sent)
            .await
            .is_delivered()
    );
}

#[tokio::test]
async fn a_message_id_that_cannot_be_a_header_is_not_retried() {
    let (receiver, port) = start_receiver().await;
    let deliverer = Deliverer::new(loopback_allowed()).unwrap();
    let mut sent = an_event();
    sent.message_id = "line\nbreak".to_owned();
    let failed = failure(send(&deliverer, &format!("http://127.0.0.1:{port}/ok"), &sent).await);
    assert_eq!(
        (failed.kind, failed.retryable),
        (FailureKind::InvalidRequest, false)
    );
    assert!(receiver.received.lock().unwrap().is_empty());
}

#[tokio::test]
async fn no_error_text_holds_the_secret_or_the_signature() {
    let (_, port) = start_receiver().await;
    let deliverer = Deliverer::new(loopback_allowed()).unwrap();
    let sent = an_event();
    let whsec = sent.secret.to_whsec();
    let signature = sent
        .secret
        .sign(&sent.message_id, sent.timestamp, sent.body.as_bytes());
    for path in ["fail", "redirect", "gone", "busy"] {
        let failed = failure(
            send(
                &deliverer,
                &format!("http://127.0.0.1:{port}/{path}"),
                &sent,
            )
            .await,
        );
        let shown = format!("{failed:?}");
        assert!(
            !shown.contains(&whsec[6..]) && !shown.contains(&signature[3..]),
            "{shown}"
        );
    }
}

#[test]
fn a_timeout_out_of_range_is_refused() {
    for timeout in [Duration::ZERO, Duration::from_secs(601)] {
        let error = Deliverer::new(DeliveryConfig {
            timeout,
            ..DeliveryConfig::default()
        })
        .unwrap_err();
        assert!(error.to_string().contains("timeout"), "{error}");
    }
}

/// An HTTPS receiver on 127.0.0.1 whose certificate, for `localhost`, is signed by a
/// certificate authority made here; returns the receiver, its port and the authority.
async fn start_https_receiver() -> (Receiver, u16, rustls::pki_types::CertificateDer<'static>) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let tls = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![leaf.der().clone()], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));

    let receiver = Receiver::default();
    let router = app(receiver.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, router) = (acceptor.clone(), router.clone());
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper_util::service::TowerToHyperService::new(router);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (receiver, port, ca.der().clone())
}

#[tokio::test]
async fn https_checks_the_receivers_certificate() {
    let (receiver, port, authority) = start_https_receiver().await;
    let url = format!("https://localhost:{port}/ok");
    let sent = an_event();

    let trusting = Deliverer::new(DeliveryConfig {
        extra_roots: vec![authority],
        ..loopback_allowed()
    })
    .unwrap();
    let outcome = send(&trusting, &url, &sent).await;
    assert!(outcome.is_delivered(), "{outcome:?}");
    let request = receiver.requests("/ok").pop().unwrap();
    verify(
        &sent.secret,
        &request.headers["webhook-id"],
        &request.headers["webhook-timestamp"],
        &request.headers["webhook-signature"],
        &request.body,
        unix_now(),
        DEFAULT_TOLERANCE,
    )
    .unwrap();

    // Without the authority the certificate is unknown: no delivery, retryable.
    let system_roots_only = Deliverer::new(loopback_allowed()).unwrap();
    let failed = failure(send(&system_roots_only, &url, &sent).await);
    assert_eq!(
        (failed.kind, failed.retryable),
        (FailureKind::Connect, true)
    );
    assert!(
        failed.error.to_lowercase().contains("certificate"),
        "{}",
        failed.error
    );
    assert_eq!(receiver.requests("/ok").len(), 1);
}
