//! The billflow client library: build and sign transactions, submit them to a
//! node's gateway, wait for their receipts and read blocks.
//!
//! Retrying a submission with the same `tx_id` is always safe: the ledger
//! records a transaction id once and answers a resubmission with the first result.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use billflow_types as types;
use billflow_types::contract::ContractRecord;
use billflow_types::system::{AdminAction, ApproveAdmin, ProposeAdmin, SYSTEM_VERSION, SystemCall, system_contract};
use billflow_types::view::{BlockView, ErrorBody, Health, TxView};
use billflow_types::{
    Canonical, ChainId, ContractName, KeyId, MethodName, SecretKey, SignedTx, TenantId, Tx, TxId, Version,
};

/// Client failures.
#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    /// The node could not be reached or the connection failed.
    #[error("transport: {0}")]
    Transport(#[from] reqwest::Error),
    /// The node answered with an error.
    #[error("{status} {code}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Stable error code.
        code: String,
        /// Detail.
        message: String,
    },
    /// The transaction was recorded with a failed receipt.
    #[error("transaction failed: {}: {}", .0.code, .0.message)]
    Failed(billflow_types::TxFailure),
    /// The request could not be built, or the answer made no sense.
    #[error("{0}")]
    Invalid(String),
}

impl SdkError {
    /// The ledger's error code, if the node answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            SdkError::Api { code, .. } => Some(code),
            SdkError::Failed(f) => Some(&f.code),
            SdkError::Transport(_) | SdkError::Invalid(_) => None,
        }
    }
}

/// Result of client operations.
pub type Result<T, E = SdkError> = std::result::Result<T, E>;

/// An identity that signs transactions: a registered key and the tenant it acts under.
#[derive(Debug, Clone)]
pub struct Signer {
    /// The chain to sign for.
    pub chain_id: ChainId,
    /// The tenant the key acts under (`None` for organisation administrators and banks).
    pub tenant: Option<TenantId>,
    /// The registered key id.
    pub key_id: KeyId,
    /// The secret key.
    pub secret: SecretKey,
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl Signer {
    /// Builds and signs a call of `contract` at `version`.
    pub fn sign(
        &self,
        tx_id: TxId,
        contract: ContractName,
        version: Version,
        method: MethodName,
        args: Vec<u8>,
    ) -> SignedTx {
        Tx {
            chain_id: self.chain_id.clone(),
            tx_id,
            tenant: self.tenant.clone(),
            signer: self.key_id.clone(),
            contract,
            version,
            method,
            args,
            timestamp_ms: now_ms(),
        }
        .sign(&self.secret)
    }

    /// Builds and signs a system-contract call.
    pub fn system(&self, tx_id: TxId, call: &SystemCall) -> SignedTx {
        self.sign(tx_id, system_contract(), SYSTEM_VERSION, call.method_name(), call.encode_args())
    }
}

/// A client of one node's gateway.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    /// A client of the gateway at `base_url` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base_url: &str) -> Result<Client> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(40)).build()?;
        Ok(Client { base: base_url.trim_end_matches('/').to_string(), http })
    }

    async fn answer<T: serde::de::DeserializeOwned>(resp: reqwest::Response) -> Result<T> {
        let status = resp.status();
        if status.is_success() {
            return Ok(resp.json().await?);
        }
        let bytes = resp.bytes().await?;
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(e) => Err(SdkError::Api { status: status.as_u16(), code: e.code, message: e.message }),
            Err(_) => Err(SdkError::Api {
                status: status.as_u16(),
                code: "E_HTTP".into(),
                message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
            }),
        }
    }

    /// Submits a transaction (canonical binary); with `wait`, waits for its receipt.
    pub async fn submit(&self, tx: &SignedTx, wait: bool) -> Result<TxView> {
        let url = format!("{}/v1/transactions?wait={wait}", self.base);
        let resp = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(tx.encode())
            .send()
            .await?;
        Self::answer(resp).await
    }

    /// Submits a transaction as JSON.
    pub async fn submit_json(&self, tx: &SignedTx, wait: bool) -> Result<TxView> {
        let url = format!("{}/v1/transactions?wait={wait}", self.base);
        Self::answer(self.http.post(url).json(tx).send().await?).await
    }

    /// The status of a transaction.
    pub async fn transaction(&self, tx_id: &TxId) -> Result<TxView> {
        Self::answer(self.http.get(format!("{}/v1/transactions/{tx_id}", self.base)).send().await?).await
    }

    /// The block at `height`.
    pub async fn block(&self, height: u64) -> Result<BlockView> {
        Self::answer(self.http.get(format!("{}/v1/blocks/{height}", self.base)).send().await?).await
    }

    /// The node's health.
    pub async fn health(&self) -> Result<Health> {
        Self::answer(self.http.get(format!("{}/v1/health", self.base)).send().await?).await
    }

    /// Every deployed contract.
    pub async fn contracts(&self) -> Result<Vec<ContractRecord>> {
        Self::answer(self.http.get(format!("{}/v1/contracts", self.base)).send().await?).await
    }

    /// One deployed contract (`None` if there is none by that name).
    pub async fn contract(&self, name: &ContractName) -> Result<Option<ContractRecord>> {
        let resp = self.http.get(format!("{}/v1/contracts/{name}", self.base)).send().await?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        Self::answer(resp).await.map(Some)
    }

    /// Runs a read-only query on the active version of `contract`: its output bytes.
    pub async fn query(&self, contract: &ContractName, method: &str, args: Vec<u8>) -> Result<Vec<u8>> {
        #[derive(serde::Deserialize)]
        struct Answer {
            #[serde(with = "billflow_types::tx::hex_bytes")]
            output: Vec<u8>,
        }
        let resp = self
            .http
            .post(format!("{}/v1/contracts/{contract}/query/{method}", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(args)
            .send()
            .await?;
        Ok(Self::answer::<Answer>(resp).await?.output)
    }

    /// Carries out an administrative action: `admins[0]` proposes it and the
    /// others approve it in turn until the admin policy is met. Returns the
    /// receipt of the transaction that carried it out.
    pub async fn carry_out(&self, admins: &[Signer], proposal_id: &TxId, action: AdminAction) -> Result<TxView> {
        let mut call = SystemCall::ProposeAdmin(ProposeAdmin { proposal_id: proposal_id.clone(), action });
        for (n, admin) in admins.iter().enumerate() {
            let tx_id = TxId::new(format!("{proposal_id}.{n}")).map_err(|e| SdkError::Invalid(e.to_string()))?;
            let view = self.submit(&admin.system(tx_id, &call), true).await?;
            let receipt = view.receipt.as_ref().ok_or_else(|| SdkError::Invalid("no receipt after waiting".into()))?;
            if let Some(f) = &receipt.failure {
                return Err(SdkError::Failed(f.clone()));
            }
            if receipt.events.iter().any(|e| e.topic == "admin.executed") {
                return Ok(view);
            }
            call = SystemCall::ApproveAdmin(ApproveAdmin { proposal_id: proposal_id.clone() });
        }
        Err(SdkError::Invalid(format!(
            "proposal {proposal_id} still lacks approvals after {} organisations",
            admins.len()
        )))
    }
}
