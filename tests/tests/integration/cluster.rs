//! A running consortium of node processes, for the replication suites.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use billflow_genesis::init::InitOutput;
use billflow_sdk::types::view::NetworkView;
use billflow_sdk::types::{ChainParams, OrgRole};
use billflow_sdk::{Client, Signer};
use billflow_tests::netns::Fabric;
use billflow_tests::proxy::LinkProxy;
use billflow_tests::{NodeProcess, consortium_on, consortium_with, route_through_proxies};

pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub out: InitOutput,
    pub nodes: Vec<Option<NodeProcess>>,
    pub links: HashMap<(usize, usize), LinkProxy>,
    /// With [`Cluster::start_in_namespaces`]: each node's host.
    pub fabric: Option<Fabric>,
}

pub const VOTERS_AND_OBSERVER: [(&str, OrgRole); 4] = [
    ("notary-a", OrgRole::Notary),
    ("bank-b", OrgRole::Bank),
    ("notary-c", OrgRole::Notary),
    ("regulator-d", OrgRole::Regulator),
];

impl Cluster {
    pub async fn start(
        orgs: &[(&str, OrgRole)],
        params: ChainParams,
        proxies: bool,
        snapshot_every: Option<u64>,
    ) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let mut out = consortium_with(dir.path(), orgs, params).unwrap();
        let links = if proxies { route_through_proxies(&mut out).await.unwrap() } else { HashMap::new() };
        if let Some(every) = snapshot_every {
            for (config, path) in &mut out.nodes {
                config.snapshot_every = Some(every);
                std::fs::write(&*path, config.to_toml()).unwrap();
            }
        }
        let nodes = out.nodes.iter().map(|(_, p)| Some(NodeProcess::start_configured(p).unwrap())).collect();
        Cluster { dir, out, nodes, links, fabric: None }
    }

    /// A cluster whose nodes each run in a network namespace of their own, as
    /// on separate hosts joined by a switch (needs root).
    pub async fn start_in_namespaces(orgs: &[(&str, OrgRole)], params: ChainParams) -> Cluster {
        let fabric = Fabric::new(orgs.len()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut out = consortium_on(dir.path(), orgs, params, fabric.addresses()).unwrap();
        let at: Vec<_> = fabric.addresses().iter().map(|a| (a.parse().unwrap(), 7100, 7101)).collect();
        out.place(&at).unwrap();
        let nodes = out
            .nodes
            .iter()
            .enumerate()
            .map(|(k, (_, p))| Some(NodeProcess::start_configured_in(p, Some(&fabric.namespace(k))).unwrap()))
            .collect();
        Cluster { dir, out, nodes, links: HashMap::new(), fabric: Some(fabric) }
    }

    pub fn name(&self, i: usize) -> String {
        match self.out.nodes.get(i) {
            Some((config, _)) => config.node_id.to_string(),
            None => format!("node-{i}"),
        }
    }

    /// A client of node `i`, signing as the consortium's demo tenant.
    pub fn client(&self, i: usize) -> Client {
        self.nodes[i].as_ref().expect("node is running").client_as(&self.tenant())
    }

    /// The consortium's demo tenant.
    pub fn tenant(&self) -> Signer {
        let (tenant, key_id, path) = &self.out.tenant_keys[0];
        Signer {
            chain_id: self.out.genesis.chain_id.clone(),
            tenant: Some(tenant.clone()),
            key_id: key_id.clone(),
            secret: billflow_genesis::keys::read_key(path).unwrap(),
        }
    }

    pub fn alive(&self) -> Vec<usize> {
        (0..self.nodes.len()).filter(|i| self.nodes[*i].is_some()).collect()
    }

    pub async fn view(&self, i: usize) -> Option<NetworkView> {
        let client = self.nodes[i].as_ref()?.client();
        tokio::time::timeout(Duration::from_secs(5), client.network()).await.ok()?.ok()
    }

    /// The leader all of `among` agree on, if they do.
    pub async fn agreed_leader(&self, among: &[usize]) -> Option<usize> {
        let mut leader = None;
        for &i in among {
            let l = self.view(i).await?.leader?;
            if leader.is_some_and(|x: String| x != l) {
                return None;
            }
            leader = Some(l);
        }
        let l = leader?;
        (0..self.nodes.len()).find(|j| self.name(*j) == l)
    }

    pub async fn wait_leader(&self, among: &[usize], within: Duration) -> usize {
        let deadline = Instant::now() + within;
        loop {
            if let Some(l) = self.agreed_leader(among).await {
                if among.contains(&l) {
                    return l;
                }
            }
            assert!(Instant::now() < deadline, "no agreed leader among {among:?} within {within:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn height(&self, i: usize) -> u64 {
        self.client(i).health().await.map(|h| h.height).unwrap_or(0)
    }

    /// Waits until `among` have the same height and tip, and returns the height.
    pub async fn wait_converged(&self, among: &[usize], within: Duration) -> u64 {
        let deadline = Instant::now() + within;
        loop {
            let mut tips = Vec::new();
            for &i in among {
                if let Ok(h) = self.client(i).health().await {
                    tips.push((h.height, h.tip_hash));
                }
            }
            if tips.len() == among.len() && tips.windows(2).all(|w| w[0] == w[1]) {
                return tips[0].0;
            }
            assert!(Instant::now() < deadline, "nodes {among:?} did not converge within {within:?}: {tips:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Asserts that `among` hold identical blocks (hash and state hash) at every height up to `upto`.
    pub async fn assert_same_chain(&self, among: &[usize], upto: u64) {
        for h in 0..=upto {
            let mut seen = None;
            for &i in among {
                let b = self.client(i).block(h).await.unwrap();
                let here = (b.hash, b.header.state_hash);
                match seen {
                    None => seen = Some(here),
                    Some(s) => assert_eq!(s, here, "node {} differs at height {h}", self.name(i)),
                }
            }
        }
    }

    /// Writes `orgs/<org>/nodes/<node>/node.toml` for a node of `org`
    /// joining the cluster, whose `node.pem` and `node.key` are there already: loopback ports of its
    /// own and every member as a peer, as `billflow-genesis init` writes
    /// them. Returns the file and the node's p2p address.
    pub fn joiner_config(&self, node: &str, org: &str, snapshot_every: Option<u64>) -> (std::path::PathBuf, String) {
        use billflow_genesis::{NodeConfig, PeerConfig};
        let ports = billflow_tests::free_ports(2).unwrap();
        let p2p = format!("/ip4/127.0.0.1/tcp/{}", ports[0]);
        let config = NodeConfig {
            node_id: node.parse().unwrap(),
            data_dir: "data".into(),
            genesis: "../../../../genesis.json".into(),
            ca_cert: "../../ca.pem".into(),
            cert: "node.pem".into(),
            key: "node.key".into(),
            p2p_listen: p2p.clone(),
            api_listen: format!("127.0.0.1:{}", ports[1]).parse().unwrap(),
            peers: self
                .out
                .nodes
                .iter()
                .map(|(n, _)| PeerConfig {
                    node_id: n.node_id.clone(),
                    peer_id: self.out.genesis.nodes.iter().find(|g| g.id == n.node_id).unwrap().peer_id.clone(),
                    address: n.p2p_listen.clone(),
                })
                .collect(),
            snapshot_every,
            explorer: None,
            rate_per_s: None,
        };
        let path = self.org_dir(org).join("nodes").join(node).join("node.toml");
        std::fs::write(&path, config.to_toml()).unwrap();
        (path, p2p)
    }

    /// Organisation `org`'s own directory.
    pub fn org_dir(&self, org: &str) -> std::path::PathBuf {
        self.dir.path().join("orgs").join(org)
    }

    /// Node `i`'s data directory.
    pub fn data_dir(&self, i: usize) -> std::path::PathBuf {
        let (config, path) = &self.out.nodes[i];
        path.parent().expect("a configuration file's directory").join(&config.data_dir)
    }

    /// The last `lines` lines of node `i`'s log, to show beside a failure.
    pub fn log_tail(&self, i: usize, lines: usize) -> String {
        let (_, path) = &self.out.nodes[i];
        path.parent().map(|dir| billflow_tests::log_tail(dir, lines)).unwrap_or_default()
    }

    pub fn kill(&mut self, i: usize) {
        self.nodes[i].take().expect("node is running").kill().unwrap();
    }

    pub fn restart(&mut self, i: usize) {
        assert!(self.nodes[i].is_none());
        let namespace = self.fabric.as_ref().map(|f| f.namespace(i));
        self.nodes[i] = Some(NodeProcess::start_configured_in(&self.out.nodes[i].1, namespace.as_deref()).unwrap());
    }

    /// Cuts every link to and from node `i`.
    pub fn isolate(&self, i: usize) {
        for ((a, b), link) in &self.links {
            if *a == i || *b == i {
                link.cut();
            }
        }
    }

    pub fn heal(&self) {
        for link in self.links.values() {
            link.heal();
        }
    }
}
