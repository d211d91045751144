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
use crate::verified::Verified;

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

/// Batch-verifies the signatures of `txs` whose keys exist in `state`:
/// `Some(valid)` per such transaction, `None` where the key is not (yet) known.
/// A signature this node verified when it admitted the transaction, under
/// the same key, is taken from `admitted` and not checked again.
pub(crate) fn verify_signatures(
    state: &Overlay<'_>,
    txs: &[&SignedTx],
    admitted: &Verified,
) -> Result<Vec<Option<bool>>, StorageError> {
    let mut keys = Vec::with_capacity(txs.len());
    for tx in txs {
        keys.push(key_record(state, tx)?.map(|k| k.public_key));
    }
    let messages: Vec<Vec<u8>> = txs.iter().map(|t| t.tx.encode()).collect();
    let mut positions = Vec::new();
    let mut batch = Vec::new();
    for (i, (tx, key)) in txs.iter().zip(&keys).enumerate() {
        if let Some(key) = key {
            if admitted.take(&tx.hash(), key) {
                continue;
            }
            positions.push(i);
            batch.push(SignedMessage {
                key,
                domain: Domain::TxSignature,
                message: &messages[i],
                signature: &tx.signature,
            });
        }
    }
    let mut out: Vec<Option<bool>> = keys.iter().map(|k| k.map(|_| true)).collect();
    match verify_batch(&batch) {
        Ok(()) => {}
        Err(SignatureError::BatchFailed(bad)) => {
            for b in bad {
                out[positions[b]] = Some(false);
            }
        }
        Err(_) => {
            for p in positions {
                out[p] = Some(false);
            }
        }
    }
    Ok(out)
}
