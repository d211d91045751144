//! Loading a configured node's identity: every file is checked, and a bad one
//! is named in the error.

use std::path::Path;

use anyhow::{Context, Result, bail};
use billflow_genesis::NodeConfig;
use billflow_genesis::keys::read_key;
use billflow_types::{Genesis, OrgId, SecretKey};

/// A configured node's checked identity.
pub struct Identity {
    /// The configuration.
    pub config: NodeConfig,
    /// The genesis document.
    pub genesis: Genesis,
    /// Every organisation's CA certificate (DER), from genesis.
    pub org_cas: Vec<(OrgId, Vec<u8>)>,
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

/// Loads and cross-checks the configuration at `path` and every file it names.
pub fn load(path: &Path) -> Result<Identity> {
    let config =
        NodeConfig::load(path).with_context(|| format!("cannot load the node configuration {}", path.display()))?;
    let genesis = crate::load_genesis(Some(&config.genesis))?;
    let ca_der = read_cert(&config.ca_cert, "CA certificate")?;
    let mut org_cas = Vec::new();
    for org in &genesis.organisations {
        let Some(pem_text) = org.ca_cert_pem.as_deref() else { continue };
        let block = pem::parse(pem_text).with_context(|| {
            format!("the genesis {} holds no usable CA certificate for {}", config.genesis.display(), org.id)
        })?;
        org_cas.push((org.id.clone(), block.contents().to_vec()));
    }
    let cert_der = read_cert(&config.cert, "node certificate")?;
    let key = read_key(&config.key).with_context(|| format!("cannot use the node key {}", config.key.display()))?;
    let cert_key = billflow_net::cert_key(&cert_der).map_err(anyhow::Error::msg)?;
    if cert_key != key.public() {
        bail!("the node key {} does not match the node certificate {}", config.key.display(), config.cert.display());
    }
    let node = genesis.nodes.iter().find(|n| n.id == config.node_id).cloned();
    match &node {
        None => {
            // A node joining later, perhaps of an organisation admitted later:
            // the ledger, not genesis, will name its organisation's CA.
            billflow_genesis::ceremony::issued_by_der(&cert_der, &ca_der).map_err(|e| {
                anyhow::anyhow!(
                    "the node certificate {} was not issued by the CA {}: {e}",
                    config.cert.display(),
                    config.ca_cert.display()
                )
            })?;
            tracing::warn!(node = %config.node_id, "not a genesis member: waiting to be added to the network")
        }
        Some(n) if n.public_key != cert_key => bail!(
            "the node certificate {} is not the one genesis {} admits for node {}",
            config.cert.display(),
            config.genesis.display(),
            config.node_id
        ),
        Some(n) => {
            if !org_cas.iter().any(|(_, der)| *der == ca_der) {
                bail!(
                    "the CA certificate {} is not the CA of any organisation in genesis {}",
                    config.ca_cert.display(),
                    config.genesis.display()
                );
            }
            let own = org_cas.iter().find(|(org, _)| *org == n.org).map(|(_, der)| der);
            if own != Some(&ca_der) {
                bail!(
                    "the CA certificate {} is not the CA of {}, the organisation genesis {} lists for node {}",
                    config.ca_cert.display(),
                    n.org,
                    config.genesis.display(),
                    config.node_id
                );
            }
            // Peers would refuse it; say so here, naming the file.
            billflow_genesis::ceremony::issued_by_der(&cert_der, &ca_der).map_err(|e| {
                anyhow::anyhow!(
                    "the node certificate {} was not issued by the CA of {} ({}): {e}",
                    config.cert.display(),
                    n.org,
                    config.ca_cert.display()
                )
            })?;
        }
    }
    Ok(Identity { config, genesis, org_cas, cert_der, key })
}
