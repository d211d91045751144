//! The audit log, read by regulators.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use billflow_types::view::{AuditPage, ErrorBody};
use serde::Deserialize;

use super::{Gw, parse_query};
use crate::audit::PageQuery;
use crate::auth::Subject;
use crate::error::ApiError;

/// What `GET /v1/audit` asks.
#[derive(Debug, Deserialize)]
pub(crate) struct AuditQuery {
    from: Option<String>,
    to: Option<String>,
    subject: Option<String>,
    after: Option<u64>,
    limit: Option<usize>,
}

/// The most audit entries one page holds.
const MAX_AUDIT_PAGE: usize = 1_000;

/// `YYYY-MM-DD` or an RFC 3339 UTC time as the log writes it (`…Z`).
/// Checks ASCII before it cuts the text: a cut inside a multi-byte character
/// would panic.
fn audit_time(what: &str, text: &str) -> Result<(), ApiError> {
    let date_ok = text.is_ascii() && text.get(..10).is_some_and(audit_date_ok);
    let rest_ok =
        text.len() == 10 || (text.as_bytes().get(10) == Some(&b'T') && text.ends_with('Z') && text.len() <= 30);
    if date_ok && rest_ok {
        Ok(())
    } else {
        let shown: String = text.chars().take(40).collect();
        Err(ApiError::bad_request(
            "E_BAD_QUERY",
            format!("{what} must be YYYY-MM-DD or an RFC 3339 UTC time, got {shown:?}"),
        ))
    }
}

fn audit_date_ok(date: &str) -> bool {
    let b = date.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !b.iter().all(|c| c.is_ascii_digit() || *c == b'-') {
        return false;
    }
    let part = |range: std::ops::Range<usize>| date.get(range).and_then(|p| p.parse::<u16>().ok());
    let (Some(y), Some(m), Some(d)) = (part(0..4), part(5..7), part(8..10)) else {
        return false;
    };
    let (Ok(m), Ok(d)) = (u8::try_from(m), u8::try_from(d)) else { return false };
    time::Month::try_from(m).is_ok_and(|m| time::Date::from_calendar_date(i32::from(y), m, d).is_ok())
}

/// The audit log
///
/// Regulators read the gateway's hash-chained audit log: every call with its
/// time, subject, object, action, result and request id, oldest first,
/// filtered by time (`from` inclusive, `to` inclusive; dates or RFC 3339 UTC
/// times) and by subject (entries whose subject contains the text). A page
/// is read through the log's index; every entry it reads is checked against
/// its hash and the entry before it, and a broken chain is a 500 naming the
/// entry (the whole chain is checked when the node starts, and by
/// `billflow-node audit verify`).
#[utoipa::path(
    get,
    path = "/v1/audit",
    tag = "audit",
    params(
        ("from" = Option<String>, Query, description = "From this date or time (inclusive)."),
        ("to" = Option<String>, Query, description = "To this date or time (inclusive)."),
        ("subject" = Option<String>, Query, description = "Only entries whose subject contains this text."),
        ("after" = Option<u64>, Query, description = "Only entries after this position (paging)."),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 1000, description = "How many (default 100)."),
    ),
    responses(
        (status = 200, description = "A page of the audit log.", body = AuditPage),
        (status = 400, description = "A bad query (`E_BAD_QUERY`).", body = ErrorBody),
        (status = 401, description = "The request is not signed.", body = ErrorBody),
        (status = 403, description = "The signer is not a regulator (`E_NOT_REGULATOR`).", body = ErrorBody),
        (status = 404, description = "This gateway keeps no audit log.", body = ErrorBody),
        (status = 500, description = "The log's hash chain is broken (`E_AUDIT_BROKEN`).", body = ErrorBody),
    ),
    security(("billflow_key" = [], "billflow_timestamp" = [], "billflow_nonce" = [], "billflow_signature" = [])),
)]
pub(crate) async fn audit_log(
    State(gw): Gw,
    Extension(subject): Extension<Subject>,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AuditPage>, ApiError> {
    crate::supervision::require_regulator(&gw, &subject)?;
    let q = parse_query(query)?;
    for (what, t) in [("from", &q.from), ("to", &q.to)] {
        if let Some(t) = t {
            audit_time(what, t)?;
        }
    }
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_AUDIT_PAGE {
        return Err(ApiError::bad_request("E_BAD_QUERY", format!("limit must be 1 to {MAX_AUDIT_PAGE}")));
    }
    let audit = gw.audit.clone().ok_or_else(|| ApiError::not_found("this gateway keeps no audit log"))?;
    let page = tokio::task::spawn_blocking(move || {
        let query = PageQuery {
            after: q.after,
            from: q.from.as_deref(),
            to: q.to.as_deref(),
            subject: q.subject.as_deref(),
            limit,
        };
        audit.page(&query)
    })
    .await
    .map_err(|e| ApiError::internal(format!("audit read task failed: {e}")))?
    .map_err(|e| ApiError::internal(format!("cannot read the audit log: {e}")))?
    .map_err(|broken| {
        // Regulators are told which entry; how it fails to verify stays in the node's log.
        tracing::error!(seq = broken.seq, reason = %broken.reason, "the audit log's hash chain is broken");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "E_AUDIT_BROKEN".into(),
            message: format!(
                "the audit log's hash chain is broken at entry {}; see the node's log with this request id",
                broken.seq
            ),
        }
    })?;
    let (entries, more) = page;
    let next_after = if more { entries.last().map(|e| e.seq) } else { None };
    Ok(Json(AuditPage { entries, next_after }))
}
