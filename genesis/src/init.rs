//! `billflow-genesis init`: everything a new consortium needs, in one directory.
//!
//! ```text
//! OUT/genesis.json
//! OUT/ca/ca.pem, ca.key                 the root CA (keep ca.key offline)
//! OUT/orgs/<org>/admin.pem, admin.key   each organisation's administrator
//! OUT/nodes/<node>/node.pem, node.key, node.toml
//! OUT/tenants/<tenant>/<key id>.key
//! ```

use std::path::{Path, PathBuf};

use billflow_types::{
    AdminPolicy, ChainId, ChainParams, Genesis, GenesisKey, GenesisNode, GenesisOrg, GenesisTenant, KeyId, NodeId,
    NodeRole, OrgId, OrgRole, TenantId,
};
use time::{Duration, OffsetDateTime};

use crate::certs::{Ca, CertError, NodeCertSpec};
use crate::config::{NodeConfig, PeerConfig};
use crate::keys::{KeySource, pkcs8_pem};

/// A founding organisation.
#[derive(Debug, Clone)]
pub struct OrgSpec {
    /// Its id (also its name).
    pub id: OrgId,
    /// Its role.
    pub role: OrgRole,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct InitSpec {
    /// The chain id.
    pub chain_id: ChainId,
    /// Founding organisations.
    pub orgs: Vec<OrgSpec>,
    /// Nodes each organisation runs.
    pub nodes_per_org: usize,
    /// Hosts for node certificates; the first is used in node addresses.
    pub hosts: Vec<String>,
    /// Tenants to register from the start, with the organisation registering each.
    pub tenants: Vec<(TenantId, OrgId)>,
    /// Where keys come from.
    pub keys: KeySource,
    /// The genesis time; certificates are valid from it.
    pub genesis_time: OffsetDateTime,
    /// First port: node `k` listens for peers on `base_port + 2k` and for clients on `base_port + 2k + 1`.
    pub base_port: u16,
    /// Chain parameters.
    pub params: ChainParams,
}

/// What `init` wrote.
#[derive(Debug, Clone)]
pub struct InitOutput {
    /// The genesis document.
    pub genesis: Genesis,
    /// Path of `genesis.json`.
    pub genesis_path: PathBuf,
    /// Each node's configuration and its path.
    pub nodes: Vec<(NodeConfig, PathBuf)>,
    /// Each tenant key: tenant, key id, key file.
    pub tenant_keys: Vec<(TenantId, KeyId, PathBuf)>,
}

fn write(path: &Path, contents: &str, secret: bool) -> Result<(), CertError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| CertError::file(dir, e))?;
    }
    std::fs::write(path, contents).map_err(|e| CertError::file(path, e))?;
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|e| CertError::file(path, e))?;
    }
    #[cfg(not(unix))]
    let _ = secret;
    Ok(())
}

fn id<T: std::str::FromStr>(s: &str) -> Result<T, CertError>
where
    T::Err: std::fmt::Display,
{
    s.parse().map_err(|e: T::Err| CertError::Build(format!("{s:?}: {e}")))
}

/// Generates the consortium in `out`.
pub fn init(out: &Path, spec: &InitSpec) -> Result<InitOutput, CertError> {
    if spec.orgs.is_empty() {
        return Err(CertError::Build("at least one organisation is needed".into()));
    }
    let not_before = spec.genesis_time;
    let ca_until = not_before + Duration::days(365 * 10);
    let cert_until = not_before + Duration::days(365 * 2);
    let ca_key = spec.keys.key("ca");
    let ca = Ca::create(spec.chain_id.as_str(), &ca_key, not_before, ca_until)?;
    write(&out.join("ca/ca.pem"), &ca.cert.pem, false)?;
    write(&out.join("ca/ca.key"), &pkcs8_pem(&ca_key), true)?;

    let mut organisations = Vec::new();
    let mut nodes = Vec::new();
    let mut node_keys = Vec::new();
    for org in &spec.orgs {
        let admin_key = spec.keys.key(&format!("admin/{}", org.id));
        let admin_cert = ca.issue_admin(&org.id, &admin_key, not_before, cert_until)?;
        let dir = out.join("orgs").join(org.id.as_str());
        write(&dir.join("admin.pem"), &admin_cert.pem, false)?;
        write(&dir.join("admin.key"), &pkcs8_pem(&admin_key), true)?;
        organisations.push(GenesisOrg {
            id: org.id.clone(),
            name: org.id.to_string(),
            role: org.role,
            admin_keys: vec![GenesisKey { key_id: id(&format!("{}.admin", org.id))?, public_key: admin_key.public() }],
        });
        for i in 1..=spec.nodes_per_org {
            let node_id: NodeId = id(&format!("{}-{i}", org.id))?;
            let key = spec.keys.key(&format!("node/{node_id}"));
            let cert = ca.issue_node(
                &NodeCertSpec {
                    node_id: node_id.clone(),
                    org: org.id.clone(),
                    role: org.role,
                    hosts: spec.hosts.clone(),
                    not_before,
                    not_after: cert_until,
                },
                &key,
            )?;
            let dir = out.join("nodes").join(node_id.as_str());
            write(&dir.join("node.pem"), &cert.pem, false)?;
            write(&dir.join("node.key"), &pkcs8_pem(&key), true)?;
            let role = if org.role == OrgRole::Regulator { NodeRole::Observer } else { NodeRole::Voter };
            nodes.push(GenesisNode {
                id: node_id,
                org: org.id.clone(),
                public_key: key.public(),
                peer_id: key.public().peer_id(),
                role,
            });
            node_keys.push(key);
        }
    }

    let mut tenants = Vec::new();
    let mut tenant_keys = Vec::new();
    for (tenant, org) in &spec.tenants {
        let key_id: KeyId = id(&format!("{tenant}.key1"))?;
        let key = spec.keys.key(&format!("tenant/{key_id}"));
        let path = out.join("tenants").join(tenant.as_str()).join(format!("{key_id}.key"));
        write(&path, &pkcs8_pem(&key), true)?;
        tenants.push(GenesisTenant {
            id: tenant.clone(),
            name: tenant.to_string(),
            registered_by: org.clone(),
            keys: vec![GenesisKey { key_id: key_id.clone(), public_key: key.public() }],
        });
        tenant_keys.push((tenant.clone(), key_id, path));
    }

    let genesis = Genesis {
        chain_id: spec.chain_id.clone(),
        genesis_time_ms: (spec.genesis_time.unix_timestamp_nanos() / 1_000_000) as u64,
        params: spec.params.clone(),
        organisations,
        tenants,
        ca_cert_pem: Some(ca.cert.pem.clone()),
        nodes: nodes.clone(),
        admin_policy: AdminPolicy::majority(spec.orgs.len()),
    };
    genesis.validate().map_err(|e| CertError::Build(e.to_string()))?;
    let genesis_path = out.join("genesis.json");
    let json = serde_json::to_string_pretty(&genesis).map_err(|e| CertError::Build(e.to_string()))?;
    write(&genesis_path, &(json + "\n"), false)?;

    let host = spec.hosts.first().map_or("127.0.0.1", String::as_str);
    let ip_kind = if host.parse::<std::net::Ipv6Addr>().is_ok() {
        "ip6"
    } else if host.parse::<std::net::Ipv4Addr>().is_ok() {
        "ip4"
    } else {
        "dns"
    };
    let p2p = |k: usize| format!("/{ip_kind}/{host}/tcp/{}", usize::from(spec.base_port) + 2 * k);
    let mut configs = Vec::new();
    for (k, node) in nodes.iter().enumerate() {
        let peers = nodes
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != k)
            .map(|(j, n)| PeerConfig { node_id: n.id.clone(), peer_id: n.peer_id.clone(), address: p2p(j) })
            .collect();
        let api_host = if ip_kind == "dns" { "127.0.0.1" } else { host };
        let api = format!("{api_host}:{}", usize::from(spec.base_port) + 2 * k + 1);
        let config = NodeConfig {
            node_id: node.id.clone(),
            data_dir: "data".into(),
            genesis: "../../genesis.json".into(),
            ca_cert: "../../ca/ca.pem".into(),
            cert: "node.pem".into(),
            key: "node.key".into(),
            p2p_listen: p2p(k),
            api_listen: api.parse().map_err(|e| CertError::Build(format!("API address {api}: {e}")))?,
            peers,
            snapshot_every: None,
            explorer: None,
        };
        let path = out.join("nodes").join(node.id.as_str()).join("node.toml");
        write(&path, &config.to_toml(), false)?;
        configs.push((config, path));
    }
    Ok(InitOutput { genesis, genesis_path, nodes: configs, tenant_keys })
}

/// `n` distinct loopback ports that are free at the moment of asking.
///
/// They are drawn from below the kernel's ephemeral range
/// (`net.ipv4.ip_local_port_range`), where outgoing connections take their
/// source ports: a port handed out here cannot be taken by some connection
/// between the asking and the node's bind. Successive calls in one process
/// never hand out the same port twice.
pub fn free_loopback_ports(n: usize) -> std::io::Result<Vec<u16>> {
    use std::sync::atomic::{AtomicU32, Ordering};
    const SPAN: u32 = 12_000;
    static CURSOR: AtomicU32 = AtomicU32::new(u32::MAX);
    let ephemeral_low = ephemeral_low().filter(|low| *low > SPAN + 1024).unwrap_or(32_768);
    let base = ephemeral_low - SPAN;
    // Processes start at different places so that concurrent test binaries rarely meet.
    let seed = std::process::id().wrapping_mul(7919)
        ^ std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let _ = CURSOR.compare_exchange(u32::MAX, seed % SPAN, Ordering::Relaxed, Ordering::Relaxed);
    let mut ports = Vec::with_capacity(n);
    let mut held = Vec::with_capacity(n);
    for _ in 0..SPAN {
        if ports.len() == n {
            return Ok(ports);
        }
        let port = (base + CURSOR.fetch_add(1, Ordering::Relaxed) % SPAN) as u16;
        if let Ok(listener) = std::net::TcpListener::bind(("127.0.0.1", port)) {
            ports.push(port);
            held.push(listener);
        }
    }
    if ports.len() == n {
        return Ok(ports);
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AddrInUse,
        format!("fewer than {n} free loopback ports below {ephemeral_low}"),
    ))
}

/// The lowest port the kernel gives to outgoing connections.
fn ephemeral_low() -> Option<u32> {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    range.split_whitespace().next()?.parse().ok()
}

impl InitOutput {
    /// Moves node `k` to loopback ports `ports[2k]` (peers) and `ports[2k + 1]`
    /// (clients), and rewrites every configuration to match.
    pub fn relocate(&mut self, ports: &[u16]) -> Result<(), CertError> {
        if ports.len() < 2 * self.nodes.len() {
            return Err(CertError::Build(format!("{} ports for {} nodes", ports.len(), self.nodes.len())));
        }
        let at: Vec<_> = ports.chunks(2).map(|p| (std::net::Ipv4Addr::LOCALHOST, p[0], p[1])).collect();
        self.place(&at)
    }

    /// Moves node `k` to address `at[k].0`, peers on port `at[k].1` and
    /// clients on `at[k].2`, and rewrites every configuration to match. The
    /// certificates must name the addresses (`hosts` at init) for clients
    /// that check them.
    pub fn place(&mut self, at: &[(std::net::Ipv4Addr, u16, u16)]) -> Result<(), CertError> {
        if at.len() < self.nodes.len() {
            return Err(CertError::Build(format!("{} addresses for {} nodes", at.len(), self.nodes.len())));
        }
        let p2p: Vec<String> = at.iter().map(|(ip, port, _)| format!("/ip4/{ip}/tcp/{port}")).collect();
        let names: Vec<NodeId> = self.nodes.iter().map(|(c, _)| c.node_id.clone()).collect();
        for (k, (config, path)) in self.nodes.iter_mut().enumerate() {
            config.p2p_listen = p2p[k].clone();
            config.api_listen = std::net::SocketAddr::from((at[k].0, at[k].2));
            for peer in &mut config.peers {
                if let Some(j) = names.iter().position(|n| *n == peer.node_id) {
                    peer.address = p2p[j].clone();
                }
            }
            write(path, &config.to_toml(), false)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{ephemeral_low, free_loopback_ports};

    #[test]
    fn free_ports_are_distinct_bindable_and_outside_the_ephemeral_range() {
        let first = free_loopback_ports(8).unwrap();
        let second = free_loopback_ports(8).unwrap();
        let all: std::collections::BTreeSet<u16> = first.iter().chain(&second).copied().collect();
        assert_eq!(all.len(), 16, "a port was handed out twice: {first:?} {second:?}");
        let low = ephemeral_low().unwrap_or(32_768);
        assert!(all.iter().all(|p| u32::from(*p) < low && *p > 1024), "{all:?} against {low}");
        let _held: Vec<_> = first.iter().map(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).unwrap()).collect();
    }
}
