//! The development chain: a genesis and keys for trying billflow on one machine.
//!
//! Every key here is derived from a public label, so anyone can sign as any of
//! these identities. Never use the development genesis for real business.

use sha2::{Digest, Sha256};

use crate::crypto::SecretKey;
use crate::genesis::{AdminPolicy, ChainParams, Genesis, GenesisKey, GenesisOrg, GenesisTenant, OrgRole};
use crate::ids::{ChainId, KeyId, OrgId, TenantId};

/// The development chain id.
pub const DEV_CHAIN_ID: &str = "billflow-dev";
/// The development notary office and its administrator key.
pub const DEV_NOTARY: (&str, &str) = ("notary-dev", "notary-dev.admin");
/// The development bank and its administrator key.
pub const DEV_BANK: (&str, &str) = ("bank-dev", "bank-dev.admin");
/// The development regulator and its administrator key.
pub const DEV_REGULATOR: (&str, &str) = ("regulator-dev", "regulator-dev.admin");
/// The development tenant platform and its API key.
pub const DEV_TENANT: (&str, &str) = ("demo-platform", "demo-platform.key1");

/// The development key with id `key_id` (derived from the id; public knowledge).
pub fn dev_key(key_id: &str) -> SecretKey {
    let seed: [u8; 32] = Sha256::digest(format!("billflow development key {key_id}").as_bytes()).into();
    SecretKey::from_seed(seed)
}

#[allow(clippy::expect_used)]
fn id<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().expect("valid constant")
}

fn key(key_id: &str) -> GenesisKey {
    GenesisKey { key_id: id::<KeyId>(key_id), public_key: dev_key(key_id).public() }
}

/// The development genesis.
pub fn dev_genesis() -> Genesis {
    let org = |(name, admin): (&str, &str), role| GenesisOrg {
        id: id::<OrgId>(name),
        name: name.to_string(),
        role,
        admin_keys: vec![key(admin)],
        ca_cert_pem: None,
    };
    let genesis = Genesis {
        chain_id: id::<ChainId>(DEV_CHAIN_ID),
        genesis_time_ms: 1_767_225_600_000, // 2026-01-01T00:00:00Z
        params: ChainParams::default(),
        organisations: vec![
            org(DEV_NOTARY, OrgRole::Notary),
            org(DEV_BANK, OrgRole::Bank),
            org(DEV_REGULATOR, OrgRole::Regulator),
        ],
        tenants: vec![GenesisTenant {
            id: id::<TenantId>(DEV_TENANT.0),
            name: "Demo supply-chain platform".into(),
            registered_by: id::<OrgId>(DEV_NOTARY.0),
            keys: vec![key(DEV_TENANT.1)],
        }],
        nodes: Vec::new(),
        admin_policy: AdminPolicy::majority(3),
        signatures: Vec::new(),
    };
    dev_signed(genesis)
}

/// `genesis` signed by each organisation's first administrator key, which
/// must be a development key ([`dev_key`] of its id): for tests that change
/// the development genesis and need it signed again.
pub fn dev_signed(mut genesis: Genesis) -> Genesis {
    genesis.signatures = Vec::new();
    genesis.signatures = genesis
        .organisations
        .iter()
        .filter_map(|o| o.admin_keys.first().map(|k| (o, k)))
        .map(|(o, k)| genesis.sign(o.id.clone(), k.key_id.clone(), &dev_key(k.key_id.as_str())))
        .collect();
    genesis
}

/// Development enterprise `n`'s registration (credit code `91310000` and `n`
/// in nine digits, one key `e{n}.k1`), transaction `reg-{n}` signed by the
/// development tenant's key at `timestamp_ms`: a valid transaction for tests
/// of the development chain.
pub fn dev_registration(n: u64, timestamp_ms: u64) -> crate::SignedTx {
    use crate::system::{KeyGrant, ParticipantKind, RegisterParticipant, SYSTEM_VERSION, SystemCall, system_contract};
    let body = format!("91310000{n:09}");
    let check = crate::ids::credit_code_check_char(&body).map_or(String::new(), |c| c.to_string());
    let call = SystemCall::RegisterParticipant(RegisterParticipant {
        participant: id(&format!("{body}{check}")),
        kind: ParticipantKind::Enterprise,
        name: format!("E{n}"),
        keys: vec![KeyGrant { key_id: id(&format!("e{n}.k1")), public_key: dev_key(&format!("e{n}.k1")).public() }],
    });
    crate::Tx {
        chain_id: id(DEV_CHAIN_ID),
        tx_id: id(&format!("reg-{n}")),
        tenant: Some(id(DEV_TENANT.0)),
        signer: id(DEV_TENANT.1),
        contract: system_contract(),
        version: SYSTEM_VERSION,
        method: call.method_name(),
        args: call.encode_args(),
        timestamp_ms,
    }
    .sign(&dev_key(DEV_TENANT.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_genesis_is_valid_and_stable() {
        let g = dev_genesis();
        assert_eq!(g.validate(), Ok(()));
        assert_eq!(g.hash(), dev_genesis().hash());
        assert_eq!(dev_key("a").public(), dev_key("a").public());
        assert_ne!(dev_key("a").public(), dev_key("b").public());
    }
}
