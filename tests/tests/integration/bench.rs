//! `billflow-bench` itself: a short, bounded run of each workload against a
//! devnet gives the report the performance document is built from. The
//! figures are not judged here (benchmarks, not tests, hold the targets);
//! that the load committed, without errors, and was measured, is.

use std::process::Command;

use billflow_tests::devnet::{Clock, DevnetProcess};
use billflow_tests::exclusive;
use serde_json::Value;

fn bench(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(billflow_tests::bench_binary().unwrap()).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_workload_runs_bounded_and_reports_what_it_measured() {
    let _one = exclusive().await;
    let devnet = DevnetProcess::start(3, 1, false, Clock::Real).unwrap();
    let json = devnet.path.join("devnet.json");
    let json = json.to_str().unwrap();
    // The last run measures the observer's catch-up: it stops the observer first.
    let runs = [
        ("evidence", "1", false),
        ("evidence", "10", false),
        ("flows", "1", false),
        ("query", "1", false),
        ("mixed", "1", false),
        ("evidence", "1", true),
    ];
    for (workload, batch, catch_up) in runs {
        let (ok, stdout, stderr) = tokio::task::spawn_blocking({
            let mut args: Vec<String> = [
                "--devnet-json",
                json,
                "--workload",
                workload,
                "--clients",
                "3",
                "--duration-s",
                "2",
                "--batch",
                batch,
                "--json",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            if catch_up {
                args.push("--catch-up".into());
            }
            if batch != "1" {
                // The load generator on a runtime of two threads; one by default.
                args.extend(["--threads".into(), "2".into()]);
            }
            move || bench(&args.iter().map(String::as_str).collect::<Vec<_>>())
        })
        .await
        .unwrap();
        assert!(ok, "{workload}: {stderr}");
        let r: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{workload}: {e}: {stdout}"));
        for key in ["workload", "clients", "committed", "committed_per_s", "p50_ms", "p95_ms", "p99_ms", "max_ms"] {
            assert!(!r[key].is_null(), "{workload}: no {key} in {r}");
        }
        assert_eq!(r["errors"], 0, "{workload}: {r}");
        assert!(r["host_ed25519_verify_per_s"].as_f64().unwrap() > 0.0, "the host's speed measured: {r}");
        assert!(r["load_generator_cpu_s"].as_f64().unwrap() > 0.0, "the load generator's own CPU measured: {r}");
        assert_eq!(r["clients"], 3);
        let done = if workload == "query" { &r["reads"] } else { &r["committed"] };
        assert!(done.as_u64().unwrap() > 0, "{workload}: nothing done: {r}");
        assert!(r["p50_ms"].as_f64().unwrap() > 0.0 && r["p50_ms"].as_f64() <= r["max_ms"].as_f64(), "{r}");
        let nodes = r["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), if catch_up { 3 } else { 4 }, "every running node measured: {r}");
        assert!(nodes.iter().all(|n| n["peak_rss_mb"].as_f64().unwrap() > 1.0), "{r}");
        if workload != "query" {
            assert!(r["disk_bytes_per_tx"].is_number(), "{r}");
        }
        // Bounded: it stops by itself around its duration.
        assert!(r["duration_s"].as_f64().unwrap() < 10.0, "{r}");
        let c = &r["catch_up"];
        if catch_up {
            // Everything the earlier runs committed, caught up by an empty node.
            assert!(c["blocks"].as_u64().unwrap() > 10, "{r}");
            assert!(c["ledger_txs"].as_u64().unwrap() > r["committed"].as_u64().unwrap(), "{r}");
            assert!(c["seconds"].as_f64().unwrap() > 0.0 && c["peak_rss_mb"].as_f64().unwrap() > 1.0, "{r}");
        } else {
            assert!(c.is_null(), "{r}");
        }
    }
    // Bad flags are refused with a message, before any load.
    let (ok, _, stderr) = bench(&["--workload", "etcd", "--duration-s", "1"]);
    assert!(!ok && stderr.contains("--etcd"), "{stderr}");
    let (ok, _, stderr) = bench(&["--duration-s", "3601"]);
    assert!(!ok && stderr.contains("3601"), "{stderr}");
}
