//! [`Client`]: one or more nodes' gateways, over HTTPS trusting the consortium
//! CA, with every request signed when the client holds a key.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use billflow_types::contract::ContractRecord;
use billflow_types::proof::{EvidenceProof, TxProof};
use billflow_types::request::{
    HEADER_KEY, HEADER_NONCE, HEADER_SESSION, HEADER_SIGNATURE, HEADER_TIMESTAMP, request_message, sign_request,
};
use billflow_types::system::{AdminAction, ApproveAdmin, ProposeAdmin, SystemCall};
use billflow_types::view::{
    AuditPage, BatchView, BlockPage, BlockView, ErrorBody, EventPage, Health, NetworkView, SessionView, TxState, TxView,
};
use billflow_types::{Canonical, ContractName, Hash32, SignedTx, TxId, Version};
use borsh::{BorshDeserialize, BorshSerialize};
use reqwest::Method;

use crate::flows::{
    self, Action, BillSummary, BillView, ByBill, ById, DiscountPolicy, HoldingView, Invoice, InvoiceKey, Movement,
    Order, Page, Party, ReconReport, ReportRef, finance::Date,
};
use crate::{Result, SdkError, Signer, new_tx_id, now_ms};

/// Builds a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    nodes: Vec<String>,
    ca_pem: Option<Vec<u8>>,
    auth: Option<Signer>,
    timeout: Duration,
}

impl ClientBuilder {
    /// Trust this CA certificate (PEM) for HTTPS: the consortium CA.
    pub fn ca_pem(mut self, pem: Vec<u8>) -> ClientBuilder {
        self.ca_pem = Some(pem);
        self
    }

    /// Sign every request with this key.
    pub fn auth(mut self, signer: Signer) -> ClientBuilder {
        self.auth = Some(signer);
        self
    }

    /// How long one HTTP request may take (default 40 s: a commit wait is at most 30 s).
    pub fn timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.timeout = timeout;
        self
    }

    /// The client.
    pub fn build(self) -> Result<Client> {
        if self.nodes.is_empty() {
            return Err(SdkError::Invalid("a client needs at least one node URL".into()));
        }
        // Idle connections are let go before the gateway closes them (10 s after
        // a request, `header_read_timeout`), so that a request is not sent on a
        // connection the gateway is closing at that moment. A gateway never
        // redirects: a redirect is answered as the error it is, and a signed
        // request or a session's token is never sent on to another address.
        let mut http = reqwest::Client::builder()
            .timeout(self.timeout)
            .pool_idle_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .use_rustls_tls();
        if let Some(pem) = &self.ca_pem {
            let cas = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| SdkError::Invalid(format!("the CA certificates are not PEM: {e}")))?;
            if cas.is_empty() {
                return Err(SdkError::Invalid("the CA file holds no certificate".into()));
            }
            // Only the consortium's CAs: a node's certificate must chain to one.
            http = http.tls_built_in_root_certs(false);
            for ca in cas {
                http = http.add_root_certificate(ca);
            }
        }
        Ok(Client {
            nodes: Arc::new(self.nodes.iter().map(|n| n.trim_end_matches('/').to_string()).collect()),
            http: http.build()?,
            auth: self.auth.map(Arc::new),
            current: Arc::new(AtomicUsize::new(0)),
            ca_pem: self.ca_pem.map(Arc::new),
            session: None,
        })
    }
}

/// A client of a network's gateways. Requests go to the current node;
/// [`Client::submit_and_wait`] moves on to the next when one fails.
#[derive(Debug, Clone)]
pub struct Client {
    nodes: Arc<Vec<String>>,
    http: reqwest::Client,
    auth: Option<Arc<Signer>>,
    current: Arc<AtomicUsize>,
    ca_pem: Option<Arc<Vec<u8>>>,
    session: Option<Arc<Session>>,
}

/// A session opened on one node: requests to it carry the token instead of a signature.
#[derive(Debug)]
struct Session {
    node: String,
    token: String,
    expires_at_ms: u64,
}

/// A session is not used in its last seconds, so that it cannot expire on the way.
const SESSION_MARGIN_MS: u64 = 10_000;

/// A request body and its content type.
struct Payload {
    content_type: &'static str,
    bytes: Vec<u8>,
}

fn json(value: &impl serde::Serialize) -> Result<Payload> {
    let bytes = serde_json::to_vec(value).map_err(|e| SdkError::Invalid(e.to_string()))?;
    Ok(Payload { content_type: "application/json", bytes })
}

fn binary(bytes: Vec<u8>) -> Payload {
    Payload { content_type: "application/octet-stream", bytes }
}

/// Whether a node answered JSON.
fn is_json(resp: &reqwest::Response) -> bool {
    resp.headers().get(reqwest::header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
}

pub(crate) fn nonce() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| SdkError::Invalid(format!("no random source: {e}")))?;
    Ok(hex::encode(bytes))
}

impl Client {
    /// A client of the gateway at `base_url` (e.g. `https://127.0.0.1:7101`),
    /// trusting the system's roots, sending unsigned requests.
    pub fn new(base_url: &str) -> Result<Client> {
        Client::builder([base_url]).build()
    }

    /// A builder for a client of these nodes.
    pub fn builder<S: AsRef<str>>(nodes: impl IntoIterator<Item = S>) -> ClientBuilder {
        ClientBuilder {
            nodes: nodes.into_iter().map(|n| n.as_ref().to_string()).collect(),
            ca_pem: None,
            auth: None,
            timeout: Duration::from_secs(40),
        }
    }

    /// This client, signing its requests with `signer`.
    pub fn with_auth(&self, signer: Signer) -> Client {
        Client { auth: Some(Arc::new(signer)), session: None, ..self.clone() }
    }

    /// This client, with a session opened on its current node by one signed
    /// request: requests to that node then carry the session's token instead
    /// of a signature (a lookup for the node, not an ed25519 check), until
    /// ten seconds before it ends; requests to other nodes are signed.
    pub async fn with_session(&self) -> Result<Client> {
        let view: SessionView = self.call(Method::POST, "/v1/sessions", "", None).await?;
        let session = Session { node: self.node().to_string(), token: view.token, expires_at_ms: view.expires_at_ms };
        Ok(Client { session: Some(Arc::new(session)), ..self.clone() })
    }

    /// The node requests go to now.
    pub fn node(&self) -> &str {
        &self.nodes[self.current.load(Ordering::Relaxed) % self.nodes.len()]
    }

    /// Moves on to the next node.
    /// The signer of requests, if any.
    pub(crate) fn signer(&self) -> Option<&Signer> {
        self.auth.as_deref()
    }

    /// The consortium CA, if the client trusts only it.
    pub(crate) fn ca(&self) -> Option<&[u8]> {
        self.ca_pem.as_deref().map(Vec::as_slice)
    }

    fn rotate(&self) {
        self.current.fetch_add(1, Ordering::Relaxed);
    }

    /// Sends a request: under the session, or signed by the client's key, or,
    /// with `sign` false (a submission, which its transactions' own
    /// signatures authenticate), as it is; with `binary_answer`, asking for
    /// the answer in canonical bytes.
    async fn send(
        &self,
        method: Method,
        path: &str,
        query: &str,
        body: Option<Payload>,
        sign: bool,
        binary_answer: bool,
    ) -> Result<reqwest::Response> {
        let url =
            if query.is_empty() { format!("{}{path}", self.node()) } else { format!("{}{path}?{query}", self.node()) };
        let mut req = self.http.request(method.clone(), url);
        if binary_answer {
            req = req.header(reqwest::header::ACCEPT, "application/octet-stream");
        }
        let bytes = match body {
            Some(p) => {
                req = req.header(reqwest::header::CONTENT_TYPE, p.content_type);
                p.bytes
            }
            None => Vec::new(),
        };
        let session = self
            .session
            .as_deref()
            .filter(|s| sign && s.node == self.node() && now_ms() + SESSION_MARGIN_MS < s.expires_at_ms);
        if let Some(session) = session {
            req = req.header(HEADER_SESSION, &session.token);
        } else if let Some(signer) = self.auth.as_deref().filter(|_| sign) {
            let at = now_ms();
            let nonce = nonce()?;
            let message = request_message(method.as_str(), path, query, at, &nonce, &bytes);
            req = req
                .header(HEADER_KEY, signer.key_id.as_str())
                .header(HEADER_TIMESTAMP, at.to_string())
                .header(HEADER_NONCE, nonce)
                .header(HEADER_SIGNATURE, sign_request(&signer.secret, &message));
        }
        if !bytes.is_empty() || method == Method::POST {
            req = req.body(bytes);
        }
        Ok(req.send().await?)
    }

    async fn answer<T: serde::de::DeserializeOwned>(resp: reqwest::Response) -> Result<T> {
        let bytes = Self::answer_bytes(resp).await?;
        serde_json::from_slice(&bytes).map_err(|e| SdkError::Invalid(format!("the node's answer does not parse: {e}")))
    }

    /// A successful answer in canonical bytes (asked for with `binary_answer`),
    /// or in JSON from a node from before that answers only JSON; else the
    /// node's typed error.
    async fn answer_canonical<T: serde::de::DeserializeOwned + Canonical>(resp: reqwest::Response) -> Result<T> {
        if is_json(&resp) {
            return Self::answer(resp).await;
        }
        let bytes = Self::answer_bytes(resp).await?;
        T::decode(&bytes).map_err(|e| SdkError::Invalid(format!("the node's answer does not decode: {e}")))
    }

    /// The body of a successful answer, or the node's typed error.
    async fn answer_bytes(resp: reqwest::Response) -> Result<Vec<u8>> {
        let status = resp.status();
        let bytes = resp.bytes().await?;
        if status.is_success() {
            return Ok(bytes.to_vec());
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(e) => Err(SdkError::Api {
                status: status.as_u16(),
                code: e.code,
                message: e.message,
                request_id: e.request_id,
            }),
            Err(_) => Err(SdkError::Api {
                status: status.as_u16(),
                code: "E_HTTP".into(),
                message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
                request_id: None,
            }),
        }
    }

    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &str,
        body: Option<Payload>,
    ) -> Result<T> {
        Self::answer(self.send(method, path, query, body, true, false).await?).await
    }

    /// Submits transactions: the request is not signed, as their own
    /// signatures authenticate them (one ed25519 check each on the node).
    async fn post_txs<T: serde::de::DeserializeOwned>(&self, path: &str, query: &str, body: Payload) -> Result<T> {
        Self::answer(self.send(Method::POST, path, query, Some(body), false, false).await?).await
    }

    /// Submits one transaction in canonical bytes, its view answered in
    /// canonical bytes (without `decoded_events`, which are for JSON).
    async fn post_tx(&self, query: &str, tx: &SignedTx) -> Result<TxView> {
        let resp = self.send(Method::POST, "/v1/transactions", query, Some(binary(tx.encode())), false, true).await?;
        Self::answer_canonical(resp).await
    }

    /// Submits a transaction (canonical binary) to the current node; with
    /// `wait`, waits for its receipt.
    pub async fn submit(&self, tx: &SignedTx, wait: bool) -> Result<TxView> {
        self.post_tx(&format!("wait={wait}"), tx).await
    }

    /// Submits a transaction as JSON.
    pub async fn submit_json(&self, tx: &SignedTx, wait: bool) -> Result<TxView> {
        self.post_txs("/v1/transactions", &format!("wait={wait}"), json(tx)?).await
    }

    /// Submits many transactions in one request; each has its own result.
    pub async fn submit_batch(&self, txs: &[SignedTx], wait: bool) -> Result<BatchView> {
        let body = binary(txs.to_vec().encode());
        self.post_txs("/v1/transactions/batch", &format!("wait={wait}"), body).await
    }

    /// Submits `tx` and waits until it commits, for at most `within`. When a
    /// node fails or times out it resubmits the same transaction to the next
    /// node: the ledger executes a transaction id once, so this never executes
    /// twice. A failed receipt is returned as a committed view, not an error.
    pub async fn submit_and_wait(&self, tx: &SignedTx, within: Duration) -> Result<TxView> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let wait_ms = left.as_millis().clamp(1, 30_000);
            let query = format!("wait=true&timeout_ms={wait_ms}");
            let outcome = self.post_tx(&query, tx).await;
            match outcome {
                Ok(view) if view.status == TxState::Committed => return Ok(view),
                Ok(_) if Instant::now() >= deadline => {
                    return Err(SdkError::Invalid(format!("transaction {} did not commit in {within:?}", tx.tx.tx_id)));
                }
                Ok(_) => {}
                Err(e) if e.is_retryable() && Instant::now() < deadline => {
                    self.rotate();
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The status of a transaction (the caller's own).
    pub async fn transaction(&self, tx_id: &TxId) -> Result<TxView> {
        let resp = self.send(Method::GET, &format!("/v1/transactions/{tx_id}"), "", None, true, true).await?;
        Self::answer_canonical(resp).await
    }

    /// The proof that a committed transaction and its receipt are in an attested block.
    pub async fn transaction_proof(&self, tx_id: &TxId) -> Result<TxProof> {
        self.call(Method::GET, &format!("/v1/transactions/{tx_id}/proof"), "", None).await
    }

    /// The block at `height`.
    pub async fn block(&self, height: u64) -> Result<BlockView> {
        self.call(Method::GET, &format!("/v1/blocks/{height}"), "", None).await
    }

    /// The block with hash `hash`.
    pub async fn block_by_hash(&self, hash: &Hash32) -> Result<BlockView> {
        self.call(Method::GET, &format!("/v1/blocks/hash/{hash}"), "", None).await
    }

    /// Up to `limit` blocks below `before` (default: from the tip), newest first.
    pub async fn blocks(&self, before: Option<u64>, limit: u64) -> Result<BlockPage> {
        let query = match before {
            Some(b) => format!("before={b}&limit={limit}"),
            None => format!("limit={limit}"),
        };
        self.call(Method::GET, "/v1/blocks", &query, None).await
    }

    /// A page of the node's audit log (regulators' keys only): entries from
    /// `from` to `to` (dates `YYYY-MM-DD` or RFC 3339 UTC times, inclusive)
    /// whose subject contains `subject`, after position `after`, at most `limit`.
    pub async fn audit(
        &self,
        from: Option<&str>,
        to: Option<&str>,
        subject: Option<&str>,
        after: Option<u64>,
        limit: u32,
    ) -> Result<AuditPage> {
        let mut query: Vec<String> = Vec::new();
        for (name, value) in [("from", from), ("to", to), ("subject", subject)] {
            if let Some(v) = value {
                query.push(format!("{name}={}", query_escape(v)));
            }
        }
        if let Some(a) = after {
            query.push(format!("after={a}"));
        }
        query.push(format!("limit={limit}"));
        self.call(Method::GET, "/v1/audit", &query.join("&"), None).await
    }

    /// The supervision events after cursor `from` (regulators' keys only; without
    /// `from`, none and the tip's cursor), filtered by topic prefixes and by a
    /// participant the events name: the same events and cursors as the stream.
    pub async fn supervision_events(
        &self,
        from: Option<&str>,
        types: &[&str],
        participant: Option<&str>,
    ) -> Result<EventPage> {
        let query = supervision_query(from, types, participant);
        self.call(Method::GET, "/v1/supervision/events", &query, None).await
    }

    /// The signer's own events after cursor `from` (a participant's or
    /// tenant's key): those of its own transactions and those that name it,
    /// with the supervision stream's cursors; filtered by topic prefixes.
    pub async fn events(&self, from: Option<&str>, types: &[&str]) -> Result<EventPage> {
        let query = supervision_query(from, types, None);
        self.call(Method::GET, "/v1/events", &query, None).await
    }

    /// What waits for the signer's answer (a participant's key): requests to
    /// sign, refuse or approve, and a bank's fund movements to report.
    pub async fn inbox(&self) -> Result<billflow_types::view::InboxView> {
        self.call(Method::GET, "/v1/inbox", "", None).await
    }

    /// The node's health.
    pub async fn health(&self) -> Result<Health> {
        self.call(Method::GET, "/v1/health", "", None).await
    }

    /// The network as the node sees it.
    pub async fn network(&self) -> Result<NetworkView> {
        self.call(Method::GET, "/v1/network", "", None).await
    }

    /// Every deployed contract.
    pub async fn contracts(&self) -> Result<Vec<ContractRecord>> {
        self.call(Method::GET, "/v1/contracts", "", None).await
    }

    /// One deployed contract (`None` if there is none by that name).
    pub async fn contract(&self, name: &ContractName) -> Result<Option<ContractRecord>> {
        match self.call(Method::GET, &format!("/v1/contracts/{name}"), "", None).await {
            Err(SdkError::Api { status: 404, .. }) => Ok(None),
            other => other.map(Some),
        }
    }

    /// Runs a read-only query on the active version of `contract`: its output bytes.
    pub async fn query(&self, contract: &ContractName, method: &str, args: Vec<u8>) -> Result<Vec<u8>> {
        #[derive(serde::Deserialize)]
        struct Answer {
            #[serde(with = "billflow_types::tx::hex_bytes")]
            output: Vec<u8>,
        }
        let path = format!("/v1/contracts/{contract}/query/{method}");
        // Canonical bytes both ways, no JSON or hex on either side; a node
        // from before answers JSON, which is read as such.
        let resp = self.send(Method::POST, &path, "", Some(binary(args)), true, true).await?;
        if is_json(&resp) {
            return Ok(Self::answer::<Answer>(resp).await?.output);
        }
        Self::answer_bytes(resp).await
    }

    /// The interface of `contract`'s active version (`system` for the node's own).
    pub async fn interface(&self, contract: &ContractName) -> Result<billflow_types::interface::ContractInterface> {
        self.call(Method::GET, &format!("/v1/contracts/{contract}/interface"), "", None).await
    }

    /// The node's canonical bytes of JSON `args` for `method` of `contract`,
    /// to check a client's own encoding against (never to sign).
    pub async fn encode_args(
        &self,
        contract: &ContractName,
        method: &str,
        args: &serde_json::Value,
    ) -> Result<Vec<u8>> {
        #[derive(serde::Deserialize)]
        struct Answer {
            #[serde(with = "billflow_types::tx::hex_bytes")]
            args: Vec<u8>,
        }
        let path = format!("/v1/contracts/{contract}/encode/{method}");
        let body = json(&serde_json::json!({ "args": args }))?;
        Ok(self.call::<Answer>(Method::POST, &path, "", Some(body)).await?.args)
    }

    /// Runs a query with JSON arguments: its output decoded to JSON by the
    /// contract's interface.
    pub async fn query_json(
        &self,
        contract: &ContractName,
        method: &str,
        args: &serde_json::Value,
    ) -> Result<serde_json::Value> {
        let path = format!("/v1/contracts/{contract}/query/{method}");
        let body = json(&serde_json::json!({ "json": args }))?;
        // `decoded` may be `null` itself (an empty option), or absent.
        let mut answer =
            self.call::<serde_json::Map<String, serde_json::Value>>(Method::POST, &path, "", Some(body)).await?;
        answer
            .remove("decoded")
            .ok_or_else(|| SdkError::Invalid(format!("{contract} does not describe the result of {method}")))
    }

    /// The evidence for a document hash with its proof (`None`: not on the ledger).
    pub async fn evidence(&self, hash: &Hash32) -> Result<Option<EvidenceProof>> {
        match self.call(Method::GET, &format!("/v1/evidence/{hash}"), "", None).await {
            Err(SdkError::Api { status: 404, .. }) => Ok(None),
            other => other.map(Some),
        }
    }

    /// Carries out an administrative action: `admins[0]` proposes it and the
    /// others approve it in turn until the admin policy is met. Returns the
    /// receipt of the transaction that carried it out.
    pub async fn carry_out(&self, admins: &[Signer], proposal_id: &TxId, action: AdminAction) -> Result<TxView> {
        let mut call = SystemCall::ProposeAdmin(ProposeAdmin { proposal_id: proposal_id.clone(), action });
        for (n, admin) in admins.iter().enumerate() {
            let tx_id = TxId::new(format!("{proposal_id}.{n}")).map_err(|e| SdkError::Invalid(e.to_string()))?;
            let view = self
                .with_auth(admin.clone())
                .submit_and_wait(&admin.system(tx_id, &call), Duration::from_secs(60))
                .await?;
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

/// The flows contract ([`flows`]). The queries run as the key that signs the
/// client's requests (its [`ClientBuilder::auth`]): the contract shows each
/// caller its own bills, orders, invoices and movements, and refuses the
/// others' (`E_NOT_AUTHORISED`, as [`SdkError::Api`] with status 422, as are
/// its other refusals, e.g. `E_UNKNOWN_BILL`).
impl Client {
    /// Runs a read on the current node, moving on to the next while a node
    /// fails for a reason another may not share (each node is asked once).
    async fn read_any<T, F, Fut>(&self, f: F) -> Result<T>
    where
        F: Fn(Client) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let mut tries = self.nodes.len();
        loop {
            match f(self.clone()).await {
                Err(e) if e.is_retryable() && tries > 1 => {
                    tries -= 1;
                    self.rotate();
                }
                other => return other,
            }
        }
    }

    /// Runs the flows query `method` with `args` and decodes its output
    /// (asking the next node if one cannot be reached).
    pub async fn flows_query<A: BorshSerialize, R: BorshDeserialize>(&self, method: &str, args: &A) -> Result<R> {
        let args = borsh::to_vec(args).map_err(|e| SdkError::Invalid(format!("cannot encode the arguments: {e}")))?;
        let name = &flows::contract_name();
        let query = |c: Client| {
            let args = args.clone();
            async move { c.query(name, method, args).await }
        };
        let output = self.read_any(query).await?;
        borsh::from_slice(&output)
            .map_err(|e| SdkError::Invalid(format!("the answer to {} {method} does not decode: {e}", flows::CONTRACT)))
    }

    /// A registered party (`None`: it has not registered with the contract).
    pub async fn party(&self, id: &str) -> Result<Option<Party>> {
        self.flows_query(flows::methods::PARTY_GET, &ById { id: id.into() }).await
    }

    /// An order with its deliveries and invoices (its buyer, seller, banks and notaries).
    pub async fn order(&self, id: &str) -> Result<Order> {
        self.flows_query(flows::methods::ORDER_GET, &ById { id: id.into() }).await
    }

    /// An invoice with what financings occupy of it.
    pub async fn invoice(&self, key: &InvoiceKey) -> Result<Invoice> {
        self.flows_query(flows::methods::INVOICE_GET, key).await
    }

    /// A bill with its sub-ranges, history, pending requests, movements, orders and invoices.
    pub async fn bill(&self, number: &str) -> Result<BillView> {
        self.flows_query(flows::methods::BILL_GET, &ByBill { bill: number.into() }).await
    }

    /// What of a bill anyone may read (any caller, anonymous too): the acceptor
    /// and banks named, other enterprises masked; see `bill.disclosure`.
    pub async fn bill_disclosure(&self, number: &str) -> Result<flows::BillDisclosure> {
        self.flows_query(flows::methods::BILL_DISCLOSURE, &ByBill { bill: number.into() }).await
    }

    /// A page of the bills the caller may see, by package number.
    pub async fn bills(&self, page: &Page) -> Result<Vec<BillSummary>> {
        self.flows_query(flows::methods::BILL_LIST, page).await
    }

    /// What `party` holds (the party itself, administrators and regulators may ask).
    pub async fn holdings(&self, party: &str) -> Result<Vec<HoldingView>> {
        self.flows_query(flows::methods::BILL_HOLDINGS, &ById { id: party.into() }).await
    }

    /// A bank's instant-discount policy, if it published one.
    pub async fn policy(&self, bank: &str) -> Result<Option<DiscountPolicy>> {
        self.flows_query(flows::methods::BILL_POLICY, &ById { id: bank.into() }).await
    }

    /// A fund movement (`None`: no such movement).
    pub async fn movement(&self, id: &str) -> Result<Option<Movement>> {
        self.flows_query(flows::methods::FUND_MOVEMENT, &ById { id: id.into() }).await
    }

    /// A bank's reconciliation report of a day (`None`: not reconciled).
    pub async fn recon_report(&self, bank: &str, day: Date) -> Result<Option<ReconReport>> {
        self.flows_query(flows::methods::FUND_RECON_REPORT, &ReportRef { bank: bank.into(), day }).await
    }

    /// The active version of the flows contract: transactions must name it
    /// (asking the next node if one cannot be reached).
    pub async fn flows_version(&self) -> Result<Version> {
        let name = &flows::contract_name();
        match self.read_any(|c| async move { c.contract(name).await }).await? {
            Some(record) => Ok(record.version),
            None => Err(SdkError::Invalid(format!("the {} contract is not deployed on this network", flows::CONTRACT))),
        }
    }

    /// Signs `action` as `signer` with a new transaction id (`flows-…`) for
    /// the active version, submits it and waits for the commit (moving on to
    /// the next node if one fails, see [`Client::submit_and_wait`]). Returns
    /// the committed view even when the receipt failed, with the risk alerts
    /// the refusal kept ([`flows::alerts`]). Requests are signed with the
    /// client's own key, or with `signer`'s if the client has none.
    pub async fn flows_submit(&self, signer: &Signer, action: &Action) -> Result<TxView> {
        let client = if self.auth.is_some() { self.clone() } else { self.with_auth(signer.clone()) };
        let version = client.flows_version().await?;
        let tx = flows::tx(signer, new_tx_id("flows")?, version, action);
        let view = client.submit_and_wait(&tx, flows::COMMIT_WAIT).await?;
        if view.receipt.is_none() {
            return Err(SdkError::Invalid(format!("transaction {} committed without a receipt", view.tx_id)));
        }
        Ok(view)
    }

    /// [`Client::flows_submit`], with a failed receipt as
    /// [`SdkError::Failed`]: its code is the contract's
    /// ([`flows::codes`], e.g. `E_INVOICE_OVER_OCCUPIED`, matched with
    /// [`SdkError::code`]) and its message says why. The view's `tx_id` is
    /// the id of any request the action opened ([`Action::opens_request`]).
    pub async fn flows_act(&self, signer: &Signer, action: &Action) -> Result<TxView> {
        let view = self.flows_submit(signer, action).await?;
        match view.receipt.as_ref().and_then(|r| r.failure.clone()) {
            Some(failure) => Err(SdkError::Failed(failure)),
            None => Ok(view),
        }
    }
}

/// The query of the supervision routes.
pub(crate) fn supervision_query(from: Option<&str>, types: &[&str], participant: Option<&str>) -> String {
    let mut query: Vec<String> = Vec::new();
    if let Some(f) = from {
        query.push(format!("from={}", query_escape(f)));
    }
    if !types.is_empty() {
        query.push(format!("types={}", query_escape(&types.join(","))));
    }
    if let Some(p) = participant {
        query.push(format!("participant={}", query_escape(p)));
    }
    query.join("&")
}

/// `text` percent-encoded for a query value (RFC 3986 unreserved characters kept).
fn query_escape(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::query_escape;
    use crate::{Client, SdkError};
    use std::io::{ErrorKind, Read as _, Write as _};

    #[tokio::test]
    async fn a_redirect_is_answered_as_an_error_and_not_followed() {
        // Where a redirect would send the request: nothing may connect here.
        let elsewhere = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        elsewhere.set_nonblocking(true).unwrap();
        let target = format!("http://{}/v1/health", elsewhere.local_addr().unwrap());
        let gateway = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", gateway.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let (mut conn, _) = gateway.accept().unwrap();
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf).unwrap();
            let answer =
                format!("HTTP/1.1 302 Found\r\nlocation: {target}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            conn.write_all(answer.as_bytes()).unwrap();
        });
        let err = Client::new(&url).unwrap().health().await.unwrap_err();
        server.join().unwrap();
        assert!(matches!(err, SdkError::Api { status: 302, .. }), "{err:?}");
        let followed = elsewhere.accept();
        assert!(matches!(&followed, Err(e) if e.kind() == ErrorKind::WouldBlock), "the redirect was followed");
    }

    #[test]
    fn query_values_are_escaped_as_the_gateway_decodes_them() {
        assert_eq!(query_escape("tenant:demo-platform/key:k1"), "tenant:demo-platform%2Fkey:k1");
        assert_eq!(query_escape("2026-11-21T10:00:00.000Z"), "2026-11-21T10:00:00.000Z");
        assert_eq!(query_escape("a b&c=d"), "a%20b%26c%3Dd");
        assert_eq!(query_escape("付"), "%E4%BB%98");
    }
}
