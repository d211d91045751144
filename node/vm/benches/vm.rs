//! The cost of contract calls through the VM: one evidence `submit` with the
//! module cached (what every evidence transaction pays), and compiling the
//! module (paid once per node and code hash).
//!
//! Target: under 50 µs for a cached evidence submit on the reference machine.
//! Run with `cargo bench -p billflow-vm`.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use billflow_contracts::evidence::SubmitEvidence;
use billflow_types::state::Entries;
use billflow_vm::{Call, CallOutcome, CallerView, ContextView, Entry, Ledger, LedgerError, Vm, VmLimits};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

/// One contract's namespace in memory.
#[derive(Default)]
struct MemLedger(BTreeMap<Vec<u8>, Vec<u8>>);

impl Ledger for MemLedger {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, LedgerError> {
        Ok(self.0.get(key).cloned())
    }
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), LedgerError> {
        self.0.insert(key.to_vec(), value.to_vec());
        Ok(())
    }
    fn delete(&mut self, key: &[u8]) -> Result<(), LedgerError> {
        self.0.remove(key);
        Ok(())
    }
    fn range(&mut self, start: &[u8], end: Option<&[u8]>, limit: u32) -> Result<Entries, LedgerError> {
        Ok(self
            .0
            .range(start.to_vec()..)
            .take_while(|(k, _)| end.is_none_or(|e| k.as_slice() < e))
            .take(limit as usize)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
    fn call(&mut self, c: &str, _: &str, _: &[u8], _: u64, _: u32) -> Result<CallOutcome, LedgerError> {
        Err(LedgerError::Refused(format!("no contract {c}")))
    }
}

fn submit(n: u64) -> Call {
    let mut hash = [0u8; 32];
    hash[..8].copy_from_slice(&n.to_le_bytes());
    let args = SubmitEvidence {
        hash,
        doc_type: "invoice".into(),
        metadata: vec![("invoice_no".into(), "INV-2026-000123".into()), ("amount".into(), "1250000.00".into())],
    };
    Call {
        context: ContextView {
            contract: "evidence".into(),
            version: "1.0.0".into(),
            tx_id: format!("tx-{n}"),
            height: 42,
            time_ms: 1_767_225_600_000,
            caller: CallerView {
                key_id: "demo-platform.key1".into(),
                tenant: Some("demo-platform".into()),
                participant: Some("91310000MA1K000001".into()),
                participant_kind: Some("enterprise".into()),
                org: None,
                org_role: None,
            },
            read_only: false,
        },
        entry: Entry::Call,
        method: "submit".into(),
        args: borsh::to_vec(&args).unwrap(),
        fuel: 20_000_000,
        depth: 0,
    }
}

fn bench(c: &mut Criterion) {
    let vm = Vm::new(VmLimits::default()).unwrap();
    let hash = vm.prepare(billflow_contracts::EVIDENCE).unwrap().hash;
    let (_, outcome) = vm.run(&hash, submit(0), MemLedger::default()).unwrap();
    let CallOutcome::Returned { fuel_used, .. } = outcome else { panic!("{outcome:?}") };
    println!("evidence submit: {fuel_used} fuel");

    let mut n = 0u64;
    c.bench_function("evidence submit, module cached", |b| {
        b.iter_batched(
            || {
                n += 1;
                (submit(n), MemLedger::default())
            },
            |(call, ledger)| vm.run(&hash, call, ledger).unwrap(),
            BatchSize::SmallInput,
        )
    });

    let mut group = c.benchmark_group("compile");
    group.sample_size(10);
    group.bench_function("evidence module, cold cache", |b| {
        b.iter(|| Vm::new(VmLimits::default()).unwrap().prepare(billflow_contracts::EVIDENCE).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
