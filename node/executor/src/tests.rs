use billflow_storage::Store;
use billflow_types::dev::{DEV_BANK, DEV_NOTARY, DEV_REGULATOR, DEV_TENANT, dev_genesis, dev_key};
use billflow_types::system::{
    AddKey, AddTenantKey, KeyGrant, ParticipantKind, RegisterParticipant, RegisterTenant, RevokeKey, SYSTEM_VERSION,
    SetFrozen, SystemCall, system_contract,
};
use billflow_types::{
    BlockProposal, ConsensusRef, KeyId, ParticipantId, Rejection, SecretKey, SignedTx, Tx, TxStatus, Version,
    ids::credit_code_check_char,
};

use super::*;

const T0: u64 = 1_767_225_600_000 + 86_400_000;

struct Env {
    _dir: tempfile::TempDir,
    store: Store,
    executor: Executor,
    seq: u64,
}

fn code(n: u64) -> ParticipantId {
    let body = format!("91310000{n:09}");
    format!("{body}{}", credit_code_check_char(&body).unwrap()).parse().unwrap()
}

impl Env {
    fn new() -> Env {
        Env::with_genesis(&dev_genesis())
    }

    /// A chain of `genesis`, which must keep the development chain id and
    /// keys (its founders' signatures are made again here).
    fn with_genesis(genesis: &billflow_types::Genesis) -> Env {
        let genesis = &billflow_types::dev::dev_signed(genesis.clone());
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let executor = Executor::new(genesis).unwrap();
        executor.init(&store, genesis).unwrap();
        Env { _dir: dir, store, executor, seq: 0 }
    }

    fn tx(&mut self, key_id: &str, secret: &SecretKey, tenant: Option<&str>, call: &SystemCall) -> SignedTx {
        self.seq += 1;
        Tx {
            chain_id: dev_genesis().chain_id,
            tx_id: format!("t-{}", self.seq).parse().unwrap(),
            tenant: tenant.map(|t| t.parse().unwrap()),
            signer: key_id.parse().unwrap(),
            contract: system_contract(),
            version: SYSTEM_VERSION,
            method: call.method_name(),
            args: call.encode_args(),
            timestamp_ms: T0,
        }
        .sign(secret)
    }

    fn tenant_tx(&mut self, call: &SystemCall) -> SignedTx {
        self.tx(DEV_TENANT.1, &dev_key(DEV_TENANT.1), Some(DEV_TENANT.0), call)
    }

    fn admin_tx(&mut self, admin: (&str, &str), call: &SystemCall) -> SignedTx {
        self.tx(admin.1, &dev_key(admin.1), None, call)
    }

    fn apply(&self, txs: Vec<SignedTx>) -> Executed {
        let proposal = BlockProposal { proposer: "n1".parse().unwrap(), proposed_at_ms: T0, txs };
        self.executor.apply(&self.store, &proposal, ConsensusRef::default(), Vec::new()).unwrap()
    }

    /// Applies one transaction and returns its receipt's failure code (`None`: success).
    fn outcome(&self, tx: SignedTx) -> Option<String> {
        let executed = self.apply(vec![tx]);
        assert!(executed.rejected.is_empty(), "{:?}", executed.rejected);
        let receipt = &executed.block.unwrap().receipts[0];
        receipt.failure.as_ref().map(|f| f.code.clone())
    }
}

fn enterprise(n: u64, key: &str) -> SystemCall {
    SystemCall::RegisterParticipant(RegisterParticipant {
        participant: code(n),
        kind: ParticipantKind::Enterprise,
        name: format!("Enterprise {n}"),
        keys: vec![KeyGrant { key_id: key.parse().unwrap(), public_key: dev_key(key).public() }],
    })
}

#[test]
fn registration_follows_the_authority_rules() {
    let mut env = Env::new();
    let tenant_call = SystemCall::RegisterTenant(RegisterTenant {
        tenant: "second-platform".parse().unwrap(),
        name: "Second platform".into(),
        keys: vec![KeyGrant { key_id: "second.k1".parse().unwrap(), public_key: dev_key("second.k1").public() }],
    });
    let by_tenant = env.tenant_tx(&tenant_call);
    assert_eq!(env.outcome(by_tenant).as_deref(), Some("E_UNAUTHORIZED"));
    let by_admin = env.admin_tx(DEV_NOTARY, &tenant_call);
    assert_eq!(env.outcome(by_admin), None);
    let again = env.admin_tx(DEV_NOTARY, &tenant_call);
    assert_eq!(env.outcome(again).as_deref(), Some("E_TENANT_EXISTS"));

    let ent = env.tenant_tx(&enterprise(1, "e1.k1"));
    assert_eq!(env.outcome(ent), None);
    let ent_by_admin = env.admin_tx(DEV_NOTARY, &enterprise(2, "e2.k1"));
    assert_eq!(env.outcome(ent_by_admin).as_deref(), Some("E_UNAUTHORIZED"));
    let bank = SystemCall::RegisterParticipant(RegisterParticipant {
        participant: "bank-dev-branch-1".parse().unwrap(),
        kind: ParticipantKind::Bank,
        name: "Dev Bank Shanghai Branch".into(),
        keys: vec![],
    });
    let bank_by_tenant = env.tenant_tx(&bank);
    assert_eq!(env.outcome(bank_by_tenant).as_deref(), Some("E_UNAUTHORIZED"));
    let bank_by_admin = env.admin_tx(DEV_BANK, &bank);
    assert_eq!(env.outcome(bank_by_admin), None);

    let mut bad_code = enterprise(3, "e3.k1");
    if let SystemCall::RegisterParticipant(r) = &mut bad_code {
        r.participant = "91310000000000003X".parse().unwrap();
    }
    let bad = env.tenant_tx(&bad_code);
    assert_eq!(env.outcome(bad).as_deref(), Some("E_INVALID_CREDIT_CODE"));
    let reused_key = env.tenant_tx(&enterprise(4, "e1.k1"));
    assert_eq!(env.outcome(reused_key).as_deref(), Some("E_KEY_EXISTS"));
}

#[test]
fn a_failed_transaction_writes_nothing() {
    let mut env = Env::new();
    // The tenant record would be written before the second key is found to clash.
    let call = SystemCall::RegisterTenant(RegisterTenant {
        tenant: "half-done".parse().unwrap(),
        name: "Half done".into(),
        keys: vec![
            KeyGrant { key_id: "fresh.k1".parse().unwrap(), public_key: dev_key("fresh.k1").public() },
            KeyGrant { key_id: DEV_TENANT.1.parse().unwrap(), public_key: dev_key("x").public() },
        ],
    });
    let tx = env.admin_tx(DEV_NOTARY, &call);
    let executed = env.apply(vec![tx]);
    let stored = executed.block.unwrap();
    assert_eq!(stored.receipts[0].status, TxStatus::Failed);
    assert!(stored.changes.is_empty(), "{:?}", stored.changes);
    assert_eq!(env.store.state_get(&system_contract(), b"tenant/half-done").unwrap(), None);
    assert_eq!(env.store.state_get(&system_contract(), b"key/fresh.k1").unwrap(), None);
}

/// A tenant platform rotates its own key: the old key adds the new one, the
/// new one revokes the old. Its registering organisation may add keys too;
/// nobody else may.
#[test]
fn a_tenant_rotates_its_key_and_only_it_or_its_organisation_add_keys() {
    let mut env = Env::new();
    let grant = |key_id: &str| KeyGrant { key_id: key_id.parse().unwrap(), public_key: dev_key(key_id).public() };
    let add = |tenant: &str, key_id: &str| {
        SystemCall::AddTenantKey(AddTenantKey { tenant: tenant.parse().unwrap(), key: grant(key_id) })
    };
    let register = env.tenant_tx(&enterprise(1, "e1.k1"));
    assert_eq!(env.outcome(register), None);
    let cases: [(&str, SignedTx, Option<&str>); 6] = [
        (
            "by a participant of the tenant",
            env.tx("e1.k1", &dev_key("e1.k1"), Some(DEV_TENANT.0), &add(DEV_TENANT.0, "t.k9")),
            Some("E_UNAUTHORIZED"),
        ),
        ("by another organisation", env.admin_tx(DEV_BANK, &add(DEV_TENANT.0, "t.k9")), Some("E_UNAUTHORIZED")),
        (
            "for a tenant nobody registered",
            env.admin_tx(DEV_NOTARY, &add("no-such-tenant", "t.k9")),
            Some("E_UNKNOWN_TENANT"),
        ),
        ("by the tenant itself, with its current key", env.tenant_tx(&add(DEV_TENANT.0, "demo-platform.key2")), None),
        ("a key id already used", env.tenant_tx(&add(DEV_TENANT.0, "e1.k1")), Some("E_KEY_EXISTS")),
        (
            "by the organisation that registered it",
            env.admin_tx(DEV_NOTARY, &add(DEV_TENANT.0, "demo-platform.key3")),
            None,
        ),
    ];
    for (what, tx, expected) in cases {
        assert_eq!(env.outcome(tx).as_deref(), expected, "{what}");
    }
    // The new key signs for the tenant and revokes the old one; the old one is refused from then on.
    let new_key = |env: &mut Env, call: &SystemCall| {
        env.tx("demo-platform.key2", &dev_key("demo-platform.key2"), Some(DEV_TENANT.0), call)
    };
    let by_new = new_key(&mut env, &enterprise(2, "e2.k1"));
    assert_eq!(env.outcome(by_new), None);
    let revoke = new_key(&mut env, &SystemCall::RevokeKey(RevokeKey { key_id: DEV_TENANT.1.parse().unwrap() }));
    assert_eq!(env.outcome(revoke), None);
    let by_old = env.tenant_tx(&enterprise(3, "e3.k1"));
    let executed = env.apply(vec![by_old]);
    assert_eq!(executed.rejected[0].reason, Rejection::KeyRevoked(DEV_TENANT.1.parse().unwrap()));
}

#[test]
fn keys_added_and_revoked_within_a_block_take_effect_in_order() {
    let mut env = Env::new();
    let register = env.tenant_tx(&enterprise(1, "e1.k1"));
    let ent_call = SystemCall::AddKey(AddKey {
        participant: code(1),
        key: KeyGrant { key_id: "e1.k2".parse().unwrap(), public_key: dev_key("e1.k2").public() },
    });
    // Signed by a key registered earlier in the same block.
    let add = env.tx("e1.k1", &dev_key("e1.k1"), Some(DEV_TENANT.0), &ent_call);
    let revoke = env.tenant_tx(&SystemCall::RevokeKey(RevokeKey { key_id: "e1.k1".parse().unwrap() }));
    let after_revoke = env.tx("e1.k1", &dev_key("e1.k1"), Some(DEV_TENANT.0), &enterprise(2, "e2.k1"));
    let by_new_key = env.tx("e1.k2", &dev_key("e1.k2"), Some(DEV_TENANT.0), &enterprise(3, "e3.k1"));
    let executed = env.apply(vec![register, add, revoke, after_revoke.clone(), by_new_key]);
    assert_eq!(executed.rejected.len(), 1);
    assert_eq!(executed.rejected[0].tx_id, after_revoke.tx.tx_id);
    assert_eq!(executed.rejected[0].reason, Rejection::KeyRevoked("e1.k1".parse().unwrap()));
    let stored = executed.block.unwrap();
    let codes: Vec<_> = stored.receipts.iter().map(|r| r.failure.as_ref().map(|f| f.code.as_str())).collect();
    // A participant may not register participants, whatever key it uses.
    assert_eq!(codes, [None, None, None, Some("E_UNAUTHORIZED")]);
}

#[test]
fn frozen_participants_cannot_act_and_cannot_unfreeze_themselves() {
    let mut env = Env::new();
    let register = env.tenant_tx(&enterprise(1, "e1.k1"));
    assert_eq!(env.outcome(register), None);
    let freeze = SystemCall::FreezeParticipant(SetFrozen { participant: code(1), reason: "court order".into() });
    let unfreeze = SystemCall::UnfreezeParticipant(SetFrozen { participant: code(1), reason: String::new() });
    let self_freeze = env.tx("e1.k1", &dev_key("e1.k1"), Some(DEV_TENANT.0), &freeze);
    assert_eq!(env.outcome(self_freeze).as_deref(), Some("E_UNAUTHORIZED"));
    let freeze_tx = env.tenant_tx(&freeze);
    assert_eq!(env.outcome(freeze_tx), None);
    let add = SystemCall::AddKey(AddKey {
        participant: code(1),
        key: KeyGrant { key_id: "e1.k2".parse().unwrap(), public_key: dev_key("e1.k2").public() },
    });
    let while_frozen = env.tx("e1.k1", &dev_key("e1.k1"), Some(DEV_TENANT.0), &add);
    assert_eq!(env.outcome(while_frozen).as_deref(), Some("E_PARTICIPANT_FROZEN"));
    let self_unfreeze = env.tx("e1.k1", &dev_key("e1.k1"), Some(DEV_TENANT.0), &unfreeze);
    assert_eq!(env.outcome(self_unfreeze).as_deref(), Some("E_PARTICIPANT_FROZEN"));
    let unfreeze_tx = env.tenant_tx(&unfreeze);
    assert_eq!(env.outcome(unfreeze_tx), None);
    let after = env.tx("e1.k1", &dev_key("e1.k1"), Some(DEV_TENANT.0), &add);
    assert_eq!(env.outcome(after), None);
    // Another organisation has no authority over this tenant's participants.
    let by_bank = env.admin_tx(DEV_BANK, &freeze);
    assert_eq!(env.outcome(by_bank).as_deref(), Some("E_UNAUTHORIZED"));
    let by_notary = env.admin_tx(DEV_NOTARY, &freeze);
    assert_eq!(env.outcome(by_notary), None);
}

#[test]
fn calls_name_a_known_contract_version_and_method() {
    let mut env = Env::new();
    let mut wrong = |f: &dyn Fn(&mut Tx)| {
        let mut tx = env.tenant_tx(&enterprise(1, "e1.k1")).tx;
        f(&mut tx);
        tx.sign(&dev_key(DEV_TENANT.1))
    };
    let unknown_contract = wrong(&|t| t.contract = "bill".parse().unwrap());
    let wrong_version = wrong(&|t| t.version = Version::new(1, 0, 1));
    let unknown_method = wrong(&|t| t.method = "mint".parse().unwrap());
    let bad_args = wrong(&|t| t.args.truncate(3));
    assert_eq!(env.outcome(unknown_contract).as_deref(), Some("E_UNKNOWN_CONTRACT"));
    assert_eq!(env.outcome(wrong_version).as_deref(), Some("E_VERSION_MISMATCH"));
    assert_eq!(env.outcome(unknown_method).as_deref(), Some("E_UNKNOWN_METHOD"));
    assert_eq!(env.outcome(bad_args).as_deref(), Some("E_BAD_ARGS"));
}

#[test]
fn proposals_drop_duplicates_and_unauthentic_transactions() {
    let mut env = Env::new();
    let good = env.tenant_tx(&enterprise(1, "e1.k1"));
    let mut forged = env.tenant_tx(&enterprise(2, "e2.k1"));
    forged.signature.0[0] ^= 1;
    let unknown = env.tx("ghost", &dev_key("ghost"), Some(DEV_TENANT.0), &enterprise(3, "e3.k1"));
    let executed = env.apply(vec![good.clone(), good.clone(), forged, unknown]);
    let reasons: Vec<&str> = executed.rejected.iter().map(|r| r.reason.code()).collect();
    assert_eq!(reasons, ["E_DUPLICATE_TX", "E_BAD_SIGNATURE", "E_UNKNOWN_KEY"]);
    assert_eq!(executed.block.unwrap().block.txs, vec![good.clone()]);
    // Already on the chain: refused in a later block too, and a proposal with nothing left makes no block.
    let later = env.apply(vec![good]);
    assert!(later.block.is_none());
    assert_eq!(later.rejected[0].reason.code(), "E_DUPLICATE_TX");
    assert_eq!(env.store.tip().unwrap().unwrap().height, 1);
}

#[test]
fn execution_is_deterministic_and_block_time_never_goes_back() {
    let mut env = Env::new();
    let first = env.tenant_tx(&enterprise(9, "e9.k1"));
    let mut replica = MemoryLedger::default();
    replica.apply(&genesis_block(&dev_genesis()).1);
    let executed = env.apply(vec![first.clone()]).block.unwrap();
    replica.apply(&executed.changes);
    replica.txs.insert(first.tx.tx_id.clone());
    let txs: Vec<SignedTx> = (1..=5).map(|n| env.tenant_tx(&enterprise(n, &format!("e{n}.k1")))).collect();
    let tip = env.store.tip().unwrap().unwrap();
    assert_eq!(tip.time_ms, T0);
    let proposal = BlockProposal { proposer: "n1".parse().unwrap(), proposed_at_ms: 5, txs };
    let store: SharedLedger = Arc::new(env.store.clone());
    let a = env.executor.execute(&store, &tip, &proposal, ConsensusRef::default()).unwrap();
    let b =
        env.executor.execute(&(Arc::new(replica) as SharedLedger), &tip, &proposal, ConsensusRef::default()).unwrap();
    let (a, b) = (a.block.unwrap(), b.block.unwrap());
    assert_eq!(a, b);
    assert_eq!(a.block.header.proposed_at_ms, tip.time_ms, "an early proposer clock is raised to the parent's time");
}

#[test]
fn admission_checks_what_the_block_would() {
    let mut env = Env::new();
    let tx = env.tenant_tx(&enterprise(1, "e1.k1"));
    assert_eq!(env.executor.admit(&env.store, &tx, T0).unwrap(), Ok(()));
    let far_future = T0 - 10 * 3_600_000;
    assert!(matches!(env.executor.admit(&env.store, &tx, far_future).unwrap(), Err(Rejection::Stale { .. })));
    let mut forged = tx.clone();
    forged.tx.timestamp_ms += 1;
    assert!(matches!(env.executor.admit(&env.store, &forged, T0).unwrap(), Err(Rejection::BadSignature(_))));
    let _: KeyId = tx.tx.signer.clone();
    env.apply(vec![tx.clone()]);
    assert_eq!(env.executor.admit(&env.store, &tx, T0).unwrap(), Err(Rejection::Duplicate(tx.tx.tx_id.clone())));
}

#[test]
fn a_store_of_another_chain_is_refused() {
    let env = Env::new();
    let mut other = dev_genesis();
    other.chain_id = "other-chain".parse().unwrap();
    assert!(matches!(Executor::new(&other).unwrap().init(&env.store, &other), Err(ExecError::Genesis(_))));
}

#[test]
fn verify_replays_a_chain() {
    let mut env = Env::new();
    for n in 1..=4 {
        let tx = env.tenant_tx(&enterprise(n, &format!("e{n}.k1")));
        env.apply(vec![tx]);
    }
    let report = verify::verify(&env.store).unwrap();
    assert_eq!((report.tip.height, report.transactions), (4, 4));
}

#[test]
fn node_revocation_needs_the_approval_policy() {
    use billflow_types::system::{
        AdminAction, ApproveAdmin, NodeRecord, NodeStatus, ProposeAdmin, RecordKind, state_key,
    };
    use billflow_types::{Canonical, GenesisNode, NodeRole};

    let mut genesis = dev_genesis();
    let node = |id: &str, org: &str| {
        let key = dev_key(id).public();
        GenesisNode {
            id: id.parse().unwrap(),
            org: org.parse().unwrap(),
            public_key: key,
            peer_id: key.peer_id(),
            role: NodeRole::Voter,
            address: None,
        }
    };
    genesis.nodes = vec![node("notary-dev-1", DEV_NOTARY.0), node("bank-dev-1", DEV_BANK.0)];
    let genesis = billflow_types::dev::dev_signed(genesis);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let executor = Executor::new(&genesis).unwrap();
    executor.init(&store, &genesis).unwrap();
    let mut env = Env { _dir: dir, store, executor, seq: 0 };
    assert_eq!(genesis.admin_policy.min_approving_orgs, 2, "a majority of three organisations");

    let revoke = |node: &str| AdminAction::RevokeNode { node: node.parse().unwrap(), reason: "key compromised".into() };
    let propose = |id: &str, node: &str| {
        SystemCall::ProposeAdmin(ProposeAdmin { proposal_id: id.parse().unwrap(), action: revoke(node) })
    };
    let approve = |id: &str| SystemCall::ApproveAdmin(ApproveAdmin { proposal_id: id.parse().unwrap() });

    let by_tenant = env.tenant_tx(&propose("p1", "notary-dev-1"));
    assert_eq!(env.outcome(by_tenant).as_deref(), Some("E_UNAUTHORIZED"));
    let unknown = env.admin_tx(DEV_NOTARY, &propose("p0", "nobody"));
    assert_eq!(env.outcome(unknown).as_deref(), Some("E_UNKNOWN_NODE"));
    let proposed = env.admin_tx(DEV_NOTARY, &propose("p1", "notary-dev-1"));
    assert_eq!(env.outcome(proposed), None);
    let record = |env: &Env| {
        NodeRecord::decode(
            &env.store.state_get(&system_contract(), &state_key(RecordKind::Node, "notary-dev-1")).unwrap().unwrap(),
        )
        .unwrap()
    };
    assert_eq!(record(&env).status, NodeStatus::Active, "one organisation is not enough");
    let twice = env.admin_tx(DEV_NOTARY, &approve("p1"));
    assert_eq!(env.outcome(twice).as_deref(), Some("E_ALREADY_APPROVED"));
    let duplicate = env.admin_tx(DEV_BANK, &propose("p1", "notary-dev-1"));
    assert_eq!(env.outcome(duplicate).as_deref(), Some("E_PROPOSAL_EXISTS"));

    let approval = env.admin_tx(DEV_BANK, &approve("p1"));
    let executed = env.apply(vec![approval]).block.unwrap();
    assert!(executed.receipts[0].failure.is_none(), "{:?}", executed.receipts[0].failure);
    let topics: Vec<&str> = executed.receipts[0].events.iter().map(|e| e.topic.as_str()).collect();
    assert_eq!(topics, ["admin.approved", "node.revoked", "voters.changed", "admin.executed"]);
    assert!(matches!(record(&env).status, NodeStatus::Revoked { .. }));
    // The receipt names the new voters; the next block's header commits to
    // them, and the history a node serves with proofs lists the change.
    let voters = Vec::<billflow_types::VoterKey>::decode(&executed.receipts[0].events[2].data).unwrap();
    assert!(!voters.iter().any(|v| v.node.as_str() == "notary-dev-1"), "{voters:?}");
    assert_ne!(
        executed.block.header.voters_hash,
        billflow_types::voter_set_hash(&voters),
        "in force from the next block"
    );
    let closed = env.admin_tx(DEV_REGULATOR, &approve("p1"));
    let next = env.apply(vec![closed]).block.unwrap();
    assert_eq!(next.block.header.voters_hash, billflow_types::voter_set_hash(&voters));
    // And so does the block after it, which takes the set from the block before.
    let refused = env.tenant_tx(&propose("p2", "nobody"));
    let after = env.apply(vec![refused]).block.unwrap();
    assert_eq!(after.block.header.voters_hash, billflow_types::voter_set_hash(&voters));
    let history = billflow_types::system::VoterChanges::decode(
        &env.store.state_get(&system_contract(), &state_key(RecordKind::VoterChanges, "history")).unwrap().unwrap(),
    )
    .unwrap();
    assert_eq!(history.changes.len(), 1);
    assert_eq!(history.changes[0].height, executed.block.header.height);

    let late = env.admin_tx(DEV_REGULATOR, &approve("p1"));
    assert_eq!(env.outcome(late).as_deref(), Some("E_PROPOSAL_CLOSED"));
    let again = env.admin_tx(DEV_NOTARY, &propose("p2", "notary-dev-1"));
    assert_eq!(env.outcome(again).as_deref(), Some("E_NODE_REVOKED"));

    // The last voter cannot go; a change waits for the one before it.
    let last = env.admin_tx(DEV_NOTARY, &propose("p3", "bank-dev-1"));
    assert_eq!(env.outcome(last).as_deref(), Some("E_LAST_VOTER"));

    // A regulator's node can join only as an observer.
    let add = |role: NodeRole| {
        SystemCall::ProposeAdmin(ProposeAdmin {
            proposal_id: format!("add-{role:?}").parse().unwrap(),
            action: AdminAction::AddNode {
                node: "regulator-dev-1".parse().unwrap(),
                org: DEV_REGULATOR.0.parse().unwrap(),
                public_key: dev_key("reg-node").public(),
                role,
                address: "/ip4/127.0.0.1/tcp/7999".into(),
            },
        })
    };
    let as_voter = env.admin_tx(DEV_REGULATOR, &add(NodeRole::Voter));
    assert_eq!(env.outcome(as_voter).as_deref(), Some("E_REGULATOR_VOTER"));
    let as_observer = env.admin_tx(DEV_REGULATOR, &add(NodeRole::Observer));
    assert_eq!(env.outcome(as_observer), None);
    let busy = env.admin_tx(DEV_NOTARY, &propose("p5", "bank-dev-1"));
    assert_eq!(env.outcome(busy).as_deref(), Some("E_CHANGE_IN_PROGRESS"));
    let role = |id: &str, node: &str, role: NodeRole| {
        SystemCall::ProposeAdmin(ProposeAdmin {
            proposal_id: id.parse().unwrap(),
            action: AdminAction::SetNodeRole { node: node.parse().unwrap(), role },
        })
    };
    let busy = env.admin_tx(DEV_NOTARY, &role("p6", "bank-dev-1", NodeRole::Observer));
    assert_eq!(env.outcome(busy).as_deref(), Some("E_CHANGE_IN_PROGRESS"), "role changes are membership changes");
    let approve_add = env.admin_tx(DEV_NOTARY, &approve(&format!("add-{:?}", NodeRole::Observer)));
    assert_eq!(env.outcome(approve_add), None);
    // The regulator's observer cannot vote; the last voter cannot stop voting.
    let reg = env.admin_tx(DEV_NOTARY, &role("p7", "regulator-dev-1", NodeRole::Voter));
    assert_eq!(env.outcome(reg).as_deref(), Some("E_REGULATOR_VOTER"));
    let last = env.admin_tx(DEV_NOTARY, &role("p8", "bank-dev-1", NodeRole::Observer));
    assert_eq!(env.outcome(last).as_deref(), Some("E_LAST_VOTER"));
    let same = env.admin_tx(DEV_NOTARY, &role("p9", "bank-dev-1", NodeRole::Voter));
    assert_eq!(env.outcome(same).as_deref(), Some("E_BAD_ARGS"));
    // The organisation running the last voter cannot be removed.
    let remove_bank = SystemCall::ProposeAdmin(ProposeAdmin {
        proposal_id: "p10".parse().unwrap(),
        action: AdminAction::RemoveOrg { org: DEV_BANK.0.parse().unwrap(), reason: "test".into(), tenants_to: None },
    });
    let last_org = env.admin_tx(DEV_NOTARY, &remove_bank);
    assert_eq!(env.outcome(last_org).as_deref(), Some("E_LAST_VOTER"));
    verify::verify(&env.store).unwrap();
}

#[test]
fn the_approval_policy_changes_under_the_policy_in_force() {
    use billflow_types::system::{AdminAction, ApproveAdmin, ProposeAdmin, RecordKind, state_key};
    use billflow_types::{AdminPolicy, Canonical, RegulatorApproval};

    let mut env = Env::new();
    let policy = |min: u32, regulator| AdminAction::SetPolicy {
        policy: AdminPolicy { min_approving_orgs: min, min_share_percent: 0, regulator },
    };
    let propose = |id: &str, action: AdminAction| {
        SystemCall::ProposeAdmin(ProposeAdmin { proposal_id: id.parse().unwrap(), action })
    };
    let approve = |id: &str| SystemCall::ApproveAdmin(ApproveAdmin { proposal_id: id.parse().unwrap() });
    let in_force = |env: &Env| {
        AdminPolicy::decode(
            &env.store.state_get(&system_contract(), &state_key(RecordKind::Policy, "admin")).unwrap().unwrap(),
        )
        .unwrap()
    };

    // Policies no consortium of these three organisations could meet are refused.
    let four = env.admin_tx(DEV_NOTARY, &propose("p0", policy(4, RegulatorApproval::Counts)));
    assert_eq!(env.outcome(four).as_deref(), Some("E_BAD_POLICY"));
    let none = env.admin_tx(DEV_NOTARY, &propose("p0", policy(0, RegulatorApproval::Counts)));
    assert_eq!(env.outcome(none).as_deref(), Some("E_BAD_POLICY"));
    let three_without_regulator = env.admin_tx(DEV_NOTARY, &propose("p0", policy(3, RegulatorApproval::Excluded)));
    assert_eq!(env.outcome(three_without_regulator).as_deref(), Some("E_BAD_POLICY"));

    // Two of three (the policy in force) make a regulator's approval required.
    let proposed = env.admin_tx(DEV_NOTARY, &propose("p1", policy(2, RegulatorApproval::Required)));
    assert_eq!(env.outcome(proposed), None);
    let approved = env.admin_tx(DEV_BANK, &approve("p1"));
    let block = env.apply(vec![approved]).block.unwrap();
    let topics: Vec<&str> = block.receipts[0].events.iter().map(|e| e.topic.as_str()).collect();
    assert_eq!(topics, ["admin.approved", "policy.changed", "admin.executed"]);
    assert_eq!(
        in_force(&env),
        AdminPolicy { min_approving_orgs: 2, min_share_percent: 0, regulator: RegulatorApproval::Required }
    );

    // Now the notary office and the bank together are not enough; the regulator's approval carries it.
    let proposed = env.admin_tx(DEV_NOTARY, &propose("p2", policy(2, RegulatorApproval::Excluded)));
    assert_eq!(env.outcome(proposed), None);
    let approved = env.admin_tx(DEV_BANK, &approve("p2"));
    let block = env.apply(vec![approved]).block.unwrap();
    assert!(block.receipts[0].events.iter().all(|e| e.topic != "admin.executed"), "carried out without the regulator");
    let approved = env.admin_tx(DEV_REGULATOR, &approve("p2"));
    let block = env.apply(vec![approved]).block.unwrap();
    assert!(block.receipts[0].events.iter().any(|e| e.topic == "policy.changed"));
    assert_eq!(in_force(&env).regulator, RegulatorApproval::Excluded);

    // Excluded: the regulator's approval no longer counts towards the two.
    let proposed = env.admin_tx(DEV_REGULATOR, &propose("p3", policy(1, RegulatorApproval::Counts)));
    assert_eq!(env.outcome(proposed), None);
    let approved = env.admin_tx(DEV_NOTARY, &approve("p3"));
    let block = env.apply(vec![approved]).block.unwrap();
    assert!(block.receipts[0].events.iter().all(|e| e.topic != "admin.executed"), "the regulator counted");
    let approved = env.admin_tx(DEV_BANK, &approve("p3"));
    let block = env.apply(vec![approved]).block.unwrap();
    assert!(block.receipts[0].events.iter().any(|e| e.topic == "admin.executed"));
    assert_eq!(in_force(&env).min_approving_orgs, 1);
    verify::verify(&env.store).unwrap();
}

#[test]
fn an_administrator_key_rotates_under_the_policy_and_the_old_one_is_refused_after() {
    use billflow_types::system::{AdminAction, ApproveAdmin, ProposeAdmin};

    let mut env = Env::new();
    let new_key = dev_key("bank-dev.admin2");
    let rotate = |id: &str, key_id: &str, retire: Option<&str>| {
        SystemCall::ProposeAdmin(ProposeAdmin {
            proposal_id: id.parse().unwrap(),
            action: AdminAction::RotateAdminKey {
                org: DEV_BANK.0.parse().unwrap(),
                key: KeyGrant { key_id: key_id.parse().unwrap(), public_key: dev_key(key_id).public() },
                retire: retire.map(|r| r.parse().unwrap()),
            },
        })
    };
    // A key id in use, and a retired key of another organisation, are refused at once.
    let taken = env.admin_tx(DEV_BANK, &rotate("r0", DEV_NOTARY.1, None));
    assert_eq!(env.outcome(taken).as_deref(), Some("E_KEY_EXISTS"));
    let foreign = env.admin_tx(DEV_BANK, &rotate("r0", "bank-dev.admin2", Some(DEV_NOTARY.1)));
    assert_eq!(env.outcome(foreign).as_deref(), Some("E_UNAUTHORIZED"));

    let proposed = env.admin_tx(DEV_BANK, &rotate("r1", "bank-dev.admin2", Some(DEV_BANK.1)));
    assert_eq!(env.outcome(proposed), None);
    let approve = SystemCall::ApproveAdmin(ApproveAdmin { proposal_id: "r1".parse().unwrap() });
    let approved = env.admin_tx(DEV_NOTARY, &approve);
    let block = env.apply(vec![approved]).block.unwrap();
    let topics: Vec<&str> = block.receipts[0].events.iter().map(|e| e.topic.as_str()).collect();
    assert_eq!(topics, ["admin.approved", "admin_key.rotated", "admin.executed"]);

    // The old key is refused from the next block on; the new one acts for the bank.
    let again = SystemCall::ProposeAdmin(ProposeAdmin {
        proposal_id: "r2".parse().unwrap(),
        action: AdminAction::RevokeNode { node: "nobody".parse().unwrap(), reason: "test".into() },
    });
    let old = env.admin_tx(DEV_BANK, &again);
    let executed = env.apply(vec![old]);
    assert_eq!(executed.rejected.len(), 1, "the retired key signed a transaction that was accepted");
    let new = env.tx("bank-dev.admin2", &new_key, None, &again);
    assert_eq!(env.outcome(new).as_deref(), Some("E_UNKNOWN_NODE"), "the new key is the bank's administrator");
    verify::verify(&env.store).unwrap();
}

#[test]
fn an_organisation_joins_under_the_policy_and_acts_at_once() {
    use billflow_types::system::{AdminAction, ApproveAdmin, OrgRecord, ProposeAdmin, RecordKind, state_key};
    use billflow_types::{Canonical, OrgRole};

    let mut env = Env::new();
    let ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
    let add = |id: &str, org: &str, ca: &str, key_id: &str| {
        SystemCall::ProposeAdmin(ProposeAdmin {
            proposal_id: id.parse().unwrap(),
            action: AdminAction::AddOrg {
                org: org.parse().unwrap(),
                name: "Bank E".into(),
                role: OrgRole::Bank,
                ca_cert_pem: ca.into(),
                admin_key: KeyGrant { key_id: key_id.parse().unwrap(), public_key: dev_key(key_id).public() },
            },
        })
    };
    let exists = env.admin_tx(DEV_NOTARY, &add("o0", DEV_BANK.0, ca, "bank-e.admin"));
    assert_eq!(env.outcome(exists).as_deref(), Some("E_ORG_EXISTS"));
    let not_pem = env.admin_tx(DEV_NOTARY, &add("o0", "bank-e", "a certificate", "bank-e.admin"));
    assert_eq!(env.outcome(not_pem).as_deref(), Some("E_BAD_ARGS"));
    let two = format!("{ca}\n{ca}");
    let two_certs = env.admin_tx(DEV_NOTARY, &add("o0", "bank-e", &two, "bank-e.admin"));
    assert_eq!(env.outcome(two_certs).as_deref(), Some("E_BAD_ARGS"));
    let key_taken = env.admin_tx(DEV_NOTARY, &add("o0", "bank-e", ca, DEV_BANK.1));
    assert_eq!(env.outcome(key_taken).as_deref(), Some("E_KEY_EXISTS"));

    let proposed = env.admin_tx(DEV_NOTARY, &add("o1", "bank-e", ca, "bank-e.admin"));
    assert_eq!(env.outcome(proposed), None);
    let approve = |id: &str| SystemCall::ApproveAdmin(ApproveAdmin { proposal_id: id.parse().unwrap() });
    let approved = env.admin_tx(DEV_BANK, &approve("o1"));
    let block = env.apply(vec![approved]).block.unwrap();
    let topics: Vec<&str> = block.receipts[0].events.iter().map(|e| e.topic.as_str()).collect();
    assert_eq!(topics, ["admin.approved", "org.added", "admin.executed"]);
    let record = OrgRecord::decode(
        &env.store.state_get(&system_contract(), &state_key(RecordKind::Org, "bank-e")).unwrap().unwrap(),
    )
    .unwrap();
    assert_eq!(record.ca_cert_pem.as_deref(), Some(format!("{ca}\n").as_str()));

    // Its administrator proposes at once, and its approval counts.
    let revoke = SystemCall::ProposeAdmin(ProposeAdmin {
        proposal_id: "o2".parse().unwrap(),
        action: AdminAction::RevokeNode { node: "nobody".parse().unwrap(), reason: "test".into() },
    });
    let by_new = env.tx("bank-e.admin", &dev_key("bank-e.admin"), None, &revoke);
    assert_eq!(env.outcome(by_new).as_deref(), Some("E_UNKNOWN_NODE"));

    // bank-e rotates its CA; the old one is honoured until height 100.
    let ca2 = "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----";
    let rotate = |id: &str, pem: &str| {
        SystemCall::ProposeAdmin(ProposeAdmin {
            proposal_id: id.parse().unwrap(),
            action: AdminAction::RotateCa {
                org: "bank-e".parse().unwrap(),
                ca_cert_pem: pem.into(),
                old_until_height: 100,
            },
        })
    };
    let same = env.tx("bank-e.admin", &dev_key("bank-e.admin"), None, &rotate("c0", ca));
    assert_eq!(env.outcome(same).as_deref(), Some("E_BAD_ARGS"));
    let proposed = env.tx("bank-e.admin", &dev_key("bank-e.admin"), None, &rotate("c1", ca2));
    assert_eq!(env.outcome(proposed), None);
    // Four organisations now: a majority is three.
    let approved = env.admin_tx(DEV_NOTARY, &approve("c1"));
    assert_eq!(env.outcome(approved), None);
    let approved = env.admin_tx(DEV_BANK, &approve("c1"));
    let block = env.apply(vec![approved]).block.unwrap();
    assert!(block.receipts[0].events.iter().any(|e| e.topic == "org.ca_rotated"));
    let record = OrgRecord::decode(
        &env.store.state_get(&system_contract(), &state_key(RecordKind::Org, "bank-e")).unwrap().unwrap(),
    )
    .unwrap();
    assert_eq!(record.cas_at(99), [format!("{ca2}\n"), format!("{ca}\n")]);
    assert_eq!(record.cas_at(100), [format!("{ca2}\n")]);

    // Removal: the sponsor of the development tenant leaves, its tenant moves to bank-e.
    let remove = |id: &str, org: &str, to: Option<&str>| {
        SystemCall::ProposeAdmin(ProposeAdmin {
            proposal_id: id.parse().unwrap(),
            action: AdminAction::RemoveOrg {
                org: org.parse().unwrap(),
                reason: "left the consortium".into(),
                tenants_to: to.map(|t| t.parse().unwrap()),
            },
        })
    };
    // The notary office has a participant of its own, whose key goes with it.
    let clerk = SystemCall::RegisterParticipant(RegisterParticipant {
        participant: "notary-dev-clerk".parse().unwrap(),
        kind: ParticipantKind::Notary,
        name: "Clerk".into(),
        keys: vec![KeyGrant { key_id: "clerk.k1".parse().unwrap(), public_key: dev_key("clerk.k1").public() }],
    });
    let registered = env.admin_tx(DEV_NOTARY, &clerk);
    assert_eq!(env.outcome(registered), None);
    let to_itself = env.admin_tx(DEV_BANK, &remove("x0", DEV_NOTARY.0, Some(DEV_NOTARY.0)));
    assert_eq!(env.outcome(to_itself).as_deref(), Some("E_BAD_ARGS"));
    let proposed = env.admin_tx(DEV_BANK, &remove("x1", DEV_NOTARY.0, Some("bank-e")));
    assert_eq!(env.outcome(proposed), None);
    let approved = env.tx("bank-e.admin", &dev_key("bank-e.admin"), None, &approve("x1"));
    assert_eq!(env.outcome(approved), None);
    let approved = env.admin_tx(DEV_REGULATOR, &approve("x1"));
    let block = env.apply(vec![approved]).block.unwrap();
    let topics: Vec<&str> = block.receipts[0].events.iter().map(|e| e.topic.as_str()).collect();
    assert_eq!(topics, ["admin.approved", "tenant.sponsor_changed", "org.removed", "admin.executed"]);
    // Its administrator can no longer sign; the tenant now answers to bank-e.
    let gone = env.admin_tx(DEV_NOTARY, &approve("x1"));
    assert_eq!(env.apply(vec![gone]).rejected.len(), 1, "a removed organisation's key was accepted");
    let by_clerk = env.tx("clerk.k1", &dev_key("clerk.k1"), None, &approve("x1"));
    assert_eq!(env.apply(vec![by_clerk]).rejected.len(), 1, "its participant's key was accepted");
    let tenant = billflow_types::system::TenantRecord::decode(
        &env.store.state_get(&system_contract(), &state_key(RecordKind::Tenant, DEV_TENANT.0)).unwrap().unwrap(),
    )
    .unwrap();
    assert_eq!(tenant.registered_by.as_str(), "bank-e");
    // Its id is never reused; nothing is added under it.
    let again = env.admin_tx(DEV_BANK, &add("x2", DEV_NOTARY.0, ca, "notary-2.admin"));
    assert_eq!(env.outcome(again).as_deref(), Some("E_ORG_EXISTS"));
    verify::verify(&env.store).unwrap();
}

mod contracts;

#[test]
fn a_batch_applies_as_its_proposals_would_one_by_one() {
    let mut batched = Env::new();
    let single = Env::new();
    let register = batched.tenant_tx(&enterprise(1, "e1.k1"));
    // Signed by a key the batch's first block registers.
    let by_new_key = batched.tx("e1.k1", &dev_key("e1.k1"), Some(DEV_TENANT.0), &enterprise(2, "e2.k1"));
    let mut forged_new = batched.tx("e1.k1", &dev_key("e1.k1"), Some(DEV_TENANT.0), &enterprise(4, "e4.k1"));
    forged_new.signature.0[0] ^= 1;
    let again = batched.tenant_tx(&enterprise(3, "e3.k1"));
    let mut forged = batched.tenant_tx(&enterprise(5, "e5.k1"));
    forged.signature.0[0] ^= 1;
    let proposal = |txs: Vec<SignedTx>| BlockProposal { proposer: "n1".parse().unwrap(), proposed_at_ms: T0, txs };
    // Signatures are checked for the whole batch at once, against the keys
    // stored before it; a key the batch registers is checked where it is used.
    let proposals = [
        proposal(vec![register.clone()]),
        proposal(vec![by_new_key, forged_new]),
        // Everything in it is already in the batch: no block, but its metadata is written.
        proposal(vec![register]),
        proposal(vec![forged, again]),
    ];
    let meta = |n: u8| vec![("test/applied".to_string(), vec![n])];
    let at = |n: u64| ConsensusRef { term: 1, index: n };
    let all = batched
        .executor
        .apply_all(&batched.store, proposals.iter().zip(1..).map(|(p, n)| (p, at(n), meta(n as u8))))
        .unwrap();
    let one_by_one: Vec<Executed> = proposals
        .iter()
        .zip(1..)
        .map(|(p, n)| single.executor.apply(&single.store, p, at(n), meta(n as u8)).unwrap())
        .collect();
    let heights: Vec<_> = all.iter().map(|e| e.block.as_ref().map(|b| b.block.header.height)).collect();
    assert_eq!(heights, [Some(1), Some(2), None, Some(3)]);
    assert_eq!(all[2].rejected[0].reason.code(), "E_DUPLICATE_TX");
    assert_eq!(all[1].rejected[0].reason.code(), "E_BAD_SIGNATURE");
    assert_eq!(all[3].rejected[0].reason.code(), "E_BAD_SIGNATURE");
    for (a, b) in all.iter().zip(&one_by_one) {
        assert_eq!(a.block, b.block);
        assert_eq!(a.rejected, b.rejected);
    }
    let receipts = &all[1].block.as_ref().unwrap().receipts;
    assert!(receipts[0].failure.is_some(), "an enterprise may not register one: the call ran, on block 1's state");
    assert_eq!(batched.store.tip().unwrap(), single.store.tip().unwrap());
    assert_eq!(batched.store.meta("test/applied").unwrap(), Some(vec![4]));
    assert_eq!(verify::verify(&batched.store).unwrap().tip.height, 3);
}

#[test]
fn a_signature_checked_at_admission_vouches_only_for_those_exact_bytes() {
    let mut env = Env::new();
    let tx = env.tenant_tx(&enterprise(1, "e1.k1"));
    assert_eq!(env.executor.admit(&env.store, &tx, T0).unwrap(), Ok(()));
    // Same transaction, same id and signer, another signature: another hash, checked on its own.
    let mut forged = tx.clone();
    forged.signature.0[0] ^= 1;
    let executed = env.apply(vec![forged]);
    assert_eq!(executed.rejected[0].reason.code(), "E_BAD_SIGNATURE");
    // The admitted bytes commit.
    let executed = env.apply(vec![tx.clone()]);
    assert!(executed.rejected.is_empty());
    assert_eq!(executed.block.unwrap().block.txs, vec![tx]);
}

#[test]
fn a_block_is_checked_whole_unless_this_node_admitted_every_signature_in_it() {
    let mut env = Env::new();
    let key = dev_key(DEV_TENANT.1).public();
    let good = env.tenant_tx(&enterprise(1, "e1.k1"));
    let mut forged = env.tenant_tx(&enterprise(2, "e2.k1"));
    forged.signature.0[0] ^= 1;
    // What this node's admission vouches for, wrongly for the forged one:
    // other nodes admitted other transactions, and a verdict on a block must
    // not depend on which.
    env.executor.verified.remember(forged.hash(), key);
    let executed = env.apply(vec![forged.clone(), good.clone()]);
    assert_eq!(executed.rejected.len(), 1, "{:?}", executed.rejected);
    assert_eq!(executed.rejected[0].tx_id, forged.tx.tx_id);
    assert_eq!(executed.rejected[0].reason.code(), "E_BAD_SIGNATURE");
    assert_eq!(executed.block.unwrap().block.txs, vec![good]);
    // A block of transactions this node admitted, every one: not checked again.
    let next = env.tenant_tx(&enterprise(3, "e3.k1"));
    assert_eq!(env.executor.admit(&env.store, &next, T0).unwrap(), Ok(()));
    assert!(env.executor.verified.take(&next.hash(), &key), "remembered at admission");
    env.executor.verified.remember(next.hash(), key);
    let executed = env.apply(vec![next.clone()]);
    assert!(executed.rejected.is_empty());
    assert!(!env.executor.verified.take(&next.hash(), &key), "used by the block");
}

#[test]
fn a_batch_checked_ahead_is_taken_only_by_a_block_of_the_same_batch() {
    let mut env = Env::new();
    let key = dev_key(DEV_TENANT.1).public();
    let [a, b, c, d, mut forged] = [1, 2, 3, 4, 5].map(|n| env.tenant_tx(&enterprise(n, &format!("e{n}.k1"))));
    forged.signature.0[0] ^= 1;
    let proposal = |txs: &[&SignedTx]| BlockProposal {
        proposer: "n1".parse().unwrap(),
        proposed_at_ms: T0,
        txs: txs.iter().map(|t| (*t).clone()).collect(),
    };
    let batch = |txs: &[&SignedTx]| -> Vec<(Hash32, billflow_types::PublicKey)> {
        txs.iter().map(|t| (t.hash(), key)).collect()
    };
    // A batch that does not verify whole is not remembered: its block is
    // checked again, and refuses the forged signature.
    env.executor.check_ahead(&env.store, &proposal(&[&forged, &a])).unwrap();
    assert!(!env.executor.checked.take(&batch(&[&forged, &a])));
    env.executor.check_ahead(&env.store, &proposal(&[&forged, &a])).unwrap();
    let executed = env.apply(vec![forged.clone(), a.clone()]);
    assert_eq!(executed.rejected.len(), 1, "{:?}", executed.rejected);
    assert_eq!(executed.rejected[0].reason.code(), "E_BAD_SIGNATURE");
    // A good batch is remembered, and only a block of that batch, in that
    // order, takes it.
    env.executor.check_ahead(&env.store, &proposal(&[&b, &c])).unwrap();
    let executed = env.apply(vec![c.clone(), b.clone()]);
    assert!(executed.rejected.is_empty());
    assert!(env.executor.checked.take(&batch(&[&b, &c])), "another order, checked again");
    env.executor.check_ahead(&env.store, &proposal(&[&d])).unwrap();
    let executed = env.apply(vec![d.clone()]);
    assert!(executed.rejected.is_empty());
    assert!(!env.executor.checked.take(&batch(&[&d])), "taken by its block");
}

#[test]
fn verify_checks_every_stored_attestation() {
    use billflow_types::{Attestation, Canonical, GenesisNode, NodeRole};

    let mut genesis = dev_genesis();
    let key = dev_key("notary-dev-1").public();
    genesis.nodes = vec![GenesisNode {
        id: "notary-dev-1".parse().unwrap(),
        org: DEV_NOTARY.0.parse().unwrap(),
        public_key: key,
        peer_id: key.peer_id(),
        role: NodeRole::Voter,
        address: None,
    }];
    let mut env = Env::with_genesis(&genesis);
    for n in 1..=3 {
        let tx = env.tenant_tx(&enterprise(n, &format!("e{n}.k1")));
        env.apply(vec![tx]);
    }
    let hash = |h: u64| env.store.block(h).unwrap().unwrap().header.hash();
    let attest = |h: u64, node: &str, key: &str, block: Hash32| {
        Attestation::sign(h, block, node.parse().unwrap(), &dev_key(key)).encode()
    };
    for h in 0..=3 {
        env.store.put_attestation(h, "notary-dev-1", &attest(h, "notary-dev-1", "notary-dev-1", hash(h))).unwrap();
    }
    let report = verify::verify(&env.store).unwrap();
    assert_eq!(report.attestations, 4);

    // Each edit made through the store's own API is caught, at its height.
    let good = attest(2, "notary-dev-1", "notary-dev-1", hash(2));
    let edits: Vec<(Vec<u8>, &str)> = vec![
        (attest(2, "notary-dev-1", "someone-else", hash(2)), "does not verify"),
        (attest(2, "notary-dev-1", "notary-dev-1", hash(1)), "another block"),
        (attest(1, "notary-dev-1", "notary-dev-1", hash(1)), "at height 1"),
        (b"garbage".to_vec(), "does not decode"),
    ];
    for (bytes, says) in edits {
        env.store.put_attestation(2, "notary-dev-1", &bytes).unwrap();
        let err = verify::verify(&env.store).unwrap_err().to_string();
        assert!(err.starts_with("height 2:") && err.contains(says), "{says}: {err}");
        env.store.put_attestation(2, "notary-dev-1", &good).unwrap();
    }
    assert_eq!(verify::verify(&env.store).unwrap().attestations, 4);
    // An attestation by a node the ledger does not list.
    env.store.put_attestation(3, "ghost", &attest(3, "ghost", "ghost", hash(3))).unwrap();
    let err = verify::verify(&env.store).unwrap_err().to_string();
    assert!(err.starts_with("height 3:") && err.contains("does not list"), "{err}");
}
