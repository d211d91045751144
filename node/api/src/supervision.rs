//! The supervision stream: every committed event (business events of the
//! flows and evidence contracts, membership and contract changes of the
//! system contract) and every risk alert, in ledger order, pushed to
//! regulators over a WebSocket and resumable from a cursor.
//!
//! The same stream, narrowed to one party, is every participant's and
//! tenant's (`/v1/events`): the events of its own transactions and those
//! whose data names it.
//!
//! Each connection is its own task that reads committed blocks' receipts from
//! the store and follows the tip: a commit never waits on a consumer. A
//! consumer that does not take a frame within [`SEND_TIMEOUT`] (its socket's
//! buffers full) is told where to resume and disconnected.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use axum::{Extension, Json};
use billflow_chain::Chain;
use billflow_storage::StoreReader;
use billflow_types::view::{ErrorBody, EventPage, StreamEvent};
use serde::Deserialize;

use crate::Gateway;
use crate::auth::Subject;
use crate::error::ApiError;
use crate::interfaces::Interfaces;

/// How long one frame may wait for a consumer to take it.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// The close code that tells a consumer to reconnect from its cursor.
pub const CLOSE_RECONNECT: u16 = 4000;

/// A position in the ledger's order of events: block height, the
/// transaction's index in its block, the event's index in its receipt. A
/// stream opened `from` a cursor sends what comes after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Cursor {
    /// Block height.
    pub height: u64,
    /// Transaction index in the block.
    pub tx: u32,
    /// Event index in the receipt.
    pub event: u32,
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{}", self.height, self.tx, self.event)
    }
}

impl FromStr for Cursor {
    type Err = String;

    fn from_str(s: &str) -> Result<Cursor, String> {
        let bad =
            || format!("a cursor is HEIGHT-TX-EVENT (e.g. 12-0-3), got {:?}", s.chars().take(64).collect::<String>());
        let mut parts = s.split('-');
        let (Some(h), Some(t), Some(e), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        let digits = |p: &str| !p.is_empty() && p.len() <= 20 && p.bytes().all(|b| b.is_ascii_digit());
        if !(digits(h) && digits(t) && digits(e)) {
            return Err(bad());
        }
        Ok(Cursor {
            height: h.parse().map_err(|_| bad())?,
            tx: t.parse().map_err(|_| bad())?,
            event: e.parse().map_err(|_| bad())?,
        })
    }
}

/// What a stream asks for.
#[derive(Debug, Deserialize)]
pub(crate) struct StreamQuery {
    /// Resume after this cursor (absent: from the next block).
    from: Option<String>,
    /// Comma-separated topic prefixes (`bill.,risk.alert`); absent: all.
    types: Option<String>,
    /// Only events whose data names this participant.
    participant: Option<String>,
}

/// Which events a stream sends.
#[derive(Debug, Clone, Default)]
struct Filter {
    prefixes: Vec<String>,
    /// The participant's id as event data encodes a string (see [`named`]).
    participant: Option<Vec<Vec<u8>>>,
    /// Only the events of this party (a participant's or tenant's own stream).
    party: Option<Party>,
}

/// A party reading its own events: those of its own transactions (signed
/// with its key, or for a tenant key under its tenant) and those whose data
/// names it.
#[derive(Debug, Clone)]
struct Party {
    /// Its id, and the labels contracts write for it, encoded as in event data.
    name: Vec<Vec<u8>>,
    /// The key its requests are signed with.
    key: billflow_types::KeyId,
    /// The tenant whose every transaction is its own (a tenant's key).
    tenant: Option<billflow_types::TenantId>,
}

/// An identifier, and the labels contracts write for it, as event data
/// encodes a string (Borsh: its `u32` length, then its bytes), so that only
/// a whole identifier matches: `E1` is not found inside `E12` or `xE1`.
fn named(id: &str) -> Vec<Vec<u8>> {
    // Besides the id itself, the labels contracts write for a party: the
    // evidence contract's submitter (`participant:ID`, `tenant:ID`) and the
    // flows contract's custody account owner (`custody:ID`).
    ["", "participant:", "tenant:", "custody:"]
        .iter()
        .map(|prefix| {
            let label = format!("{prefix}{id}");
            let len = u32::try_from(label.len()).unwrap_or(u32::MAX);
            [&len.to_le_bytes()[..], label.as_bytes()].concat()
        })
        .collect()
}

fn names(data: &[u8], forms: &[Vec<u8>]) -> bool {
    forms.iter().any(|id| data.windows(id.len()).any(|w| w == id))
}

impl Filter {
    fn with_participant(mut self, id: &str) -> Filter {
        self.participant = Some(named(id));
        self
    }

    fn admits(&self, topic: &str, data: &[u8], tx: Option<&billflow_types::SignedTx>) -> bool {
        let topic_ok = self.prefixes.is_empty() || self.prefixes.iter().any(|p| topic.starts_with(p.as_str()));
        let participant_ok = self.participant.as_ref().is_none_or(|p| names(data, p));
        let party_ok = self.party.as_ref().is_none_or(|party| {
            let own = tx.is_some_and(|tx| {
                tx.tx.signer == party.key || (party.tenant.is_some() && tx.tx.tenant == party.tenant)
            });
            own || names(data, &party.name)
        });
        topic_ok && participant_ok && party_ok
    }
}

/// The party a participant's or tenant's key reads events as; an
/// organisation's administrator reads the supervision stream (regulators) or
/// transactions one by one instead.
fn party(subject: &Subject) -> Result<Party, ApiError> {
    subject.require()?;
    use billflow_types::system::Principal;
    match subject {
        Subject::Key { principal: Principal::Participant(id), key_id, .. } => {
            Ok(Party { name: named(id.as_str()), key: key_id.clone(), tenant: None })
        }
        Subject::Key { principal: Principal::Tenant(id), key_id, .. } => {
            Ok(Party { name: named(id.as_str()), key: key_id.clone(), tenant: Some(id.clone()) })
        }
        _ => Err(ApiError::forbidden(
            "E_NOT_A_PARTY",
            "events are read by participants' and tenants' keys; regulators read the supervision stream",
        )),
    }
}

/// Refuses anyone but a regulator's organisation key (before any upgrade).
pub(crate) fn require_regulator(gw: &Gateway, subject: &Subject) -> Result<(), ApiError> {
    subject.require()?;
    let org = match subject {
        Subject::Key { org: Some(org), principal: billflow_types::system::Principal::Admin(_), .. } => org.clone(),
        _ => return Err(ApiError::forbidden("E_NOT_REGULATOR", "only regulators' organisation keys may do this")),
    };
    if gw.chain.org_role(&org)? != Some(billflow_types::OrgRole::Regulator) {
        return Err(ApiError::forbidden("E_NOT_REGULATOR", format!("{org} is not a regulator")));
    }
    Ok(())
}

fn parse(q: StreamQuery, tip: u64) -> Result<(Cursor, Filter), ApiError> {
    let start = match q.from.as_deref() {
        Some(c) => c.parse::<Cursor>().map_err(|e| ApiError::bad_request("E_BAD_CURSOR", e))?,
        // Live: everything after the current tip.
        None => Cursor { height: tip, tx: u32::MAX, event: u32::MAX },
    };
    let mut filter = Filter::default();
    if let Some(types) = q.types.as_deref() {
        for p in types.split(',').filter(|p| !p.is_empty()) {
            if p.len() > 64 || !p.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(ApiError::bad_request("E_BAD_QUERY", "a type is 1 to 64 printable characters"));
            }
            filter.prefixes.push(p.to_string());
        }
    }
    if let Some(p) = q.participant.as_deref() {
        billflow_types::ParticipantId::new(p).map_err(|e| ApiError::bad_request("E_BAD_QUERY", e.to_string()))?;
        filter = filter.with_participant(p);
    }
    Ok((start, filter))
}

/// The events of one block after `after`, that `filter` admits.
fn block_events(
    store: &StoreReader,
    decode: (&Interfaces, &Chain),
    height: u64,
    after: Cursor,
    filter: &Filter,
) -> Result<Vec<StreamEvent>, ApiError> {
    // One read of the block files: the header's time and the receipts together.
    let Some(stored) = store.stored_block(height).map_err(ApiError::internal)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (ti, receipt) in stored.receipts.iter().enumerate() {
        let tx = stored.block.txs.get(ti);
        for (ei, event) in receipt.events.iter().enumerate() {
            let cursor = Cursor { height, tx: ti as u32, event: ei as u32 };
            if cursor <= after || !filter.admits(&event.topic, &event.data, tx) {
                continue;
            }
            out.push(StreamEvent {
                cursor: cursor.to_string(),
                height,
                tx_index: cursor.tx,
                event_index: cursor.event,
                time_ms: stored.block.header.proposed_at_ms,
                tx_id: receipt.tx_id.to_string(),
                refused: receipt.failure.is_some(),
                contract: event.contract.to_string(),
                topic: event.topic.clone(),
                data: hex::encode(&event.data),
                decoded: decode.0.event(decode.1, event),
            });
        }
    }
    Ok(out)
}

/// Supervision stream (WebSocket)
///
/// Upgrades to a WebSocket that pushes every committed event and risk alert
/// as JSON text frames (`StreamEvent`), in ledger order. Reconnect with
/// `from` = the last cursor received to get everything after it and nothing
/// twice; without `from` the stream starts after the current tip. A consumer
/// too slow to take a frame within 5 s is closed with code 4000 and the cursor
/// to resume from. Regulators' organisation keys only, checked before the
/// upgrade.
#[utoipa::path(
    get,
    path = "/v1/supervision/stream",
    tag = "supervision",
    params(
        ("from" = Option<String>, Query, description = "Resume after this cursor (HEIGHT-TX-EVENT)."),
        ("types" = Option<String>, Query, description = "Comma-separated topic prefixes, e.g. `bill.,risk.alert`."),
        ("participant" = Option<String>, Query, description = "Only events whose data names this participant."),
    ),
    responses(
        (status = 101, description = "Switching to the WebSocket: JSON text frames of `StreamEvent`."),
        (status = 400, description = "A bad cursor (`E_BAD_CURSOR`) or query, or not a WebSocket upgrade.", body = ErrorBody),
        (status = 401, description = "The request is not signed.", body = ErrorBody),
        (status = 403, description = "The signer is not a regulator (`E_NOT_REGULATOR`).", body = ErrorBody),
    ),
    security(("billflow_key" = [], "billflow_timestamp" = [], "billflow_nonce" = [], "billflow_signature" = [])),
)]
pub(crate) async fn stream(
    State(gw): State<Arc<Gateway>>,
    Extension(subject): Extension<Subject>,
    query: Result<Query<StreamQuery>, axum::extract::rejection::QueryRejection>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    require_regulator(&gw, &subject)?;
    open_stream(&gw, query, upgrade, None)
}

/// Opens a stream after the checks of who may read it: all events, or `party`'s.
fn open_stream(
    gw: &Gateway,
    query: Result<Query<StreamQuery>, axum::extract::rejection::QueryRejection>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
    party: Option<Party>,
) -> Result<Response, ApiError> {
    let q = crate::routes::parse_query(query)?;
    let (start, mut filter) = parse(q, gw.chain.tip().height)?;
    filter.party = party;
    let upgrade = upgrade.map_err(|e| ApiError::bad_request("E_NOT_WEBSOCKET", e.body_text()))?;
    let (chain, store, interfaces) = (gw.chain.clone(), gw.store.clone(), gw.interfaces.clone());
    Ok(upgrade.on_upgrade(move |socket| push(chain, store, interfaces, socket, start, filter)))
}

/// A party's events (WebSocket)
///
/// The supervision stream narrowed to the signer: the events of its own
/// transactions (signed with this key; for a tenant's key, every transaction
/// under its tenant) and the events whose data names it (a bill endorsed to
/// it, a discount request to its bank, a movement it must report), in ledger
/// order, with the same cursors: resume `from` the last one for everything
/// after it, nothing twice. Participants' and tenants' keys.
#[utoipa::path(
    get,
    path = "/v1/events/stream",
    tag = "supervision",
    params(
        ("from" = Option<String>, Query, description = "Resume after this cursor (HEIGHT-TX-EVENT)."),
        ("types" = Option<String>, Query, description = "Comma-separated topic prefixes, e.g. `bill.`."),
    ),
    responses(
        (status = 101, description = "Switching to the WebSocket: JSON text frames of `StreamEvent`."),
        (status = 400, description = "A bad cursor (`E_BAD_CURSOR`) or query, or not a WebSocket upgrade.", body = ErrorBody),
        (status = 401, description = "The request is not signed.", body = ErrorBody),
        (status = 403, description = "The signer is an organisation's administrator (`E_NOT_A_PARTY`).", body = ErrorBody),
    ),
    security(("billflow_key" = [], "billflow_timestamp" = [], "billflow_nonce" = [], "billflow_signature" = [])),
)]
pub(crate) async fn party_stream(
    State(gw): State<Arc<Gateway>>,
    Extension(subject): Extension<Subject>,
    query: Result<Query<StreamQuery>, axum::extract::rejection::QueryRejection>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let party = party(&subject)?;
    open_stream(&gw, query, upgrade, Some(party))
}

/// A party's events, a page at a time
///
/// `GET /v1/events/stream`'s events after `from` (without it: none yet, and
/// the cursor of the tip), at most 1000, with the cursor to ask from next.
/// Participants' and tenants' keys.
#[utoipa::path(
    get,
    path = "/v1/events",
    tag = "supervision",
    params(
        ("from" = Option<String>, Query, description = "After this cursor (HEIGHT-TX-EVENT)."),
        ("types" = Option<String>, Query, description = "Comma-separated topic prefixes."),
    ),
    responses(
        (status = 200, description = "Events and the next cursor.", body = EventPage),
        (status = 400, description = "A bad cursor (`E_BAD_CURSOR`) or query.", body = ErrorBody),
        (status = 401, description = "The request is not signed.", body = ErrorBody),
        (status = 403, description = "The signer is an organisation's administrator (`E_NOT_A_PARTY`).", body = ErrorBody),
    ),
    security(("billflow_key" = [], "billflow_timestamp" = [], "billflow_nonce" = [], "billflow_signature" = [])),
)]
pub(crate) async fn party_events(
    State(gw): State<Arc<Gateway>>,
    Extension(subject): Extension<Subject>,
    query: Result<Query<StreamQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<EventPage>, ApiError> {
    let party = party(&subject)?;
    events_page(&gw, query, Some(party))
}

/// Supervision events, a page at a time
///
/// The supervision stream's events after `from` (without it: none yet, and
/// the cursor of the tip), at most 1000, with the cursor to ask from next:
/// the same events and cursors as the WebSocket, for clients that poll.
/// Regulators' organisation keys only.
#[utoipa::path(
    get,
    path = "/v1/supervision/events",
    tag = "supervision",
    params(
        ("from" = Option<String>, Query, description = "After this cursor (HEIGHT-TX-EVENT)."),
        ("types" = Option<String>, Query, description = "Comma-separated topic prefixes."),
        ("participant" = Option<String>, Query, description = "Only events whose data names this participant."),
    ),
    responses(
        (status = 200, description = "Events and the next cursor.", body = EventPage),
        (status = 400, description = "A bad cursor (`E_BAD_CURSOR`) or query.", body = ErrorBody),
        (status = 401, description = "The request is not signed.", body = ErrorBody),
        (status = 403, description = "The signer is not a regulator (`E_NOT_REGULATOR`).", body = ErrorBody),
    ),
    security(("billflow_key" = [], "billflow_timestamp" = [], "billflow_nonce" = [], "billflow_signature" = [])),
)]
pub(crate) async fn events(
    State(gw): State<Arc<Gateway>>,
    Extension(subject): Extension<Subject>,
    query: Result<Query<StreamQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<EventPage>, ApiError> {
    require_regulator(&gw, &subject)?;
    events_page(&gw, query, None)
}

/// A page of events after the checks of who may read them: all, or `party`'s.
fn events_page(
    gw: &Gateway,
    query: Result<Query<StreamQuery>, axum::extract::rejection::QueryRejection>,
    party: Option<Party>,
) -> Result<Json<EventPage>, ApiError> {
    let q = crate::routes::parse_query(query)?;
    let (mut after, mut filter) = parse(q, gw.chain.tip().height)?;
    filter.party = party;
    let tip = gw.chain.tip().height;
    let mut events = Vec::new();
    let mut height = after.height.max(1);
    while height <= tip && events.len() < 1000 {
        for e in block_events(&gw.store, (&gw.interfaces, &gw.chain), height, after, &filter)? {
            if events.len() == 1000 {
                break;
            }
            events.push(e);
        }
        height += 1;
    }
    if let Some(last) = events.last() {
        after = last.cursor.parse().unwrap_or(after);
    } else if after.height < tip {
        after = Cursor { height: tip, tx: u32::MAX, event: u32::MAX };
    }
    Ok(Json(EventPage { events, next: after.to_string() }))
}

/// Sends `frame`; false if the consumer is gone or too slow (then told where to resume).
async fn send(socket: &mut WebSocket, frame: String, resume: Cursor) -> bool {
    match tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Text(frame.into()))).await {
        Ok(Ok(())) => true,
        Ok(Err(_)) => false,
        Err(_) => {
            let close =
                CloseFrame { code: CLOSE_RECONNECT, reason: format!("too slow: reconnect from {resume}").into() };
            let _ = tokio::time::timeout(Duration::from_secs(1), socket.send(Message::Close(Some(close)))).await;
            false
        }
    }
}

async fn push(
    chain: Chain,
    store: StoreReader,
    interfaces: Arc<Interfaces>,
    mut socket: WebSocket,
    start: Cursor,
    filter: Filter,
) {
    let mut tip = chain.subscribe_tip();
    let mut after = start;
    let mut height = start.height.max(1);
    loop {
        let top = chain.tip().height;
        while height <= top {
            let events = match block_events(&store, (&interfaces, &chain), height, after, &filter) {
                Ok(events) => events,
                Err(_) => {
                    // `ApiError::internal` has logged why.
                    tracing::error!(height, "the supervision stream cannot read a block; closing it");
                    return;
                }
            };
            for event in events {
                let cursor = event.cursor.parse().unwrap_or(after);
                let Ok(frame) = serde_json::to_string(&event) else { return };
                if !send(&mut socket, frame, after).await {
                    return;
                }
                after = cursor;
            }
            height += 1;
        }
        tokio::select! {
            changed = tip.changed() => if changed.is_err() { return },
            message = socket.recv() => match message {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_parse_print_and_order() {
        let c: Cursor = "12-0-3".parse().unwrap();
        assert_eq!(c, Cursor { height: 12, tx: 0, event: 3 });
        assert_eq!(c.to_string(), "12-0-3");
        assert!(Cursor { height: 12, tx: 1, event: 0 } > c);
        for bad in ["", "12", "12-0", "12-0-3-4", "a-0-0", "-1-0-0", "12-0-", "1 -0-0", "99999999999999999999999-0-0"] {
            assert!(bad.parse::<Cursor>().is_err(), "{bad}");
        }
    }

    #[test]
    fn filters_by_topic_prefix_and_whole_participant_ids() {
        let data = |fields: &[&str]| borsh::to_vec(&fields.iter().map(|f| f.to_string()).collect::<Vec<_>>()).unwrap();
        let f =
            Filter { prefixes: vec!["bill.".into(), "risk.alert".into()], ..Filter::default() }.with_participant("E1");
        assert!(f.admits("bill.changed", &data(&["B1", "E1"]), None));
        assert!(f.admits("risk.alert", &data(&["E1"]), None));
        assert!(!f.admits("fund.movement", &data(&["E1"]), None), "another topic");
        assert!(!f.admits("bill.changed", &data(&["E2"]), None));
        for near in ["E12", "xE1", "E1 ", "e1", "1E1", "E1E1"] {
            assert!(!f.admits("bill.changed", &data(&[near]), None), "{near} is not E1");
        }
        assert!(f.admits("bill.changed", &data(&["E12", "E1"]), None), "E1 beside E12");
        let evidence = Filter::default().with_participant("E1");
        assert!(evidence.admits("evidence.submitted", &data(&["participant:E1"]), None), "the submitter's label");
        assert!(!evidence.admits("evidence.submitted", &data(&["participant:E12"]), None));
        assert!(Filter::default().admits("anything", b"", None));
    }

    #[test]
    fn a_party_gets_the_events_of_its_own_transactions_and_those_that_name_it() {
        use billflow_types::dev::{DEV_TENANT, dev_key};
        let data = |fields: &[&str]| borsh::to_vec(&fields.iter().map(|f| f.to_string()).collect::<Vec<_>>()).unwrap();
        let tx = |signer: &str, tenant: Option<&str>| {
            billflow_types::Tx {
                chain_id: "c".parse().unwrap(),
                tx_id: "t1".parse().unwrap(),
                tenant: tenant.map(|t| t.parse().unwrap()),
                signer: signer.parse().unwrap(),
                contract: "flows".parse().unwrap(),
                version: billflow_types::Version::new(1, 0, 0),
                method: "m".parse().unwrap(),
                args: Vec::new(),
                timestamp_ms: 0,
            }
            .sign(&dev_key(DEV_TENANT.1))
        };
        let enterprise = Filter {
            party: Some(Party { name: named("E1"), key: "e1.k1".parse().unwrap(), tenant: None }),
            ..Filter::default()
        };
        let by_other = tx("e2.k1", Some("acme"));
        assert!(enterprise.admits("bill.endorsed", &data(&["E2", "E1"]), Some(&by_other)), "names it");
        assert!(!enterprise.admits("bill.endorsed", &data(&["E2", "E12"]), Some(&by_other)), "names E12 only");
        assert!(enterprise.admits("bill.issued", &data(&["E3"]), Some(&tx("e1.k1", Some("acme")))), "its own");
        let platform = Filter {
            party: Some(Party {
                name: named("acme"),
                key: "acme.k1".parse().unwrap(),
                tenant: Some("acme".parse().unwrap()),
            }),
            ..Filter::default()
        };
        assert!(platform.admits("bill.issued", &data(&["E3"]), Some(&by_other)), "under its tenant");
        assert!(!platform.admits("bill.issued", &data(&["E3"]), Some(&tx("e9.k1", Some("other")))), "another tenant's");
    }
}
