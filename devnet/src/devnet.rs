//! The devnet's processes and files: a whole consortium on this machine, one
//! `billflow-node` process per node on loopback, described in `devnet.json`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use billflow_genesis::init::{InitOutput, free_loopback_ports};
use billflow_genesis::keys::KeySource;
use billflow_genesis::{ExplorerConfig, InitSpec, NodeConfig, OrgSpec};
use billflow_types::{ChainParams, NodeRole, OrgRole};
use serde::{Deserialize, Serialize};

/// What `devnet.json` says about one node.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DevnetNode {
    /// Its id.
    pub node_id: String,
    /// Its organisation.
    pub org: String,
    /// Voter or observer.
    pub role: NodeRole,
    /// Its REST gateway.
    pub api_url: String,
    /// Its explorer page, for a browser.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explorer_url: Option<String>,
    /// Its libp2p address.
    pub p2p: String,
    /// Its libp2p peer id.
    pub peer_id: String,
    /// Its data directory.
    pub data_dir: PathBuf,
    /// Its configuration file.
    pub config: PathBuf,
    /// Its log file.
    pub log: PathBuf,
    /// Its process id while the devnet runs.
    pub pid: Option<u32>,
}

/// A key file and whose it is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DevnetKey {
    /// The tenant or organisation.
    pub owner: String,
    /// The ledger key id.
    pub key_id: String,
    /// The PKCS#8 PEM key file.
    pub key_file: PathBuf,
}

/// `devnet.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Devnet {
    /// The chain id.
    pub chain_id: String,
    /// The genesis file.
    pub genesis: PathBuf,
    /// The genesis hash.
    pub genesis_hash: String,
    /// Every organisation's CA certificate, one PEM file: what clients trust.
    pub ca_cert: PathBuf,
    /// The nodes.
    pub nodes: Vec<DevnetNode>,
    /// Demo tenant keys.
    pub tenant_keys: Vec<DevnetKey>,
    /// Organisation administrator keys.
    pub admin_keys: Vec<DevnetKey>,
    /// The notary participants' keys, one per notary office: they co-sign evidence.
    #[serde(default)]
    pub notary_keys: Vec<DevnetKey>,
    /// The demo participants' keys (banks `bank-a`, `bank-b`; the core
    /// enterprise and two suppliers, acting under the first tenant).
    #[serde(default)]
    pub participant_keys: Vec<DevnetKey>,
    /// The regulators' organisation keys: they read the supervision stream
    /// (`billflow supervise --devnet devnet.json`) and the audit log.
    #[serde(default)]
    pub regulator_keys: Vec<DevnetKey>,
}

/// The explorer of node `k` listens on the base port plus this plus `k`.
const EXPLORER_PORT_OFFSET: u16 = 80;

fn create(dir: &Path, voters: usize, observers: usize, base_port: u16, rate_per_s: Option<u32>) -> Result<InitOutput> {
    let mut orgs = Vec::new();
    for i in 1..=voters {
        let (name, role) = if i % 2 == 1 { ("notary", OrgRole::Notary) } else { ("bank", OrgRole::Bank) };
        orgs.push(OrgSpec { id: format!("{name}-{i}").parse()?, role });
    }
    for i in 1..=observers {
        orgs.push(OrgSpec { id: format!("regulator-{i}").parse()?, role: OrgRole::Regulator });
    }
    let spec = InitSpec {
        chain_id: "billflow-devnet".parse()?,
        tenants: vec![("demo-platform".parse()?, orgs[0].id.clone())],
        orgs,
        nodes_per_org: 1,
        hosts: vec![],
        keys: KeySource::Random,
        genesis_time: time::OffsetDateTime::now_utc().replace_nanosecond(0)?,
        base_port: if base_port == 0 { 7100 } else { base_port },
        params: ChainParams::default(),
    };
    let mut out = billflow_genesis::init(dir, &spec).context("cannot create the devnet consortium")?;
    if base_port == 0 {
        out.relocate(&free_loopback_ports(out.nodes.len() * 2)?)?;
    }
    // Every node serves the explorer to browsers on loopback, plain HTTP.
    let explorer_ports: Vec<u16> = if base_port == 0 {
        free_loopback_ports(out.nodes.len())?
    } else {
        (0..out.nodes.len()).map(|k| base_port + EXPLORER_PORT_OFFSET + k as u16).collect()
    };
    for ((config, path), port) in out.nodes.iter_mut().zip(explorer_ports) {
        config.explorer =
            Some(ExplorerConfig { listen: SocketAddr::from(([127, 0, 0, 1], port)), cert: None, key: None });
        config.rate_per_s = rate_per_s;
        std::fs::write(&*path, config.to_toml()).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(out)
}

fn describe(
    dir: &Path,
    out: &InitOutput,
    pids: &[Option<u32>],
    notary_keys: Vec<DevnetKey>,
    participant_keys: Vec<DevnetKey>,
) -> Devnet {
    let nodes = out
        .nodes
        .iter()
        .zip(pids)
        .map(|((c, path), pid)| {
            let g = out.genesis.nodes.iter().find(|n| n.id == c.node_id);
            DevnetNode {
                node_id: c.node_id.to_string(),
                org: g.map(|n| n.org.to_string()).unwrap_or_default(),
                role: g.map_or(NodeRole::Observer, |n| n.role),
                api_url: format!("https://{}", c.api_listen),
                explorer_url: c.explorer.as_ref().map(|e| format!("http://{}/explorer/", e.listen)),
                p2p: c.p2p_listen.clone(),
                peer_id: g.map(|n| n.peer_id.clone()).unwrap_or_default(),
                data_dir: c.data_dir.clone(),
                config: path.clone(),
                log: path.with_file_name("node.log"),
                pid: *pid,
            }
        })
        .collect();
    Devnet {
        chain_id: out.genesis.chain_id.to_string(),
        genesis: out.genesis_path.clone(),
        genesis_hash: out.genesis.hash().to_hex(),
        ca_cert: out.cas_path.clone(),
        nodes,
        tenant_keys: out
            .tenant_keys
            .iter()
            .map(|(t, k, p)| DevnetKey { owner: t.to_string(), key_id: k.to_string(), key_file: p.clone() })
            .collect(),
        admin_keys: out
            .genesis
            .organisations
            .iter()
            .map(|o| DevnetKey {
                owner: o.id.to_string(),
                key_id: format!("{}.admin", o.id),
                key_file: dir.join("orgs").join(o.id.as_str()).join("admin.key"),
            })
            .collect(),
        notary_keys,
        participant_keys,
        regulator_keys: out
            .genesis
            .organisations
            .iter()
            .filter(|o| o.role == OrgRole::Regulator)
            .map(|o| DevnetKey {
                owner: o.id.to_string(),
                key_id: format!("{}.admin", o.id),
                key_file: dir.join("orgs").join(o.id.as_str()).join("admin.key"),
            })
            .collect(),
    }
}

/// Loads an existing devnet's consortium from its `devnet.json`.
fn reload(dir: &Path) -> Result<InitOutput> {
    let devnet: Devnet = serde_json::from_slice(&std::fs::read(dir.join("devnet.json"))?).context("devnet.json")?;
    let genesis = billflow_genesis::ceremony::read_genesis(&devnet.genesis)?;
    genesis.verify_signatures().with_context(|| format!("{}", devnet.genesis.display()))?;
    let mut nodes = Vec::new();
    for n in &devnet.nodes {
        let mut config = NodeConfig::load(&n.config)?;
        // Keep the file's relative form: load() resolved the paths.
        config.data_dir = "data".into();
        nodes.push((config, n.config.clone()));
    }
    let tenant_keys = devnet
        .tenant_keys
        .iter()
        .map(|k| Ok((k.owner.parse()?, k.key_id.parse()?, k.key_file.clone())))
        .collect::<Result<_>>()?;
    Ok(InitOutput { genesis, genesis_path: devnet.genesis, cas_path: devnet.ca_cert, nodes, tenant_keys })
}

/// Deploys and registers what a devnet needs, then seeds the demo if asked.
async fn setup(devnet: &Devnet, genesis: &billflow_sdk::types::Genesis, demo: bool) -> Result<()> {
    crate::bootstrap::bootstrap(devnet, genesis).await?;
    if demo {
        crate::demo::seed(devnet, genesis).await?;
    }
    Ok(())
}

/// Runs the devnet until Ctrl-C.
/// The `billflow-node` executable the devnet runs: `explicit`, else
/// `$BILLFLOW_NODE`, else the one beside this executable. Run from the source
/// tree (`cargo run -p billflow-devnet`), it is built first, in the same
/// profile, so that one command starts the devnet from a fresh checkout.
pub fn node_binary(explicit: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(path) = explicit.or_else(|| std::env::var_os("BILLFLOW_NODE").map(PathBuf::from)) {
        return Ok(path);
    }
    let exe = std::env::current_exe().context("cannot find this executable")?;
    let beside = exe.with_file_name(format!("billflow-node{}", std::env::consts::EXE_SUFFIX));
    if let (Some(cargo), Ok(manifest)) = (std::env::var_os("CARGO"), std::env::var("CARGO_MANIFEST_DIR")) {
        // `cargo run` of this very package (not a test run of another that
        // inherited cargo's variables).
        if manifest == env!("CARGO_MANIFEST_DIR") {
            let release = exe.parent().and_then(Path::file_name).is_some_and(|p| p == "release");
            let mut build = Command::new(cargo);
            build.args(["build", "-p", "billflow-node", "--bin", "billflow-node"]).current_dir(&manifest);
            if release {
                build.arg("--release");
            }
            let status = build.status().context("cannot run cargo to build billflow-node")?;
            if !status.success() {
                bail!("building billflow-node failed ({status})");
            }
        }
    }
    if !beside.is_file() {
        bail!(
            "{} not found: build it (`cargo build --release -p billflow-node`), or give --node-binary or BILLFLOW_NODE",
            beside.display()
        );
    }
    Ok(beside)
}

/// Runs the devnet in `dir` with the `billflow-node` at `node` until Ctrl-C or SIGTERM.
pub fn run(
    node: &Path,
    dir: &Path,
    voters: usize,
    observers: usize,
    base_port: u16,
    demo: bool,
    rate_per_s: Option<u32>,
) -> Result<()> {
    if voters == 0 {
        bail!("a devnet needs at least one voter");
    }
    if !node.is_file() {
        bail!("{} is not a billflow-node executable", node.display());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let dir = dir.canonicalize()?;
    let out = if dir.join("devnet.json").exists() {
        println!("reusing the devnet in {}", dir.display());
        reload(&dir)?
    } else {
        if dir.read_dir()?.next().is_some() {
            bail!("{} is not empty and holds no devnet.json", dir.display());
        }
        create(&dir, voters, observers, base_port, rate_per_s)?
    };
    let mut children: Vec<Child> = Vec::new();
    for (config, path) in &out.nodes {
        let log = std::fs::File::create(path.with_file_name("node.log"))?;
        let child = Command::new(node)
            .args(["run", "--config"])
            .arg(path)
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()
            .with_context(|| format!("cannot start node {}", config.node_id))?;
        children.push(child);
    }
    let pids: Vec<Option<u32>> = children.iter().map(|c| Some(c.id())).collect();
    let notary_keys = crate::bootstrap::create_notary_keys(&dir, &out.genesis)?;
    let participant_keys = crate::demo::create_participant_keys(&dir, &out.genesis)?;
    let devnet = describe(&dir, &out, &pids, notary_keys, participant_keys);
    std::fs::write(dir.join("devnet.json"), serde_json::to_string_pretty(&devnet)? + "\n")?;
    println!("devnet {} (genesis {})", devnet.chain_id, devnet.genesis_hash);
    for n in &devnet.nodes {
        println!("  {:<14} {:<8?} {}  p2p {}  log {}", n.node_id, n.role, n.api_url, n.p2p, n.log.display());
        if let Some(url) = &n.explorer_url {
            println!("  {:<14} explorer {url}", "");
        }
    }
    println!("details in {}; Ctrl-C stops every node", dir.join("devnet.json").display());

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        tokio::select! {
            _ = crate::shutdown_signal() => return,
            done = setup(&devnet, &out.genesis, demo) => match done {
                Ok(()) => println!(
                    "ready: contracts {} and {} deployed, notaries and participants registered",
                    crate::bootstrap::EVIDENCE,
                    crate::bootstrap::FLOWS
                ),
                Err(e) => eprintln!("the devnet runs, but setting it up failed: {e:#}"),
            },
        }
        let mut ticker = tokio::time::interval(Duration::from_millis(500));
        loop {
            tokio::select! {
                _ = crate::shutdown_signal() => break,
                _ = ticker.tick() => {
                    for (child, (config, _)) in children.iter_mut().zip(&out.nodes) {
                        if let Ok(Some(status)) = child.try_wait() {
                            eprintln!("node {} exited ({status})", config.node_id);
                        }
                    }
                }
            }
        }
    });
    println!("stopping the devnet");
    for child in &children {
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    }
    for child in &mut children {
        for _ in 0..100 {
            if !matches!(child.try_wait(), Ok(None)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fields `value` serialises, in order.
    fn fields<T: Serialize>(value: &T) -> String {
        let text = serde_json::to_string(value).unwrap_or_default();
        let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).unwrap_or_default();
        let mut keys: Vec<&String> = object.keys().collect();
        keys.sort_by_key(|k| text.find(&format!("\"{k}\":")));
        keys.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
    }

    /// docs/api.md lists every field of `devnet.json`; a field added here
    /// without a word there fails.
    #[test]
    fn docs_api_md_lists_every_field_of_devnet_json() {
        let key = DevnetKey { owner: "t".into(), key_id: "t.k1".into(), key_file: "t.key".into() };
        let node = DevnetNode {
            node_id: "n".into(),
            org: "o".into(),
            role: NodeRole::Voter,
            api_url: "https://127.0.0.1:7101".into(),
            explorer_url: Some("http://127.0.0.1:7180/explorer/".into()),
            p2p: "/ip4/127.0.0.1/tcp/7100".into(),
            peer_id: "12D3KooW".into(),
            data_dir: "d".into(),
            config: "c".into(),
            log: "l".into(),
            pid: Some(1),
        };
        let devnet = Devnet {
            chain_id: "billflow-devnet".into(),
            genesis: "genesis.json".into(),
            genesis_hash: "00".into(),
            ca_cert: "ca.pem".into(),
            nodes: vec![node.clone()],
            tenant_keys: vec![key.clone()],
            admin_keys: vec![],
            notary_keys: vec![],
            participant_keys: vec![],
            regulator_keys: vec![],
        };
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/api.md")).unwrap_or_default();
        for line in [
            format!("Top level: {}", fields(&devnet)),
            format!("Each node: {}", fields(&node)),
            format!("Each key: {}", fields(&key)),
        ] {
            assert!(doc.contains(&line), "docs/api.md's devnet.json section lacks the line\n{line}");
        }
    }
}
