//! Transactions: what a participant asks the ledger to do, and its signature.

use borsh::{BorshDeserialize, BorshSchema, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::crypto::{PublicKey, SecretKey, Signature};
use crate::encoding::Canonical;
use crate::genesis::ChainParams;
use crate::hash::{Domain, Hash32};
use crate::ids::{ChainId, ContractName, KeyId, MethodName, TenantId, TxId, Version};
use crate::reject::Rejection;

/// A transaction before signing. Its canonical encoding, in the
/// [`Domain::TxSignature`] domain, is what the signer signs.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Tx {
    /// The chain it is meant for.
    pub chain_id: ChainId,
    /// Client-chosen id, unique on the chain for ever; resubmitting it never executes twice.
    pub tx_id: TxId,
    /// The tenant the signer acts under (`None` for consortium organisations and their banks).
    // Always written (`null` for none), so required in the schema.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub tenant: Option<TenantId>,
    /// The registered key that signed it.
    pub signer: KeyId,
    /// The contract to call.
    pub contract: ContractName,
    /// The exact contract version the caller means.
    pub version: Version,
    /// The contract method.
    pub method: MethodName,
    /// The method's arguments, encoded as the contract defines.
    #[serde(with = "hex_bytes")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = "hex", pattern = "^([0-9a-f]{2})*$"))]
    pub args: Vec<u8>,
    /// The client's clock when it built the transaction, in ms since the Unix epoch.
    pub timestamp_ms: u64,
}

/// A transaction with its signer's signature.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignedTx {
    /// The transaction.
    pub tx: Tx,
    /// ed25519 over the canonical encoding of `tx` in [`Domain::TxSignature`].
    pub signature: Signature,
}

impl Tx {
    /// Signs the transaction with `key`.
    pub fn sign(self, key: &SecretKey) -> SignedTx {
        let signature = key.sign(Domain::TxSignature, &self.encode());
        SignedTx { tx: self, signature }
    }
}

impl SignedTx {
    /// The transaction hash: its identity in blocks and Merkle proofs.
    pub fn hash(&self) -> Hash32 {
        Hash32::of(Domain::Tx, &self.encode())
    }

    /// Verifies the signature under `key`.
    pub fn verify(&self, key: &PublicKey) -> Result<(), Rejection> {
        key.verify(Domain::TxSignature, &self.tx.encode(), &self.signature)
            .map_err(|_| Rejection::BadSignature(self.tx.signer.clone()))
    }

    /// Decodes a signed transaction, refusing anything over the size limit first.
    pub fn decode_limited(bytes: &[u8], params: &ChainParams) -> Result<SignedTx, Rejection> {
        let max = params.max_envelope_bytes();
        if bytes.len() > max {
            return Err(Rejection::TooLarge { size: bytes.len(), max });
        }
        let tx = SignedTx::decode(bytes)?;
        let max = params.max_bytes_for(&tx.tx.contract);
        if bytes.len() > max {
            return Err(Rejection::TooLarge { size: bytes.len(), max });
        }
        Ok(tx)
    }

    /// The checks that need no ledger state: size, chain id, client time, and
    /// no personal data in the id or the arguments (whatever the contract, so
    /// that even a transaction its contract would refuse never carries
    /// personal data into a block).
    /// `now_ms` is the wall clock at the gateway and the block time when applying.
    pub fn check_stateless(&self, chain_id: &ChainId, params: &ChainParams, now_ms: u64) -> Result<(), Rejection> {
        let size = self.encode().len();
        let max = params.max_bytes_for(&self.tx.contract);
        if size > max {
            return Err(Rejection::TooLarge { size, max });
        }
        if &self.tx.chain_id != chain_id {
            return Err(Rejection::WrongChain { expected: chain_id.clone(), got: self.tx.chain_id.clone() });
        }
        let ts = self.tx.timestamp_ms;
        if ts.saturating_add(params.max_tx_age_ms) < now_ms || ts > now_ms.saturating_add(params.max_tx_future_ms) {
            return Err(Rejection::Stale { timestamp_ms: ts, now_ms });
        }
        if let Some(kind) = billflow_privacy::find_personal_data(self.tx.tx_id.as_str()) {
            return Err(Rejection::PersonalData { field: "tx_id".into(), kind: kind.describe().into() });
        }
        if let Some(kind) = billflow_privacy::find_in_encoded(&self.tx.args) {
            return Err(Rejection::PersonalData { field: "args".into(), kind: kind.describe().into() });
        }
        Ok(())
    }
}

/// Byte strings as lower-case hex in JSON.
pub mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialises bytes as hex.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }

    /// Parses hex into bytes.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <String as Deserialize>::deserialize(d)?;
        hex::decode(&s).map_err(|e| serde::de::Error::custom(format!("invalid hex: {e}")))
    }
}
