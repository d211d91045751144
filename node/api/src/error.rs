//! [`ApiError`]: every failure a client can see.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use billflow_chain::ChainError;
use billflow_types::Rejection;
use billflow_types::view::ErrorBody;

/// An error answered as `{code, message}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code.
    pub code: std::borrow::Cow<'static, str>,
    /// Human-readable detail.
    pub message: String,
}

impl ApiError {
    /// A 400 for an unreadable request.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::BAD_REQUEST, code: code.into(), message: message.into() }
    }

    /// A 500 that is the node's fault.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::INTERNAL_SERVER_ERROR, code: "E_INTERNAL".into(), message: message.into() }
    }

    /// A 422: a contract refused the request with its own code.
    pub fn contract(failure: billflow_types::TxFailure) -> ApiError {
        ApiError { status: StatusCode::UNPROCESSABLE_ENTITY, code: failure.code.into(), message: failure.message }
    }

    /// A 404.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::NOT_FOUND, code: "E_NOT_FOUND".into(), message: message.into() }
    }
}

impl From<Rejection> for ApiError {
    fn from(r: Rejection) -> ApiError {
        let status = match &r {
            Rejection::Malformed(_)
            | Rejection::InvalidField { .. }
            | Rejection::WrongChain { .. }
            | Rejection::Stale { .. } => StatusCode::BAD_REQUEST,
            Rejection::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Rejection::UnknownKey(_) | Rejection::KeyRevoked(_) | Rejection::BadSignature(_) => {
                StatusCode::UNAUTHORIZED
            }
            Rejection::TenantMismatch { .. } => StatusCode::FORBIDDEN,
            Rejection::Duplicate(_) => StatusCode::CONFLICT,
            Rejection::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError { status, code: r.code().into(), message: r.to_string() }
    }
}

impl From<ChainError> for ApiError {
    fn from(e: ChainError) -> ApiError {
        match e {
            ChainError::ShuttingDown => ApiError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "E_SHUTTING_DOWN".into(),
                message: "the node is shutting down; retry on another node".into(),
            },
            ChainError::Exec(e) => {
                tracing::error!(error = %e, "request failed on a node error");
                ApiError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    code: "E_INTERNAL".into(),
                    message: "the node could not complete the request".into(),
                }
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp =
            (self.status, axum::Json(ErrorBody { code: self.code.into(), message: self.message })).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        resp
    }
}
