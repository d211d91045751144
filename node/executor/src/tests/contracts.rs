//! Contract transactions: lifecycle through admin proposals, the version and
//! registration checks, and state that survives upgrades.

use billflow_types::contract::{ContractRecord, ContractStatus, Registrations, contract_key};
use billflow_types::system::{AdminAction, ApproveAdmin, ProposeAdmin};
use billflow_types::{Canonical, ContractName, Event, Receipt};
use billflow_vm::{CallerView, ContextView};

use super::*;

/// A counter: `call` adds one to `n`, emits `counted` and returns the count;
/// `init` stores its input under `cfg`. Version 2 counts in tens and has a
/// `migrate` that stores its input under `migrated`.
fn counter(step: i32, with_migrate: bool) -> Vec<u8> {
    let migrate = if with_migrate {
        r#"(func (export "migrate") (result i32)
             (call $input_read (i32.const 64))
             (call $put (i32.const 40) (i32.const 8) (i32.const 64) (call $input_len))
             (i32.const 0))"#
    } else {
        ""
    };
    wat::parse_str(format!(
        r#"(module
  (import "billflow" "state_get" (func $get (param i32 i32) (result i32)))
  (import "billflow" "ret_read" (func $ret_read (param i32)))
  (import "billflow" "state_put" (func $put (param i32 i32 i32 i32)))
  (import "billflow" "emit" (func $emit (param i32 i32 i32 i32)))
  (import "billflow" "output" (func $output (param i32 i32)))
  (import "billflow" "input_len" (func $input_len (result i32)))
  (import "billflow" "input_read" (func $input_read (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "n")
  (data (i32.const 16) "counted")
  (data (i32.const 32) "cfg")
  (data (i32.const 40) "migrated")
  (func (export "call") (result i32)
    (if (i32.ge_s (call $get (i32.const 0) (i32.const 1)) (i32.const 0))
      (then (call $ret_read (i32.const 48))))
    (i32.store (i32.const 48) (i32.add (i32.load (i32.const 48)) (i32.const {step})))
    (call $put (i32.const 0) (i32.const 1) (i32.const 48) (i32.const 4))
    (call $emit (i32.const 16) (i32.const 7) (i32.const 48) (i32.const 4))
    (call $output (i32.const 48) (i32.const 4))
    (i32.const 0))
  (func (export "init") (result i32)
    (call $input_read (i32.const 64))
    (call $put (i32.const 32) (i32.const 3) (i32.const 64) (call $input_len))
    (i32.const 0))
  {migrate})"#
    ))
    .unwrap()
}

fn name() -> ContractName {
    "counter".parse().unwrap()
}

impl Env {
    /// Proposes `action` as the notary office and approves it as the bank;
    /// returns the approving transaction's receipt.
    fn approved(&mut self, id: &str, action: AdminAction) -> Receipt {
        let propose = SystemCall::ProposeAdmin(ProposeAdmin { proposal_id: id.parse().unwrap(), action });
        let tx = self.admin_tx(DEV_NOTARY, &propose);
        assert_eq!(self.outcome(tx), None, "proposal {id}");
        let approve = SystemCall::ApproveAdmin(ApproveAdmin { proposal_id: id.parse().unwrap() });
        let tx = self.admin_tx(DEV_BANK, &approve);
        self.apply(vec![tx]).block.unwrap().receipts.remove(0)
    }

    fn contract_tx(&mut self, signer: (&str, &str), tenant: Option<&str>, version: &str) -> SignedTx {
        self.call_tx(signer, tenant, (name().as_str(), version), "inc", vec![])
    }

    /// A call of `contract` (name, version) signed by `signer`'s dev key.
    fn call_tx(
        &mut self,
        signer: (&str, &str),
        tenant: Option<&str>,
        contract: (&str, &str),
        method: &str,
        args: Vec<u8>,
    ) -> SignedTx {
        self.seq += 1;
        Tx {
            chain_id: dev_genesis().chain_id,
            tx_id: format!("c-{}", self.seq).parse().unwrap(),
            tenant: tenant.map(|t| t.parse().unwrap()),
            signer: signer.1.parse().unwrap(),
            contract: contract.0.parse().unwrap(),
            version: contract.1.parse().unwrap(),
            method: method.parse().unwrap(),
            args,
            timestamp_ms: T0,
        }
        .sign(&dev_key(signer.1))
    }

    fn tenant_call(&mut self, version: &str) -> Receipt {
        let tx = self.contract_tx(("", DEV_TENANT.1), Some(DEV_TENANT.0), version);
        self.apply(vec![tx]).block.unwrap().receipts.remove(0)
    }

    fn state(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.store.state_get(&name(), key).unwrap()
    }

    fn record(&self) -> ContractRecord {
        ContractRecord::decode(&self.store.state_get(&system_contract(), &contract_key(&name())).unwrap().unwrap())
            .unwrap()
    }
}

fn code_of(r: &Receipt) -> Option<&str> {
    r.failure.as_ref().map(|f| f.code.as_str())
}

fn deploy(code: Vec<u8>, init_args: Vec<u8>) -> AdminAction {
    deploy_as(name(), code, init_args)
}

fn deploy_as(name: ContractName, code: Vec<u8>, init_args: Vec<u8>) -> AdminAction {
    AdminAction::DeployContract {
        name,
        version: "1.0.0".parse().unwrap(),
        code,
        registrations: Registrations {
            orgs: vec![DEV_NOTARY.0.parse().unwrap()],
            tenants: vec![DEV_TENANT.0.parse().unwrap()],
        },
        init_args,
    }
}

#[test]
fn a_deployed_contract_runs_for_registered_callers_at_its_version() {
    let mut env = Env::new();
    assert_eq!(code_of(&env.tenant_call("1.0.0")), Some("E_UNKNOWN_CONTRACT"));
    let receipt = env.approved("deploy", deploy(counter(1, false), b"threshold=2".to_vec()));
    assert_eq!(code_of(&receipt), None, "{:?}", receipt.failure);
    let topics: Vec<&str> = receipt.events.iter().map(|e| e.topic.as_str()).collect();
    assert_eq!(topics, ["admin.approved", "contract.deployed", "admin.executed"]);
    assert_eq!(env.state(b"cfg").as_deref(), Some(b"threshold=2".as_slice()), "init ran once with its input");

    let ok = env.tenant_call("1.0.0");
    assert_eq!(code_of(&ok), None, "{:?}", ok.failure);
    assert_eq!(ok.events[0].topic, "counted");
    assert_eq!(ok.events[0].contract, name());
    assert!(ok.fuel_used > 0);
    assert_eq!(env.state(b"n"), Some(1u32.to_le_bytes().to_vec()));

    // Each refusal has its own code and changes nothing.
    let wrong_version = env.contract_tx(("", DEV_TENANT.1), Some(DEV_TENANT.0), "1.0.1");
    let bank = env.contract_tx(DEV_BANK, None, "1.0.0");
    let block = env.apply(vec![wrong_version, bank]).block.unwrap();
    let codes: Vec<_> = block.receipts.iter().map(code_of).collect();
    assert_eq!(codes, [Some("E_VERSION_MISMATCH"), Some("E_NOT_REGISTERED")]);
    assert!(block.changes.is_empty(), "refusals change no state");
    assert_eq!(env.state(b"n"), Some(1u32.to_le_bytes().to_vec()));

    // The registration list changes by proposal.
    let mut regs = env.record().registrations;
    regs.orgs.push(DEV_BANK.0.parse().unwrap());
    let receipt = env.approved("regs", AdminAction::SetRegistrations { name: name(), registrations: regs });
    assert_eq!(code_of(&receipt), None);
    let bank = env.contract_tx(DEV_BANK, None, "1.0.0");
    assert_eq!(env.outcome(bank), None);

    // Freezing stops every call until the contract is unfrozen.
    let frozen =
        env.approved("freeze", AdminAction::FreezeContract { name: name(), reason: "under investigation".into() });
    assert_eq!(code_of(&frozen), None);
    assert!(matches!(env.record().status, ContractStatus::Frozen { .. }));
    assert_eq!(code_of(&env.tenant_call("1.0.0")), Some("E_CONTRACT_FROZEN"));
    assert_eq!(code_of(&env.approved("unfreeze", AdminAction::UnfreezeContract { name: name() })), None);
    assert_eq!(code_of(&env.tenant_call("1.0.0")), None);
    assert_eq!(env.state(b"n"), Some(3u32.to_le_bytes().to_vec()));
    verify::verify(&env.store).unwrap();
}

#[test]
fn an_upgrade_keeps_state_runs_migrate_once_and_retires_the_old_version() {
    let mut env = Env::new();
    assert_eq!(code_of(&env.approved("deploy", deploy(counter(1, false), vec![]))), None);
    assert_eq!(code_of(&env.tenant_call("1.0.0")), None);
    let upgrade = |version: &str, code: Vec<u8>| AdminAction::UpgradeContract {
        name: name(),
        version: version.parse().unwrap(),
        code,
        migrate_args: b"v2".to_vec(),
    };
    // Not newer: refused when proposed.
    let stale = SystemCall::ProposeAdmin(ProposeAdmin {
        proposal_id: "stale".parse().unwrap(),
        action: upgrade("0.9.0", counter(10, true)),
    });
    let tx = env.admin_tx(DEV_NOTARY, &stale);
    assert_eq!(env.outcome(tx).as_deref(), Some("E_VERSION_NOT_NEWER"));
    // Migrate arguments for code without `migrate`: refused.
    let no_migrate = SystemCall::ProposeAdmin(ProposeAdmin {
        proposal_id: "nomigrate".parse().unwrap(),
        action: upgrade("1.1.0", counter(10, false)),
    });
    let tx = env.admin_tx(DEV_NOTARY, &no_migrate);
    assert_eq!(env.outcome(tx).as_deref(), Some("E_BAD_ARGS"));

    let receipt = env.approved("upgrade", upgrade("1.1.0", counter(10, true)));
    assert_eq!(code_of(&receipt), None, "{:?}", receipt.failure);
    assert_eq!(env.state(b"migrated").as_deref(), Some(b"v2".as_slice()));
    let record = env.record();
    assert_eq!(record.version.to_string(), "1.1.0");
    assert_eq!(record.history.len(), 2);

    assert_eq!(code_of(&env.tenant_call("1.0.0")), Some("E_VERSION_MISMATCH"), "the old version is refused");
    assert_eq!(code_of(&env.tenant_call("1.1.0")), None);
    assert_eq!(env.state(b"n"), Some(11u32.to_le_bytes().to_vec()), "state carried over: 1, then +10");
    verify::verify(&env.store).unwrap();
}

#[test]
fn bad_code_is_refused_when_proposed() {
    let mut env = Env::new();
    let propose = |id: &str, code: Vec<u8>| {
        SystemCall::ProposeAdmin(ProposeAdmin { proposal_id: id.parse().unwrap(), action: deploy(code, vec![]) })
    };
    let garbage = env.admin_tx(DEV_NOTARY, &propose("garbage", b"\0asm garbage".to_vec()));
    assert_eq!(env.outcome(garbage).as_deref(), Some("E_INVALID_CODE"));
    let wasi = wat::parse_str(
        r#"(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
        (memory (export "memory") 1) (func (export "call") (result i32) (i32.const 0)))"#,
    )
    .unwrap();
    let wasi = env.admin_tx(DEV_NOTARY, &propose("wasi", wasi));
    assert_eq!(env.outcome(wasi).as_deref(), Some("E_INVALID_CODE"));
    let mut too_big = deploy(counter(1, false), vec![]);
    if let AdminAction::DeployContract { registrations, .. } = &mut too_big {
        registrations.tenants.push("no-such-platform".parse().unwrap());
    }
    let unknown_tenant = env.admin_tx(
        DEV_NOTARY,
        &SystemCall::ProposeAdmin(ProposeAdmin { proposal_id: "t".parse().unwrap(), action: too_big }),
    );
    assert_eq!(env.outcome(unknown_tenant).as_deref(), Some("E_UNKNOWN_TENANT"));
    let system = AdminAction::DeployContract {
        name: system_contract(),
        version: "2.0.0".parse().unwrap(),
        code: counter(1, false),
        registrations: Registrations::default(),
        init_args: vec![],
    };
    let system = env.admin_tx(
        DEV_NOTARY,
        &SystemCall::ProposeAdmin(ProposeAdmin { proposal_id: "s".parse().unwrap(), action: system }),
    );
    assert_eq!(env.outcome(system).as_deref(), Some("E_CONTRACT_EXISTS"));
}

#[test]
fn the_same_blocks_give_the_same_state_on_every_node() {
    // Three nodes apply the same blocks; a fourth replays them in memory (verify).
    let mut nodes: Vec<Env> = (0..3).map(|_| Env::new()).collect();
    let mut blocks = Vec::new();
    {
        let env = &mut nodes[0];
        let propose = SystemCall::ProposeAdmin(ProposeAdmin {
            proposal_id: "deploy".parse().unwrap(),
            action: deploy(counter(1, false), vec![1, 2, 3]),
        });
        blocks.push(vec![env.admin_tx(DEV_NOTARY, &propose)]);
        let approve = SystemCall::ApproveAdmin(ApproveAdmin { proposal_id: "deploy".parse().unwrap() });
        blocks.push(vec![env.admin_tx(DEV_BANK, &approve)]);
        for _ in 0..3 {
            let txs = (0..4).map(|_| env.contract_tx(("", DEV_TENANT.1), Some(DEV_TENANT.0), "1.0.0")).collect();
            blocks.push(txs);
        }
    }
    for txs in blocks {
        let hashes: Vec<_> = nodes
            .iter()
            .map(|n| {
                let b = n.apply(txs.clone()).block.unwrap();
                assert!(b.receipts.iter().all(|r| r.failure.is_none()), "{:?}", b.receipts);
                b.block.header.hash()
            })
            .collect();
        assert!(hashes.windows(2).all(|w| w[0] == w[1]), "{hashes:?}");
    }
    let tips: Vec<_> = nodes.iter().map(|n| n.store.tip().unwrap().unwrap()).collect();
    assert!(tips.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(nodes[0].state(b"n"), Some(12u32.to_le_bytes().to_vec()));
    verify::verify(&nodes[0].store).unwrap();
}

/// A risk check: `whoami` outputs the call's context; `refuse` writes `w`,
/// emits `risk.alert`, `x.other` and `risk.alert.seen` (data `over`), then
/// aborts with `E_RISK_LIMIT`; `panic` does the same but reaches `unreachable`.
/// `init` with arguments emits `risk.alert` and aborts.
fn risk_check() -> Vec<u8> {
    wat::parse_str(
        r#"(module
  (import "billflow" "method_read" (func $method_read (param i32)))
  (import "billflow" "input_len" (func $input_len (result i32)))
  (import "billflow" "context" (func $context (result i32)))
  (import "billflow" "ret_read" (func $ret_read (param i32)))
  (import "billflow" "output" (func $output (param i32 i32)))
  (import "billflow" "state_put" (func $put (param i32 i32 i32 i32)))
  (import "billflow" "emit" (func $emit (param i32 i32 i32 i32)))
  (import "billflow" "abort" (func $abort (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "risk.alert")
  (data (i32.const 16) "x.other")
  (data (i32.const 32) "risk.alert.seen")
  (data (i32.const 48) "E_RISK_LIMIT")
  (data (i32.const 64) "over the limit")
  (data (i32.const 80) "over")
  (data (i32.const 88) "w")
  (func $alert_and_abort
    (call $emit (i32.const 0) (i32.const 10) (i32.const 80) (i32.const 4))
    (call $abort (i32.const 48) (i32.const 12) (i32.const 64) (i32.const 14)))
  (func (export "call") (result i32)
    (local $n i32)
    (call $method_read (i32.const 128))
    (if (i32.eq (i32.load8_u (i32.const 128)) (i32.const 119))
      (then
        (local.set $n (call $context))
        (call $ret_read (i32.const 256))
        (call $output (i32.const 256) (local.get $n))
        (return (i32.const 0))))
    (call $put (i32.const 88) (i32.const 1) (i32.const 80) (i32.const 4))
    (call $emit (i32.const 16) (i32.const 7) (i32.const 80) (i32.const 4))
    (call $emit (i32.const 32) (i32.const 15) (i32.const 80) (i32.const 4))
    (if (i32.eq (i32.load8_u (i32.const 128)) (i32.const 114))
      (then (call $alert_and_abort)))
    (call $emit (i32.const 0) (i32.const 10) (i32.const 80) (i32.const 4))
    unreachable)
  (func (export "init") (result i32)
    (if (i32.gt_s (call $input_len) (i32.const 0)) (then (call $alert_and_abort)))
    (i32.const 0)))"#,
    )
    .unwrap()
}

#[test]
fn a_refusal_keeps_its_alerts_and_nothing_else() {
    let mut env = Env::new();
    let risk: ContractName = "risk".parse().unwrap();
    // A failed `init` is the system contract's failure: no events at all.
    let receipt = env.approved("deploy-bad", deploy_as(risk.clone(), risk_check(), b"fail".to_vec()));
    assert_eq!(code_of(&receipt), Some("E_INIT_FAILED"));
    assert!(receipt.events.is_empty(), "{:?}", receipt.events);
    let receipt = env.approved("deploy", deploy_as(risk.clone(), risk_check(), vec![]));
    assert_eq!(code_of(&receipt), None, "{:?}", receipt.failure);

    let refuse = env.call_tx(("", DEV_TENANT.1), Some(DEV_TENANT.0), ("risk", "1.0.0"), "refuse", vec![]);
    let panic = env.call_tx(("", DEV_TENANT.1), Some(DEV_TENANT.0), ("risk", "1.0.0"), "panic", vec![]);
    let not_registered = env.call_tx(DEV_BANK, None, ("risk", "1.0.0"), "refuse", vec![]);
    let block = env.apply(vec![refuse, panic, not_registered]).block.unwrap();
    let codes: Vec<_> = block.receipts.iter().map(code_of).collect();
    assert_eq!(codes, [Some("E_RISK_LIMIT"), Some("E_CONTRACT_PANIC"), Some("E_NOT_REGISTERED")]);
    let refused = &block.receipts[0];
    assert_eq!(refused.status, TxStatus::Failed);
    assert_eq!(
        refused.events,
        vec![Event { contract: risk.clone(), topic: "risk.alert".into(), data: b"over".to_vec() }]
    );
    assert!(block.receipts[1].events.is_empty(), "a trap keeps no alert: {:?}", block.receipts[1].events);
    assert!(block.receipts[2].events.is_empty(), "a refusal before the call keeps none");
    assert!(block.changes.is_empty(), "a refusal writes nothing: {:?}", block.changes);
    assert_eq!(env.store.state_get(&risk, b"w").unwrap(), None);
    // The alert is part of the receipt, so every node must agree on it.
    verify::verify(&env.store).unwrap();
}

#[test]
fn a_query_runs_as_the_key_that_signed_it() {
    let mut env = Env::new();
    let risk: ContractName = "risk".parse().unwrap();
    assert_eq!(code_of(&env.approved("deploy", deploy_as(risk.clone(), risk_check(), vec![]))), None);
    let register = env.tenant_tx(&enterprise(1, "e1.k1"));
    assert_eq!(env.outcome(register), None);
    let whoami = |env: &Env, key: Option<&str>| -> CallerView {
        let ledger: SharedLedger = Arc::new(env.store.clone());
        let tip = env.store.tip().unwrap().unwrap();
        let key: Option<KeyId> = key.map(|k| k.parse().unwrap());
        let out = env.executor.query(&ledger, &tip, key.as_ref(), &risk, "whoami", &[]).unwrap().unwrap();
        let context: ContextView = borsh::from_slice(&out).unwrap();
        assert!(context.read_only);
        context.caller
    };
    let view =
        |key: &str, tenant: Option<&str>, participant: Option<(String, &str)>, org: Option<(&str, &str)>| CallerView {
            key_id: key.into(),
            tenant: tenant.map(Into::into),
            participant_kind: participant.as_ref().map(|p| p.1.into()),
            participant: participant.map(|p| p.0),
            org: org.map(|o| o.0.into()),
            org_role: org.map(|o| o.1.into()),
        };
    let anonymous = view("", None, None, None);
    assert_eq!(whoami(&env, None), anonymous);
    assert_eq!(whoami(&env, Some(DEV_TENANT.1)), view(DEV_TENANT.1, Some(DEV_TENANT.0), None, None));
    let enterprise_view = view("e1.k1", Some(DEV_TENANT.0), Some((code(1).to_string(), "enterprise")), None);
    assert_eq!(whoami(&env, Some("e1.k1")), enterprise_view);
    // The bank is not registered for the contract; a query does not ask.
    assert_eq!(whoami(&env, Some(DEV_BANK.1)), view(DEV_BANK.1, None, None, Some((DEV_BANK.0, "bank"))));
    assert_eq!(whoami(&env, Some("nobody.k1")), anonymous, "a key the ledger does not know");

    // A frozen participant may still read, as itself.
    let freeze = SystemCall::FreezeParticipant(SetFrozen { participant: code(1), reason: "court order".into() });
    let tx = env.tenant_tx(&freeze);
    assert_eq!(env.outcome(tx), None);
    assert_eq!(whoami(&env, Some("e1.k1")), enterprise_view);
    // A revoked key is nobody.
    let tx = env.tenant_tx(&SystemCall::RevokeKey(RevokeKey { key_id: "e1.k1".parse().unwrap() }));
    assert_eq!(env.outcome(tx), None);
    assert_eq!(whoami(&env, Some("e1.k1")), anonymous);
}

mod wasm;
