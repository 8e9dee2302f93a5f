//! SCIM messages other than resources (RFC 7644 §3.4.2, §3.4.3, §3.7): the `ListResponse`
//! a query answers with, the `SearchRequest` body of `POST /.search`, and Bulk requests
//! and responses with their `bulkId` references. (`PatchOp` is in [`crate::patch`].)

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::json::{describe, find, parse_strict, quoted};
use crate::schema::{RESOURCE_TYPES, ResourceType};

pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const SEARCH_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const BULK_REQUEST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub const BULK_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

/// A page of query results (RFC 7644 §3.4.2, and RFC 9865's cursors). Counts are integers,
/// as Okta requires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListResponse<T> {
    pub schemas: Vec<String>,
    #[serde(rename = "totalResults")]
    pub total_results: u64,
    #[serde(rename = "itemsPerPage")]
    pub items_per_page: u64,
    /// 1-based index of the first result, for index pagination.
    #[serde(
        rename = "startIndex",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub start_index: Option<u64>,
    /// RFC 9865: present on every page but the last of a cursor-paged query.
    #[serde(
        rename = "nextCursor",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub next_cursor: Option<String>,
    #[serde(
        rename = "previousCursor",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub previous_cursor: Option<String>,
    #[serde(rename = "Resources")]
    pub resources: Vec<T>,
}

impl<T> ListResponse<T> {
    /// A page of `resources` out of `total_results`, starting at `start_index` (index
    /// pagination; use [`ListResponse::with_cursors`] for cursor pages).
    pub fn new(resources: Vec<T>, total_results: u64, start_index: u64) -> ListResponse<T> {
        ListResponse {
            schemas: vec![LIST_RESPONSE_SCHEMA.to_string()],
            total_results,
            items_per_page: resources.len() as u64,
            start_index: Some(start_index),
            next_cursor: None,
            previous_cursor: None,
            resources,
        }
    }

    /// A cursor-paged page (RFC 9865): `next_cursor` is `None` on the last page.
    pub fn with_cursors(
        resources: Vec<T>,
        total_results: u64,
        next_cursor: Option<String>,
        previous_cursor: Option<String>,
    ) -> ListResponse<T> {
        ListResponse {
            start_index: None,
            next_cursor,
            previous_cursor,
            ..ListResponse::new(resources, total_results, 1)
        }
    }
}

/// The body of `POST /.search` (RFC 7644 §3.4.3), as query parameters: names and values
/// as they would appear in the URL, so that one parser ([`crate::query::ListQuery`])
/// checks both forms alike.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchRequest {
    pub params: Vec<(String, String)>,
}

impl SearchRequest {
    /// Reads the body: `filter`, `sortBy`, `sortOrder`, `cursor` as strings; `startIndex`
    /// and `count` as integers (or strings of digits); `attributes` and
    /// `excludedAttributes` as arrays of strings (or comma-separated strings).
    pub fn from_json(value: &Value) -> Result<SearchRequest, ScimError> {
        let Value::Object(object) = value else {
            return Err(ScimError::invalid_syntax(format!(
                "a SearchRequest is a JSON object, found {}",
                describe(value)
            )));
        };
        let mut params = Vec::new();
        for name in ["filter", "sortBy", "sortOrder", "cursor"] {
            match find(object, name, "").map_err(ScimError::from)? {
                None | Some((_, Value::Null)) => {}
                Some((_, Value::String(s))) => params.push((name.to_string(), s.clone())),
                Some((key, other)) => {
                    return Err(ScimError::invalid_value(format!(
                        "/{key}: expected a string, found {}",
                        describe(other)
                    )));
                }
            }
        }
        for name in ["startIndex", "count"] {
            match find(object, name, "").map_err(ScimError::from)? {
                None | Some((_, Value::Null)) => {}
                Some((_, Value::Number(n))) => params.push((name.to_string(), n.to_string())),
                Some((_, Value::String(s))) => params.push((name.to_string(), s.clone())),
                Some((key, other)) => {
                    return Err(ScimError::invalid_value(format!(
                        "/{key}: expected an integer, found {}",
                        describe(other)
                    )));
                }
            }
        }
        for name in ["attributes", "excludedAttributes"] {
            match find(object, name, "").map_err(ScimError::from)? {
                None | Some((_, Value::Null)) => {}
                Some((_, Value::String(s))) => params.push((name.to_string(), s.clone())),
                Some((key, Value::Array(items))) => {
                    let mut names = Vec::with_capacity(items.len());
                    for (i, item) in items.iter().enumerate() {
                        match item {
                            Value::String(s) => names.push(s.as_str()),
                            other => {
                                return Err(ScimError::invalid_value(format!(
                                    "/{key}/{i}: expected an attribute name, found {}",
                                    describe(other)
                                )));
                            }
                        }
                    }
                    params.push((name.to_string(), names.join(",")));
                }
                Some((key, other)) => {
                    return Err(ScimError::invalid_value(format!(
                        "/{key}: expected an array of attribute names, found {}",
                        describe(other)
                    )));
                }
            }
        }
        Ok(SearchRequest { params })
    }

    /// Parses a request body (duplicate names refused).
    pub fn parse(body: &[u8]) -> Result<SearchRequest, ScimError> {
        SearchRequest::from_json(&parse_strict(body)?)
    }
}

// ---------------------------------------------------------------------------------------
// Bulk
// ---------------------------------------------------------------------------------------

/// What a bulk request may hold (advertised in `ServiceProviderConfig.bulk`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkLimits {
    pub max_operations: usize,
    pub max_payload_size: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BulkMethod {
    Post,
    Put,
    Patch,
    Delete,
}

impl BulkMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            BulkMethod::Post => "POST",
            BulkMethod::Put => "PUT",
            BulkMethod::Patch => "PATCH",
            BulkMethod::Delete => "DELETE",
        }
    }

    fn parse(text: &str) -> Option<BulkMethod> {
        [
            BulkMethod::Post,
            BulkMethod::Put,
            BulkMethod::Patch,
            BulkMethod::Delete,
        ]
        .into_iter()
        .find(|m| m.as_str().eq_ignore_ascii_case(text))
    }
}

impl Serialize for BulkMethod {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The prefix of a reference to a resource created earlier in the same bulk request.
pub const BULK_ID_PREFIX: &str = "bulkId:";

/// One operation of a bulk request.
#[derive(Debug, Clone)]
pub struct BulkOperation {
    pub method: BulkMethod,
    /// Required for POST: names the resource it creates for later operations.
    pub bulk_id: Option<String>,
    /// An ETag to check, as `If-Match` would.
    pub version: Option<String>,
    /// The path as given (`/Users`, `/Groups/abc`, `/Groups/bulkId:qwerty`).
    pub path: String,
    pub resource_type: &'static ResourceType,
    /// The id in the path (absent for POST); may be a `bulkId:` reference.
    pub id: Option<String>,
    pub data: Option<Value>,
}

/// A bulk request (RFC 7644 §3.7).
#[derive(Debug, Clone)]
pub struct BulkRequest {
    /// Stop after this many errors; `None`: go through every operation.
    pub fail_on_errors: Option<u32>,
    pub operations: Vec<BulkOperation>,
}

impl BulkRequest {
    /// Parses a request body, refusing one over the limits with a 413 (before parsing, for
    /// the size), and malformed operations with a 400 naming the operation.
    pub fn parse(body: &[u8], limits: BulkLimits) -> Result<BulkRequest, ScimError> {
        if body.len() > limits.max_payload_size {
            return Err(ScimError::payload_too_large(format!(
                "the bulk request is {} bytes, more than maxPayloadSize ({} bytes); split it into several requests",
                body.len(),
                limits.max_payload_size
            )));
        }
        let value = parse_strict(body)?;
        let request = BulkRequest::from_json(&value)?;
        if request.operations.len() > limits.max_operations {
            return Err(ScimError::payload_too_large(format!(
                "the bulk request has {} operations, more than maxOperations ({}); split it into several requests",
                request.operations.len(),
                limits.max_operations
            )));
        }
        Ok(request)
    }

    pub fn from_json(value: &Value) -> Result<BulkRequest, ScimError> {
        let Value::Object(object) = value else {
            return Err(ScimError::invalid_syntax(format!(
                "a BulkRequest is a JSON object, found {}",
                describe(value)
            )));
        };
        let fail_on_errors = match find(object, "failOnErrors", "").map_err(ScimError::from)? {
            None | Some((_, Value::Null)) => None,
            Some((_, Value::Number(n))) if n.as_u64().is_some_and(|n| n >= 1) => {
                Some(u32::try_from(n.as_u64().unwrap_or(1)).unwrap_or(u32::MAX))
            }
            Some((key, other)) => {
                return Err(ScimError::invalid_value(format!(
                    "/{key}: expected a positive integer, found {}",
                    describe(other)
                )));
            }
        };
        let operations = match find(object, "Operations", "").map_err(ScimError::from)? {
            Some((_, Value::Array(items))) => items,
            Some((key, other)) => {
                return Err(ScimError::invalid_syntax(format!(
                    "/{key}: expected an array of operations, found {}",
                    describe(other)
                )));
            }
            None => {
                return Err(ScimError::invalid_syntax(
                    "a BulkRequest needs \"Operations\"",
                ));
            }
        };
        let mut parsed = Vec::with_capacity(operations.len());
        let mut bulk_ids = HashSet::new();
        for (i, operation) in operations.iter().enumerate() {
            let operation = BulkOperation::from_json(operation).map_err(|e| ScimError {
                detail: format!("/Operations/{i}: {}", e.detail),
                ..e
            })?;
            if let Some(bulk_id) = &operation.bulk_id
                && !bulk_ids.insert(bulk_id.clone())
            {
                return Err(ScimError::invalid_value(format!(
                    "/Operations/{i}/bulkId: {} is used twice",
                    quoted(bulk_id)
                )));
            }
            parsed.push(operation);
        }
        Ok(BulkRequest {
            fail_on_errors,
            operations: parsed,
        })
    }

    /// Whether to stop after `errors` failed operations.
    pub fn should_stop(&self, errors: u32) -> bool {
        self.fail_on_errors.is_some_and(|limit| errors >= limit)
    }

    /// The order to run the operations in: as given, except that an operation naming
    /// `bulkId:x` (in its path or data) waits for the POST that declares `x`. A reference
    /// to no POST of the request, or a cycle, is a 409 naming the operation, as RFC 7644
    /// §3.7.1 allows.
    pub fn order(&self) -> Result<Vec<usize>, ScimError> {
        let declared: HashMap<&str, usize> = self
            .operations
            .iter()
            .enumerate()
            .filter_map(|(i, op)| {
                op.bulk_id
                    .as_deref()
                    .filter(|_| op.method == BulkMethod::Post)
                    .map(|id| (id, i))
            })
            .collect();
        let mut needs: Vec<Vec<usize>> = Vec::with_capacity(self.operations.len());
        for (i, op) in self.operations.iter().enumerate() {
            let mut references = Vec::new();
            if let Some(id) = op
                .id
                .as_deref()
                .and_then(|id| id.strip_prefix(BULK_ID_PREFIX))
            {
                references.push(id.to_string());
            }
            if let Some(data) = &op.data {
                bulk_references(data, &mut references);
            }
            let mut before = Vec::new();
            for reference in references {
                match declared.get(reference.as_str()) {
                    Some(&j) if j != i => before.push(j),
                    Some(_) => {
                        return Err(ScimError::new(
                            409,
                            None,
                            format!(
                                "/Operations/{i}: refers to its own bulkId {}",
                                quoted(&reference)
                            ),
                        ));
                    }
                    None => {
                        return Err(ScimError::new(
                            409,
                            None,
                            format!(
                                "/Operations/{i}: bulkId {} is not declared by a POST in this request",
                                quoted(&reference)
                            ),
                        ));
                    }
                }
            }
            needs.push(before);
        }
        // Depth-first, in request order: each operation after what it needs.
        let mut order = Vec::with_capacity(needs.len());
        let mut state = vec![0u8; needs.len()]; // 0 new, 1 in progress, 2 done
        for start in 0..needs.len() {
            let mut stack = vec![(start, 0usize)];
            while let Some((node, next)) = stack.pop() {
                if next == 0 {
                    if state[node] == 2 {
                        continue;
                    }
                    state[node] = 1;
                }
                if let Some(&dependency) = needs[node].get(next) {
                    stack.push((node, next + 1));
                    match state[dependency] {
                        0 => stack.push((dependency, 0)),
                        1 => {
                            return Err(ScimError::new(
                                409,
                                None,
                                format!(
                                    "/Operations/{node}: its bulkId references form a cycle; split the request"
                                ),
                            ));
                        }
                        _ => {}
                    }
                } else {
                    state[node] = 2;
                    order.push(node);
                }
            }
        }
        Ok(order)
    }
}

impl BulkOperation {
    fn from_json(value: &Value) -> Result<BulkOperation, ScimError> {
        let Value::Object(object) = value else {
            return Err(ScimError::invalid_syntax(format!(
                "expected an operation (a JSON object), found {}",
                describe(value)
            )));
        };
        let string =
            |object: &Map<String, Value>, name: &str| -> Result<Option<String>, ScimError> {
                match find(object, name, "").map_err(ScimError::from)? {
                    None | Some((_, Value::Null)) => Ok(None),
                    Some((_, Value::String(s))) => Ok(Some(s.clone())),
                    Some((key, other)) => Err(ScimError::invalid_syntax(format!(
                        "/{key}: expected a string, found {}",
                        describe(other)
                    ))),
                }
            };
        let method_text = string(object, "method")?
            .ok_or_else(|| ScimError::invalid_syntax("\"method\" is required"))?;
        let method = BulkMethod::parse(&method_text).ok_or_else(|| {
            ScimError::invalid_syntax(format!(
                "/method: {} is not POST, PUT, PATCH or DELETE",
                quoted(&method_text)
            ))
        })?;
        let bulk_id = string(object, "bulkId")?;
        let version = string(object, "version")?;
        let path = string(object, "path")?
            .ok_or_else(|| ScimError::invalid_syntax("\"path\" is required"))?;
        let data = find(object, "data", "")
            .map_err(ScimError::from)?
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_null());
        let trimmed = path.trim_start_matches('/');
        let (endpoint, id) = match trimmed.split_once('/') {
            Some((endpoint, id)) => (endpoint, Some(id.to_string())),
            None => (trimmed, None),
        };
        let resource_type = RESOURCE_TYPES
            .iter()
            .copied()
            .find(|rt| rt.endpoint[1..].eq_ignore_ascii_case(endpoint))
            .ok_or_else(|| {
                ScimError::invalid_value(format!(
                    "/path: {} is not /Users or /Groups",
                    quoted(&path)
                ))
            })?;
        match method {
            BulkMethod::Post if bulk_id.is_none() => {
                return Err(ScimError::invalid_syntax("a POST needs a \"bulkId\""));
            }
            BulkMethod::Post if id.is_some() => {
                return Err(ScimError::invalid_value(format!(
                    "/path: a POST goes to {}, not {}",
                    resource_type.endpoint,
                    quoted(&path)
                )));
            }
            BulkMethod::Put | BulkMethod::Patch | BulkMethod::Delete
                if id.as_deref().is_none_or(str::is_empty) =>
            {
                return Err(ScimError::invalid_value(format!(
                    "/path: a {} names a resource: {}/{{id}}",
                    method.as_str(),
                    resource_type.endpoint
                )));
            }
            BulkMethod::Post | BulkMethod::Put | BulkMethod::Patch if data.is_none() => {
                return Err(ScimError::invalid_syntax(format!(
                    "a {} needs \"data\"",
                    method.as_str()
                )));
            }
            _ => {}
        }
        Ok(BulkOperation {
            method,
            bulk_id,
            version,
            path,
            resource_type,
            id,
            data,
        })
    }
}

/// Collects the `bulkId:` references in a value (every string that is one).
pub fn bulk_references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix(BULK_ID_PREFIX) {
                out.push(id.to_string());
            }
        }
        Value::Array(items) => items.iter().for_each(|v| bulk_references(v, out)),
        Value::Object(members) => members.values().for_each(|v| bulk_references(v, out)),
        _ => {}
    }
}

/// Replaces every `bulkId:x` string in a value by the id the POST declaring `x` created.
/// Returns the first reference it could not resolve.
pub fn resolve_bulk_ids(
    value: &mut Value,
    created: &HashMap<String, String>,
) -> Result<(), String> {
    match value {
        Value::String(s) => {
            if let Some(reference) = s.strip_prefix(BULK_ID_PREFIX) {
                let id = created
                    .get(reference)
                    .ok_or_else(|| reference.to_string())?;
                *s = id.clone();
            }
            Ok(())
        }
        Value::Array(items) => items
            .iter_mut()
            .try_for_each(|v| resolve_bulk_ids(v, created)),
        Value::Object(members) => members
            .values_mut()
            .try_for_each(|v| resolve_bulk_ids(v, created)),
        _ => Ok(()),
    }
}

/// The outcome of one bulk operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BulkOperationResult {
    pub method: BulkMethod,
    #[serde(rename = "bulkId", skip_serializing_if = "Option::is_none")]
    pub bulk_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The HTTP status, as a string (`"201"`).
    pub status: String,
    /// An error body, for a failed operation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<Value>,
}

impl BulkOperationResult {
    /// A failed operation: its status and the error body.
    pub fn failed(operation: &BulkOperation, error: &ScimError) -> BulkOperationResult {
        BulkOperationResult {
            method: operation.method,
            bulk_id: operation.bulk_id.clone(),
            version: None,
            location: None,
            status: error.status.to_string(),
            response: serde_json::to_value(error.body()).ok(),
        }
    }
}

/// A bulk response (RFC 7644 §3.7).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BulkResponse {
    pub schemas: Vec<String>,
    #[serde(rename = "Operations")]
    pub operations: Vec<BulkOperationResult>,
}

impl BulkResponse {
    pub fn new(operations: Vec<BulkOperationResult>) -> BulkResponse {
        BulkResponse {
            schemas: vec![BULK_RESPONSE_SCHEMA.to_string()],
            operations,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const LIMITS: BulkLimits = BulkLimits {
        max_operations: 10,
        max_payload_size: 10_000,
    };

    fn rfc_example() -> Value {
        // RFC 7644 §3.7.2's example, shortened: a group created with a member made earlier
        // in the request, listed after it.
        json!({
            "schemas": [BULK_REQUEST_SCHEMA],
            "Operations": [
                {"method": "POST", "path": "/Groups", "bulkId": "ytrewq",
                 "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Tour Guides",
                          "members": [{"type": "User", "value": "bulkId:qwerty"}]}},
                {"method": "post", "path": "/Users", "bulkId": "qwerty",
                 "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "Alice"}},
                {"method": "DELETE", "path": "/Users/b7c14771-226c-4d05-8860-134711653041", "version": "W/\"0ee8add0a938e1a\""}
            ]
        })
    }

    #[test]
    fn references_order_the_operations_and_resolve() {
        let request = BulkRequest::from_json(&rfc_example()).unwrap();
        assert_eq!(request.operations[1].method, BulkMethod::Post);
        assert_eq!(request.order().unwrap(), vec![1, 0, 2]);
        let mut data = request.operations[0].data.clone().unwrap();
        let created = HashMap::from([("qwerty".to_string(), "u-92b7".to_string())]);
        resolve_bulk_ids(&mut data, &created).unwrap();
        assert_eq!(data["members"][0]["value"], "u-92b7");
        let mut unresolved = json!({"members": [{"value": "bulkId:nope"}]});
        assert_eq!(
            resolve_bulk_ids(&mut unresolved, &created),
            Err("nope".to_string())
        );
    }

    #[test]
    fn bad_requests_are_refused_with_the_operation_named() {
        let body = serde_json::to_vec(&rfc_example()).unwrap();
        let error = BulkRequest::parse(
            &body,
            BulkLimits {
                max_operations: 2,
                ..LIMITS
            },
        )
        .unwrap_err();
        assert_eq!(error.status, 413);
        let error = BulkRequest::parse(
            &body,
            BulkLimits {
                max_payload_size: 10,
                ..LIMITS
            },
        )
        .unwrap_err();
        assert_eq!(error.status, 413);
        let cycle = json!({"Operations": [
            {"method": "POST", "path": "/Groups", "bulkId": "a", "data": {"displayName": "A", "members": [{"value": "bulkId:b"}]}},
            {"method": "POST", "path": "/Groups", "bulkId": "b", "data": {"displayName": "B", "members": [{"value": "bulkId:a"}]}}
        ]});
        assert_eq!(
            BulkRequest::from_json(&cycle)
                .unwrap()
                .order()
                .unwrap_err()
                .status,
            409
        );
        let missing = json!({"Operations": [{"method": "PATCH", "path": "/Groups/bulkId:zzz", "data": {"Operations": []}}]});
        assert!(
            BulkRequest::from_json(&missing)
                .unwrap()
                .order()
                .unwrap_err()
                .detail
                .contains("not declared")
        );
        let no_bulk_id = json!({"Operations": [{"method": "POST", "path": "/Users", "data": {}}]});
        assert_eq!(
            BulkRequest::from_json(&no_bulk_id).unwrap_err().detail,
            "/Operations/0: a POST needs a \"bulkId\""
        );
        let printer = json!({"Operations": [{"method": "DELETE", "path": "/Printers/1"}]});
        assert!(
            BulkRequest::from_json(&printer)
                .unwrap_err()
                .detail
                .contains("not /Users or /Groups")
        );
    }

    #[test]
    fn search_requests_become_query_parameters() {
        let body = br#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "attributes":["displayName","userName"],"filter":"displayName sw \"smith\"","startIndex":1,"count":10}"#;
        let request = SearchRequest::parse(body).unwrap();
        assert_eq!(
            request.params,
            vec![
                ("filter".to_string(), "displayName sw \"smith\"".to_string()),
                ("startIndex".to_string(), "1".to_string()),
                ("count".to_string(), "10".to_string()),
                ("attributes".to_string(), "displayName,userName".to_string()),
            ]
        );
        assert_eq!(
            SearchRequest::parse(br#"{"count": true}"#)
                .unwrap_err()
                .detail,
            "/count: expected an integer, found the boolean true"
        );
    }

    #[test]
    fn list_responses_have_integer_counts() {
        let page = ListResponse::new(vec![json!({"id": "a"})], 7, 3);
        assert_eq!(
            serde_json::to_value(&page).unwrap(),
            json!({"schemas": [LIST_RESPONSE_SCHEMA], "totalResults": 7, "itemsPerPage": 1, "startIndex": 3, "Resources": [{"id": "a"}]})
        );
    }
}
