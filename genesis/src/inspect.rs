//! Human-readable descriptions of genesis documents, certificates and node configurations.

use std::fmt::Write as _;
use std::path::Path;

use billflow_types::{Genesis, PublicKey};
use x509_parser::prelude::*;

/// OID of ed25519 public keys (RFC 8410).
const ED25519_OID: &str = "1.3.101.112";

/// The ed25519 key of a DER certificate.
pub fn cert_public_key(der: &[u8]) -> Result<PublicKey, String> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| format!("not an X.509 certificate: {e}"))?;
    spki_ed25519(cert.public_key())
}

/// The ed25519 key in a subject public key info.
pub fn spki_ed25519(spki: &SubjectPublicKeyInfo<'_>) -> Result<PublicKey, String> {
    if spki.algorithm.algorithm.to_id_string() != ED25519_OID {
        return Err(format!("the key is not ed25519 (algorithm {})", spki.algorithm.algorithm.to_id_string()));
    }
    let raw: [u8; 32] =
        spki.subject_public_key.data.as_ref().try_into().map_err(|_| "the ed25519 key is not 32 bytes".to_string())?;
    Ok(PublicKey(raw))
}

/// Describes a DER certificate.
pub fn describe_cert(der: &[u8]) -> Result<String, String> {
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| format!("not an X.509 certificate: {e}"))?;
    let mut out = String::new();
    let _ = writeln!(out, "certificate");
    let _ = writeln!(out, "  subject:    {}", cert.subject());
    let _ = writeln!(out, "  issuer:     {}", cert.issuer());
    let _ = writeln!(out, "  serial:     {}", cert.raw_serial_as_string());
    let _ = writeln!(out, "  valid from: {}", cert.validity().not_before);
    let _ = writeln!(out, "  valid to:   {}", cert.validity().not_after);
    let _ = writeln!(out, "  CA:         {}", cert.is_ca());
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        let names: Vec<String> = san.value.general_names.iter().map(|n| n.to_string()).collect();
        let _ = writeln!(out, "  SANs:       {}", names.join(", "));
    }
    if let Ok(Some(eku)) = cert.extended_key_usage() {
        let _ =
            writeln!(out, "  usage:      server auth {}, client auth {}", eku.value.server_auth, eku.value.client_auth);
    }
    match spki_ed25519(cert.public_key()) {
        Ok(key) => {
            let _ = writeln!(out, "  public key: ed25519 {}", key.to_hex());
            let _ = writeln!(out, "  peer id:    {}", key.peer_id());
        }
        Err(e) => {
            let _ = writeln!(out, "  public key: {e}");
        }
    }
    Ok(out)
}

/// Describes a genesis document.
pub fn describe_genesis(g: &Genesis) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "genesis of chain {}", g.chain_id);
    let _ = writeln!(out, "  hash:        {}", g.hash());
    let _ = writeln!(out, "  time (ms):   {}", g.genesis_time_ms);
    let p = &g.admin_policy;
    let _ = writeln!(
        out,
        "  admin policy: at least {} organisation(s) and {} % of them must approve; a regulator's approval: {:?}",
        p.min_approving_orgs, p.min_share_percent, p.regulator
    );
    let p = &g.params;
    let _ = writeln!(
        out,
        "  blocks:      up to {} transactions or {} ms; transactions up to {} bytes",
        p.max_txs_per_block, p.max_block_wait_ms, p.max_tx_bytes
    );
    let _ = writeln!(out, "  organisations:");
    for o in &g.organisations {
        let keys: Vec<&str> = o.admin_keys.iter().map(|k| k.key_id.as_str()).collect();
        let ca = if o.ca_cert_pem.is_some() { "own CA" } else { "no CA" };
        let _ = writeln!(out, "    {} ({:?}) {:?}, {ca}, admin keys: {}", o.id, o.role, o.name, keys.join(", "));
    }
    let _ = writeln!(out, "  nodes:");
    for n in &g.nodes {
        let _ = writeln!(out, "    {} of {} ({:?}) peer {}", n.id, n.org, n.role, n.peer_id);
    }
    if !g.tenants.is_empty() {
        let _ = writeln!(out, "  tenants:");
        for t in &g.tenants {
            let _ = writeln!(out, "    {} registered by {}", t.id, t.registered_by);
        }
    }
    let _ = writeln!(out, "  signatures:");
    for o in &g.organisations {
        let state = match g.signatures.iter().find(|s| s.org == o.id) {
            None => "missing".to_string(),
            Some(sig) => match g.check_signature(sig) {
                Ok(()) => format!("valid ({})", sig.key_id),
                Err(e) => format!("INVALID: {e}"),
            },
        };
        let _ = writeln!(out, "    {}: {state}", o.id);
    }
    out
}

/// Describes whatever `path` holds: a genesis document, a PEM certificate or a node configuration.
pub fn describe_file(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if let Ok(g) = serde_json::from_str::<Genesis>(&text) {
        return Ok(describe_genesis(&g));
    }
    if text.trim_start().starts_with("-----BEGIN CERTIFICATE-----") {
        let block = ::pem::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        return describe_cert(block.contents()).map_err(|e| format!("{}: {e}", path.display()));
    }
    if let Ok(c) = toml::from_str::<crate::NodeConfig>(&text) {
        return Ok(format!(
            "node configuration of {}\n  p2p:   {}\n  api:   {}\n  peers: {}\n",
            c.node_id,
            c.p2p_listen,
            c.api_listen,
            c.peers.iter().map(|p| p.node_id.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    Err(format!("{}: neither a genesis document, a PEM certificate nor a node configuration", path.display()))
}
