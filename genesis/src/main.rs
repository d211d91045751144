//! `billflow-genesis`: creates a consortium's founding material and inspects it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use billflow_genesis::ceremony::{self, AssembleSpec, OrgInitSpec};
use billflow_genesis::certs::role_name;
use billflow_genesis::keys::{KeySource, pkcs8_pem, read_key};
use billflow_genesis::{Ca, InitSpec, NodeCertSpec, OrgSpec, inspect};
use billflow_types::{
    ChainId, ChainParams, GenesisKey, GenesisSignature, GenesisTenant, NodeId, OrgId, OrgRole, PublicKey, TenantId,
};
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
    /// One organisation's part of the founding ceremony, run on its own machine.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Build the unsigned genesis document from the founders' public bundles.
    Assemble {
        /// A founding organisation's bundle.json. Repeat for each.
        #[arg(long = "bundle", required = true)]
        bundles: Vec<PathBuf>,
        /// The chain id.
        #[arg(long)]
        chain_id: ChainId,
        /// A tenant registered from the start, as NAME:SPONSOR_ORG:PUBLIC_KEY_HEX
        /// (the tenant keeps its private key). Repeat for each.
        #[arg(long = "tenant", value_parser = parse_genesis_tenant)]
        tenants: Vec<GenesisTenant>,
        /// Organisations that must approve an administrative action (default: a strict majority).
        #[arg(long)]
        min_approving_orgs: Option<u32>,
        /// The share of organisations that must approve an administrative
        /// action, in percent (default, with neither this nor
        /// --min-approving-orgs: a strict majority).
        #[arg(long)]
        min_share_percent: Option<u32>,
        /// Genesis time as Unix seconds (default: now).
        #[arg(long)]
        genesis_time: Option<i64>,
        /// Most transactions in a block.
        #[arg(long, default_value_t = ChainParams::default().max_txs_per_block)]
        max_txs: u32,
        /// Longest wait before a partial block is cut, in ms.
        #[arg(long, default_value_t = ChainParams::default().max_block_wait_ms)]
        max_wait_ms: u64,
        /// Where to write the genesis document.
        #[arg(long)]
        out: PathBuf,
    },
    /// Sign a genesis document as a founding organisation's administrator.
    Sign {
        /// The genesis document.
        #[arg(long)]
        genesis: PathBuf,
        /// The administrator's private key (its organisation's admin.key).
        #[arg(long)]
        key: PathBuf,
        /// Where to write the signature.
        #[arg(long)]
        out: PathBuf,
    },
    /// Check founders' signatures and add them to the genesis document.
    Attach {
        /// The genesis document (rewritten in place unless --out is given).
        #[arg(long)]
        genesis: PathBuf,
        /// A signature file written by `sign`. Repeat for each.
        #[arg(long = "signature", required = true)]
        signatures: Vec<PathBuf>,
        /// Where to write the signed genesis.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write a node's node.toml from the signed genesis and its organisation's directory.
    NodeConfig {
        /// The signed genesis document.
        #[arg(long)]
        genesis: PathBuf,
        /// The organisation's directory (as `org init` made it).
        #[arg(long)]
        org_dir: PathBuf,
        /// The node.
        #[arg(long)]
        node: NodeId,
        /// The client (REST) listen address (default: the peer address's host, next port).
        #[arg(long)]
        api_listen: Option<std::net::SocketAddr>,
        /// The node is not in genesis: it joins once an administrative proposal adds it.
        #[arg(long)]
        joining: bool,
    },
    /// A whole consortium on one machine, for tests and demonstrations: the
    /// ceremony run for every organisation, each in its own directory.
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
        /// Certify this existing node key (PKCS#8 PEM) instead of making a
        /// new one: a node keeps its identity when its organisation's CA changes.
        #[arg(long)]
        key: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Create the organisation's CA, administrator key, node keys and
    /// certificates, and its public bundle.json (which holds no private key).
    Init {
        /// The organisation's id.
        #[arg(long)]
        org: OrgId,
        /// Its role: notary, bank or regulator.
        #[arg(long, value_parser = parse_role)]
        role: OrgRole,
        /// How many nodes it runs.
        #[arg(long, default_value_t = 1)]
        nodes: usize,
        /// Host names or addresses for node certificates; the first is used in node addresses.
        #[arg(long = "host")]
        hosts: Vec<String>,
        /// First peer port: node k listens on base+2k (and serves clients on base+2k+1).
        #[arg(long, default_value_t = 7100)]
        base_port: u16,
        /// Output directory (must not exist or be empty).
        #[arg(long)]
        out: PathBuf,
    },
    /// Create a new CA for the organisation (to rotate to): DIR/ca.pem and DIR/ca.key.
    NewCa {
        /// The organisation's id.
        #[arg(long)]
        org: OrgId,
        /// Output directory (must not exist or be empty).
        #[arg(long)]
        out: PathBuf,
    },
}

fn parse_genesis_tenant(s: &str) -> Result<GenesisTenant, String> {
    let mut parts = s.splitn(3, ':');
    let (Some(name), Some(org), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("expected NAME:SPONSOR_ORG:PUBLIC_KEY_HEX".into());
    };
    let id: TenantId = name.parse().map_err(|e| format!("{e}"))?;
    let public_key = PublicKey::from_hex(key).map_err(|e| format!("public key: {e}"))?;
    public_key.validate().map_err(|_| "public key: not a valid ed25519 key".to_string())?;
    Ok(GenesisTenant {
        name: id.to_string(),
        registered_by: org.parse().map_err(|e| format!("{e}"))?,
        keys: vec![GenesisKey { key_id: format!("{id}.key1").parse().map_err(|e| format!("{e}"))?, public_key }],
        id,
    })
}

fn now() -> Result<OffsetDateTime> {
    OffsetDateTime::now_utc().replace_nanosecond(0).context("clock")
}

/// `--genesis-time` as given (Unix seconds), else now.
fn genesis_time_or_now(seconds: Option<i64>) -> Result<OffsetDateTime> {
    match seconds {
        Some(t) => OffsetDateTime::from_unix_timestamp(t).context("--genesis-time is out of range"),
        None => now(),
    }
}

/// One line naming a node's configuration file and addresses.
fn print_node_config(config: &billflow_genesis::NodeConfig, path: &std::path::Path) {
    println!("node {} config {} p2p {} api {}", config.node_id, path.display(), config.p2p_listen, config.api_listen);
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
        Command::Org { command: OrgCommand::Init { org, role, nodes, hosts, base_port, out } } => {
            let spec = OrgInitSpec { org, role, nodes, hosts, keys: KeySource::Random, not_before: now()?, base_port };
            let bundle = ceremony::org_init(&out, &spec).context("cannot create the organisation")?;
            println!("organisation {} ({}) in {}", bundle.org, role_name(role), out.display());
            for n in &bundle.nodes {
                println!("node {} peer id {} at {}", n.id, n.peer_id, n.address);
            }
            println!("send {} to the other founders; it holds no private key", out.join("bundle.json").display());
            println!("keep {} offline: it issues this organisation's certificates", out.join("ca.key").display());
            Ok(())
        }
        Command::Assemble {
            bundles,
            chain_id,
            tenants,
            min_approving_orgs,
            min_share_percent,
            genesis_time,
            max_txs,
            max_wait_ms,
            out,
        } => {
            if out.exists() {
                bail!("{} exists: nothing was written", out.display());
            }
            let bundles = bundles
                .into_iter()
                .map(|path| ceremony::read_bundle(&path).map(|b| (path, b)))
                .collect::<Result<Vec<_>, _>>()?;
            let genesis_time = genesis_time_or_now(genesis_time)?;
            let params =
                ChainParams { max_txs_per_block: max_txs, max_block_wait_ms: max_wait_ms, ..ChainParams::default() };
            let genesis = ceremony::assemble(&AssembleSpec {
                chain_id,
                genesis_time_ms: (genesis_time.unix_timestamp_nanos() / 1_000_000) as u64,
                params,
                bundles,
                tenants,
                min_approving_orgs,
                min_share_percent,
            })?;
            ceremony::write_genesis(&out, &genesis)?;
            println!("genesis {} (hash {})", out.display(), genesis.hash());
            let orgs: Vec<&str> = genesis.organisations.iter().map(|o| o.id.as_str()).collect();
            println!("to be signed by every founding organisation: {}", orgs.join(", "));
            Ok(())
        }
        Command::Sign { genesis, key, out } => {
            let document = ceremony::read_genesis(&genesis)?;
            let key = read_key(&key)?;
            let sig = ceremony::sign(&document, &key)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("cannot sign {}", genesis.display()))?;
            let json = serde_json::to_string_pretty(&sig)?;
            std::fs::write(&out, json + "\n").with_context(|| format!("cannot write {}", out.display()))?;
            println!("{} signed genesis {} with {}", sig.org, document.hash(), sig.key_id);
            Ok(())
        }
        Command::Attach { genesis, signatures, out } => {
            let mut document = ceremony::read_genesis(&genesis)?;
            for path in &signatures {
                let text = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
                let sig: GenesisSignature = serde_json::from_slice(&text)
                    .with_context(|| format!("{} is not a genesis signature", path.display()))?;
                ceremony::attach(&mut document, sig)
                    .with_context(|| format!("{}: refused; nothing was written", path.display()))?;
            }
            let out = out.unwrap_or(genesis);
            ceremony::write_genesis(&out, &document)?;
            match document.verify_signatures() {
                Ok(()) => println!("genesis {} is signed by every founding organisation", document.hash()),
                Err(e) => println!("genesis {} written; still needed: {e}", out.display()),
            }
            Ok(())
        }
        Command::NodeConfig { genesis, org_dir, node, api_listen, joining } => {
            let (config, path) = ceremony::node_config(&genesis, &org_dir, &node, api_listen, joining)?;
            print_node_config(&config, &path);
            Ok(())
        }
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
            let keys = match seed {
                Some(hex_seed) => {
                    let mut s = [0u8; 32];
                    hex::decode_to_slice(&hex_seed, &mut s).context("--seed must be 64 hex digits")?;
                    KeySource::Seeded(s)
                }
                None => KeySource::Random,
            };
            let genesis_time = genesis_time_or_now(genesis_time)?;
            let params =
                ChainParams { max_txs_per_block: max_txs, max_block_wait_ms: max_wait_ms, ..ChainParams::default() };
            let spec =
                InitSpec { chain_id, orgs, nodes_per_org, hosts, tenants, keys, genesis_time, base_port, params };
            let output = billflow_genesis::init(&out, &spec).context("cannot create the consortium")?;
            println!("genesis {} (hash {})", output.genesis_path.display(), output.genesis.hash());
            for (config, path) in &output.nodes {
                print_node_config(config, path);
            }
            for (tenant, key_id, path) in &output.tenant_keys {
                println!("tenant {tenant} key {key_id} at {}", path.display());
            }
            println!("every organisation's CA, for clients: {}", output.cas_path.display());
            Ok(())
        }
        Command::Inspect { file } => {
            print!("{}", inspect::describe_file(&file).map_err(anyhow::Error::msg)?);
            Ok(())
        }
        Command::Org { command: OrgCommand::NewCa { org, out } } => {
            let path = ceremony::new_ca(&out, &org, now()?)?;
            println!("new CA of {org}: {}", path.display());
            println!("keep {} offline: it issues this organisation's certificates", out.join("ca.key").display());
            Ok(())
        }
        Command::IssueNode { ca, node_id, org, role, hosts, out, days, key } => {
            let ca = Ca::load(&ca.join("ca.pem"), &ca.join("ca.key"))?;
            let key = match key {
                Some(path) => read_key(&path)?,
                None => KeySource::Random.key("node"),
            };
            let now = now()?;
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
