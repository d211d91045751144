//! `billflow`: the command line of a billflow network, built on the SDK.
//!
//! Every command that talks to a network takes the same connection options:
//! `--node URL` (repeatable, for failover), `--ca FILE`, `--key FILE`,
//! `--key-id ID`, `--tenant ID` and `--chain-id ID`, or `--devnet devnet.json`,
//! which supplies them all for a local devnet (and with `--as PARTICIPANT`,
//! that participant's key). `--json` prints machine-readable JSON instead of
//! text.
//!
//! `party`, `order`, `invoice`, `bill`, `fund` and `risk` drive the flows
//! contract (`flows_cli.rs`): amounts are yuan in whole fen (`1,000,000.50`),
//! dates `YYYY-MM-DD`, rates percent (`1.5`), bill units fen from 1.
//!
//! Exit status: 0 on success, 1 when the ledger refused something, a proof did
//! not verify or something was not found (or could not be reached), 2 on a
//! usage error. Errors go to stderr as `error: CODE: message`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use billflow_sdk::evidence::{self, Verdict, VerifyError};
use billflow_sdk::types::proof::{EvidenceProof, EvidenceSummary};
use billflow_sdk::types::system::{AddTenantKey, KeyGrant, RevokeKey, SystemCall};
use billflow_sdk::types::view::{BlockPage, Health, NetworkView, TxState, TxView};
use billflow_sdk::types::{
    ChainId, ContractName, Genesis, Hash32, KeyId, PublicKey, SecretKey, SignedTx, TenantId, TxFailure, TxId,
};
use billflow_sdk::{Client, SdkError, Signer};
use clap::{Args, Parser, Subcommand};
use serde::{Deserialize, Serialize};
use serde_json::json;

mod admin_cli;
mod flows_cli;

/// How long `tx submit` and `evidence submit` wait for a commit.
const COMMIT_WAIT: Duration = Duration::from_secs(30);

/// The command line.
#[derive(Debug, Parser)]
#[command(name = "billflow", version, about = "Submit to, query and verify a billflow ledger")]
struct Cli {
    /// Where and as whom to connect.
    #[command(flatten)]
    conn: Connection,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// Connection options, on every command.
#[derive(Debug, Clone, Args)]
struct Connection {
    /// A node's gateway, e.g. https://10.0.0.5:7101 (repeat for failover; the first is asked first).
    #[arg(long = "node", value_name = "URL", global = true)]
    nodes: Vec<String>,
    /// The consortium CA certificate (PEM) the nodes' certificates chain to.
    #[arg(long, value_name = "FILE", global = true)]
    ca: Option<PathBuf>,
    /// The signing key (PKCS#8 PEM).
    #[arg(long, value_name = "FILE", global = true)]
    key: Option<PathBuf>,
    /// The key's id on the ledger.
    #[arg(long, value_name = "ID", global = true)]
    key_id: Option<KeyId>,
    /// The tenant the key acts under (none for organisation keys).
    #[arg(long, value_name = "ID", global = true)]
    tenant: Option<TenantId>,
    /// The chain to sign for (default: the first node's).
    #[arg(long, value_name = "ID", global = true)]
    chain_id: Option<ChainId>,
    /// A devnet's devnet.json (or its directory): nodes, CA, chain, genesis and
    /// the first tenant key. Explicit options override it.
    #[arg(long, value_name = "PATH", global = true)]
    devnet: Option<PathBuf>,
    /// With --devnet: sign as this participant, with its key from devnet.json's
    /// participant_keys or notary_keys (enterprises act under the devnet's
    /// tenant, banks and notaries under none).
    #[arg(long = "as", value_name = "PARTICIPANT", global = true)]
    as_participant: Option<String>,
}

/// The commands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Manage key files.
    Keys {
        /// What to do with keys.
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// The node's health and the network as it sees it.
    Status,
    /// What waits for your answer: requests to sign, refuse or approve, and
    /// (a bank) fund movements to report.
    Inbox,
    /// Submit and look up transactions.
    Tx {
        /// What to do with transactions.
        #[command(subcommand)]
        command: TxCommand,
    },
    /// Record, look up and verify document evidence.
    Evidence {
        /// What to do with evidence.
        #[command(subcommand)]
        command: EvidenceCommand,
    },
    /// Parties of the bill flows: register with a settlement account, look one up.
    Party {
        /// What to do with parties.
        #[command(subcommand)]
        command: flows_cli::PartyCommand,
    },
    /// Orders and deliveries: the trade behind the bills.
    Order {
        /// What to do with orders.
        #[command(subcommand)]
        command: flows_cli::OrderCommand,
    },
    /// VAT invoices of orders, their verification and occupation.
    Invoice {
        /// What to do with invoices.
        #[command(subcommand)]
        command: flows_cli::InvoiceCommand,
    },
    /// Bills through their life cycle: issue, accept, endorse, discount, pay.
    Bill {
        /// What to do with bills.
        #[command(subcommand)]
        command: flows_cli::BillCommand,
    },
    /// Fund movements and end-of-day reconciliation.
    Fund {
        /// What to do with funds.
        #[command(subcommand)]
        command: flows_cli::FundCommand,
    },
    /// Risk limits and blacklist (consortium administrators).
    Risk {
        /// What to do.
        #[command(subcommand)]
        command: flows_cli::RiskCommand,
    },
    /// Print the supervision stream (regulators), one JSON event per line,
    /// following the ledger until the node closes the stream or Ctrl-C. With
    /// --devnet and no key, signs with the devnet's regulator key.
    Supervise {
        /// Resume after this cursor (HEIGHT-TX-EVENT; 0-0-0: from the start). Default: from the next block.
        #[arg(long, value_name = "CURSOR")]
        from: Option<String>,
        /// Only topics starting with this (repeatable), e.g. `risk.alert`, `bill.`.
        #[arg(long = "type", value_name = "PREFIX")]
        types: Vec<String>,
        /// Only events that name this participant.
        #[arg(long, value_name = "PARTICIPANT")]
        participant: Option<String>,
    },
    /// Administrative proposals: add or revoke a node, upgrade a contract,
    /// and approve other organisations' proposals (organisation administrators).
    Admin {
        /// What to do.
        #[command(subcommand)]
        command: admin_cli::AdminCommand,
    },
    /// List blocks, newest first.
    Blocks {
        /// Only blocks below this height.
        #[arg(long, value_name = "HEIGHT")]
        before: Option<u64>,
        /// How many blocks.
        #[arg(long, value_name = "N", default_value_t = 20)]
        limit: u64,
    },
}

/// `billflow keys …`.
#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Write a new ed25519 key as PKCS#8 PEM and print its public key
    /// (`--key-id` only labels the output).
    New {
        /// The key file to create (never overwritten).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Register another key for a tenant platform, signed by the tenant with a
    /// key it holds (how it rotates its key) or by the organisation that
    /// registered it. Move the platform to the new key, then revoke the old.
    AddTenantKey {
        /// The tenant (default: the one the signing key acts under). Its own
        /// id, not `tenant`: that is the global `--tenant`, which would make an
        /// organisation's administrator sign as the tenant.
        #[arg(long = "for", id = "for_tenant", value_name = "TENANT")]
        for_tenant: Option<TenantId>,
        /// The new key's id.
        #[arg(long, value_name = "ID")]
        new_key_id: KeyId,
        /// The new key's public key, in hex (as `keys new` prints it).
        #[arg(long, value_name = "HEX", value_parser = admin_cli::public_key)]
        public_key: PublicKey,
    },
    /// Revoke a key for ever: one of the signer's own (a tenant's, after it
    /// moved to a new one), or one the signer has authority over.
    Revoke {
        /// The key to revoke.
        revoked: KeyId,
    },
}

/// `billflow tx …`.
#[derive(Debug, Subcommand)]
enum TxCommand {
    /// Submit a signed transaction (JSON) and wait for its receipt.
    Submit {
        /// The signed transaction, as JSON.
        file: PathBuf,
        /// Return once the node admits it, without waiting for the commit.
        #[arg(long)]
        no_wait: bool,
    },
    /// A transaction's status and receipt.
    Get {
        /// The transaction id.
        tx_id: TxId,
    },
}

/// `billflow evidence …`.
#[derive(Debug, Subcommand)]
enum EvidenceCommand {
    /// Record a document's SHA-256 on the ledger.
    Submit {
        /// The document.
        file: PathBuf,
        /// What the document is.
        #[arg(long = "type", value_name = "DOC_TYPE", default_value = "document")]
        doc_type: String,
        /// Metadata, KEY=VALUE (repeatable).
        #[arg(long = "meta", value_name = "KEY=VALUE", value_parser = parse_meta)]
        meta: Vec<(String, String)>,
    },
    /// What the ledger holds for a document hash.
    Get {
        /// The document's SHA-256, hex.
        #[arg(value_parser = parse_hash)]
        hash: Hash32,
    },
    /// Verify a document's evidence proof against the genesis file alone.
    Verify {
        /// The document's SHA-256, hex.
        #[arg(value_parser = parse_hash)]
        hash: Hash32,
        /// The genesis file (default: the devnet's).
        #[arg(long, value_name = "FILE")]
        genesis: Option<PathBuf>,
        /// Verify this saved proof (JSON) instead of fetching one: needs no node.
        #[arg(long, value_name = "FILE")]
        proof: Option<PathBuf>,
    },
    /// Save a document's evidence proof as JSON.
    Proof {
        /// The document's SHA-256, hex.
        #[arg(value_parser = parse_hash)]
        hash: Hash32,
        /// The file to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
enum CliError {
    /// The command line does not make sense (exit status 2).
    #[error("{0}")]
    Usage(String),
    /// A local file could not be read or written.
    #[error("{what}: {source}")]
    Io {
        /// Which file, doing what.
        what: String,
        /// Why.
        source: std::io::Error,
    },
    /// A local file's content is not what it should be.
    #[error("{0}")]
    Input(String),
    /// The node refused, failed or could not be reached.
    #[error(transparent)]
    Sdk(#[from] SdkError),
    /// The transaction was recorded with a failed receipt.
    #[error("{}", .0.message)]
    Failed(TxFailure),
    /// The ledger holds nothing by that name.
    #[error("{0}")]
    NotFound(String),
    /// An evidence proof does not hold.
    #[error("{0}")]
    NotVerified(#[from] VerifyError),
}

impl CliError {
    /// The stable code printed before the message.
    fn code(&self) -> &str {
        match self {
            CliError::Usage(_) => "E_USAGE",
            CliError::Io { .. } => "E_IO",
            CliError::Input(_) => "E_INPUT",
            CliError::Sdk(SdkError::Transport(_)) => "E_TRANSPORT",
            CliError::Sdk(SdkError::Stream(_)) => "E_STREAM",
            CliError::Sdk(SdkError::Invalid(_)) => "E_INVALID",
            CliError::Sdk(e) => e.code().unwrap_or("E_UNKNOWN"),
            CliError::Failed(f) => &f.code,
            CliError::NotFound(_) => "E_NOT_FOUND",
            CliError::NotVerified(_) => "E_NOT_VERIFIED",
        }
    }

    /// The message, without the code.
    fn message(&self) -> String {
        match self {
            CliError::Sdk(SdkError::Api { message, .. }) => message.clone(),
            CliError::Sdk(SdkError::Failed(f)) => f.message.clone(),
            CliError::Sdk(SdkError::Transport(e)) => with_causes(e),
            other => other.to_string(),
        }
    }

    /// The node's id for the failed request, if it gave one.
    fn request_id(&self) -> Option<&str> {
        match self {
            CliError::Sdk(SdkError::Api { request_id, .. }) => request_id.as_deref(),
            _ => None,
        }
    }

    /// The process exit status.
    fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            _ => 1,
        }
    }
}

/// An error and its causes, joined by `: `.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            let _ = write!(text, ": {more}");
        }
        cause = c.source();
    }
    text
}

/// `KEY=VALUE` of `--meta`.
fn parse_meta(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got {s:?}")),
    }
}

/// A document hash: 64 hex digits.
fn parse_hash(s: &str) -> Result<Hash32, String> {
    Hash32::from_hex(s).map_err(|e| format!("expected a SHA-256 as 64 hex digits: {e}"))
}

/// What `devnet.json` says that the command line needs.
#[derive(Debug, Deserialize)]
struct DevnetFile {
    /// The chain id.
    chain_id: ChainId,
    /// The genesis file.
    genesis: PathBuf,
    /// The consortium CA certificate.
    ca_cert: PathBuf,
    /// The nodes, voters and observers.
    nodes: Vec<DevnetNode>,
    /// Demo tenant keys; the first is used.
    #[serde(default)]
    tenant_keys: Vec<DevnetKey>,
    /// Demo participants' keys, for `--as`.
    #[serde(default)]
    participant_keys: Vec<ParticipantKey>,
    /// The notary participants' keys, for `--as` too.
    #[serde(default)]
    notary_keys: Vec<ParticipantKey>,
    /// The regulators' keys, for `--as` and `supervise`.
    #[serde(default)]
    regulator_keys: Vec<ParticipantKey>,
}

/// A devnet node.
#[derive(Debug, Deserialize)]
struct DevnetNode {
    /// Its gateway URL.
    api_url: String,
}

/// A devnet key file.
#[derive(Debug, Deserialize)]
struct DevnetKey {
    /// The tenant.
    owner: TenantId,
    /// Its key id.
    key_id: KeyId,
    /// The PKCS#8 PEM file.
    key_file: PathBuf,
}

/// A devnet participant's key file.
#[derive(Debug, Deserialize)]
struct ParticipantKey {
    /// The participant.
    owner: String,
    /// Its key id.
    key_id: KeyId,
    /// The PKCS#8 PEM file.
    key_file: PathBuf,
    /// The tenant it acts under, if devnet.json says.
    #[serde(default)]
    tenant: Option<TenantId>,
    /// `enterprise` or `bank`, if devnet.json says.
    #[serde(default)]
    kind: Option<String>,
}

impl ParticipantKey {
    /// The tenant its transactions name: the entry's own, else the devnet's
    /// tenant (`platform`) for an enterprise, none for a bank. Without a kind,
    /// a participant keyed by a unified social credit code is an enterprise
    /// (the ledger keys enterprises, and only them, so).
    fn tenant(&self, platform: Option<&TenantId>) -> Option<TenantId> {
        if let Some(t) = &self.tenant {
            return Some(t.clone());
        }
        let enterprise = match self.kind.as_deref() {
            Some(kind) => kind == "enterprise",
            None => billflow_sdk::types::ids::is_valid_credit_code(&self.owner),
        };
        if enterprise { platform.cloned() } else { None }
    }
}

/// The connection options with `--devnet` merged in.
#[derive(Debug, Default)]
struct Settings {
    nodes: Vec<String>,
    ca: Option<PathBuf>,
    key: Option<PathBuf>,
    key_id: Option<KeyId>,
    tenant: Option<TenantId>,
    chain_id: Option<ChainId>,
    genesis: Option<PathBuf>,
    /// The participant of `--as`.
    participant: Option<String>,
}

fn read_file(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|source| CliError::Io { what: format!("cannot read {}", path.display()), source })
}

/// Reads a JSON file into `T`.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T, CliError> {
    serde_json::from_slice(&read_file(path)?)
        .map_err(|e| CliError::Input(format!("{} is not a valid {what}: {e}", path.display())))
}

/// Loads `devnet.json` (given as the file or its directory); relative paths
/// in it are taken from its directory.
fn load_devnet(path: &Path) -> Result<DevnetFile, CliError> {
    let file = if path.is_dir() { path.join("devnet.json") } else { path.to_path_buf() };
    let mut devnet: DevnetFile = read_json(&file, "devnet.json")?;
    let base = file.parent().unwrap_or(Path::new("."));
    devnet.genesis = base.join(&devnet.genesis);
    devnet.ca_cert = base.join(&devnet.ca_cert);
    for key in &mut devnet.tenant_keys {
        key.key_file = base.join(&key.key_file);
    }
    for key in devnet.participant_keys.iter_mut().chain(&mut devnet.notary_keys).chain(&mut devnet.regulator_keys) {
        key.key_file = base.join(&key.key_file);
    }
    Ok(devnet)
}

impl Settings {
    /// Merges the options with the devnet's. An explicit `--key` or `--key-id`
    /// replaces the devnet's whole identity (key, key id and tenant).
    fn resolve(conn: &Connection) -> Result<Settings, CliError> {
        if conn.as_participant.is_some() {
            if conn.devnet.is_none() {
                return Err(CliError::Usage("--as needs --devnet (elsewhere give --key and --key-id)".into()));
            }
            if conn.key.is_some() || conn.key_id.is_some() {
                return Err(CliError::Usage("--as signs with the devnet's key: leave out --key and --key-id".into()));
            }
        }
        let mut s = match &conn.devnet {
            Some(path) => Settings::of_devnet(
                load_devnet(path)?,
                conn.key.is_none() && conn.key_id.is_none(),
                conn.as_participant.as_deref(),
            )?,
            None => Settings::default(),
        };
        if !conn.nodes.is_empty() {
            s.nodes = conn.nodes.clone();
        }
        s.ca = conn.ca.clone().or(s.ca);
        s.key = conn.key.clone().or(s.key);
        s.key_id = conn.key_id.clone().or(s.key_id);
        s.tenant = conn.tenant.clone().or(s.tenant);
        s.chain_id = conn.chain_id.clone().or(s.chain_id);
        Ok(s)
    }

    /// The devnet's settings; the identity is `as_participant`'s key, else
    /// (`with_identity`) the first tenant key.
    fn of_devnet(devnet: DevnetFile, with_identity: bool, as_participant: Option<&str>) -> Result<Settings, CliError> {
        let mut s = Settings {
            nodes: devnet.nodes.into_iter().map(|n| n.api_url).collect(),
            ca: Some(devnet.ca_cert),
            chain_id: Some(devnet.chain_id),
            genesis: Some(devnet.genesis),
            ..Settings::default()
        };
        let platform = devnet.tenant_keys.first().map(|k| k.owner.clone());
        if let Some(who) = as_participant {
            let mut keys = devnet.participant_keys.iter().chain(&devnet.notary_keys).chain(&devnet.regulator_keys);
            let Some(key) = keys.find(|k| k.owner == who) else {
                let known: Vec<&str> = devnet
                    .participant_keys
                    .iter()
                    .chain(&devnet.notary_keys)
                    .chain(&devnet.regulator_keys)
                    .map(|k| k.owner.as_str())
                    .collect();
                return Err(CliError::Usage(if known.is_empty() {
                    "devnet.json lists no participant keys for --as".to_string()
                } else {
                    format!("devnet.json has no key of {who}; --as takes one of {}", known.join(", "))
                }));
            };
            s.tenant = key.tenant(platform.as_ref());
            s.key = Some(key.key_file.clone());
            s.key_id = Some(key.key_id.clone());
            s.participant = Some(key.owner.clone());
        } else if let Some(key) = devnet.tenant_keys.into_iter().next().filter(|_| with_identity) {
            s.key = Some(key.key_file);
            s.key_id = Some(key.key_id);
            s.tenant = Some(key.owner);
        }
        Ok(s)
    }

    /// The genesis file: `explicit`, else the devnet's.
    fn genesis(&self, explicit: Option<PathBuf>) -> Result<PathBuf, CliError> {
        explicit
            .or_else(|| self.genesis.clone())
            .ok_or_else(|| CliError::Usage("give the genesis file with --genesis FILE (or --devnet)".into()))
    }
}

/// A connection to the network, with the signer if a key was given.
struct Session {
    /// Every node: submissions move on to the next node inside the SDK.
    client: Client,
    /// One client per node, in order: reads move on to the next node here.
    nodes: Vec<Client>,
    /// The signer, if a key was given.
    signer: Option<Signer>,
}

/// The key file and key id, if a key was given; one without the other is a usage error.
fn identity(s: &Settings) -> Result<Option<(&Path, KeyId)>, CliError> {
    match (&s.key, &s.key_id) {
        (None, None) => Ok(None),
        (Some(key), Some(key_id)) => Ok(Some((key, key_id.clone()))),
        (Some(_), None) => Err(CliError::Usage("--key needs --key-id: the key's id on the ledger".into())),
        (None, Some(_)) => Err(CliError::Usage("--key-id needs --key: the key file".into())),
    }
}

impl Session {
    /// Connects: every request is signed when there is a key. Without
    /// `--chain-id`, the chain id is the first answering node's.
    async fn open(s: &Settings) -> Result<Session, CliError> {
        if s.nodes.is_empty() {
            return Err(CliError::Usage("no node to talk to: give --node URL or --devnet FILE".into()));
        }
        let ca = s.ca.as_deref().map(read_file).transpose()?;
        let build = |urls: &[String]| {
            let builder = Client::builder(urls);
            match &ca {
                Some(pem) => builder.ca_pem(pem.clone()).build(),
                None => builder.build(),
            }
        };
        let nodes = s.nodes.iter().map(|n| build(std::slice::from_ref(n))).collect::<Result<_, _>>()?;
        let mut session = Session { client: build(&s.nodes)?, nodes, signer: None };
        let Some((key, key_id)) = identity(s)? else {
            return Ok(session);
        };
        let chain_id = match &s.chain_id {
            Some(c) => c.clone(),
            None => session.read(|c| async move { c.health().await }).await?.chain_id,
        };
        let signer = Signer::from_key_file(chain_id, s.tenant.clone(), key_id, key)?;
        session.client = session.client.with_auth(signer.clone());
        session.nodes = session.nodes.iter().map(|c| c.with_auth(signer.clone())).collect();
        session.signer = Some(signer);
        Ok(session)
    }

    /// Runs a read on each node in turn until one answers, or fails for a
    /// reason another node would share.
    async fn read<T, F, Fut>(&self, f: F) -> Result<T, SdkError>
    where
        F: Fn(Client) -> Fut,
        Fut: std::future::Future<Output = Result<T, SdkError>>,
    {
        let mut last = None;
        for node in &self.nodes {
            match f(node.clone()).await {
                Err(e) if e.is_retryable() => last = Some(e),
                other => return other,
            }
        }
        Err(last.unwrap_or_else(|| SdkError::Invalid("no node to talk to".into())))
    }

    /// The signer, for commands that sign transactions.
    fn signer(&self) -> Result<&Signer, CliError> {
        self.signer.as_ref().ok_or_else(|| {
            CliError::Usage("this command signs: give --key FILE and --key-id ID (or --devnet, --as)".into())
        })
    }
}

/// Prints `value` as pretty JSON.
fn print_json(value: &impl Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::Input(format!("cannot render JSON: {e}")))?;
    println!("{text}");
    Ok(())
}

/// Prints `value` as JSON with `--json`, else the text `human` makes.
fn emit<T: Serialize>(json: bool, value: &T, human: impl FnOnce(&T) -> String) -> Result<(), CliError> {
    if json {
        print_json(value)
    } else {
        print!("{}", human(value));
        Ok(())
    }
}

/// Unix milliseconds as `YYYY-MM-DD HH:MM:SS.mmm UTC`.
fn utc(ms: u64) -> String {
    let date = billflow_finance::Date::from_day_number((ms / 86_400_000) as i64);
    let of_day = ms % 86_400_000;
    let (h, m, s, milli) = (of_day / 3_600_000, of_day / 60_000 % 60, of_day / 1_000 % 60, of_day % 1_000);
    format!("{date} {h:02}:{m:02}:{s:02}.{milli:03} UTC")
}

// ---- keys ----

/// Creates `path` for writing, refusing an existing file; owner-only on unix.
fn create_private(path: &Path) -> Result<std::fs::File, CliError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(|source| {
        let what = if source.kind() == std::io::ErrorKind::AlreadyExists {
            format!("refusing to overwrite {}", path.display())
        } else {
            format!("cannot create {}", path.display())
        };
        CliError::Io { what, source }
    })
}

/// `keys new`.
fn keys_new(out: &Path, key_id: Option<&KeyId>, json: bool) -> Result<(), CliError> {
    let secret = SecretKey::generate();
    let pem = billflow_sdk::types::keyfile::pkcs8_pem(&secret);
    let mut file = create_private(out)?;
    file.write_all(pem.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|source| CliError::Io { what: format!("cannot write {}", out.display()), source })?;
    let public_key = secret.public().to_hex();
    let mut value = json!({ "public_key": public_key, "key_file": out });
    if let Some(id) = key_id {
        value["key_id"] = json!(id);
    }
    emit(json, &value, |_| match key_id {
        Some(id) => format!("{public_key}\nkey {id} written to {}; register this public key for it\n", out.display()),
        None => format!("{public_key}\nkey written to {}\n", out.display()),
    })
}

/// Signs `call` with the session's key and waits for its receipt.
async fn keys_change(session: &Session, call: SystemCall, json: bool) -> Result<(), CliError> {
    let tx = session.signer()?.system(billflow_sdk::new_tx_id("keys")?, &call);
    let view = session.client.submit_and_wait(&tx, COMMIT_WAIT).await?;
    report_tx(&view, json)
}

// ---- status ----

/// The node's health and network view.
#[derive(Debug, Serialize)]
struct Status {
    health: Health,
    network: NetworkView,
}

/// `status`.
async fn status(session: &Session, json: bool) -> Result<(), CliError> {
    // Both from the same node: the first that answers.
    let (health, network) = session.read(|c| async move { Ok((c.health().await?, c.network().await?)) }).await?;
    emit(json, &Status { health, network }, render_status)
}

fn render_status(s: &Status) -> String {
    let h = &s.health;
    let mut out = format!(
        "node     {} ({})\nchain    {}\nheight   {} (tip {})\npending  {}\nleader   {}\n\n",
        h.node_id,
        h.status,
        h.chain_id,
        h.height,
        h.tip_hash,
        h.pending,
        s.network.leader.as_deref().unwrap_or("none known"),
    );
    let _ = writeln!(out, "{:<20} {:<16} {:<9} {:<10} {:>8}  NOTE", "NODE", "ORG", "ROLE", "CONNECTED", "HEIGHT");
    let _ = writeln!(out, "{:<20} {:<16} {:<9} {:<10} {:>8}  this node", h.node_id, "-", "-", "-", h.height);
    for p in &s.network.peers {
        let role = format!("{:?}", p.role).to_lowercase();
        let connected = if p.connected { "yes" } else { "no" };
        let height = p.height.map_or_else(|| "?".to_string(), |h| h.to_string());
        let note = match (&p.error, p.revoked) {
            (_, true) => "revoked".to_string(),
            (Some(e), false) => e.clone(),
            (None, false) => String::new(),
        };
        let line = format!("{:<20} {:<16} {role:<9} {connected:<10} {height:>8}  {note}", p.node_id, p.org);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

// ---- transactions ----

/// The failure a committed transaction's receipt records, if any.
fn failure(view: &TxView) -> Option<TxFailure> {
    view.receipt.as_ref().and_then(|r| r.failure.clone())
}

fn render_tx(view: &TxView) -> String {
    let mut out = format!("tx       {}\nhash     {}\n", view.tx_id, view.tx_hash);
    match (view.status, view.height) {
        (TxState::Committed, Some(h)) => {
            let _ = writeln!(out, "status   committed at height {h} (index {})", view.index.unwrap_or(0));
        }
        (TxState::Committed, None) => out.push_str("status   committed\n"),
        (TxState::Pending, _) => out.push_str("status   pending\n"),
    }
    if let Some(r) = &view.receipt {
        match &r.failure {
            Some(f) => {
                let _ = writeln!(out, "receipt  failed: {}: {}", f.code, f.message);
            }
            None => {
                let _ = writeln!(out, "receipt  success ({} events, {} fuel)", r.events.len(), r.fuel_used);
            }
        }
    }
    out
}

/// Prints a transaction's view; a failed receipt is an error (exit status 1).
fn report_tx(view: &TxView, json: bool) -> Result<(), CliError> {
    emit(json, view, render_tx)?;
    failure(view).map_or(Ok(()), |f| Err(CliError::Failed(f)))
}

/// `tx submit`.
async fn tx_submit(session: &Session, file: &Path, no_wait: bool, json: bool) -> Result<(), CliError> {
    let tx: SignedTx = read_json(file, "signed transaction")?;
    let view = if no_wait {
        session.client.submit(&tx, false).await?
    } else {
        session.client.submit_and_wait(&tx, COMMIT_WAIT).await?
    };
    report_tx(&view, json)
}

/// `tx get`.
async fn tx_get(session: &Session, tx_id: &TxId, json: bool) -> Result<(), CliError> {
    let view = match session.read(|c| async move { c.transaction(tx_id).await }).await {
        Err(SdkError::Api { status: 404, .. }) => return Err(CliError::NotFound(format!("no transaction {tx_id}"))),
        other => other?,
    };
    report_tx(&view, json)
}

// ---- blocks ----

/// `blocks`.
async fn blocks(session: &Session, before: Option<u64>, limit: u64, json: bool) -> Result<(), CliError> {
    let page = session.read(|c| async move { c.blocks(before, limit).await }).await?;
    emit(json, &page, render_blocks)
}

fn render_blocks(page: &BlockPage) -> String {
    let mut out = format!("{:>8}  {:<64}  {:>4}  {:<27}  PROPOSER\n", "HEIGHT", "HASH", "TXS", "TIME");
    for b in &page.blocks {
        let _ = writeln!(out, "{:>8}  {}  {:>4}  {:<27}  {}", b.height, b.hash, b.tx_count, utc(b.time_ms), b.proposer);
    }
    if let Some(next) = page.next_before {
        let _ = writeln!(out, "(older: --before {next})");
    }
    out
}

// ---- evidence ----

fn evidence_contract() -> Result<ContractName, CliError> {
    ContractName::new(evidence::CONTRACT).map_err(|e| CliError::Input(e.to_string()))
}

/// What `evidence submit` reports.
#[derive(Debug, Serialize)]
struct Submitted {
    hash: Hash32,
    tx: TxView,
}

/// `evidence submit`.
async fn evidence_submit(
    session: &Session,
    file: &Path,
    doc_type: &str,
    meta: Vec<(String, String)>,
    json: bool,
) -> Result<(), CliError> {
    let signer = session.signer()?;
    let hash = evidence::document_hash(&read_file(file)?);
    let name = &evidence_contract()?;
    let contract = session
        .read(|c| async move { c.contract(name).await })
        .await?
        .ok_or_else(|| CliError::NotFound(format!("the {name} contract is not deployed on this network")))?;
    let tx = evidence::submit_tx(signer, billflow_sdk::new_tx_id("ev")?, contract.version, &hash, doc_type, meta);
    let view = session.client.submit_and_wait(&tx, COMMIT_WAIT).await?;
    emit(json, &Submitted { hash, tx: view.clone() }, |s| format!("document {}\n{}", s.hash, render_tx(&s.tx)))?;
    failure(&view).map_or(Ok(()), |f| Err(CliError::Failed(f)))
}

/// The evidence for `hash` from the node; not on the ledger is an error.
async fn fetch_proof(session: &Session, hash: &Hash32) -> Result<EvidenceProof, CliError> {
    session
        .read(|c| async move { c.evidence(hash).await })
        .await?
        .ok_or_else(|| CliError::NotFound(format!("{hash} is not on the ledger")))
}

fn render_summary(hash: &Hash32, s: &EvidenceSummary) -> String {
    let mut out = format!("document  {hash}\ntype      {}\n", s.doc_type);
    for (k, v) in &s.metadata {
        let _ = writeln!(out, "meta      {k}={v}");
    }
    let _ = writeln!(out, "submitter {}\ntx        {}", s.submitter, s.tx_id);
    let _ = writeln!(out, "height    {} ({})", s.height, utc(s.time_ms));
    let notaries = if s.notaries.is_empty() { "none".to_string() } else { s.notaries.join(", ") };
    let _ = writeln!(out, "notaries  {notaries}");
    match s.notarised_at {
        Some(h) => {
            let _ = writeln!(out, "notarised at height {h}");
        }
        None => out.push_str("not notarised\n"),
    }
    out
}

/// `evidence get`.
async fn evidence_get(session: &Session, hash: &Hash32, json: bool) -> Result<(), CliError> {
    let proof = fetch_proof(session, hash).await?;
    emit(json, &proof.summary, |s| render_summary(hash, s))
}

/// `evidence proof`.
async fn evidence_proof(session: &Session, hash: &Hash32, out: &Path, json: bool) -> Result<(), CliError> {
    let proof = fetch_proof(session, hash).await?;
    let text = serde_json::to_vec_pretty(&proof).map_err(|e| CliError::Input(format!("cannot render JSON: {e}")))?;
    std::fs::write(out, text)
        .map_err(|source| CliError::Io { what: format!("cannot write {}", out.display()), source })?;
    emit(json, &json!({ "hash": hash, "proof_file": out }), |_| {
        format!("proof of {hash} written to {}\n", out.display())
    })
}

/// Reads and validates a genesis file.
fn read_genesis(path: &Path) -> Result<Genesis, CliError> {
    let genesis: Genesis = read_json(path, "genesis file")?;
    genesis.validate().map_err(|e| CliError::Input(format!("{} is not a valid genesis: {e}", path.display())))?;
    Ok(genesis)
}

/// What a verified proof shows, as `--json` prints it.
#[derive(Debug, Serialize)]
struct Verified {
    verified: bool,
    hash: Hash32,
    doc_type: String,
    metadata: Vec<(String, String)>,
    submitter: String,
    tx_id: String,
    submitted_at: u64,
    cosigned_by: Vec<String>,
    notarised: bool,
}

impl From<Verdict> for Verified {
    fn from(v: Verdict) -> Verified {
        Verified {
            verified: true,
            hash: v.hash,
            doc_type: v.record.doc_type,
            metadata: v.record.metadata,
            submitter: v.record.submitter,
            tx_id: v.record.tx_id,
            submitted_at: v.submitted_at,
            cosigned_by: v.cosigned_by,
            notarised: v.notarised,
        }
    }
}

fn render_verified(v: &Verified) -> String {
    let n = v.cosigned_by.len();
    let notaries = if n == 1 { "notary" } else { "notaries" };
    let tail =
        if v.notarised { format!("notarised by {n} {notaries}") } else { format!("not notarised ({n} co-signatures)") };
    format!("verified: submitted at height {} by {}; {tail}\n", v.submitted_at, v.submitter)
}

/// `evidence verify`: the proof from `proof_file` (offline) or the node.
async fn evidence_verify(
    settings: &Settings,
    hash: &Hash32,
    genesis: Option<PathBuf>,
    proof_file: Option<&Path>,
    json: bool,
) -> Result<(), CliError> {
    let genesis = read_genesis(&settings.genesis(genesis)?)?;
    let proof: EvidenceProof = match proof_file {
        Some(path) => read_json(path, "evidence proof")?,
        None => fetch_proof(&Session::open(settings).await?, hash).await?,
    };
    match evidence::verify(&proof, &genesis, hash) {
        Ok(verdict) => emit(json, &Verified::from(verdict), render_verified),
        Err(e) => {
            if json {
                print_json(&json!({ "verified": false, "hash": hash, "error": e.to_string() }))?;
            }
            Err(CliError::NotVerified(e))
        }
    }
}

// ---- dispatch ----

/// Resolves the connection options and connects.
async fn connect(conn: &Connection) -> Result<Session, CliError> {
    Session::open(&Settings::resolve(conn)?).await
}

async fn run_evidence(conn: &Connection, command: EvidenceCommand, json: bool) -> Result<(), CliError> {
    match command {
        EvidenceCommand::Verify { hash, genesis, proof } => {
            evidence_verify(&Settings::resolve(conn)?, &hash, genesis, proof.as_deref(), json).await
        }
        EvidenceCommand::Submit { file, doc_type, meta } => {
            evidence_submit(&connect(conn).await?, &file, &doc_type, meta, json).await
        }
        EvidenceCommand::Get { hash } => evidence_get(&connect(conn).await?, &hash, json).await,
        EvidenceCommand::Proof { hash, out } => evidence_proof(&connect(conn).await?, &hash, &out, json).await,
    }
}

/// `supervise`: prints the stream until the node closes it.
async fn supervise(
    mut conn: Connection,
    from: Option<String>,
    types: Vec<String>,
    participant: Option<String>,
) -> Result<(), CliError> {
    if let (Some(path), None, None, None) = (&conn.devnet, &conn.as_participant, &conn.key, &conn.key_id) {
        let devnet = load_devnet(path)?;
        let regulator = devnet.regulator_keys.first().ok_or_else(|| {
            CliError::Usage("devnet.json names no regulator key: give --as or --key and --key-id".into())
        })?;
        conn.as_participant = Some(regulator.owner.clone());
    }
    let session = connect(&conn).await?;
    let types: Vec<&str> = types.iter().map(String::as_str).collect();
    let mut stream = session.client.supervise(from.as_deref(), &types, participant.as_deref()).await?;
    let mut out = std::io::stdout().lock();
    while let Some(event) = stream.next().await {
        let line = serde_json::to_string(&event?).map_err(|e| CliError::Input(e.to_string()))?;
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .map_err(|source| CliError::Io { what: "cannot write to standard output".into(), source })?;
    }
    Ok(())
}

/// Connects and runs a flows command.
async fn run_flows(conn: &Connection, command: flows_cli::FlowsCommand, json: bool) -> Result<(), CliError> {
    let settings = Settings::resolve(conn)?;
    let session = Session::open(&settings).await?;
    let cx = flows_cli::Cx { session: &session, participant: settings.participant.as_deref(), json };
    flows_cli::run(&cx, command).await
}

async fn run(cli: Cli) -> Result<(), CliError> {
    use flows_cli::FlowsCommand as F;
    let Cli { conn, json, command } = cli;
    match command {
        Command::Party { command } => run_flows(&conn, F::Party(command), json).await,
        Command::Order { command } => run_flows(&conn, F::Order(command), json).await,
        Command::Invoice { command } => run_flows(&conn, F::Invoice(command), json).await,
        Command::Bill { command } => run_flows(&conn, F::Bill(command), json).await,
        Command::Fund { command } => run_flows(&conn, F::Fund(command), json).await,
        Command::Risk { command } => run_flows(&conn, F::Risk(command), json).await,
        Command::Keys { command: KeysCommand::New { out } } => keys_new(&out, conn.key_id.as_ref(), json),
        Command::Keys { command: KeysCommand::AddTenantKey { for_tenant, new_key_id, public_key } } => {
            let session = connect(&conn).await?;
            let tenant = match for_tenant.or_else(|| session.signer().ok()?.tenant.clone()) {
                Some(t) => t,
                None => return Err(CliError::Usage("name the tenant with --for TENANT".into())),
            };
            let key = KeyGrant { key_id: new_key_id, public_key };
            keys_change(&session, SystemCall::AddTenantKey(AddTenantKey { tenant, key }), json).await
        }
        Command::Keys { command: KeysCommand::Revoke { revoked } } => {
            let call = SystemCall::RevokeKey(RevokeKey { key_id: revoked });
            keys_change(&connect(&conn).await?, call, json).await
        }
        Command::Evidence { command } => run_evidence(&conn, command, json).await,
        Command::Status => status(&connect(&conn).await?, json).await,
        Command::Inbox => {
            let inbox = connect(&conn).await?.read(|c| async move { c.inbox().await }).await?;
            emit(json, &inbox, flows_cli::inbox_text)
        }
        Command::Admin { command } => admin_cli::run(&connect(&conn).await?, command, json).await,
        Command::Blocks { before, limit } => blocks(&connect(&conn).await?, before, limit, json).await,
        Command::Supervise { from, types, participant } => supervise(conn, from, types, participant).await,
        Command::Tx { command: TxCommand::Submit { file, no_wait } } => {
            tx_submit(&connect(&conn).await?, &file, no_wait, json).await
        }
        Command::Tx { command: TxCommand::Get { tx_id } } => tx_get(&connect(&conn).await?, &tx_id, json).await,
    }
}

/// Prints `error: CODE: message` (and the node's request id) to stderr.
fn report(e: &CliError) {
    let mut line = format!("error: {}: {}", e.code(), e.message());
    if let Some(id) = e.request_id() {
        let _ = write!(line, " (request id {id})");
    }
    eprintln!("{line}");
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(&e);
            ExitCode::from(e.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn meta_pairs_split_at_the_first_equals_sign() {
        assert_eq!(parse_meta("no=INV-1=a"), Ok(("no".into(), "INV-1=a".into())));
        assert!(parse_meta("=x").is_err());
        assert!(parse_meta("novalue").is_err());
    }

    #[test]
    fn utc_renders_civil_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00.000 UTC");
        assert_eq!(utc(951_782_400_123), "2000-02-29 00:00:00.123 UTC");
        assert_eq!(utc(1_735_689_599_999), "2024-12-31 23:59:59.999 UTC");
    }

    #[test]
    fn explicit_options_override_the_devnet() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        std::fs::write(
            dir.join("devnet.json"),
            r#"{"chain_id":"c1","genesis":"g.json","ca_cert":"ca.pem",
                "nodes":[{"api_url":"https://a"},{"api_url":"https://b"}],
                "tenant_keys":[{"owner":"t1","key_id":"t1.k1","key_file":"t1.key"}]}"#,
        )
        .unwrap();
        let parse = |args: &[&str]| {
            let mut all = vec!["billflow", "--devnet", dir.to_str().unwrap()];
            all.extend_from_slice(args);
            Settings::resolve(&Cli::try_parse_from(all).unwrap().conn).unwrap()
        };
        let s = parse(&["status"]);
        assert_eq!(s.nodes, ["https://a", "https://b"]);
        assert_eq!(s.ca, Some(dir.join("ca.pem")));
        assert_eq!(s.key_id.unwrap().as_str(), "t1.k1");
        assert_eq!(s.tenant.unwrap().as_str(), "t1");
        let s = parse(&["status", "--node", "https://c", "--key", "k.pem", "--key-id", "org.admin"]);
        assert_eq!(s.nodes, ["https://c"]);
        assert_eq!(s.key_id.unwrap().as_str(), "org.admin");
        assert_eq!(s.tenant, None, "another key does not act under the devnet's tenant");
    }

    /// Parses a command line after `billflow`.
    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("billflow").chain(args.iter().copied()))
    }

    #[test]
    fn flows_commands_parse_amounts_dates_and_rates() {
        use billflow_sdk::flows::finance::{Date, RatePpm};
        use flows_cli::{BillCommand, BillType, FundCommand, OrderCommand, PolicyCommand};

        let cli = parse(&[
            "bill",
            "issue",
            "523456789012345678901234567890",
            "--type",
            "supply-chain",
            "--amount",
            "1,000,000",
            "--issue-date",
            "2025-03-06",
            "--due-date",
            "2025-09-06",
            "--acceptor",
            "C",
            "--payee",
            "S",
            "--non-splittable",
        ])
        .unwrap();
        let Command::Bill {
            command: BillCommand::Issue { kind, amount, due_date, non_splittable, non_transferable, .. },
        } = cli.command
        else {
            panic!("not bill issue")
        };
        assert_eq!((kind, amount, due_date), (BillType::SupplyChain, 100_000_000, Date::parse("2025-09-06").unwrap()));
        assert!(non_splittable && !non_transferable);

        let cli =
            parse(&["--json", "order", "create", "O-1", "--seller", "S", "--amount", "12.30", "--date", "2025-03-06"])
                .unwrap();
        assert!(cli.json);
        assert!(matches!(cli.command, Command::Order { command: OrderCommand::Create { amount: 1_230, .. } }));

        let cli = parse(&["bill", "approve", "flows-00aa", "--rate", "1.5"]).unwrap();
        assert!(matches!(cli.command, Command::Bill { command: BillCommand::Approve { rate: RatePpm(15_000), .. } }));

        let cli = parse(&[
            "bill",
            "discount",
            "523456789012345678901234567890",
            "--start",
            "1",
            "--end",
            "600000",
            "--bank",
            "bank-a",
            "--order",
            "O-1",
            "--invoice",
            "3100231130:00000001",
            "--invoice",
            ":12345678901234567890",
        ])
        .unwrap();
        let Command::Bill { command: BillCommand::Discount { invoices, .. } } = cli.command else { panic!() };
        assert_eq!((invoices[0].code.as_str(), invoices[1].code.as_str()), ("3100231130", ""));

        let cli = parse(&[
            "bill",
            "policy",
            "set",
            "--acceptor",
            "C",
            "--max-amount",
            "1000000",
            "--band",
            "180:1.8",
            "--band",
            "90:1.5",
        ])
        .unwrap();
        let Command::Bill { command: BillCommand::Policy { command: PolicyCommand::Set { bands, daily_limit, .. } } } =
            cli.command
        else {
            panic!()
        };
        assert_eq!((bands.len(), bands[1].rate, daily_limit), (2, RatePpm(15_000), None));

        let cli = parse(&["fund", "report", "flows-00aa.disb", "--success", "SN-1"]).unwrap();
        assert!(matches!(cli.command, Command::Fund { command: FundCommand::Report { success: Some(_), .. } }));
        assert!(parse(&["bill", "holdings"]).is_ok(), "the party defaults to --as");
    }

    #[test]
    fn bad_flows_arguments_are_usage_errors() {
        use clap::error::ErrorKind;
        let bad = [
            &["order", "create", "O-1", "--seller", "S", "--amount", "1.234", "--date", "2025-03-06"][..],
            &["order", "create", "O-1", "--seller", "S", "--amount", "-5", "--date", "2025-03-06"],
            &["order", "create", "O-1", "--seller", "S", "--amount", "5", "--date", "2025-02-30"],
            &["bill", "approve", "R", "--rate", "1.23456"],
            &["bill", "endorse", "B", "--to", "S", "--start", "1"],
            &[
                "bill",
                "issue",
                "B",
                "--type",
                "cheque",
                "--amount",
                "1",
                "--issue-date",
                "2025-03-06",
                "--due-date",
                "2025-04-06",
                "--acceptor",
                "C",
                "--payee",
                "S",
            ],
            &["bill", "discount", "B", "--start", "1", "--end", "2", "--bank", "b", "--order", "O"],
            &["bill", "discount", "B", "--start", "1", "--end", "2", "--bank", "b", "--order", "O", "--invoice", "123"],
            &["fund", "report", "M"],
            &["fund", "report", "M", "--success", "SN", "--failed", "no"],
            &["party", "register", "--bank", "b", "--account-number", "6222-0202", "--city", "Suzhou"],
        ];
        for args in bad {
            let e = parse(args).err().unwrap_or_else(|| panic!("{args:?} parsed"));
            assert_eq!(e.exit_code(), 2, "{args:?}");
            assert_ne!(e.kind(), ErrorKind::DisplayHelp);
        }
        let e = parse(&["order", "create", "O-1", "--seller", "S", "--amount", "1.234", "--date", "2025-03-06"])
            .err()
            .unwrap();
        assert_eq!(e.kind(), ErrorKind::ValueValidation);
        assert!(e.to_string().contains("not a positive amount of yuan in whole fen"), "{e}");
    }

    #[test]
    fn as_signs_with_a_devnet_participant_key() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("as");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("devnet.json"),
            r#"{"chain_id":"c1","genesis":"g.json","ca_cert":"ca.pem","nodes":[{"api_url":"https://a"}],
                "tenant_keys":[{"owner":"demo-platform","key_id":"demo-platform.k1","key_file":"t.key"}],
                "participant_keys":[
                  {"owner":"91320500MA1FL0002T","key_id":"supa.k1","key_file":"keys/supa.key"},
                  {"owner":"bank-a","key_id":"bank-a.k1","key_file":"keys/bank-a.key"},
                  {"owner":"XYZ","key_id":"xyz.k1","key_file":"x.key","kind":"enterprise"},
                  {"owner":"91320500MA1FL0SUPA","key_id":"odd.k1","key_file":"odd.key"},
                  {"owner":"other","key_id":"o.k1","key_file":"o.key","tenant":"t2"}],
                "notary_keys":[{"owner":"notary-1-notary","key_id":"notary-1-notary.k1","key_file":"n.key"}]}"#,
        )
        .unwrap();
        let devnet = dir.to_str().unwrap();
        let resolve = |extra: &[&str]| {
            let mut args = vec!["--devnet", devnet];
            args.extend_from_slice(extra);
            args.push("status");
            Settings::resolve(&parse(&args).unwrap().conn)
        };
        let s = resolve(&["--as", "91320500MA1FL0002T"]).unwrap();
        assert_eq!(s.key, Some(dir.join("keys/supa.key")));
        assert_eq!(s.key_id.unwrap().as_str(), "supa.k1");
        assert_eq!(s.tenant.unwrap().as_str(), "demo-platform", "enterprises act under the devnet's tenant");
        assert_eq!(s.participant.as_deref(), Some("91320500MA1FL0002T"));
        let s = resolve(&["--as", "bank-a"]).unwrap();
        assert_eq!((s.key_id.unwrap().as_str(), s.tenant), ("bank-a.k1", None), "banks have no tenant");
        assert_eq!(resolve(&["--as", "XYZ"]).unwrap().tenant.unwrap().as_str(), "demo-platform");
        assert_eq!(
            resolve(&["--as", "91320500MA1FL0SUPA"]).unwrap().tenant,
            None,
            "not a credit code, no kind: a bank"
        );
        assert_eq!(resolve(&["--as", "other"]).unwrap().tenant.unwrap().as_str(), "t2");
        let s = resolve(&["--as", "notary-1-notary"]).unwrap();
        assert_eq!((s.key, s.tenant), (Some(dir.join("n.key")), None), "notaries verify invoices");
        // Without --as: the tenant key, as before.
        let s = resolve(&[]).unwrap();
        assert_eq!((s.key_id.unwrap().as_str(), s.participant), ("demo-platform.k1", None));
        // Refused: an unknown participant, --as with a key, --as without a devnet.
        assert!(matches!(resolve(&["--as", "nobody"]), Err(CliError::Usage(m)) if m.contains("bank-a")));
        assert!(matches!(resolve(&["--as", "bank-a", "--key-id", "k"]), Err(CliError::Usage(_))));
        let alone = Settings::resolve(&parse(&["--as", "bank-a", "status"]).unwrap().conn);
        assert!(matches!(alone, Err(CliError::Usage(_))));
    }
}
