//! Sending one signed event to one target.
//!
//! [`Deliverer::deliver`] makes exactly one attempt: a POST of the stored body with the
//! Standard Webhooks headers, within a timeout (5 s by default, the time Atlassian's
//! platform gives its own webhook receivers), redirects never followed, and returns what
//! happened as a [`DeliveryOutcome`] for the worker to record and schedule from
//! ([`crate::retry`]). The client resolves host names through the [`TargetPolicy`] and
//! connects only to the addresses it allows; a URL whose host is an address is checked
//! before anything is sent. No proxy is used: a proxy would make the connection the
//! policy checks a connection to the proxy.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use rustls::pki_types::CertificateDer;

use crate::sign::{SignedHeaders, WebhookSecret, sign};
use crate::target::{TargetError, TargetPolicy, WebhookUrl};

/// The time a receiver has to answer, by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// How much of a response body is read (so the connection can be reused) before the rest
/// is dropped. Receivers are asked for a status, not a body.
const MAX_RESPONSE_DRAIN: usize = 64 * 1024;

/// The delivery client's settings.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// Per attempt, from connecting to the end of the response.
    pub timeout: Duration,
    pub policy: TargetPolicy,
    /// Certificate authorities trusted beyond the system's (a receiver behind a private
    /// CA; tests). DER.
    pub extra_roots: Vec<CertificateDer<'static>>,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            timeout: DEFAULT_TIMEOUT,
            policy: TargetPolicy::default(),
            extra_roots: Vec::new(),
        }
    }
}

/// The client could not be built (no usable certificate store, a bad extra root).
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot set up TLS for webhooks: {0}")]
    Tls(#[from] rustls::Error),
    #[error("cannot build the webhook client: {0}")]
    Client(#[from] reqwest::Error),
    #[error("the webhook timeout must be between 1 ms and 10 min, not {0:?}")]
    Timeout(Duration),
}

/// One attempt to deliver one event.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// The subscription's URL.
    pub url: &'a str,
    /// The event's `messageId`.
    pub message_id: &'a str,
    /// The event's body, exactly as stored in the outbox.
    pub body: &'a [u8],
    /// The subscription's secrets: the current one, then any being retired.
    pub secrets: &'a [&'a WebhookSecret],
    /// The attempt's time, Unix seconds (`webhook-timestamp`); the caller owns the clock.
    pub timestamp: i64,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The receiver answered 2xx.
    Delivered {
        status: u16,
        elapsed: Duration,
    },
    Failed(DeliveryFailure),
}

impl DeliveryOutcome {
    pub fn is_delivered(&self) -> bool {
        matches!(self, DeliveryOutcome::Delivered { .. })
    }
}

/// Why an attempt failed, and whether trying again may help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryFailure {
    pub kind: FailureKind,
    /// Whether the retry schedule should try again; `false` fails the delivery at once.
    pub retryable: bool,
    /// The receiver's status, when it answered.
    pub status: Option<u16>,
    /// The receiver's `Retry-After`, in seconds form, when it sent one.
    pub retry_after: Option<Duration>,
    /// A short text for the delivery's "last error": never the secret, the signature, or
    /// the URL (whose query may hold a receiver's token).
    pub error: String,
    pub elapsed: Duration,
}

/// The kinds of failure, for the worker and for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The receiver answered a status other than 2xx, 3xx and 410. Retryable.
    Status,
    /// The receiver answered a redirect, which is never followed. Retryable: the receiver
    /// may be fixed; otherwise point the subscription at the final URL.
    Redirect,
    /// 410 Gone: the receiver wants no more events. Not retryable; the worker may pause
    /// the subscription.
    Gone,
    /// No answer within the timeout. Retryable.
    Timeout,
    /// No connection (refused, reset, DNS failure, TLS failure). Retryable.
    Connect,
    /// The target policy refuses every address of the host. Not retryable: an admin must
    /// change the URL or allow the range (`--webhook-allow`), then redeliver.
    Refused,
    /// No request can be made of it: the stored URL is not a valid webhook URL, or the
    /// message id cannot be a header. Not retryable.
    InvalidRequest,
}

/// The webhook client. Cheap to clone; share one per process (it pools connections).
#[derive(Debug, Clone)]
pub struct Deliverer {
    client: reqwest::Client,
    policy: Arc<TargetPolicy>,
    timeout: Duration,
}

impl Deliverer {
    pub fn new(config: DeliveryConfig) -> Result<Deliverer, ClientError> {
        if config.timeout < Duration::from_millis(1) || config.timeout > Duration::from_secs(600) {
            return Err(ClientError::Timeout(config.timeout));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = if config.extra_roots.is_empty() {
            rustls_platform_verifier::Verifier::new(provider.clone())?
        } else {
            rustls_platform_verifier::Verifier::new_with_extra_roots(
                config.extra_roots,
                provider.clone(),
            )?
        };
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        let policy = Arc::new(config.policy);
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .retry(reqwest::retry::never())
            .no_proxy()
            .dns_resolver(CheckedResolver {
                policy: policy.clone(),
            })
            .connect_timeout(config.timeout)
            .timeout(config.timeout)
            .user_agent(concat!("Crosswalk-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Deliverer {
            client,
            policy,
            timeout: config.timeout,
        })
    }

    pub fn policy(&self) -> &TargetPolicy {
        &self.policy
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Makes one attempt. Never panics and never returns early without an outcome.
    pub async fn deliver(&self, attempt: Attempt<'_>) -> DeliveryOutcome {
        let started = Instant::now();
        let fail = |kind, retryable, error: String| {
            DeliveryOutcome::Failed(DeliveryFailure {
                kind,
                retryable,
                status: None,
                retry_after: None,
                error,
                elapsed: started.elapsed(),
            })
        };
        // A host written as an address is never resolved, so it is checked here; a host
        // name is checked by the resolver, on every connection.
        let url = match self.policy.check_url(attempt.url) {
            Ok(url) => url,
            Err(TargetError::Refused(why)) => {
                return fail(FailureKind::Refused, false, format!("refused: {why}"));
            }
            Err(error) => return fail(FailureKind::InvalidRequest, false, error.to_string()),
        };
        let headers = sign(
            attempt.secrets,
            attempt.message_id,
            attempt.timestamp,
            attempt.body,
        );
        let response = self.request(&url, &headers, attempt.body).send().await;
        let response = match response {
            Ok(response) => response,
            Err(error) => {
                let (kind, retryable, text) = classify_error(&error, self.timeout);
                return fail(kind, retryable, text);
            }
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|text| text.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        drain(response).await;
        let elapsed = started.elapsed();
        if status.is_success() {
            return DeliveryOutcome::Delivered {
                status: status.as_u16(),
                elapsed,
            };
        }
        let (kind, retryable, error) = if status.is_redirection() {
            (
                FailureKind::Redirect,
                true,
                format!(
                    "HTTP {status}: redirects are not followed; point the subscription at the final URL"
                ),
            )
        } else if status == reqwest::StatusCode::GONE {
            (
                FailureKind::Gone,
                false,
                format!("HTTP {status}: the receiver wants no more events"),
            )
        } else {
            (FailureKind::Status, true, format!("HTTP {status}"))
        };
        DeliveryOutcome::Failed(DeliveryFailure {
            kind,
            retryable,
            status: Some(status.as_u16()),
            retry_after,
            error,
            elapsed,
        })
    }

    fn request(
        &self,
        url: &WebhookUrl,
        headers: &SignedHeaders,
        body: &[u8],
    ) -> reqwest::RequestBuilder {
        let mut request = self
            .client
            .post(url.as_url().clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(body.to_vec());
        for (name, value) in headers.pairs() {
            request = request.header(name, value);
        }
        request
    }
}

/// Reads a little of the body so the connection can go back to the pool; errors do not
/// matter here (the status has been received).
async fn drain(mut response: reqwest::Response) {
    let mut read = 0;
    while read < MAX_RESPONSE_DRAIN {
        match response.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            _ => break,
        }
    }
}

/// Turns a client error into a kind and a short text, without the URL.
fn classify_error(error: &reqwest::Error, timeout: Duration) -> (FailureKind, bool, String) {
    if let Some(refusal) = find_source::<Refusal>(error) {
        return match &refusal.0 {
            TargetError::AllRefused { .. } | TargetError::Refused(_) => (
                FailureKind::Refused,
                false,
                format!("refused: {}", refusal.0),
            ),
            other => (FailureKind::Connect, true, other.to_string()),
        };
    }
    if error.is_builder() {
        return (
            FailureKind::InvalidRequest,
            false,
            "the request cannot be built: is the message id a UUID?".to_owned(),
        );
    }
    if error.is_timeout() {
        return (
            FailureKind::Timeout,
            true,
            format!("no answer within {}", seconds(timeout)),
        );
    }
    // The innermost cause says the most ("Connection refused (os error 111)", "invalid
    // peer certificate: UnknownIssuer"); reqwest's own text would name the URL.
    let mut cause: &dyn StdError = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let text = if error.source().is_some() {
        cause.to_string()
    } else {
        "the request could not be sent".to_owned()
    };
    let kind = if error.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    (FailureKind::Connect, true, format!("{kind}: {text}"))
}

fn seconds(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{} ms", duration.as_millis())
    }
}

fn find_source<'a, E: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(error) = current {
        if let Some(found) = error.downcast_ref::<E>() {
            return Some(found);
        }
        current = error.source();
    }
    None
}

/// The resolver's refusal, carried through the client's error chain.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Refusal(TargetError);

/// Resolves with the system resolver and keeps only the addresses the policy allows: the
/// connection is made to an address that was checked, whatever the name resolves to next.
struct CheckedResolver {
    policy: Arc<TargetPolicy>,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let allowed = policy.resolve(&host, 0).await.map_err(Refusal)?;
            // Port 0: the client puts the URL's port in.
            let addrs: Addrs = Box::new(allowed.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}
