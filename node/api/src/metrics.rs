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
    audit_failures: Counter,
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
        let audit_failures = Counter::default();
        registry.register(
            "audit_write_failures",
            "Audit entries that could not be made durable (their answers went out; see the node's log)",
            audit_failures.clone(),
        );
        Metrics { registry, requests, latency, height, pending, commit, txs, fuel, peers, leader, audit_failures }
    }

    /// Counts a committed block: its commit latency (`now_ms` against its
    /// proposal time) and each transaction's outcome and fuel.
    pub(crate) fn block(&self, block: &billflow_chain::CommittedBlock, now_ms: u64) {
        self.commit.observe(now_ms.saturating_sub(block.proposed_at_ms) as f64 / 1000.0);
        for &(status, fuel) in &block.outcomes {
            let outcome = if status == billflow_types::TxStatus::Success { "success" } else { "failed" };
            self.txs.get_or_create(&OutcomeLabels { outcome }).inc();
            self.fuel.observe(fuel as f64);
        }
    }

    /// Counts an audit entry that could not be made durable.
    pub(crate) fn audit_failed(&self) {
        self.audit_failures.inc();
    }

    /// Counts one request.
    pub(crate) fn request(&self, route: &str, status: u16, seconds: f64) {
        self.requests.get_or_create(&RequestLabels { route: route.into(), status }).inc();
        self.latency.get_or_create(&RouteLabels { route: route.into() }).observe(seconds);
    }

    /// The exposition in `format`, with the ledger's gauges as of now.
    pub(crate) fn render(
        &self,
        height: u64,
        pending: usize,
        network: Option<NetworkGauges>,
        format: Exposition,
    ) -> String {
        self.height.set(i64::try_from(height).unwrap_or(i64::MAX));
        self.pending.set(i64::try_from(pending).unwrap_or(i64::MAX));
        if let Some(n) = network {
            self.peers.set(i64::try_from(n.peers).unwrap_or(i64::MAX));
            self.leader.set(i64::from(n.leader_known));
        }
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        match format {
            Exposition::OpenMetrics => out,
            Exposition::Classic => classic(&out),
        }
    }
}

/// The two text formats a scraper may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exposition {
    /// OpenMetrics 1.0 (`application/openmetrics-text`), asked for by name.
    OpenMetrics,
    /// Prometheus's classic text format 0.0.4 (`text/plain`), the default.
    Classic,
}

impl Exposition {
    /// The format an `Accept` header asks for: OpenMetrics when it names it.
    pub(crate) fn from_accept(accept: Option<&str>) -> Exposition {
        match accept {
            Some(a) if a.contains("application/openmetrics-text") => Exposition::OpenMetrics,
            _ => Exposition::Classic,
        }
    }

    /// The content type of a body in this format.
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Exposition::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Exposition::Classic => "text/plain; version=0.0.4; charset=utf-8",
        }
    }
}

/// The classic text format of an OpenMetrics exposition (all that
/// prometheus-client writes). The two differ in what a counter's `HELP` and
/// `TYPE` lines name: the family (`x`) in OpenMetrics, the `x_total` samples in
/// the classic format. The OpenMetrics-only lines (`# UNIT`, a counter's
/// `_created` samples, `# EOF`) are left out; everything else is the same.
fn classic(openmetrics: &str) -> String {
    let counters: Vec<&str> =
        openmetrics.lines().filter_map(|l| l.strip_prefix("# TYPE ")?.strip_suffix(" counter")).collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let meta = ["# HELP ", "# TYPE "].into_iter().find_map(|p| Some((p, line.strip_prefix(p)?)));
        if let Some((prefix, rest)) = meta {
            let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
            if counters.contains(&name) {
                out.push_str(&format!("{prefix}{name}_total {tail}\n"));
                continue;
            }
        } else if !line.starts_with('#') {
            let sample = line.split(['{', ' ']).next().unwrap_or_default();
            if sample.strip_suffix("_created").is_some_and(|family| counters.contains(&family)) {
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::process::{Command, Stdio};

    use super::*;

    fn exposition(format: Exposition) -> String {
        let metrics = Metrics::new();
        metrics.request("/v1/health", 200, 0.003);
        metrics.request("/v1/blocks/{height}", 404, 0.001);
        metrics.render(7, 2, Some(NetworkGauges { peers: 2, leader_known: true }), format)
    }

    #[test]
    fn the_classic_format_names_counters_by_their_samples() {
        let classic = exposition(Exposition::Classic);
        assert!(classic.contains("# TYPE billflow_http_requests_total counter\n"), "{classic}");
        assert!(classic.contains("# HELP billflow_http_requests_total Gateway requests"), "{classic}");
        assert!(classic.contains("billflow_http_requests_total{route=\"/v1/health\",status=\"200\"} 1"), "{classic}");
        assert!(classic.contains("billflow_block_height 7\n"), "{classic}");
        assert!(!classic.contains("# EOF") && !classic.contains("# UNIT"), "{classic}");
        let open = exposition(Exposition::OpenMetrics);
        assert!(open.contains("# TYPE billflow_http_requests counter\n") && open.ends_with("# EOF\n"), "{open}");
    }

    /// Prometheus's own linter reads the classic exposition without a complaint
    /// (promtool, from Debian's `prometheus` package, which the README's test
    /// command installs).
    #[test]
    fn promtool_accepts_the_classic_exposition() {
        let mut child = match Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(child) => child,
            Err(e) => panic!("promtool is needed (apt-get install prometheus): {e}"),
        };
        let body = exposition(Exposition::Classic);
        child.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success() && said.trim().is_empty(), "promtool: {said}\n{body}");
    }
}
