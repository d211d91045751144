//! Instant discount on a 3-voter devnet: how long from a supplier's signed
//! discount request to the committed block that approves it and instructs
//! the disbursement, and to the committed bank answer that completes it.
//!
//! `cargo bench -p billflow-tests --bench instant_discount [-- SAMPLES]`
//! (default 40 samples; every run is bounded and stops by itself). Prints a
//! table and one JSON line.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use billflow_sdk::flows::finance::{Date, RatePpm};
use billflow_sdk::flows::{self, Action};
use billflow_sdk::{Client, Signer};
use billflow_tests::devnet::{Clock, DevnetProcess};
use billflow_tests::trade::{self, BANK_A, CORE, SUPPLIER_A};

const BILL: &str = "550100000000000000000000000001";
/// Each discount takes this many fen of the bill (10,000.00 yuan).
const SLICE: u64 = 1_000_000;

async fn act(client: &Client, who: &Signer, action: Action) -> Result<String> {
    let view =
        client.with_auth(who.clone()).flows_act(who, &action).await.with_context(|| action.method().to_string())?;
    Ok(view.tx_id.to_string())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn run(samples: u64) -> Result<()> {
    let devnet = DevnetProcess::start(3, 0, false, Clock::Real)?;
    let client = devnet.client()?;
    let (core, sup_a, bank_a) =
        (devnet.participant(CORE)?, devnet.participant(SUPPLIER_A)?, devnet.participant(BANK_A)?);
    let today = Date::of_block_time(billflow_sdk::now_ms());
    let amount = SLICE * samples;
    let trade = trade::Trade { order: "PO-BENCH", invoice: "00000099", bill: BILL, amount, today };
    let parties = trade::Parties { core: &core, supplier_a: &sup_a, bank_a: &bank_a };
    trade::seed(&trade, &parties, async |who: &Signer, action| act(&client, who, action).await).await?;
    let key = flows::InvoiceKey { code: trade::INVOICE_CODE.into(), number: trade.invoice.into() };
    let policy = flows::DiscountPolicy {
        enabled: true,
        acceptors: vec![CORE.into()],
        max_amount: SLICE,
        rates: vec![flows::RateBand { max_days: 184, rate: RatePpm(15_000) }],
        daily_limit_per_enterprise: 0,
    };
    act(&client, &bank_a, Action::SetPolicy(policy)).await?;

    let (mut instructed, mut completed) = (Vec::new(), Vec::new());
    for n in 0..samples {
        let request = flows::RequestDiscount {
            range: flows::Range { bill: BILL.into(), start: n * SLICE + 1, end: (n + 1) * SLICE },
            bank: BANK_A.into(),
            order: "PO-BENCH".into(),
            invoices: vec![key.clone()],
        };
        let started = Instant::now();
        let req = act(&client, &sup_a, Action::RequestDiscount(request)).await?;
        instructed.push(started.elapsed());
        let id = flows::disbursement_id(&req);
        let report = flows::ReportMovement {
            request_id: id,
            outcome: flows::Outcome::Success { bank_serial: format!("BENCH-{n}") },
        };
        act(&client, &bank_a, Action::ReportMovement(report)).await?;
        completed.push(started.elapsed());
    }
    let held = client.with_auth(bank_a.clone()).holdings(BANK_A).await?;
    if held.iter().map(|h| h.holding.end - h.holding.start + 1).sum::<u64>() != amount {
        bail!("bank A does not hold every discounted slice: {held:?}");
    }
    instructed.sort();
    completed.sort();
    println!("instant discount on a 3-voter devnet, {samples} samples (ms)");
    println!("{:<44} {:>8} {:>8} {:>8} {:>8}", "", "p50", "p95", "p99", "max");
    for (name, v) in [
        ("request -> disbursement instructed (1 block)", &instructed),
        ("request -> bank's success committed", &completed),
    ] {
        println!(
            "{name:<44} {:>8.1} {:>8.1} {:>8.1} {:>8.1}",
            ms(percentile(v, 0.5)),
            ms(percentile(v, 0.95)),
            ms(percentile(v, 0.99)),
            ms(*v.last().context("no samples")?)
        );
    }
    let json = serde_json::json!({
        "workload": "instant_discount",
        "samples": samples,
        "instructed_p50_ms": ms(percentile(&instructed, 0.5)),
        "instructed_p99_ms": ms(percentile(&instructed, 0.99)),
        "completed_p50_ms": ms(percentile(&completed, 0.5)),
        "completed_p99_ms": ms(percentile(&completed, 0.99)),
    });
    println!("{json}");
    Ok(())
}

fn main() -> Result<()> {
    // `cargo bench` passes `--bench`; a number is the sample count.
    let samples = std::env::args().skip(1).find_map(|a| a.parse::<u64>().ok()).unwrap_or(40).clamp(1, 1000);
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?.block_on(run(samples))
}
