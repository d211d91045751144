//! The devnet's business participants and, with `--demo`, a readable story
//! on the ledger: two suppliers, a core enterprise and two banks, with orders,
//! invoices and bills at different stages of their life.
//!
//! Participants: banks `bank-a` and `bank-b` registered by the first bank
//! organisation; the core enterprise and the suppliers registered by the
//! devnet's tenant. Each registers itself with the flows contract with a
//! settlement account (masked, digest only). Keys are in `participants/`,
//! listed in `devnet.json` (`participant_keys`).
//!
//! Every transaction here has an id that is the same on every run, so a rerun
//! (after a stop, or a crash half-way) finds what an earlier run recorded and
//! carries on from the first step not on the ledger yet.

use std::cell::Cell;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use billflow_contracts::flows::finance::{Date, Fen, RatePpm};
use billflow_contracts::flows::{self, methods};
use billflow_genesis::keys::pkcs8_pem;
use billflow_sdk::types::system::{KeyGrant, ParticipantKind, RegisterParticipant, SystemCall};
use billflow_sdk::types::{ContractName, Genesis, MethodName, OrgRole, SecretKey, TxId, Version};
use billflow_sdk::{Client, Signer};

use crate::bootstrap::{FLOWS, record, register_once, signer};
use crate::devnet::{Devnet, DevnetKey};

/// The core enterprise (drawer and acceptor of the demo's bills).
pub const CORE: &str = "91310000MA1FL0001R";
/// Supplier A (first-tier supplier of the core enterprise).
pub const SUPPLIER_A: &str = "91320500MA1FL0002T";
/// Supplier B (supplies supplier A).
pub const SUPPLIER_B: &str = "91330100MA1FL0003D";
/// The first bank.
pub const BANK_A: &str = "bank-a";
/// The second bank.
pub const BANK_B: &str = "bank-b";

/// (participant, kind, name, city, account bank, account number)
const PARTICIPANTS: [(&str, ParticipantKind, &str, &str, &str, &str); 5] = [
    (BANK_A, ParticipantKind::Bank, "Bank A, Shanghai branch", "Shanghai", BANK_A, "6222000000000001"),
    (BANK_B, ParticipantKind::Bank, "Bank B, Suzhou branch", "Suzhou", BANK_B, "6222000000000002"),
    (CORE, ParticipantKind::Enterprise, "Core Manufacturing Co.", "Shanghai", BANK_A, "6222021001000101"),
    (SUPPLIER_A, ParticipantKind::Enterprise, "Supplier A Components Co.", "Suzhou", BANK_A, "6222021001000202"),
    (SUPPLIER_B, ParticipantKind::Enterprise, "Supplier B Materials Co.", "Hangzhou", BANK_B, "6222021001000303"),
];

/// The salt of the demo's account-number digests (a real party keeps its own secret).
const DEVNET_SALT: &[u8] = b"billflow devnet account salt";

fn key_of(dir: &Path, id: &str) -> DevnetKey {
    DevnetKey {
        owner: id.to_string(),
        key_id: format!("{id}.k1"),
        key_file: dir.join("participants").join(format!("{id}.key")),
    }
}

/// Writes a key for every demo participant that has none (none without a
/// bank organisation and a tenant to register them).
pub fn create_participant_keys(dir: &Path, genesis: &Genesis) -> Result<Vec<DevnetKey>> {
    if !genesis.organisations.iter().any(|o| o.role == OrgRole::Bank) || genesis.tenants.is_empty() {
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(dir.join("participants"))?;
    let mut keys = Vec::new();
    for (id, ..) in PARTICIPANTS {
        let key = key_of(dir, id);
        if !key.key_file.exists() {
            std::fs::write(&key.key_file, pkcs8_pem(&SecretKey::generate()))
                .with_context(|| format!("cannot write {}", key.key_file.display()))?;
        }
        keys.push(key);
    }
    Ok(keys)
}

/// The signer of demo participant `id`.
fn participant(devnet: &Devnet, genesis: &Genesis, id: &str) -> Result<Signer> {
    let key = devnet.participant_keys.iter().find(|k| k.owner == id).with_context(|| format!("no key for {id}"))?;
    let mut s = signer(genesis, key)?;
    if !id.starts_with("bank-") {
        s.tenant = genesis.tenants.first().map(|t| t.id.clone());
    }
    Ok(s)
}

/// Carries out one step of the demo as `who` under `id`; returns whether this
/// run did (an earlier run's step under `id` that committed successfully is
/// done, one that failed is an error).
async fn act(client: &Client, who: &Signer, id: TxId, method: &str, args: Vec<u8>, deadline: Instant) -> Result<bool> {
    let tx = who.sign(id, FLOWS.parse()?, Version::new(1, 0, 0), method.parse()?, args);
    let done = record(client, who, &tx, deadline).await?;
    match done.receipt.failure {
        None => Ok(!done.earlier),
        Some(f) if done.earlier => {
            bail!("{} {method}: {} failed in an earlier run: {}: {}", who.key_id, done.id, f.code, f.message)
        }
        Some(f) => bail!("{} {method}: {}: {}", who.key_id, f.code, f.message),
    }
}

/// Registers the demo participants on the ledger and with the flows contract, unless done.
pub async fn register_participants(
    devnet: &Devnet,
    genesis: &Genesis,
    client: &Client,
    deadline: Instant,
) -> Result<()> {
    if devnet.participant_keys.is_empty() {
        return Ok(());
    }
    let bank_org = genesis.organisations.iter().find(|o| o.role == OrgRole::Bank).context("no bank organisation")?;
    let admin_key = devnet.admin_keys.iter().find(|k| k.owner == bank_org.id.as_str()).context("no bank admin key")?;
    let bank_admin = signer(genesis, admin_key)?;
    let tenant_key = devnet.tenant_keys.first().context("no tenant key")?;
    let mut tenant = signer(genesis, tenant_key)?;
    tenant.tenant = Some(tenant_key.owner.parse()?);
    let flows_name: ContractName = FLOWS.parse()?;
    let party_register: MethodName = methods::PARTY_REGISTER.parse()?;
    let mut registered = false;
    for (id, kind, name, city, bank, number) in PARTICIPANTS {
        let me = participant(devnet, genesis, id)?;
        let registrar = if kind == ParticipantKind::Bank { &bank_admin } else { &tenant };
        let call = SystemCall::RegisterParticipant(RegisterParticipant {
            participant: id.parse()?,
            kind,
            name: name.to_string(),
            keys: vec![KeyGrant { key_id: me.key_id.clone(), public_key: me.secret.public() }],
        });
        let build = |tx_id| registrar.system(tx_id, &call);
        registered |=
            register_once(client, registrar, &format!("register-{id}"), "E_PARTICIPANT_EXISTS", build, deadline)
                .await
                .with_context(|| format!("registering {id}"))?;
        let account = billflow_sdk::flows::account(bank, number, DEVNET_SALT)?;
        let args = borsh::to_vec(&flows::RegisterParty { account, city: city.to_string(), finance_company: false })?;
        let build =
            |tx_id| me.sign(tx_id, flows_name.clone(), Version::new(1, 0, 0), party_register.clone(), args.clone());
        registered |= register_once(client, &me, &format!("party-{id}"), "E_PARTY_EXISTS", build, deadline)
            .await
            .with_context(|| format!("registering {id} with the flows contract"))?;
    }
    if registered {
        println!("registered participants {}", PARTICIPANTS.map(|p| p.0).join(", "));
    }
    Ok(())
}

/// The business day (China Standard Time) `days` from today.
fn day(days: i64) -> Date {
    Date::of_block_time(billflow_sdk::now_ms()).plus_days(days)
}

fn yuan(text: &str) -> Result<u64> {
    Ok(Fen::parse_yuan(text).map_err(|e| anyhow::anyhow!(e.message))?.0)
}

fn invoice(number: &str) -> flows::InvoiceKey {
    flows::InvoiceKey { code: "3100231130".into(), number: number.into() }
}

/// Seeds the demo story once: step `n` is transaction `demo-<n>-<method>` on
/// every run, so a rerun skips the steps on the ledger and does the rest.
pub async fn seed(devnet: &Devnet, genesis: &Genesis) -> Result<()> {
    let urls: Vec<&str> = devnet.nodes.iter().map(|n| n.api_url.as_str()).collect();
    let ca = std::fs::read(&devnet.ca_cert)?;
    let client = Client::builder(urls).ca_pem(ca).build()?;
    let deadline = Instant::now() + std::time::Duration::from_secs(120);
    let who = |id: &str| participant(devnet, genesis, id);
    let (core, sup_a, sup_b, bank_a, bank_b) =
        (who(CORE)?, who(SUPPLIER_A)?, who(SUPPLIER_B)?, who(BANK_A)?, who(BANK_B)?);
    // Steps are numbered in the order they are called (each is awaited before the next).
    let (steps, done_now) = (Cell::new(0u32), Cell::new(0u32));
    let go = |signer: &Signer, method: &'static str, args: Vec<u8>| {
        steps.set(steps.get() + 1);
        let id = format!("demo-{:02}-{method}", steps.get());
        let client = client.clone();
        let signer = signer.clone();
        let done_now = &done_now;
        async move {
            let id: TxId = id.parse()?;
            if act(&client, &signer, id.clone(), method, args, deadline).await? {
                done_now.set(done_now.get() + 1);
            }
            Ok(id)
        }
    };

    // The trade: orders, deliveries, invoices.
    let orders = [
        ("PO-DEMO-001", &core, SUPPLIER_A, "1,500,000.00", -20),
        ("PO-DEMO-002", &sup_a, SUPPLIER_B, "400,000.00", -15),
        ("PO-DEMO-003", &core, SUPPLIER_B, "200,000.00", -2),
    ];
    for (id, buyer, seller, amount, on) in orders {
        let a = flows::CreateOrder {
            id: id.into(),
            seller: seller.into(),
            amount: yuan(amount)?,
            date: day(on),
            evidence: None,
        };
        go(buyer, methods::ORDER_CREATE, borsh::to_vec(&a)?).await?;
    }
    let deliveries = [("PO-DEMO-001", &sup_a, &core, "1,500,000.00"), ("PO-DEMO-002", &sup_b, &sup_a, "300,000.00")];
    for (order, seller, buyer, amount) in deliveries {
        let d = flows::RecordDelivery {
            order: order.into(),
            delivery: "DN-1".into(),
            amount: yuan(amount)?,
            date: day(-10),
            evidence: None,
        };
        go(seller, methods::ORDER_DELIVER, borsh::to_vec(&d)?).await?;
        let c = flows::DeliveryRef { order: order.into(), delivery: "DN-1".into() };
        go(buyer, methods::ORDER_CONFIRM_DELIVERY, borsh::to_vec(&c)?).await?;
    }
    let invoices = [
        ("00000001", "PO-DEMO-001", &sup_a, SUPPLIER_A, CORE, "1,500,000.00", "1,327,433.63", &bank_a),
        ("00000002", "PO-DEMO-002", &sup_b, SUPPLIER_B, SUPPLIER_A, "300,000.00", "265,486.73", &bank_b),
    ];
    for (number, order, signer, seller, buyer, inc, ex, verifier) in invoices {
        let r = flows::RecordInvoice {
            key: invoice(number),
            order: order.into(),
            date: day(-9),
            amount_ex_tax: yuan(ex)?,
            amount_inc_tax: yuan(inc)?,
            seller: seller.into(),
            buyer: buyer.into(),
            check_code: format!("{:020}", number.parse::<u64>()? * 7919),
            evidence: None,
        };
        go(signer, methods::INVOICE_RECORD, borsh::to_vec(&r)?).await?;
        let v = flows::VerifyInvoice { key: invoice(number), check_code: r.check_code[14..].to_string() };
        go(verifier, methods::INVOICE_VERIFY, borsh::to_vec(&v)?).await?;
    }
    // Bank A approves qualifying discounts of the core enterprise's bills instantly.
    let policy = flows::DiscountPolicy {
        enabled: true,
        acceptors: vec![CORE.into()],
        max_amount: yuan("2,000,000.00")?,
        rates: vec![
            flows::RateBand { max_days: 90, rate: RatePpm(13_500) },
            flows::RateBand { max_days: 184, rate: RatePpm(15_000) },
        ],
        daily_limit_per_enterprise: yuan("5,000,000.00")?,
    };
    go(&bank_a, methods::BILL_SET_POLICY, borsh::to_vec(&policy)?).await?;

    // Bill 1: issued, accepted, received by supplier A; 300,000.00 endorsed to
    // supplier B; 500,000.00 discounted instantly by bank A and disbursed.
    let bill1 = "530100000000000000000000000001";
    issue(&go, &core, bill1, flows::BillKind::SupplyChain, "1,000,000.00", -10, 80, SUPPLIER_A, true).await?;
    accept_and_deliver(&go, &core, &sup_a, bill1).await?;
    let units = yuan("300,000.00")?;
    let e = flows::Transfer { range: flows::Range { bill: bill1.into(), start: 1, end: units }, to: SUPPLIER_B.into() };
    let req = go(&sup_a, methods::BILL_ENDORSE, borsh::to_vec(&e)?).await?;
    go(&sup_b, methods::BILL_SIGN, answer(&req)?).await?;
    let half = yuan("500,000.00")?;
    let d = flows::RequestDiscount {
        range: flows::Range { bill: bill1.into(), start: units + 1, end: units + half },
        bank: BANK_A.into(),
        order: "PO-DEMO-001".into(),
        invoices: vec![invoice("00000001")],
    };
    let req = go(&sup_a, methods::BILL_REQUEST_DISCOUNT, borsh::to_vec(&d)?).await?;
    let report = flows::ReportMovement {
        request_id: format!("{req}.disb"),
        outcome: flows::Outcome::Success { bank_serial: "BA-20260001".into() },
    };
    go(&bank_a, methods::FUND_REPORT, borsh::to_vec(&report)?).await?;

    // Bill 2: a commercial bill awaiting the acceptor's answer.
    let bill2 = "530100000000000000000000000002";
    issue(&go, &core, bill2, flows::BillKind::CommercialAcceptance, "250,000.00", 0, 150, SUPPLIER_A, true).await?;
    go(&core, methods::BILL_REQUEST_ACCEPTANCE, borsh::to_vec(&flows::ByBill { bill: bill2.into() })?).await?;

    // Bill 3: non-splittable, received by supplier B and pledged to bank B.
    let bill3 = "530100000000000000000000000003";
    issue(&go, &core, bill3, flows::BillKind::SupplyChain, "180,000.00", -5, 60, SUPPLIER_B, false).await?;
    accept_and_deliver(&go, &core, &sup_b, bill3).await?;
    let p = flows::Transfer {
        range: flows::Range { bill: bill3.into(), start: 1, end: yuan("180,000.00")? },
        to: BANK_B.into(),
    };
    let req = go(&sup_b, methods::BILL_PLEDGE, borsh::to_vec(&p)?).await?;
    go(&bank_b, methods::BILL_SIGN, answer(&req)?).await?;

    // Bill 4: issued by mistake and cancelled.
    let bill4 = "530100000000000000000000000004";
    issue(&go, &core, bill4, flows::BillKind::SupplyChain, "120,000.00", 0, 30, SUPPLIER_A, true).await?;
    go(&core, methods::BILL_CANCEL, borsh::to_vec(&flows::ByBill { bill: bill4.into() })?).await?;

    if done_now.get() == 0 {
        println!("the demo is seeded already");
    } else {
        println!(
            "seeded the demo: 3 orders, 2 invoices, 4 bills (discounted, awaiting acceptance, pledged, cancelled)"
        );
    }
    Ok(())
}

fn answer(request: &TxId) -> Result<Vec<u8>> {
    Ok(borsh::to_vec(&flows::Answer { request: request.to_string(), reason: String::new() })?)
}

#[allow(clippy::too_many_arguments)]
async fn issue<F, Fut>(
    go: &F,
    drawer: &Signer,
    number: &str,
    kind: flows::BillKind,
    amount: &str,
    issued: i64,
    due: i64,
    payee: &str,
    splittable: bool,
) -> Result<()>
where
    F: Fn(&Signer, &'static str, Vec<u8>) -> Fut,
    Fut: std::future::Future<Output = Result<TxId>>,
{
    let a = flows::IssueBill {
        number: number.into(),
        kind,
        amount: yuan(amount)?,
        issue_date: day(issued),
        due_date: day(due),
        acceptor: CORE.into(),
        payee: payee.into(),
        splittable,
        non_transferable: false,
        evidence: None,
    };
    go(drawer, methods::BILL_ISSUE, borsh::to_vec(&a)?).await?;
    Ok(())
}

async fn accept_and_deliver<F, Fut>(go: &F, core: &Signer, payee: &Signer, number: &str) -> Result<()>
where
    F: Fn(&Signer, &'static str, Vec<u8>) -> Fut,
    Fut: std::future::Future<Output = Result<TxId>>,
{
    let bill = borsh::to_vec(&flows::ByBill { bill: number.into() })?;
    let req = go(core, methods::BILL_REQUEST_ACCEPTANCE, bill.clone()).await?;
    go(core, methods::BILL_SIGN, answer(&req)?).await?;
    let req = go(core, methods::BILL_REQUEST_DELIVERY, bill).await?;
    go(payee, methods::BILL_SIGN, answer(&req)?).await?;
    Ok(())
}
