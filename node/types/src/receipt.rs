//! Receipts: the recorded outcome of each transaction in a block.

use borsh::{BorshDeserialize, BorshSchema, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::encoding::Canonical;
use crate::hash::{Domain, Hash32};
use crate::ids::{ContractName, TxId};

/// Whether the transaction's writes were applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TxStatus {
    /// All writes applied, events emitted.
    Success,
    /// No write applied; the failure says why.
    Failed,
}

/// Why a recorded transaction failed: a stable code such as `E_NOT_TRANSFERABLE` and a message.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TxFailure {
    /// Stable error code.
    pub code: String,
    /// Human-readable detail.
    pub message: String,
}

/// Something a contract announced; regulators and clients follow events.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    /// The contract that emitted it.
    pub contract: ContractName,
    /// What happened, e.g. `tenant.registered`.
    pub topic: String,
    /// Event data, encoded as the contract defines.
    #[serde(with = "crate::tx::hex_bytes")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = "hex", pattern = "^([0-9a-f]{2})*$"))]
    pub data: Vec<u8>,
}

/// The outcome of one transaction.
#[derive(Debug, Clone, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Receipt {
    /// Hash of the signed transaction.
    pub tx_hash: Hash32,
    /// The transaction's id.
    pub tx_id: TxId,
    /// Success or failure.
    pub status: TxStatus,
    /// Set exactly when `status` is `Failed`.
    // Always written (`null` for none), so required in the schema.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub failure: Option<TxFailure>,
    /// Events emitted. When failed, only the alerts (topic ending in `.alert`)
    /// a contract emitted before it refused; none for any other failure.
    pub events: Vec<Event>,
    /// Execution cost in fuel units.
    pub fuel_used: u64,
}

impl Receipt {
    /// The receipt's hash, a leaf of the block's receipts root.
    pub fn hash(&self) -> Hash32 {
        Hash32::of(Domain::Receipt, &self.encode())
    }
}

/// Where a transaction is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, BorshSerialize, BorshDeserialize, BorshSchema, Serialize, Deserialize)]
pub struct TxLocation {
    /// Block height.
    pub height: u64,
    /// Position in the block, from 0.
    pub index: u32,
}
