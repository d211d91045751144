//! The Python and TypeScript SDKs' own test suites (`sdk/python`,
//! `sdk/typescript`), run against a devnet this suite starts: a party
//! registered, an order, a bill issued and accepted, an instant discount, the
//! bill read with its history, the event stream followed, evidence submitted
//! and its proof verified offline, every method's sample arguments encoded
//! alike by the SDK and the node, and bad input refused with its code.

use std::path::PathBuf;
use std::process::Command;

use billflow_tests::devnet::{Clock, DevnetProcess};
use billflow_tests::exclusive;

/// Runs `script` of `sdk/<dir>` against a fresh devnet; its output.
fn run_sdk_tests(dir: &str, script: &str) -> String {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let devnet = DevnetProcess::start(3, 1, false, Clock::Real).unwrap();
    let out = Command::new("bash")
        .arg(repo.join("sdk").join(dir).join(script))
        .env("BILLFLOW_DEVNET_JSON", devnet.path.join("devnet.json"))
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the {dir} SDK's tests failed:\n{text}");
    eprintln!("{}", text.lines().rev().take(3).collect::<Vec<_>>().join("\n"));
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_python_sdk_passes_its_tests_against_a_devnet() {
    let _one = exclusive().await;
    let text = run_sdk_tests("python", "run-tests.sh");
    // pytest's summary: everything ran, nothing was skipped.
    let summary = text.lines().rev().find(|l| l.contains(" passed")).expect("pytest's summary line").to_string();
    assert!(!summary.contains("skipped") && !summary.contains("failed"), "{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_typescript_sdk_passes_its_tests_against_a_devnet() {
    let _one = exclusive().await;
    let text = run_sdk_tests("typescript", "run-tests.sh");
    // node's test runner's summary: everything ran, nothing was skipped.
    for (what, n) in [("fail", 0), ("cancelled", 0), ("skipped", 0)] {
        assert!(text.contains(&format!("ℹ {what} {n}")), "{what}: {text}");
    }
}
