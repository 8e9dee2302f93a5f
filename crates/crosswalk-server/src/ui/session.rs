//! Signing in to the web UI, and the guard in front of every `/ui/` route.
//!
//! A person signs in by posting a token (a scope token or the instance admin token) in a
//! form: it is checked like a bearer token and never appears in a URL. The server then keeps
//! a **session** in memory (a restart signs everyone out) and gives the browser only its
//! random id, in a cookie that is `HttpOnly`, `SameSite=Strict`, limited to `/ui` and, with
//! `crosswalk serve --secure-cookies` (behind TLS), `Secure`. The store keeps the SHA-256
//! of each id, never the id, and no log line carries either. A session sees exactly what its
//! token sees, and ends when the token is revoked, after [`IDLE`] without a request, after
//! [`LIFETIME`] in all, or on sign-out.
//!
//! Every POST to `/ui/` passes [`guard`] before its handler: its `Origin` (or, without one,
//! `Sec-Fetch-Site`) must be this server, and it must carry the session's CSRF token (the
//! form field `_csrf`, or an `X-CSRF-Token` header), compared in constant time. The sign-in
//! form, posted before there is a session, carries instead the random value of a short-lived
//! cookie set by the sign-in page (a double-submit token), so another site cannot sign a
//! browser in with a token of its own choosing either.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Form;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use crosswalk_store::scope::content_hash;
use maud::html;
use rand::RngCore;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::{Page, UiError, layout};
use crate::{Principal, ServerState, tokens};

/// A session ends after this long without a request...
pub const IDLE: Duration = Duration::from_secs(60 * 60);
/// ...and after this long in any case.
pub const LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);
/// The most sessions kept at once; past it the least recently used ends first.
const MAX_SESSIONS: usize = 10_000;
/// The largest form the guard reads (the UI's forms are a few fields).
const MAX_FORM_BYTES: usize = 64 * 1024;

const SESSION_COOKIE: &str = "crosswalk_session";
const SIGN_IN_COOKIE: &str = "crosswalk_sign_in";
pub(crate) const SIGN_IN_PATH: &str = "/ui/sign-in";

/// The Content-Security-Policy of every UI answer: this server's stylesheet and script only,
/// forms posting only here, never framed.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The web UI's sessions, in this process's memory.
#[derive(Debug)]
pub struct Sessions {
    /// Keyed by the SHA-256 (hex) of the session id.
    entries: Mutex<HashMap<String, Entry>>,
    secure_cookies: bool,
}

#[derive(Debug, Clone)]
struct Entry {
    /// The token's public id: the token is read again on every request, so revoking it
    /// ends the session.
    public_id: String,
    csrf: String,
    started: Instant,
    last_seen: Instant,
}

impl Entry {
    fn live(&self, now: Instant) -> bool {
        now.duration_since(self.last_seen) < IDLE && now.duration_since(self.started) < LIFETIME
    }
}

impl Sessions {
    /// `secure_cookies`: mark cookies `Secure` (the server is reached over TLS, e.g. behind a
    /// proxy); without it a browser would send them over plain HTTP too.
    pub fn new(secure_cookies: bool) -> Sessions {
        Sessions {
            entries: Mutex::new(HashMap::new()),
            secure_cookies,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock leaves a map that is still whole.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts a session for the token `public_id`; returns its id (for the cookie).
    fn start(&self, public_id: &str) -> String {
        let id = random_hex(32);
        let now = Instant::now();
        let mut entries = self.lock();
        entries.retain(|_, entry| entry.live(now));
        if entries.len() >= MAX_SESSIONS
            && let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, entry)| entry.last_seen)
                .map(|(key, _)| key.clone())
        {
            entries.remove(&oldest);
        }
        let entry = Entry {
            public_id: public_id.to_string(),
            csrf: random_hex(32),
            started: now,
            last_seen: now,
        };
        entries.insert(content_hash(id.as_bytes()), entry);
        id
    }

    /// The live session with this id, marked as just used.
    fn get(&self, id: &str) -> Option<Entry> {
        let now = Instant::now();
        let key = content_hash(id.as_bytes());
        let mut entries = self.lock();
        match entries.get_mut(&key) {
            Some(entry) if entry.live(now) => {
                entry.last_seen = now;
                Some(entry.clone())
            }
            Some(_) => {
                entries.remove(&key);
                None
            }
            None => None,
        }
    }

    fn end(&self, id: &str) {
        self.lock().remove(&content_hash(id.as_bytes()));
    }

    /// How many sessions are live (for tests and diagnostics).
    pub fn live(&self) -> usize {
        let now = Instant::now();
        self.lock().values().filter(|entry| entry.live(now)).count()
    }

    /// A `Set-Cookie` value with the attributes every UI cookie has.
    fn cookie(&self, name: &str, value: &str, path: &str, max_age: Option<u64>) -> String {
        let mut cookie = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict");
        if let Some(seconds) = max_age {
            cookie.push_str(&format!("; Max-Age={seconds}"));
        }
        if self.secure_cookies {
            cookie.push_str("; Secure");
        }
        cookie
    }
}

fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    // ThreadRng is a CSPRNG seeded from the operating system.
    rand::rng().fill_bytes(&mut buffer);
    buffer.iter().map(|b| format!("{b:02x}")).collect()
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A signed-in browser: the token it signed in with and its session's CSRF token.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub principal: Principal,
    /// Goes into every form that posts ([`layout::csrf_field`]).
    pub csrf: String,
}

impl SignedIn {
    /// The application layer's caller for this session: what its token may do, recorded as
    /// done through the UI.
    pub fn caller(&self) -> Result<crosswalk_app::Caller, UiError> {
        self.principal.caller_as("ui").map_err(UiError::from)
    }
}

impl FromRequestParts<ServerState> for SignedIn {
    type Rejection = UiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ServerState,
    ) -> Result<SignedIn, UiError> {
        // Where to come back to after signing in: the path and its filters, never a secret.
        let next = parts
            .uri
            .path_and_query()
            .map_or("/ui/", |p| p.as_str())
            .to_string();
        let sign_in = || UiError::SignIn { next: next.clone() };
        let Some(id) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(sign_in());
        };
        let Some(entry) = state.sessions.get(id) else {
            return Err(sign_in());
        };
        let record = match state.tokens.token(&entry.public_id).await {
            Ok(record) => record,
            Err(error) if error.kind() == crosswalk_store::scope::ErrorKind::NotFound => {
                state.sessions.end(id);
                return Err(sign_in());
            }
            Err(error) => return Err(crate::ApiError::from(error).into()),
        };
        if record.token.revoked_at.is_some() {
            state.sessions.end(id);
            return Err(sign_in());
        }
        tracing::Span::current().record("token", entry.public_id.as_str());
        Ok(SignedIn {
            principal: Principal {
                token: record.token,
            },
            csrf: entry.csrf,
        })
    }
}

/// The sign-in page's address, coming back to `next` after.
pub(crate) fn sign_in_location(next: &str) -> String {
    let next = safe_next(next);
    if next == "/ui/" {
        return SIGN_IN_PATH.to_string();
    }
    let encoded: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    format!("{SIGN_IN_PATH}?next={encoded}")
}

/// `next` if it is a page of this UI, else the UI's first page: a sign-in never sends the
/// browser to another site.
fn safe_next(next: &str) -> &str {
    let local = next.starts_with("/ui/")
        && !next.contains("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if local && !next.starts_with(SIGN_IN_PATH) {
        next
    } else {
        "/ui/"
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct SignInQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    signed_out: Option<String>,
}

/// The sign-in form, with a fresh double-submit token in a cookie and in the form.
pub(crate) async fn sign_in_page(
    State(state): State<ServerState>,
    axum::extract::Query(query): axum::extract::Query<SignInQuery>,
) -> Response {
    let notice = query.signed_out.is_some().then_some("You are signed out.");
    sign_in_form(&state, StatusCode::OK, safe_next(&query.next), notice, None)
}

fn sign_in_form(
    state: &ServerState,
    status: StatusCode,
    next: &str,
    notice: Option<&str>,
    problem: Option<&str>,
) -> Response {
    let value = random_hex(32);
    let cookie = state
        .sessions
        .cookie(SIGN_IN_COOKIE, &value, SIGN_IN_PATH, Some(3600));
    let body = html! {
        h1 { "Sign in" }
        @if let Some(notice) = notice { p.notice role="status" { (notice) } }
        @if let Some(problem) = problem { p.problem role="alert" id="sign-in-problem" { (problem) } }
        form.sign-in method="post" action=(SIGN_IN_PATH) {
            input type="hidden" name="_csrf" value=(value);
            input type="hidden" name="next" value=(next);
            label for="token" { "Token" }
            input #token type="password" name="token" required autocomplete="off" spellcheck="false" autofocus
                aria-describedby="token-help" aria-invalid=[problem.map(|_| "true")];
            p.help #token-help {
                "A scope token (" code { "crosswalk token create --scope S" } ") or the instance admin token. "
                "It is sent once, in this form, and never appears in an address; the server keeps a session instead."
            }
            button type="submit" { "Sign in" }
        }
    };
    let page = Page(layout::frame("Sign in", None, &[], body));
    (status, AppendHeaders([(header::SET_COOKIE, cookie)]), page).into_response()
}

#[derive(Debug, Deserialize)]
pub(crate) struct SignInForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    next: String,
}

/// Checks the posted token like a bearer token; on success starts a session (a new id, so
/// no id chosen before signing in survives it) and goes on to `next`.
pub(crate) async fn sign_in(
    State(state): State<ServerState>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let next = safe_next(&form.next).to_string();
    let token = form.token.trim();
    if token.is_empty() {
        return sign_in_form(
            &state,
            StatusCode::BAD_REQUEST,
            &next,
            None,
            Some("Enter a token to sign in."),
        );
    }
    let principal = match tokens::authenticate(&state.tokens, Some(&format!("Bearer {token}")))
        .await
    {
        Ok(principal) => principal,
        Err(error) if error.status == StatusCode::UNAUTHORIZED => {
            let problem = "That token is not valid: it may be mistyped, revoked, or from another server. Ask for a new one.";
            return sign_in_form(&state, StatusCode::UNAUTHORIZED, &next, None, Some(problem));
        }
        Err(error) => return UiError::from(error).into_response(),
    };
    if let Some(old) = cookie(&headers, SESSION_COOKIE) {
        state.sessions.end(old);
    }
    let id = state.sessions.start(principal.public_id());
    tracing::info!(token = principal.public_id(), "signed in to the web UI");
    let session = state.sessions.cookie(SESSION_COOKIE, &id, "/ui", None);
    let spent = state
        .sessions
        .cookie(SIGN_IN_COOKIE, "", SIGN_IN_PATH, Some(0));
    (
        AppendHeaders([(header::SET_COOKIE, session), (header::SET_COOKIE, spent)]),
        Redirect::to(&next),
    )
        .into_response()
}

/// Ends the session (the guard has checked the form's CSRF token).
pub(crate) async fn sign_out(State(state): State<ServerState>, headers: HeaderMap) -> Response {
    if let Some(id) = cookie(&headers, SESSION_COOKIE) {
        state.sessions.end(id);
    }
    let cleared = state.sessions.cookie(SESSION_COOKIE, "", "/ui", Some(0));
    (
        AppendHeaders([(header::SET_COOKIE, cleared)]),
        Redirect::to(&format!("{SIGN_IN_PATH}?signed_out=1")),
    )
        .into_response()
}

/// In front of every `/ui/` route: a POST (or any method but GET and HEAD) must come from
/// this server's own page and carry its CSRF token; every answer gets the UI's security
/// headers.
pub(crate) async fn guard(
    State(state): State<ServerState>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = if matches!(*request.method(), Method::GET | Method::HEAD) {
        next.run(request).await
    } else {
        match check_unsafe(&state, request).await {
            Ok(request) => next.run(request).await,
            Err(refusal) => refusal.into_response(),
        }
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    // Pages show personal data: not kept by the browser or anything between.
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

fn refused(message: &str) -> UiError {
    UiError::page(StatusCode::FORBIDDEN, message)
}

/// The Origin check and the CSRF token check; gives the request back with its body intact.
async fn check_unsafe(state: &ServerState, request: Request) -> Result<Request, UiError> {
    let (parts, body) = request.into_parts();
    if let Err(reason) = same_origin(&parts.headers) {
        tracing::warn!(
            path = parts.uri.path(),
            reason,
            "refused a form from another site"
        );
        return Err(refused(
            "This form was refused: it was sent from another site. Use the forms on this server's own pages.",
        ));
    }
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| {
            UiError::page(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("This form is larger than the limit of {MAX_FORM_BYTES} bytes."),
            )
        })?;
    let expected = if parts.uri.path() == SIGN_IN_PATH {
        cookie(&parts.headers, SIGN_IN_COOKIE)
            .filter(|value| !value.is_empty())
            .map(str::to_string)
    } else {
        cookie(&parts.headers, SESSION_COOKIE)
            .and_then(|id| state.sessions.get(id))
            .map(|entry| entry.csrf)
    };
    let Some(expected) = expected else {
        tracing::warn!(path = parts.uri.path(), "refused a form without a session");
        return Err(refused(
            "This form was refused: you are not signed in (or your session ended). Sign in, then try again.",
        ));
    };
    let presented = parts
        .headers
        .get("x-csrf-token")
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
        .or_else(|| {
            url::form_urlencoded::parse(&bytes)
                .find(|(key, _)| key == "_csrf")
                .map(|(_, value)| value.into_owned())
        });
    let matches = presented
        .is_some_and(|presented| bool::from(presented.as_bytes().ct_eq(expected.as_bytes())));
    if !matches {
        tracing::warn!(
            path = parts.uri.path(),
            "refused a form without its CSRF token"
        );
        return Err(refused(
            "This form was refused: its security token is missing or out of date (a form sent from another site, \
             or a page older than your session). Reload the page and try again.",
        ));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Whether a state-changing request comes from this server's own pages: its `Origin` names
/// this host; a browser that sends no `Origin` must say `Sec-Fetch-Site: same-origin` (or
/// none). A program that sends neither still needs the CSRF token.
fn same_origin(headers: &HeaderMap) -> Result<(), &'static str> {
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok());
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().map_err(|_| "an unreadable Origin")?;
        let authority = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"));
        return match (authority, host) {
            (Some(authority), Some(host)) if authority.eq_ignore_ascii_case(host) => Ok(()),
            _ => Err("the Origin is another site"),
        };
    }
    match headers.get("sec-fetch-site").map(|value| value.as_bytes()) {
        None | Some(b"same-origin") | Some(b"none") => Ok(()),
        Some(_) => Err("Sec-Fetch-Site says another site"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pages_of_the_ui_are_places_to_come_back_to() {
        assert_eq!(
            safe_next("/ui/scopes/acme/report?resolution=Email"),
            "/ui/scopes/acme/report?resolution=Email"
        );
        for bad in [
            "",
            "/",
            "//evil.example/ui/",
            "https://evil.example/ui/",
            "/ui//evil",
            "/ui/\\evil",
            "/ui/sign-in?next=/ui/",
            "/api/v1/scopes",
        ] {
            assert_eq!(safe_next(bad), "/ui/", "{bad}");
        }
    }

    #[test]
    fn origin_must_be_this_host() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, HeaderValue::from_static(value));
            }
            map
        };
        assert!(
            same_origin(&headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://127.0.0.1:8080")
            ]))
            .is_ok()
        );
        assert!(same_origin(&headers(&[("host", "127.0.0.1:8080")])).is_ok());
        assert!(
            same_origin(&headers(&[
                ("host", "127.0.0.1:8080"),
                ("sec-fetch-site", "same-origin")
            ]))
            .is_ok()
        );
        for refused in [
            headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://localhost:8080"),
            ]),
            headers(&[("host", "127.0.0.1:8080"), ("origin", "null")]),
            headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://127.0.0.1:8080.evil.example"),
            ]),
            headers(&[("origin", "http://127.0.0.1:8080")]),
            headers(&[("host", "127.0.0.1:8080"), ("sec-fetch-site", "cross-site")]),
        ] {
            assert!(same_origin(&refused).is_err(), "{refused:?}");
        }
    }

    #[test]
    fn sessions_end_and_keep_only_hashes() {
        let sessions = Sessions::new(false);
        let id = sessions.start("abcd");
        assert_eq!(
            sessions.get(&id).map(|e| e.public_id),
            Some("abcd".to_string())
        );
        assert!(
            !sessions.lock().contains_key(&id),
            "the id itself is not kept"
        );
        sessions.end(&id);
        assert!(sessions.get(&id).is_none());
        let cookie = Sessions::new(true).cookie(SESSION_COOKIE, "x", "/ui", None);
        assert_eq!(
            cookie,
            "crosswalk_session=x; Path=/ui; HttpOnly; SameSite=Strict; Secure"
        );
    }
}
