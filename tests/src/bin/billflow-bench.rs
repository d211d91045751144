//! `billflow-bench`: closed-loop load against a devnet (or an etcd cluster,
//! for comparison), reporting throughput, submit-to-commit latency
//! percentiles, each node's CPU seconds and peak resident memory, and ledger
//! bytes on disk per transaction on a node. docs/performance.md says how to run it and
//! what it measured.
//!
//! Every run is bounded: `--duration-s` (at most 3,600) and `--max-ops`; it
//! stops by itself.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use billflow_sdk::flows::finance::{Date, RatePpm};
use billflow_sdk::flows::{self, Action};
use billflow_sdk::types::system::{AddKey, KeyGrant, SystemCall};
use billflow_sdk::types::{ContractName, Domain, Hash32, SignedTx, TxId, Version};
use billflow_sdk::{Client, Signer, evidence, new_tx_id};
use billflow_tests::devnet::{Clock, DevnetInfo, DevnetProcess};
use billflow_tests::trade::{self, BANK_A, CORE, INVOICE_CODE, SUPPLIER_A, SUPPLIER_B};
use clap::{Parser, ValueEnum};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Workload {
    /// Each operation records a new evidence hash (signed, verified, executed in WASM, replicated).
    Evidence,
    /// Discounts (instant), the bank's disbursement answers, endorsements and their signatures, over pre-seeded bills.
    Flows,
    /// Receipts and bill lookups from one node.
    Query,
    /// Evidence writes and receipt reads, 1 : 3.
    Mixed,
    /// One 256-byte put per operation through etcd's JSON gateway (`--etcd`).
    Etcd,
    /// One 256-byte put per operation through etcd's native gRPC API (`--etcd`),
    /// as etcd's own clients send it: the reference for a Raft-replicated write.
    EtcdGrpc,
}

impl Workload {
    fn is_etcd(self) -> bool {
        matches!(self, Workload::Etcd | Workload::EtcdGrpc)
    }
}

/// Closed-loop load: each client sends one operation and waits for its
/// commit (or answer) before the next.
#[derive(Debug, Parser)]
#[command(name = "billflow-bench", version)]
struct Args {
    /// Attach to this devnet (its devnet.json); without it a 3-voter devnet is started and stopped.
    #[arg(long)]
    devnet_json: Option<PathBuf>,
    /// What to send.
    #[arg(long, value_enum, default_value = "evidence")]
    workload: Workload,
    /// Concurrent clients.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    clients: u64,
    /// How long to send, in seconds.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=3600))]
    duration_s: u64,
    /// Send N transactions per request through the batch endpoint (evidence only).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1000))]
    batch: u64,
    /// Stop after this many operations, whatever the time.
    #[arg(long, default_value_t = 2_000_000)]
    max_ops: u64,
    /// etcd client URLs (`--workload etcd` or `etcd-grpc`), comma-separated.
    #[arg(long, value_delimiter = ',')]
    etcd: Vec<String>,
    /// Processes to measure besides the devnet's nodes (etcd members).
    #[arg(long = "pid")]
    pids: Vec<u32>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// Measure a new node's catch-up: the devnet's observer is stopped and its
    /// data removed before the load; after it, the observer starts empty and
    /// the time until it reaches the leader's height is reported. Without
    /// `--devnet-json`, the devnet is started with an observer.
    #[arg(long)]
    catch_up: bool,
    /// `query`: sign every read instead of reading under a session
    /// (`POST /v1/sessions`) opened by each client.
    #[arg(long)]
    signed_reads: bool,
    /// Threads the load generator's runtime runs on; 0 for one per core.
    /// By default one for billflow's workloads: its clients' tasks then wake
    /// each other without crossing threads, and the other core is left to
    /// the nodes (under `query` it spent 48 to 56 µs a read on one thread
    /// against 70 to 77 on two). etcd's workloads run on one per core, which
    /// was at least as fast for etcd.
    #[arg(long)]
    threads: Option<usize>,
}

/// What one client measured.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    /// `flows`: an instant discount from its request to its committed
    /// approval, which instructs the disbursement in the same transaction.
    discount: Vec<Duration>,
    /// `flows`: the same, on to the bank's committed report that it paid.
    disbursed: Vec<Duration>,
    ops: u64,
    reads: u64,
    errors: u64,
    first_error: Option<String>,
}

impl Tally {
    fn error(&mut self, e: impl std::fmt::Display) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(e.to_string());
        }
    }
}

/// A process's CPU seconds (user + system), peak resident set and resident set (KiB), from /proc.
fn proc_usage(pid: u32) -> Option<(f64, u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime are fields 14 and 15 (1-based), here 11 and 12 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb = |field: &str| -> Option<u64> {
        status.lines().find(|l| l.starts_with(field))?.split_whitespace().nth(1)?.parse().ok()
    };
    // Linux reports CPU time in USER_HZ, 100 a second on every common platform.
    Some((ticks as f64 / 100.0, kb("VmHWM:")?, kb("VmRSS:")?))
}

fn dir_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                stack.extend(entries.flatten().map(|e| e.path()));
            }
        } else {
            total += meta.len();
        }
    }
    total
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// Each flows step moves this many fen (10,000.00 yuan).
const SLICE: u64 = 1_000_000;
/// The most iterations one client's bill allows (two slices each).
const FLOWS_ITERATIONS: u64 = 5_000;

/// What a client works on, made before the clock starts.
#[derive(Debug, Clone)]
enum Seed {
    /// Its own bill, with the order and invoice (number) behind it, and
    /// its own keys of supplier A, supplier B and bank A (the risk module's
    /// burst rule counts actions per key).
    Flows { bill: String, order: String, invoice: String, keys: Box<[Signer; 3]> },
    /// A committed transaction and a bill to look up.
    Query { tx_id: TxId, bill: String, reader: Client },
}

struct Target {
    info: DevnetInfo,
    client: Client,
    /// A client of the first node alone (reads).
    first: Client,
    tenant: Signer,
}

fn contract(name: &str) -> Result<ContractName> {
    Ok(name.parse()?)
}

async fn version_of(client: &Client, name: &str) -> Result<Version> {
    Ok(client.contract(&contract(name)?).await?.with_context(|| format!("{name} is not deployed"))?.version)
}

fn evidence_tx(tenant: &Signer, version: Version, client: u64, n: u64) -> Result<SignedTx> {
    let hash = Hash32::of(Domain::Tx, format!("bench {} {client} {n}", std::process::id()).as_bytes());
    Ok(evidence::submit_tx(tenant, new_tx_id("bench")?, version, &hash, "bench", Vec::new()))
}

/// Submits `tx` as `signer` and waits for its commit; an error unless its receipt succeeded.
async fn commit(client: &Client, tx: &SignedTx) -> Result<String> {
    let view = client.submit(tx, true).await?;
    match view.receipt {
        Some(r) if r.failure.is_none() => Ok(view.tx_id.to_string()),
        Some(r) => bail!("{}: {:?}", tx.tx.tx_id, r.failure),
        None => bail!("{} was not committed: {:?}", tx.tx.tx_id, view.status),
    }
}

/// Seeds client `c`'s trade and bill for the flows workload: an order, a
/// delivery, a verified invoice and a bill received by supplier A.
async fn seed_flows(t: &Target, version: Version, c: u64) -> Result<Seed> {
    let who = |id: &str| t.info.participant(id);
    let (core, sup_a, bank_a) = (who(CORE)?, who(SUPPLIER_A)?, who(BANK_A)?);
    let act = |signer: &Signer, action: Action| {
        let client = t.client.with_auth(signer.clone());
        let signer = signer.clone();
        async move { commit(&client, &flows::tx(&signer, new_tx_id("seed")?, version, &action)).await }
    };
    let today = Date::of_block_time(billflow_sdk::now_ms());
    let order = format!("PO-BENCH-{}-{c}", std::process::id());
    let invoice = format!("{:08}", (std::process::id() as u64 % 1000) * 10_000 + c);
    let bill = format!("57{:010}{:018}", std::process::id(), c);
    let trade =
        trade::Trade { order: &order, invoice: &invoice, bill: &bill, amount: 2 * SLICE * FLOWS_ITERATIONS, today };
    let parties = trade::Parties { core: &core, supplier_a: &sup_a, bank_a: &bank_a };
    trade::seed(&trade, &parties, act).await?;
    // Each client acts with keys of its own.
    let mut keys = Vec::new();
    for signer in [&sup_a, &who(SUPPLIER_B)?, &bank_a] {
        let secret = billflow_sdk::types::SecretKey::generate();
        // The devnet's participant keys are `<participant>.k1`.
        let owner = signer.key_id.as_str().split('.').next().unwrap_or_default();
        let key_id: billflow_sdk::types::KeyId = format!("{owner}.bench-{}-{c}", std::process::id()).parse()?;
        let call = SystemCall::AddKey(AddKey {
            participant: owner.parse()?,
            key: KeyGrant { key_id: key_id.clone(), public_key: secret.public() },
        });
        commit(&t.client.with_auth(signer.clone()), &signer.system(new_tx_id("key")?, &call)).await?;
        keys.push(Signer { key_id, secret, ..signer.clone() });
    }
    let keys: Box<[Signer; 3]> = keys.into_boxed_slice().try_into().map_err(|_| anyhow::anyhow!("three keys"))?;
    Ok(Seed::Flows { bill, order, invoice, keys })
}

/// One client's loop until `deadline` or the shared operation budget runs out.
async fn run_client(
    t: &Target,
    args: &Args,
    c: u64,
    deadline: Instant,
    budget: &AtomicU64,
    seed: Option<Seed>,
) -> Tally {
    let mut tally = Tally::default();
    let take = |n: u64| take(budget, n);
    match args.workload {
        Workload::Evidence | Workload::Mixed => {
            let version = match version_of(&t.client, "evidence").await {
                Ok(v) => v,
                Err(e) => {
                    tally.error(e);
                    return tally;
                }
            };
            let client = t.client.with_auth(t.tenant.clone());
            let mut written: Vec<TxId> = Vec::new();
            let mut n = 0u64;
            while Instant::now() < deadline && take(args.batch) {
                n += 1;
                let read = args.workload == Workload::Mixed && n % 4 != 0 && !written.is_empty();
                let started = Instant::now();
                let outcome: Result<u64> = if read {
                    let id = &written[(n as usize * 7919) % written.len()];
                    t.first.with_auth(t.tenant.clone()).transaction(id).await.map(|_| 0).map_err(Into::into)
                } else if args.batch > 1 {
                    let txs: Result<Vec<SignedTx>> =
                        (0..args.batch).map(|i| evidence_tx(&t.tenant, version, c, n * 1000 + i)).collect();
                    match txs {
                        Ok(txs) => match client.submit_batch(&txs, true).await {
                            Ok(batch) => {
                                let ok = batch
                                    .results
                                    .iter()
                                    .filter(|r| {
                                        r.view
                                            .as_ref()
                                            .is_some_and(|v| v.receipt.as_ref().is_some_and(|r| r.failure.is_none()))
                                    })
                                    .count() as u64;
                                if ok < args.batch {
                                    tally.error(format!(
                                        "{} of {} in a batch not committed",
                                        args.batch - ok,
                                        args.batch
                                    ));
                                }
                                Ok(ok)
                            }
                            Err(e) => Err(e.into()),
                        },
                        Err(e) => Err(e),
                    }
                } else {
                    match evidence_tx(&t.tenant, version, c, n) {
                        Ok(tx) => commit(&client, &tx).await.map(|_| {
                            if written.len() < 1000 {
                                written.push(tx.tx.tx_id.clone());
                            }
                            1
                        }),
                        Err(e) => Err(e),
                    }
                };
                match outcome {
                    Ok(0) => {
                        tally.reads += 1;
                        tally.latencies.push(started.elapsed());
                    }
                    Ok(k) => {
                        tally.ops += k;
                        for _ in 0..k {
                            tally.latencies.push(started.elapsed());
                        }
                    }
                    Err(e) => tally.error(e),
                }
            }
        }
        Workload::Query => {
            let Some(Seed::Query { tx_id, bill, reader }) = seed else { return tally };
            let bill = bill.as_str();
            let mut n = 0u64;
            while Instant::now() < deadline && take(1) {
                n += 1;
                let started = Instant::now();
                let outcome = if n % 2 == 0 {
                    reader.transaction(&tx_id).await.map(|_| ())
                } else {
                    reader.bill(bill).await.map(|_| ())
                };
                match outcome {
                    Ok(()) => {
                        tally.reads += 1;
                        tally.latencies.push(started.elapsed());
                    }
                    Err(e) => tally.error(e),
                }
            }
        }
        Workload::Flows => {
            let Some(Seed::Flows { bill, order, invoice, keys }) = seed else { return tally };
            let version = match version_of(&t.client, flows::CONTRACT).await {
                Ok(v) => v,
                Err(e) => {
                    tally.error(e);
                    return tally;
                }
            };
            let [sup_a, sup_b, bank_a] = *keys;
            let key = flows::InvoiceKey { code: INVOICE_CODE.into(), number: invoice };
            let mut k = 0u64;
            'iterations: while Instant::now() < deadline && k < FLOWS_ITERATIONS && take(4) {
                let base = 2 * k * SLICE;
                k += 1;
                let discount = flows::RequestDiscount {
                    range: flows::Range { bill: bill.clone(), start: base + 1, end: base + SLICE },
                    bank: BANK_A.into(),
                    order: order.clone(),
                    invoices: vec![key.clone()],
                };
                let endorse = flows::Transfer {
                    range: flows::Range { bill: bill.clone(), start: base + SLICE + 1, end: base + 2 * SLICE },
                    to: SUPPLIER_B.into(),
                };
                let mut last = String::new();
                let mut requested = Duration::ZERO;
                for step in 0..4 {
                    let (signer, action) = match step {
                        0 => (&sup_a, Action::RequestDiscount(discount.clone())),
                        1 => (
                            &bank_a,
                            Action::ReportMovement(flows::ReportMovement {
                                request_id: flows::disbursement_id(&last),
                                outcome: flows::Outcome::Success { bank_serial: format!("BENCH-{c}-{k}") },
                            }),
                        ),
                        2 => (&sup_a, Action::Endorse(endorse.clone())),
                        _ => (&sup_b, Action::Sign(flows::Answer { request: last.clone(), reason: String::new() })),
                    };
                    let started = Instant::now();
                    let outcome = match new_tx_id("bench") {
                        Ok(id) => {
                            commit(&t.client.with_auth(signer.clone()), &flows::tx(signer, id, version, &action)).await
                        }
                        Err(e) => Err(e.into()),
                    };
                    match outcome {
                        Ok(id) => {
                            let took = started.elapsed();
                            tally.ops += 1;
                            tally.latencies.push(took);
                            match step {
                                0 => {
                                    requested = took;
                                    tally.discount.push(took);
                                }
                                1 => tally.disbursed.push(requested + took),
                                _ => {}
                            }
                            last = id;
                        }
                        Err(e) => {
                            tally.error(e);
                            continue 'iterations;
                        }
                    }
                }
            }
        }
        // Driven by `run_etcd_client`.
        Workload::Etcd | Workload::EtcdGrpc => {}
    }
    tally
}

/// Takes `n` operations from the shared budget; false once it is spent.
fn take(budget: &AtomicU64, n: u64) -> bool {
    budget.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| left.checked_sub(n)).is_ok()
}

/// One etcd client: a 256-byte put through etcd's JSON gateway, waiting for each answer.
async fn run_etcd_client(args: &Args, c: u64, deadline: Instant, budget: &AtomicU64) -> Tally {
    let mut tally = Tally::default();
    let http = reqwest::Client::new();
    let endpoint = &args.etcd[c as usize % args.etcd.len()];
    let url = format!("{}/v3/kv/put", endpoint.trim_end_matches('/'));
    let value = base64_encode(&[b'v'; 256]);
    let mut n = 0u64;
    while Instant::now() < deadline && take(budget, 1) {
        n += 1;
        let key = base64_encode(format!("bench/{c}/{n}").as_bytes());
        let started = Instant::now();
        let sent = http.post(&url).json(&json!({ "key": key, "value": value })).send().await;
        match sent.and_then(reqwest::Response::error_for_status) {
            Ok(_) => {
                tally.ops += 1;
                tally.latencies.push(started.elapsed());
            }
            Err(e) => tally.error(e),
        }
    }
    tally
}

/// One etcd client task: a 256-byte put through etcd's gRPC API on a shared
/// connection (HTTP/2, multiplexed), waiting for each answer.
async fn run_etcd_grpc_client(mut kv: etcd_client::KvClient, c: u64, deadline: Instant, budget: &AtomicU64) -> Tally {
    let mut tally = Tally::default();
    let value = vec![b'v'; 256];
    let mut n = 0u64;
    while Instant::now() < deadline && take(budget, 1) {
        n += 1;
        let started = Instant::now();
        match kv.put(format!("bench/{c}/{n}"), value.clone(), None).await {
            Ok(_) => {
                tally.ops += 1;
                tally.latencies.push(started.elapsed());
            }
            Err(e) => tally.error(e),
        }
    }
    tally
}

/// One gRPC connection per etcd endpoint, as a process of etcd's users holds.
async fn etcd_grpc_connections(endpoints: &[String]) -> Result<Vec<etcd_client::KvClient>> {
    let mut out = Vec::new();
    for endpoint in endpoints {
        let client = etcd_client::Client::connect([endpoint.as_str()], None)
            .await
            .with_context(|| format!("connect to etcd at {endpoint}"))?;
        out.push(client.kv_client());
    }
    Ok(out)
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let runtime = match args.threads.unwrap_or(if args.workload.is_etcd() { 0 } else { 1 }) {
        1 => tokio::runtime::Builder::new_current_thread().enable_all().build()?,
        0 => tokio::runtime::Builder::new_multi_thread().enable_all().build()?,
        n => tokio::runtime::Builder::new_multi_thread().worker_threads(n).enable_all().build()?,
    };
    runtime.block_on(run(args))
}

/// (pid, name) of every process to measure, and the nodes' data directories.
fn measured(info: Option<&DevnetInfo>, extra: &[u32]) -> (Vec<(u32, String)>, Vec<PathBuf>) {
    let mut pids = Vec::new();
    let mut dirs = Vec::new();
    if let Some(info) = info {
        for node in info.json["nodes"].as_array().into_iter().flatten() {
            if let Some(pid) = node["pid"].as_u64() {
                pids.push((pid as u32, node["node_id"].as_str().unwrap_or("node").to_string()));
            }
            if let Some(dir) = node["data_dir"].as_str() {
                let dir = PathBuf::from(dir);
                // Relative to the node's configuration file.
                let base = node["config"].as_str().map(PathBuf::from).and_then(|c| c.parent().map(Path::to_path_buf));
                dirs.push(if dir.is_relative() { base.unwrap_or_default().join(dir) } else { dir });
            }
        }
    }
    pids.extend(extra.iter().map(|p| (*p, format!("pid {p}"))));
    (pids, dirs)
}

async fn run(args: Args) -> Result<()> {
    let args = Arc::new(args);
    let etcd = args.workload.is_etcd();
    if etcd && args.etcd.is_empty() {
        bail!("--workload etcd and etcd-grpc need --etcd URL[,URL...]");
    }
    let grpc = if args.workload == Workload::EtcdGrpc { etcd_grpc_connections(&args.etcd).await? } else { Vec::new() };
    if args.batch > 1 && args.workload != Workload::Evidence {
        bail!("--batch is for the evidence workload");
    }
    let mut owned = None;
    let info = if etcd {
        None
    } else if let Some(path) = &args.devnet_json {
        Some(DevnetInfo::load(path)?)
    } else {
        let observers = usize::from(args.catch_up);
        eprintln!("starting a 3-voter devnet with {observers} observer(s)");
        // The gateways' per-tenant request rate is a policy, not a capacity:
        // lifted, so that the run measures what the nodes can do.
        let devnet = DevnetProcess::start_with(3, observers, false, Clock::Real, &["--rate-per-s", "1000000"])?;
        let info = devnet.info.clone();
        owned = Some(devnet);
        Some(info)
    };
    let newcomer = match (&info, args.catch_up) {
        (Some(info), true) => Some(Newcomer::stop_observer(info)?),
        (None, true) => bail!("--catch-up needs a devnet"),
        _ => None,
    };
    let target = match &info {
        Some(info) => {
            let urls = voter_urls(info);
            let owner = info.json["tenant_keys"][0]["owner"].as_str().context("a tenant key in devnet.json")?;
            Some(Target {
                client: info.client()?,
                first: info.client_of(urls.into_iter().take(1).collect())?,
                tenant: info.signer("tenant_keys", owner, Some(owner))?,
                info: info.clone(),
            })
        }
        // etcd: the clients below never read a target.
        None => None,
    };
    let target = Arc::new(target);

    // Seeds, one per client, made before the clock starts.
    let mut seeds: Vec<Option<Seed>> = vec![None; args.clients as usize];
    if let Some(t) = target.as_ref() {
        match args.workload {
            Workload::Flows => {
                let version = version_of(&t.client, flows::CONTRACT).await?;
                let bank_a = t.info.participant(BANK_A)?;
                let policy = flows::DiscountPolicy {
                    enabled: true,
                    acceptors: vec![CORE.into()],
                    max_amount: SLICE,
                    rates: vec![flows::RateBand { max_days: 184, rate: RatePpm(15_000) }],
                    daily_limit_per_enterprise: 0,
                };
                let tx = flows::tx(&bank_a, new_tx_id("seed")?, version, &Action::SetPolicy(policy));
                commit(&t.client.with_auth(bank_a), &tx).await?;
                eprintln!("seeding {} bills", args.clients);
                use futures_util::StreamExt as _;
                let made: Vec<Result<Seed>> = futures_util::stream::iter(0..args.clients)
                    .map(|c| seed_flows(t, version, c))
                    .buffered(16)
                    .collect()
                    .await;
                for (slot, seed) in seeds.iter_mut().zip(made) {
                    *slot = Some(seed?);
                }
            }
            Workload::Query => {
                let version = version_of(&t.client, flows::CONTRACT).await?;
                let bill = seed_flows(t, version, 0).await?;
                let ev = version_of(&t.client, "evidence").await?;
                let tx = evidence_tx(&t.tenant, ev, u64::MAX, 0)?;
                commit(&t.client.with_auth(t.tenant.clone()), &tx).await?;
                let tx_id = tx.tx.tx_id.clone();
                let Seed::Flows { bill, .. } = bill else { bail!("a flows seed") };
                // One reader for every client, as one platform process under
                // one key would be: signing each read, or under one session.
                let reader = t.first.with_auth(t.info.participant(CORE)?);
                let reader = if args.signed_reads { reader } else { reader.with_session().await? };
                seeds = vec![Some(Seed::Query { tx_id, bill, reader }); args.clients as usize];
            }
            _ => {}
        }
    }

    let host = tokio::task::spawn_blocking(host_verify_per_s).await.context("the host's calibration")?;
    let (pids, dirs) = measured(info.as_ref(), &args.pids);
    let before: Vec<Option<(f64, u64, u64)>> = pids.iter().map(|(p, _)| proc_usage(*p)).collect();
    let own_before = proc_usage(std::process::id());
    let disk_before: Vec<u64> = dirs.iter().map(|d| dir_bytes(d)).collect();
    let budget = Arc::new(AtomicU64::new(args.max_ops));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.duration_s);
    let tasks: Vec<_> = (0..args.clients)
        .zip(seeds)
        .map(|(c, seed)| {
            let (t, a, b) = (target.clone(), args.clone(), budget.clone());
            let kv = (!grpc.is_empty()).then(|| grpc[c as usize % grpc.len()].clone());
            tokio::spawn(async move {
                match (t.as_ref(), kv) {
                    (Some(target), _) => run_client(target, &a, c, deadline, &b, seed).await,
                    (None, Some(kv)) => run_etcd_grpc_client(kv, c, deadline, &b).await,
                    (None, None) => run_etcd_client(&a, c, deadline, &b).await,
                }
            })
        })
        .collect();
    let mut all = Tally::default();
    for task in tasks {
        let t = task.await.context("a client task failed")?;
        all.latencies.extend(t.latencies);
        all.discount.extend(t.discount);
        all.disbursed.extend(t.disbursed);
        all.ops += t.ops;
        all.reads += t.reads;
        all.errors += t.errors;
        if all.first_error.is_none() {
            all.first_error = t.first_error;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    // The load generator shares the cores with the nodes: what it spent is part of the picture.
    let own_cpu = proc_usage(std::process::id()).zip(own_before).map(|(a, b)| a.0 - b.0);
    // Let the last block settle on disk before measuring it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Per node: the one that grew most (the leader, as a rule) is the figure.
    let disk_grown = dirs.iter().zip(&disk_before).map(|(d, before)| dir_bytes(d).saturating_sub(*before)).max();
    let nodes: Vec<Value> = pids
        .iter()
        .zip(before)
        .filter_map(|((pid, name), before)| {
            // A node not running at the start (the stopped observer) is left out.
            before?;
            let after = proc_usage(*pid);
            let cpu = match (before, after) {
                (Some(b), Some(a)) => Some(a.0 - b.0),
                _ => None,
            };
            Some(json!({
                "name": name,
                "pid": pid,
                "cpu_s": cpu,
                "peak_rss_mb": after.map(|a| a.1 as f64 / 1024.0),
                "rss_mb": after.map(|a| a.2 as f64 / 1024.0),
            }))
        })
        .collect();
    all.latencies.sort();
    all.discount.sort();
    all.disbursed.sort();
    let l = &all.latencies;
    let spread = |l: &[Duration]| {
        (!l.is_empty()).then(|| json!({ "p50_ms": percentile(l, 0.50), "p99_ms": percentile(l, 0.99) }))
    };
    let mut report = json!({
        "workload": args.workload.to_possible_value().map_or_else(String::new, |v| v.get_name().to_string()),
        "clients": args.clients,
        "batch": args.batch,
        "duration_s": elapsed,
        "committed": all.ops,
        "committed_per_s": all.ops as f64 / elapsed,
        "reads": all.reads,
        "reads_per_s": all.reads as f64 / elapsed,
        "errors": all.errors,
        "first_error": all.first_error,
        "p50_ms": percentile(l, 0.50),
        "p95_ms": percentile(l, 0.95),
        "p99_ms": percentile(l, 0.99),
        "max_ms": percentile(l, 1.0),
        "discount": spread(&all.discount),
        "disbursed": spread(&all.disbursed),
        "disk_bytes_per_tx": disk_grown.filter(|_| all.ops > 0).map(|grown| grown as f64 / all.ops as f64),
        "nodes": nodes,
        "host_ed25519_verify_per_s": host,
        "load_generator_cpu_s": own_cpu,
        "catch_up": Value::Null,
    });
    if let (Some(newcomer), Some(t)) = (newcomer, target.as_ref()) {
        // A failed catch-up is reported with the load's figures, not instead of them.
        report["catch_up"] = newcomer.catch_up(t).await.unwrap_or_else(|e| json!({ "error": format!("{e:#}") }));
    }
    if args.json {
        println!("{report}");
    } else {
        print_table(&report);
    }
    if let Some(mut devnet) = owned {
        devnet.stop();
    }
    Ok(())
}

/// The API URLs of the devnet's voters: the load goes to them.
fn voter_urls(info: &DevnetInfo) -> Vec<String> {
    let nodes = info.json["nodes"].as_array().cloned().unwrap_or_default();
    let voters = nodes.iter().filter(|n| !is_observer(n));
    voters.filter_map(|n| n["api_url"].as_str().map(str::to_string)).collect()
}

fn is_observer(node: &Value) -> bool {
    node["role"].as_str().is_some_and(|r| r.eq_ignore_ascii_case("observer"))
}

/// `--catch-up`: the devnet's observer, stopped with its data removed, to be
/// started again empty after the load.
struct Newcomer {
    node_id: String,
    config: PathBuf,
    data: PathBuf,
    url: String,
}

impl Newcomer {
    fn stop_observer(info: &DevnetInfo) -> Result<Newcomer> {
        let nodes = info.json["nodes"].as_array().cloned().unwrap_or_default();
        let node = nodes.iter().find(|n| is_observer(n)).context("--catch-up needs a devnet with an observer")?;
        let (_, dirs) = measured(Some(&DevnetInfo { json: json!({ "nodes": [node] }) }), &[]);
        let newcomer = Newcomer {
            node_id: node["node_id"].as_str().context("node_id")?.to_string(),
            config: PathBuf::from(node["config"].as_str().context("config")?),
            data: dirs.into_iter().next().context("data_dir")?,
            url: node["api_url"].as_str().context("api_url")?.to_string(),
        };
        if let Some(pid) = node["pid"].as_u64() {
            std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status()?;
            let gone = Instant::now() + Duration::from_secs(10);
            while Path::new(&format!("/proc/{pid}/status")).exists()
                && proc_state(pid as u32) != Some('Z')
                && Instant::now() < gone
            {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        std::fs::remove_dir_all(&newcomer.data)
            .with_context(|| format!("cannot remove {}", newcomer.data.display()))?;
        eprintln!("observer {} stopped and emptied; it catches up after the load", newcomer.node_id);
        Ok(newcomer)
    }

    /// Starts the node empty and waits (at most 600 s) until it reaches the
    /// leader's height; reports the time, the blocks and transactions it
    /// caught up, its peak memory and its data on disk.
    async fn catch_up(self, t: &Target) -> Result<Value> {
        let goal = t.client.health().await.context("cannot read the leader's height after the load")?.height;
        let mut ledger_txs = 0u64;
        let mut before = None;
        loop {
            let page = t.client.blocks(before, 100).await?;
            ledger_txs += page.blocks.iter().map(|b| u64::from(b.tx_count)).sum::<u64>();
            match page.next_before {
                Some(b) => before = Some(b),
                None => break,
            }
        }
        let log = std::fs::File::create(self.config.with_file_name("catch-up.log"))?;
        let mut child = std::process::Command::new(billflow_tests::node_binary()?)
            .args(["run", "--config"])
            .arg(&self.config)
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        let pid = child.id();
        let client = t.info.client_of(vec![self.url.clone()])?;
        let started = Instant::now();
        let deadline = started + Duration::from_secs(600);
        let mut peak_kb = 0;
        let reached = loop {
            if let Some((_, hwm, _)) = proc_usage(pid) {
                peak_kb = peak_kb.max(hwm);
            }
            if let Ok(h) = client.health().await {
                if h.height >= goal {
                    break true;
                }
            }
            if Instant::now() > deadline || child.try_wait()?.is_some() {
                break false;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let seconds = started.elapsed().as_secs_f64();
        let data_mb = dir_bytes(&self.data) as f64 / 1e6;
        let _ = child.kill();
        let _ = child.wait();
        if !reached {
            bail!("{} did not reach height {goal} within {seconds:.0} s", self.node_id);
        }
        Ok(json!({
            "node": self.node_id,
            "blocks": goal,
            "ledger_txs": ledger_txs,
            "seconds": seconds,
            "peak_rss_mb": peak_kb as f64 / 1024.0,
            "data_mb": data_mb,
        }))
    }
}

/// A process's state letter (`R`, `S`, `Z`, ...).
fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// How fast this host is as the load starts, the nodes idle: one core's
/// strict ed25519 signature checks a second, over half a second. The nodes
/// and the load generator share the host's cores, and the same build's
/// figures follow this one from hour to hour: it says which runs compare.
fn host_verify_per_s() -> f64 {
    let key = billflow_sdk::types::SecretKey::from_seed([7; 32]);
    let message = [0x5a; 256];
    let signature = key.sign(Domain::TxSignature, &message);
    let public = key.public();
    let started = Instant::now();
    let mut checked = 0u64;
    while started.elapsed() < Duration::from_millis(500) {
        for _ in 0..32 {
            checked += u64::from(public.verify(Domain::TxSignature, &message, &signature).is_ok());
        }
    }
    checked as f64 / started.elapsed().as_secs_f64()
}

fn print_table(r: &Value) {
    let f = |k: &str| r[k].as_f64().unwrap_or(0.0);
    println!(
        "workload {} · {} clients · batch {} · {:.1} s",
        r["workload"].as_str().unwrap_or(""),
        r["clients"],
        r["batch"],
        f("duration_s")
    );
    println!("{:<22} {:>12}", "committed", r["committed"]);
    println!("{:<22} {:>12.0}", "committed/s", f("committed_per_s"));
    println!("{:<22} {:>12.0}", "reads/s", f("reads_per_s"));
    println!(
        "{:<22} {:>12.1} {:>8.1} {:>8.1} {:>8.1}",
        "latency ms p50 p95 p99 max",
        f("p50_ms"),
        f("p95_ms"),
        f("p99_ms"),
        f("max_ms")
    );
    for (key, what) in [("discount", "discount ms p50 p99"), ("disbursed", "disbursed ms p50 p99")] {
        if let Some(d) = r[key].as_object() {
            let g = |k: &str| d.get(k).and_then(Value::as_f64).unwrap_or(0.0);
            println!("{what:<22} {:>12.1} {:>8.1}", g("p50_ms"), g("p99_ms"));
        }
    }
    if let Some(b) = r["disk_bytes_per_tx"].as_f64() {
        println!("{:<22} {:>12.0}", "disk bytes/tx", b);
    }
    println!("{:<22} {:>12}", "errors", r["errors"]);
    println!("{:<22} {:>12.0}", "host ed25519 checks/s", f("host_ed25519_verify_per_s"));
    println!("{:<22} {:>12.1}", "load generator cpu s", f("load_generator_cpu_s"));
    if let Some(e) = r["first_error"].as_str() {
        println!("  first: {e}");
    }
    for n in r["nodes"].as_array().into_iter().flatten() {
        println!(
            "{:<22} cpu {:>8.1} s   peak rss {:>8.1} MB   rss {:>8.1} MB",
            n["name"].as_str().unwrap_or(""),
            n["cpu_s"].as_f64().unwrap_or(0.0),
            n["peak_rss_mb"].as_f64().unwrap_or(0.0),
            n["rss_mb"].as_f64().unwrap_or(0.0)
        );
    }
    let c = &r["catch_up"];
    if let Some(e) = c["error"].as_str() {
        println!("catch-up failed: {e}");
    } else if c.is_object() {
        let f = |k: &str| c[k].as_f64().unwrap_or(0.0);
        println!(
            "catch-up of {}: {} blocks, {} transactions in {:.1} s; peak rss {:.1} MB, {:.0} MB on disk",
            c["node"].as_str().unwrap_or(""),
            c["blocks"],
            c["ledger_txs"],
            f("seconds"),
            f("peak_rss_mb"),
            f("data_mb")
        );
    }
}
