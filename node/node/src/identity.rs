//! Loading a configured node's identity: every file is checked, and a bad one
//! is named in the error.

use std::path::Path;

use anyhow::{Context, Result, bail};
use billflow_chain::Chain;
use billflow_genesis::NodeConfig;
use billflow_genesis::keys::read_key;
use billflow_types::{Genesis, OrgId, SecretKey};

/// A configured node's checked identity.
pub struct Identity {
    /// The configuration.
    pub config: NodeConfig,
    /// The genesis document.
    pub genesis: Genesis,
    /// Its organisation's CA certificate (DER), as configured.
    pub ca_der: Vec<u8>,
    /// This node's certificate (DER).
    pub cert_der: Vec<u8>,
    /// This node's key.
    pub key: SecretKey,
}

fn read_cert(path: &Path, what: &str) -> Result<Vec<u8>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the {what} {}", path.display()))?;
    let block = pem::parse(&text).with_context(|| format!("the {what} {} is not a PEM certificate", path.display()))?;
    if block.tag() != "CERTIFICATE" {
        bail!("the {what} {} holds a {} block, not a CERTIFICATE", path.display(), block.tag());
    }
    billflow_net::cert_key(block.contents())
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("the {what} {} is not a usable certificate", path.display()))?;
    Ok(block.contents().to_vec())
}

/// Loads and cross-checks the configuration at `path` and every file it names
/// (the CA against the ledger follows, in [`check_ca`], once the chain is open).
pub fn load(path: &Path) -> Result<Identity> {
    let config =
        NodeConfig::load(path).with_context(|| format!("cannot load the node configuration {}", path.display()))?;
    let genesis = crate::load_genesis(Some(&config.genesis))?;
    let ca_der = read_cert(&config.ca_cert, "CA certificate")?;
    let cert_der = read_cert(&config.cert, "node certificate")?;
    let key = read_key(&config.key).with_context(|| format!("cannot use the node key {}", config.key.display()))?;
    let cert_key = billflow_net::cert_key(&cert_der).map_err(anyhow::Error::msg)?;
    if cert_key != key.public() {
        bail!("the node key {} does not match the node certificate {}", config.key.display(), config.cert.display());
    }
    match genesis.nodes.iter().find(|n| n.id == config.node_id) {
        Some(n) if n.public_key != cert_key => bail!(
            "the node certificate {} is not the one genesis {} admits for node {}",
            config.cert.display(),
            config.genesis.display(),
            config.node_id
        ),
        _ => {}
    }
    Ok(Identity { config, genesis, ca_der, cert_der, key })
}

/// Checks the node's CA and certificate against the ledger (the genesis
/// state, or what administrative actions made of it): the CA must be one that
/// admits the organisation the ledger lists for this node now, and must have
/// issued the certificate. A node the ledger does not list yet (joining) needs
/// only the latter. Returns every organisation's CAs, for the network.
pub fn check_ca(id: &Identity, chain: &Chain) -> Result<Vec<(OrgId, Vec<u8>)>> {
    let config = &id.config;
    let records = chain.org_records().context("cannot read the organisation records")?;
    let org_cas = crate::p2p::org_cas(&records, chain.tip().height);
    let issued = |whose: &str| {
        billflow_genesis::ceremony::issued_by_der(&id.cert_der, &id.ca_der).map_err(|e| {
            anyhow::anyhow!(
                "the node certificate {} was not issued by the CA of {whose} ({}): {e}",
                config.cert.display(),
                config.ca_cert.display()
            )
        })
    };
    let node =
        chain.node_records().context("cannot read the node records")?.into_iter().find(|n| n.id == config.node_id);
    let Some(node) = node else {
        issued("its organisation")?;
        tracing::warn!(node = %config.node_id, "not a member yet: waiting to be added to the network");
        return Ok(org_cas);
    };
    let retired = records
        .iter()
        .filter(|r| r.id == node.org)
        .flat_map(|r| &r.retiring_cas)
        .find(|r| pem::parse(&r.ca_cert_pem).is_ok_and(|b| b.contents() == id.ca_der.as_slice()));
    if let Some(r) = retired.filter(|_| !org_cas.iter().any(|(_, der)| *der == id.ca_der)) {
        bail!(
            "the CA certificate {} is a CA that {} retired at height {}: certify the node with its new CA",
            config.ca_cert.display(),
            node.org,
            r.until_height
        );
    }
    if !org_cas.iter().any(|(_, der)| *der == id.ca_der) {
        bail!("the CA certificate {} is not the CA of any organisation of the consortium", config.ca_cert.display());
    }
    if !org_cas.iter().any(|(org, der)| *org == node.org && *der == id.ca_der) {
        bail!(
            "the CA certificate {} is not the CA of {}, the organisation the ledger lists for node {}",
            config.ca_cert.display(),
            node.org,
            config.node_id
        );
    }
    // Peers would refuse it; say so here, naming the file.
    issued(node.org.as_str())?;
    Ok(org_cas)
}
