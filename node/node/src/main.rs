//! `billflow-node`: runs a billflow node and its operator commands.
//!
//! Wiring only: configuration, tasks, signals and exit codes. Ledger logic lives
//! in the library crates.

mod audit_check;
mod identity;
mod p2p;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use billflow_chain::{Chain, ChainConfig, run_single_node};
use billflow_consensus::{Consensus, ConsensusConfig};
use billflow_executor::verify::verify;
use billflow_net::{NetConfig, Network};
use billflow_storage::Store;
use billflow_types::{Genesis, NodeId, dev::dev_genesis};
use clap::{Parser, Subcommand};
use tokio::sync::watch;

/// jemalloc, not glibc's allocator. Under load glibc gives threads arenas of
/// their own and keeps in them what a burst freed: after the same 200,000
/// batched transactions a leader held 307 MB with jemalloc against 383 MB,
/// and the three nodes spent 238 CPU seconds against 294 to 336
/// (docs/performance.md, "The allocator, and a bounded apply run").
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(name = "billflow-node", version, about = "A node of the billflow bill-finance ledger")]
struct Cli {
    /// Log lines as text, or as one JSON object each (for log collectors).
    #[arg(long, global = true, value_enum, default_value = "text")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run a node: the chain and its REST gateway, and with --config its network.
    Run {
        /// Node configuration written by `billflow-genesis init`: genesis, certificate,
        /// key, addresses and peers. Without it the node runs alone.
        #[arg(long, conflicts_with_all = ["data", "genesis", "listen", "node_id"])]
        config: Option<PathBuf>,
        /// Data directory (created if missing).
        #[arg(long, default_value = "billflow-data")]
        data: PathBuf,
        /// Genesis file (JSON). Without it the node runs the development chain,
        /// whose keys are public: never use that for real business.
        #[arg(long)]
        genesis: Option<PathBuf>,
        /// Address of the REST gateway.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// This node's id.
        #[arg(long, default_value = "node-1")]
        node_id: NodeId,
        /// Most transactions waiting in the mempool.
        #[arg(long, default_value_t = 50_000)]
        mempool_capacity: usize,
    },
    /// Re-read the whole stored chain and check every hash link, Merkle root,
    /// receipt, index, the state-change chain and the state. Exits 1 and names
    /// the height on the first difference.
    Verify {
        /// Data directory of a stopped node.
        #[arg(long)]
        data: PathBuf,
    },
    /// Write an online backup of a node: every block of its block files, read
    /// while the node runs (a consistent prefix of its chain), into one file.
    Backup {
        /// Data directory of the node (running or stopped).
        #[arg(long)]
        data: PathBuf,
        /// The backup file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Rebuild a node's data directory from a backup: blocks, indexes and state.
    /// Started again with its configuration, the node rejoins and catches up
    /// with what the consortium committed since.
    Restore {
        /// The backup file.
        #[arg(long)]
        backup: PathBuf,
        /// The data directory to create (must not exist, or be empty).
        #[arg(long)]
        data: PathBuf,
        /// Leave out the backup's audit log: for a backup of another node, whose
        /// audit log is that node's record, not this one's.
        #[arg(long)]
        without_audit_log: bool,
    },
    /// The node's audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Print a genesis document (the development one unless --file is given, which is checked).
    Genesis {
        /// A genesis file to check and print with its hash.
        #[arg(long)]
        file: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check a stopped node's audit log against its hash chain and against the
    /// heads the node anchored in its block attestations. Exits 1 naming the
    /// first entry that differs, or where the log was cut.
    Verify {
        /// Data directory of the stopped node whose log is checked.
        #[arg(long)]
        data: PathBuf,
        /// Read the anchors from another node's data directory (stopped, or
        /// restored from its backup) instead of this node's own.
        #[arg(long, value_name = "DIR")]
        anchors: Option<PathBuf>,
        /// The node whose log it is (default: the id the node recorded at start).
        #[arg(long)]
        node: Option<NodeId>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colours for a person at a terminal only: a log kept in a file or
        // read by a collector stays plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().with_current_span(false).flatten_event(true).init(),
    }
    let result = match cli.command {
        Command::Run { config: Some(config), mempool_capacity, .. } => run_configured(&config, mempool_capacity),
        Command::Run { config: None, data, genesis, listen, node_id, mempool_capacity } => {
            run(&data, genesis.as_deref(), listen, ChainConfig { node_id, mempool_capacity })
        }
        Command::Verify { data } => verify_cmd(&data),
        Command::Backup { data, out } => backup_cmd(&data, &out),
        Command::Restore { backup, data, without_audit_log } => restore_cmd(&backup, &data, !without_audit_log),
        Command::Audit(AuditCommand::Verify { data, anchors, node }) => {
            audit_verify_cmd(&data, anchors.as_deref(), node)
        }
        Command::Genesis { file } => genesis_cmd(file.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

pub(crate) fn load_genesis(path: Option<&Path>) -> Result<Genesis> {
    let genesis = match path {
        Some(p) => {
            let text = std::fs::read(p).with_context(|| format!("cannot read genesis file {}", p.display()))?;
            serde_json::from_slice::<Genesis>(&text)
                .with_context(|| format!("genesis file {} is not a valid genesis", p.display()))?
        }
        None => {
            tracing::warn!("no --genesis given: running the development chain, whose keys are public");
            dev_genesis()
        }
    };
    genesis.validate().context("genesis is not valid")?;
    // Every founder must have approved these exact bytes: no operator starts a
    // chain in the consortium's name on its own.
    genesis.verify_signatures().context("genesis is not signed by every founding organisation")?;
    Ok(genesis)
}

fn open_chain(data: &Path, genesis: &Genesis, config: ChainConfig) -> Result<Chain> {
    std::fs::create_dir_all(data).with_context(|| format!("cannot create data directory {}", data.display()))?;
    let store = Store::open(data).with_context(|| format!("cannot open the store in {}", data.display()))?;
    // `audit verify` finds this node's anchors in the attestations by its id.
    store
        .put_meta(&[(audit_check::NODE_ID_META.to_string(), config.node_id.as_str().as_bytes().to_vec())])
        .context("cannot record the node's id")?;
    Chain::open(store, genesis, config).context("cannot open the chain")
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the runtime")
}

fn run(data: &Path, genesis: Option<&Path>, listen: SocketAddr, config: ChainConfig) -> Result<()> {
    let genesis = load_genesis(genesis)?;
    let chain = open_chain(data, &genesis, config)?;
    let gateway = Gateway {
        listen,
        transport: billflow_api::Transport::Http,
        audit_dir: data.join("audit"),
        audit_head: Arc::new(tokio::sync::watch::channel(None).0),
        explorer: None,
        rate_per_s: None,
    };
    runtime()?.block_on(serve(chain, gateway, None, Sequencer::Single))
}

fn run_configured(config: &Path, mempool_capacity: usize) -> Result<()> {
    let id = identity::load(config)?;
    let chain_config = ChainConfig { node_id: id.config.node_id.clone(), mempool_capacity };
    let chain = open_chain(&id.config.data_dir, &id.genesis, chain_config)?;
    let org_cas = identity::check_ca(&id, &chain)?;
    // The gateway serves HTTPS with the node's certificate from the consortium CA.
    let cert = std::fs::read(&id.config.cert).with_context(|| format!("cannot read {}", id.config.cert.display()))?;
    let key = std::fs::read(&id.config.key).with_context(|| format!("cannot read {}", id.config.key.display()))?;
    let tls = billflow_api::tls_config(&cert, &key)
        .map_err(|e| anyhow::anyhow!("cannot serve HTTPS with {}: {e}", id.config.cert.display()))?;
    let explorer = match &id.config.explorer {
        None => None,
        Some(e) => {
            let transport = match e.tls_files().map_err(|e| anyhow::anyhow!("{}: {e}", config.display()))? {
                None => billflow_api::Transport::Http,
                Some((cert, key)) => {
                    let read = |p: &Path| std::fs::read(p).with_context(|| format!("cannot read {}", p.display()));
                    let tls = billflow_api::tls_config(&read(cert)?, &read(key)?)
                        .map_err(|e| anyhow::anyhow!("cannot serve the explorer with {}: {e}", cert.display()))?;
                    billflow_api::Transport::Https(tls)
                }
            };
            Some((e.listen, transport))
        }
    };
    let gateway = Gateway {
        listen: id.config.api_listen,
        transport: billflow_api::Transport::Https(tls),
        audit_dir: id.config.data_dir.join("audit"),
        audit_head: Arc::new(tokio::sync::watch::channel(None).0),
        explorer,
        rate_per_s: id.config.rate_per_s,
    };
    let audit_head = gateway.audit_head.clone();
    runtime()?.block_on(async move {
        let mut net = Network::start(NetConfig {
            org_cas,
            cert_der: id.cert_der,
            key: id.key.clone(),
            listen: id.config.p2p_listen.clone(),
            request_timeout: Duration::from_secs(10),
            redial_interval: Duration::from_millis(500),
        })
        .await
        .with_context(|| format!("cannot start the network on {}", id.config.p2p_listen))?;
        let addrs = net.handle.listen_addrs().await.unwrap_or_default();
        println!("billflow-node {} peer {} p2p {}", id.config.node_id, net.handle.peer_id(), addrs.join(" "));
        let configured: HashMap<NodeId, String> =
            id.config.peers.iter().map(|p| (p.node_id.clone(), p.address.clone())).collect();
        // Admission first, so that Raft traffic can flow as soon as Raft starts.
        tokio::spawn(p2p::sync_membership(chain.clone(), net.handle.clone(), configured));
        let voters = id
            .genesis
            .nodes
            .iter()
            .filter(|n| n.role == billflow_types::NodeRole::Voter)
            .map(|n| n.id.clone())
            .collect();
        let mut consensus_config = ConsensusConfig::new(id.config.node_id.clone(), id.key, voters);
        if let Some(every) = id.config.snapshot_every {
            consensus_config.snapshot_every = every;
        }
        // A node that starts empty (genesis only), other than a founding voter
        // of a new ledger, installs its peers' checked blocks first when far
        // behind them. A node with a history of its own (restarted, or
        // restored from a backup) goes on from its log as before.
        let founding = consensus_config.genesis_voters.contains(&id.config.node_id);
        if !founding && chain.tip().height == 0 {
            let started = std::time::Instant::now();
            let report =
                billflow_consensus::sync::catch_up(&chain, &net.handle, &id.config.node_id, &mut net.requests).await;
            if report.blocks > 0 || report.peer.is_some() {
                tracing::info!(
                    peer = ?report.peer.as_ref().map(|p| p.as_str()),
                    peer_height = report.peer_height,
                    blocks = report.blocks,
                    txs = report.txs,
                    height = chain.tip().height,
                    seconds = started.elapsed().as_secs_f64(),
                    stopped = ?report.stopped,
                    "caught up from stored blocks"
                );
            }
        }
        let consensus = Consensus::start(chain.clone(), net.handle.clone(), consensus_config).await?;
        p2p::spawn_handler(consensus.clone(), net.requests);
        let c = consensus.clone();
        let head = audit_head.subscribe();
        tokio::spawn(async move { c.run_attestations(Some(head)).await });
        let c = consensus.clone();
        tokio::spawn(async move { c.run_attestation_backfill().await });
        let c = consensus.clone();
        tokio::spawn(async move { c.run_membership().await });
        let info: Arc<dyn billflow_api::NetworkInfo> =
            Arc::new(p2p::NetInfo { chain: chain.clone(), net: net.handle, consensus: consensus.clone() });
        let sequencer = Sequencer::Raft(consensus);
        serve(chain, gateway, Some(info), sequencer).await
    })
}

/// What orders proposals.
enum Sequencer {
    /// This node alone.
    Single,
    /// Raft.
    Raft(Consensus),
}

/// Where and how the gateway listens.
struct Gateway {
    listen: SocketAddr,
    transport: billflow_api::Transport,
    audit_dir: PathBuf,
    /// Where the gateway publishes its audit log's durable head.
    audit_head: Arc<tokio::sync::watch::Sender<Option<billflow_types::audit::AuditHead>>>,
    /// The explorer's listener for browsers, if configured.
    explorer: Option<(SocketAddr, billflow_api::Transport)>,
    /// Requests a second from one tenant, organisation or address, if not the default.
    rate_per_s: Option<u32>,
}

fn scheme(transport: &billflow_api::Transport) -> &'static str {
    match transport {
        billflow_api::Transport::Http => "http",
        billflow_api::Transport::Https(_) => "https",
    }
}

async fn serve(
    chain: Chain,
    gateway: Gateway,
    network: Option<Arc<dyn billflow_api::NetworkInfo>>,
    sequencer: Sequencer,
) -> Result<()> {
    let listen = gateway.listen;
    let listener = billflow_api::bind(listen).with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let tip = chain.tip();
    tracing::info!(chain_id = %chain.executor().chain_id(), height = tip.height, tip = %tip.hash, "chain opened");
    // Test harnesses and operators read these lines to find the gateway and the explorer.
    println!("billflow-node listening on {}://{addr}", scheme(&gateway.transport));
    let mut endpoints =
        vec![billflow_api::Endpoint { listener, transport: gateway.transport, anonymous_reads_only: false }];
    if let Some((listen, transport)) = gateway.explorer {
        let listener = billflow_api::bind(listen).with_context(|| format!("cannot listen on {listen} (explorer)"))?;
        println!("billflow-node explorer on {}://{}/explorer/", scheme(&transport), listener.local_addr()?);
        endpoints.push(billflow_api::Endpoint { listener, transport, anonymous_reads_only: true });
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let raft = match &sequencer {
        Sequencer::Raft(c) => Some(c.clone()),
        Sequencer::Single => None,
    };
    let sequencer = match sequencer {
        Sequencer::Single => tokio::spawn(run_single_node(chain.clone(), stop_rx.clone())),
        Sequencer::Raft(consensus) => {
            let stop = stop_rx.clone();
            tokio::spawn(async move {
                consensus
                    .run_sequencer(stop)
                    .await
                    .map_err(|e| billflow_chain::ChainError::Exec(billflow_executor::ExecError::Genesis(e.to_string())))
            })
        }
    };
    let mut api_stop = stop_rx.clone();
    let defaults = billflow_api::ApiConfig::default();
    let config = billflow_api::ApiConfig {
        audit_dir: Some(gateway.audit_dir),
        audit_head: Some(gateway.audit_head),
        rate_per_s: gateway.rate_per_s.unwrap_or(defaults.rate_per_s),
        ..defaults
    };
    let state = billflow_api::ApiState { chain, network, config };
    let api = tokio::spawn(billflow_api::serve(endpoints, state, async move {
        let _ = api_stop.wait_for(|stop| *stop).await;
    }));
    let outcome = tokio::select! {
        _ = shutdown_signal() => {
            tracing::info!("shutting down");
            Ok(())
        }
        r = sequencer_done(sequencer) => r,
    };
    let _ = stop_tx.send(true);
    api.await.context("gateway task failed")?.context("gateway failed")?;
    if let Some(consensus) = raft {
        // Raft stopped earlier by a storage failure or a panic fails the run,
        // even one a signal ended.
        let stopped = consensus.shutdown().await.context("consensus had stopped on an error");
        return outcome.and(stopped);
    }
    outcome
}

async fn sequencer_done(task: tokio::task::JoinHandle<billflow_chain::Result<()>>) -> Result<()> {
    match task.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => bail!("the chain stopped: {e}"),
        Err(e) => bail!("the chain task failed: {e}"),
    }
}

pub(crate) async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn verify_cmd(data: &Path) -> Result<()> {
    let store = open_store(data)?;
    let report = verify(&store).context("verification failed")?;
    println!(
        "chain verified: height {} tip {} state {} ({} transactions, {} state entries, {} attestations)",
        report.tip.height,
        report.tip.hash,
        report.tip.state_hash,
        report.transactions,
        report.state_entries,
        report.attestations
    );
    let log = billflow_consensus::verify_log(&store).map_err(anyhow::Error::msg).context("verification failed")?;
    println!(
        "consensus log verified: {} entries, {} of them matched with the blocks they made",
        log.entries, log.blocks
    );
    match audit_check::node_id(&store).map_err(anyhow::Error::msg)? {
        Some(node) => audit_verify(data, &store, &node),
        None => Ok(()),
    }
}

fn open_store(data: &Path) -> Result<Store> {
    if !Store::exists_in(data) {
        bail!("{} holds no billflow store", data.display());
    }
    Store::open(data).with_context(|| format!("cannot open the store in {}", data.display()))
}

/// Checks the audit log in `data` against the anchors `anchors` holds (the
/// node's own store when it is `data`'s), and prints what holds.
fn audit_verify(data: &Path, anchors: &Store, node: &NodeId) -> Result<()> {
    let entries = audit_check::read_entries(data).map_err(anyhow::Error::msg).context("audit verification failed")?;
    let found = audit_check::anchors(anchors, node).map_err(anyhow::Error::msg).context("audit verification failed")?;
    let report = audit_check::check(&entries, found.as_deref().unwrap_or_default())
        .map_err(anyhow::Error::msg)
        .context("audit verification failed")?;
    match report.last_anchor {
        _ if found.is_none() => println!(
            "audit log verified: {} entries, hash chain intact; {node} is not a consortium node, so nothing anchors it",
            report.entries
        ),
        Some((height, head)) => println!(
            "audit log verified: {} entries from entry {}, hash chain intact; {} anchors by {node} match, the last \
             (entry {}) at block {height}{}",
            report.entries,
            report.first,
            report.anchors,
            head.seq,
            if report.archived > 0 {
                format!("; {} anchors are of archived segments, not here", report.archived)
            } else {
                String::new()
            }
        ),
        None => println!(
            "audit log verified: {} entries, hash chain intact; {node} anchored none of them yet",
            report.entries
        ),
    }
    Ok(())
}

fn audit_verify_cmd(data: &Path, anchors: Option<&Path>, node: Option<NodeId>) -> Result<()> {
    let own = open_store(data)?;
    let node = match node {
        Some(node) => node,
        None => audit_check::node_id(&own)
            .map_err(anyhow::Error::msg)?
            .with_context(|| format!("{} records no node id: name the node with --node", data.display()))?,
    };
    match anchors {
        None => audit_verify(data, &own, &node),
        Some(other) => {
            drop(own);
            audit_verify(data, &open_store(other)?, &node)
        }
    }
}

fn backup_cmd(data: &Path, out: &Path) -> Result<()> {
    let started = std::time::Instant::now();
    let audit_log = data.join("audit").join(billflow_api::AUDIT_FILE);
    let (bytes, height) = billflow_consensus::snapshot::backup(data, &audit_log, out)
        .with_context(|| format!("cannot back up {} to {}", data.display(), out.display()))?;
    println!(
        "backup written: {} (blocks 0 to {height}, {bytes} bytes, {:.1} s)",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn restore_cmd(backup: &Path, data: &Path, with_audit_log: bool) -> Result<()> {
    let started = std::time::Instant::now();
    if data.exists() && data.read_dir()?.next().is_some() {
        bail!("{} is not empty: restore into a new data directory", data.display());
    }
    let genesis = billflow_consensus::snapshot::genesis_of(backup)
        .with_context(|| format!("cannot read the backup {}", backup.display()))?;
    // Rebuilt beside the target and moved into place when complete, so a
    // failed restore leaves no half-made data directory.
    let work = data.with_extension("restoring");
    if work.exists() {
        std::fs::remove_dir_all(&work)?;
    }
    let restored = (|| -> Result<billflow_types::ChainTip> {
        let store = Store::open(&work)?;
        let config = ChainConfig { node_id: "restore".parse()?, mempool_capacity: 1 };
        let chain = Chain::open(store, &genesis, config)?;
        let (tip, _) = billflow_consensus::snapshot::install(&chain, backup)?;
        // Every restored block was committed: Raft must know its vote and
        // committed index, and wait for the other voters before campaigning.
        billflow_consensus::restore::prepare(chain.store())?;
        // The audit log comes back with the node; the node checks its hash
        // chain when it opens it.
        let audit = if with_audit_log { billflow_consensus::snapshot::audit_of(backup)? } else { None };
        if let Some(audit) = audit {
            let dir = work.join("audit");
            std::fs::create_dir_all(&dir)?;
            let mut file = std::fs::File::create(dir.join(billflow_api::AUDIT_FILE))?;
            std::io::Write::write_all(&mut file, &audit)?;
            file.sync_all()?;
        }
        Ok(tip)
    })();
    let tip = match restored {
        Ok(tip) => tip,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&work);
            return Err(e.context(format!("cannot restore {}", backup.display())));
        }
    };
    if data.exists() {
        std::fs::remove_dir(data)?;
    }
    std::fs::rename(&work, data)?;
    println!(
        "restored {} into {}: height {} tip {} ({:.1} s); start the node to catch up",
        backup.display(),
        data.display(),
        tip.height,
        tip.hash,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn genesis_cmd(file: Option<&Path>) -> Result<()> {
    let genesis = load_genesis(file)?;
    println!("{}", serde_json::to_string_pretty(&genesis)?);
    eprintln!("genesis hash {}", genesis.hash());
    Ok(())
}
