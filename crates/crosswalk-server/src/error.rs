//! The API's one error shape: `{"code": "...", "message": "..."}`, a stable snake_case code
//! programs branch on and a message that says what to do. Every refusal, the framework's
//! own (a malformed body, a bad query) included, goes out in this shape.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use crosswalk_app::{AppError, ErrorKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::limits::MAX_BODY_BYTES;

/// An error as the API answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// Stable, snake_case: `missing_token`, `invalid_token`, `not_found`, `invalid_request`,
    /// `body_too_large`, `page_size_too_large`, `too_many_keys`, `forbidden`, `conflict`,
    /// `unavailable`, `internal`.
    pub code: String,
    /// What went wrong and what to do about it.
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    pub fn invalid_body(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// What a scope the caller may not see and a scope that does not exist both answer, word
    /// for word, so a token cannot learn which scopes exist.
    pub fn scope_not_found(scope: &str) -> ApiError {
        ApiError::not_found(format!(
            "no scope {scope:?} is visible to this token; check the scope name in the URL"
        ))
    }

    /// Likewise for a transfer id.
    pub fn transfer_not_found(transfer: &str) -> ApiError {
        ApiError::not_found(format!(
            "no transfer {transfer:?} is visible to this token; check the transfer id in the URL"
        ))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = self.code, message = %self.message, "request failed");
        }
        (
            self.status,
            Json(ErrorBody {
                code: self.code.to_string(),
                message: self.message,
            }),
        )
            .into_response()
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> ApiError {
        let (status, code) = match error.kind() {
            ErrorKind::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ErrorKind::Invalid => (StatusCode::BAD_REQUEST, "invalid_request"),
            ErrorKind::Conflict => (StatusCode::CONFLICT, "conflict"),
            ErrorKind::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            ErrorKind::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        ApiError::new(status, code, error.message())
    }
}

impl From<crosswalk_store::scope::ScopeError> for ApiError {
    fn from(error: crosswalk_store::scope::ScopeError) -> ApiError {
        ApiError::from(AppError::from(error))
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> ApiError {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!(
                    "the request body is larger than the limit of {MAX_BODY_BYTES} bytes; send fewer items per request"
                ),
            );
        }
        // A missing or wrong Content-Type is malformed input like any other: a 400.
        ApiError::invalid_body(format!(
            "{}; send a JSON body (Content-Type: application/json) as the API document describes",
            rejection.body_text()
        ))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            rejection.body_text(),
        )
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_path",
            rejection.body_text(),
        )
    }
}

/// `axum::Json` answering its refusals in the API's error shape.
#[derive(Debug, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

/// `axum::extract::Query` answering its refusals in the API's error shape.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// `axum::extract::Path` answering its refusals in the API's error shape.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

pub type ApiResult<T> = Result<T, ApiError>;
