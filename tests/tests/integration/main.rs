//! Integration suites: real `billflow-node` processes on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod bad_input;
mod bench;
mod cli;
mod cluster;
mod consortium;
mod crash;
mod devnet;
mod explorer;
mod faults;
mod flows;
mod https;
mod interfaces;
mod operations;
mod privacy;
mod raft;
mod schemathesis;
mod sdks;
mod single_node;
mod supervision;
mod tamper;
mod voters;

use billflow_sdk::Signer;
use billflow_sdk::types::system::{KeyGrant, ParticipantKind, RegisterParticipant, SystemCall};
use billflow_sdk::types::{KeyId, SecretKey, SignedTx, TxId};

/// A registration of a fresh enterprise `n` by the development tenant, with one new key.
pub fn register_enterprise(tenant: &Signer, n: u64, tx_id: &str) -> (SignedTx, KeyId, SecretKey) {
    let secret = SecretKey::generate();
    let key_id: KeyId = format!("ent-{n}.k1").parse().unwrap();
    let call = SystemCall::RegisterParticipant(RegisterParticipant {
        participant: billflow_tests::credit_code(n),
        kind: ParticipantKind::Enterprise,
        name: format!("Enterprise {n} Trading Co., Ltd."),
        keys: vec![KeyGrant { key_id: key_id.clone(), public_key: secret.public() }],
    });
    (tenant.system(tx_id.parse::<TxId>().unwrap(), &call), key_id, secret)
}
