//! Property tests: every canonical encoding decodes to what was encoded, and
//! nothing but the exact bytes decodes.

use proptest::prelude::*;

use crate::system::{KeyGrant, RegisterParticipant, SystemCall};
use crate::*;

fn id<T: std::str::FromStr + std::fmt::Debug>() -> impl Strategy<Value = T>
where
    T::Err: std::fmt::Debug,
{
    "[a-z0-9][a-z0-9._:-]{0,20}".prop_map(|s| s.parse().unwrap())
}

fn hash() -> impl Strategy<Value = Hash32> {
    any::<[u8; 32]>().prop_map(Hash32)
}

fn tx() -> impl Strategy<Value = Tx> {
    (
        id::<ChainId>(),
        id::<TxId>(),
        proptest::option::of(id::<TenantId>()),
        id::<KeyId>(),
        id::<ContractName>(),
        (any::<u32>(), any::<u32>(), any::<u32>()),
        id::<MethodName>(),
        proptest::collection::vec(any::<u8>(), 0..200),
        any::<u64>(),
    )
        .prop_map(|(chain_id, tx_id, tenant, signer, contract, (a, b, c), method, args, timestamp_ms)| Tx {
            chain_id,
            tx_id,
            tenant,
            signer,
            contract,
            version: Version::new(a, b, c),
            method,
            args,
            timestamp_ms,
        })
}

fn signed_tx() -> impl Strategy<Value = SignedTx> {
    (tx(), any::<[u8; 32]>()).prop_map(|(tx, seed)| tx.sign(&SecretKey::from_seed(seed)))
}

fn receipt() -> impl Strategy<Value = Receipt> {
    (
        hash(),
        id::<TxId>(),
        any::<bool>(),
        proptest::collection::vec((id::<ContractName>(), ".{0,10}", any::<Vec<u8>>()), 0..3),
        any::<u64>(),
    )
        .prop_map(|(tx_hash, tx_id, ok, events, fuel_used)| Receipt {
            tx_hash,
            tx_id,
            status: if ok { TxStatus::Success } else { TxStatus::Failed },
            failure: (!ok).then(|| TxFailure { code: "E_X".into(), message: "no".into() }),
            events: events.into_iter().map(|(contract, topic, data)| Event { contract, topic, data }).collect(),
            fuel_used,
        })
}

fn block() -> impl Strategy<Value = Block> {
    (
        any::<u64>(),
        hash(),
        hash(),
        hash(),
        hash(),
        id::<NodeId>(),
        any::<u64>(),
        any::<(u64, u64)>(),
        proptest::collection::vec(signed_tx(), 0..4),
        hash(),
    )
        .prop_map(
            |(
                height,
                prev_hash,
                tx_root,
                receipts_root,
                state_hash,
                proposer,
                proposed_at_ms,
                (term, index),
                txs,
                voters_hash,
            )| {
                Block {
                    header: BlockHeader {
                        chain_id: "c".parse().unwrap(),
                        height,
                        prev_hash,
                        tx_root,
                        receipts_root,
                        state_hash,
                        tx_count: txs.len() as u32,
                        proposer,
                        proposed_at_ms,
                        consensus: ConsensusRef { term, index },
                        voters_hash,
                    },
                    txs,
                }
            },
        )
}

fn round_trips<T: Canonical + PartialEq + std::fmt::Debug>(value: &T) -> Result<(), TestCaseError> {
    let bytes = value.encode();
    prop_assert_eq!(&T::decode(&bytes).unwrap(), value);
    let mut longer = bytes.clone();
    longer.push(0);
    prop_assert!(T::decode(&longer).is_err(), "trailing byte accepted");
    if !bytes.is_empty() {
        prop_assert!(T::decode(&bytes[..bytes.len() - 1]).is_err(), "truncated bytes accepted");
    }
    Ok(())
}

proptest! {
    #[test]
    fn signed_transactions_round_trip_and_still_verify(stx in signed_tx(), seed in any::<[u8; 32]>()) {
        round_trips(&stx)?;
        round_trips(&stx.tx)?;
        let decoded = SignedTx::decode(&stx.encode()).unwrap();
        prop_assert_eq!(decoded.hash(), stx.hash());
        let json = serde_json::to_string(&stx).unwrap();
        prop_assert_eq!(serde_json::from_str::<SignedTx>(&json).unwrap(), stx.clone());
        // Verifies under its signer, under nobody else.
        let key = SecretKey::from_seed(seed);
        let signed = stx.tx.clone().sign(&key);
        prop_assert!(signed.verify(&key.public()).is_ok());
        prop_assert!(signed.verify(&SecretKey::from_seed([seed[0] ^ 1; 32]).public()).is_err() || seed == [seed[0] ^ 1; 32]);
    }

    #[test]
    fn blocks_and_receipts_round_trip(b in block(), r in receipt()) {
        round_trips(&b)?;
        round_trips(&b.header)?;
        round_trips(&r)?;
        prop_assert_eq!(BlockHeader::decode(&b.header.encode()).unwrap().hash(), b.header.hash());
    }

    #[test]
    fn system_calls_round_trip(participant in id::<ParticipantId>(), name in ".{0,30}", key in id::<KeyId>(), seed in any::<[u8; 32]>()) {
        let call = SystemCall::RegisterParticipant(RegisterParticipant {
            participant,
            kind: system::ParticipantKind::Enterprise,
            name,
            keys: vec![KeyGrant { key_id: key, public_key: SecretKey::from_seed(seed).public() }],
        });
        prop_assert_eq!(SystemCall::decode(&call.method_name(), &call.encode_args()).unwrap(), call);
    }

    #[test]
    fn state_changes_round_trip(c in id::<ContractName>(), k in any::<Vec<u8>>(), v in proptest::option::of(any::<Vec<u8>>())) {
        round_trips(&StateChange { contract: c, key: k, value: v })?;
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_decoder(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = SignedTx::decode(&bytes);
        let _ = Block::decode(&bytes);
        let _ = Receipt::decode(&bytes);
    }
}

#[test]
fn the_genesis_round_trips_through_json_and_binary() {
    let g = dev::dev_genesis();
    assert_eq!(Genesis::decode(&g.encode()).unwrap(), g);
    // The signatures sign the hash, so they are not hashed.
    let unsigned = Genesis { signatures: Vec::new(), ..g.clone() };
    assert_eq!(unsigned.hash(), g.hash());
    assert_ne!(unsigned.encode(), g.encode());
    let json = serde_json::to_string(&g).unwrap();
    assert_eq!(serde_json::from_str::<Genesis>(&json).unwrap(), g);
}

#[test]
fn a_genesis_starts_a_chain_only_with_every_founders_valid_signature() {
    use crate::genesis::GenesisError;
    let g = dev::dev_genesis();
    assert_eq!(g.verify_signatures(), Ok(()));
    // One founder missing.
    let mut missing = g.clone();
    let bank = missing.signatures.remove(1).org;
    assert_eq!(missing.verify_signatures(), Err(GenesisError::MissingSignature(bank)));
    // Signed over other bytes.
    let mut changed = g.clone();
    changed.params.tx_fuel += 1;
    assert!(matches!(changed.verify_signatures(), Err(GenesisError::BadSignature { .. })));
    // One founder's signature presented under another's key.
    let mut swapped = g.clone();
    swapped.signatures[0].signature = swapped.signatures[1].signature;
    assert!(matches!(swapped.verify_signatures(), Err(GenesisError::BadSignature { .. })));
    // A signature by a key no founder holds.
    let mut stranger = g.clone();
    let key = crate::SecretKey::from_seed([9; 32]);
    stranger.signatures.push(g.sign("outsider".parse().unwrap(), "outsider.admin".parse().unwrap(), &key));
    assert!(matches!(stranger.verify_signatures(), Err(GenesisError::NotFounder { .. })));
    let mut forged = g.clone();
    forged.signatures[0] = g.sign(g.organisations[0].id.clone(), g.organisations[0].admin_keys[0].key_id.clone(), &key);
    assert!(matches!(forged.verify_signatures(), Err(GenesisError::BadSignature { .. })));
}

#[test]
fn a_huge_length_prefix_is_refused_without_allocating_it() {
    // A Vec<SignedTx> claiming u32::MAX elements in a handful of bytes.
    let mut bytes = b"\x01\x00\x00\x00n".to_vec();
    bytes.extend_from_slice(&0u64.to_le_bytes());
    bytes.extend_from_slice(&u32::MAX.to_le_bytes());
    assert!(BlockProposal::decode(&bytes).is_err());
}

#[test]
fn a_share_keeps_the_policy_a_majority_as_organisations_join() {
    use crate::genesis::{AdminPolicy, OrgRole, RegulatorApproval};
    let p = AdminPolicy::majority(3);
    assert_eq!((p.needed(3), p.needed(4), p.needed(5), p.needed(6), p.needed(2)), (2, 3, 3, 4, 2));
    let banks = |n: usize| std::iter::repeat_n(OrgRole::Bank, n);
    assert!(p.is_met(banks(3), banks(5)));
    assert!(!p.is_met(banks(2), banks(5)), "two of five is not a majority");
    // A regulator excluded neither counts among the approvals nor among the members.
    let q = AdminPolicy { min_approving_orgs: 1, min_share_percent: 51, regulator: RegulatorApproval::Excluded };
    let members = [OrgRole::Bank, OrgRole::Bank, OrgRole::Regulator];
    assert!(!q.is_met([OrgRole::Bank, OrgRole::Regulator], members), "one bank of two is not 51 %");
    assert!(q.is_met(banks(2), members));
    assert_eq!(
        AdminPolicy { min_share_percent: 101, ..p.clone() }.unmeetable(banks(3)),
        Some("min_share_percent must be 0 to 100")
    );
}
