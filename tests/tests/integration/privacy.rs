//! Supervision and personal data on a devnet running the demo scenario:
//! - the regulator receives every event of the demo exactly once across a
//!   forced reconnect, the same events as the polling route;
//! - personal data sent in every way a client can (evidence metadata, contract
//!   arguments, transaction ids, batches, request paths and ids) is refused
//!   before it is ordered, and afterwards no unmasked sample appears in any
//!   response, in the nodes' stored bytes (block files, state, audit logs) or
//!   in their logs.

use std::path::Path;
use std::time::Duration;

use billflow_sdk::types::view::StreamEvent;
use billflow_sdk::types::{Hash32, Version};
use billflow_sdk::{SdkError, Signer, evidence, flows, new_tx_id};
use billflow_tests::devnet::{Clock, DevnetProcess};
use billflow_tests::exclusive;

/// A mobile phone number, a resident identity number and a bank card number,
/// each with a valid structure and check.
const PHONE: &str = "13812345678";
const RESIDENT_ID: &str = "110101199003071233";
const CARD: &str = "6222021234567894";
/// What must never appear in plain text: the samples (also as written in
/// groups) and the demo participants' own account numbers, which the SDK
/// masks and digests before they are sent.
const NEVER: [&str; 9] = [
    PHONE,
    "138 1234 5678",
    RESIDENT_ID,
    CARD,
    "6222 0212 3456 7894",
    "6222000000000001",
    "6222021001000101",
    "6222021001000202",
    "6222021001000303",
];

fn regulator(devnet: &DevnetProcess) -> Signer {
    let owner = devnet.json["regulator_keys"][0]["owner"].as_str().expect("a regulator in devnet.json").to_string();
    devnet.signer("regulator_keys", &owner, None).unwrap()
}

fn assert_personal_refusal(result: Result<impl std::fmt::Debug, SdkError>, what: &str) {
    match result {
        Err(SdkError::Api { status: 400, code, message, .. }) if code == "E_PERSONAL_DATA" => {
            assert!(NEVER.iter().all(|s| !message.contains(s)), "{what}: the refusal echoes the value: {message}");
        }
        other => panic!("{what}: expected a 400 E_PERSONAL_DATA, got {other:?}"),
    }
}

/// Every file under `dir` holding one of `samples`: (file, sample), and the
/// bytes and files read.
fn files_holding<'a>(dir: &Path, samples: &[&'a str]) -> (Vec<(String, &'a str)>, u64, usize) {
    let (mut found, mut bytes, mut files) = (Vec::new(), 0u64, 0usize);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let content = std::fs::read(&path).unwrap();
        bytes += content.len() as u64;
        files += 1;
        for &sample in samples {
            if content.windows(sample.len()).any(|w| w == sample.as_bytes()) {
                found.push((path.display().to_string(), sample));
            }
        }
    }
    (found, bytes, files)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_demo_is_supervised_exactly_once_and_personal_data_never_lands() {
    let _one = exclusive().await;
    let mut devnet = DevnetProcess::start(3, 1, true, Clock::Real).unwrap();
    let urls = devnet.urls();
    let regulator = regulator(&devnet);
    // The regulator reads from its observer node.
    let observer = devnet.client_of(vec![urls[3].clone()]).unwrap().with_auth(regulator.clone());
    let voter = devnet.client_of(vec![urls[0].clone()]).unwrap();
    let tip = voter.health().await.unwrap().height;
    billflow_tests::eventually(Duration::from_secs(30), "the observer catches up", || async {
        observer.health().await.is_ok_and(|h| h.height >= tip)
    })
    .await
    .unwrap();

    // The demo, plus an evidence record with harmless metadata.
    let supplier = devnet.participant("91320500MA1FL0002T").unwrap();
    let client = voter.with_auth(supplier.clone());
    let evidence_version = Version::new(1, 0, 0);
    let record = evidence::submit_tx(
        &supplier,
        new_tx_id("ev").unwrap(),
        evidence_version,
        &Hash32::of(billflow_sdk::types::Domain::Tx, b"a purchase contract"),
        "purchase_contract",
        vec![("contract".into(), "PO-2026-0001".into())],
    );
    let committed = client.submit(&record, true).await.unwrap();
    let tip = committed.height.expect("committed");
    billflow_tests::eventually(Duration::from_secs(30), "the observer has the evidence", || async {
        observer.health().await.is_ok_and(|h| h.height >= tip)
    })
    .await
    .unwrap();

    // Every event of the demo, exactly once across a forced reconnect.
    let expected = billflow_tests::all_supervision_events(&observer).await.unwrap();
    let topics = |prefix: &str| expected.iter().filter(|e| e.topic.starts_with(prefix)).count();
    for area in ["contract.", "participant.", "party.", "order.", "invoice.", "bill.", "fund.", "evidence."] {
        assert!(
            topics(area) > 0,
            "the demo has {area} events: {:?}",
            expected.iter().map(|e| &e.topic).collect::<Vec<_>>()
        );
    }
    // Each event comes decoded by its contract's interface, stream and page alike.
    let undecoded: Vec<&str> = expected.iter().filter(|e| e.decoded.is_none()).map(|e| e.topic.as_str()).collect();
    assert!(undecoded.is_empty(), "events without their JSON form: {undecoded:?}");
    let mut received = Vec::new();
    let mut stream = observer.supervise(Some("0-0-0"), &[], None).await.unwrap();
    while received.len() < expected.len() / 2 {
        received.push(stream.next().await.expect("the stream is open").unwrap());
    }
    let resume = stream.last.clone().expect("a cursor");
    drop(stream);
    let mut stream = observer.supervise(Some(&resume), &[], None).await.unwrap();
    while received.len() < expected.len() {
        let event = tokio::time::timeout(Duration::from_secs(20), stream.next())
            .await
            .unwrap_or_else(|_| panic!("only {} of {} events arrived", received.len(), expected.len()))
            .expect("the stream is open")
            .unwrap();
        received.push(event);
    }
    drop(stream);
    let cursors = |events: &[StreamEvent]| events.iter().map(|e| e.cursor.clone()).collect::<Vec<_>>();
    assert_eq!(cursors(&received), cursors(&expected), "every event once, in ledger order");
    assert_eq!(received, expected);

    // Personal data, every way a client can send it: refused at the gateway.
    let with_contact = evidence::submit_tx(
        &supplier,
        new_tx_id("ev").unwrap(),
        evidence_version,
        &Hash32::of(billflow_sdk::types::Domain::Tx, b"a delivery note"),
        "delivery_note",
        vec![("contact".into(), "138 1234 5678".into())],
    );
    assert_personal_refusal(client.submit(&with_contact, true).await, "evidence metadata");
    let flows_version = client.flows_version().await.unwrap();
    let order = flows::Action::CreateOrder(flows::CreateOrder {
        id: format!("PO-{CARD}"),
        seller: "91330100MA1FL0003D".into(),
        amount: 100_000,
        date: flows::finance::Date::parse("2026-11-01").unwrap(),
        evidence: None,
    });
    let order_tx = flows::tx(&supplier, new_tx_id("po").unwrap(), flows_version, &order);
    assert_personal_refusal(client.submit(&order_tx, true).await, "an order id");
    let party = flows::Action::RegisterParty(flows::RegisterParty {
        account: flows::account("bank-a", "6222021001000999", b"a salt of sixteen bytes").unwrap(),
        city: format!("Suzhou, holder {RESIDENT_ID}"),
        finance_company: false,
    });
    let party_tx = flows::tx(&supplier, new_tx_id("party").unwrap(), flows_version, &party);
    assert_personal_refusal(client.submit_json(&party_tx, true).await, "contract arguments as JSON");
    let named = flows::tx(&supplier, format!("pay-{PHONE}").parse().unwrap(), flows_version, &order);
    assert_personal_refusal(client.submit(&named, true).await, "a transaction id");
    let batch = client.submit_batch(&[with_contact.clone(), named.clone()], false).await.unwrap();
    assert!(batch.results.iter().all(|r| r.error.as_ref().is_some_and(|e| e.code == "E_PERSONAL_DATA")), "{batch:?}");
    for tx in [&with_contact, &order_tx, &party_tx] {
        let looked_up = client.transaction(&tx.tx.tx_id).await;
        assert!(matches!(looked_up, Err(SdkError::Api { status: 404, .. })), "never pending: {looked_up:?}");
    }
    let by_path = client.transaction(&named.tx.tx_id).await;
    let Err(SdkError::Api { status: 404, message, .. }) = by_path else { panic!("{by_path:?}") };
    assert!(message.contains("pay-138****5678"), "{message}");

    // What the ledger serves holds no sample: the regulator's view of the
    // supervision events and the audit log, each block with its
    // transactions, and every party's bills with their history.
    let mut served = serde_json::to_string(&billflow_tests::all_supervision_events(&observer).await.unwrap()).unwrap();
    // The lookup went to the first voter: its audit log names it, masked.
    let regulator_voter = voter.with_auth(regulator);
    let audited = || async {
        let page = regulator_voter.audit(None, None, None, None, 1000).await.unwrap();
        page.entries.iter().any(|e| e.object.contains("pay-138****5678")).then_some(page)
    };
    let mut audit = None;
    for _ in 0..50 {
        audit = audited().await;
        if audit.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    served += &serde_json::to_string(&audit.expect("the lookup is audited, masked")).unwrap();
    let height = regulator_voter.health().await.unwrap().height;
    for h in 0..=height {
        served += &serde_json::to_string(&regulator_voter.block(h).await.unwrap()).unwrap();
    }
    for party in ["91310000MA1FL0001R", "91320500MA1FL0002T", "91330100MA1FL0003D", "bank-a", "bank-b"] {
        let as_party = voter.with_auth(devnet.participant(party).unwrap());
        served += &format!("{:?}", as_party.party(party).await.unwrap());
        for bill in as_party.bills(&flows::Page { after: None, limit: 100 }).await.unwrap() {
            served += &format!("{:?}", as_party.bill(&bill.number).await.unwrap());
        }
    }
    for sample in NEVER {
        assert!(!served.contains(sample), "a response holds {sample}");
    }

    // Nor does anything the nodes wrote: block files, state, audit logs, logs.
    devnet.stop();
    let (found, bytes, files) = files_holding(&devnet.path, &NEVER);
    assert!(files > 20 && bytes > 100_000, "scanned {files} files, {bytes} bytes");
    // The scan sees arguments as stored: the harmless metadata is there in plain text.
    let (control, _, _) = files_holding(&devnet.path, &["PO-2026-0001"]);
    assert!(control.len() >= 4, "the evidence metadata is stored on every node: {control:?}");
    assert!(found.is_empty(), "unmasked personal data on disk: {found:?}");
    eprintln!("scanned {files} files, {bytes} bytes: no unmasked personal data");
}
