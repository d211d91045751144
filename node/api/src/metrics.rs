//! Prometheus metrics of the gateway and the ledger, at `GET /metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// The gateway's metrics.
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    height: Gauge,
    pending: Gauge,
    commit: Histogram,
    txs: Family<OutcomeLabels, Counter>,
    fuel: Histogram,
    peers: Gauge,
    leader: Gauge,
}

/// What the network adds to the exposition.
pub(crate) struct NetworkGauges {
    /// Members connected now.
    pub peers: usize,
    /// Whether a consensus leader is known.
    pub leader_known: bool,
}

impl Metrics {
    pub(crate) fn new() -> Metrics {
        let mut registry = Registry::with_prefix("billflow");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "Gateway requests by route and status", requests.clone());
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        registry.register("http_request_seconds", "Gateway request latency by route", latency.clone());
        let height = Gauge::default();
        registry.register("block_height", "Height of the newest committed block", height.clone());
        let pending = Gauge::default();
        registry.register("mempool_pending", "Transactions waiting to be committed", pending.clone());
        let commit = Histogram::new(exponential_buckets(0.001, 2.0, 14));
        registry.register("block_commit_seconds", "From a block's proposal to its commit on this node", commit.clone());
        let txs = Family::<OutcomeLabels, Counter>::default();
        registry.register("transactions", "Transactions committed, by outcome (success, failed)", txs.clone());
        let fuel = Histogram::new(exponential_buckets(1_000.0, 4.0, 12));
        registry.register("transaction_fuel", "Fuel used by each committed transaction", fuel.clone());
        let peers = Gauge::default();
        registry.register("peers_connected", "Consortium members connected now", peers.clone());
        let leader = Gauge::default();
        registry.register("leader_known", "1 when a consensus leader is known, else 0", leader.clone());
        Metrics { registry, requests, latency, height, pending, commit, txs, fuel, peers, leader }
    }

    /// Counts a committed block: its commit latency (`now_ms` against its
    /// proposal time) and each transaction's outcome and fuel.
    pub(crate) fn block(&self, block: &billflow_types::Block, receipts: &[billflow_types::Receipt], now_ms: u64) {
        self.commit.observe(now_ms.saturating_sub(block.header.proposed_at_ms) as f64 / 1000.0);
        for r in receipts {
            let outcome = if r.status == billflow_types::TxStatus::Success { "success" } else { "failed" };
            self.txs.get_or_create(&OutcomeLabels { outcome }).inc();
            self.fuel.observe(r.fuel_used as f64);
        }
    }

    /// Counts one request.
    pub(crate) fn request(&self, route: &str, status: u16, seconds: f64) {
        self.requests.get_or_create(&RequestLabels { route: route.into(), status }).inc();
        self.latency.get_or_create(&RouteLabels { route: route.into() }).observe(seconds);
    }

    /// The text exposition, with the ledger's gauges as of now.
    pub(crate) fn render(&self, height: u64, pending: usize, network: Option<NetworkGauges>) -> String {
        self.height.set(i64::try_from(height).unwrap_or(i64::MAX));
        self.pending.set(i64::try_from(pending).unwrap_or(i64::MAX));
        if let Some(n) = network {
            self.peers.set(i64::try_from(n.peers).unwrap_or(i64::MAX));
            self.leader.set(i64::from(n.leader_known));
        }
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}
