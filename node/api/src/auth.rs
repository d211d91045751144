//! Who sends a request: signed-request authentication, replay protection and
//! rate limits.
//!
//! A request either carries all four signature headers
//! ([`billflow_types::request`]) or none. With none it is anonymous: it may
//! read public data only. With them, the key must be registered and active on
//! the ledger, the time within [`MAX_CLOCK_SKEW_MS`] of this node's clock, the
//! nonce unused, and the signature valid over method, path, query, time, nonce
//! and body. Rate limits apply per tenant (or organisation) and, for anonymous
//! requests, per client address.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Mutex;

use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use billflow_chain::now_ms;
use billflow_types::request::{
    HEADER_KEY, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, MAX_CLOCK_SKEW_MS, request_message, valid_nonce,
    verify_request,
};
use billflow_types::system::{
    Home, KeyRecord, KeyStatus, ParticipantRecord, Principal, RecordKind, state_key, system_contract,
};
use billflow_types::{Canonical, KeyId, OrgId, SignedTx, TenantId};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::ApiError;
use crate::{ApiConfig, Gateway, SubjectSlot};

/// Who sent a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// Nobody in particular: public data only.
    Anonymous {
        /// The client's address, if known.
        addr: Option<IpAddr>,
    },
    /// The holder of a registered key.
    Key {
        /// The key.
        key_id: KeyId,
        /// Whom it acts for.
        principal: Principal,
        /// The tenant it acts under (tenant keys and their enterprises' keys).
        tenant: Option<TenantId>,
        /// The consortium organisation it belongs to (administrators, banks, notaries).
        org: Option<OrgId>,
    },
}

impl Subject {
    /// How the audit log and metrics name the subject.
    pub fn label(&self) -> String {
        match self {
            Subject::Anonymous { addr: Some(a) } => format!("anonymous@{a}"),
            Subject::Anonymous { addr: None } => "anonymous".into(),
            Subject::Key { key_id, principal, .. } => match principal {
                Principal::Admin(o) => format!("org:{o}/key:{key_id}"),
                Principal::Tenant(t) => format!("tenant:{t}/key:{key_id}"),
                Principal::Participant(p) => format!("participant:{p}/key:{key_id}"),
            },
        }
    }

    /// The bucket its requests are counted in.
    fn rate_key(&self) -> String {
        match self {
            Subject::Anonymous { addr } => format!("ip:{}", addr.map(|a| a.to_string()).unwrap_or_default()),
            Subject::Key { tenant: Some(t), .. } => format!("tenant:{t}"),
            Subject::Key { org: Some(o), .. } => format!("org:{o}"),
            Subject::Key { key_id, .. } => format!("key:{key_id}"),
        }
    }

    /// Whether the request is authenticated.
    pub fn is_authenticated(&self) -> bool {
        matches!(self, Subject::Key { .. })
    }

    /// The authenticated subject, or a 401.
    pub fn require(&self) -> Result<(), ApiError> {
        if self.is_authenticated() {
            Ok(())
        } else {
            Err(ApiError::unauthenticated(
                "E_UNAUTHENTICATED",
                "this route needs a signed request (x-billflow-key, -timestamp, -nonce, -signature)",
            ))
        }
    }

    /// Whether the subject may see `tx` in full: consortium organisations see
    /// every transaction; a tenant and its enterprises see their tenant's.
    pub fn may_see(&self, tx: &SignedTx) -> bool {
        match self {
            Subject::Anonymous { .. } => false,
            Subject::Key { org: Some(_), .. } => true,
            Subject::Key { tenant, .. } => tenant.is_some() && tx.tx.tenant == *tenant,
        }
    }

    /// Whether the subject may submit `tx`: a tenant (or its enterprise) only
    /// transactions under its own tenant.
    pub fn may_submit(&self, tx: &SignedTx) -> Result<(), ApiError> {
        let tenant = match self {
            Subject::Anonymous { .. } => return self.require(),
            Subject::Key { org: Some(_), .. } => return Ok(()),
            Subject::Key { tenant, .. } => tenant,
        };
        match tenant {
            Some(t) if tx.tx.tenant.as_ref() == Some(t) => Ok(()),
            _ => Err(ApiError::forbidden(
                "E_FOREIGN_PARTICIPANT",
                format!(
                    "transaction {} acts under tenant {}, the request is signed for {}",
                    tx.tx.tx_id,
                    tx.tx.tenant.as_ref().map_or("(none)", |t| t.as_str()),
                    tenant.as_ref().map_or("(none)", |t| t.as_str()),
                ),
            )),
        }
    }
}

/// Nonces seen within the clock window, per key.
#[derive(Default)]
struct Nonces {
    seen: HashMap<String, u64>,
    order: VecDeque<(u64, String)>,
}

/// The most nonces remembered at once; beyond that new requests wait.
const MAX_NONCES: usize = 2_000_000;

impl Nonces {
    /// Records `key`, unless seen; forgets what expired by `now`.
    fn record(&mut self, key: String, now: u64) -> Result<(), ApiError> {
        while let Some((expiry, _)) = self.order.front() {
            if *expiry > now {
                break;
            }
            if let Some((_, k)) = self.order.pop_front() {
                if self.seen.get(&k).is_some_and(|e| *e <= now) {
                    self.seen.remove(&k);
                }
            }
        }
        if self.seen.contains_key(&key) {
            return Err(ApiError::unauthenticated("E_NONCE_REUSED", "this nonce was used before with this key"));
        }
        if self.seen.len() >= MAX_NONCES {
            return Err(ApiError {
                status: axum::http::StatusCode::SERVICE_UNAVAILABLE,
                code: "E_BUSY".into(),
                message: "too many requests in the replay window; retry shortly".into(),
            });
        }
        // A nonce must be remembered as long as its request could still be accepted.
        let expiry = now + 2 * MAX_CLOCK_SKEW_MS;
        self.seen.insert(key.clone(), expiry);
        self.order.push_back((expiry, key));
        Ok(())
    }
}

/// Authentication state of one gateway.
pub(crate) struct Auth {
    nonces: Mutex<Nonces>,
    limiter: DefaultKeyedRateLimiter<String>,
}

impl Auth {
    pub(crate) fn new(config: &ApiConfig) -> Auth {
        let per_s = NonZeroU32::new(config.rate_per_s.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(config.rate_burst.max(config.rate_per_s).max(1)).unwrap_or(NonZeroU32::MIN);
        Auth {
            nonces: Mutex::new(Nonces::default()),
            limiter: RateLimiter::keyed(Quota::per_second(per_s).allow_burst(burst)),
        }
    }

    /// Forgets idle rate-limit buckets.
    pub(crate) fn tidy(&self) {
        self.limiter.retain_recent();
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, ApiError> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .map(Some)
            .map_err(|_| ApiError::unauthenticated("E_BAD_AUTH_HEADER", format!("header {name} is not ASCII"))),
    }
}

/// Verifies the request's signature headers (if any) and its rate; puts the
/// [`Subject`] into the request's extensions.
pub(crate) async fn authenticate(State(gw): State<std::sync::Arc<Gateway>>, req: Request, next: Next) -> Response {
    let addr = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let slot = req.extensions().get::<SubjectSlot>().cloned();
    let result = admit(&gw, req, addr).await;
    if let (Some(slot), Ok((_, subject)) | Err((_, Some(subject)))) = (&slot, &result) {
        slot.set(subject);
    }
    match result {
        Ok((req, subject)) => {
            let mut resp = next.run(req).await;
            resp.extensions_mut().insert(subject);
            resp
        }
        Err((e, subject)) => {
            let mut resp = axum::response::IntoResponse::into_response(e);
            if let Some(s) = subject {
                resp.extensions_mut().insert(s);
            }
            resp
        }
    }
}

type Refused = (ApiError, Option<Subject>);

async fn admit(gw: &Gateway, req: Request, addr: Option<IpAddr>) -> Result<(Request, Subject), Refused> {
    let (mut parts, body) = req.into_parts();
    let max = gw.config.max_body_bytes;
    let body = to_bytes(body, max).await.map_err(|e| {
        let over = std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
        let e = if over {
            ApiError {
                status: axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                code: "E_BODY_TOO_LARGE".into(),
                message: format!("request bodies are limited to {max} bytes"),
            }
        } else {
            // The client closed or broke the connection inside the body.
            ApiError::bad_request("E_MALFORMED", format!("the request body could not be read whole: {e}"))
        };
        (e, None)
    })?;
    let anonymous = Subject::Anonymous { addr };
    let subject = verify(gw, &parts, &body).map_err(|e| (e, Some(anonymous.clone())))?.unwrap_or(anonymous);
    if gw.auth.limiter.check_key(&subject.rate_key()).is_err() {
        let e = ApiError {
            status: axum::http::StatusCode::TOO_MANY_REQUESTS,
            code: "E_RATE_LIMITED".into(),
            message: format!("more than {} requests a second from {}", gw.config.rate_per_s, subject.rate_key()),
        };
        return Err((e, Some(subject)));
    }
    parts.extensions.insert(subject.clone());
    Ok((Request::from_parts(parts, Body::from(body)), subject))
}

/// `None`: no signature headers at all.
fn verify(gw: &Gateway, parts: &axum::http::request::Parts, body: &[u8]) -> Result<Option<Subject>, ApiError> {
    let h = &parts.headers;
    let fields =
        [header(h, HEADER_KEY)?, header(h, HEADER_TIMESTAMP)?, header(h, HEADER_NONCE)?, header(h, HEADER_SIGNATURE)?];
    let [Some(key_id), Some(timestamp), Some(nonce), Some(signature)] = fields else {
        if fields.iter().all(Option::is_none) {
            return Ok(None);
        }
        return Err(ApiError::unauthenticated(
            "E_UNAUTHENTICATED",
            format!(
                "a signed request carries all of {HEADER_KEY}, {HEADER_TIMESTAMP}, {HEADER_NONCE} and {HEADER_SIGNATURE}"
            ),
        ));
    };
    let key_id = KeyId::new(key_id).map_err(|e| ApiError::unauthenticated("E_UNKNOWN_KEY", e.to_string()))?;
    let timestamp: u64 = timestamp.parse().map_err(|_| {
        ApiError::unauthenticated("E_BAD_TIMESTAMP", format!("{HEADER_TIMESTAMP} must be ms since the Unix epoch"))
    })?;
    let now = now_ms();
    if timestamp.abs_diff(now) > MAX_CLOCK_SKEW_MS {
        return Err(ApiError::unauthenticated(
            "E_REQUEST_EXPIRED",
            format!("the request's time {timestamp} is more than {MAX_CLOCK_SKEW_MS} ms from the node's {now}"),
        ));
    }
    if !valid_nonce(nonce) {
        return Err(ApiError::bad_request("E_BAD_NONCE", "the nonce must be 16 to 64 characters of [A-Za-z0-9_-]"));
    }
    let store = &gw.store;
    let system = system_contract();
    let record = store.state_get(&system, &state_key(RecordKind::Key, key_id.as_str())).map_err(ApiError::internal)?;
    let Some(record) = record.and_then(|b| KeyRecord::decode(&b).ok()) else {
        return Err(ApiError::unauthenticated("E_UNKNOWN_KEY", format!("key {key_id} is not registered")));
    };
    if let KeyStatus::Revoked { at_height } = record.status {
        return Err(ApiError::unauthenticated(
            "E_KEY_REVOKED",
            format!("key {key_id} was revoked at height {at_height}"),
        ));
    }
    let message = request_message(
        parts.method.as_str(),
        parts.uri.path(),
        parts.uri.query().unwrap_or(""),
        timestamp,
        nonce,
        body,
    );
    if !verify_request(&record.public_key, &message, signature) {
        return Err(ApiError::unauthenticated("E_BAD_SIGNATURE", "the request signature does not verify"));
    }
    gw.auth.nonces.lock().unwrap_or_else(|p| p.into_inner()).record(format!("{key_id}\n{nonce}"), now)?;
    let (tenant, org) = match &record.owner {
        Principal::Admin(o) => (None, Some(o.clone())),
        Principal::Tenant(t) => (Some(t.clone()), None),
        Principal::Participant(p) => {
            let bytes = store
                .state_get(&system, &state_key(RecordKind::Participant, p.as_str()))
                .map_err(ApiError::internal)?;
            match bytes.and_then(|b| ParticipantRecord::decode(&b).ok()).map(|r| r.home) {
                Some(Home::Tenant(t)) => (Some(t), None),
                Some(Home::Org(o)) => (None, Some(o)),
                None => (None, None),
            }
        }
    };
    Ok(Some(Subject::Key { key_id, principal: record.owner, tenant, org }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_refused_until_its_window_has_passed() {
        let mut nonces = Nonces::default();
        nonces.record("k\nn1".into(), 1_000).unwrap();
        assert_eq!(nonces.record("k\nn1".into(), 2_000).unwrap_err().code, "E_NONCE_REUSED");
        nonces.record("k\nn2".into(), 2_000).unwrap();
        // Long after both could be accepted again by the clock check, they are forgotten.
        nonces.record("k\nn3".into(), 1_000 + 2 * MAX_CLOCK_SKEW_MS + 1).unwrap();
        assert!(!nonces.seen.contains_key("k\nn1"));
        assert!(nonces.seen.contains_key("k\nn2"));
    }
}
