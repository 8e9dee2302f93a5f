//! Errors in the SCIM error schema (RFC 7644 §3.12): an HTTP status, a `scimType` keyword
//! for 400s (and 409 `uniqueness`, 413 `tooMany`), and a detail a person can act on.
//!
//! The server turns a [`ScimError`] into its response: the status line from
//! [`ScimError::status`], the body from [`ScimError::body`]. Nothing here knows HTTP.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The error message schema URN.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The `scimType` detail keywords of RFC 7644 Table 9, and RFC 9865's pagination ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScimType {
    /// The filter syntax was invalid, or it names an attribute or operator that does not fit.
    InvalidFilter,
    /// The filter would give more results than the service allows.
    TooMany,
    /// A value is already held by another resource (409).
    Uniqueness,
    /// An attempt to change a read-only or immutable attribute, or to remove a required one.
    Mutability,
    /// The request body could not be parsed, or is not the message it should be.
    InvalidSyntax,
    /// The PATCH `path` is malformed or names no attribute the service knows.
    InvalidPath,
    /// The PATCH `path` matched nothing it could operate on.
    NoTarget,
    /// A required value is missing, or a value has the wrong type or form.
    InvalidValue,
    /// The protocol version in the request is not supported.
    InvalidVers,
    /// The request put sensitive information (a secret) in the URL.
    Sensitive,
    /// RFC 9865: the cursor is not one this service gave out for this query.
    InvalidCursor,
    /// RFC 9865: the cursor has expired.
    ExpiredCursor,
    /// RFC 9865: the `count` of a cursor-paged query is not a positive integer.
    InvalidCount,
}

impl ScimType {
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::TooMany => "tooMany",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
            ScimType::InvalidVers => "invalidVers",
            ScimType::Sensitive => "sensitive",
            ScimType::InvalidCursor => "invalidCursor",
            ScimType::ExpiredCursor => "expiredCursor",
            ScimType::InvalidCount => "invalidCount",
        }
    }

    const ALL: [ScimType; 13] = [
        ScimType::InvalidFilter,
        ScimType::TooMany,
        ScimType::Uniqueness,
        ScimType::Mutability,
        ScimType::InvalidSyntax,
        ScimType::InvalidPath,
        ScimType::NoTarget,
        ScimType::InvalidValue,
        ScimType::InvalidVers,
        ScimType::Sensitive,
        ScimType::InvalidCursor,
        ScimType::ExpiredCursor,
        ScimType::InvalidCount,
    ];

    /// The keyword, in any case (some clients capitalise it).
    pub fn parse(text: &str) -> Option<ScimType> {
        ScimType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(text))
    }
}

impl fmt::Display for ScimType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ScimType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ScimType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ScimType::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown scimType {text:?}")))
    }
}

/// A protocol error: what the server answers instead of a resource.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct ScimError {
    /// The HTTP status (400, 404, 409, 412, 413, 500, 501...).
    pub status: u16,
    pub scim_type: Option<ScimType>,
    /// What went wrong and, where it helps, what to send instead.
    pub detail: String,
}

impl ScimError {
    pub fn new(status: u16, scim_type: Option<ScimType>, detail: impl Into<String>) -> ScimError {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    /// A 400 with a `scimType`.
    pub fn bad_request(scim_type: ScimType, detail: impl Into<String>) -> ScimError {
        ScimError::new(400, Some(scim_type), detail)
    }

    pub fn invalid_filter(detail: impl Into<String>) -> ScimError {
        ScimError::bad_request(ScimType::InvalidFilter, detail)
    }

    pub fn invalid_value(detail: impl Into<String>) -> ScimError {
        ScimError::bad_request(ScimType::InvalidValue, detail)
    }

    pub fn invalid_syntax(detail: impl Into<String>) -> ScimError {
        ScimError::bad_request(ScimType::InvalidSyntax, detail)
    }

    pub fn invalid_path(detail: impl Into<String>) -> ScimError {
        ScimError::bad_request(ScimType::InvalidPath, detail)
    }

    pub fn no_target(detail: impl Into<String>) -> ScimError {
        ScimError::bad_request(ScimType::NoTarget, detail)
    }

    pub fn mutability(detail: impl Into<String>) -> ScimError {
        ScimError::bad_request(ScimType::Mutability, detail)
    }

    pub fn invalid_version(detail: impl Into<String>) -> ScimError {
        ScimError::bad_request(ScimType::InvalidVers, detail)
    }

    /// 400 `tooMany`: the filter matches more than the service returns.
    pub fn too_many(detail: impl Into<String>) -> ScimError {
        ScimError::bad_request(ScimType::TooMany, detail)
    }

    /// 409 `uniqueness`: a create or update would give a second resource a unique value.
    pub fn uniqueness(detail: impl Into<String>) -> ScimError {
        ScimError::new(409, Some(ScimType::Uniqueness), detail)
    }

    pub fn not_found(detail: impl Into<String>) -> ScimError {
        ScimError::new(404, None, detail)
    }

    /// 412: an `If-Match` version is not the resource's current one.
    pub fn precondition_failed(detail: impl Into<String>) -> ScimError {
        ScimError::new(412, None, detail)
    }

    /// 413: a bulk request with too many operations or too many bytes.
    pub fn payload_too_large(detail: impl Into<String>) -> ScimError {
        ScimError::new(413, None, detail)
    }

    /// 501: an endpoint or feature the service does not implement (`/Me`, password change).
    pub fn not_implemented(detail: impl Into<String>) -> ScimError {
        ScimError::new(501, None, detail)
    }

    /// The response body in the RFC's error schema; `status` is a string, as RFC 7644 §3.12
    /// shows (Entra and Okta read it either way).
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            schemas: vec![ERROR_SCHEMA.to_string()],
            status: self.status.to_string(),
            scim_type: self.scim_type,
            detail: Some(self.detail.clone()),
        }
    }
}

/// The error response body (RFC 7644 §3.12).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorBody {
    pub schemas: Vec<String>,
    /// The HTTP status as a string, e.g. `"409"`.
    pub status: String,
    #[serde(rename = "scimType", skip_serializing_if = "Option::is_none")]
    pub scim_type: Option<ScimType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl ErrorBody {
    /// Reads an error body as clients send it back (tests, a client of another service):
    /// `status` as a string or, as Okta's examples show, a number.
    pub fn from_json(value: &serde_json::Value) -> Option<ErrorBody> {
        let object = value.as_object()?;
        let get = |name: &str| {
            object
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        };
        let status = match get("status")? {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => return None,
        };
        let schemas = get("schemas")
            .and_then(|s| s.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        Some(ErrorBody {
            schemas,
            status,
            scim_type: get("scimType")
                .and_then(|t| t.as_str())
                .and_then(ScimType::parse),
            detail: get("detail").and_then(|d| d.as_str()).map(str::to_string),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_has_the_status_as_a_string_and_the_keyword() {
        let error = ScimError::uniqueness("userName \"bjensen\" is taken");
        let body = serde_json::to_value(error.body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "schemas": [ERROR_SCHEMA],
                "status": "409",
                "scimType": "uniqueness",
                "detail": "userName \"bjensen\" is taken"
            })
        );
        let not_found = serde_json::to_value(ScimError::not_found("no such user").body()).unwrap();
        assert!(not_found.get("scimType").is_none());
    }

    #[test]
    fn keywords_parse_back_in_any_case() {
        for t in ScimType::ALL {
            assert_eq!(ScimType::parse(t.as_str()), Some(t));
            assert_eq!(ScimType::parse(&t.as_str().to_uppercase()), Some(t));
        }
        let okta = serde_json::json!({"schemas": [ERROR_SCHEMA], "detail": "User not found", "status": 404});
        assert_eq!(ErrorBody::from_json(&okta).unwrap().status, "404");
    }
}
