//! The contracts that ship with the node, run through the whole apply path:
//! the evidence contract, and a hostile contract whose every misbehaviour must
//! end in a receipt with its own code, no state change, and a node that goes on.

use billflow_contracts::evidence::{
    CosignEvidence, EvidenceConfig, EvidenceRecord, GetEvidence, ListBySubmitter, SubmitEvidence,
};
use billflow_contracts::{EVIDENCE, HOSTILE};

use super::*;

const TENANT: (&str, &str) = ("", DEV_TENANT.1);
/// A second notary office beside the development one: the threshold counts offices.
const OTHER_OFFICE: (&str, &str) = ("notary-dev-2", "notary-dev-2.admin");
/// Notaries and the office that registers each: two of the development office, one of the other.
const NOTARIES: [(&str, &str, (&str, &str)); 3] = [
    ("notary-dev-a", "notary-dev-a.k1", DEV_NOTARY),
    ("notary-dev-a2", "notary-dev-a2.k1", DEV_NOTARY),
    ("notary-dev-b", "notary-dev-b.k1", OTHER_OFFICE),
];

fn evidence_env() -> Env {
    let mut genesis = dev_genesis();
    genesis.organisations.push(billflow_types::GenesisOrg {
        id: OTHER_OFFICE.0.parse().unwrap(),
        name: "Second development notary office".into(),
        role: billflow_types::OrgRole::Notary,
        admin_keys: vec![billflow_types::GenesisKey {
            key_id: OTHER_OFFICE.1.parse().unwrap(),
            public_key: dev_key(OTHER_OFFICE.1).public(),
        }],
        ca_cert_pem: None,
    });
    // Two of the four organisations approve the deployment, as `approved` does.
    genesis.admin_policy.min_share_percent = 0;
    let mut env = Env::with_genesis(&genesis);
    let init = borsh::to_vec(&EvidenceConfig { notary_threshold: 2 }).unwrap();
    let mut deploy = deploy_as("evidence".parse().unwrap(), EVIDENCE.to_vec(), init);
    if let AdminAction::DeployContract { registrations, .. } = &mut deploy {
        registrations.orgs.push(OTHER_OFFICE.0.parse().unwrap());
    }
    let receipt = env.approved("deploy-evidence", deploy);
    assert_eq!(code_of(&receipt), None, "{:?}", receipt.failure);
    for (id, key, office) in NOTARIES {
        let call = SystemCall::RegisterParticipant(RegisterParticipant {
            participant: id.parse().unwrap(),
            kind: ParticipantKind::Notary,
            name: format!("Notary {id}"),
            keys: vec![KeyGrant { key_id: key.parse().unwrap(), public_key: dev_key(key).public() }],
        });
        let tx = env.admin_tx(office, &call);
        assert_eq!(env.outcome(tx), None);
    }
    env
}

fn evidence_call(env: &mut Env, signer: (&str, &str), tenant: Option<&str>, method: &str, args: Vec<u8>) -> Receipt {
    let tx = env.call_tx(signer, tenant, ("evidence", "1.0.0"), method, args);
    env.apply(vec![tx]).block.unwrap().receipts.remove(0)
}

fn query<T: borsh::BorshDeserialize>(env: &Env, contract: &str, method: &str, args: Vec<u8>) -> T {
    let ledger: SharedLedger = Arc::new(env.store.clone());
    let tip = env.store.tip().unwrap().unwrap();
    let out = env.executor.query(&ledger, &tip, None, &contract.parse().unwrap(), method, &args).unwrap().unwrap();
    borsh::from_slice(&out).unwrap()
}

#[test]
fn evidence_is_submitted_once_and_notarised_by_enough_notaries() {
    let mut env = evidence_env();
    let hash = [0x5a; 32];
    let submit = |doc_type: &str, metadata: Vec<(String, String)>| {
        borsh::to_vec(&SubmitEvidence { hash, doc_type: doc_type.into(), metadata }).unwrap()
    };
    let contract = vec![("contract".to_string(), "PO-2026-0001".to_string())];
    let receipt =
        evidence_call(&mut env, TENANT, Some(DEV_TENANT.0), "submit", submit("purchase_contract", contract.clone()));
    assert_eq!(code_of(&receipt), None, "{:?}", receipt.failure);
    assert_eq!(receipt.events[0].topic, "evidence.submitted");
    let dup = evidence_call(&mut env, TENANT, Some(DEV_TENANT.0), "submit", submit("invoice", vec![]));
    assert_eq!(code_of(&dup), Some("E_DUPLICATE_EVIDENCE"));
    let phone = vec![("contact".to_string(), "13812345678".to_string())];
    let mut other = borsh::from_slice::<SubmitEvidence>(&submit("x", phone)).unwrap();
    other.hash = [1; 32];
    // Personal data never reaches a block: the transaction is left out before
    // the contract runs (the contract would refuse it too).
    let tx = env.call_tx(TENANT, Some(DEV_TENANT.0), ("evidence", "1.0.0"), "submit", borsh::to_vec(&other).unwrap());
    let personal = env.apply(vec![tx]);
    assert!(personal.block.is_none());
    assert_eq!(personal.rejected[0].reason.code(), "E_PERSONAL_DATA");
    let garbage = evidence_call(&mut env, TENANT, Some(DEV_TENANT.0), "submit", vec![1, 2, 3]);
    assert_eq!(code_of(&garbage), Some("E_BAD_ARGS"));

    let cosign = borsh::to_vec(&CosignEvidence { hash }).unwrap();
    let not_notary = evidence_call(&mut env, TENANT, Some(DEV_TENANT.0), "cosign", cosign.clone());
    assert_eq!(code_of(&not_notary), Some("E_NOT_NOTARY"));
    let notary = |i: usize| (NOTARIES[i].0, NOTARIES[i].1);
    let first = evidence_call(&mut env, notary(0), None, "cosign", cosign.clone());
    assert_eq!(code_of(&first), None, "{:?}", first.failure);
    let again = evidence_call(&mut env, notary(0), None, "cosign", cosign.clone());
    assert_eq!(code_of(&again), Some("E_ALREADY_SIGNED"));
    let get = || borsh::to_vec(&GetEvidence { hash }).unwrap();
    let record: Option<EvidenceRecord> = query(&env, "evidence", "get", get());
    assert_eq!(record.unwrap().notarised_at, None, "one office of two");
    // A second notary of the same office is the same co-signature.
    let same_office = evidence_call(&mut env, notary(1), None, "cosign", cosign.clone());
    let topics: Vec<&str> = same_office.events.iter().map(|e| e.topic.as_str()).collect();
    assert_eq!(topics, ["evidence.cosigned"]);
    let record: Option<EvidenceRecord> = query(&env, "evidence", "get", get());
    assert_eq!(record.unwrap().notarised_at, None, "two notaries of one office");
    let second = evidence_call(&mut env, notary(2), None, "cosign", cosign);
    assert_eq!(code_of(&second), None, "{:?}", second.failure);
    let topics: Vec<&str> = second.events.iter().map(|e| e.topic.as_str()).collect();
    assert_eq!(topics, ["evidence.cosigned", "evidence.notarised"]);

    let record: EvidenceRecord =
        query::<Option<EvidenceRecord>>(&env, "evidence", "get", borsh::to_vec(&GetEvidence { hash }).unwrap())
            .unwrap();
    assert!(record.notarised_at.is_some());
    assert_eq!((record.signatures.len(), record.offices()), (3, 2));
    assert_eq!((record.doc_type.as_str(), record.metadata.clone()), ("purchase_contract", contract));
    let listed: Vec<EvidenceRecord> = query(
        &env,
        "evidence",
        "list_by_submitter",
        borsh::to_vec(&ListBySubmitter { submitter: record.submitter.clone(), after: None, limit: 10 }).unwrap(),
    );
    assert_eq!(listed, vec![record]);
    verify::verify(&env.store).unwrap();
}

#[test]
fn every_hostile_contract_ends_in_its_own_code_and_changes_nothing() {
    let mut env = Env::new();
    let receipt = env.approved("deploy-hostile", deploy_as("hostile".parse().unwrap(), HOSTILE.to_vec(), vec![]));
    assert_eq!(code_of(&receipt), None, "{:?}", receipt.failure);
    let cases = [
        ("loop", vec![], "E_OUT_OF_FUEL"),
        ("bomb", vec![], "E_OUT_OF_MEMORY"),
        ("recurse", vec![], "E_STACK_OVERFLOW"),
        ("panic", vec![], "E_CONTRACT_PANIC"),
        ("div_zero", vec![], "E_CONTRACT_TRAP"),
        ("big_put", vec![], "E_VALUE_TOO_LARGE"),
        ("write_then_abort", vec![], "E_HOSTILE"),
        ("fake_fuel", vec![], "E_CONTRACT"),
        ("ok", vec![0; 40 * 1024], "E_ARGS_TOO_LARGE"),
        ("no_such_method", vec![], "E_UNKNOWN_METHOD"),
    ];
    let txs: Vec<SignedTx> = cases
        .iter()
        .map(|(method, args, _)| env.call_tx(TENANT, Some(DEV_TENANT.0), ("hostile", "1.0.0"), method, args.clone()))
        .collect();
    let block = env.apply(txs).block.unwrap();
    for ((method, _, want), receipt) in cases.iter().zip(&block.receipts) {
        assert_eq!(code_of(receipt), Some(*want), "{method}: {:?}", receipt.failure);
        assert!(receipt.events.is_empty(), "{method}: a failure keeps no event but alerts: {:?}", receipt.events);
        assert!(receipt.fuel_used <= dev_genesis().params.tx_fuel, "{method}");
    }
    assert!(block.changes.is_empty(), "no hostile call wrote anything: {:?}", block.changes);
    // A read-only query cannot write.
    let ledger: SharedLedger = Arc::new(env.store.clone());
    let tip = env.store.tip().unwrap().unwrap();
    let q = env.executor.query(&ledger, &tip, None, &"hostile".parse().unwrap(), "read_only_write", &[]).unwrap();
    assert_eq!(q.unwrap_err().code, "E_READ_ONLY");
    // And the node goes on: the next call works.
    let ok = env.call_tx(TENANT, Some(DEV_TENANT.0), ("hostile", "1.0.0"), "ok", vec![]);
    let block = env.apply(vec![ok]).block.unwrap();
    assert_eq!(code_of(&block.receipts[0]), None);
    assert_eq!(env.store.state_get(&"hostile".parse().unwrap(), b"k").unwrap().as_deref(), Some(b"v".as_slice()));
    verify::verify(&env.store).unwrap();
}
