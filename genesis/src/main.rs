//! `billflow-genesis`: creates a consortium's founding material and inspects it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use billflow_genesis::keys::{KeySource, pkcs8_pem};
use billflow_genesis::{Ca, InitSpec, NodeCertSpec, OrgSpec, inspect};
use billflow_types::{ChainId, ChainParams, NodeId, OrgId, OrgRole, TenantId};
use clap::{Parser, Subcommand};
use time::{Duration, OffsetDateTime};

#[derive(Parser)]
#[command(name = "billflow-genesis", version, about = "Create and inspect a billflow consortium's genesis material")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the root CA, organisation and node certificates, tenant keys,
    /// genesis.json and one configuration file per node.
    Init {
        /// Output directory (must not exist or be empty).
        #[arg(long)]
        out: PathBuf,
        /// An organisation as NAME:ROLE, ROLE one of notary, bank, regulator. Repeat for each.
        #[arg(long = "org", required = true, value_parser = parse_org)]
        orgs: Vec<OrgSpec>,
        /// Nodes per organisation.
        #[arg(long, default_value_t = 1)]
        nodes_per_org: usize,
        /// Host names or addresses for node certificates; the first is used in node addresses.
        #[arg(long = "host")]
        hosts: Vec<String>,
        /// A tenant to register from the start, as NAME:ORG. Repeat for each.
        #[arg(long = "tenant", value_parser = parse_tenant)]
        tenants: Vec<(TenantId, OrgId)>,
        /// The chain id.
        #[arg(long, default_value = "billflow")]
        chain_id: ChainId,
        /// Derive every key from this 64-hex-digit seed instead of the OS random source
        /// (reproducible output, for tests and demos only).
        #[arg(long)]
        seed: Option<String>,
        /// Genesis time as Unix seconds (default: now).
        #[arg(long)]
        genesis_time: Option<i64>,
        /// First port of the node addresses.
        #[arg(long, default_value_t = 7100)]
        base_port: u16,
        /// Most transactions in a block.
        #[arg(long, default_value_t = ChainParams::default().max_txs_per_block)]
        max_txs: u32,
        /// Longest wait before a partial block is cut, in ms.
        #[arg(long, default_value_t = ChainParams::default().max_block_wait_ms)]
        max_wait_ms: u64,
    },
    /// Describe a genesis document, a certificate or a node configuration.
    Inspect {
        /// The file.
        file: PathBuf,
    },
    /// Issue a certificate and key for a node joining later.
    IssueNode {
        /// Directory holding the CA's ca.pem and ca.key.
        #[arg(long)]
        ca: PathBuf,
        /// The new node's id.
        #[arg(long)]
        node_id: NodeId,
        /// Its organisation.
        #[arg(long)]
        org: OrgId,
        /// The organisation's role.
        #[arg(long, value_parser = parse_role)]
        role: OrgRole,
        /// Host names or addresses.
        #[arg(long = "host")]
        hosts: Vec<String>,
        /// Where to write node.pem and node.key.
        #[arg(long)]
        out: PathBuf,
        /// Validity in days.
        #[arg(long, default_value_t = 730)]
        days: i64,
    },
}

fn parse_role(s: &str) -> Result<OrgRole, String> {
    match s {
        "notary" => Ok(OrgRole::Notary),
        "bank" => Ok(OrgRole::Bank),
        "regulator" => Ok(OrgRole::Regulator),
        other => Err(format!("role must be notary, bank or regulator, not {other:?}")),
    }
}

fn parse_org(s: &str) -> Result<OrgSpec, String> {
    let (name, role) = s.split_once(':').ok_or("expected NAME:ROLE")?;
    Ok(OrgSpec { id: name.parse().map_err(|e| format!("{e}"))?, role: parse_role(role)? })
}

fn parse_tenant(s: &str) -> Result<(TenantId, OrgId), String> {
    let (name, org) = s.split_once(':').ok_or("expected NAME:ORG")?;
    Ok((name.parse().map_err(|e| format!("{e}"))?, org.parse().map_err(|e| format!("{e}"))?))
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Init {
            out,
            orgs,
            nodes_per_org,
            hosts,
            tenants,
            chain_id,
            seed,
            genesis_time,
            base_port,
            max_txs,
            max_wait_ms,
        } => {
            if out.exists() && out.read_dir().map(|mut d| d.next().is_some()).unwrap_or(true) {
                bail!("{} exists and is not empty", out.display());
            }
            for (tenant, org) in &tenants {
                if !orgs.iter().any(|o| &o.id == org) {
                    bail!("tenant {tenant} names organisation {org}, which is not given with --org");
                }
            }
            let keys = match seed {
                Some(hex_seed) => {
                    let mut s = [0u8; 32];
                    hex::decode_to_slice(&hex_seed, &mut s).context("--seed must be 64 hex digits")?;
                    KeySource::Seeded(s)
                }
                None => KeySource::Random,
            };
            let genesis_time = match genesis_time {
                Some(t) => OffsetDateTime::from_unix_timestamp(t).context("--genesis-time is out of range")?,
                None => OffsetDateTime::now_utc().replace_nanosecond(0).context("clock")?,
            };
            let params =
                ChainParams { max_txs_per_block: max_txs, max_block_wait_ms: max_wait_ms, ..ChainParams::default() };
            let spec =
                InitSpec { chain_id, orgs, nodes_per_org, hosts, tenants, keys, genesis_time, base_port, params };
            let output = billflow_genesis::init(&out, &spec).context("cannot create the consortium")?;
            println!("genesis {} (hash {})", output.genesis_path.display(), output.genesis.hash());
            for (config, path) in &output.nodes {
                println!(
                    "node {} config {} p2p {} api {}",
                    config.node_id,
                    path.display(),
                    config.p2p_listen,
                    config.api_listen
                );
            }
            for (tenant, key_id, path) in &output.tenant_keys {
                println!("tenant {tenant} key {key_id} at {}", path.display());
            }
            println!("keep {} offline: it can admit anyone to the consortium", out.join("ca/ca.key").display());
            Ok(())
        }
        Command::Inspect { file } => {
            print!("{}", inspect::describe_file(&file).map_err(anyhow::Error::msg)?);
            Ok(())
        }
        Command::IssueNode { ca, node_id, org, role, hosts, out, days } => {
            let ca = Ca::load(&ca.join("ca.pem"), &ca.join("ca.key"))?;
            let key = KeySource::Random.key("node");
            let now = OffsetDateTime::now_utc().replace_nanosecond(0).context("clock")?;
            let spec = NodeCertSpec {
                node_id: node_id.clone(),
                org,
                role,
                hosts,
                not_before: now,
                not_after: now + Duration::days(days),
            };
            let cert = ca.issue_node(&spec, &key)?;
            std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
            std::fs::write(out.join("node.pem"), &cert.pem)
                .with_context(|| format!("cannot write {}", out.display()))?;
            std::fs::write(out.join("node.key"), pkcs8_pem(&key))
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!("node {node_id} peer id {} public key {}", key.public().peer_id(), key.public().to_hex());
            Ok(())
        }
    }
}
