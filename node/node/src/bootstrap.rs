//! What a new devnet needs before anyone uses it: the evidence contract
//! deployed (proposed and approved by the organisations, as on a real
//! network) and one notary participant per notary office to co-sign evidence.
//! Every step is skipped when already done, so restarting a devnet repeats
//! nothing.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use billflow_contracts::evidence::EvidenceConfig;
use billflow_contracts::flows::FlowsConfig;
use billflow_genesis::keys::pkcs8_pem;
use billflow_sdk::types::contract::Registrations;
use billflow_sdk::types::system::{AdminAction, KeyGrant, ParticipantKind, RegisterParticipant, SystemCall};
use billflow_sdk::types::{ContractName, Genesis, OrgRole, SecretKey, TxId, Version};
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
    retry(deadline, || client.carry_out(admins, &id, action.clone()))
        .await
        .with_context(|| format!("deploying {name}"))?;
    println!("deployed contract {name} 1.0.0");
    Ok(())
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
        let id: TxId = format!("register-{}", key.owner).parse()?;
        let tx = admins[admin].system(id, &call);
        let as_admin = client.with_auth(admins[admin].clone());
        let view = retry(deadline, || as_admin.submit(&tx, true)).await?;
        match view.receipt.and_then(|r| r.failure) {
            None => println!("registered notary {}", key.owner),
            Some(f) if f.code == "E_PARTICIPANT_EXISTS" => {}
            Some(f) => bail!("registering notary {}: {}: {}", key.owner, f.code, f.message),
        }
    }
    crate::demo::register_participants(devnet, genesis, &client, deadline).await?;
    Ok(())
}
