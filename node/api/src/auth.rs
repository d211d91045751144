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
//!
//! A signed `POST /v1/sessions` opens a session: a short-lived random token
//! that the same key's holder sends from the same address instead of signing
//! each request ([`HEADER_SESSION`]), so that a read costs a lookup, not an
//! ed25519 check. Each use checks the key again (a revoked key's sessions end
//! with it); a session ends after [`SESSION_TTL_MS`] or when closed.
//!
//! A submission (`POST /v1/transactions`, `/v1/transactions/batch`) needs no
//! request signature: the transaction's own signature, over its chain id,
//! unique id and time, authenticates it, and admission checks that signature
//! once ([`Subject::submitting`]). Its subject is then the transaction's
//! signer, and its rate counts against that signer's tenant or organisation.
//! A signed submission is still accepted: then the request's signer relays the
//! transaction, and a tenant may relay only its own tenant's.

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
    HEADER_KEY, HEADER_NONCE, HEADER_SESSION, HEADER_SIGNATURE, HEADER_TIMESTAMP, MAX_CLOCK_SKEW_MS, request_message,
    valid_nonce, verify_request,
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
        /// The client's address, if known.
        addr: Option<IpAddr>,
    },
}

impl Subject {
    /// The client's address, if known.
    pub fn addr(&self) -> Option<IpAddr> {
        match self {
            Subject::Anonymous { addr } | Subject::Key { addr, .. } => *addr,
        }
    }

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
        self.sees_every_tx()
            || matches!(self, Subject::Key { tenant: Some(tenant), .. } if tx.tx.tenant.as_ref() == Some(tenant))
    }

    /// Whether the subject sees every transaction (a consortium organisation's key).
    pub fn sees_every_tx(&self) -> bool {
        matches!(self, Subject::Key { org: Some(_), .. })
    }

    /// Who submits a transaction signed by `signer`: the request's signer if
    /// the request is signed (or under a session); for an unsigned
    /// submission, the transaction's signer, whose key must be active, and
    /// whose rate the submission counts against. The transaction's signature
    /// itself is checked at admission, once.
    pub(crate) fn submitting(&self, gw: &Gateway, signer: &KeyId) -> Result<Subject, ApiError> {
        match self {
            Subject::Key { .. } => Ok(self.clone()),
            Subject::Anonymous { addr } => {
                let subject = key_subject(gw, signer.clone(), *addr)?;
                gw.auth.check_rate(&subject)?;
                Ok(subject)
            }
        }
    }

    /// Whether the subject may relay `tx` (a signed submission): a tenant (or
    /// its enterprise) only transactions under its own tenant. An unsigned
    /// submission needs no such check: admission refuses a key acting under
    /// another tenant than its own (`E_TENANT_MISMATCH`).
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

/// How long a session lasts: 10 minutes.
pub const SESSION_TTL_MS: u64 = 600_000;
/// The most sessions open at once for one key; opening another ends the oldest.
const MAX_SESSIONS_PER_KEY: usize = 16;
/// The most sessions open at once on a gateway.
const MAX_SESSIONS: usize = 100_000;

/// An open session.
struct Session {
    key_id: KeyId,
    addr: Option<IpAddr>,
    expires_ms: u64,
}

/// Open sessions by token.
#[derive(Default)]
struct Sessions {
    open: HashMap<String, Session>,
}

impl Sessions {
    /// Opens a session for `key_id` from `addr`: its token.
    fn open(&mut self, key_id: &KeyId, addr: Option<IpAddr>, now: u64) -> Result<(String, u64), ApiError> {
        self.open.retain(|_, s| s.expires_ms > now);
        let mut own: Vec<(u64, String)> =
            self.open.iter().filter(|(_, s)| s.key_id == *key_id).map(|(t, s)| (s.expires_ms, t.clone())).collect();
        if own.len() >= MAX_SESSIONS_PER_KEY {
            own.sort();
            self.open.remove(&own[0].1);
        }
        if self.open.len() >= MAX_SESSIONS {
            return Err(ApiError {
                status: axum::http::StatusCode::SERVICE_UNAVAILABLE,
                code: "E_BUSY".into(),
                message: "too many open sessions; sign each request, or retry later".into(),
            });
        }
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(ApiError::internal)?;
        let token = hex::encode(bytes);
        let expires_ms = now + SESSION_TTL_MS;
        self.open.insert(token.clone(), Session { key_id: key_id.clone(), addr, expires_ms });
        Ok((token, expires_ms))
    }

    /// The key of the session `token` used from `addr`.
    fn key(&self, token: &str, addr: Option<IpAddr>, now: u64) -> Result<KeyId, ApiError> {
        let unknown = || {
            ApiError::unauthenticated(
                "E_UNKNOWN_SESSION",
                "no such session: it expired, was closed, or was opened elsewhere",
            )
        };
        let session = self.open.get(token).filter(|s| s.expires_ms > now).ok_or_else(unknown)?;
        if session.addr != addr {
            return Err(unknown());
        }
        Ok(session.key_id.clone())
    }
}

/// Authentication state of one gateway.
pub(crate) struct Auth {
    nonces: Mutex<Nonces>,
    sessions: Mutex<Sessions>,
    limiter: DefaultKeyedRateLimiter<String>,
    rate_per_s: u32,
}

impl Auth {
    pub(crate) fn new(config: &ApiConfig) -> Auth {
        let per_s = NonZeroU32::new(config.rate_per_s.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(config.rate_burst.max(config.rate_per_s).max(1)).unwrap_or(NonZeroU32::MIN);
        Auth {
            nonces: Mutex::new(Nonces::default()),
            sessions: Mutex::new(Sessions::default()),
            limiter: RateLimiter::keyed(Quota::per_second(per_s).allow_burst(burst)),
            rate_per_s: config.rate_per_s,
        }
    }

    /// Counts one request against `subject`'s rate: `429 E_RATE_LIMITED` beyond it.
    fn check_rate(&self, subject: &Subject) -> Result<(), ApiError> {
        self.limiter.check_key(&subject.rate_key()).map_err(|_| ApiError {
            status: axum::http::StatusCode::TOO_MANY_REQUESTS,
            code: "E_RATE_LIMITED".into(),
            message: format!("more than {} requests a second from {}", self.rate_per_s, subject.rate_key()),
        })
    }

    /// Forgets idle rate-limit buckets and expired sessions.
    pub(crate) fn tidy(&self) {
        self.limiter.retain_recent();
        let now = now_ms();
        self.lock_sessions().open.retain(|_, s| s.expires_ms > now);
    }

    fn lock_sessions(&self) -> std::sync::MutexGuard<'_, Sessions> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Opens a session for the signer of this request: its token and expiry.
    pub(crate) fn open_session(&self, subject: &Subject) -> Result<(String, u64), ApiError> {
        let Subject::Key { key_id, .. } = subject else {
            return Err(ApiError::unauthenticated("E_UNAUTHENTICATED", "a session is opened by a signed request"));
        };
        self.lock_sessions().open(key_id, subject.addr(), now_ms())
    }

    /// Closes session `token` (if it is the caller's).
    pub(crate) fn close_session(&self, token: &str, subject: &Subject) {
        let mut sessions = self.lock_sessions();
        if let Subject::Key { key_id, .. } = subject
            && sessions.open.get(token).is_some_and(|s| s.key_id == *key_id)
        {
            sessions.open.remove(token);
        }
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
            // A submission's handler names the transaction's signer itself.
            if resp.extensions().get::<Subject>().is_none() {
                resp.extensions_mut().insert(subject);
            }
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
    let subject = verify(gw, &parts, &body, addr).map_err(|e| (e, Some(anonymous.clone())))?.unwrap_or(anonymous);
    // An unsigned submission counts against its transactions' signers, once
    // the handler knows them (`Subject::submitting`).
    let unsigned_submission = !subject.is_authenticated() && is_submission(&parts);
    if !unsigned_submission && let Err(e) = gw.auth.check_rate(&subject) {
        return Err((e, Some(subject)));
    }
    parts.extensions.insert(subject.clone());
    Ok((Request::from_parts(parts, Body::from(body)), subject))
}

/// Whether the request submits transactions (authenticated by their own signatures).
fn is_submission(parts: &axum::http::request::Parts) -> bool {
    parts.method == axum::http::Method::POST
        && matches!(parts.uri.path(), "/v1/transactions" | "/v1/transactions/batch")
}

/// `None`: no signature headers at all.
fn verify(
    gw: &Gateway,
    parts: &axum::http::request::Parts,
    body: &[u8],
    addr: Option<IpAddr>,
) -> Result<Option<Subject>, ApiError> {
    let h = &parts.headers;
    let fields =
        [header(h, HEADER_KEY)?, header(h, HEADER_TIMESTAMP)?, header(h, HEADER_NONCE)?, header(h, HEADER_SIGNATURE)?];
    let [Some(key_id), Some(timestamp), Some(nonce), Some(signature)] = fields else {
        if fields.iter().all(Option::is_none) {
            return match header(h, HEADER_SESSION)? {
                Some(token) => {
                    let key_id = gw.auth.lock_sessions().key(token, addr, now_ms())?;
                    key_subject(gw, key_id, addr).map(Some)
                }
                None => Ok(None),
            };
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
    let record = active_key(gw, &key_id)?;
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
    subject_of(gw, key_id, record, addr).map(Some)
}

/// The record of `key_id`, if it is registered and not revoked.
fn active_key(gw: &Gateway, key_id: &KeyId) -> Result<KeyRecord, ApiError> {
    let key = state_key(RecordKind::Key, key_id.as_str());
    let record = gw.store.state_get(&system_contract(), &key).map_err(ApiError::internal)?;
    let Some(record) = record.and_then(|b| KeyRecord::decode(&b).ok()) else {
        return Err(ApiError::unauthenticated("E_UNKNOWN_KEY", format!("key {key_id} is not registered")));
    };
    if let KeyStatus::Revoked { at_height } = record.status {
        return Err(ApiError::unauthenticated(
            "E_KEY_REVOKED",
            format!("key {key_id} was revoked at height {at_height}"),
        ));
    }
    Ok(record)
}

/// The subject of active key `key_id`, as the ledger has it now.
fn key_subject(gw: &Gateway, key_id: KeyId, addr: Option<IpAddr>) -> Result<Subject, ApiError> {
    let record = active_key(gw, &key_id)?;
    subject_of(gw, key_id, record, addr)
}

fn subject_of(gw: &Gateway, key_id: KeyId, record: KeyRecord, addr: Option<IpAddr>) -> Result<Subject, ApiError> {
    let store = &gw.store;
    let system = system_contract();
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
    Ok(Subject::Key { key_id, principal: record.owner, tenant, org, addr })
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
