//! [`ApiError`]: every failure a client can see, as `{code, message,
//! request_id}` with a fitting HTTP status; never internal detail.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use billflow_chain::ChainError;
use billflow_types::Rejection;
use billflow_types::view::ErrorBody;

/// What every `E_INTERNAL` answers: the detail is in the node's log, under the
/// request id the answer carries.
pub(crate) const INTERNAL_MESSAGE: &str = "internal error; see the node's log with this request id";

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

    /// A 500 that is the node's fault. `detail` goes to the node's log (inside
    /// the request's span, with its id), never to the client: it may name
    /// files, records or other tenants' transactions.
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %detail, "a request failed on a node error");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "E_INTERNAL".into(),
            message: INTERNAL_MESSAGE.into(),
        }
    }

    /// A 422: a contract refused the request with its own code.
    pub fn contract(failure: billflow_types::TxFailure) -> ApiError {
        ApiError { status: StatusCode::UNPROCESSABLE_ENTITY, code: failure.code.into(), message: failure.message }
    }

    /// A 401: the request is not authentic.
    pub fn unauthenticated(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::UNAUTHORIZED, code: code.into(), message: message.into() }
    }

    /// A 403: authentic, but not allowed.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::FORBIDDEN, code: code.into(), message: message.into() }
    }

    /// The error answered for a bare status (a rejection by the framework or a
    /// middleware that carries no code of its own).
    pub fn for_status(status: StatusCode) -> ApiError {
        let code = match status {
            StatusCode::NOT_FOUND => "E_NOT_FOUND",
            StatusCode::METHOD_NOT_ALLOWED => "E_METHOD_NOT_ALLOWED",
            StatusCode::PAYLOAD_TOO_LARGE => "E_BODY_TOO_LARGE",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "E_UNSUPPORTED_MEDIA_TYPE",
            StatusCode::REQUEST_TIMEOUT => "E_TIMEOUT",
            StatusCode::TOO_MANY_REQUESTS => "E_RATE_LIMITED",
            StatusCode::UNAUTHORIZED => "E_UNAUTHENTICATED",
            StatusCode::FORBIDDEN => "E_FORBIDDEN",
            s if s.is_server_error() => "E_INTERNAL",
            _ => "E_BAD_REQUEST",
        };
        let message = status.canonical_reason().unwrap_or("request failed").to_ascii_lowercase();
        ApiError { status, code: code.into(), message }
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
            | Rejection::Stale { .. }
            | Rejection::PersonalData { .. } => StatusCode::BAD_REQUEST,
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
            ChainError::Exec(e) => ApiError::internal(e),
        }
    }
}

/// Marks a response as an [`ApiError`]: the outermost layer adds the request id
/// to its body and records its code.
#[derive(Debug, Clone)]
pub(crate) struct ErrorInfo {
    pub code: String,
    pub message: String,
}

impl ApiError {
    /// The response with `request_id` in the body. Personal data a message
    /// echoes from the request is masked.
    pub(crate) fn response(status: StatusCode, code: String, message: String, request_id: Option<String>) -> Response {
        let message = billflow_types::privacy::mask(&message).into_owned();
        let info = ErrorInfo { code: code.clone(), message: message.clone() };
        let mut resp = (status, axum::Json(ErrorBody { code, message, request_id })).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        resp.extensions_mut().insert(info);
        resp
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        ApiError::response(self.status, self.code.into_owned(), self.message, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_answer_a_fixed_message_whatever_failed() {
        let detail = "stored block 7 is corrupt: /var/lib/billflow/blocks/00000001.blk";
        let direct = ApiError::internal(detail);
        let storage = billflow_storage::StorageError::Io(detail.into());
        let chained = ApiError::from(ChainError::from(storage));
        for e in [direct, chained] {
            assert_eq!(
                (e.status, e.code.as_ref(), e.message.as_str()),
                (StatusCode::INTERNAL_SERVER_ERROR, "E_INTERNAL", INTERNAL_MESSAGE)
            );
        }
    }
}
