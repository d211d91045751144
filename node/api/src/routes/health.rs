//! The node itself: its network, health, readiness and metrics.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use billflow_types::view::{ErrorBody, Health, NetworkView, Readiness};

use super::Gw;
use crate::error::ApiError;
use crate::metrics::Exposition;

/// The network as this node sees it
///
/// This node, its libp2p peer id and the consensus leader it knows of (both
/// absent on a standalone node), and every other member with its role and
/// whether it is connected.
#[utoipa::path(
    get,
    path = "/v1/network",
    tag = "node",
    responses((status = 200, description = "The network as this node sees it.", body = NetworkView)),
)]
pub(crate) async fn network_view(State(gw): Gw) -> Json<NetworkView> {
    match &gw.network {
        Some(n) => Json(n.view().await),
        None => Json(NetworkView {
            node_id: gw.chain.node_id().to_string(),
            peer_id: None,
            org: None,
            role: None,
            leader: None,
            voters: Vec::new(),
            peers: Vec::new(),
        }),
    }
}

/// The node's health
///
/// Its chain, committed height and tip, and how many transactions are pending.
#[utoipa::path(
    get,
    path = "/v1/health",
    tag = "node",
    responses((status = 200, description = "The node is up.", body = Health)),
)]
pub(crate) async fn health(State(gw): Gw) -> Json<Health> {
    let tip = gw.chain.tip();
    Json(Health {
        status: "ok".into(),
        chain_id: gw.chain.executor().chain_id().clone(),
        node_id: gw.chain.node_id().to_string(),
        height: tip.height,
        tip_hash: tip.hash,
        pending: gw.chain.pending(),
    })
}

/// How far behind the highest height a member reports a node may be and still take traffic.
const READY_LAG_BLOCKS: u64 = 20;

/// Whether the node should receive traffic
///
/// Ready when it knows the consensus leader and its committed height is
/// within 20 blocks of the highest a connected member reports. A node alone
/// (no network) is ready once it runs. For load balancers and orchestrators:
/// `/v1/health` says the process answers, this says it is in step. Not
/// ready is a 503 `E_NOT_READY` whose message says why.
#[utoipa::path(
    get,
    path = "/v1/ready",
    tag = "node",
    responses(
        (status = 200, description = "Ready for traffic.", body = Readiness),
        (status = 503, description = "Not ready (`E_NOT_READY`): the message says why.", body = ErrorBody),
    ),
)]
pub(crate) async fn ready(State(gw): Gw) -> Result<Json<Readiness>, ApiError> {
    let height = gw.chain.tip().height;
    let Some(network) = &gw.network else {
        return Ok(Json(Readiness {
            ready: true,
            height,
            highest_peer_height: None,
            leader: None,
            connected_peers: 0,
        }));
    };
    let view = network.view().await;
    let connected: Vec<_> = view.peers.iter().filter(|p| p.connected).collect();
    let highest = connected.iter().filter_map(|p| p.height).max();
    let not_ready =
        |message: String| ApiError { status: StatusCode::SERVICE_UNAVAILABLE, code: "E_NOT_READY".into(), message };
    match (&view.leader, highest) {
        (None, _) => Err(not_ready(format!("no consensus leader known (height {height})"))),
        (Some(_), Some(h)) if h > height + READY_LAG_BLOCKS => {
            Err(not_ready(format!("catching up: height {height}, a member reports {h}")))
        }
        _ => Ok(Json(Readiness {
            ready: true,
            height,
            highest_peer_height: highest,
            leader: view.leader.clone(),
            connected_peers: u32::try_from(connected.len()).unwrap_or(u32::MAX),
        })),
    }
}

/// Prometheus metrics
///
/// Requests by route and status, their latency, the committed height and the
/// pending transactions: in Prometheus's classic text format, or in
/// OpenMetrics when the `Accept` header names `application/openmetrics-text`.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "node",
    responses(
        (status = 200, description = "The metrics.", content(
            (String = "text/plain; version=0.0.4"),
            (String = "application/openmetrics-text; version=1.0.0"),
        )),
    ),
)]
pub(crate) async fn metrics(State(gw): Gw, headers: HeaderMap) -> Response {
    let network = match &gw.network {
        Some(n) => {
            let view = n.view().await;
            Some(crate::metrics::NetworkGauges {
                peers: view.peers.iter().filter(|p| p.connected).count(),
                leader_known: view.leader.is_some(),
            })
        }
        None => None,
    };
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let format = Exposition::from_accept(accept);
    let body = gw.metrics.render(gw.chain.tip().height, gw.chain.pending(), network, format);
    ([(header::CONTENT_TYPE, format.content_type())], body).into_response()
}
