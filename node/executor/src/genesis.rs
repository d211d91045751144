//! The genesis block: built from the genesis document alone, identically on every node.

use std::collections::BTreeMap;

use billflow_types::system::{
    KeyRecord, KeyStatus, NodeRecord, NodeStatus, Principal, RecordKind, TenantRecord, state_key, system_contract,
};
use billflow_types::{
    Block, BlockHeader, Canonical, ConsensusRef, Genesis, GenesisKey, Hash32, NodeId, StateChange, merkle_root,
    state::chain_state_hash,
};

/// The genesis block and its state changes. Its state hash chains from the genesis hash.
pub fn genesis_block(genesis: &Genesis) -> (Block, Vec<StateChange>) {
    let system = system_contract();
    let mut state = BTreeMap::new();
    let key = |k: &GenesisKey, owner: Principal| {
        let record = KeyRecord {
            key_id: k.key_id.clone(),
            public_key: k.public_key,
            owner,
            status: KeyStatus::Active,
            added_at_height: 0,
        };
        (state_key(RecordKind::Key, k.key_id.as_str()), record.encode())
    };
    let mut entries = Vec::new();
    for org in &genesis.organisations {
        entries.push((state_key(RecordKind::Org, org.id.as_str()), crate::system::org_record(org).encode()));
        for k in &org.admin_keys {
            entries.push(key(k, Principal::Admin(org.id.clone())));
        }
    }
    for t in &genesis.tenants {
        let record = TenantRecord {
            id: t.id.clone(),
            name: t.name.clone(),
            registered_by: t.registered_by.clone(),
            registered_at_height: 0,
        };
        entries.push((state_key(RecordKind::Tenant, t.id.as_str()), record.encode()));
        for k in &t.keys {
            entries.push(key(k, Principal::Tenant(t.id.clone())));
        }
    }
    for n in &genesis.nodes {
        let record = NodeRecord {
            id: n.id.clone(),
            org: n.org.clone(),
            public_key: n.public_key,
            peer_id: n.peer_id.clone(),
            role: n.role,
            status: NodeStatus::Active,
            address: n.address.clone(),
        };
        entries.push((state_key(RecordKind::Node, n.id.as_str()), record.encode()));
    }
    entries.push((state_key(RecordKind::Policy, "admin"), genesis.admin_policy.encode()));
    state.extend(entries);
    let changes: Vec<StateChange> = state
        .into_iter()
        .map(|(key, value)| StateChange { contract: system.clone(), key, value: Some(value) })
        .collect();
    #[allow(clippy::expect_used)]
    let proposer = NodeId::new("genesis").expect("valid constant");
    let header = BlockHeader {
        chain_id: genesis.chain_id.clone(),
        height: 0,
        prev_hash: Hash32::ZERO,
        tx_root: merkle_root(&[]),
        receipts_root: merkle_root(&[]),
        state_hash: chain_state_hash(&genesis.hash(), &changes),
        tx_count: 0,
        proposer,
        proposed_at_ms: genesis.genesis_time_ms,
        consensus: ConsensusRef::default(),
        voters_hash: billflow_types::voter_set_hash(&genesis.voters()),
    };
    (Block { header, txs: Vec::new() }, changes)
}
