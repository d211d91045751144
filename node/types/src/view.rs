//! Shapes of the gateway's answers, shared by the gateway and the SDK so that the
//! two can never disagree. Plain data: how they are rendered (JSON) is the edge's business.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use crate::block::BlockHeader;
use crate::hash::Hash32;
use crate::ids::{ChainId, ContractName, MethodName, TxId, Version};
use crate::receipt::Receipt;
use crate::tx::SignedTx;

/// Where a transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TxState {
    /// Admitted, not yet in a block.
    Pending,
    /// Recorded in a block (see the receipt for success or failure).
    Committed,
}

/// A transaction's status. In canonical bytes (an answer to `Accept:
/// application/octet-stream`) without `decoded_events`, which is for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TxView {
    /// Its id.
    pub tx_id: TxId,
    /// Its hash.
    pub tx_hash: Hash32,
    /// Pending or committed.
    pub status: TxState,
    /// Block height, once committed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    /// Position in the block, once committed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// The receipt, once committed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
    /// The receipt's events' data in JSON, one per event in order (`null`
    /// where the contract's interface does not name the topic).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[borsh(skip)]
    pub decoded_events: Vec<Option<serde_json::Value>>,
}

/// A transaction inside a block view. What it calls is public; the
/// transaction itself (signer, tenant, arguments) only to whom may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TxInBlock {
    /// Its id (public, as in the explorer's lists).
    pub tx_id: crate::TxId,
    /// Its hash.
    pub tx_hash: Hash32,
    /// The contract called.
    pub contract: ContractName,
    /// Its version.
    pub version: Version,
    /// The method.
    pub method: MethodName,
    /// The signed transaction, if the caller may see it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx: Option<SignedTx>,
}

impl TxInBlock {
    /// The view of `tx`, with the transaction itself if `visible`.
    pub fn new(tx: SignedTx, visible: bool) -> TxInBlock {
        TxInBlock {
            tx_id: tx.tx.tx_id.clone(),
            tx_hash: tx.hash(),
            contract: tx.tx.contract.clone(),
            version: tx.tx.version,
            method: tx.tx.method.clone(),
            tx: visible.then_some(tx),
        }
    }
}

/// A block in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BlockSummary {
    /// Its height.
    pub height: u64,
    /// Its hash.
    pub hash: Hash32,
    /// How many transactions it holds.
    pub tx_count: u32,
    /// Its time, ms since the Unix epoch.
    pub time_ms: u64,
    /// The node that proposed it.
    pub proposer: String,
}

/// One event of the supervision stream (`/v1/supervision/stream`, `/v1/supervision/events`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StreamEvent {
    /// Its cursor: reconnect `from` it to get what follows.
    pub cursor: String,
    /// Block height.
    pub height: u64,
    /// The transaction's index in the block.
    pub tx_index: u32,
    /// The event's index in the receipt.
    pub event_index: u32,
    /// The block's time, ms since the epoch.
    pub time_ms: u64,
    /// The transaction.
    pub tx_id: String,
    /// Whether the transaction was refused (its events are then alerts only).
    pub refused: bool,
    /// The contract that emitted it.
    pub contract: String,
    /// Its topic (`bill.changed`, `fund.movement`, `risk.alert`, `contract.deployed`, ...).
    pub topic: String,
    /// Its data, hex, encoded as the contract defines.
    pub data: String,
    /// Its data in JSON, when the contract's interface names the topic's type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoded: Option<serde_json::Value>,
}

/// The supervision stream's events in a page (`GET /v1/supervision/events`): a page of the same events, for
/// clients that poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventPage {
    /// The events after `from`, in order.
    pub events: Vec<StreamEvent>,
    /// The cursor to ask `from` next (the last event's, or `from` again).
    pub next: String,
}

/// A page of the audit log, oldest first (`GET /v1/audit`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    /// The entries that match, in log order.
    pub entries: Vec<crate::audit::AuditEntry>,
    /// Ask again with `after` = this for the next page (absent: the last page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<u64>,
}

/// A page of blocks, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BlockPage {
    /// The blocks.
    pub blocks: Vec<BlockSummary>,
    /// The height to ask for next (`?before=`), if there are older blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_before: Option<u64>,
}

/// One transaction of a batch submission: its status, or why it was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchItem {
    /// The transaction's id (as sent).
    pub tx_id: String,
    /// Its status, if it was accepted (or had been recorded before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view: Option<TxView>,
    /// Why it was refused, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

/// The answer to a batch submission, in the order sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchView {
    /// One item per transaction.
    pub results: Vec<BatchItem>,
}

/// A block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BlockView {
    /// The block hash.
    pub hash: Hash32,
    /// The header.
    pub header: BlockHeader,
    /// The transactions.
    pub txs: Vec<TxInBlock>,
    /// The attestations this node holds for the block.
    #[serde(default)]
    // Always written, so required in the schema.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub attestations: Vec<crate::block::Attestation>,
}

/// A node's health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// The chain.
    pub chain_id: ChainId,
    /// The node.
    pub node_id: String,
    /// Its committed height.
    pub height: u64,
    /// Its tip hash.
    pub tip_hash: Hash32,
    /// Transactions pending in its mempool.
    pub pending: usize,
}

/// A node ready for traffic (`GET /v1/ready`): it knows the leader and is not
/// far behind the members it hears from. (Not ready is a 503 `E_NOT_READY`.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Readiness {
    /// Always `true` (a node that is not ready answers an error).
    pub ready: bool,
    /// Its committed height.
    pub height: u64,
    /// The highest committed height a connected member reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub highest_peer_height: Option<u64>,
    /// The consensus leader it knows of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader: Option<String>,
    /// Members connected now.
    pub connected_peers: u32,
}

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Stable code, e.g. `E_BAD_SIGNATURE`.
    pub code: String,
    /// Detail.
    pub message: String,
    /// The request's id, for the audit log and support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// What a node knows of another member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PeerView {
    /// The member.
    pub node_id: String,
    /// Its organisation.
    pub org: String,
    /// Voter or observer.
    pub role: crate::genesis::NodeRole,
    /// Whether it is connected now.
    pub connected: bool,
    /// Whether it is revoked.
    pub revoked: bool,
    /// Its committed height, if it answered a status request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    /// Why it did not answer, if it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The network as one node sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NetworkView {
    /// This node.
    pub node_id: String,
    /// Its libp2p peer id (absent for a standalone node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_id: Option<String>,
    /// Its organisation (absent for a standalone node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// Its role (absent for a standalone node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<crate::genesis::NodeRole>,
    /// The consensus leader this node knows of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader: Option<String>,
    /// The nodes voting in consensus now, as this node's configuration says
    /// (empty for a standalone node).
    #[serde(default)]
    pub voters: Vec<String>,
    /// The other members.
    pub peers: Vec<PeerView>,
}

/// One minute of the explorer's throughput plot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MinuteStats {
    /// The minute's start, ms since the epoch.
    pub start_ms: u64,
    /// Blocks committed in it.
    pub blocks: u32,
    /// Transactions in those blocks.
    pub txs: u32,
    /// The mean time between consecutive blocks that ended in it, ms (none: fewer than two blocks).
    pub mean_block_interval_ms: Option<f64>,
}

/// The explorer's throughput and block time over the last hour
/// (`GET /v1/explorer/stats`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExplorerStats {
    /// The node's clock, ms since the epoch.
    pub now_ms: u64,
    /// The committed height.
    pub height: u64,
    /// Transactions per second over the last minute.
    pub tps_1m: f64,
    /// The last 60 minutes, oldest first.
    pub minutes: Vec<MinuteStats>,
}

/// A committed transaction as the explorer lists it: what it called and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExplorerTxSummary {
    /// Its id.
    pub tx_id: TxId,
    /// Its hash.
    pub tx_hash: Hash32,
    /// Its block.
    pub height: u64,
    /// Its position in the block.
    pub index: u32,
    /// The block's time, ms since the epoch.
    pub time_ms: u64,
    /// The contract called.
    pub contract: ContractName,
    /// The method.
    pub method: MethodName,
    /// `success` or `failed`.
    pub status: String,
}

/// The latest committed transactions, newest first (`GET /v1/explorer/recent-txs`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExplorerTxList {
    /// The transactions.
    pub txs: Vec<ExplorerTxSummary>,
}

/// An event of a receipt as the explorer shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExplorerEvent {
    /// The contract that emitted it.
    pub contract: ContractName,
    /// Its topic.
    pub topic: String,
    /// Its data, hex, encoded as the contract defines.
    pub data_hex: String,
    /// The text strings in the data, joined by ` · `, personal data masked (none: no text).
    pub text: Option<String>,
}

/// A committed transaction in the explorer (`GET /v1/explorer/txs/{tx_id}`):
/// what it called, who signed it (masked), its receipt and events; never its arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExplorerTx {
    /// What the lists show.
    #[serde(flatten)]
    pub summary: ExplorerTxSummary,
    /// The contract version it named.
    pub version: Version,
    /// The signing key, masked (`ban***.k1`).
    pub signer: String,
    /// The tenant it acted under.
    pub tenant: Option<String>,
    /// Why it failed, if it did.
    pub failure: Option<crate::receipt::TxFailure>,
    /// Fuel its execution used.
    pub fuel_used: u64,
    /// Its events.
    pub events: Vec<ExplorerEvent>,
}

/// A bill as anyone may read it (`GET /v1/explorer/bills/{number}`): the
/// flows contract's disclosure, with the acceptor and banks named and other
/// enterprises, order ids and invoice numbers masked. Amounts are yuan with
/// two decimals (`"1000000.00"`), dates `YYYY-MM-DD` in Beijing time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExplorerBill {
    /// The 30-digit package number.
    pub number: String,
    /// `bank_acceptance`, `finance_company_acceptance`, `commercial_acceptance` or `supply_chain`.
    pub kind: String,
    /// Face amount in yuan.
    pub amount: String,
    /// The drawer (masked unless the acceptor or a bank).
    pub drawer: String,
    /// The acceptor.
    pub acceptor: String,
    /// The payee (masked unless the acceptor or a bank).
    pub payee: String,
    /// Issue date.
    pub issue_date: String,
    /// Due date.
    pub due_date: String,
    /// `issued`, `accepted`, `circulating`, `cancelled`, or `frozen`.
    pub status: String,
    /// Its sub-ranges and holders.
    pub ranges: Vec<ExplorerBillRange>,
    /// Its history, oldest first.
    pub history: Vec<ExplorerBillStep>,
    /// Orders behind its discounts (masked).
    pub orders: Vec<String>,
    /// Invoices its discounts occupy.
    pub invoices: Vec<ExplorerInvoice>,
    /// Its fund movements.
    pub movements: Vec<ExplorerMovement>,
}

/// A sub-range of a bill and its holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExplorerBillRange {
    /// First unit (fen).
    pub start: u64,
    /// Last unit, inclusive.
    pub end: u64,
    /// Its amount in yuan.
    pub amount: String,
    /// The holder (masked unless the acceptor or a bank).
    pub holder: String,
    /// `held`, `pledged`, `presented`, `settled` or `dishonoured`.
    pub state: String,
}

/// A step of a bill's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExplorerBillStep {
    /// What happened: `issued`, `accepted`, `received`, `endorsed`, `discount_approved`, ...
    pub step: String,
    /// The day, in Beijing time.
    pub date: String,
    /// Block time, ms since the Unix epoch.
    pub time_ms: u64,
    /// Block height.
    pub height: u64,
    /// The transaction.
    pub tx_id: String,
    /// Who acted.
    pub from: String,
    /// The other party, if any.
    pub to: Option<String>,
    /// The amount of the sub-range concerned, in yuan (none for the bill as a whole).
    pub amount: Option<String>,
}

/// An invoice a bill's discount occupies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExplorerInvoice {
    /// The invoice code.
    pub code: String,
    /// The invoice number, masked but for its last four digits.
    pub number: String,
    /// Amount including tax, in yuan.
    pub amount: String,
    /// How much of it financing occupies, in yuan.
    pub occupied: String,
}

/// A fund movement of a bill (never its accounts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExplorerMovement {
    /// Its id.
    pub id: String,
    /// `disbursement`, `payment`, `recourse`, `fee` or `reversal`.
    pub kind: String,
    /// Amount in yuan.
    pub amount: String,
    /// `pending`, `success`, `failed` or `unknown`.
    pub status: String,
}

/// What a search term names (`GET /v1/explorer/search?q=`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchHit {
    /// `block`, `tx`, `bill` or `evidence`.
    pub kind: String,
    /// The page's key: a height, a transaction id, a bill number or a document hash.
    pub target: String,
}

/// What waits for the caller's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InboxView {
    /// Requests it answers, oldest first: acceptances, deliveries,
    /// endorsements, pledges and releases to sign or refuse, discounts to
    /// approve. Each expires at the end of its business day.
    pub requests: Vec<InboxRequest>,
    /// Fund movements it executes and has not reported (a bank's).
    pub movements: Vec<InboxMovement>,
}

/// A request waiting for the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InboxRequest {
    /// Its id: what `bill.sign`, `bill.refuse` or `bill.approve_discount` names.
    pub id: String,
    /// `acceptance`, `delivery`, `endorsement`, `pledge`, `release`, `discount`, `rediscount`, `presentment` or `recourse`.
    pub kind: String,
    /// The bill's package number.
    pub bill: String,
    /// First unit of the sub-range.
    pub start: u64,
    /// Last unit.
    pub end: u64,
    /// Who asks.
    pub from: String,
    /// The business day it was made on (`YYYY-MM-DD`); it expires at its end.
    pub day: String,
    /// Its block.
    pub height: u64,
}

/// A movement waiting for the caller's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InboxMovement {
    /// Its id: what `fund.report` names.
    pub request_id: String,
    /// `disbursement`, `payment`, `recourse`, `fee` or `reversal`.
    pub kind: String,
    /// Amount in fen.
    pub amount: u64,
    /// The account owner debited.
    pub debit: String,
    /// The account owner credited.
    pub credit: String,
    /// `pending`, or `unknown` when its answer timed out.
    pub status: String,
    /// The business day it was instructed on.
    pub day: String,
}

/// An open session (`POST /v1/sessions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionView {
    /// The token: send it as `x-billflow-session` instead of signing each request.
    pub token: String,
    /// When it ends, ms since the Unix epoch.
    pub expires_at_ms: u64,
}
