//! Contract interfaces on a devnet: each contract's interface is served and
//! complete; JSON arguments of every method encode to the contract's own
//! bytes; a transaction built from JSON alone commits with its events decoded;
//! queries take and answer JSON; bad JSON is refused with where it is wrong.

use billflow_contracts::evidence::{EvidenceRecord, GetEvidence, SubmitEvidence};
use billflow_sdk::types::interface::{ContractInterface, TypeDef};
use billflow_sdk::types::system::{KeyGrant, ParticipantKind, RegisterParticipant};
use billflow_sdk::types::{ContractName, TxStatus, Version};
use billflow_sdk::{SdkError, new_tx_id};
use billflow_tests::devnet::{Clock, DevnetProcess};
use billflow_tests::exclusive;
use serde_json::{Value, json};

/// A value of type `ty` with every part present: the last variant of each
/// enum (so that indexes past 0 are used), one item in each sequence.
fn sample(i: &ContractInterface, ty: &str) -> Value {
    match &i.types[ty] {
        TypeDef::Unit => Value::Null,
        TypeDef::Bool => json!(true),
        TypeDef::Int { bytes, signed } => match (bytes, signed) {
            (8 | 16, false) => json!("18446744073709551615"),
            (_, true) => json!(-1),
            _ => json!(7),
        },
        TypeDef::String => json!("x-1"),
        TypeDef::Bytes => json!("00ff"),
        TypeDef::FixedBytes { length } => json!("ab".repeat(*length as usize)),
        TypeDef::Option { ty } | TypeDef::Newtype { ty } => sample(i, ty),
        TypeDef::Vec { ty } => json!([sample(i, ty)]),
        TypeDef::Array { length, ty } => Value::Array((0..*length).map(|_| sample(i, ty)).collect()),
        TypeDef::Tuple { types } => Value::Array(types.iter().map(|t| sample(i, t)).collect()),
        TypeDef::Struct { fields } => {
            Value::Object(fields.iter().map(|f| (f.name.clone(), sample(i, &f.ty))).collect())
        }
        TypeDef::Enum { variants } => {
            let last = variants.last().expect("an enum has a variant");
            match &last.ty {
                None => json!(last.name),
                Some(t) => json!({ &last.name: sample(i, t) }),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn contracts_speak_json_through_their_interfaces() {
    let _one = exclusive().await;
    let devnet = DevnetProcess::start(3, 0, false, Clock::Real).unwrap();
    let supplier = devnet.participant("91320500MA1FL0002T").unwrap();
    let client = devnet.client().unwrap().with_auth(supplier.clone());

    // Each contract's interface: its active version, every type it names defined.
    let mut interfaces = Vec::new();
    for name in ["flows", "evidence", "system"] {
        let contract: ContractName = name.parse().unwrap();
        let interface = client.interface(&contract).await.unwrap();
        assert_eq!(interface.contract, name);
        if let Some(record) = client.contract(&contract).await.unwrap() {
            assert_eq!(interface.version, record.version.to_string());
        }
        assert!(!interface.methods.is_empty() && !interface.events.is_empty(), "{name}");
        // Every method's sample arguments: the node's encoding decodes back to
        // the same JSON, and encodes again to the same bytes.
        for method in &interface.methods {
            let args = sample(&interface, &method.args);
            let bytes = client.encode_args(&contract, &method.name, &args).await.unwrap();
            let back = interface.decode(&method.args, &bytes).unwrap();
            assert_eq!(interface.encode(&method.args, &back).unwrap(), bytes, "{name} {}", method.name);
        }
        interfaces.push(interface);
    }
    let flows = &interfaces[0];
    assert!(flows.methods.iter().any(|m| m.name == "bill.approve_discount"));
    assert_eq!(flows.event_type("bill.changed"), Some("HistoryEntry"));

    // The JSON form encodes to exactly the contracts' own bytes.
    let participant = RegisterParticipant {
        participant: "91350100M000100Y43".parse().unwrap(),
        kind: ParticipantKind::Bank,
        name: "Fuzhou Bank".into(),
        keys: vec![KeyGrant { key_id: "fzb.k1".parse().unwrap(), public_key: billflow_sdk::types::PublicKey([9; 32]) }],
    };
    let system: ContractName = "system".parse().unwrap();
    let text = json!({"participant": "91350100M000100Y43", "kind": "Bank", "name": "Fuzhou Bank",
        "keys": [{"key_id": "fzb.k1", "public_key": hex::encode([9u8; 32])}]});
    assert_eq!(
        client.encode_args(&system, "register_participant", &text).await.unwrap(),
        borsh::to_vec(&participant).unwrap()
    );

    // A transaction built from JSON and the interface alone commits; its
    // receipt's events come back decoded.
    let evidence: ContractName = "evidence".parse().unwrap();
    let hash = [0x5a; 32];
    let args = json!({"hash": hex::encode(hash), "doc_type": "invoice", "metadata": [["no", "INV-9"]]});
    let submit = interfaces[1].method("submit").unwrap();
    let bytes = interfaces[1].encode(&submit.args, &args).unwrap();
    let typed = SubmitEvidence { hash, doc_type: "invoice".into(), metadata: vec![("no".into(), "INV-9".into())] };
    assert_eq!(bytes, borsh::to_vec(&typed).unwrap());
    let tx = supplier.sign(
        new_tx_id("ev").unwrap(),
        evidence.clone(),
        Version::new(1, 0, 0),
        "submit".parse().unwrap(),
        bytes,
    );
    // Sent as JSON, answered in JSON with the events decoded.
    let view = client.submit_json(&tx, true).await.unwrap();
    assert_eq!(view.receipt.as_ref().map(|r| r.status), Some(TxStatus::Success));
    assert_eq!(view.decoded_events.len(), 1);
    assert_eq!(view.decoded_events[0].as_ref().unwrap()["doc_type"], "invoice");

    // A query in JSON, answered in JSON.
    let record = client.query_json(&evidence, "get", &json!({"hash": hex::encode(hash)})).await.unwrap();
    assert_eq!(record["metadata"], json!([["no", "INV-9"]]));
    assert_eq!(record["submitter"], "participant:91320500MA1FL0002T");
    let none = client.query_json(&evidence, "get", &json!({"hash": hex::encode([1u8; 32])})).await.unwrap();
    assert_eq!(none, Value::Null);

    // The same query in canonical bytes, answered in the output's bytes alone
    // (`Accept: application/octet-stream`); a refusal is still typed JSON.
    let out = client.query(&evidence, "get", borsh::to_vec(&GetEvidence { hash }).unwrap()).await.unwrap();
    let stored: EvidenceRecord = borsh::from_slice::<Option<EvidenceRecord>>(&out).unwrap().unwrap();
    assert_eq!((stored.hash, stored.metadata), (hash, vec![("no".to_string(), "INV-9".to_string())]));
    match client.query(&evidence, "get", vec![1, 2]).await.unwrap_err() {
        SdkError::Api { status, code, .. } => assert_eq!((status, code.as_str()), (422, "E_BAD_ARGS")),
        other => panic!("expected a refusal, got {other}"),
    }

    // Bad JSON: refused, saying where, and nothing is stored.
    let tip = client.health().await.unwrap().height;
    let refused = |e: SdkError| match e {
        SdkError::Api { status, code, message, .. } => (status, code, message),
        other => panic!("expected a refusal, got {other}"),
    };
    let (status, code, message) = refused(
        client
            .encode_args(&evidence, "submit", &json!({"hash": "00", "doc_type": "x", "metadata": []}))
            .await
            .unwrap_err(),
    );
    assert_eq!((status, code.as_str()), (400, "E_ARGS_MISMATCH"));
    assert!(message.contains("$.hash: expected 32 bytes"), "{message}");
    let (status, code, message) = refused(
        client.query_json(&evidence, "get", &json!({"hash": hex::encode(hash), "extra": 1})).await.unwrap_err(),
    );
    assert_eq!((status, code.as_str()), (400, "E_ARGS_MISMATCH"));
    assert!(message.contains("no field `extra`"), "{message}");
    let (status, code, _) = refused(client.encode_args(&evidence, "mint", &json!({})).await.unwrap_err());
    assert_eq!((status, code.as_str()), (404, "E_NOT_FOUND"));
    let (status, code, _) = refused(client.interface(&"nothing".parse().unwrap()).await.unwrap_err());
    assert_eq!((status, code.as_str()), (404, "E_NOT_FOUND"));
    assert_eq!(client.health().await.unwrap().height, tip, "a refused encoding or query stores nothing");
}
