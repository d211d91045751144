//! Who signed a transaction, and whether the signature holds.
//!
//! A key's public key never changes and key ids are never reused, so a
//! signature checked against the key as it stood at the start of a block stays
//! valid for the whole block; only the key's status (revoked or not) must be read
//! at the transaction's own position.

use billflow_storage::StorageError;
use billflow_types::crypto::{SignatureError, SignedMessage, verify_batch};
use billflow_types::system::{
    Home, KeyRecord, KeyStatus, ParticipantRecord, Principal, RecordKind, state_key, system_contract,
};
use billflow_types::{Canonical, Domain, Rejection, SignedTx};

use crate::overlay::{Overlay, StateView};
use crate::verified::{Batch, CheckedBatches, Verified};

fn key_record(state: &dyn StateView, tx: &SignedTx) -> Result<Option<KeyRecord>, StorageError> {
    let overlay = Overlay::new(state);
    overlay.get_record(&system_contract(), &state_key(RecordKind::Key, tx.tx.signer.as_str()))
}

/// The signer's active key record, or why the transaction is not authentic.
/// Does not check the signature itself.
pub(crate) fn signer(state: &Overlay<'_>, tx: &SignedTx) -> Result<Result<KeyRecord, Rejection>, StorageError> {
    let Some(key) = key_record(state, tx)? else {
        return Ok(Err(Rejection::UnknownKey(tx.tx.signer.clone())));
    };
    if let KeyStatus::Revoked { .. } = key.status {
        return Ok(Err(Rejection::KeyRevoked(tx.tx.signer.clone())));
    }
    let tenant_of_signer = match &key.owner {
        Principal::Admin(_) => None,
        Principal::Tenant(t) => Some(t.clone()),
        Principal::Participant(p) => {
            let record: Option<ParticipantRecord> =
                state.get_record(&system_contract(), &state_key(RecordKind::Participant, p.as_str()))?;
            match record.map(|r| r.home) {
                Some(Home::Tenant(t)) => Some(t),
                Some(Home::Org(_)) => None,
                None => {
                    return Err(StorageError::Corrupt {
                        what: format!("key {}", key.key_id),
                        reason: format!("owner participant {p} is not registered"),
                    });
                }
            }
        }
    };
    if tenant_of_signer != tx.tx.tenant {
        return Ok(Err(Rejection::TenantMismatch { key: tx.tx.signer.clone(), tenant: tx.tx.tenant.clone() }));
    }
    Ok(Ok(key))
}

/// Batch-verifies the signatures of a block's transactions whose keys exist
/// in `state` (the state before the block): `Some(valid)` per such
/// transaction, in order, `None` where the key is not (yet) known.
///
/// When this node verified every such signature when it admitted the
/// transaction, under the same key, the answers are taken from `admitted`
/// and nothing is checked again. Otherwise the whole block is one batch,
/// admitted or not: ed25519's batch equation weighs each signature by
/// coefficients drawn from the whole batch, and a signature crafted to fail on
/// its own can pass in some batches. Every node forms the same batch from the
/// same block on the same state, so every node reaches the same verdict on it,
/// whatever it admitted itself and however it groups blocks to apply them.
pub(crate) fn verify_signatures(
    state: &Overlay<'_>,
    txs: &[SignedTx],
    admitted: &Verified,
    checked: &CheckedBatches,
) -> Result<Vec<Option<bool>>, StorageError> {
    let keys = signing_keys(state, txs)?;
    let known = with_known_keys(txs, &keys);
    let batch = batch_of(&known);
    // Each admitted entry is used once: take them all before deciding.
    let taken = batch.iter().filter(|(hash, key)| admitted.take(hash, key)).count();
    let verdicts: Vec<bool> = if taken == known.len() || checked.take(&batch) {
        vec![true; known.len()]
    } else {
        match verify_whole(&known) {
            Ok(()) => vec![true; known.len()],
            Err(SignatureError::BatchFailed(bad)) => (0..known.len()).map(|i| !bad.contains(&i)).collect(),
            Err(_) => vec![false; known.len()],
        }
    };
    let mut verdicts = verdicts.into_iter();
    Ok(keys.iter().map(|key| key.and_then(|_| verdicts.next())).collect())
}

/// Checks a block's signatures as [`verify_signatures`] will when the block
/// applies, ahead of it: a follower is handed a block before it is
/// committed, and its batch checked then is one check fewer on the path
/// from commit to answer. `state` is the state as it stands now, which may be
/// before blocks still to apply ahead of this one: the batch is remembered
/// with each transaction's hash and key, and taken only if the block's own
/// batch is the same, in order, on the state before it; a block that comes
/// to apply while its batch is being checked waits for the answer. Only a
/// batch that verifies whole is taken: after a failure the block checks
/// again and finds which signatures failed.
pub(crate) fn check_ahead(
    state: &Overlay<'_>,
    txs: &[SignedTx],
    admitted: &Verified,
    checked: &CheckedBatches,
) -> Result<(), StorageError> {
    let keys = signing_keys(state, txs)?;
    let known = with_known_keys(txs, &keys);
    let batch = batch_of(&known);
    if batch.iter().all(|(hash, key)| admitted.contains(hash, key)) {
        return Ok(());
    }
    checked.begin(batch.clone());
    checked.finish(&batch, verify_whole(&known).is_ok());
    Ok(())
}

/// The public key of each transaction's signer, where `state` holds it.
fn signing_keys(state: &Overlay<'_>, txs: &[SignedTx]) -> Result<Vec<Option<billflow_types::PublicKey>>, StorageError> {
    txs.iter().map(|tx| Ok(key_record(state, tx)?.map(|k| k.public_key))).collect()
}

/// The transactions whose signer's key is known, with that key.
fn with_known_keys<'a>(
    txs: &'a [SignedTx],
    keys: &'a [Option<billflow_types::PublicKey>],
) -> Vec<(&'a SignedTx, &'a billflow_types::PublicKey)> {
    txs.iter().zip(keys).filter_map(|(tx, key)| Some((tx, key.as_ref()?))).collect()
}

fn batch_of(known: &[(&SignedTx, &billflow_types::PublicKey)]) -> Batch {
    known.iter().map(|(tx, key)| (tx.hash(), **key)).collect()
}

/// One ed25519 batch over the signatures of `known`.
fn verify_whole(known: &[(&SignedTx, &billflow_types::PublicKey)]) -> Result<(), SignatureError> {
    let messages: Vec<Vec<u8>> = known.iter().map(|(t, _)| t.tx.encode()).collect();
    let batch: Vec<SignedMessage<'_>> = known
        .iter()
        .zip(&messages)
        .map(|((tx, key), message)| SignedMessage {
            key,
            domain: Domain::TxSignature,
            message,
            signature: &tx.signature,
        })
        .collect();
    verify_batch(&batch)
}
