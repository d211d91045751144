use std::collections::BTreeMap;

use billflow_types::state::Entries;

use super::*;

/// A ledger in memory: one contract's namespace, and one callable neighbour.
#[derive(Default)]
struct MemLedger {
    state: BTreeMap<Vec<u8>, Vec<u8>>,
    read_only: bool,
}

impl Ledger for MemLedger {
    fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, LedgerError> {
        Ok(self.state.get(key).cloned())
    }
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), LedgerError> {
        if self.read_only {
            return Err(LedgerError::ReadOnly);
        }
        self.state.insert(key.to_vec(), value.to_vec());
        Ok(())
    }
    fn delete(&mut self, key: &[u8]) -> Result<(), LedgerError> {
        if self.read_only {
            return Err(LedgerError::ReadOnly);
        }
        self.state.remove(key);
        Ok(())
    }
    fn range(&mut self, start: &[u8], end: Option<&[u8]>, limit: u32) -> Result<Entries, LedgerError> {
        Ok(self
            .state
            .range(start.to_vec()..)
            .take_while(|(k, _)| end.is_none_or(|e| k.as_slice() < e))
            .take(limit as usize)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
    fn call(
        &mut self,
        contract: &str,
        _method: &str,
        args: &[u8],
        _fuel: u64,
        _depth: u32,
    ) -> Result<CallOutcome, LedgerError> {
        match contract {
            "echo" => Ok(CallOutcome::Returned { output: args.to_vec(), events: vec![], fuel_used: 10 }),
            other => Err(LedgerError::Refused(format!("no contract {other}"))),
        }
    }
}

fn call(method: &str, fuel: u64, read_only: bool) -> Call {
    Call {
        context: ContextView {
            contract: "counter".into(),
            version: "1.0.0".into(),
            tx_id: "t-1".into(),
            height: 7,
            time_ms: 1_767_225_600_000,
            caller: CallerView {
                key_id: "k".into(),
                tenant: None,
                participant: None,
                participant_kind: None,
                org: None,
                org_role: None,
            },
            read_only,
        },
        entry: Entry::Call,
        method: method.into(),
        args: vec![],
        fuel,
        depth: 0,
    }
}

const COUNTER: &str = r#"(module
  (import "billflow" "state_get" (func $get (param i32 i32) (result i32)))
  (import "billflow" "ret_read" (func $ret_read (param i32)))
  (import "billflow" "state_put" (func $put (param i32 i32 i32 i32)))
  (import "billflow" "emit" (func $emit (param i32 i32 i32 i32)))
  (import "billflow" "output" (func $output (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "n")
  (data (i32.const 16) "counted")
  (func (export "call") (result i32)
    (if (i32.ge_s (call $get (i32.const 0) (i32.const 1)) (i32.const 0))
      (then (call $ret_read (i32.const 32))))
    (i32.store8 (i32.const 32) (i32.add (i32.load8_u (i32.const 32)) (i32.const 1)))
    (call $put (i32.const 0) (i32.const 1) (i32.const 32) (i32.const 1))
    (call $emit (i32.const 16) (i32.const 7) (i32.const 32) (i32.const 1))
    (call $output (i32.const 32) (i32.const 1))
    (i32.const 0)))"#;

fn vm() -> Vm {
    Vm::new(VmLimits::default()).unwrap()
}

fn wasm(wat: &str) -> Vec<u8> {
    wat::parse_str(wat).unwrap()
}

#[test]
fn a_contract_reads_writes_emits_and_returns() {
    let vm = vm();
    let code = wasm(COUNTER);
    let mut ledger = MemLedger::default();
    let mut fuel = Vec::new();
    for expected in 1..=3u8 {
        let (l, outcome) = vm.call(&code, call("inc", 1_000_000, false), ledger).unwrap();
        ledger = l;
        let CallOutcome::Returned { output, events, fuel_used } = outcome else { panic!("{outcome:?}") };
        assert_eq!(output, vec![expected]);
        assert_eq!(events, vec![EmittedEvent { topic: "counted".into(), data: vec![expected] }]);
        fuel.push(fuel_used);
    }
    assert_eq!(ledger.state.get(b"n".as_slice()), Some(&vec![3]));
    // The same work costs the same fuel, on every node.
    assert!(fuel[0] > 0);
    assert_eq!(fuel[1], fuel[2]);
}

#[test]
fn fuel_bounds_every_call() {
    let looping = wasm(
        r#"(module (memory (export "memory") 1)
        (func (export "call") (result i32) (loop $l (br $l)) (i32.const 0)))"#,
    );
    let (_, outcome) = vm().call(&looping, call("spin", 50_000, false), MemLedger::default()).unwrap();
    assert!(
        matches!(outcome, CallOutcome::Failed { kind: FailureKind::OutOfFuel, ref code, fuel_used: 50_000, .. } if code == "E_OUT_OF_FUEL"),
        "{outcome:?}"
    );
    let (_, outcome) = vm().call(&wasm(COUNTER), call("inc", 300, false), MemLedger::default()).unwrap();
    assert!(matches!(outcome, CallOutcome::Failed { kind: FailureKind::OutOfFuel, .. }), "{outcome:?}");
}

#[test]
fn an_abort_carries_its_code_and_message() {
    let aborting = wasm(
        r#"(module
        (import "billflow" "abort" (func $abort (param i32 i32 i32 i32)))
        (memory (export "memory") 1)
        (data (i32.const 0) "E_NOT_TRANSFERABLE")
        (data (i32.const 32) "bill is marked non-transferable")
        (func (export "call") (result i32)
          (call $abort (i32.const 0) (i32.const 18) (i32.const 32) (i32.const 31)) (i32.const 0)))"#,
    );
    let (_, outcome) = vm().call(&aborting, call("endorse", 1_000_000, false), MemLedger::default()).unwrap();
    let CallOutcome::Failed { kind: FailureKind::Aborted, code, message, .. } = outcome else { panic!("{outcome:?}") };
    assert_eq!((code.as_str(), message.as_str()), ("E_NOT_TRANSFERABLE", "bill is marked non-transferable"));
    // A contract cannot pass its own failure off as the host's.
    let faking = wasm(
        r#"(module
        (import "billflow" "abort" (func $abort (param i32 i32 i32 i32)))
        (memory (export "memory") 1)
        (data (i32.const 0) "E_OUT_OF_FUEL")
        (func (export "call") (result i32)
          (call $abort (i32.const 0) (i32.const 13) (i32.const 0) (i32.const 0)) (i32.const 0)))"#,
    );
    let (_, outcome) = vm().call(&faking, call("x", 1_000_000, false), MemLedger::default()).unwrap();
    assert!(
        matches!(outcome, CallOutcome::Failed { kind: FailureKind::Aborted, ref code, .. } if code == "E_CONTRACT")
    );
}

/// Writes `over`, emits `risk.alert`, `x.other` and `y.alert.not` (data `over`),
/// then aborts with `E_TEST` (method `abort`), reaches `unreachable` (`trap`) or
/// loops until the fuel runs out (anything else), as the method's first letter says.
const ALERT_THEN_FAIL: &str = r#"(module
  (import "billflow" "emit" (func $emit (param i32 i32 i32 i32)))
  (import "billflow" "abort" (func $abort (param i32 i32 i32 i32)))
  (import "billflow" "method_read" (func $method_read (param i32)))
  (import "billflow" "state_put" (func $put (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "risk.alert")
  (data (i32.const 16) "x.other")
  (data (i32.const 32) "y.alert.not")
  (data (i32.const 48) "E_TEST")
  (data (i32.const 64) "refused: limit exceeded")
  (data (i32.const 96) "over")
  (func (export "call") (result i32)
    (call $method_read (i32.const 128))
    (call $put (i32.const 96) (i32.const 4) (i32.const 96) (i32.const 4))
    (call $emit (i32.const 0) (i32.const 10) (i32.const 96) (i32.const 4))
    (call $emit (i32.const 16) (i32.const 7) (i32.const 96) (i32.const 4))
    (call $emit (i32.const 32) (i32.const 11) (i32.const 96) (i32.const 4))
    (if (i32.eq (i32.load8_u (i32.const 128)) (i32.const 97))
      (then (call $abort (i32.const 48) (i32.const 6) (i32.const 64) (i32.const 23))))
    (if (i32.eq (i32.load8_u (i32.const 128)) (i32.const 116))
      (then unreachable))
    (loop $l (br $l))
    (i32.const 0)))"#;

#[test]
fn an_abort_keeps_the_alerts_emitted_before_it_and_nothing_else() {
    let vm = vm();
    let code = wasm(ALERT_THEN_FAIL);
    let (_, outcome) = vm.call(&code, call("abort", 1_000_000, false), MemLedger::default()).unwrap();
    let CallOutcome::Failed { kind: FailureKind::Aborted, code: error, message, alerts, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!((error.as_str(), message.as_str()), ("E_TEST", "refused: limit exceeded"));
    assert_eq!(alerts, vec![EmittedEvent { topic: "risk.alert".into(), data: b"over".to_vec() }]);
    // Any other failure keeps no event at all.
    for (method, kind) in [("trap", FailureKind::Panicked), ("fuel", FailureKind::OutOfFuel)] {
        let (_, outcome) = vm.call(&code, call(method, 100_000, false), MemLedger::default()).unwrap();
        assert!(
            matches!(outcome, CallOutcome::Failed { kind: k, ref alerts, .. } if k == kind && alerts.is_empty()),
            "{method}: {outcome:?}"
        );
    }
}

#[test]
fn bad_code_is_refused_before_it_runs() {
    let vm = vm();
    assert!(matches!(vm.prepare(b"not wasm"), Err(VmError::InvalidCode(_))));
    let no_call = wasm(r#"(module (memory (export "memory") 1))"#);
    assert!(matches!(vm.prepare(&no_call), Err(VmError::InvalidCode(m)) if m.contains("call")));
    let wasi = wasm(
        r#"(module (import "wasi_snapshot_preview1" "random_get" (func (param i32 i32) (result i32)))
        (memory (export "memory") 1) (func (export "call") (result i32) (i32.const 0)))"#,
    );
    assert!(matches!(vm.prepare(&wasi), Err(VmError::InvalidCode(_))));
    let threads = r#"(module (memory (export "memory") 1 1 shared) (func (export "call") (result i32) (i32.const 0)))"#;
    assert!(wat::parse_str(threads).map(|w| vm.prepare(&w).is_err()).unwrap_or(true));
    // Preparing the same code twice hits the cache.
    let h1 = vm.prepare(&wasm(COUNTER)).unwrap();
    assert_eq!(vm.prepare(&wasm(COUNTER)).unwrap(), h1);
    assert_eq!(h1.hash, code_hash(&wasm(COUNTER)));
    assert!(!h1.has_init && !h1.has_migrate);
    let bad_init = wasm(
        r#"(module (memory (export "memory") 1) (func (export "call") (result i32) (i32.const 0))
        (func (export "init") (param i32) (result i32) (i32.const 0)))"#,
    );
    assert!(matches!(vm.prepare(&bad_init), Err(VmError::InvalidCode(m)) if m.contains("init")));
    let unknown = code_hash(b"never prepared");
    assert!(matches!(vm.run(&unknown, call("x", 1, false), MemLedger::default()), Err(VmError::NotPrepared(_))));
}

#[test]
fn memory_is_capped_and_pointers_are_checked() {
    let greedy = wasm(
        r#"(module (memory (export "memory") 1)
        (func (export "call") (result i32)
          (if (i32.lt_s (memory.grow (i32.const 1000)) (i32.const 0)) (then unreachable))
          (i32.const 0)))"#,
    );
    let (_, outcome) = vm().call(&greedy, call("grow", 1_000_000, false), MemLedger::default()).unwrap();
    assert!(
        matches!(outcome, CallOutcome::Failed { kind: FailureKind::OutOfMemory, ref code, .. } if code == "E_OUT_OF_MEMORY"),
        "{outcome:?}"
    );
    // Memory declared over the limit fails at instantiation, with the same code.
    let huge = wasm(r#"(module (memory (export "memory") 1000) (func (export "call") (result i32) (i32.const 0)))"#);
    let (_, outcome) = vm().call(&huge, call("x", 1_000_000, false), MemLedger::default()).unwrap();
    assert!(matches!(outcome, CallOutcome::Failed { kind: FailureKind::OutOfMemory, .. }), "{outcome:?}");
    let wild = wasm(
        r#"(module
        (import "billflow" "output" (func $output (param i32 i32)))
        (memory (export "memory") 1)
        (func (export "call") (result i32) (call $output (i32.const 65530) (i32.const 100)) (i32.const 0)))"#,
    );
    let (_, outcome) = vm().call(&wild, call("x", 1_000_000, false), MemLedger::default()).unwrap();
    assert!(
        matches!(outcome, CallOutcome::Failed { kind: FailureKind::Trapped, ref message, .. } if message.contains("outside memory")),
        "{outcome:?}"
    );
}

#[test]
fn nans_are_canonical() {
    let nan = wasm(
        r#"(module
        (import "billflow" "output" (func $output (param i32 i32)))
        (memory (export "memory") 1)
        (func (export "call") (result i32)
          (i32.store (i32.const 0) (i32.reinterpret_f32 (f32.div (f32.const 0) (f32.const 0))))
          (call $output (i32.const 0) (i32.const 4))
          (i32.const 0)))"#,
    );
    let (_, outcome) = vm().call(&nan, call("nan", 1_000_000, false), MemLedger::default()).unwrap();
    let CallOutcome::Returned { output, .. } = outcome else { panic!("{outcome:?}") };
    assert_eq!(u32::from_le_bytes(output.try_into().unwrap()), 0x7fc0_0000);
}

#[test]
fn read_only_calls_cannot_write_or_emit() {
    let ledger = MemLedger { read_only: true, ..Default::default() };
    let (_, outcome) = vm().call(&wasm(COUNTER), call("inc", 1_000_000, true), ledger).unwrap();
    assert!(
        matches!(outcome, CallOutcome::Failed { kind: FailureKind::ReadOnly, ref code, .. } if code == "E_READ_ONLY"),
        "{outcome:?}"
    );
}

#[test]
fn contracts_see_their_context_and_call_others() {
    let caller = wasm(
        r#"(module
        (import "billflow" "context" (func $context (result i32)))
        (import "billflow" "call" (func $call (param i32 i32 i32 i32 i32 i32 i64) (result i32)))
        (import "billflow" "ret_read" (func $ret_read (param i32)))
        (import "billflow" "output" (func $output (param i32 i32)))
        (memory (export "memory") 1)
        (data (i32.const 0) "echo")
        (data (i32.const 8) "ping")
        (data (i32.const 16) "hello")
        (func (export "call") (result i32)
          (local $n i32)
          (local.set $n (call $call (i32.const 0) (i32.const 4) (i32.const 8) (i32.const 4) (i32.const 16) (i32.const 5) (i64.const 1000)))
          (call $ret_read (i32.const 100))
          (local.set $n (i32.add (local.get $n) (call $context)))
          (call $ret_read (i32.const 105))
          (call $output (i32.const 100) (local.get $n))
          (i32.const 0)))"#,
    );
    let (_, outcome) = vm().call(&caller, call("go", 1_000_000, false), MemLedger::default()).unwrap();
    let CallOutcome::Returned { output, .. } = outcome else { panic!("{outcome:?}") };
    assert_eq!(&output[..5], b"hello");
    let context: ContextView = borsh::from_slice(&output[5..]).unwrap();
    assert_eq!((context.height, context.tx_id.as_str()), (7, "t-1"));
}

#[test]
fn each_hostile_module_fails_with_its_own_code() {
    let vm = vm();
    let run = |wat: &str, args: Vec<u8>| {
        let mut c = call("x", 10_000_000, false);
        c.args = args;
        vm.call(&wasm(wat), c, MemLedger::default()).unwrap().1
    };
    let code_of = |o: CallOutcome| match o {
        CallOutcome::Failed { code, .. } => code,
        other => panic!("{other:?}"),
    };
    let recurse = r#"(module (memory (export "memory") 1)
        (func $r (param i64) (result i64) (i64.add (call $r (i64.add (local.get 0) (i64.const 1))) (i64.const 1)))
        (func (export "call") (result i32) (drop (call $r (i64.const 0))) (i32.const 0)))"#;
    assert_eq!(code_of(run(recurse, vec![])), "E_STACK_OVERFLOW");
    let unreachable = r#"(module (memory (export "memory") 1) (func (export "call") (result i32) unreachable))"#;
    assert_eq!(code_of(run(unreachable, vec![])), "E_CONTRACT_PANIC");
    let div = r#"(module (memory (export "memory") 1)
        (func (export "call") (result i32) (i32.div_u (i32.const 1) (i32.const 0))))"#;
    assert_eq!(code_of(run(div, vec![])), "E_CONTRACT_TRAP");
    let big_put = r#"(module
        (import "billflow" "state_put" (func $put (param i32 i32 i32 i32)))
        (memory (export "memory") 40)
        (func (export "call") (result i32) (call $put (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 2000000)) (i32.const 0)))"#;
    assert_eq!(code_of(run(big_put, vec![])), "E_VALUE_TOO_LARGE");
    assert_eq!(code_of(run(unreachable, vec![0; 40_000])), "E_ARGS_TOO_LARGE");
}

/// Counts in its own memory only: a call that saw a previous call's memory
/// would answer more than 1.
const MEMORY_COUNTER: &str = r#"(module
  (import "billflow" "output" (func $output (param i32 i32)))
  (memory (export "memory") 2)
  (func (export "call") (result i32)
    (i32.store8 (i32.const 64) (i32.add (i32.load8_u (i32.const 64)) (i32.const 1)))
    (i32.store8 (i32.const 70000) (i32.add (i32.load8_u (i32.const 70000)) (i32.const 1)))
    (i32.store8 (i32.const 65) (i32.load8_u (i32.const 70000)))
    (call $output (i32.const 64) (i32.const 2))
    (i32.const 0)))"#;

/// Touches one byte in every page of 2.5 MiB, more than a pooled slot keeps
/// resident, and answers with the sum of what it found there before writing:
/// 0 unless a previous call's pages survived.
const PAGE_TOUCHER: &str = r#"(module
  (import "billflow" "output" (func $output (param i32 i32)))
  (memory (export "memory") 40)
  (func (export "call") (result i32) (local $at i32) (local $sum i32)
    (loop $pages
      (local.set $sum (i32.add (local.get $sum) (i32.load8_u (local.get $at))))
      (i32.store8 (local.get $at) (i32.const 1))
      (local.set $at (i32.add (local.get $at) (i32.const 4096)))
      (br_if $pages (i32.lt_u (local.get $at) (i32.const 2621440))))
    (i32.store (i32.const 8) (local.get $sum))
    (call $output (i32.const 8) (i32.const 4))
    (i32.const 0)))"#;

/// A ledger whose neighbour `echo` is a contract run on the same VM: each
/// call from the outer contract holds one more instance at a time.
struct Nested {
    vm: Arc<Vm>,
    inner: Hash32,
}

impl Ledger for Nested {
    fn get(&mut self, _key: &[u8]) -> Result<Option<Vec<u8>>, LedgerError> {
        Ok(None)
    }
    fn put(&mut self, _key: &[u8], _value: &[u8]) -> Result<(), LedgerError> {
        Ok(())
    }
    fn delete(&mut self, _key: &[u8]) -> Result<(), LedgerError> {
        Ok(())
    }
    fn range(&mut self, _start: &[u8], _end: Option<&[u8]>, _limit: u32) -> Result<Entries, LedgerError> {
        Ok(Vec::new())
    }
    fn call(&mut self, _: &str, _: &str, _: &[u8], _: u64, _: u32) -> Result<CallOutcome, LedgerError> {
        let (_, outcome) = self.vm.run(&self.inner, call("count", 1_000_000, true), MemLedger::default()).unwrap();
        Ok(outcome)
    }
}

/// Calls `echo` and answers with what came back.
const CALLS_ECHO: &str = r#"(module
  (import "billflow" "call" (func $call (param i32 i32 i32 i32 i32 i32 i64) (result i32)))
  (import "billflow" "ret_read" (func $ret_read (param i32)))
  (import "billflow" "output" (func $output (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "echo")
  (func (export "call") (result i32)
    (local $n i32)
    (local.set $n (call $call (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 0) (i64.const 1000000)))
    (call $ret_read (i32.const 100))
    (call $output (i32.const 100) (local.get $n))
    (i32.const 0)))"#;

#[test]
fn a_call_the_pool_has_no_slot_for_runs_unpooled_with_the_same_outcome() {
    let run = |vm: Vm| {
        let vm = Arc::new(vm);
        let outer = vm.prepare(&wasm(CALLS_ECHO)).unwrap().hash;
        let inner = vm.prepare(&wasm(MEMORY_COUNTER)).unwrap().hash;
        let ledger = Nested { vm: vm.clone(), inner };
        vm.run(&outer, call("go", 1_000_000, false), ledger).unwrap().1
    };
    let unpooled = run(vm());
    // One slot: the outer call holds it, so the inner one cannot have it.
    let pooled = run(Vm::pooled(VmLimits::default(), 1).unwrap());
    assert_eq!(pooled, unpooled);
    let CallOutcome::Returned { output, .. } = pooled else { panic!("{pooled:?}") };
    assert_eq!(output, vec![1, 1]);
}

#[test]
fn a_module_beyond_the_pools_limits_runs_unpooled_with_the_same_outcome() {
    // Two tables: more than a pooled slot holds, within what a call may have.
    let code = wasm(
        r#"(module
        (import "billflow" "output" (func $output (param i32 i32)))
        (memory (export "memory") 1)
        (table 1 funcref)
        (table 1 funcref)
        (data (i32.const 0) "ok")
        (func (export "call") (result i32) (call $output (i32.const 0) (i32.const 2)) (i32.const 0)))"#,
    );
    let pooled = Vm::pooled(VmLimits::default(), 4).unwrap();
    let unpooled = vm().call(&code, call("go", 1_000_000, false), MemLedger::default()).unwrap().1;
    for _ in 0..2 {
        let (_, outcome) = pooled.call(&code, call("go", 1_000_000, false), MemLedger::default()).unwrap();
        assert_eq!(outcome, unpooled);
    }
    assert!(matches!(unpooled, CallOutcome::Returned { ref output, .. } if output == b"ok"), "{unpooled:?}");
    // Code at fault is refused by the pooled VM as by the unpooled one.
    let bad = pooled.prepare(b"\0asm not a module").unwrap_err();
    assert_eq!(bad.to_string(), vm().prepare(b"\0asm not a module").unwrap_err().to_string());
}

#[test]
fn a_pooled_slot_is_reset_however_many_pages_a_call_touched() {
    let pooled = Vm::pooled(VmLimits::default(), 1).unwrap();
    let code = wasm(PAGE_TOUCHER);
    for _ in 0..3 {
        let (_, outcome) = pooled.call(&code, call("touch", 10_000_000, true), MemLedger::default()).unwrap();
        let CallOutcome::Returned { output, .. } = outcome else { panic!("{outcome:?}") };
        assert_eq!(output, vec![0, 0, 0, 0], "a page kept what the call before wrote");
    }
}

#[test]
fn a_pooled_vm_gives_each_call_fresh_memory_and_the_same_outcome() {
    let pooled = Vm::pooled(VmLimits::default(), 1).unwrap();
    let code = wasm(MEMORY_COUNTER);
    let unpooled = vm().call(&code, call("count", 1_000_000, true), MemLedger::default()).unwrap().1;
    for _ in 0..3 {
        // One slot, used again and again: zeroed each time.
        let (_, outcome) = pooled.call(&code, call("count", 1_000_000, true), MemLedger::default()).unwrap();
        assert_eq!(outcome, unpooled);
        let CallOutcome::Returned { output, .. } = outcome else { panic!("{outcome:?}") };
        assert_eq!(output, vec![1, 1]);
    }
    // The same contract's work costs the same fuel pooled or not (checked
    // above through the outcome), and the counter module still counts.
    let (_, outcome) = pooled.call(&wasm(COUNTER), call("inc", 1_000_000, false), MemLedger::default()).unwrap();
    assert!(matches!(outcome, CallOutcome::Returned { ref output, .. } if output == &vec![1]), "{outcome:?}");
}
