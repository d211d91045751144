//! A node's configuration file (TOML), as `billflow-genesis init` writes it and
//! `billflow-node run --config` reads it. Relative paths are relative to the file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use billflow_types::NodeId;
use serde::{Deserialize, Serialize};

use crate::certs::CertError;

/// Another node to connect to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    /// Its id.
    pub node_id: NodeId,
    /// Its libp2p peer id.
    pub peer_id: String,
    /// Its libp2p address, e.g. `/ip4/127.0.0.1/tcp/7100`.
    pub address: String,
}

/// A node's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// This node's id (as in genesis).
    pub node_id: NodeId,
    /// Data directory.
    pub data_dir: PathBuf,
    /// The genesis document.
    pub genesis: PathBuf,
    /// The consortium CA certificate (PEM).
    pub ca_cert: PathBuf,
    /// This node's certificate (PEM).
    pub cert: PathBuf,
    /// This node's private key (PKCS#8 PEM).
    pub key: PathBuf,
    /// libp2p listen address.
    pub p2p_listen: String,
    /// REST gateway listen address.
    pub api_listen: SocketAddr,
    /// The other nodes.
    #[serde(default)]
    pub peers: Vec<PeerConfig>,
    /// Take a consensus snapshot after this many log entries (default 5000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_every: Option<u64>,
}

impl NodeConfig {
    /// Reads a configuration and resolves its paths against the file's directory.
    pub fn load(path: &Path) -> Result<NodeConfig, CertError> {
        let text = std::fs::read_to_string(path).map_err(|e| CertError::file(path, e))?;
        let mut config: NodeConfig = toml::from_str(&text)
            .map_err(|e| CertError::Invalid { path: path.display().to_string(), reason: e.to_string() })?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [&mut config.data_dir, &mut config.genesis, &mut config.ca_cert, &mut config.cert, &mut config.key] {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        Ok(config)
    }

    /// The TOML text.
    pub fn to_toml(&self) -> String {
        // Every field is a plain string, number or table: serialisation cannot fail.
        toml::to_string_pretty(self).unwrap_or_default()
    }
}
