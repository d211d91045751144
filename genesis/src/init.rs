//! `billflow-genesis init`: a whole consortium on one machine, for tests and
//! demonstrations. It runs the real ceremony ([`crate::ceremony`]) for each
//! organisation in a directory of its own, assembles the genesis and has each
//! organisation's administrator key sign it, exactly as separate
//! organisations would; only the machine is shared.
//!
//! ```text
//! OUT/genesis.json                      signed by every organisation
//! OUT/cas.pem                           every organisation's CA, for clients
//! OUT/orgs/<org>/                       the organisation's directory (see ceremony)
//! OUT/orgs/<org>/nodes/<node>/node.toml
//! OUT/tenants/<tenant>/<key id>.key
//! ```

use std::path::{Path, PathBuf};

use billflow_types::{ChainId, ChainParams, Genesis, KeyId, NodeId, OrgId, OrgRole, TenantId};
use time::OffsetDateTime;

use crate::ceremony::{self, AssembleSpec, OrgInitSpec, write};
use crate::certs::CertError;
use crate::config::NodeConfig;
use crate::keys::{KeySource, pkcs8_pem, read_key};

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
    /// Path of `cas.pem`, every organisation's CA certificate.
    pub cas_path: PathBuf,
    /// Each node's configuration and its path.
    pub nodes: Vec<(NodeConfig, PathBuf)>,
    /// Each tenant key: tenant, key id, key file.
    pub tenant_keys: Vec<(TenantId, KeyId, PathBuf)>,
}

/// Generates the consortium in `out`.
pub fn init(out: &Path, spec: &InitSpec) -> Result<InitOutput, CertError> {
    if spec.orgs.is_empty() {
        return Err(CertError::Build("at least one organisation is needed".into()));
    }
    ceremony::ensure_empty(out)?;
    for (tenant, org) in &spec.tenants {
        if !spec.orgs.iter().any(|o| &o.id == org) {
            return Err(CertError::Build(format!("tenant {tenant} names organisation {org}, which is not founding")));
        }
    }
    // 1. Each organisation, in its own directory.
    let org_dir = |org: &OrgId| out.join("orgs").join(org.as_str());
    let mut bundles = Vec::new();
    for (j, org) in spec.orgs.iter().enumerate() {
        let base_port = usize::from(spec.base_port) + 2 * j * spec.nodes_per_org;
        let dir = org_dir(&org.id);
        let bundle = ceremony::org_init(
            &dir,
            &OrgInitSpec {
                org: org.id.clone(),
                role: org.role,
                nodes: spec.nodes_per_org,
                hosts: spec.hosts.clone(),
                keys: spec.keys.clone(),
                not_before: spec.genesis_time,
                base_port: u16::try_from(base_port)
                    .map_err(|_| CertError::Build(format!("base port {} is too high", spec.base_port)))?,
            },
        )?;
        bundles.push((dir.join("bundle.json"), bundle));
    }
    // Tenants keep their own keys; only the public half goes into genesis.
    let mut tenants = Vec::new();
    let mut tenant_keys = Vec::new();
    for (tenant, org) in &spec.tenants {
        let (record, key_id, key) = ceremony::new_tenant(tenant, org, &spec.keys)?;
        let path = out.join("tenants").join(tenant.as_str()).join(format!("{key_id}.key"));
        write(&path, &pkcs8_pem(&key), true)?;
        tenants.push(record);
        tenant_keys.push((tenant.clone(), key_id, path));
    }
    // 2. Assembled from the bundles, as read back from their files.
    let bundles = bundles
        .into_iter()
        .map(|(path, _)| ceremony::read_bundle(&path).map(|b| (path, b)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut genesis = ceremony::assemble(&AssembleSpec {
        chain_id: spec.chain_id.clone(),
        genesis_time_ms: (spec.genesis_time.unix_timestamp_nanos() / 1_000_000) as u64,
        params: spec.params.clone(),
        bundles,
        tenants,
        min_approving_orgs: None,
        min_share_percent: None,
    })?;
    // 3. Signed by each organisation's administrator key, from its own directory.
    for org in &spec.orgs {
        let key_path = org_dir(&org.id).join("admin.key");
        let sig = ceremony::sign(&genesis, &read_key(&key_path)?).map_err(CertError::Build)?;
        ceremony::attach(&mut genesis, sig).map_err(|e| CertError::Build(e.to_string()))?;
    }
    let genesis_path = out.join("genesis.json");
    ceremony::write_genesis(&genesis_path, &genesis)?;
    let cas_path = out.join("cas.pem");
    let cas: String = genesis.organisations.iter().filter_map(|o| o.ca_cert_pem.as_deref()).collect();
    write(&cas_path, &cas, false)?;
    // 4. Each node's configuration.
    let mut nodes = Vec::new();
    for n in &genesis.nodes {
        nodes.push(ceremony::node_config(&genesis_path, &org_dir(&n.org), &n.id, None, false)?);
    }
    Ok(InitOutput { genesis, genesis_path, cas_path, nodes, tenant_keys })
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
