//! `/scim/v2`: the SCIM 2.0 service provider (RFC 7644), over the token's scope (issue 19).
//! The protocol is `crosswalk-scim`'s, the use cases `crosswalk_app::scim`'s; this module
//! only turns requests into calls and answers into responses: every body
//! `application/scim+json`, every refusal the SCIM error schema (`status` a string,
//! `scimType`), 401 without a valid token, 429 with `Retry-After` over the configured rate.
//!
//! Discovery (`/ServiceProviderConfig`, `/Schemas`, `/ResourceTypes`) is readable without a
//! token, as RFC 7644 §4 allows: it says what Crosswalk stores, nothing about a scope.
//! One handler dispatches every path, so `/Bulk` runs its operations through the same code
//! as single requests.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use crosswalk_app::{App, Caller, ScimPage, ScimResourceType};
use crosswalk_scim::discovery::{self, ServiceConfig};
use crosswalk_scim::message::{BULK_ID_PREFIX, BulkMethod, BulkOperationResult, resolve_bulk_ids};
use crosswalk_scim::{
    BulkRequest, BulkResponse, GROUP, Group, ListQuery, ListResponse, PatchRequest, Projection,
    ResourceType, ScimError, SearchRequest, USER, User, parse_strict,
};
use serde_json::Value;

use crate::ServerState;

/// The media type of every SCIM body (RFC 7644 §8.1).
pub const SCIM_JSON: &str = "application/scim+json";

/// The rate the SCIM routes answer before they say 429: requests per second, shared by
/// every caller of this process (a token bucket holding one second's worth).
#[derive(Debug)]
pub struct RateLimit {
    per_second: f64,
    bucket: Mutex<(f64, Instant)>,
}

impl RateLimit {
    pub fn new(per_second: u32) -> RateLimit {
        let per_second = f64::from(per_second.max(1));
        RateLimit {
            per_second,
            bucket: Mutex::new((per_second, Instant::now())),
        }
    }

    /// `None` to go ahead, or how long to wait.
    fn take(&self) -> Option<Duration> {
        let mut bucket = self
            .bucket
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        let (tokens, last) = *bucket;
        let tokens = (tokens + now.duration_since(last).as_secs_f64() * self.per_second)
            .min(self.per_second);
        if tokens >= 1.0 {
            *bucket = (tokens - 1.0, now);
            None
        } else {
            *bucket = (tokens, now);
            Some(Duration::from_secs_f64((1.0 - tokens) / self.per_second))
        }
    }
}

pub(crate) fn router() -> Router<ServerState> {
    Router::new()
        .route("/scim/v2", any(dispatch))
        .route("/scim/v2/", any(dispatch))
        .route("/scim/v2/{*rest}", any(dispatch))
}

/// What a SCIM request answers, before it becomes a response.
struct Answer {
    status: StatusCode,
    body: Option<Value>,
    etag: Option<String>,
    location: Option<String>,
}

impl Answer {
    fn json(status: StatusCode, body: Value) -> Answer {
        Answer {
            status,
            body: Some(body),
            etag: None,
            location: None,
        }
    }

    fn empty(status: StatusCode) -> Answer {
        Answer {
            status,
            body: None,
            etag: None,
            location: None,
        }
    }
}

fn scim_response(
    status: StatusCode,
    body: Option<&Value>,
    headers: &[(header::HeaderName, String)],
) -> Response {
    let mut response = match body {
        Some(body) => {
            let bytes = serde_json::to_vec(body).unwrap_or_default();
            let mut response = Response::new(Body::from(bytes));
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
            response
        }
        None => Response::new(Body::empty()),
    };
    *response.status_mut() = status;
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(value) {
            response.headers_mut().insert(name.clone(), value);
        }
    }
    response
}

fn error_response(error: &ScimError) -> Response {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_server_error() {
        tracing::error!(status = error.status, detail = %error.detail, "SCIM request failed");
    }
    let body = serde_json::to_value(error.body()).unwrap_or(Value::Null);
    let mut headers = Vec::new();
    if status == StatusCode::UNAUTHORIZED {
        headers.push((
            header::WWW_AUTHENTICATE,
            "Bearer realm=\"crosswalk\"".to_string(),
        ));
    }
    // Unavailable for now (the scope's view still being seeded, the store unreachable):
    // providers retry after Retry-After rather than giving up on the user.
    if status == StatusCode::SERVICE_UNAVAILABLE {
        headers.push((header::RETRY_AFTER, "30".to_string()));
    }
    scim_response(status, Some(&body), &headers)
}

/// Where clients reach the service, for `meta.location` and `Location`.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "https")
        .unwrap_or("http");
    format!("{scheme}://{host}/scim/v2")
}

fn params(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

fn param<'p>(params: &'p [(String, String)], name: &str) -> Option<&'p str> {
    params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

async fn dispatch(
    State(state): State<ServerState>,
    method: Method,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(limit) = &state.scim_rate
        && let Some(wait) = limit.take()
    {
        let mut response = error_response(&ScimError::new(
            429,
            None,
            format!(
                "more than {} requests a second; retry after the seconds in Retry-After",
                limit.per_second
            ),
        ));
        let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
        if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    let path = uri.path().strip_prefix("/scim/v2").unwrap_or("");
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let params = params(uri.query());
    let base = base_url(&headers);
    if let Some(answer) = discovery_answer(&method, &segments, &base) {
        return finish(answer);
    }
    let header = headers
        .get(header::AUTHORIZATION)
        .map(|value| value.to_str().unwrap_or(""));
    let caller = match crate::tokens::authenticate(&state.tokens, header)
        .await
        .and_then(|p| p.caller_as("scim"))
    {
        Ok(caller) => caller,
        Err(error) if error.status == StatusCode::UNAUTHORIZED => {
            return error_response(&ScimError::new(401, None, error.message));
        }
        Err(error) => {
            return error_response(&ScimError::new(error.status.as_u16(), None, error.message));
        }
    };
    if !body.is_empty()
        && let Some(kind) = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    {
        let kind = kind.split(';').next().unwrap_or("").trim();
        if !kind.eq_ignore_ascii_case(SCIM_JSON) && !kind.eq_ignore_ascii_case("application/json") {
            return error_response(&ScimError::new(
                415,
                None,
                format!("the body is {kind}; send application/scim+json (or application/json)"),
            ));
        }
    }
    let request = Request {
        app: &state.app,
        caller: &caller,
        base: &base,
        headers: &headers,
    };
    match request
        .handle(&method, &segments, &params, &body, true)
        .await
    {
        Ok(answer) => finish(answer),
        Err(error) => error_response(&error),
    }
}

fn finish(answer: Answer) -> Response {
    let mut headers = Vec::new();
    if let Some(etag) = answer.etag {
        headers.push((header::ETAG, etag));
    }
    if let Some(location) = answer.location {
        headers.push((header::LOCATION, location));
    }
    scim_response(answer.status, answer.body.as_ref(), &headers)
}

fn discovery_answer(method: &Method, segments: &[&str], base: &str) -> Option<Answer> {
    let first = segments.first()?;
    let is = |name: &str| first.eq_ignore_ascii_case(name);
    if !(is("ServiceProviderConfig") || is("Schemas") || is("ResourceTypes")) {
        return None;
    }
    if method != Method::GET {
        return Some(error_answer(ScimError::new(
            405,
            None,
            format!("{first} is read-only: use GET"),
        )));
    }
    let found = match (segments, is("ServiceProviderConfig")) {
        ([_], true) => Some(discovery::service_provider_config(
            &ServiceConfig::default(),
            base,
        )),
        ([_], false) if is("Schemas") => Some(discovery::schemas(base)),
        ([_], false) => Some(discovery::resource_types(base)),
        ([_, id], false) if is("Schemas") => discovery::schema(id, base),
        ([_, id], false) => discovery::resource_type(id, base),
        _ => None,
    };
    Some(match found {
        Some(document) => Answer::json(StatusCode::OK, document),
        None => error_answer(ScimError::not_found(format!(
            "no {first} {:?}",
            segments[1..].join("/")
        ))),
    })
}

/// The `$ref` of each member of a Group (the URI of the User or Group its `type` says it
/// is; a member of no known type has none) and of each group of a User: URIs of this
/// service, which only the request knows the base of.
fn add_references(value: &mut Value, rt: &'static ResourceType, base: &str) {
    let (list, fixed) = if std::ptr::eq(rt, &GROUP) {
        ("members", None)
    } else {
        ("groups", Some(&GROUP))
    };
    let Some(items) = value.get_mut(list).and_then(Value::as_array_mut) else {
        return;
    };
    for item in items {
        let Some(object) = item.as_object_mut() else {
            continue;
        };
        let target = fixed.or_else(|| {
            let kind = object.get("type").and_then(Value::as_str)?;
            [&USER, &GROUP].into_iter().find(|rt| rt.id == kind)
        });
        let (Some(target), Some(id)) = (target, object.get("value").and_then(Value::as_str)) else {
            continue;
        };
        let reference = format!("{base}/{}/{id}", target.endpoint.trim_start_matches('/'));
        object.insert("$ref".into(), Value::String(reference));
    }
}

fn error_answer(error: ScimError) -> Answer {
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    Answer::json(
        status,
        serde_json::to_value(error.body()).unwrap_or(Value::Null),
    )
}

fn resource_type(name: &str) -> Option<(ScimResourceType, &'static ResourceType)> {
    if name.eq_ignore_ascii_case("Users") {
        Some((ScimResourceType::User, &USER))
    } else if name.eq_ignore_ascii_case("Groups") {
        Some((ScimResourceType::Group, &GROUP))
    } else {
        None
    }
}

fn read_body(body: &[u8]) -> Result<Value, ScimError> {
    if body.is_empty() {
        return Err(ScimError::invalid_syntax(
            "the request has no body; send the resource as JSON",
        ));
    }
    Ok(parse_strict(body)?)
}

struct Request<'r> {
    app: &'r App,
    caller: &'r Caller,
    base: &'r str,
    headers: &'r HeaderMap,
}

impl Request<'_> {
    fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A single resource's answer: `meta.location`, the projection, `ETag` and `Location`.
    fn resource(
        &self,
        status: StatusCode,
        mut value: Value,
        rt: &'static ResourceType,
        projection: &Projection,
    ) -> Answer {
        let id = value
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let location = format!("{}/{}/{id}", self.base, rt.endpoint.trim_start_matches('/'));
        let etag = value
            .pointer("/meta/version")
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(meta) = value.get_mut("meta").and_then(Value::as_object_mut) {
            meta.insert("location".into(), Value::String(location.clone()));
        }
        add_references(&mut value, rt, self.base);
        projection.apply(&mut value, rt);
        Answer {
            status,
            body: Some(value),
            etag,
            location: (status == StatusCode::CREATED).then_some(location),
        }
    }

    fn list(&self, page: ScimPage, query: &ListQuery, rt: &'static ResourceType) -> Answer {
        let resources: Vec<Value> = page
            .resources
            .into_iter()
            .map(|mut value| {
                let id = value
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                if let Some(meta) = value.get_mut("meta").and_then(Value::as_object_mut) {
                    meta.insert(
                        "location".into(),
                        Value::String(format!(
                            "{}/{}/{id}",
                            self.base,
                            rt.endpoint.trim_start_matches('/')
                        )),
                    );
                }
                add_references(&mut value, rt, self.base);
                query.projection.apply(&mut value, rt);
                value
            })
            .collect();
        let response = match page.start_index {
            Some(start) => ListResponse::new(resources, page.total, start),
            None => ListResponse::with_cursors(resources, page.total, page.next_cursor, None),
        };
        Answer::json(
            StatusCode::OK,
            serde_json::to_value(response).unwrap_or(Value::Null),
        )
    }

    /// One request (or one bulk operation, `top` false: no nested Bulk).
    async fn handle(
        &self,
        method: &Method,
        segments: &[&str],
        params: &[(String, String)],
        body: &[u8],
        top: bool,
    ) -> Result<Answer, ScimError> {
        let limits = ServiceConfig::default();
        match segments {
            [me, ..] if me.eq_ignore_ascii_case("Me") => Err(ScimError::not_implemented(
                "/Me is not supported: a token stands for an identity provider, not a user",
            )),
            [bulk] if bulk.eq_ignore_ascii_case("Bulk") && top => {
                if method != Method::POST {
                    return Err(ScimError::new(405, None, "/Bulk takes POST"));
                }
                self.bulk(body, &limits).await
            }
            [search] if *search == ".search" => {
                if method != Method::POST {
                    return Err(ScimError::new(405, None, "/.search takes POST"));
                }
                self.root_search(body, &limits).await
            }
            [name, rest @ ..] => {
                let Some((kind, rt)) = resource_type(name) else {
                    return Err(ScimError::not_found(format!(
                        "no endpoint /{name}; this service has /Users, /Groups, /Bulk, /.search and discovery"
                    )));
                };
                self.resource_request(method, kind, rt, rest, params, body, &limits)
                    .await
            }
            [] => Err(ScimError::not_found(
                "this is the SCIM service root: see /ServiceProviderConfig, /Users and /Groups",
            )),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn resource_request(
        &self,
        method: &Method,
        kind: ScimResourceType,
        rt: &'static ResourceType,
        rest: &[&str],
        params: &[(String, String)],
        body: &[u8],
        limits: &ServiceConfig,
    ) -> Result<Answer, ScimError> {
        let projection = || {
            Projection::parse(
                param(params, "attributes"),
                param(params, "excludedAttributes"),
                rt,
            )
        };
        let if_match = self.header(header::IF_MATCH);
        match (rest, method.clone()) {
            ([], Method::GET) => {
                let query = ListQuery::from_params(
                    params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                    rt,
                    limits.query,
                )?;
                let page = self.app.scim_list(self.caller, kind, &query).await?;
                Ok(self.list(page, &query, rt))
            }
            ([search], Method::POST) if *search == ".search" => {
                let request = SearchRequest::parse(body)?;
                let query = ListQuery::from_search(&request, rt, limits.query)?;
                let page = self.app.scim_list(self.caller, kind, &query).await?;
                Ok(self.list(page, &query, rt))
            }
            ([], Method::POST) => {
                let projection = projection()?;
                let value = read_body(body)?;
                let created = match kind {
                    ScimResourceType::User => self
                        .app
                        .scim_create_user(self.caller, User::from_json(&value)?)
                        .await?
                        .to_json(),
                    ScimResourceType::Group => self
                        .app
                        .scim_create_group(self.caller, Group::from_json(&value)?)
                        .await?
                        .to_json(),
                };
                Ok(self.resource(StatusCode::CREATED, created, rt, &projection))
            }
            ([id], Method::GET) => {
                let projection = projection()?;
                let value = match kind {
                    ScimResourceType::User => self.app.scim_user(self.caller, id).await?.to_json(),
                    ScimResourceType::Group => {
                        self.app.scim_group(self.caller, id).await?.to_json()
                    }
                };
                let answer = self.resource(StatusCode::OK, value, rt, &projection);
                if let (Some(header), Some(etag)) =
                    (self.header(header::IF_NONE_MATCH), answer.etag.as_deref())
                    && crosswalk_scim::etag::if_none_match(header, etag)
                {
                    return Ok(Answer {
                        etag: answer.etag,
                        ..Answer::empty(StatusCode::NOT_MODIFIED)
                    });
                }
                Ok(answer)
            }
            ([id], Method::PUT) => {
                let projection = projection()?;
                let value = read_body(body)?;
                let replaced = match kind {
                    ScimResourceType::User => self
                        .app
                        .scim_replace_user(self.caller, id, User::from_json(&value)?, if_match)
                        .await?
                        .to_json(),
                    ScimResourceType::Group => self
                        .app
                        .scim_replace_group(self.caller, id, Group::from_json(&value)?, if_match)
                        .await?
                        .to_json(),
                };
                Ok(self.resource(StatusCode::OK, replaced, rt, &projection))
            }
            ([id], Method::PATCH) => {
                let projection = projection()?;
                let patch = PatchRequest::parse(body)?;
                let patched = match kind {
                    ScimResourceType::User => self
                        .app
                        .scim_patch_user(self.caller, id, &patch, if_match)
                        .await?
                        .to_json(),
                    ScimResourceType::Group => self
                        .app
                        .scim_patch_group(self.caller, id, &patch, if_match)
                        .await?
                        .to_json(),
                };
                Ok(self.resource(StatusCode::OK, patched, rt, &projection))
            }
            ([id], Method::DELETE) => {
                match kind {
                    ScimResourceType::User => {
                        self.app.scim_delete_user(self.caller, id, if_match).await?
                    }
                    ScimResourceType::Group => {
                        self.app
                            .scim_delete_group(self.caller, id, if_match)
                            .await?
                    }
                }
                Ok(Answer::empty(StatusCode::NO_CONTENT))
            }
            ([], _) | ([_], _) => Err(ScimError::new(
                405,
                None,
                format!("{method} is not allowed here"),
            )),
            _ => Err(ScimError::not_found(
                "no such path: use /Users/{id} or /Groups/{id}",
            )),
        }
    }

    /// `POST /.search` at the root: Users and Groups both, Users first.
    async fn root_search(&self, body: &[u8], limits: &ServiceConfig) -> Result<Answer, ScimError> {
        let request = SearchRequest::parse(body)?;
        let mut all = Vec::new();
        let mut total = 0;
        let mut first_error = None;
        let mut start = 1;
        let mut count = limits.query.default_page_size;
        for (kind, rt) in [
            (ScimResourceType::User, &USER),
            (ScimResourceType::Group, &GROUP),
        ] {
            let query = match ListQuery::from_search(&request, rt, limits.query) {
                Ok(query) => query,
                Err(error) => {
                    first_error.get_or_insert(error);
                    continue;
                }
            };
            if let crosswalk_scim::Page::Index {
                start_index,
                count: c,
            } = query.page
            {
                start = start_index;
                count = c;
            }
            let mut everything = query.clone();
            everything.page = crosswalk_scim::Page::Index {
                start_index: 1,
                count: u64::MAX,
            };
            let page = self.app.scim_list(self.caller, kind, &everything).await?;
            total += page.total;
            let answer = self.list(page, &query, rt);
            if let Some(resources) = answer
                .body
                .and_then(|mut b| b.get_mut("Resources").map(Value::take))
                .and_then(|r| r.as_array().cloned())
            {
                all.extend(resources);
            }
        }
        if all.is_empty()
            && total == 0
            && let Some(error) = first_error
        {
            return Err(error);
        }
        let resources: Vec<Value> = all
            .into_iter()
            .skip((start - 1) as usize)
            .take(count as usize)
            .collect();
        Ok(Answer::json(
            StatusCode::OK,
            serde_json::to_value(ListResponse::new(resources, total, start)).unwrap_or(Value::Null),
        ))
    }

    async fn bulk(&self, body: &[u8], limits: &ServiceConfig) -> Result<Answer, ScimError> {
        let request = BulkRequest::parse(body, limits.bulk)?;
        let order = request.order()?;
        let mut created: HashMap<String, String> = HashMap::new();
        let mut results = Vec::with_capacity(order.len());
        let mut errors = 0u32;
        for index in order {
            if request.should_stop(errors) {
                break;
            }
            let operation = &request.operations[index];
            let outcome = async {
                let mut data = operation.data.clone().unwrap_or(Value::Null);
                resolve_bulk_ids(&mut data, &created).map_err(|reference| ScimError::new(409, None, format!("/Operations/{index}: {reference}")))?;
                let id = match operation.id.as_deref() {
                    Some(id) => match id.strip_prefix(BULK_ID_PREFIX) {
                        Some(reference) => Some(created.get(reference).cloned().ok_or_else(|| {
                            ScimError::new(409, None, format!("/Operations/{index}: bulkId {reference:?} names no resource created"))
                        })?),
                        None => Some(id.to_string()),
                    },
                    None => None,
                };
                let endpoint = operation.resource_type.endpoint.trim_start_matches('/').to_string();
                let mut segments = vec![endpoint];
                segments.extend(id);
                let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
                let method = match operation.method {
                    BulkMethod::Post => Method::POST,
                    BulkMethod::Put => Method::PUT,
                    BulkMethod::Patch => Method::PATCH,
                    BulkMethod::Delete => Method::DELETE,
                };
                let bytes = if data.is_null() { Vec::new() } else { serde_json::to_vec(&data).unwrap_or_default() };
                if let Some(version) = &operation.version {
                    let (kind, _) = resource_type(segments[0]).ok_or_else(|| ScimError::not_found("no such resource type"))?;
                    if let Some(id) = segments.get(1) {
                        let current = match kind {
                            ScimResourceType::User => self.app.scim_user(self.caller, id).await?.to_json(),
                            ScimResourceType::Group => self.app.scim_group(self.caller, id).await?.to_json(),
                        };
                        let now = current.pointer("/meta/version").and_then(Value::as_str).unwrap_or("");
                        if !crosswalk_scim::etag::if_match(version, now) {
                            return Err(ScimError::precondition_failed(format!("/Operations/{index}: the resource is at version {now}")));
                        }
                    }
                }
                Box::pin(self.handle(&method, &segments, &[], &bytes, false)).await
            }
            .await;
            match outcome {
                Ok(answer) => {
                    if let (BulkMethod::Post, Some(bulk_id), Some(id)) = (
                        operation.method,
                        &operation.bulk_id,
                        answer
                            .body
                            .as_ref()
                            .and_then(|b| b.get("id"))
                            .and_then(Value::as_str),
                    ) {
                        created.insert(bulk_id.clone(), id.to_string());
                    }
                    let location = answer.location.clone().or_else(|| {
                        answer
                            .body
                            .as_ref()
                            .and_then(|b| b.pointer("/meta/location"))
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    });
                    results.push(BulkOperationResult {
                        method: operation.method,
                        bulk_id: operation.bulk_id.clone(),
                        version: answer.etag.clone(),
                        location,
                        status: answer.status.as_u16().to_string(),
                        response: None,
                    });
                }
                Err(error) => {
                    errors += 1;
                    results.push(BulkOperationResult::failed(operation, &error));
                }
            }
        }
        Ok(Answer::json(
            StatusCode::OK,
            serde_json::to_value(BulkResponse::new(results)).unwrap_or(Value::Null),
        ))
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        finish(self)
    }
}
