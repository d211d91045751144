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
    /// The explorer's own listener, for browsers (none by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explorer: Option<ExplorerConfig>,
    /// Requests a second the gateway takes from one tenant, organisation or
    /// anonymous address (default 5,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_per_s: Option<u32>,
}

/// The explorer's listener: the gateway's anonymous reads and the explorer
/// page, for browsers. Browsers do not accept the consortium's Ed25519
/// certificates, so this listener has its own: a certificate browsers trust
/// (say ECDSA P-256 from the organisation's web CA), or none at all, plain
/// HTTP, on a loopback address only (for a reverse proxy on the same host
/// that terminates TLS, or a browser on the node's own machine).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExplorerConfig {
    /// Listen address.
    pub listen: SocketAddr,
    /// Its certificate chain (PEM), for HTTPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<PathBuf>,
    /// Its private key (PKCS#8 PEM), for HTTPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<PathBuf>,
}

impl ExplorerConfig {
    /// The certificate and key files for HTTPS, or `None` for plain HTTP;
    /// an error if only one is given, or if plain HTTP would listen beyond
    /// loopback.
    pub fn tls_files(&self) -> Result<Option<(&Path, &Path)>, String> {
        match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => Ok(Some((cert, key))),
            (None, None) if self.listen.ip().is_loopback() => Ok(None),
            (None, None) => Err(format!(
                "the explorer serves plain HTTP only on a loopback address, not {}: give it a cert and key",
                self.listen
            )),
            _ => Err("the explorer's cert and key go together".into()),
        }
    }
}

impl NodeConfig {
    /// Reads a configuration and resolves its paths against the file's directory.
    pub fn load(path: &Path) -> Result<NodeConfig, CertError> {
        let text = std::fs::read_to_string(path).map_err(|e| CertError::file(path, e))?;
        let mut config: NodeConfig = toml::from_str(&text)
            .map_err(|e| CertError::Invalid { path: path.display().to_string(), reason: e.to_string() })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let explorer_files = config.explorer.iter_mut().flat_map(|e| e.cert.iter_mut().chain(e.key.iter_mut()));
        for p in [&mut config.data_dir, &mut config.genesis, &mut config.ca_cert, &mut config.cert, &mut config.key]
            .into_iter()
            .chain(explorer_files)
        {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_explorer_serves_plain_http_only_on_loopback() {
        let e = |listen: &str, cert: Option<&str>, key: Option<&str>| ExplorerConfig {
            listen: listen.parse().unwrap(),
            cert: cert.map(PathBuf::from),
            key: key.map(PathBuf::from),
        };
        assert_eq!(e("127.0.0.1:7180", None, None).tls_files(), Ok(None));
        assert_eq!(e("[::1]:7180", None, None).tls_files(), Ok(None));
        assert!(e("0.0.0.0:7180", None, None).tls_files().unwrap_err().contains("loopback"));
        assert!(e("10.0.0.5:443", Some("c.pem"), None).tls_files().unwrap_err().contains("go together"));
        let tls = e("10.0.0.5:443", Some("c.pem"), Some("k.pem"));
        assert_eq!(tls.tls_files(), Ok(Some((Path::new("c.pem"), Path::new("k.pem")))));
        // The section round-trips through node.toml, and an old file without it still reads.
        let text = "listen = \"10.0.0.5:443\"\ncert = \"c.pem\"\nkey = \"k.pem\"\n";
        assert_eq!(toml::from_str::<ExplorerConfig>(text).unwrap(), tls);
        assert!(toml::from_str::<ExplorerConfig>("listen = \"127.0.0.1:1\"\nport = 2\n").is_err());
    }
}
