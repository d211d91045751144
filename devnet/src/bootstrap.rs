//! What a new devnet needs before anyone uses it: the evidence contract
//! deployed (proposed and approved by the organisations, as on a real
//! network) and one notary participant per notary office to co-sign evidence.
//!
//! A devnet is set up again each time it starts, after a clean stop or a crash
//! half-way through. What the ledger already holds counts as done: a deployed
//! contract is there to see, and every registration carries an id that is the
//! same on every run, so a rerun finds the id taken and reads the outcome of
//! the earlier transaction instead. Only one that committed successfully (or
//! was refused because what it registers exists) is done; one that failed is
//! submitted again.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use billflow_contracts::evidence::EvidenceConfig;
use billflow_contracts::flows::FlowsConfig;
use billflow_genesis::keys::pkcs8_pem;
use billflow_sdk::types::contract::Registrations;
use billflow_sdk::types::system::{AdminAction, KeyGrant, ParticipantKind, RegisterParticipant, SystemCall};
use billflow_sdk::types::view::TxState;
use billflow_sdk::types::{ContractName, Genesis, OrgRole, Receipt, SecretKey, SignedTx, TxId, Version};
use billflow_sdk::{Client, SdkError, Signer};

use crate::devnet::{Devnet, DevnetKey};

/// The evidence contract's name on a devnet.
pub const EVIDENCE: &str = "evidence";
/// The flows contract's name on a devnet.
pub const FLOWS: &str = "flows";

/// The notary participant of `org` and its key file.
pub fn notary_key(dir: &Path, org: &str) -> DevnetKey {
    DevnetKey {
        owner: format!("{org}-notary"),
        key_id: format!("{org}-notary.k1"),
        key_file: dir.join("orgs").join(org).join("notary.key"),
    }
}

/// Writes a new notary key for every notary office that has none.
pub fn create_notary_keys(dir: &Path, genesis: &Genesis) -> Result<Vec<DevnetKey>> {
    let mut keys = Vec::new();
    for org in genesis.organisations.iter().filter(|o| o.role == OrgRole::Notary) {
        let key = notary_key(dir, org.id.as_str());
        if !key.key_file.exists() {
            let secret = SecretKey::generate();
            std::fs::write(&key.key_file, pkcs8_pem(&secret))
                .with_context(|| format!("cannot write {}", key.key_file.display()))?;
        }
        keys.push(key);
    }
    Ok(keys)
}

pub(crate) fn signer(genesis: &Genesis, key: &DevnetKey) -> Result<Signer> {
    Ok(Signer::from_key_file(genesis.chain_id.clone(), None, key.key_id.parse()?, &key.key_file)?)
}

/// Waits until the network commits a transaction through `client`.
async fn ready(client: &Client, deadline: Instant) -> Result<()> {
    loop {
        match client.health().await {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() > deadline => bail!("the devnet did not come up: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Retries `f` while the network is still electing a leader or catching up.
pub(crate) async fn retry<T, F, Fut>(deadline: Instant, mut f: F) -> Result<T, SdkError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, SdkError>>,
{
    loop {
        match f().await {
            Err(e) if Instant::now() < deadline && e.is_retryable() => {
                tokio::time::sleep(Duration::from_millis(300)).await
            }
            other => return other,
        }
    }
}

/// Deploys contract `name` 1.0.0 through a propose/approve round, unless it is there.
async fn deploy(
    client: &Client,
    admins: &[Signer],
    name: &str,
    code: &[u8],
    registrations: &Registrations,
    init_args: Vec<u8>,
    deadline: Instant,
) -> Result<()> {
    let name: ContractName = name.parse()?;
    if client.contract(&name).await?.is_some() {
        return Ok(());
    }
    let action = AdminAction::DeployContract {
        name: name.clone(),
        version: Version::new(1, 0, 0),
        code: code.to_vec(),
        registrations: registrations.clone(),
        init_args,
    };
    let id: TxId = format!("deploy-{name}-{}", billflow_sdk::now_ms()).parse()?;
    match retry(deadline, || client.carry_out(admins, &id, action.clone())).await {
        Ok(_) => println!("deployed contract {name} 1.0.0"),
        // The node asked first had not applied the deployment yet.
        Err(e) if e.code() == Some("E_CONTRACT_EXISTS") && client.contract(&name).await?.is_some() => {}
        Err(e) => return Err(e).with_context(|| format!("deploying {name}")),
    }
    Ok(())
}

/// A transaction of the setup as the ledger holds it.
pub(crate) struct Recorded {
    /// The transaction's id.
    pub id: TxId,
    /// Its receipt.
    pub receipt: Receipt,
    /// Whether an earlier run recorded it rather than this one.
    pub earlier: bool,
}

/// Submits `tx`, signed by `who`, until it commits, and returns its receipt.
/// When its id is taken (`E_DUPLICATE_TX`), the receipt is that of the
/// transaction recorded under it, once committed and after checking it is
/// the same call by the same key: an earlier run's.
pub(crate) async fn record(client: &Client, who: &Signer, tx: &SignedTx, deadline: Instant) -> Result<Recorded> {
    let client = client.with_auth(who.clone());
    let id = &tx.tx.tx_id;
    loop {
        let within = deadline.saturating_duration_since(Instant::now());
        match client.submit_and_wait(tx, within).await {
            Ok(view) => {
                let receipt = view.receipt.with_context(|| format!("transaction {id} committed without a receipt"))?;
                return Ok(Recorded { id: id.clone(), receipt, earlier: false });
            }
            Err(e) if e.code() == Some("E_DUPLICATE_TX") => {
                if let Some(receipt) = earlier(&client, tx).await? {
                    return Ok(Recorded { id: id.clone(), receipt, earlier: true });
                }
                // The transaction under that id is pending, or was dropped with
                // the mempool of a node that stopped: submitting again tells which.
                if Instant::now() >= deadline {
                    bail!("transaction {id} is taken by one that has not committed");
                }
            }
            // A key registered by the step before may not be applied yet on the node asked.
            Err(e) if e.code() == Some("E_UNKNOWN_KEY") && Instant::now() < deadline => {}
            Err(e) => return Err(e).with_context(|| format!("transaction {id}")),
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The receipt of the committed transaction with `tx`'s id, if it is `tx`'s
/// call by `tx`'s key (`client` signs as that key); `None` while it is pending
/// or not to be found.
async fn earlier(client: &Client, tx: &SignedTx) -> Result<Option<Receipt>> {
    let id = &tx.tx.tx_id;
    let view = match client.transaction(id).await {
        Ok(view) => view,
        Err(e) if e.is_retryable() || e.code() == Some("E_NOT_FOUND") => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading transaction {id}")),
    };
    let (TxState::Committed, Some(height), Some(index), Some(receipt)) =
        (view.status, view.height, view.index, view.receipt)
    else {
        return Ok(None);
    };
    let block = client.block(height).await.with_context(|| format!("reading block {height}"))?;
    let recorded = block.txs.get(index as usize).and_then(|t| t.tx.as_ref()).map(|t| &t.tx);
    match recorded {
        Some(r)
            if r.tx_id == *id
                && r.signer == tx.tx.signer
                && r.contract == tx.tx.contract
                && r.method == tx.tx.method =>
        {
            Ok(Some(receipt))
        }
        _ => bail!("transaction id {id} is taken by another call than {} {}", tx.tx.contract, tx.tx.method),
    }
}

/// Registers something once: `build` signs the registration under an id,
/// first `id` (the same on every run). Refused with `exists`, it is on the
/// ledger already. If an earlier run's registration under `id` failed, it is
/// not done: it is submitted again under a new id. Returns whether this run
/// registered it.
pub(crate) async fn register_once(
    client: &Client,
    who: &Signer,
    id: &str,
    exists: &str,
    build: impl Fn(TxId) -> SignedTx,
    deadline: Instant,
) -> Result<bool> {
    let mut done = record(client, who, &build(id.parse()?), deadline).await?;
    if done.earlier && done.receipt.failure.as_ref().is_some_and(|f| f.code != exists) {
        done = record(client, who, &build(billflow_sdk::new_tx_id(id)?), deadline).await?;
    }
    match &done.receipt.failure {
        None => Ok(!done.earlier),
        Some(f) if f.code == exists => Ok(false),
        Some(f) => bail!("{}: {}: {}", done.id, f.code, f.message),
    }
}

/// Deploys the evidence and flows contracts, registers the notaries and the
/// demo's participants, unless done.
pub async fn bootstrap(devnet: &Devnet, genesis: &Genesis) -> Result<()> {
    let urls: Vec<&str> = devnet.nodes.iter().map(|n| n.api_url.as_str()).collect();
    if urls.is_empty() {
        bail!("the devnet has no node");
    }
    let ca = std::fs::read(&devnet.ca_cert).with_context(|| format!("cannot read {}", devnet.ca_cert.display()))?;
    let client = Client::builder(urls).ca_pem(ca).build()?;
    let deadline = Instant::now() + Duration::from_secs(60);
    ready(&client, deadline).await?;
    let admins: Vec<Signer> = devnet.admin_keys.iter().map(|k| signer(genesis, k)).collect::<Result<_>>()?;
    let registrations = Registrations {
        orgs: genesis.organisations.iter().map(|o| o.id.clone()).collect(),
        tenants: genesis.tenants.iter().map(|t| t.id.clone()).collect(),
    }
    .normalised();
    let notaries = genesis.organisations.iter().filter(|o| o.role == OrgRole::Notary).count() as u32;
    let evidence = borsh::to_vec(&EvidenceConfig { notary_threshold: notaries.clamp(1, 2) })?;
    deploy(&client, &admins, EVIDENCE, billflow_contracts::EVIDENCE, &registrations, evidence, deadline).await?;
    let flows = borsh::to_vec(&FlowsConfig::default())?;
    deploy(&client, &admins, FLOWS, billflow_contracts::FLOWS, &registrations, flows, deadline).await?;
    for key in &devnet.notary_keys {
        let org = key.owner.trim_end_matches("-notary");
        let admin = devnet
            .admin_keys
            .iter()
            .position(|k| k.owner == org)
            .with_context(|| format!("no administrator key for {org}"))?;
        let notary = signer(genesis, key)?;
        let call = SystemCall::RegisterParticipant(RegisterParticipant {
            participant: key.owner.parse()?,
            kind: ParticipantKind::Notary,
            name: format!("Notary of {org}"),
            keys: vec![KeyGrant { key_id: notary.key_id.clone(), public_key: notary.secret.public() }],
        });
        let id = format!("register-{}", key.owner);
        let build = |id| admins[admin].system(id, &call);
        let registered = register_once(&client, &admins[admin], &id, "E_PARTICIPANT_EXISTS", build, deadline)
            .await
            .with_context(|| format!("registering notary {}", key.owner))?;
        if registered {
            println!("registered notary {}", key.owner);
        }
    }
    crate::demo::register_participants(devnet, genesis, &client, deadline).await?;
    Ok(())
}
