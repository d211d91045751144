//! The founding ceremony of a consortium whose members do not trust each other.
//!
//! 1. Each organisation runs [`org_init`] on its own machine: its own CA, its
//!    administrator key, its nodes' keys and certificates, and a public
//!    [`Bundle`]. No private key ever leaves that directory.
//! 2. Anyone [`assemble`]s the genesis document from the bundles.
//! 3. Each founding organisation's administrator checks the document and signs
//!    its hash ([`sign`]); the signatures are [`attach`]ed to it. A node starts
//!    only on a genesis signed by every founder.
//! 4. Each organisation writes its nodes' configuration from the signed
//!    genesis and its own directory ([`node_config`]).
//!
//! ```text
//! ORG_DIR/bundle.json                  public: CA, administrator key, nodes
//! ORG_DIR/ca.pem, ca.key               the organisation's CA (keep ca.key offline)
//! ORG_DIR/admin.pem, admin.key         its administrator
//! ORG_DIR/nodes/<node>/node.pem, node.key, node.toml
//! ```

use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};

use billflow_types::{
    AdminPolicy, ChainId, ChainParams, Genesis, GenesisKey, GenesisNode, GenesisOrg, GenesisSignature, GenesisTenant,
    KeyId, NodeId, NodeRole, OrgId, OrgRole, PublicKey, SecretKey, TenantId,
};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::certs::{Ca, CertError, NodeCertSpec};
use crate::config::{NodeConfig, PeerConfig};
use crate::keys::{KeySource, pkcs8_pem, read_key};

/// A node as its organisation announces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleNode {
    /// Its id.
    pub id: NodeId,
    /// The ed25519 key of its certificate.
    pub public_key: PublicKey,
    /// Its libp2p peer id.
    pub peer_id: String,
    /// Where other nodes dial it (a libp2p multiaddr).
    pub address: String,
    /// Its certificate (PEM), issued by the organisation's CA.
    pub cert_pem: String,
}

/// An organisation's public contribution to genesis: everything the others
/// need to admit it, and nothing secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// The organisation.
    pub org: OrgId,
    /// Its role.
    pub role: OrgRole,
    /// Its CA certificate (PEM).
    pub ca_cert_pem: String,
    /// Its administrator's public key.
    pub admin_key: GenesisKey,
    /// Its nodes.
    pub nodes: Vec<BundleNode>,
}

/// What `org init` creates.
#[derive(Debug, Clone)]
pub struct OrgInitSpec {
    /// The organisation.
    pub org: OrgId,
    /// Its role.
    pub role: OrgRole,
    /// How many nodes it runs.
    pub nodes: usize,
    /// Host names or addresses for its node certificates; the first is used in node addresses.
    pub hosts: Vec<String>,
    /// Where keys come from.
    pub keys: KeySource,
    /// Certificates are valid from this time.
    pub not_before: OffsetDateTime,
    /// Node `k` (from 0) listens for peers on `base_port + 2k` (and, by default,
    /// for clients on the port after it).
    pub base_port: u16,
}

pub(crate) fn write(path: &Path, contents: &str, secret: bool) -> Result<(), CertError> {
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

pub(crate) fn id<T: std::str::FromStr>(s: &str) -> Result<T, CertError>
where
    T::Err: std::fmt::Display,
{
    s.parse().map_err(|e: T::Err| CertError::Build(format!("{s:?}: {e}")))
}

fn invalid(path: &Path, reason: impl Into<String>) -> CertError {
    CertError::Invalid { path: path.display().to_string(), reason: reason.into() }
}

/// Refuses to write into a directory that holds anything already.
pub(crate) fn ensure_empty(out: &Path) -> Result<(), CertError> {
    let holds_something = std::fs::read_dir(out).map(|mut entries| entries.next().is_some()).unwrap_or(false);
    if holds_something { Err(invalid(out, "exists and is not empty")) } else { Ok(()) }
}

/// The multiaddr of `host` at `port`.
pub fn multiaddr(host: &str, port: u16) -> String {
    let kind = if host.parse::<std::net::Ipv6Addr>().is_ok() {
        "ip6"
    } else if host.parse::<std::net::Ipv4Addr>().is_ok() {
        "ip4"
    } else {
        "dns"
    };
    format!("/{kind}/{host}/tcp/{port}")
}

/// The client address that goes with peer address `p2p`: the same host (or
/// loopback for a DNS name) and the next port.
pub fn default_api_listen(p2p: &str) -> Option<SocketAddr> {
    let parts: Vec<&str> = p2p.split('/').collect();
    let [_, kind, host, "tcp", port] = parts.as_slice() else { return None };
    let port: u16 = port.parse().ok()?;
    let ip: std::net::IpAddr = match *kind {
        "ip4" | "ip6" => host.parse().ok()?,
        _ => std::net::Ipv4Addr::LOCALHOST.into(),
    };
    Some(SocketAddr::new(ip, port.checked_add(1)?))
}

/// Creates a new CA for organisation `org` in `out` (`ca.pem`, `ca.key`), to
/// rotate to; returns the path of `ca.pem`.
pub fn new_ca(out: &Path, org: &OrgId, not_before: OffsetDateTime) -> Result<PathBuf, CertError> {
    ensure_empty(out)?;
    let key = KeySource::Random.key("ca");
    let ca = Ca::create(org, &key, not_before, not_before + Duration::days(365 * 10))?;
    write(&out.join("ca.key"), &pkcs8_pem(&key), true)?;
    let path = out.join("ca.pem");
    write(&path, &ca.cert.pem, false)?;
    Ok(path)
}

/// Creates organisation `spec.org`'s CA, administrator and nodes in `out`, and
/// returns (and writes as `out/bundle.json`) its public bundle.
pub fn org_init(out: &Path, spec: &OrgInitSpec) -> Result<Bundle, CertError> {
    ensure_empty(out)?;
    if spec.nodes > 100 {
        return Err(CertError::Build("an organisation runs at most 100 nodes".into()));
    }
    let not_before = spec.not_before;
    let ca_until = not_before + Duration::days(365 * 10);
    let cert_until = not_before + Duration::days(365 * 2);
    let org = &spec.org;
    let ca_key = spec.keys.key(&format!("ca/{org}"));
    let ca = Ca::create(org, &ca_key, not_before, ca_until)?;
    let admin_key = spec.keys.key(&format!("admin/{org}"));
    let admin_cert = ca.issue_admin(org, &admin_key, not_before, cert_until)?;
    let host = spec.hosts.first().map_or("127.0.0.1", String::as_str);
    let mut nodes = Vec::new();
    let mut files = vec![
        (out.join("ca.pem"), ca.cert.pem.clone(), false),
        (out.join("ca.key"), pkcs8_pem(&ca_key), true),
        (out.join("admin.pem"), admin_cert.pem, false),
        (out.join("admin.key"), pkcs8_pem(&admin_key), true),
    ];
    for k in 0..spec.nodes {
        let node_id: NodeId = id(&format!("{org}-{}", k + 1))?;
        let key = spec.keys.key(&format!("node/{node_id}"));
        let cert = ca.issue_node(
            &NodeCertSpec {
                node_id: node_id.clone(),
                org: org.clone(),
                role: spec.role,
                hosts: spec.hosts.clone(),
                not_before,
                not_after: cert_until,
            },
            &key,
        )?;
        let port = u16::try_from(usize::from(spec.base_port) + 2 * k)
            .map_err(|_| CertError::Build(format!("--base-port {} leaves no port for {node_id}", spec.base_port)))?;
        let dir = out.join("nodes").join(node_id.as_str());
        files.push((dir.join("node.pem"), cert.pem.clone(), false));
        files.push((dir.join("node.key"), pkcs8_pem(&key), true));
        nodes.push(BundleNode {
            id: node_id,
            public_key: key.public(),
            peer_id: key.public().peer_id(),
            address: multiaddr(host, port),
            cert_pem: cert.pem,
        });
    }
    let bundle = Bundle {
        org: org.clone(),
        role: spec.role,
        ca_cert_pem: ca.cert.pem,
        admin_key: GenesisKey { key_id: id(&format!("{org}.admin"))?, public_key: admin_key.public() },
        nodes,
    };
    let json = serde_json::to_string_pretty(&bundle).map_err(|e| CertError::Build(e.to_string()))?;
    files.push((out.join("bundle.json"), json + "\n", false));
    for (path, contents, secret) in files {
        write(&path, &contents, secret)?;
    }
    Ok(bundle)
}

fn pem_der(pem: &str) -> Result<Vec<u8>, String> {
    let block = ::pem::parse(pem).map_err(|e| format!("not PEM: {e}"))?;
    if block.tag() != "CERTIFICATE" {
        return Err(format!("a {} block, not a CERTIFICATE", block.tag()));
    }
    Ok(block.contents().to_vec())
}

/// Checks that certificate `cert_pem` was issued by the CA `ca_pem`.
pub fn issued_by(cert_pem: &str, ca_pem: &str) -> Result<(), String> {
    issued_by_der(&pem_der(cert_pem)?, &pem_der(ca_pem)?)
}

/// Checks that certificate `cert_der` was issued by the CA `ca_der` (both DER).
pub fn issued_by_der(cert_der: &[u8], ca_der: &[u8]) -> Result<(), String> {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let (_, cert) = X509Certificate::from_der(cert_der).map_err(|e| format!("certificate: {e}"))?;
    let (_, ca) = X509Certificate::from_der(ca_der).map_err(|e| format!("CA certificate: {e}"))?;
    if !ca.is_ca() {
        return Err("the CA certificate is not a CA".into());
    }
    cert.verify_signature(Some(ca.public_key())).map_err(|_| "it is not signed by the organisation's CA".to_string())
}

fn check_bundle(bundle: &Bundle) -> Result<(), String> {
    pem_der(&bundle.ca_cert_pem).map_err(|e| format!("ca_cert_pem: {e}"))?;
    issued_by(&bundle.ca_cert_pem, &bundle.ca_cert_pem)
        .map_err(|e| format!("ca_cert_pem: not a self-signed CA: {e}"))?;
    bundle
        .admin_key
        .public_key
        .validate()
        .map_err(|_| format!("admin_key {}: not a valid ed25519 key", bundle.admin_key.key_id))?;
    for n in &bundle.nodes {
        issued_by(&n.cert_pem, &bundle.ca_cert_pem)
            .map_err(|e| format!("nodes[{}].cert_pem does not chain to the organisation's CA: {e}", n.id))?;
        let cert_key = crate::inspect::cert_public_key(&pem_der(&n.cert_pem)?)?;
        if cert_key != n.public_key {
            return Err(format!("nodes[{}].public_key is not the key of its certificate", n.id));
        }
        if n.peer_id != n.public_key.peer_id() {
            return Err(format!("nodes[{}].peer_id does not match its public key", n.id));
        }
    }
    Ok(())
}

/// Reads and checks the bundle at `path`: public material only, well formed,
/// every node certificate issued by the bundle's CA.
pub fn read_bundle(path: &Path) -> Result<Bundle, CertError> {
    let text = std::fs::read_to_string(path).map_err(|e| CertError::file(path, e))?;
    if text.contains("PRIVATE KEY") {
        return Err(invalid(path, "holds a private key: a bundle carries public material only; nothing was written"));
    }
    let bundle: Bundle = serde_json::from_str(&text).map_err(|e| invalid(path, format!("not a bundle: {e}")))?;
    check_bundle(&bundle).map_err(|e| invalid(path, e))?;
    Ok(bundle)
}

/// What `assemble` builds.
#[derive(Debug, Clone)]
pub struct AssembleSpec {
    /// The chain id.
    pub chain_id: ChainId,
    /// The genesis time, ms since the Unix epoch.
    pub genesis_time_ms: u64,
    /// Chain parameters.
    pub params: ChainParams,
    /// The founding organisations' bundles, each with the file it came from.
    pub bundles: Vec<(PathBuf, Bundle)>,
    /// Tenants registered from the start.
    pub tenants: Vec<GenesisTenant>,
    /// Organisations that must approve an administrative action (default: a strict majority).
    pub min_approving_orgs: Option<u32>,
    /// The share of organisations that must approve, in percent (default: a strict majority).
    pub min_share_percent: Option<u32>,
}

/// Builds the (unsigned) genesis document from the founders' bundles.
pub fn assemble(spec: &AssembleSpec) -> Result<Genesis, CertError> {
    let mut organisations = Vec::new();
    let mut nodes: Vec<GenesisNode> = Vec::new();
    let mut seen: Vec<(&OrgId, &Path)> = Vec::new();
    for (path, bundle) in &spec.bundles {
        if let Some((_, first)) = seen.iter().find(|(org, _)| **org == bundle.org) {
            return Err(invalid(path, format!("organisation {} is already given by {}", bundle.org, first.display())));
        }
        seen.push((&bundle.org, path));
        organisations.push(GenesisOrg {
            id: bundle.org.clone(),
            name: bundle.org.to_string(),
            role: bundle.role,
            admin_keys: vec![bundle.admin_key.clone()],
            ca_cert_pem: Some(bundle.ca_cert_pem.clone()),
        });
        for n in &bundle.nodes {
            if let Some(other) = nodes.iter().find(|m| m.id == n.id) {
                return Err(invalid(path, format!("node {} is already a node of organisation {}", n.id, other.org)));
            }
            nodes.push(GenesisNode {
                id: n.id.clone(),
                org: bundle.org.clone(),
                public_key: n.public_key,
                peer_id: n.peer_id.clone(),
                role: if bundle.role == OrgRole::Regulator { NodeRole::Observer } else { NodeRole::Voter },
                address: Some(n.address.clone()),
            });
        }
    }
    let admin_policy = match (spec.min_approving_orgs, spec.min_share_percent) {
        (None, None) => AdminPolicy::majority(organisations.len()),
        (min, share) => AdminPolicy {
            min_approving_orgs: min.unwrap_or(1),
            min_share_percent: share.unwrap_or(0),
            ..AdminPolicy::majority(0)
        },
    };
    let genesis = Genesis {
        chain_id: spec.chain_id.clone(),
        genesis_time_ms: spec.genesis_time_ms,
        params: spec.params.clone(),
        organisations,
        tenants: spec.tenants.clone(),
        nodes,
        admin_policy,
        signatures: Vec::new(),
    };
    genesis.validate().map_err(|e| CertError::Build(format!("the genesis would not be valid: {e}")))?;
    Ok(genesis)
}

/// Reads a genesis document.
pub fn read_genesis(path: &Path) -> Result<Genesis, CertError> {
    let text = std::fs::read(path).map_err(|e| CertError::file(path, e))?;
    serde_json::from_slice(&text).map_err(|e| invalid(path, format!("not a genesis document: {e}")))
}

/// Writes a genesis document.
pub fn write_genesis(path: &Path, genesis: &Genesis) -> Result<(), CertError> {
    let json = serde_json::to_string_pretty(genesis).map_err(|e| CertError::Build(e.to_string()))?;
    write(path, &(json + "\n"), false)
}

/// The signature, over `genesis`, of the founding organisation administrator
/// holding `key`.
pub fn sign(genesis: &Genesis, key: &SecretKey) -> Result<GenesisSignature, String> {
    genesis.validate().map_err(|e| format!("the genesis is not valid: {e}"))?;
    let public = key.public();
    genesis
        .organisations
        .iter()
        .find_map(|o| o.admin_keys.iter().find(|k| k.public_key == public).map(|k| (o, k)))
        .map(|(org, k)| genesis.sign(org.id.clone(), k.key_id.clone(), key))
        .ok_or_else(|| "this key is not an administrator key of any founding organisation of the genesis".into())
}

/// Adds `sig` to `genesis` after checking it (one signature per organisation
/// and key: a repeated one replaces the earlier).
pub fn attach(genesis: &mut Genesis, sig: GenesisSignature) -> Result<(), billflow_types::genesis::GenesisError> {
    genesis.check_signature(&sig)?;
    genesis.signatures.retain(|s| !(s.org == sig.org && s.key_id == sig.key_id));
    genesis.signatures.push(sig);
    Ok(())
}

/// `to` relative to directory `from` (both made absolute first), so that a
/// directory tree can be moved whole.
fn relative(from: &Path, to: &Path) -> PathBuf {
    // Lexical: `..` removes the component before it (the paths are ours, not symlinks).
    let normal = |p: &Path| -> Vec<std::ffi::OsString> {
        let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        let mut out = Vec::new();
        for c in abs.components() {
            match c {
                Component::ParentDir => {
                    out.pop();
                }
                Component::Normal(s) => out.push(s.to_os_string()),
                _ => {}
            }
        }
        out
    };
    let (from, to) = (normal(from), normal(to));
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut rel = PathBuf::new();
    for _ in common..from.len() {
        rel.push("..");
    }
    for c in &to[common..] {
        rel.push(c);
    }
    rel
}

/// Writes node `node`'s configuration, `ORG_DIR/nodes/<node>/node.toml`, from
/// the signed genesis and its organisation's own directory. A node that
/// genesis does not list (`joining`: added later by an administrative
/// proposal, perhaps of an organisation admitted later) gets the genesis
/// nodes as its peers.
pub fn node_config(
    genesis_path: &Path,
    org_dir: &Path,
    node: &NodeId,
    api_listen: Option<SocketAddr>,
    joining: bool,
) -> Result<(NodeConfig, PathBuf), CertError> {
    let genesis = read_genesis(genesis_path)?;
    genesis.validate().map_err(|e| invalid(genesis_path, e.to_string()))?;
    genesis.verify_signatures().map_err(|e| invalid(genesis_path, e.to_string()))?;
    let bundle_path = org_dir.join("bundle.json");
    let bundle = read_bundle(&bundle_path)?;
    let ours = bundle
        .nodes
        .iter()
        .find(|n| &n.id == node)
        .ok_or_else(|| invalid(&bundle_path, format!("organisation {} has no node {node}", bundle.org)))?;
    let listed = genesis.nodes.iter().find(|n| &n.id == node);
    let admitted = listed.filter(|n| n.org == bundle.org && n.public_key == ours.public_key);
    match (joining, listed) {
        (false, _) if admitted.is_none() => {
            return Err(invalid(
                genesis_path,
                format!(
                    "does not admit node {node} of organisation {} with this directory's key \
                     (a node added after genesis takes --joining)",
                    bundle.org
                ),
            ));
        }
        (true, Some(_)) => {
            return Err(invalid(genesis_path, format!("already lists node {node}: it is not joining")));
        }
        _ => {}
    }
    let org = genesis.organisations.iter().find(|o| o.id == bundle.org);
    if let Some(org) = org {
        if org.ca_cert_pem.as_deref() != Some(bundle.ca_cert_pem.as_str()) {
            return Err(invalid(genesis_path, format!("names another CA for organisation {}", bundle.org)));
        }
    } else if !joining {
        return Err(invalid(genesis_path, format!("has no organisation {}", bundle.org)));
    }
    let dir = org_dir.join("nodes").join(node.as_str());
    for file in ["node.pem", "node.key"] {
        if !dir.join(file).is_file() {
            return Err(invalid(&dir.join(file), "missing: run node-config in the organisation's own directory"));
        }
    }
    let key = read_key(&dir.join("node.key"))?;
    if key.public() != ours.public_key {
        return Err(invalid(&dir.join("node.key"), "is not the key of the node's certificate"));
    }
    let api_listen = match api_listen.or_else(|| default_api_listen(&ours.address)) {
        Some(a) => a,
        None => return Err(invalid(&bundle_path, format!("cannot derive a client address from {}", ours.address))),
    };
    let peers = genesis
        .nodes
        .iter()
        .filter(|n| &n.id != node)
        .filter_map(|n| {
            let address = n.address.clone()?;
            Some(PeerConfig { node_id: n.id.clone(), peer_id: n.peer_id.clone(), address })
        })
        .collect();
    let config = NodeConfig {
        node_id: node.clone(),
        data_dir: "data".into(),
        genesis: relative(&dir, genesis_path),
        ca_cert: relative(&dir, &org_dir.join("ca.pem")),
        cert: "node.pem".into(),
        key: "node.key".into(),
        p2p_listen: ours.address.clone(),
        api_listen,
        peers,
        snapshot_every: None,
        explorer: None,
        rate_per_s: None,
    };
    let path = dir.join("node.toml");
    write(&path, &config.to_toml(), false)?;
    Ok((config, path))
}

/// A tenant registered at genesis with a fresh key; the key (PKCS#8 PEM) goes
/// to the tenant and its public half into genesis.
pub fn new_tenant(
    tenant: &TenantId,
    org: &OrgId,
    keys: &KeySource,
) -> Result<(GenesisTenant, KeyId, SecretKey), CertError> {
    let key_id: KeyId = id(&format!("{tenant}.key1"))?;
    let key = keys.key(&format!("tenant/{key_id}"));
    let record = GenesisTenant {
        id: tenant.clone(),
        name: tenant.to_string(),
        registered_by: org.clone(),
        keys: vec![GenesisKey { key_id: key_id.clone(), public_key: key.public() }],
    };
    Ok((record, key_id, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_to_the_common_ancestor() {
        assert_eq!(relative(Path::new("/a/b/c"), Path::new("/a/g.json")), PathBuf::from("../../g.json"));
        assert_eq!(relative(Path::new("/a/b"), Path::new("/a/b/x")), PathBuf::from("x"));
        assert_eq!(relative(Path::new("/a/./b/../c"), Path::new("/a/d")), PathBuf::from("../d"));
    }

    #[test]
    fn client_addresses_follow_peer_addresses() {
        assert_eq!(default_api_listen("/ip4/10.0.0.5/tcp/7100"), Some("10.0.0.5:7101".parse().unwrap()));
        assert_eq!(default_api_listen("/dns/n1.example/tcp/7100"), Some("127.0.0.1:7101".parse().unwrap()));
        assert_eq!(default_api_listen("/ip4/10.0.0.5/udp/7100"), None);
        assert_eq!(default_api_listen("/ip4/10.0.0.5/tcp/65535"), None);
    }
}
