//! Sessions: one signed request, then reads by token.

use axum::http::HeaderMap;
use axum::{Extension, Json};
use billflow_types::request::HEADER_SESSION;
use billflow_types::view::{ErrorBody, SessionView};

use super::Gw;
use crate::auth::Subject;
use crate::error::ApiError;

/// Open a session
///
/// A signed request opens a session for its key: a random token that the
/// same client, from the same address, sends in `x-billflow-session` instead
/// of the four signature headers, for ten minutes. Each request under it
/// checks the key again, so a revoked key's sessions end with it. A key has
/// at most 16 sessions open; opening another ends its oldest.
#[utoipa::path(
    post,
    path = "/v1/sessions",
    tag = "node",
    responses(
        (status = 200, description = "The session.", body = SessionView),
        (status = 401, description = "The request is not signed.", body = ErrorBody),
        (status = 503, description = "Too many sessions are open on this node (`E_BUSY`).", body = ErrorBody),
    ),
    security(("billflow_key" = [], "billflow_timestamp" = [], "billflow_nonce" = [], "billflow_signature" = [])),
)]
pub(crate) async fn open_session(
    axum::extract::State(gw): Gw,
    Extension(subject): Extension<Subject>,
    headers: HeaderMap,
) -> Result<Json<SessionView>, ApiError> {
    subject.require()?;
    if headers.contains_key(HEADER_SESSION) {
        return Err(ApiError::unauthenticated("E_UNAUTHENTICATED", "a session is opened by a signed request"));
    }
    let (token, expires_at_ms) = gw.auth.open_session(&subject)?;
    Ok(Json(SessionView { token, expires_at_ms }))
}

/// Close a session
///
/// Ends the session whose token the request carries.
#[utoipa::path(
    delete,
    path = "/v1/sessions",
    tag = "node",
    responses(
        (status = 204, description = "Closed."),
        (status = 401, description = "No session, or not a known one.", body = ErrorBody),
    ),
    security(("billflow_session" = [])),
)]
pub(crate) async fn close_session(
    axum::extract::State(gw): Gw,
    Extension(subject): Extension<Subject>,
    headers: HeaderMap,
) -> Result<axum::http::StatusCode, ApiError> {
    subject.require()?;
    let Some(token) = headers.get(HEADER_SESSION).and_then(|v| v.to_str().ok()) else {
        return Err(ApiError::unauthenticated("E_UNAUTHENTICATED", "name the session to close in its header"));
    };
    gw.auth.close_session(token, &subject);
    Ok(axum::http::StatusCode::NO_CONTENT)
}
